rule provenance:
    input:
        unpack(data_files),
        ard=f"{RESULTS}/{{trial}}/ard.csv",
        reproduction=f"{RESULTS}/{{trial}}/reproduction.csv",
    output:
        provenance=f"{RESULTS}/{{trial}}/provenance.json",
        trial_config=f"{RESULTS}/{{trial}}/trial_config.json",
    log:
        f"{RESULTS}/{{trial}}/logs/provenance.log",
    params:
        trial=trial_config,
    script:
        "../scripts/provenance.py"


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
        "provenance": f"{results}/provenance.json",
        "trial_config": f"{results}/trial_config.json",
        "tables": [f"{results}/tables/{name}.csv" for name in TABLE_NAMES],
    }


rule report:
    input:
        unpack(report_inputs),
    output:
        html=f"{RESULTS}/{{trial}}/report.html",
    log:
        f"{RESULTS}/{{trial}}/logs/report.log",
    script:
        "../scripts/report.py"


# Only when config report.pdf is true; needs Quarto, which renders the PDF through Typst.
rule report_pdf:
    input:
        unpack(report_inputs),
    output:
        pdf=f"{RESULTS}/{{trial}}/report.pdf",
    log:
        f"{RESULTS}/{{trial}}/logs/report_pdf.log",
    script:
        "../scripts/report.py"
