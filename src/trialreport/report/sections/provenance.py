"""Provenance: the input files, the trial's config and the software behind every number.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.markdown import blocks, markdown_table
from trialreport.report.results import Results


def provenance_table(r: Results) -> pd.DataFrame:
    rows = [(f"data: {v['path']}", f"sha256 {v['sha256'][:16]}..., {v['bytes']} bytes")
            for v in r.provenance["data"].values()]
    rows.append(("trial config", f"sha256 {r.provenance['config_sha256'][:16]}..."))
    rows.append(("python", r.provenance["python"]))
    rows += [(name, version) for name, version in r.provenance["packages"].items()]
    return pd.DataFrame(rows, columns=["Item", "Value"])


def provenance_section(r: Results) -> str:
    return blocks(
        "## Provenance",
        f"Rendered with **{r.renderer}**. Input files, configuration and software "
        "versions behind every number above:",
        markdown_table(provenance_table(r), caption="Inputs and software"),
    )
