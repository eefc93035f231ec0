"""The dataset-level rules of the data contracts: checks across rows and
columns that a column's type and allowed values cannot express (a visit's name matches its
number, a study day lies in the visit's window, intervals do not overlap, ...). A contract
names the rules that apply to its dataset; ``schemas/README.md`` describes each. Every rule
returns a mask of failing rows and explains each failure in words."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Parameter
from trialreport.common.frames import member_of
from trialreport.ingest.source import ROW_COLUMN

if TYPE_CHECKING:  # pandera is imported where a frame is validated: ingest needs the
    pass  # contracts' columns, not pandera's 1-2 s of imports

if TYPE_CHECKING:
    from trialreport.validate.domain import Domain


# ---------------------------------------------------------------------------------------
# Dataset-level rules: each returns a boolean Series, True where the row passes. A rule
# whose columns are absent passes (absence of a required column is reported on its own).
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    columns: tuple[str, ...]
    description: str
    check: Callable[[pd.DataFrame, Domain], pd.Series]
    explain: Callable[[pd.Series, Domain], str] | None = None
    """What the config expects for one failing (typed) row, e.g. "CGII: 1 to 7"."""
    explain_in: Callable[[pd.DataFrame, Any, Domain], str] | None = None
    """The same for a rule about several rows: the (typed) frame and the failing row's index,
    e.g. to name the other rows involved."""


def _lookup(values: pd.Series, mapping: Mapping[Any, Any]) -> pd.Series:
    """``values.map(mapping)``, looked up once per distinct value: a column of visits,
    parameters or periods repeats a few values many times, and ``map`` of an Arrow-backed
    text column goes through Python value by value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return pd.Series(uniques).map(mapping).take(codes).set_axis(values.index)


def _visit_name_matches_number(df: pd.DataFrame, dom: Domain) -> pd.Series:
    expected = _lookup(df["AVISIT"], dom.visits)
    return expected.isna() | df["AVISITN"].isna() | (expected == df["AVISITN"])


def _param_bound(df: pd.DataFrame, dom: Domain, key: str) -> pd.Series:
    return _lookup(df["PARAMCD"], {k: getattr(v, key) for k, v in dom.parameters.items()})


def _aval_within_parameter_range(df: pd.DataFrame, dom: Domain) -> pd.Series:
    lo = pd.to_numeric(_param_bound(df, dom, "min"), errors="coerce")
    hi = pd.to_numeric(_param_bound(df, dom, "max"), errors="coerce")
    aval = df["AVAL"].astype("Float64")
    ok = (aval >= lo) & (aval <= hi)
    return (aval.isna() | lo.isna() | ok).fillna(True).astype(bool)


def _aval_integer_where_declared(df: pd.DataFrame, dom: Domain) -> pd.Series:
    integer = _param_bound(df, dom, "integer").fillna(False).astype(bool)
    aval = df["AVAL"].astype("Float64")
    whole = (aval.round(0) == aval).fillna(True).astype(bool)
    return ~integer | whole


def _ady_within_visit_window(df: pd.DataFrame, dom: Domain) -> pd.Series:
    planned = pd.to_numeric(_lookup(df["AVISIT"], dom.visit_days), errors="coerce")
    window = pd.to_numeric(_lookup(df["AVISIT"], dom.visit_windows), errors="coerce")
    day = df["ADY"].astype("Float64")
    ok = (day - planned).abs() <= window
    return (planned.isna() | window.isna() | day.isna() | ok).fillna(True).astype(bool)


def _discontinued_has_reason(df: pd.DataFrame, dom: Domain) -> pd.Series:
    return (df["EOSSTAT"] != "DISCONTINUED").fillna(True).astype(bool) | df["DCSREAS"].notna()


def _end_not_before(start: str, end: str) -> Callable[[pd.DataFrame, Domain], pd.Series]:
    def check(df: pd.DataFrame, dom: Domain) -> pd.Series:
        return (df[end].isna() | df[start].isna() | (df[end] >= df[start])).astype(bool)

    return check


def _onset_within_period(df: pd.DataFrame, dom: Domain) -> pd.Series:
    first = _lookup(df["APHASE"], {k: v[0] for k, v in dom.periods.items()})
    last = _lookup(df["APHASE"], {k: v[1] for k, v in dom.periods.items()})
    day = df["ASTDY"].astype("Float64")
    ok = (day >= first) & (day <= last)
    return (first.isna() | day.isna() | ok).fillna(True).astype(bool)


def _period_day(df: pd.DataFrame, dom: Domain, which: int) -> pd.Series:
    days = _lookup(df["APHASE"], {k: v[which] for k, v in dom.periods.items()})
    return pd.to_numeric(days, errors="coerce").astype("Float64")


def _interval_within_period(df: pd.DataFrame, dom: Domain) -> pd.Series:
    first, last = _period_day(df, dom, 0), _period_day(df, dom, 1)
    ok = pd.Series(True, index=df.index)
    for column in ("EXSTDY", "EXENDY"):
        day = df[column].astype("Float64")
        ok &= (day.isna() | first.isna() | ((day >= first) & (day <= last))).fillna(True)
    return ok.astype(bool)


def _valid_intervals(df: pd.DataFrame) -> pd.DataFrame:
    """Subject, start and end of the rows with a whole interval (end not before start)."""
    d = pd.DataFrame({"subject": df["USUBJID"], "start": df["EXSTDY"].astype("Float64"),
                      "end": df["EXENDY"].astype("Float64")}, index=df.index)
    whole = (d.notna().all(axis=1) & (d["end"] >= d["start"])).fillna(False).astype(bool)
    return d[whole]


def _no_overlapping_intervals(df: pd.DataFrame, dom: Domain) -> pd.Series:
    # Sorted by start within subject, a row overlaps an earlier one if it starts on or
    # before the latest end so far, and a later one if the next row starts on or before
    # its end; every row of an overlapping pair fails.
    d = _valid_intervals(df).sort_values(["subject", "start", "end"], kind="stable")
    by_subject = d.groupby("subject", sort=False)
    latest_end = by_subject["end"].cummax().groupby(d["subject"], sort=False).shift()
    next_start = by_subject["start"].shift(-1)
    overlap = ((d["start"] <= latest_end).fillna(False)
               | (d["end"] >= next_start).fillna(False)).astype(bool)
    return pd.Series(~df.index.isin(d.index[overlap]), index=df.index)


def _dose_allowed_in_period(df: pd.DataFrame, dom: Domain) -> pd.Series:
    # Checked only where the period lists its doses and the dose is a planned dose level at
    # all (an unplanned dose is an allowed_values failure already).
    if dom.dose_levels is None:  # no planned doses in the config: nothing to check against
        return pd.Series(True, index=df.index)
    phase, dose = df["APHASE"], df["EXDOSE"].astype("Float64")
    planned = [float(d) for d in dom.dose_levels]
    checked = (member_of(phase, list(dom.period_doses)).to_numpy()
               & dose.isin(planned).fillna(False).to_numpy(dtype=bool))
    allowed = np.zeros(len(df), dtype=bool)
    for period, doses in dom.period_doses.items():
        allowed |= ((phase == period).fillna(False).to_numpy(dtype=bool)
                    & dose.isin([float(d) for d in doses]).fillna(False).to_numpy(dtype=bool))
    return pd.Series(~checked | allowed, index=df.index, dtype=bool)


def _explain_parameter_range(row: pd.Series, dom: Domain) -> str:
    spec = dom.parameters.get(row["PARAMCD"])
    if spec is None:
        return f"{row['PARAMCD']} is not a parameter of the trial's config"
    return f"{row['PARAMCD']} ranges from {show_value(spec.min)} to {show_value(spec.max)}"


def _explain_integer(row: pd.Series, dom: Domain) -> str:
    return f"{row['PARAMCD']} is an integer scale"


def _explain_visit_number(row: pd.Series, dom: Domain) -> str:
    return f"{row['AVISIT']} is visit number {dom.visits.get(row['AVISIT'])}"


def _explain_window(row: pd.Series, dom: Domain) -> str:
    return (f"{row['AVISIT']} is planned on day {dom.visit_days.get(row['AVISIT'])} "
            f"+/- {dom.visit_windows.get(row['AVISIT'])}")


def _explain_period(row: pd.Series, dom: Domain) -> str:
    first, last = dom.periods.get(row["APHASE"], ("?", "?"))
    return f"{row['APHASE']} runs from day {first} to day {last}"


def _explain_overlap(df: pd.DataFrame, index: Any, dom: Domain) -> str:
    d = _valid_intervals(df)
    if index not in d.index:
        return ""
    row = d.loc[index]
    others = d[(d["subject"] == row["subject"]) & (d.index != index)
               & (d["start"] <= row["end"]) & (d["end"] >= row["start"])]
    shown = ", ".join(str(int(n)) for n in sorted(df.loc[others.index, ROW_COLUMN]))
    return (f"days {show_value(row['start'])} to {show_value(row['end'])} of {row['subject']} "
            f"overlap row(s) {shown}")


def _explain_period_doses(row: pd.Series, dom: Domain) -> str:
    doses = ", ".join(show_value(d) for d in dom.period_doses.get(row["APHASE"], []))
    return f"{row['APHASE']} allows dose(s) {doses}"


RULES: dict[str, Rule] = {
    "visit_name_matches_number": Rule(
        ("AVISIT", "AVISITN"), "the visit name and number agree with the trial's schedule",
        _visit_name_matches_number, _explain_visit_number),
    "aval_within_parameter_range": Rule(
        ("PARAMCD", "AVAL"), "AVAL lies within the parameter's [min, max] from the config",
        _aval_within_parameter_range, _explain_parameter_range),
    "aval_integer_where_declared": Rule(
        ("PARAMCD", "AVAL"), "AVAL is a whole number where the parameter is an integer scale",
        _aval_integer_where_declared, _explain_integer),
    "ady_within_visit_window": Rule(
        ("AVISIT", "ADY"), "the study day of the rating (ADY) lies within the visit's window "
        "(planned day +/- visit_window_days from the config)",
        _ady_within_visit_window, _explain_window),
    "discontinued_has_reason": Rule(
        ("EOSSTAT", "DCSREAS"), "a discontinued subject has a reason for discontinuation",
        _discontinued_has_reason),
    "end_not_before_onset": Rule(
        ("ASTDY", "AENDY"), "an event does not end before it starts",
        _end_not_before("ASTDY", "AENDY")),
    "onset_within_period": Rule(
        ("APHASE", "ASTDY"), "the onset day lies within the days of the period it is assigned to",
        _onset_within_period, _explain_period),
    "end_not_before_start": Rule(
        ("EXSTDY", "EXENDY"), "a dosing interval does not end before it starts",
        _end_not_before("EXSTDY", "EXENDY")),
    "interval_within_period": Rule(
        ("APHASE", "EXSTDY", "EXENDY"), "a dosing interval lies within the days of the period "
        "it is assigned to", _interval_within_period, _explain_period),
    "no_overlapping_intervals": Rule(
        ("USUBJID", "EXSTDY", "EXENDY"), "a subject's dosing intervals do not overlap",
        _no_overlapping_intervals, explain_in=_explain_overlap),
    "dose_allowed_in_period": Rule(
        ("APHASE", "EXDOSE"), "the dose is one the period allows (the period's dose_levels "
        "in the config)", _dose_allowed_in_period, _explain_period_doses),
}


def show_value(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------------------------------
# Cross-dataset rule: every subject with efficacy data has a baseline
# ---------------------------------------------------------------------------------------

BASELINE_RULE = "baseline_present"
CONFIG_RULES = ("type", "required_column", "not_null", "allowed_values", "range",
                "unique_key", "subject_in_subjects", BASELINE_RULE, "matches_subjects")
"""Rule ids that come from the contracts' columns and keys rather than from ``RULES``."""


def missing_baselines(scores: pd.DataFrame,
                      parameters: Mapping[str, Parameter | Mapping[str, Any]],
                      visit_names: Mapping[int, str] | None = None) -> pd.DataFrame:
    """Subjects with a post-baseline rating of an analysed parameter but no baseline rating.

    Only observed records count (derived records, with a DTYPE, are left out). A subject has
    a baseline when a record at the parameter's baseline visit has an AVAL, or when the
    data deliver BASE on a post-baseline record (ADaM carries BASE on every record, so a
    delivery without baseline records still has its baseline).

    One row per subject and parameter: USUBJID, PARAMCD, the baseline visit number, the row
    to point the user at (the baseline row with an empty AVAL if there is one, else the
    subject's first post-baseline row of that parameter), the value shown and the reason.
    """
    columns = ["USUBJID", "PARAMCD", "baseline_visit", "row", "value", "reason"]
    needed = {"USUBJID", "PARAMCD", "AVISITN", "AVAL", ROW_COLUMN}
    if not needed <= set(scores.columns):
        return pd.DataFrame(columns=columns)
    visit_names = visit_names or {}
    parameters = {code: p if isinstance(p, Parameter) else Parameter(
        code, code, code, p.get("min", -math.inf), p.get("max", math.inf),
        bool(p.get("integer", False)), p.get("baseline_visit"),
        int(p.get("comparison_visit", p.get("baseline_visit") or 0)))
        for code, p in parameters.items()}
    if "DTYPE" in scores.columns:
        scores = scores[scores["DTYPE"].isna()]
    out = []
    for code, spec in parameters.items():
        base_n = spec.baseline_visit
        if base_n is None:
            continue  # a rating of change has no baseline to miss
        rows = scores[scores["PARAMCD"] == code]
        with_base = set(rows.loc[(rows["AVISITN"] == base_n) & rows["AVAL"].notna(), "USUBJID"])
        if "BASE" in rows.columns:
            with_base |= set(rows.loc[rows["BASE"].notna(), "USUBJID"])
        post = rows[(rows["AVISITN"] > base_n) & rows["AVAL"].notna()]
        post = post[~member_of(post["USUBJID"], with_base).to_numpy()]
        for subject, group in post.groupby("USUBJID", sort=True):
            at_base = rows[(rows["USUBJID"] == subject) & (rows["AVISITN"] == base_n)]
            visit = visit_names.get(base_n, f"AVISITN {base_n}")
            if len(at_base):
                row = int(at_base[ROW_COLUMN].iloc[0])
                value = f"USUBJID={subject}; PARAMCD={code}; AVISITN={base_n}; AVAL="
                reason = f"the baseline rating ({visit}) is empty"
            else:
                row = int(group.sort_values("AVISITN")[ROW_COLUMN].iloc[0])
                value = f"USUBJID={subject}; PARAMCD={code}; no row at AVISITN={base_n}"
                reason = f"there is no baseline row ({visit})"
            reason += (f", but {len(group)} post-baseline rating(s) of {code} exist; no change "
                       "from baseline can be computed for this subject and parameter")
            out.append({"USUBJID": subject, "PARAMCD": code, "baseline_visit": base_n,
                        "row": row, "value": value, "reason": reason})
    return pd.DataFrame(out, columns=columns)
