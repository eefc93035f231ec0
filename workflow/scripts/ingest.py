"""Snakemake entry point of rule ingest: read the trial's files as its config declares them."""

from trialreport.pipeline import DATASETS, ingest, run_stage

sm = snakemake  # noqa: F821 - injected by Snakemake
run_stage("ingest", ingest, sm.log[0],
          trial=sm.params.trial, schema_dir=sm.params.schemas,
          outputs={name: sm.output[name] for name in [*DATASETS, "selection"]},
          report_dir=sm.params.report_dir, trial_id=sm.wildcards.trial)
