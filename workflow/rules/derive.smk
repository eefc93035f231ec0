rule derive:
    input:
        trial_config=trial_config_file,
        scores=f"{RESULTS}/{{trial}}/validated/scores.parquet",
    output:
        efficacy=f"{RESULTS}/{{trial}}/derived/efficacy.parquet",
        locf=f"{RESULTS}/{{trial}}/derived/locf.parquet",
        checks=f"{RESULTS}/{{trial}}/derived/checks.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/derive.log",
    script:
        "../scripts/derive.py"
