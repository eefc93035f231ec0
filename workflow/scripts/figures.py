"""Snakemake entry point of rule figures: the trial's figures as PNG and SVG, from ard.csv
(and, for the rating distribution and the individual trajectories, the derived efficacy
data with the subjects' arms and efficacy flags)."""

from pathlib import Path

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.figures.stage import write_figures

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("figures", write_figures, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          ard_path=sm.input.ard,
          efficacy_path=sm.input.efficacy, subjects_path=sm.input.subjects,
          outdir=str(Path(sm.output[0]).parent))
