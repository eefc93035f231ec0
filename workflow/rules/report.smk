rule provenance:
    input:
        unpack(data_files),
        trial_config=trial_config_file,
        ard=f"{RESULTS}/{{trial}}/ard.csv",
        reproduction=f"{RESULTS}/{{trial}}/reproduction.csv",
    output:
        provenance=report(
            f"{RESULTS}/{{trial}}/provenance.json",
            caption="../report/provenance.rst",
            category="Provenance",
            labels={"trial": "{trial}", "file": "provenance.json"},
        ),
    log:
        f"{RESULTS}/{{trial}}/logs/provenance.log",
    script:
        "../scripts/provenance.py"


rule report:
    input:
        unpack(report_inputs),
    output:
        html=report(
            f"{RESULTS}/{{trial}}/report.html",
            caption="../report/report.rst",
            category="Report",
            labels={"trial": "{trial}", "format": "HTML"},
        ),
    log:
        f"{RESULTS}/{{trial}}/logs/report.log",
    script:
        "../scripts/report.py"


# Only when config report.pdf is true; needs Quarto, which renders the PDF through Typst.
rule report_pdf:
    input:
        unpack(report_inputs),
    output:
        pdf=report(
            f"{RESULTS}/{{trial}}/report.pdf",
            caption="../report/report.rst",
            category="Report",
            labels={"trial": "{trial}", "format": "PDF"},
        ),
    log:
        f"{RESULTS}/{{trial}}/logs/report_pdf.log",
    script:
        "../scripts/report.py"


# Only when config report.docx is true; needs Quarto, which writes Word through its pandoc.
rule report_docx:
    input:
        unpack(report_inputs),
    output:
        docx=report(
            f"{RESULTS}/{{trial}}/report.docx",
            caption="../report/report.rst",
            category="Report",
            labels={"trial": "{trial}", "format": "Word"},
        ),
    log:
        f"{RESULTS}/{{trial}}/logs/report_docx.log",
    script:
        "../scripts/report.py"
