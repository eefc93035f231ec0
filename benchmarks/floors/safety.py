"""The safety part of the analyse stage, as a floor: demographics, disposition,
exposure and adverse-event counts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .common import Rows, isin
from .efficacy import describe, level_text

# ---------------------------------------------------------------------------------------
# safety: demographics, disposition, exposure, adverse-event counts
# ---------------------------------------------------------------------------------------

SUMMARY = ("n", "mean", "sd", "median", "min", "max")
SEVERITY_RANK = {"MILD": 1, "MODERATE": 2, "SEVERE": 3}
SEVERITY_LEVELS = ("Missing", "MILD", "MODERATE", "SEVERE")


def _summary(x: np.ndarray) -> dict[str, float]:
    d = describe(np.asarray(x, dtype=float), 0.95)
    return {k: d[k] for k in SUMMARY}


def _pct(n: float, total: float) -> float:
    return 100.0 * n / total if total else math.nan


def _counts(rows: Rows, analysis: str, parameter: str, group: str, text: pd.Series,
            levels: list[str]) -> None:
    counts = text.value_counts()
    for level in levels:
        n = int(counts.get(level, 0))
        rows.add(analysis, "count", parameter, math.nan, group,
                 {f"n_{level}": n, f"pct_{level}": _pct(n, len(text))})


def _levels(values: pd.Series) -> list[str]:
    text = values.astype("string")
    return sorted(text.dropna().unique()) + (["Missing"] if text.isna().any() else [])


def safety_floor(trial: dict[str, Any], subjects: pd.DataFrame, adverse_events: pd.DataFrame,
                 exposure: pd.DataFrame, efficacy: pd.DataFrame) -> pd.DataFrame:
    """The numbers of ``trialreport.analyse.safety.build_safety_ard`` for a one-arm trial with
    periods (so the adverse-event tables have a column per period, then All periods)."""
    design = trial["design"]
    arms = subjects["TRT01P"].dropna().unique()
    assert len(arms) == 1, "the floor covers one-arm trials"
    arm = str(arms[0])
    rows = Rows()
    sid = subjects["USUBJID"].astype(object)
    safe = (subjects["SAFFL"] == "Y").to_numpy()
    safe_ids = set(sid[safe])
    pop = subjects[safe]
    # demographics: every randomized subject (RANDFL = Y, else every subject with an arm)
    randomized = (subjects["RANDFL"] == "Y" if "RANDFL" in subjects.columns
                  else subjects["TRT01P"].notna()).to_numpy(bool)
    demo, demo_ids = subjects[randomized], set(sid[randomized])

    # demographics and baseline characteristics
    cats = [c for c in ("SEX", "RACE", "ETHNIC") if c in subjects.columns] + [
        c["name"] for c in design.get("covariates", [])
        if c.get("type") == "categorical" and c["name"] in subjects.columns]
    base = efficacy.dropna(subset=["BASE"]).drop_duplicates(["USUBJID", "PARAMCD"])
    for group in (arm, "Total"):
        rows.add("baseline", "count", "", math.nan, group, {"N": len(demo)})
        rows.add("baseline", "descriptive", "AGE", math.nan, group,
                 _summary(demo["AGE"].to_numpy(float)))
        for c in cats:
            _counts(rows, "baseline", c, group, demo[c].astype("string").fillna("Missing"),
                    _levels(demo[c]))
        in_pop = base[isin(base["USUBJID"], demo_ids)]
        for code, values in in_pop.groupby("PARAMCD", sort=True)["BASE"]:
            rows.add("baseline", "descriptive", f"BASE_{code}", math.nan, group,
                     _summary(values.to_numpy(float)))

    # disposition (of everyone enrolled)
    status = subjects["EOSSTAT"].astype("string")
    reasons = subjects["DCSREAS"].astype("string").fillna("Missing")
    disc = (status == "DISCONTINUED").fillna(False).to_numpy()
    treated = isin(subjects["USUBJID"], exposure["USUBJID"].astype(object))
    counts = {"ENROLLED": len(subjects), "TREATED": treated.sum(),
              "COMPLETED": (status == "COMPLETED").sum(), "DISCONTINUED": disc.sum()}
    if (status == "ONGOING").any():
        counts["ONGOING"] = (status == "ONGOING").sum()
    for reason, n in reasons[disc].value_counts().sort_index().items():
        counts[f"DISCONTINUED / {reason}"] = n
    for group in (arm, "Total"):
        rows.add("disposition", "count", "", math.nan, group, {"N": len(subjects)})
        for parameter, n in counts.items():
            rows.add("disposition", "count", parameter, math.nan, group,
                     {"n": n, "pct": _pct(n, len(subjects))})

    # exposure: highest dose, days at each dose
    periods = {p["name"]: p for p in design.get("periods", [])}
    ex = exposure.assign(USUBJID=exposure["USUBJID"].astype(object))
    end = pd.to_numeric(ex["EXENDY"]).astype(float).fillna(
        ex["APHASE"].astype(object).map({k: p["last_day"] for k, p in periods.items()}))
    ex["EXDUR"] = end - pd.to_numeric(ex["EXSTDY"]).astype(float) + 1
    in_safe = ex[isin(ex["USUBJID"], safe_ids)]
    max_dose = in_safe.groupby("USUBJID")["EXDOSE"].max().astype(float)
    days = in_safe.groupby(["EXDOSE", "USUBJID"])["EXDUR"].sum(min_count=1)
    levels = sorted({float(d) for d in design.get("dose_levels", [])}
                    | set(ex["EXDOSE"].astype(float)))
    for group in (arm, "Total"):
        rows.add("dose_exposure", "count", "", math.nan, group, {"N": len(pop)})
        rows.add("dose_exposure", "descriptive", "MAXDOSE", math.nan, group,
                 _summary(max_dose[max_dose > 0].to_numpy()))  # on active treatment
        n_at = max_dose.value_counts()
        for level in levels:
            n = int(n_at.get(level, 0))
            rows.add("dose_exposure", "count", "MAXDOSE", math.nan, group,
                     {f"n_{level_text(level)}": n, f"pct_{level_text(level)}":
                      _pct(n, len(pop))})
        for level in levels:
            at = days[days.index.get_level_values("EXDOSE") == level].to_numpy(float)
            rows.add("dose_exposure", "descriptive", f"DAYS_AT_DOSE {level_text(level)}",
                     math.nan, group, _summary(at) | {"subject_days": at.sum()})

    # adverse events: treatment-emergent events of the safety population
    ae = adverse_events
    first_dose = ex.groupby("USUBJID")["EXSTDY"].min().astype(float)
    onset = pd.to_numeric(ae["ASTDY"]).astype(float)
    start = ae["USUBJID"].astype(object).map(first_dose).astype(float)
    emergent = ((onset >= start) | onset.isna()).to_numpy()
    rel = ae["AEREL"].astype("string").str.strip().str.upper()
    rel = rel.mask(rel == "")  # blank is missing: counted as related
    related = (rel.isin(["POSSIBLY RELATED", "PROBABLY RELATED", "RELATED"]).fillna(False)
               | rel.isna()).to_numpy(bool)
    in_safe = isin(ae["USUBJID"], safe_ids)
    sev = ae["AESEV"].astype("string").str.upper().map(SEVERITY_RANK).fillna(0).to_numpy(int)
    events = pd.DataFrame({
        "USUBJID": ae["USUBJID"].astype(object).to_numpy(),
        "soc": ae["AEBODSYS"].astype(str).to_numpy(object),
        "pt": (ae["AEBODSYS"].astype(str) + " / " + ae["AEDECOD"].astype(str)).to_numpy(object),
        "period": ae["APHASE"].astype("string").fillna("").astype(str).to_numpy(object),
        "RELATED": related, "SEVERE": sev == 3,
        "SERIOUS": ae["AESER"].astype("string").eq("Y").fillna(False).to_numpy(bool),
        "DISCONTINUATION": ae["AEACN"].astype("string").eq("DRUG WITHDRAWN").fillna(False)
        .to_numpy(bool),
        "sev": sev})
    teae = events[emergent & in_safe]
    other = events[~emergent & in_safe]
    exposed = {p: set(ex.loc[(ex["APHASE"] == p).to_numpy(), "USUBJID"]) & safe_ids
               for p in periods}
    # one-arm trial with periods: a column per period, then All periods (no arm column)
    columns = [*[(p, exposed[p], p) for p in periods], ("All periods", safe_ids, None)]
    terms = ["ANY", *sorted(teae["soc"].unique()), *sorted(teae["pt"].unique())]
    for group, members, period in columns:
        mine = teae[isin(teae["USUBJID"], members)]
        if period is not None:
            mine = mine[(mine["period"] == period).to_numpy()]
        size = len(members)
        for analysis in ("ae_overview", "ae_soc_pt", "ae_severity", "ae_relationship"):
            rows.add(analysis, "count", "", math.nan, group, {"N": size})
        for name in ("ANY", "RELATED", "SEVERE", "SERIOUS", "DISCONTINUATION"):
            hit = mine if name == "ANY" else mine[mine[name].to_numpy()]
            n = hit["USUBJID"].nunique()
            rows.add("ae_overview", "count", name, math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size), "n_events": len(hit)})
        no_period = mine[(mine["period"] == "").to_numpy()]
        if period is None and len(no_period):
            n = no_period["USUBJID"].nunique()
            rows.add("ae_overview", "count: APHASE empty", "NO_PERIOD", math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": len(no_period)})
        if period is None and len(other):
            theirs = other[isin(other["USUBJID"], members)]
            n = theirs["USUBJID"].nunique()
            rows.add("ae_overview", "count: TRTEMFL = N", "NOT_TEAE", math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": len(theirs)})
        # per subject and preferred term first, then rolled up to class and any event
        per_pt = mine.groupby(["pt", "soc", "USUBJID"], sort=False).agg(
            events=("sev", "size"), sev=("sev", "max"), rel=("RELATED", "max")).reset_index()
        levels = [per_pt.groupby(["pt", "USUBJID"], sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
            .rename(columns={"pt": "term"})]
        per_soc = per_pt.groupby(["soc", "USUBJID"], sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
        levels.append(per_soc.rename(columns={"soc": "term"}))
        per_any = per_soc.groupby("USUBJID", sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
        levels.append(per_any.assign(term="ANY"))
        keyed = pd.concat(levels, ignore_index=True)
        by_term = keyed.groupby("term").agg(n=("USUBJID", "size"), events=("events", "sum"))
        by_term = by_term.reindex(terms, fill_value=0)
        sev_tab = pd.crosstab(keyed["term"], keyed["sev"]).reindex(
            index=terms, columns=range(4), fill_value=0)
        rel_tab = pd.crosstab(keyed["term"], keyed["rel"].astype(int)).reindex(
            index=terms, columns=range(2), fill_value=0)
        for term in terms:
            n = int(by_term.at[term, "n"])
            rows.add("ae_soc_pt", "count", term, math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": by_term.at[term, "events"]})
            rows.add("ae_severity", "count, maximum severity per subject", term, math.nan,
                     group, {k: v for code, level in enumerate(SEVERITY_LEVELS) for k, v in (
                         (f"n_{level}", sev_tab.at[term, code]),
                         (f"pct_{level}", _pct(sev_tab.at[term, code], size)))})
            rows.add("ae_relationship", "count, closest relationship per subject", term,
                     math.nan, group, {k: v for code, level in enumerate(
                         ("NOT_RELATED", "RELATED")) for k, v in (
                         (f"n_{level}", rel_tab.at[term, code]),
                         (f"pct_{level}", _pct(rel_tab.at[term, code], size)))})

    # periods: incidence per subject-week, each later period against the first
    weeks, counts_ = {}, {}
    for name in periods:
        in_period = in_safe_ex = ex[isin(ex["USUBJID"], safe_ids)
                                    & (ex["APHASE"] == name).to_numpy()]
        n_exposed = in_safe_ex["USUBJID"].nunique()
        total_days = float(in_period["EXDUR"].sum(min_count=1))
        hit = teae[(teae["period"] == name).to_numpy()]
        n = hit["USUBJID"].nunique()
        weeks[name], counts_[name] = total_days / 7.0, len(hit)
        rows.add("ae_periods", "count", "TEAE", math.nan, name, {
            "N": n_exposed, "n_subjects": n, "pct_subjects": _pct(n, n_exposed),
            "n_events": len(hit), "exposure_days": total_days, "subject_weeks": weeks[name],
            "events_per_subject_week": len(hit) / weeks[name] if weeks[name] else math.nan})
    names = list(periods)
    for name in names[1:]:
        ref = names[0]
        total = counts_[name] + counts_[ref]
        share = weeks[name] / (weeks[name] + weeks[ref])
        res = sps.binomtest(counts_[name], total, share)
        ci = res.proportion_ci(confidence_level=0.95, method="exact")
        odds = weeks[ref] / weeks[name]
        rows.add("ae_periods", "exact_conditional_poisson", "TEAE", math.nan,
                 f"{name} vs {ref}", {
                     "rate_ratio": (counts_[name] / weeks[name]) / (counts_[ref] / weeks[ref]),
                     "ci_low": ci.low / (1 - ci.low) * odds,
                     "ci_high": math.inf if ci.high >= 1 else ci.high / (1 - ci.high) * odds,
                     "p_value": res.pvalue, "n_events_total": total})
    return rows.frame()
