# Shared helpers: config validation, the list of trials, and paths.

from snakemake.utils import validate

validate(config, "../../schemas/config.schema.yaml")

RESULTS = config.get("results", "results")
SCHEMAS = config.get("schemas", "schemas")
TRIALS = sorted(config["trials"])
DATASETS = ["subjects", "scores", "adverse_events", "exposure"]
# Display tables written by rule tables to results/<trial>/tables/<name>.csv: the names of
# trialreport.tables.TABLES, listed here so that parsing the workflow imports no package
# (tests/test_tables.py checks the two lists agree).
TABLE_NAMES = [
    "demographics",
    "disposition",
    "exposure",
    "ae_overview",
    "ae_soc_pt",
    "ae_severity",
    "ae_relationship",
    "ae_periods",
]


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
