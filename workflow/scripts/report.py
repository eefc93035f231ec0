"""Snakemake entry point of rule report: render reports/report.qmd for one trial."""

from pathlib import Path

from trialreport.pipeline import run_stage
from trialreport.render import render_report

sm = snakemake  # noqa: F821 - injected by Snakemake
results_dir = str(Path(sm.input.ard).parent.resolve())
run_stage("report", render_report, sm.log[0], qmd=sm.input.qmd, output=sm.output.html,
          params={"trial": sm.wildcards.trial, "results_dir": results_dir})
