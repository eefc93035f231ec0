"""The cells of the display tables: numbers formatted as a CSR prints them (``fmt_int``,
``fmt_n_pct``, ``fmt_num``) and ``Ard``, the rows of one analysis looked up by parameter,
group and statistic. ``trialreport.tables.display`` builds the tables from these."""

from __future__ import annotations

import math

import pandas as pd

from trialreport.analyse.ard import ALL_PERIODS, NOT_COLLECTED, TOTAL
from trialreport.common.formatting import format_value, round_half_up


def fmt_int(value: float) -> str:
    return "" if value is None or math.isnan(value) else format_value(round(value))


def fmt_n_pct(n: float, pct: float) -> str:
    """``n (pct)`` with the percentage rounded half up to one decimal; ``0`` alone."""
    if n == 0:
        return "0"
    return f"{fmt_int(n)} ({round_half_up(pct, 1)})"


def fmt_num(value: float, decimals: int) -> str:
    """``value`` rounded half up; empty when missing; an unbounded limit (an exact interval
    of a rate ratio whose reference has no event) as the infinity sign."""
    if value is None or math.isnan(value):
        return ""
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return round_half_up(value, decimals)


class Ard:
    """The rows of one analysis, looked up by (parameter, group, statistic). Its groups and
    their denominators are found once (a table asks for them in every row)."""

    def __init__(self, ard: pd.DataFrame, analysis: str):
        rows = ard[ard["analysis"] == analysis]
        if rows.empty:
            raise KeyError(f"the analysis-results table has no {analysis!r} rows")
        self.rows = rows
        self.values = {(p, g, s): v for p, g, s, v in
                       zip(rows["parameter"], rows["group"], rows["statistic"], rows["value"],
                           strict=True)}
        self.not_collected = {(p, g) for p, g, m in zip(rows["parameter"], rows["group"],
                                                        rows["method"], strict=True)
                              if str(m).startswith(NOT_COLLECTED)}
        """(parameter, group) the trial does not deliver the data for: shown as such."""
        n_rows = rows[rows["statistic"] == "N"]
        self._denominators: dict[str, float] = {}
        for group, value in zip(n_rows["group"], n_rows["value"], strict=True):
            self._denominators.setdefault(group, float(value))
        groups = list(self._denominators)
        arms = [g for g, s in zip(n_rows["group"], n_rows["analysis_set"], strict=True)
                if g not in (TOTAL, ALL_PERIODS)
                and not s.startswith("safety, exposed in period")]
        if len(set(arms)) == 1 and TOTAL in groups:
            groups.remove(TOTAL)
        self._groups = groups

    def get(self, parameter: str, group: str, statistic: str) -> float:
        return float(self.values.get((parameter, group, statistic), math.nan))

    def has(self, parameter: str, group: str, statistic: str) -> bool:
        return (parameter, group, statistic) in self.values

    def groups(self) -> list[str]:
        """Groups that have a denominator row (N), in ARD order, without a redundant Total."""
        return list(self._groups)

    def denominator(self, group: str) -> float:
        """The group's N (its first N row); IndexError for a group without one."""
        if group not in self._denominators:
            raise IndexError(f"no N row of group {group!r}")
        return self._denominators[group]

    def parameters(self) -> list[str]:
        return list(dict.fromkeys(p for p in self.rows["parameter"] if p))
