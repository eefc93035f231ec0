"""Published against reproduced: every target of the trial's config with its published
and reproduced value, status, the GRIM check and the row of ``ard.csv`` it comes from.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

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
