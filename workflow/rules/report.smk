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
