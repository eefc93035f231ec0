"""Published against reproduced: every target of the trial's config with its published
and reproduced value, status, the GRIM check and the row of ``ard.csv`` it comes from.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.markdown import blocks, markdown_table
from trialreport.report.results import Results


def reproduction_table(r: Results) -> pd.DataFrame:
    r = r.reproduction
    return pd.DataFrame({
        "Target": r["description"],
        "Published": r["published"],
        "Reproduced": r["reproduced"],
        "Status": r["status"],
        "n": r["n"],
        "n that give the published mean (GRIM)": r["grim_sizes"],
        "n consistent": r["grim_consistent"],
        "From": r["source"],
    })


def reproduction_summary_table(r: Results) -> pd.DataFrame:
    """The reproduction table as a reader needs it first: the figure, both values, the
    status and n (the GRIM check and the source rows are in the two tables below)."""
    t = reproduction_table(r)
    return t[["Target", "Published", "Reproduced", "Status", "n"]]


def grim_table(r: Results) -> pd.DataFrame:
    """The GRIM check of every published mean of whole-number ratings."""
    t = reproduction_table(r)
    t = t[t["n that give the published mean (GRIM)"] != ""]
    return t[["Target", "Published", "n", "n that give the published mean (GRIM)",
              "n consistent"]]


def inconsistent_table(r: Results) -> pd.DataFrame:
    """The targets no whole-number data could give under their stated assumptions
    (status ``inconsistent``), with the reason (rounding rule, denominators, test)."""
    r = r.reproduction
    reason = r["reason"] if "reason" in r.columns else pd.Series("", index=r.index)
    t = pd.DataFrame({"Target": r["description"], "Published": r["published"],
                      "Reproduced": r["reproduced"], "Why no data can give it": reason})
    return t[r["status"] == "inconsistent"]


def reproduction_sources_table(r: Results) -> pd.DataFrame:
    """Where each reproduced figure comes from: its row of the analysis-results table."""
    t = reproduction_table(r)
    return t[["Target", "From"]].rename(columns={"From": "From (row of ard.csv)"})


def reproduction_section(r: Results) -> str:
    """Every published figure against the reproduced one, the inconsistent ones with the
    reason, the GRIM check of each published mean and the row each figure comes from."""
    matched = (r.reproduction["status"] == "match").sum()
    inconsistent = inconsistent_table(r)
    grim = grim_table(r)
    return blocks(
        "## Published against reproduced",
        """One row per published figure (a target in the trial's config). *Reproduced* is the
result rounded, half up, to the precision at which the figure was published; a bound such
as `P < 0.001` is reproduced when the result satisfies it. For a published mean of an
integer score, *n that give the published mean* lists every sample size, up to the number
enrolled, at which some whole-number total rounds to the published mean (the GRIM test);
*n consistent* says whether the reproduced mean's own n is among them. *From* names the
row of the analysis-results table (`ard.csv`) the number comes from. A figure whose
config states its denominators (and, for a p, the test) is also checked against every
whole-number count that could give it; *inconsistent* marks one that no such data could
give, with the reason.""",
        markdown_table(
            reproduction_summary_table(r),
            status_column="Status",
            caption="Published figures against reproduced",
        ),
        f"**{matched} of {len(r.reproduction)} published figures reproduced.**",
        (
            "Some published figures cannot all hold together under the assumptions stated "
            "beside them in the trial's config: no whole-number counts of the stated "
            "denominators give the published percentages (rounded half up at the published "
            "decimals), or none that do gives the published p under the named test. These "
            "rows are marked **INCONSISTENT**, not mismatched, and do not fail the workflow. "
            "This says only that the figures cannot all hold under these assumptions: other "
            "denominators, or another test (such as a stratified one), might give the "
            "published p.\n\n"
            + markdown_table(
                inconsistent, caption="Published figures no whole-number data can give"
            )
        )
        if len(inconsistent)
        else "",
        (
            "The GRIM check of each published mean:\n\n"
            + markdown_table(grim, caption="GRIM check of the published means")
        )
        if len(grim)
        else "",
        "Where each reproduced figure comes from:\n\n"
        + markdown_table(
            reproduction_sources_table(r),
            caption="The row of ard.csv each reproduced figure comes from",
        ),
    )
