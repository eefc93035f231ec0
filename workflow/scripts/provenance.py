"""Snakemake entry point of rule provenance: hashes of inputs and results, versions, config."""

from trialreport.pipeline import DATASETS, provenance, run_stage

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("provenance", provenance, sm.log[0], trial_id=sm.wildcards.trial,
          trial=sm.params.trial,
          inputs={"ard": sm.input.ard, "reproduction": sm.input.reproduction},
          data_files={name: sm.input[name] for name in DATASETS if hasattr(sm.input, name)},
          output=sm.output.provenance, trial_config_output=sm.output.trial_config)
