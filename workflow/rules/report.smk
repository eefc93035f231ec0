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


rule report:
    input:
        qmd="reports/report.qmd",
        quarto_yml="reports/_quarto.yml",
        css="reports/report.css",
        ard=f"{RESULTS}/{{trial}}/ard.csv",
        reproduction=f"{RESULTS}/{{trial}}/reproduction.csv",
        warnings=f"{RESULTS}/{{trial}}/validation/warnings.csv",
        exclusions=f"{RESULTS}/{{trial}}/validation/exclusions.csv",
        provenance=f"{RESULTS}/{{trial}}/provenance.json",
        trial_config=f"{RESULTS}/{{trial}}/trial_config.json",
        tables=expand(f"{RESULTS}/{{{{trial}}}}/tables/{{name}}.csv", name=TABLE_NAMES),
    output:
        html=f"{RESULTS}/{{trial}}/report.html",
    log:
        f"{RESULTS}/{{trial}}/logs/report.log",
    script:
        "../scripts/report.py"
