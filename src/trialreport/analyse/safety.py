"""Adverse events, and the safety part of the ARD: derivations and counts.

Derivations follow the admiral pattern (one function, one derivation, frame in, frame out):
``derive_var_trtemfl`` (treatment-emergent flag) and ``derive_var_relfl`` (related to study
drug). ``build_safety_ard`` counts from the derived data and returns rows of the
analysis-results table (same columns as ``trialreport.analyse.ard.ARD_COLUMNS``): the
adverse-event analyses here, demographics, disposition and exposure from
``trialreport.analyse.subjects``; the display tables in ``trialreport.tables.display`` only
format them.

Conventions (stated again in the report's table notes):

- Population and denominators: the safety population (``SAFFL = "Y"``). Every count table
  has, per column (``group``), a row ``statistic = "N"`` holding its denominator;
  percentages are ``100 * n / N``. Disposition is the exception: its denominator is the
  number enrolled.
- Columns: one per arm (``TRT01P``), then ``Total``. In a single-arm trial with more than
  one period (e.g. a placebo run-in), the AE tables instead have one column per period (the
  subjects of the safety population exposed in that period, and the events whose period
  ``APHASE`` is that period), then ``All periods`` (the safety population and every event,
  those with no period included); no arm column, which would count the placebo period's
  events under the drug's name. An event with no period (no onset day, so ``APHASE`` is
  empty) is counted in ``All periods`` only, and the overview counts such events on a row
  of its own (``NO_PERIOD``), shown only when there are any.
- Only treatment-emergent events (``TRTEMFL = "Y"``) are counted; events that are not
  (pre-treatment, ``TRTEMFL = "N"``) are kept and counted on their own row of the overview
  (``NOT_TEAE``), shown only when there are any.
- Related: ``AEREL`` in POSSIBLY RELATED, PROBABLY RELATED or RELATED; a missing ``AEREL``
  counts as related (the conservative convention). NOT RELATED and UNLIKELY RELATED are
  not related.
- Severe: ``AESEV = "SEVERE"``. Maximum severity per subject (per term, per class and over
  all events) is the highest recorded severity (MILD < MODERATE < SEVERE); a subject whose
  events there all lack a severity is counted in a ``Missing`` row.
- Leading to discontinuation: ``AEACN = "DRUG WITHDRAWN"``. Where the trial does not
  collect AEACN (no such column, or empty for every event) the row is not collected
  (empty values, ``method`` ``ard.not_collected("AEACN", ...)``), never 0.
- A subject is counted once per row (term, class, category); events are counted each time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analyse.ard import (
    ALL_PERIODS,
    ANY,
    MISSING,
    NO_PERIOD,
    NOT_COLLECTED,
    TERM_SEP,
    TOTAL,
    ArdBuilder,
    arms_of,
    is_collected,
    not_collected,
    percent,
)
from trialreport.analyse.subjects import add_baseline, add_disposition, add_dose_exposure
from trialreport.common.config import AnalysisConfigError, Period, Trial, as_trial
from trialreport.common.frames import member_of
from trialreport.derive.derivations import derive_exposure_days

RELATED_VALUES = ("POSSIBLY RELATED", "PROBABLY RELATED", "RELATED")
SEVERITIES = ("MILD", "MODERATE", "SEVERE")
RELATIONSHIPS = ("RELATED", "NOT_RELATED")
PERIOD_TEST = "exact_conditional_poisson"


# ---------------------------------------------------------------------------------------
# derivations
# ---------------------------------------------------------------------------------------


def derive_var_trtemfl(adverse_events: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """Treatment-emergent flag ``TRTEMFL``: honoured where the data have it, derived where not.

    Derived: ``"Y"`` if the onset day ``ASTDY`` is on or after the subject's first dose (the
    earliest ``EXSTDY`` of any study treatment, placebo included, since the placebo week is
    part of the treated period), ``"N"`` if before it or if the subject has no exposure.
    Worsening: the data model records a change of severity as a new event record starting
    on the day it worsened (the SDTM AE convention), so a pre-treatment event that worsens
    on treatment is a new record with onset on treatment and is flagged by the same rule.
    Where the data carry ``TRTEMFL`` its non-missing values are kept as they are.
    """
    out = adverse_events.copy()
    given = out["TRTEMFL"].astype("string") if "TRTEMFL" in out.columns else None
    if exposure is None or exposure.empty:
        if given is None:
            raise AnalysisConfigError(
                f"the {len(out)} adverse event(s) have no TRTEMFL column and the trial "
                "delivers no exposure data to derive it from (the first dose); map the "
                "file's treatment-emergent flag to TRTEMFL (data.adverse_events.columns) "
                "or add data.exposure")
        if given.isna().any():
            rows = out.loc[given.isna(), "SRCROW"] if "SRCROW" in out.columns else None
            shown = "" if rows is None else (
                " (rows " + ", ".join(str(r) for r in rows.head(10)) + ")")
            raise AnalysisConfigError(
                f"{int(given.isna().sum())} adverse event(s) have an empty TRTEMFL{shown} "
                "while others have N, so empty cannot be read as N (the ADaM Y/null "
                "convention applies to a flag holding only Y and empty cells), and the "
                "trial delivers no exposure data to derive it from (the first dose); "
                "fill TRTEMFL in the adverse events file or add data.exposure")
        return out
    first_dose = exposure.groupby("USUBJID")["EXSTDY"].min()
    onset = pd.to_numeric(out["ASTDY"], errors="coerce")
    start = pd.to_numeric(out["USUBJID"].map(first_dose), errors="coerce").astype(float)
    # An onset day that is missing (a partial date) counts as on treatment: the
    # conservative reading, as ADaM imputes a partial onset date to the worst case.
    on_or_after = ((onset.astype(float) >= start) | onset.isna()).to_numpy(dtype=bool)
    derived = pd.Series(np.where(on_or_after, "Y", "N"),
                        index=out.index, dtype="string")
    if given is not None:
        out["TRTEMFL"] = given.where(given.notna(), derived)
    else:
        out["TRTEMFL"] = derived
    return out


def derive_var_relfl(adverse_events: pd.DataFrame) -> pd.DataFrame:
    """Related-to-study-drug flag ``RELFL``: ``"Y"`` when ``AEREL`` is POSSIBLY RELATED,
    PROBABLY RELATED or RELATED, or is missing (conservative); ``"N"`` otherwise."""
    out = adverse_events.copy()
    rel = out["AEREL"].astype("string").str.strip().str.upper()
    rel = rel.mask(rel == "")  # a blank relationship is a missing one, not "not related"
    related = rel.isin(RELATED_VALUES).fillna(False).astype(bool) | rel.isna()
    out["RELFL"] = pd.Series(np.where(related, "Y", "N"), index=out.index, dtype="string")
    return out


# ---------------------------------------------------------------------------------------
# columns of the tables
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a table: its subjects and, for a period column, its period."""

    group: str
    analysis_set: str
    subjects: frozenset[str]
    period: str | None = None


def safety_columns(subjects: pd.DataFrame, exposure: pd.DataFrame,
                   periods: Sequence[str] = (), by_period: bool = False,
                   arms: Sequence[str] | None = None) -> list[Column]:
    """Arms, then Total; or (``by_period``, single-arm trials with periods) the periods, then
    All periods. Safety population; a period column holds the subjects exposed in it."""
    safe = subjects[subjects["SAFFL"] == "Y"]
    ids = safe["USUBJID"].astype(object)  # iterating Arrow strings one by one is slow
    if by_period:
        cols = []
        for period in periods:
            exposed = set(exposure.loc[exposure["APHASE"] == period, "USUBJID"].astype(object))
            cols.append(Column(period, f"safety, exposed in period {period}",
                               frozenset(set(ids) & exposed), period))
        return [*cols, Column(ALL_PERIODS, "safety", frozenset(ids))]
    cols = [Column(arm, "safety", frozenset(ids[safe["TRT01P"] == arm]))
            for arm in (arms_of(subjects) if arms is None else arms)]
    cols.append(Column(TOTAL, "safety", frozenset(ids)))
    return cols


def _events_in(ae: pd.DataFrame, col: Column) -> pd.DataFrame:
    rows = ae[member_of(ae["USUBJID"], col.subjects)]
    if col.period is not None:
        rows = rows[rows["APHASE"] == col.period]
    return rows


# ---------------------------------------------------------------------------------------
# adverse-event counts
# ---------------------------------------------------------------------------------------


def teae_frame(adverse_events: pd.DataFrame, exposure: pd.DataFrame | None,
               subjects: pd.DataFrame, emergent: bool = True) -> pd.DataFrame:
    """Treatment-emergent events of the safety population, with TRTEMFL and RELFL derived
    (``emergent=False``: the events that are not treatment-emergent instead)."""
    ae = derive_var_relfl(derive_var_trtemfl(adverse_events, exposure))
    safe = set(subjects.loc[subjects["SAFFL"] == "Y", "USUBJID"].astype(object))
    flag = (ae["TRTEMFL"] == "Y").fillna(False).astype(bool)
    ae = ae[(flag if emergent else ~flag) & member_of(ae["USUBJID"], safe)].copy()
    for column in ("AEBODSYS", "AEDECOD"):
        ae[column] = ae[column].astype(str)
    # no period (APHASE empty: no onset day) is "", which matches no period's name
    ae["APHASE"] = ae["APHASE"].astype("string").fillna("").astype(str)
    ae["AESEV"] = ae["AESEV"].astype("string").str.upper()
    return ae


def overview_flags(ae: pd.DataFrame) -> dict[str, pd.Series]:
    """The categories of the AE overview, each a boolean mask over the events."""
    flags = {
        ANY: pd.Series(True, index=ae.index),
        "RELATED": ae["RELFL"] == "Y",
        "SEVERE": (ae["AESEV"] == "SEVERE").fillna(False).astype(bool),
        "SERIOUS": ae["AESER"].astype("string").eq("Y").fillna(False).astype(bool),
    }
    if "AEACN" in ae.columns:
        flags["DISCONTINUATION"] = (ae["AEACN"].astype("string").eq("DRUG WITHDRAWN")
                                    .fillna(False).astype(bool))
    return flags


def _add_denominators(ard: ArdBuilder, analysis: str, columns: Sequence[Column]) -> None:
    for col in columns:
        ard.add(analysis, "N", len(col.subjects), group=col.group,
                analysis_set=col.analysis_set, method="count")


def add_ae_overview(ard: ArdBuilder, ae: pd.DataFrame, columns: Sequence[Column],
                    aeacn_collected: bool | None = None) -> None:
    """Subjects with at least one event of each category, n and %, and number of events.
    ``aeacn_collected`` (whether any delivered event has an AEACN; by default, any of
    ``ae``): when False, the discontinuation row is not collected rather than 0."""
    _add_denominators(ard, "ae_overview", columns)
    flags = overview_flags(ae)
    if aeacn_collected is None:
        aeacn_collected = is_collected(ae, "AEACN")
    if not aeacn_collected:
        flags["DISCONTINUATION"] = pd.Series(False, index=ae.index)
    for col in columns:
        events = _events_in(ae, col)
        for name, mask in flags.items():
            hit = events[mask.reindex(events.index)]
            n = hit["USUBJID"].nunique()
            keys = {"parameter": name, "group": col.group, "analysis_set": col.analysis_set,
                    "method": "count"}
            if name == "DISCONTINUATION" and not aeacn_collected:
                keys["method"] = not_collected("AEACN", "adverse events")
                for statistic in ("n_subjects", "pct_subjects", "n_events"):
                    ard.add("ae_overview", statistic, math.nan, **keys)
                continue
            ard.add("ae_overview", "n_subjects", n, **keys)
            ard.add("ae_overview", "pct_subjects", percent(n, len(col.subjects)), **keys)
            ard.add("ae_overview", "n_events", len(hit), **keys)


def add_no_period(ard: ArdBuilder, ae: pd.DataFrame, columns: Sequence[Column]) -> None:
    """Overview row ``NO_PERIOD``, with period columns only: subjects with a treatment-emergent
    event that has no period (APHASE empty, e.g. no onset day), n, % and events. Such events
    are in no period column and in All periods; the row holds values in the columns that
    are not a period's (All periods), and is added only when there are any."""
    if not any(col.period is not None for col in columns):
        return
    _add_overview_row_outside_periods(ard, ae[ae["APHASE"] == ""], columns, NO_PERIOD,
                                      "count: APHASE empty")


def add_not_emergent(ard: ArdBuilder, other: pd.DataFrame, columns: Sequence[Column]) -> None:
    """Overview row ``NOT_TEAE``: subjects with an event that is not treatment-emergent
    (TRTEMFL = N, e.g. before the first dose), n, % and events; only when there are any."""
    # a pre-treatment event belongs to no treatment period
    _add_overview_row_outside_periods(ard, other, columns, "NOT_TEAE", "count: TRTEMFL = N")


def _add_overview_row_outside_periods(ard: ArdBuilder, events: pd.DataFrame,
                                      columns: Sequence[Column], parameter: str,
                                      method: str) -> None:
    """An overview row counting ``events`` (subjects n, %, events) in the columns that are
    not a period's (arms, Total, All periods); nothing when there are no such events."""
    if events.empty:
        return
    for col in columns:
        if col.period is not None:
            continue
        rows = events[member_of(events["USUBJID"], col.subjects)]
        n = rows["USUBJID"].nunique()
        keys = {"parameter": parameter, "group": col.group, "analysis_set": col.analysis_set,
                "method": method}
        ard.add("ae_overview", "n_subjects", n, **keys)
        ard.add("ae_overview", "pct_subjects", percent(n, len(col.subjects)), **keys)
        ard.add("ae_overview", "n_events", len(rows), **keys)


def _term_levels(ae: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """(parameter, key per event) for the three levels: any event, class, preferred term."""
    return [
        (ANY, pd.Series(ANY, index=ae.index)),
        ("soc", ae["AEBODSYS"]),
        ("pt", ae["AEBODSYS"] + TERM_SEP + ae["AEDECOD"]),
    ]


def _all_terms(ae: pd.DataFrame) -> list[str]:
    socs = sorted(ae["AEBODSYS"].unique())
    pts = sorted((ae["AEBODSYS"] + TERM_SEP + ae["AEDECOD"]).unique())
    return [ANY, *socs, *pts]


def _term_key(ae: pd.DataFrame) -> pd.DataFrame:
    """One row per event and level it counts in: columns USUBJID, term, plus the event's."""
    parts = []
    for _, key in _term_levels(ae):
        part = ae.copy()
        part["term"] = key.to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def add_ae_soc_pt(ard: ArdBuilder, ae: pd.DataFrame, columns: Sequence[Column]) -> None:
    """Subjects n (%) and events per system organ class and preferred term, every column.

    ``parameter`` is ``ANY`` (any event), the class, or ``"<class> / <term>"``. A subject is
    counted once per term and once per class however many events it has there. Every term
    met in the data has a row in every column, with zeros where a column has none.
    """
    _add_denominators(ard, "ae_soc_pt", columns)
    terms = _all_terms(ae)
    keyed = _term_key(ae)
    for col in columns:
        events = _events_in(keyed, col)
        grouped = events.groupby("term")
        n_sub = grouped["USUBJID"].nunique().reindex(terms, fill_value=0)
        n_evt = grouped.size().reindex(terms, fill_value=0)
        for term in terms:
            keys = {"parameter": term, "group": col.group, "analysis_set": col.analysis_set,
                    "method": "count"}
            ard.add("ae_soc_pt", "n_subjects", n_sub[term], **keys)
            ard.add("ae_soc_pt", "pct_subjects", percent(n_sub[term], len(col.subjects)), **keys)
            ard.add("ae_soc_pt", "n_events", n_evt[term], **keys)


def _category_counts(ard: ArdBuilder, analysis: str, ae: pd.DataFrame,
                     columns: Sequence[Column], category: pd.Series,
                     levels: Sequence[str], method: str) -> None:
    """Subjects by their highest category per term (category codes rank the levels)."""
    _add_denominators(ard, analysis, columns)
    terms = _all_terms(ae)
    frame = ae.assign(_rank=category.to_numpy())
    keyed = _term_key(frame)
    for col in columns:
        events = _events_in(keyed, col)
        worst = events.groupby(["term", "USUBJID"])["_rank"].max().reset_index()
        table = (worst.groupby(["term", "_rank"]).size().unstack(fill_value=0)
                 .reindex(index=terms, columns=range(len(levels)), fill_value=0))
        for term in terms:
            keys = {"parameter": term, "group": col.group, "analysis_set": col.analysis_set,
                    "method": method}
            for code, level in enumerate(levels):
                n = int(table.loc[term, code])
                ard.add(analysis, f"n_{level}", n, **keys)
                ard.add(analysis, f"pct_{level}", percent(n, len(col.subjects)), **keys)


def add_ae_severity(ard: ArdBuilder, ae: pd.DataFrame, columns: Sequence[Column]) -> None:
    """Subjects by maximum severity per term, class and overall (``Missing`` when no event
    of the subject there has a severity)."""
    rank = {MISSING: 0, **{sev: i + 1 for i, sev in enumerate(SEVERITIES)}}
    category = ae["AESEV"].fillna(MISSING).map(rank).fillna(0).astype(int)
    _category_counts(ard, "ae_severity", ae, columns, category,
                     [MISSING, *SEVERITIES], "count, maximum severity per subject")


def add_ae_relationship(ard: ArdBuilder, ae: pd.DataFrame, columns: Sequence[Column]) -> None:
    """Subjects by closest relationship per term: RELATED if any of its events there is
    related (``RELFL = "Y"``), NOT_RELATED otherwise."""
    category = (ae["RELFL"] == "Y").astype(int)  # 1 = related ranks above 0 = not
    _category_counts(ard, "ae_relationship", ae, columns, category,
                     ["NOT_RELATED", "RELATED"], "count, closest relationship per subject")


# ---------------------------------------------------------------------------------------
# periods: incidence per subject-week and the exact conditional test
# ---------------------------------------------------------------------------------------


def poisson_rate_comparison(events: int, exposure: float, ref_events: int,
                            ref_exposure: float, confidence: float = 0.95) -> dict[str, float]:
    """Compare two Poisson rates, events/exposure against a reference, exactly.

    Exact conditional test (Przyborowski & Wilenski 1940; the ``exact-cond`` method of
    statsmodels ``test_poisson_2indep``): given the total n = events + ref_events, under
    equal rates ``events ~ Binomial(n, exposure / (exposure + ref_exposure))``. Two-sided
    p is scipy's ``binomtest`` (sum of the probabilities no larger than the observed one;
    computed by ``distributions.binomtest_pvalue``). The rate ratio's interval is the
    Clopper-Pearson interval of the binomial proportion pi (found as scipy's
    ``proportion_ci(method="exact")`` finds it, ``distributions.binom_exact_ci``), turned
    into a ratio by ``pi / (1 - pi) * ref_exposure / exposure``.
    """
    n = int(events + ref_events)
    share = exposure / (exposure + ref_exposure)
    rate, ref_rate = events / exposure, ref_events / ref_exposure
    out = {"rate": rate, "ref_rate": ref_rate,
           "rate_ratio": rate / ref_rate if ref_rate > 0 else math.nan,
           "n_events_total": float(n)}
    if n == 0:
        return out | {"p_value": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    from trialreport.stats import distributions as dist

    p_value = dist.binomtest_pvalue(int(events), n, share)
    ci_low, ci_high = dist.binom_exact_ci(int(events), n, confidence)
    odds = ref_exposure / exposure

    def to_ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * odds

    return out | {"p_value": p_value, "ci_low": to_ratio(ci_low),
                  "ci_high": to_ratio(ci_high)}


def add_ae_periods(ard: ArdBuilder, ae: pd.DataFrame, subjects: pd.DataFrame,
                   exposure: pd.DataFrame, periods: Sequence[Period],
                   confidence: float = 0.95) -> None:
    """Per period: subjects exposed (N), subjects with an event starting in the period
    (n, %), events, exposure in subject-weeks (exposure days / 7, from the exposure records
    of the safety population), events per subject-week; then each later period against the
    first by ``poisson_rate_comparison`` on events per subject-week."""
    safe = set(subjects.loc[subjects["SAFFL"] == "Y", "USUBJID"].astype(object))
    ex = derive_exposure_days(exposure[member_of(exposure["USUBJID"], safe)], periods)
    periods = [p.name for p in periods]
    weeks, counts = {}, {}
    for period in periods:
        in_period = ex[ex["APHASE"] == period]
        n_exposed = in_period["USUBJID"].nunique()
        days = float(in_period["EXDUR"].sum(min_count=1))
        events = ae[ae["APHASE"] == period]
        weeks[period], counts[period] = days / 7.0, len(events)
        keys = {"parameter": "TEAE", "group": period, "method": "count",
                "analysis_set": f"safety, exposed in period {period}"}
        _add_rate_rows(ard, "ae_periods", keys, n_exposed, events, days)
    ref = periods[0] if periods else None
    for period in periods[1:]:
        if weeks[period] and weeks[ref]:
            _add_rate_ratio(ard, "ae_periods", period, ref, counts, weeks, confidence)


def add_ae_rates(ard: ArdBuilder, ae: pd.DataFrame, subjects: pd.DataFrame,
                 exposure: pd.DataFrame, periods: Sequence[Period], arms: Sequence[str],
                 reference: str, confidence: float = 0.95) -> None:
    """Per arm (analysis ``ae_rates``), for a trial whose AE columns are arms: subjects of
    the safety population in the arm (N), subjects with a TEAE (n, %), events, exposure in
    subject-weeks (exposure days / 7 over the arm's exposure records) and events per
    subject-week; then each other arm against ``reference`` by ``poisson_rate_comparison``
    (group ``"<arm> vs <reference>"``). Every TEAE of the arm's subjects counts, whatever
    its period: the arms, not periods, are compared. An arm with a dosing record whose end
    is not known (an open record the data cannot close) has no known exposure time: its
    subject-weeks and rate are not collected (value empty, method ``not collected: ...``)
    and it is not compared, rather than a rate over the days that are known."""
    safe = subjects[subjects["SAFFL"] == "Y"]
    ex = derive_exposure_days(exposure, periods)
    weeks, counts = {}, {}
    for arm in arms:
        ids = set(safe.loc[safe["TRT01P"] == arm, "USUBJID"].astype(object))
        durations = ex.loc[member_of(ex["USUBJID"], ids), "EXDUR"]
        known = bool(len(durations)) and bool(durations.notna().all())
        days = float(durations.sum()) if known else math.nan
        events = ae[member_of(ae["USUBJID"], ids)]
        weeks[arm], counts[arm] = days / 7.0, len(events)
        keys = {"parameter": "TEAE", "group": arm, "method": "count", "analysis_set": "safety"}
        unknown = (f"{NOT_COLLECTED}: a dosing record of the arm has no end day (EXENDY) the "
                   "data can close") if len(durations) and not known else None
        _add_rate_rows(ard, "ae_rates", keys, len(ids), events, days, unknown)
    if reference not in weeks:
        return
    for arm in arms:
        # no exposure time (or none known: open records, no last day): no comparison
        if arm != reference and weeks[arm] > 0 and weeks[reference] > 0:
            _add_rate_ratio(ard, "ae_rates", arm, reference, counts, weeks, confidence)


def _add_rate_rows(ard: ArdBuilder, analysis: str, keys: Mapping[str, str], n: int,
                   events: pd.DataFrame, days: float, unknown: str | None = None) -> None:
    """A column's rate rows: N, subjects with an event (n, %), events, exposure days,
    subject-weeks and events per subject-week; ``unknown``, where given, is the method of
    the exposure rows (not collected, and why)."""
    with_event = events["USUBJID"].nunique()
    weeks = days / 7.0
    ard.add(analysis, "N", n, **keys)
    ard.add(analysis, "n_subjects", with_event, **keys)
    ard.add(analysis, "pct_subjects", percent(with_event, n), **keys)
    ard.add(analysis, "n_events", len(events), **keys)
    exposure_keys = {**keys, "method": unknown} if unknown else keys
    ard.add(analysis, "exposure_days", days, **exposure_keys)
    ard.add(analysis, "subject_weeks", weeks, **exposure_keys)
    ard.add(analysis, "events_per_subject_week", len(events) / weeks if weeks else math.nan,
            **exposure_keys)


def _add_rate_ratio(ard: ArdBuilder, analysis: str, group: str, reference: str,
                    counts: Mapping[str, int], weeks: Mapping[str, float],
                    confidence: float) -> None:
    """``group`` against ``reference`` by ``poisson_rate_comparison`` on events per
    subject-week (group ``"<group> vs <reference>"``)."""
    result = poisson_rate_comparison(counts[group], weeks[group], counts[reference],
                                     weeks[reference], confidence)
    keys = {"parameter": "TEAE", "group": f"{group} vs {reference}", "method": PERIOD_TEST,
            "analysis_set": "safety, events per subject-week"}
    for stat in ("rate_ratio", "ci_low", "ci_high", "p_value", "n_events_total"):
        ard.add(analysis, stat, result[stat], **keys)


# ---------------------------------------------------------------------------------------
# the safety part of the ARD
# ---------------------------------------------------------------------------------------


def build_safety_ard(trial_id: str, trial: Trial | Mapping[str, Any], subjects: pd.DataFrame,
                     adverse_events: pd.DataFrame | None, exposure: pd.DataFrame | None,
                     efficacy: pd.DataFrame | None = None) -> pd.DataFrame:
    """ARD rows of the safety, demographic, disposition and exposure tables, in a fixed
    order (analysis by analysis, as computed), to be appended to the efficacy ARD. A trial
    that delivers no exposure data has no exposure analysis (and no Treated row); one that
    delivers no adverse events has no adverse-event analyses."""
    from trialreport.analyse.ard import ARD_COLUMNS, ArdBuilder, arm_order

    cfg = as_trial(trial, trial_id)
    arms = arm_order(subjects, cfg)
    design = cfg.design
    if not cfg.has("exposure"):
        exposure = None
    if not cfg.has("adverse_events"):
        adverse_events = None
    single_arm = len(arms) == 1
    ard = ArdBuilder(trial_id, arms)
    add_baseline(ard, subjects, efficacy, design.covariates, arms,
                 cfg.tables.demographics_population, cfg.tables.order)
    add_disposition(ard, subjects, exposure, arms)
    if exposure is not None:
        add_dose_exposure(ard, subjects, exposure, design.dose_levels or (), design.periods,
                          arms)
    if adverse_events is not None:
        ex = exposure if exposure is not None else pd.DataFrame(
            columns=["USUBJID", "APHASE", "EXDOSE", "EXSTDY", "EXENDY"])
        columns = safety_columns(subjects, ex, design.period_names,
                                 by_period=single_arm and len(design.periods) > 1, arms=arms)
        ae = teae_frame(adverse_events, exposure, subjects)
        add_ae_overview(ard, ae, columns, is_collected(adverse_events, "AEACN"))
        add_no_period(ard, ae, columns)
        add_not_emergent(ard, teae_frame(adverse_events, exposure, subjects, emergent=False),
                         columns)
        add_ae_soc_pt(ard, ae, columns)
        add_ae_severity(ard, ae, columns)
        add_ae_relationship(ard, ae, columns)
        if exposure is not None and single_arm and len(design.periods) > 1:
            add_ae_periods(ard, ae, subjects, exposure, design.periods,
                           cfg.analyses.confidence)
        elif exposure is not None:  # no periods to compare: the arms, each on its own
            from trialreport.common.plan import reference_arm

            add_ae_rates(ard, ae, subjects, exposure, design.periods, arms,
                         reference_arm(cfg.analyses, list(arms)), cfg.analyses.confidence)
    return pd.DataFrame(ard.rows, columns=ARD_COLUMNS)
