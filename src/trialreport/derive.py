"""ADaM-style derivations: one function, one derivation, data frame in, data frame out.

Each function returns a new frame and leaves its input untouched (no hidden state), in the
manner of pharmaverse admiral (``derive_var_base``, ``derive_var_chg``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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


def derive_locf_records(scores: pd.DataFrame, visits: Sequence[int],
                        visit_names: Mapping[int, str] | None = None, *,
                        baseline_visits: Mapping[str, int]) -> pd.DataFrame:
    """Last observation carried forward (LOCF), in the manner of admiral's
    ``derive_locf_records``: for every subject and parameter present in ``scores`` and every
    expected post-baseline visit in ``visits`` (AVISITN after the parameter's baseline visit
    in ``baseline_visits``, PARAMCD -> AVISITN), a record with a missing AVAL, or no record
    at all, gets the AVAL of the subject's latest earlier visit from the baseline visit on
    with a non-missing AVAL, and ``DTYPE = "LOCF"``. A baseline is never imputed: nothing is
    carried into the baseline visit or any visit before it, and a value observed before the
    baseline visit is never carried forward. Observed records keep their AVAL and a missing
    DTYPE. A visit with nothing to carry stays missing (an existing record is kept as it is;
    an absent one is not added). Added records take PARAM (if present) from the subject's
    records, AVISIT from ``visit_names``, and leave every other column missing.

    Returns a new frame with only USUBJID, PARAMCD, PARAM (if present), AVISIT, AVISITN,
    AVAL, DTYPE, sorted by USUBJID, PARAMCD, AVISITN. Derive BASE and CHG afterwards.
    """
    unknown = sorted(set(scores["PARAMCD"].dropna()) - set(baseline_visits))
    if unknown:
        raise ValueError(f"derive_locf_records: no baseline visit for parameter(s) "
                         f"{', '.join(map(str, unknown))}")
    keep = [c for c in ("USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL")
            if c in scores.columns]
    src = scores[keep].copy()
    src["AVAL"] = src["AVAL"].astype("Float64")
    keys = src[["USUBJID", "PARAMCD"] + (["PARAM"] if "PARAM" in src.columns else [])]
    keys = keys.drop_duplicates(["USUBJID", "PARAMCD"])
    grid = keys.merge(pd.DataFrame({"AVISITN": sorted(int(v) for v in visits)}), how="cross")
    src["AVISITN"] = src["AVISITN"].astype(int)
    out = grid.merge(src.drop(columns=["PARAM"], errors="ignore").assign(_observed=True),
                     on=["USUBJID", "PARAMCD", "AVISITN"], how="left", validate="one_to_one")
    out = out.sort_values(["USUBJID", "PARAMCD", "AVISITN"], ignore_index=True)
    existed = out.pop("_observed").notna()
    baseline = out["PARAMCD"].map(dict(baseline_visits)).astype(int)
    # only values from the baseline visit on may be carried, and only into later visits
    source = out["AVAL"].where(out["AVISITN"] >= baseline)
    carried = source.groupby([out["USUBJID"], out["PARAMCD"]], sort=False).ffill()
    imputed = out["AVAL"].isna() & carried.notna() & (out["AVISITN"] > baseline)
    out["AVAL"] = out["AVAL"].where(~imputed, carried).astype("Float64")
    out["DTYPE"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[imputed, "DTYPE"] = "LOCF"
    out = out[existed | imputed].reset_index(drop=True)
    if visit_names is not None:
        names = out["AVISITN"].map(dict(visit_names))
        if "AVISIT" in out.columns:
            out["AVISIT"] = out["AVISIT"].fillna(names)
        else:
            out["AVISIT"] = names
    columns = [*keep, "AVISIT"] if "AVISIT" not in keep and visit_names is not None else keep
    return out[[c for c in (*columns, "DTYPE") if c in out.columns]]
