rule reproduce:
    input:
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
    params:
        trial=trial_config,
    script:
        "../scripts/reproduce.py"
