rule ingest:
    input:
        unpack(data_files),
        contracts=contract_files,
    output:
        **{name: f"{RESULTS}/{{trial}}/ingested/{name}.parquet" for name in DATASETS},
        selection=f"{RESULTS}/{{trial}}/ingested/selection.csv",
    log:
        f"{RESULTS}/{{trial}}/logs/ingest.log",
    params:
        trial=trial_config,
        schemas=SCHEMAS,
        report_dir=lambda wc: f"{RESULTS}/{wc.trial}/validation",
    script:
        "../scripts/ingest.py"
