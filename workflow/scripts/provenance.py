"""Snakemake entry point of rule provenance: hashes of inputs and results, versions, config."""

from trialreport.common.config import DATASETS
from trialreport.common.runner import read_trial_config, run_stage
from trialreport.provenance import provenance

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("provenance", provenance, sm.log[0], trial_id=sm.wildcards.trial,
          trial=read_trial_config(sm.input.trial_config),
          inputs={"ard": sm.input.ard, "reproduction": sm.input.reproduction},
          data_files={name: sm.input[name] for name in DATASETS if hasattr(sm.input, name)},
          output=sm.output.provenance)
