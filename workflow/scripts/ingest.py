"""Snakemake entry point of rule ingest: read the trial's files as its config declares them."""

from trialreport.pipeline import DATASETS, ingest, run_stage

run_stage("ingest", ingest, snakemake.log[0],  # noqa: F821 - injected by Snakemake
          trial=snakemake.params.trial, schema_dir=snakemake.params.schemas,  # noqa: F821
          outputs={name: snakemake.output[name] for name in DATASETS})  # noqa: F821
