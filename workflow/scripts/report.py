"""Snakemake entry point of rules report, report_pdf and report_docx: render
reports/report.qmd as HTML, PDF or Word."""

from pathlib import Path

from trialreport.common.runner import run_stage
from trialreport.report.render import render_report

sm = snakemake  # noqa: F821 - injected by Snakemake
output = sm.output[0]
results_dir = str(Path(sm.input.ard).parent.resolve())
run_stage(
    "report",
    render_report,
    sm.log[0],
    qmd=sm.input.qmd,
    output=output,
    params={"trial": sm.wildcards.trial, "results_dir": results_dir},
    to=Path(output).suffix.lstrip("."),
)
