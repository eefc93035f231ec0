rule derive:
    input:
        scores=f"{RESULTS}/{{trial}}/validated/scores.parquet",
    output:
        efficacy=f"{RESULTS}/{{trial}}/derived/efficacy.parquet",
    log:
        f"{RESULTS}/{{trial}}/logs/derive.log",
    params:
        trial=trial_config,
    script:
        "../scripts/derive.py"
