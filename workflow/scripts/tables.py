"""Snakemake entry point of rule tables: the display tables as CSV, from ard.csv."""

from pathlib import Path

from trialreport.pipeline import run_stage, write_display_tables

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("tables", write_display_tables, sm.log[0], trial=sm.params.trial,
          trial_id=sm.wildcards.trial,
          ard_path=sm.input.ard, outdir=str(Path(sm.output[0]).parent))
