"""The analysis-results table (ARD): every number the report shows, one row per
number, and the names it uses.

Columns (``ARD_COLUMNS``): trial, analysis, analysis_set, method, parameter, visit, visitn,
group, statistic, value. Tables and figures are built from this table only; none computes
numbers of its own. ``ArdBuilder`` collects rows; ``format_ard`` writes values as
deterministic text; ``read_ard`` reads ``ard.csv`` back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.common.config import (
    Trial,
)
from trialreport.common.formatting import format_value
from trialreport.common.frames import ordered_arms

ARD_COLUMNS = [
    "trial", "analysis", "analysis_set", "method", "parameter", "visit", "visitn", "group",
    "statistic", "value",
]
ANALYSIS_ORDER = ["enrolment", "by_visit", "paired", "one_sample", "paired_locf",
                  "responders", "responders_paired", "subgroup", "ancova",
                  "responders_between_arms", "model", "mmrm", "plan"]


class ArdBuilder:
    """Collects ARD rows for one trial. ``arms`` in protocol order: rows are sorted by
    analysis, parameter, visit, then group with the arms in that order (a group
    ``"<arm>; ..."`` or ``"<arm> vs ..."`` goes with its arm), then by name."""

    def __init__(self, trial: str, arms: Sequence[str] = ()):
        self.trial = trial
        self.arms = list(arms)
        self.rows: list[dict[str, Any]] = []

    def add(self, analysis: str, statistic: str, value: float, *, analysis_set: str = "",
            method: str = "", parameter: str = "", visit: str = "", visitn: float = math.nan,
            group: str = "") -> None:
        self.rows.append({
            "trial": self.trial, "analysis": analysis, "analysis_set": analysis_set,
            "method": method, "parameter": parameter, "visit": visit, "visitn": visitn,
            "group": group, "statistic": statistic, "value": float(value),
        })

    def add_many(self, analysis: str, values: Mapping[str, float], prefix: str = "",
                 **keys: Any) -> None:
        for statistic, value in values.items():
            self.add(analysis, prefix + statistic, value, **keys)

    def frame(self) -> pd.DataFrame:
        ard = pd.DataFrame(self.rows, columns=ARD_COLUMNS)
        ard["_order"] = ard["analysis"].map({a: i for i, a in enumerate(ANALYSIS_ORDER)})
        rank = {arm: i for i, arm in enumerate(self.arms)}
        ard["_arm"] = [rank.get(g.split("; ", 1)[0].split(" vs ", 1)[0], len(rank))
                       for g in ard["group"]]
        ard = ard.sort_values(["_order", "parameter", "visitn", "_arm", "group"],
                              kind="stable", na_position="first")
        return ard.drop(columns=["_order", "_arm"]).reset_index(drop=True)


def format_ard(ard: pd.DataFrame) -> pd.DataFrame:
    out = ard.copy()
    out["value"] = out["value"].map(format_value)
    out["visitn"] = out["visitn"].map(format_value)
    return out


def arm_order(subjects: pd.DataFrame, cfg: Trial) -> list[str]:
    """The trial's arms in protocol order (``frames.ordered_arms``): TRT01PN, else the
    config's ``design.arms``, else by name; the reference arm
    (``analyses.parallel.reference_arm``, else an arm named Placebo) first."""
    named = set(subjects["TRT01P"].dropna().astype(str))
    reference = cfg.analyses.parallel.reference_arm or ("Placebo" if "Placebo" in named
                                                        else None)
    return ordered_arms(subjects, cfg.design.arms, reference)


def is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True

TOTAL = "Total"
ALL_PERIODS = "All periods"
"""Group of the column over every period, in a single-arm trial with periods (AE tables)."""
NO_PERIOD = "NO_PERIOD"
"""Overview row: events with no period (``APHASE`` empty), counted in All periods only."""
ANY = "ANY"
TERM_SEP = " / "  # parameter of a preferred-term row: "<system organ class> / <preferred term>"
MISSING = "Missing"
NOT_COLLECTED = "not collected"
"""Marker of a value the trial does not deliver the data for: its ``value`` is empty and
its ``method`` reads ``"not collected: <COLUMN> ..."``, naming the column that would give
it (e.g. the disposition without EOSSTAT, the AE overview's discontinuation row without
AEACN). Never 0."""


def is_collected(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``frame`` delivers ``column``: present, with a value (not empty or blank)
    in at least one row."""
    if column not in frame.columns:
        return False
    text = frame[column].astype("string").str.strip()
    return bool((text.notna() & (text != "")).any())


def not_collected(column: str, dataset: str) -> str:
    """The ``method`` of a row the data cannot give: ``NOT_COLLECTED`` and the column."""
    return f"{NOT_COLLECTED}: no {column} in the {dataset} data"
SUMMARY_STATS = ("n", "mean", "sd", "median", "min", "max")


def arms_of(subjects: pd.DataFrame) -> list[str]:
    """Arms by TRT01PN where the subjects have it, else by name (``frames.ordered_arms``);
    ``build_safety_ard`` passes the trial's own order (reference arm first) instead."""
    return ordered_arms(subjects)


def percent(n: float, denominator: float) -> float:
    return 100.0 * n / denominator if denominator else math.nan



def read_ard(path: str | Path) -> pd.DataFrame:
    ard = pd.read_csv(path, dtype={"value": float, "visitn": float}, keep_default_na=False,
                      na_values={"value": [""], "visitn": [""]})
    return ard
