"""Snakemake entry point of rule tables: the display tables as CSV, from ard.csv."""

from pathlib import Path

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.tables.stage import write_display_tables

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("tables", write_display_tables, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          ard_path=sm.input.ard, outdir=str(Path(sm.output[0]).parent))
