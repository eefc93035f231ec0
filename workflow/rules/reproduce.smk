rule reproduce:
    input:
        trial_config=trial_config_file,
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    output:
        reproduction=report(
            f"{RESULTS}/{{trial}}/reproduction.csv",
            caption="../report/reproduction.rst",
            category="Reproduction",
            labels={"trial": "{trial}", "file": "reproduction.csv"},
        ),
    log:
        f"{RESULTS}/{{trial}}/logs/reproduce.log",
    script:
        "../scripts/reproduce.py"
