rule ingest:
    input:
        unpack(data_files),
        trial_config=trial_config_file,
        contracts=contract_files,
    output:
        **{name: f"{RESULTS}/{{trial}}/ingested/{name}.parquet" for name in DATASETS},
        selection=f"{RESULTS}/{{trial}}/ingested/selection.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/ingest.log",
    script:
        "../scripts/ingest.py"
