rule tables:
    input:
        trial_config=trial_config_file,
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    output:
        **{
            name: report(
                f"{RESULTS}/{{trial}}/tables/{name}.csv",
                caption="../report/tables.rst",
                category="Tables",
                subcategory="{trial}",
                labels={"trial": "{trial}", "table": name},
            )
            for name in TABLE_NAMES
        },
    log:
        f"{RESULTS}/{{trial}}/logs/tables.log",
    script:
        "../scripts/tables.py"
