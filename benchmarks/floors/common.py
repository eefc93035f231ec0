"""What every floor shares: the ARD's key columns, a row collector, and matching a
floor's rows with the stage's ARD rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

KEY = ["analysis", "method", "parameter", "visitn", "group", "statistic"]
SKIPPED = "small-sample variant (not in the floor)"


class Rows:
    """Collects (key..., value) rows."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, analysis: str, method: str, parameter: str, visitn: float, group: str,
            values: dict[str, float]) -> None:
        for statistic, value in values.items():
            self.rows.append((analysis, method, parameter, visitn, group, statistic,
                              float(value)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=[*KEY, "value"])


def isin(values: pd.Series, members: Any) -> np.ndarray:
    """``values.isin(members)``, looked up once per distinct value (text columns are
    Arrow-backed, whose ``isin`` is slow; their factorisation is fast)."""
    codes, uniques = pd.factorize(values)
    hit = pd.Index(np.asarray(uniques, dtype=object), dtype=object).isin(list(members))
    return np.append(hit, False)[codes]  # code -1 (missing) is never a member


def match_ard(floor: pd.DataFrame, ard: pd.DataFrame, rtol: float = 0.0) -> pd.DataFrame:
    """Every ARD row against the floor's row with the same key: a frame of the rows that
    differ (value beyond ``rtol``, or missing on one side), empty when they agree."""
    a = ard.assign(visitn=ard["visitn"].astype(float))[[*KEY, "value"]]
    a = a.assign(method=a["method"].where(a["statistic"] != "N", "count"))
    f = floor.assign(method=floor["method"].where(floor["statistic"] != "N", "count"))
    for frame in (a, f):
        frame["visitn"] = frame["visitn"].fillna(-1.0)
    both = a.merge(f, on=KEY, how="outer", suffixes=("_stage", "_floor"), indicator=True)
    x, y = both["value_stage"].to_numpy(float), both["value_floor"].to_numpy(float)
    same = (np.isclose(x, y, rtol=rtol, atol=0) | (np.isnan(x) & np.isnan(y))
            | (np.isinf(x) & (x == y)))
    return both[~same | (both["_merge"] != "both")]


PLAN_STATISTICS = {"p_value", "alpha", "p_adjusted", "alpha_local", "tested", "rejected"}


def without_plan_rows(diff: pd.DataFrame) -> pd.DataFrame:
    """``diff`` (of ``match_ard``) without the analysis plan's rows on the stage's side: they
    repeat P values that are compared elsewhere (the paired tests) and pass them through the
    plan's multiplicity procedure, which costs nothing at any size, so the floor leaves them
    out. Any other statistic of the plan on one side alone stays in the difference."""
    plan = ((diff["_merge"] == "left_only") & (diff["analysis"] == "plan")
            & diff["statistic"].isin(PLAN_STATISTICS))
    return diff[~plan]
