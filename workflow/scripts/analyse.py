"""Snakemake entry point of rule analyse: write the analysis-results table (ard.csv)."""

from trialreport.analyse.stage import analyse
from trialreport.common.runner import read_trial_config, run_stage

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("analyse", analyse, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          inputs={k: sm.input[k]
                  for k in ("subjects", "exposure", "adverse_events", "efficacy", "locf")},
          output=sm.output.ard, threads=sm.threads)
