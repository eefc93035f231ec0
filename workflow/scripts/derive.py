"""Snakemake entry point of rule derive: baseline flag, BASE and CHG per parameter, the LOCF
data, and the differences between the data as delivered and the pipeline's derivations."""

from trialreport.common.runner import read_trial_config, run_stage
from trialreport.derive.stage import derive

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("derive", derive, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          inputs={"scores": sm.input.scores},
          outputs={k: sm.output[k] for k in ("efficacy", "locf", "checks")})
