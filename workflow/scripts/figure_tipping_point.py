"""Snakemake entry point of rule figure_tipping_point: figures/tipping_point.{png,svg}."""

from pathlib import Path

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.figures.tipping_point import write_tipping_point_figure

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("figure_tipping_point", write_tipping_point_figure, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          ard_path=sm.input.ard, outdir=str(Path(sm.output.tipping_point_png).parent))
