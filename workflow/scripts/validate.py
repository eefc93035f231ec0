"""Snakemake entry point of rule validate: check every dataset against its data contract."""

from pathlib import Path

from trialreport.common.config import DATASETS
from trialreport.common.runner import read_trial_config, run_stage
from trialreport.validate.stage import validate

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("validate", validate, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          schema_dir=str(Path(sm.input.contracts[0]).parent),
          inputs={name: sm.input[name] for name in DATASETS},
          outputs={name: sm.output[name] for name in [*DATASETS, "warnings", "exclusions"]},
          report_dir=str(Path(sm.output.warnings).parent))
