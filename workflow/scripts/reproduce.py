"""Snakemake entry point of rule reproduce: published targets against the results."""

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.reproduce.stage import reproduce_targets

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("reproduce", reproduce_targets, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          ard_path=sm.input.ard, output=sm.output.reproduction)
