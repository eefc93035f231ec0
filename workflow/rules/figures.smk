rule figures:
    input:
        trial_config=trial_config_file,
        ard=f"{RESULTS}/{{trial}}/ard.csv",
        efficacy=f"{RESULTS}/{{trial}}/derived/efficacy.parquet",
        subjects=f"{RESULTS}/{{trial}}/validated/subjects.parquet",
    output:
        **{
            f"{name}_{fmt}": report(
                f"{RESULTS}/{{trial}}/figures/{name}.{fmt}",
                caption=f"../report/figure_{name}.rst",
                category="Figures",
                subcategory="{trial}",
                labels={"trial": "{trial}", "figure": name, "format": fmt},
            )
            for name in FIGURE_NAMES
            for fmt in FIGURE_FORMATS
        },
    log:
        f"{RESULTS}/{{trial}}/logs/figures.log",
    script:
        "../scripts/figures.py"
