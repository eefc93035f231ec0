"""Snakemake entry point of rules report and report_pdf: render reports/report.qmd."""

from pathlib import Path

from trialreport.common.runner import run_stage
from trialreport.report.render import render_report

sm = snakemake  # noqa: F821 - injected by Snakemake
output = sm.output[0]
results_dir = str(Path(sm.input.ard).parent.resolve())
run_stage("report", render_report, sm.log[0], qmd=sm.input.qmd, output=output,
          params={"trial": sm.wildcards.trial, "results_dir": results_dir},
          to="pdf" if output.endswith(".pdf") else "html")
