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


# The tipping-point figure of analyses.missing_data (trialreport.figures.tipping_point): its
# own rule, so the figures above keep their list; a trial without one gets a figure saying so.
rule figure_tipping_point:
    input:
        trial_config=trial_config_file,
        ard=f"{RESULTS}/{{trial}}/ard.csv",
    output:
        **{
            f"tipping_point_{fmt}": report(
                f"{RESULTS}/{{trial}}/figures/tipping_point.{fmt}",
                caption="../report/figure_tipping_point.rst",
                category="Figures",
                subcategory="{trial}",
                labels={"trial": "{trial}", "figure": "tipping_point", "format": fmt},
            )
            for fmt in FIGURE_FORMATS
        },
    log:
        f"{RESULTS}/{{trial}}/logs/figure_tipping_point.log",
    script:
        "../scripts/figures.py"
