"""The paired comparison within each subgroup (ARD ``subgroup``).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.figure_blocks import figure_markdown
from trialreport.report.markdown import blocks, column_chunks, markdown_tables, transpose
from trialreport.report.results import Results
from trialreport.report.sections.paired import paired_row


def subgroup_table(r: Results) -> pd.DataFrame:
    """Paired comparison in each subgroup (group = "arm; VARIABLE = level")."""
    a = r.ard[r.ard["analysis"] == "subgroup"]
    if a.empty:
        return pd.DataFrame()
    counts = a[a["statistic"] == "n_subjects"].set_index("group")["value"]
    rows = []
    for code, p in r.parameters().items():
        sel = a[a["parameter"] == code]
        for group, g in sel.groupby("group", sort=True):
            arm, _, level = group.partition("; ")
            full = paired_row(r, g, p)
            rows.append({
                "Subgroup": level, "Arm": arm, "Subjects": f"{counts[group]:g}",
                **{k: full.get(k, "") for k in (
                    "Parameter", "Pairs", "Baseline mean (SD)", "Comparison mean (SD)",
                    "Mean change (SD) [95% CI]", "Hodges-Lehmann [95% CI]", "Paired t",
                    "Wilcoxon signed-rank", "Tests")},
            })
    out = pd.DataFrame(rows).fillna("")
    if (out["Arm"].nunique() == 1):
        out = out.drop(columns="Arm")
    return out


def subgroup_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """``subgroup_table`` in CSR layout: per parameter and subgrouping variable,
    statistics as rows and the subgroups (x arms) as columns."""
    table = r.in_arm_order(subgroup_table(r))
    if table.empty:
        return []
    out = []
    variable = table["Subgroup"].str.split(" = ", n=1).str[0]
    for (label, var), g in table.groupby([table["Parameter"], variable], sort=False):
        keys = [k for k in ("Arm", "Subgroup") if k in g]
        csr = transpose(g.drop(columns="Parameter"), keys)
        out += [(f"{label}, by {var}", chunk) for chunk in column_chunks(csr)]
    return out


def subgroups_section(r: Results) -> str:
    """The paired comparison in each subgroup, and the forest plot; one line when the
    trial's config names no subgroups."""
    spec = r.cfg.analyses.subgroups
    if spec is None:
        return blocks("## Subgroups",
                      "No subgroups in this trial's config (`analyses.subgroups`).")
    text = ("The paired comparison within each subgroup of the covariates named in the "
            "trial's config. A subgroup with fewer pairs than the config's minimum "
            f"(`analyses.subgroups.min_n`, {spec.min_n}) is described but not tested, and "
            "flagged. Subgroup results are exploratory and not adjusted for multiplicity.")
    if "MAXDOSE" in spec.variables:
        rule = r.cfg.design.dose_rule
        text += (" The highest dose reached (MAXDOSE) is reached after baseline"
                 + (f" ({rule})" if rule else "") + ", so it is not a baseline "
                 "characteristic: differences between dose subgroups cannot be read as dose "
                 "effects.")
    sub = subgroup_tables(r)
    return blocks(
        "## Subgroups",
        text,
        markdown_tables(sub, caption="Subgroups") if sub else "No subgroup had rows in ard.csv.",
        figure_markdown(r, "subgroup_forest"),
    )
