rule tables:
    input:
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    output:
        **{name: f"{RESULTS}/{{trial}}/tables/{name}.csv" for name in TABLE_NAMES},
    log:
        f"{RESULTS}/{{trial}}/logs/tables.log",
    params:
        trial=trial_config,
    script:
        "../scripts/tables.py"
