"""Snakemake entry point of rule ingest: read the trial's files as its config declares them."""

from pathlib import Path

from trialreport.common.config import DATASETS
from trialreport.common.runner import read_trial_config, run_stage
from trialreport.ingest.stage import ingest

sm = snakemake  # noqa: F821 - injected by Snakemake
results = Path(sm.input.trial_config).parent
run_stage("ingest", ingest, sm.log[0],
          trial=read_trial_config(sm.input.trial_config), trial_id=sm.wildcards.trial,
          schema_dir=str(Path(sm.input.contracts[0]).parent),
          outputs={name: sm.output[name] for name in [*DATASETS, "selection"]},
          report_dir=str(results / "validation"))
