# Shared helpers: config validation, the list of trials, and paths.

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from trialreport.common.config import check_trials
from trialreport.common.plan import PlanError
from trialreport.common.runner import write_trial_config

validate(config, "../../schemas/config.schema.yaml")
# What the schema cannot see: a plan naming a parameter, visit, analysis or hypothesis the
# trial does not have (trialreport.common.config.check_trials), refused before any job.
try:
    check_trials(config["trials"])
except PlanError as exc:
    raise WorkflowError(f"config.yaml: {exc}") from None

RESULTS = config.get("results", "results")
SCHEMAS = config.get("schemas", "schemas")
TRIALS = sorted(config["trials"])
TRIAL_CONFIG = f"{RESULTS}/{{trial}}/trial_config.json"
DATASETS = ["subjects", "scores", "adverse_events", "exposure"]
# Display tables (results/<trial>/tables/<name>.csv, written by the tables step), named as in
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

# Figures (results/<trial>/figures/<name>.<format>, written by the figures step), named as in
# trialreport.figures.FIGURE_NAMES and FORMATS (tests/test_figures.py checks they agree).
FIGURE_NAMES = [
    "means_by_visit",
    "rating_distribution",
    "trajectories",
    "subgroup_forest",
    "mmrm_lsmeans",
]
FIGURE_FORMATS = ["png", "svg"]


def figure_files(trial):
    return [
        f"{RESULTS}/{trial}/figures/{name}.{fmt}"
        for name in FIGURE_NAMES
        for fmt in FIGURE_FORMATS
    ]


def trial_config_file(wildcards):
    """Every stage reads its trial's config entry from results/<trial>/trial_config.json, an
    input like the data. The file is written here, when Snakemake builds the jobs of the
    trial, and only when the entry changed, so Snakemake reruns exactly the trials whose
    entry changed (trialreport.common.runner.write_trial_config says why this is not a rule
    parameter)."""
    path = TRIAL_CONFIG.format(trial=wildcards.trial)
    write_trial_config(config["trials"][wildcards.trial], path)
    return path


def data_files(wildcards):
    """The trial's data files (adverse events and exposure are optional)."""
    data = config["trials"][wildcards.trial]["data"]
    return {name: data[name]["path"] for name in DATASETS if name in data}


def contract_files(wildcards):
    return [f"{SCHEMAS}/{name}.yaml" for name in DATASETS]


def report_inputs(wildcards):
    """What the report reads: the results, the sources of the .qmd and its stylesheet."""
    results = f"{RESULTS}/{wildcards.trial}"
    return {
        "qmd": "reports/report.qmd",
        "quarto_yml": "reports/_quarto.yml",
        "css": "reports/report.css",
        "ard": f"{results}/ard.csv",
        "reproduction": f"{results}/reproduction.csv",
        "warnings": f"{results}/validation/warnings.csv",
        "exclusions": f"{results}/validation/exclusions.csv",
        "selection": f"{results}/ingested/selection.csv",
        "checks": f"{results}/derived/checks.csv",
        "provenance": f"{results}/provenance.json",
        "trial_config": trial_config_file(wildcards),
        "tables": [f"{results}/tables/{name}.csv" for name in TABLE_NAMES],
        "figures": figure_files(wildcards.trial),
        "tipping_point": [
            f"{results}/figures/tipping_point.{fmt}" for fmt in FIGURE_FORMATS
        ],
    }
