rule reproduce:
    input:
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    output:
        reproduction=f"{RESULTS}/{{trial}}/reproduction.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/reproduce.log",
    params:
        trial=trial_config,
    script:
        "../scripts/reproduce.py"
