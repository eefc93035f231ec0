rule validate:
    input:
        **{name: f"{RESULTS}/{{trial}}/ingested/{name}.parquet" for name in DATASETS},
        trial_config=trial_config_file,
        contracts=contract_files,
    output:
        **{name: f"{RESULTS}/{{trial}}/validated/{name}.parquet" for name in DATASETS},
        warnings=f"{RESULTS}/{{trial}}/validation/warnings.csv",
        exclusions=f"{RESULTS}/{{trial}}/validation/exclusions.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/validate.log",
    script:
        "../scripts/validate.py"
