"""Descriptive statistics by visit (ARD ``by_visit``), one table per parameter.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.figure_blocks import figure_markdown, figures_markdown
from trialreport.report.markdown import (
    MAX_COLUMNS,
    blocks,
    column_chunks,
    markdown_tables,
    nested_rows,
)
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def by_visit_table(r: Results) -> pd.DataFrame:
    rows = r.ard[r.ard["analysis"] == "by_visit"]
    wide = rows.pivot_table(index=["parameter", "visitn", "visit", "group"],
                            columns="statistic", values="value", aggfunc="first",
                            sort=False).reset_index()
    wide = wide.sort_values(["parameter", "visitn"], kind="stable")
    labels = {c: p.label for c, p in r.parameters().items()}
    return pd.DataFrame({
        "Parameter": wide["parameter"].map(labels),
        "Visit": wide["visit"],
        **({"Arm": wide["group"]} if wide["group"].nunique() > 1 else {}),
        "n": wide["n"].map(lambda v: f"{v:g}"),
        "Mean (SD)": [f"{fmt_num(m, 2)} ({fmt_num(s, 2)})"
                      for m, s in zip(wide["mean"], wide["sd"], strict=True)],
        # one decimal for every median and quartile (a CSR's convention: one more than the
        # whole-number ratings), so 18.5 [16.3, 20.8] and 19.0 [16.3, 21.0] line up
        "Median [Q1, Q3]": [f"{fmt_num(m, 1)} [{fmt_num(a, 1)}, {fmt_num(b, 1)}]"
                            for m, a, b in
                            zip(wide["median"], wide["q1"], wide["q3"], strict=True)],
        "Min, max": [f"{a:g}, {b:g}" for a, b in zip(wide["min"], wide["max"],
                                                     strict=True)],
        "95% CI of mean": [f"{fmt_num(a, 2)} to {fmt_num(b, 2)}" for a, b in
                           zip(wide["ci_low"], wide["ci_high"], strict=True)],
    })


def by_visit_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """Descriptive statistics by visit, one table per parameter: visits as rows (one
    arm), or visits and statistics as rows and arms as columns (several arms)."""
    table = by_visit_table(r)
    out = []
    for label, g in table.groupby("Parameter", sort=False):
        g = g.drop(columns="Parameter")
        if "Arm" in g:
            g = nested_rows(g, "Visit", "Arm", label="Visit / statistic")
        # one arm: six short columns (visit, n and four statistics) fit a page
        out += [(label, chunk) for chunk in column_chunks(g, MAX_COLUMNS + 1)]
    return out


def by_visit_section(r: Results) -> str:
    """Means by visit: the figure, the descriptive table per parameter, then the
    distribution of ratings and the individual trajectories. The figures are the files of
    the workflow's figures step, shown with their captions and alt texts; a figure that
    cannot be drawn is replaced by the reason."""
    return blocks(
        "## Means by visit",
        figure_markdown(r, "means_by_visit"),
        markdown_tables(by_visit_tables(r), caption="Descriptive statistics by visit"),
        "### Distribution of ratings and individual trajectories",
        figures_markdown(r, ["rating_distribution", "trajectories"]))
