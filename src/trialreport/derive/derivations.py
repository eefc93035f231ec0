"""ADaM-style derivations: one function, one derivation, data frame in, data frame out.

Each function returns a new frame and leaves its input untouched (no hidden state), in the
manner of pharmaverse admiral (``derive_var_base``, ``derive_var_chg``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from trialreport.common.config import Period


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


def percent_change(chg: pd.Series, base: pd.Series) -> pd.Series:
    """``100 * CHG / BASE`` where CHG is there and BASE is not zero, else missing (a change
    from a baseline of 0 has no percent). ``100 * CHG`` is divided by BASE, so whole-number
    scores give an exact result wherever it is representable (100 * -3 / 10 is exactly -30,
    which a responder rule ``PCHG <= -30`` must count)."""
    base = base.astype("Float64")
    chg = chg.astype("Float64")
    ok = (chg.notna() & base.notna() & (base != 0)).fillna(False).astype(bool)
    pchg = pd.Series(pd.NA, index=chg.index, dtype="Float64")
    pchg[ok] = (chg[ok] * 100.0) / base[ok]
    return pchg


def derive_var_pchg(scores: pd.DataFrame) -> pd.DataFrame:
    """``PCHG``, percent change from baseline (``percent_change`` of CHG and BASE)."""
    out = scores.copy()
    out["PCHG"] = percent_change(out["CHG"], out["BASE"])
    return out


def derive_efficacy(scores: pd.DataFrame, baseline_visits: Mapping[str, int]) -> pd.DataFrame:
    """All efficacy derivations in order: ABLFL, BASE, CHG, PCHG."""
    out = derive_var_ablfl(scores, baseline_visits)
    out = derive_var_base(out)
    out = derive_var_chg(out, baseline_visits)
    out = derive_var_pchg(out)
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


# ---------------------------------------------------------------------------------------
# Data as delivered: derived records, BASE and CHG from the sponsor, checked against ours
# ---------------------------------------------------------------------------------------

CHECK_COLUMNS = ["check", "USUBJID", "PARAMCD", "AVISIT", "AVISITN", "row", "delivered",
                 "derived", "note"]
KEY = ["USUBJID", "PARAMCD", "AVISITN"]


def split_derived_records(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observed records (no DTYPE) and the sponsor's LOCF records (DTYPE = LOCF).

    Other derived records never get here: they are set aside on reading
    (``records.select_records``). Data without a DTYPE column are all observed."""
    if "DTYPE" not in scores.columns:
        return scores, scores.iloc[0:0]
    derived = scores["DTYPE"].notna()
    return (scores[~derived].drop(columns="DTYPE").reset_index(drop=True),
            scores[derived].reset_index(drop=True))


def _differences(check: str, frame: pd.DataFrame, delivered: str, derived: str,
                 note: str) -> pd.DataFrame:
    """Rows where both values are there and differ (numbers beyond 1e-9, or text)."""
    a, b = frame[delivered], frame[derived]
    both = a.notna() & b.notna()
    if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
        differ = both & ((a.astype(float) - b.astype(float)).abs() > 1e-9)
    else:
        differ = both & (a.astype("string") != b.astype("string"))
    rows = frame[differ.fillna(False).astype(bool)]
    return pd.DataFrame({
        "check": check, "USUBJID": rows["USUBJID"], "PARAMCD": rows["PARAMCD"],
        "AVISIT": rows.get("AVISIT", ""), "AVISITN": rows["AVISITN"],
        "row": rows.get("SRCROW", ""), "delivered": rows[delivered],
        "derived": rows[derived], "note": note}, columns=CHECK_COLUMNS)


def _delivered_or_own(out: pd.DataFrame, var: str, own: pd.Series, note: str,
                      checks: list[pd.DataFrame]) -> pd.Series:
    """``var`` as delivered (column ``<var>_DLV``), the pipeline's own value where the
    delivered one is empty; every difference between the two goes to ``checks``."""
    if f"{var}_DLV" not in out:
        return own
    delivered = out[f"{var}_DLV"].astype("Float64")
    checks.append(_differences(var, out.assign(_d=delivered, _o=own), "_d", "_o", note))
    return delivered.fillna(own)


def derive_efficacy_as_delivered(
        scores: pd.DataFrame,
        baseline_visits: Mapping[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ABLFL, BASE and CHG, taking BASE and CHG as the data deliver them where they do.

    The pipeline derives all three (``derive_efficacy``). Where the data carry BASE (ADaM
    puts it on every record) it is used, and the pipeline's BASE fills only where the
    delivered one is empty; likewise CHG, else AVAL - BASE after the baseline visit, so
    data with BASE but no baseline record still have a change from baseline. Where both
    are there they are compared, and so is a delivered ABLFL with the pipeline's; every
    difference is a row of the second frame (columns ``CHECK_COLUMNS``).
    """
    given = {c: scores[c] for c in ("ABLFL", "BASE", "CHG", "PCHG") if c in scores.columns}
    ours = derive_efficacy(scores.drop(columns=list(given)), baseline_visits)
    if not given:
        return ours, pd.DataFrame(columns=CHECK_COLUMNS)
    if "SRCROW" not in scores.columns:
        raise ValueError("derive_efficacy_as_delivered needs SRCROW to align records")
    delivered = pd.DataFrame({f"{c}_DLV": v.to_numpy() for c, v in given.items()})
    delivered["SRCROW"] = scores["SRCROW"].to_numpy()
    out = ours.merge(delivered, on="SRCROW", how="left", validate="one_to_one")
    checks = []
    if "ABLFL_DLV" in out:
        flags = out.assign(_ours=out["ABLFL"].fillna("N"),
                           _theirs=out["ABLFL_DLV"].astype("string").fillna("N"))
        checks.append(_differences("ABLFL", flags, "_theirs", "_ours",
                                   "baseline flag as delivered against the pipeline's "
                                   "(baseline_visit in design.parameters)"))
    post = out["AVISITN"] > out["PARAMCD"].map(dict(baseline_visits))
    if "BASE_DLV" in out:
        base_dlv = out["BASE_DLV"].astype("Float64")
        checks.append(_differences("BASE", out.assign(_d=base_dlv), "_d", "BASE",
                                   "BASE as delivered against AVAL of the baseline record"))
        out["BASE"] = base_dlv.fillna(out["BASE"].astype("Float64"))
    own_chg = (out["AVAL"].astype("Float64") - out["BASE"].astype("Float64")).where(
        post.fillna(False).astype(bool))
    out["CHG"] = _delivered_or_own(out, "CHG", own_chg, "CHG as delivered against AVAL - BASE",
                                   checks)
    out["PCHG"] = _delivered_or_own(out, "PCHG", percent_change(out["CHG"], out["BASE"]),
                                    "PCHG as delivered against 100 * CHG / BASE", checks)
    out = out.drop(columns=[c for c in out.columns if c.endswith("_DLV")])
    return out, pd.concat(checks, ignore_index=True)


def locf_as_delivered(observed: pd.DataFrame, sponsor_locf: pd.DataFrame) -> pd.DataFrame:
    """The LOCF data as the sponsor delivered them: each subject's observed records, with
    a sponsor LOCF record (DTYPE = LOCF) in place of the observed one at its visit."""
    cols = [c for c in ("USUBJID", "PARAMCD", "PARAM", "AVISIT", "AVISITN", "AVAL")
            if c in observed.columns]
    theirs = sponsor_locf[[c for c in cols if c in sponsor_locf.columns]].assign(DTYPE="LOCF")
    mine = observed[cols].assign(DTYPE=pd.NA)
    replaced = mine.set_index(KEY).index.isin(theirs.set_index(KEY).index)
    out = pd.concat([mine[~replaced], theirs], ignore_index=True)
    out["AVAL"] = out["AVAL"].astype("Float64")
    out["DTYPE"] = out["DTYPE"].astype("string")
    return out.sort_values(KEY, ignore_index=True)


def compare_locf(ours: pd.DataFrame, theirs: pd.DataFrame) -> pd.DataFrame:
    """Where the pipeline's LOCF and the sponsor's differ: at every subject, parameter and
    visit where either carried a value forward, an AVAL that differs or is there in one
    only (columns ``CHECK_COLUMNS``, delivered = the sponsor's). Only the parameters for
    which the sponsor delivered LOCF records are compared: a parameter without any was
    not carried forward by the sponsor at all."""
    delivered = set(theirs.loc[theirs["DTYPE"] == "LOCF", "PARAMCD"])
    ours = ours[ours["PARAMCD"].isin(delivered)]
    theirs = theirs[theirs["PARAMCD"].isin(delivered)]
    a = ours[[*KEY, "AVISIT", "AVAL", "DTYPE"]].rename(
        columns={"AVAL": "derived", "DTYPE": "_dt_o"})
    b = theirs[[*KEY, "AVAL", "DTYPE"]].rename(columns={"AVAL": "delivered", "DTYPE": "_dt_t"})
    both = a.merge(b, on=KEY, how="outer")
    imputed = (both["_dt_o"] == "LOCF").fillna(False) | (both["_dt_t"] == "LOCF").fillna(False)
    x, y = both["delivered"].astype("Float64"), both["derived"].astype("Float64")
    differ = (x.isna() != y.isna()) | ((x - y).abs() > 1e-9).fillna(False)
    rows = both[imputed.astype(bool) & differ.astype(bool)]
    note = "LOCF as delivered (DTYPE = LOCF) against the pipeline's LOCF"
    return pd.DataFrame({"check": "LOCF", "USUBJID": rows["USUBJID"],
                         "PARAMCD": rows["PARAMCD"], "AVISIT": rows["AVISIT"],
                         "AVISITN": rows["AVISITN"], "row": "",
                         "delivered": rows["delivered"], "derived": rows["derived"],
                         "note": note}, columns=CHECK_COLUMNS)


def attach_base(locf: pd.DataFrame, efficacy: pd.DataFrame) -> pd.DataFrame:
    """Each LOCF record with its subject's BASE for the parameter (from the efficacy data),
    so data without a baseline record keep their baseline in the LOCF analysis too."""
    if "BASE" not in efficacy.columns:
        return locf
    base = (efficacy.dropna(subset=["BASE"]).drop_duplicates(["USUBJID", "PARAMCD"])
            [["USUBJID", "PARAMCD", "BASE"]])
    return locf.drop(columns=["BASE"], errors="ignore").merge(
        base, on=["USUBJID", "PARAMCD"], how="left", validate="many_to_one")


def derive_exposure_days(exposure: pd.DataFrame,
                         periods: Sequence[Period] = ()) -> pd.DataFrame:
    """``EXDUR``: days of each exposure record, ``EXENDY - EXSTDY + 1`` (both days included).

    An open record (no EXENDY: the subject was still on that dose when the data were cut)
    counts to the last day of its period (APHASE, from ``periods``) where that is known;
    otherwise its EXDUR is missing and it adds no days."""
    out = exposure.copy()
    end = pd.to_numeric(out["EXENDY"]).astype(float)
    if len(periods) and "APHASE" in out.columns:
        last = {p.name: p.last_day for p in periods if math.isfinite(p.last_day)}
        end = end.fillna(out["APHASE"].astype(object).map(last).astype(float))
    out["EXDUR"] = end - pd.to_numeric(out["EXSTDY"]).astype(float) + 1
    return out
