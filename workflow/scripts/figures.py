"""Snakemake entry point of rule figures: the trial's figures as PNG and SVG, from ard.csv
(and, for the rating distribution and the individual trajectories, the derived efficacy
data with the subjects' arms and efficacy flags); and of rule figure_tipping_point, the
tipping-point figure of analyses.missing_data, from ard.csv."""

from pathlib import Path

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.figures.stage import write_figures
from trialreport.figures.tipping_point import write_tipping_point_figure

sm = snakemake  # noqa: F821 - injected by Snakemake
if sm.rule == "figure_tipping_point":
    run_stage("figure_tipping_point", write_tipping_point_figure, sm.log[0],
              trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
              ard_path=sm.input.ard, outdir=str(Path(sm.output[0]).parent))
else:
    run_stage("figures", write_figures, sm.log[0],
              trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
              ard_path=sm.input.ard,
              efficacy_path=sm.input.efficacy, subjects_path=sm.input.subjects,
              outdir=str(Path(sm.output[0]).parent))
