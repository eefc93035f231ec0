"""ADaM-style derivations: one function, one derivation, data frame in, data frame out.

Each function returns a new frame and leaves its input untouched (no hidden state), in the
manner of pharmaverse admiral (``derive_var_base``, ``derive_var_chg``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd


def derive_var_ablfl(scores: pd.DataFrame, baseline_visits: Mapping[str, int]) -> pd.DataFrame:
    """Baseline record flag ``ABLFL = "Y"`` on each subject's baseline record of a parameter.

    The baseline visit is set per parameter (``baseline_visits``: PARAMCD -> AVISITN), because
    a rating of change such as CGI-I has its baseline at a later visit than a severity
    rating. A record is flagged only if AVAL is present there; a subject whose baseline
    rating is missing has no baseline (and no change from baseline).
    """
    out = scores.copy()
    planned = out["PARAMCD"].map(dict(baseline_visits))
    is_base = (out["AVISITN"] == planned) & out["AVAL"].notna()
    out["ABLFL"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[is_base.fillna(False).astype(bool), "ABLFL"] = "Y"
    return out


def derive_var_base(scores: pd.DataFrame) -> pd.DataFrame:
    """``BASE``: the subject's AVAL on the record flagged ``ABLFL = "Y"`` for that parameter."""
    out = scores.copy()
    base = (
        out.loc[out["ABLFL"] == "Y", ["USUBJID", "PARAMCD", "AVAL"]]
        .rename(columns={"AVAL": "BASE"})
    )
    if base.duplicated(["USUBJID", "PARAMCD"]).any():
        raise ValueError("more than one baseline record for a subject and parameter")
    out = out.drop(columns=["BASE"], errors="ignore").merge(
        base, on=["USUBJID", "PARAMCD"], how="left", validate="many_to_one"
    )
    out.index = scores.index
    return out


def derive_var_chg(scores: pd.DataFrame, baseline_visits: Mapping[str, int]) -> pd.DataFrame:
    """``CHG = AVAL - BASE`` on post-baseline records; missing on and before baseline."""
    out = scores.copy()
    post = out["AVISITN"] > out["PARAMCD"].map(dict(baseline_visits))
    chg = (out["AVAL"].astype("Float64") - out["BASE"].astype("Float64"))
    out["CHG"] = chg.where(post.fillna(False).astype(bool))
    return out


def derive_efficacy(scores: pd.DataFrame, baseline_visits: Mapping[str, int]) -> pd.DataFrame:
    """All efficacy derivations in order: ABLFL, BASE, CHG."""
    out = derive_var_ablfl(scores, baseline_visits)
    out = derive_var_base(out)
    out = derive_var_chg(out, baseline_visits)
    return out.sort_values(["USUBJID", "PARAMCD", "AVISITN"], ignore_index=True)


def derive_max_dose(exposure: pd.DataFrame) -> pd.DataFrame:
    """Highest dose reached per subject (``MAXDOSE``), from the exposure records."""
    return (
        exposure.groupby("USUBJID", as_index=False)["EXDOSE"].max()
        .rename(columns={"EXDOSE": "MAXDOSE"})
    )
