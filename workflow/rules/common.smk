# Shared helpers: config validation, the list of trials, and paths.

from snakemake.utils import validate

from trialreport.tables import TABLES

validate(config, "../../schemas/config.schema.yaml")

RESULTS = config.get("results", "results")
SCHEMAS = config.get("schemas", "schemas")
TRIALS = sorted(config["trials"])
DATASETS = ["subjects", "scores", "adverse_events", "exposure"]
# Display tables written by rule tables to results/<trial>/tables/<name>.csv.
TABLE_NAMES = [spec.name for spec in TABLES]


wildcard_constraints:
    trial="|".join(TRIALS),
    dataset="|".join(DATASETS),


def trial_config(wildcards):
    return config["trials"][wildcards.trial]


def data_files(wildcards):
    data = config["trials"][wildcards.trial]["data"]
    return {name: data[name]["path"] for name in DATASETS}


def contract_files(wildcards):
    return [f"{SCHEMAS}/{name}.yaml" for name in DATASETS]
