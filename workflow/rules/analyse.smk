rule analyse:
    input:
        trial_config=trial_config_file,
        subjects=f"{RESULTS}/{{trial}}/validated/subjects.parquet",
        exposure=f"{RESULTS}/{{trial}}/validated/exposure.parquet",
        adverse_events=f"{RESULTS}/{{trial}}/validated/adverse_events.parquet",
        efficacy=f"{RESULTS}/{{trial}}/derived/efficacy.parquet",
        locf=f"{RESULTS}/{{trial}}/derived/locf.parquet",
    output:
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/analyse.log",
    # the jackknife or the imputations of analyses.missing_data run on these cores
    threads: 2
    script:
        "../scripts/analyse.py"
