"""Snakemake entry point of rule validate: check every dataset against its data contract."""

from trialreport.pipeline import DATASETS, run_stage, validate

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("validate", validate, sm.log[0],
          trial=sm.params.trial, schema_dir=sm.params.schemas,
          inputs={name: sm.input[name] for name in DATASETS},
          outputs={name: sm.output[name] for name in [*DATASETS, "warnings", "exclusions"]},
          report_dir=sm.params.report_dir, trial_id=sm.wildcards.trial)
