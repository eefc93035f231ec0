# Reproducible clinical-trial reports: ingest -> validate -> derive -> analyse -> reproduce
# -> tables, figures -> provenance -> report, one job per trial and stage. The trials are
# listed in config.yaml.


from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


# The run record of `snakemake --report`: its front page, then the outputs marked report().
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"


wildcard_constraints:
    trial="|".join(TRIALS),
    dataset="|".join(DATASETS),


include: "workflow/rules/ingest.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/derive.smk"
include: "workflow/rules/analyse.smk"
include: "workflow/rules/reproduce.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        expand(f"{RESULTS}/{{trial}}/report.html", trial=TRIALS),
        expand(f"{RESULTS}/{{trial}}/reproduction.csv", trial=TRIALS),
        expand(
            f"{RESULTS}/{{trial}}/tables/{{name}}.csv", trial=TRIALS, name=TABLE_NAMES
        ),
        expand(
            f"{RESULTS}/{{trial}}/figures/{{name}}.{{fmt}}",
            trial=TRIALS,
            name=FIGURE_NAMES,
            fmt=FIGURE_FORMATS,
        ),
        expand(f"{RESULTS}/{{trial}}/report.pdf", trial=TRIALS)
        if config.get("report", {}).get("pdf", False)
        else [],
        expand(f"{RESULTS}/{{trial}}/report.docx", trial=TRIALS)
        if config.get("report", {}).get("docx", False)
        else [],
