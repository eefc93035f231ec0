"""The reproduce stage's floor: targets rounded half up, and GRIM."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------
# reproduce: the published targets against ard.csv
# ---------------------------------------------------------------------------------------


def half_up(value: float, decimals: int) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals),
                                                    rounding=ROUND_HALF_UP))


def _decimals(text: str) -> int:
    return len(text.strip().split(".", 1)[1]) if "." in text else 0


def _grim(published: str, max_n: int) -> str:
    """The n in 1..max_n at which some whole-number total / n rounds half up to
    ``published``: totals floor(published * n) - 1 .. + 2, rounded exactly in integers."""
    from decimal import Decimal

    d = _decimals(published)
    target = int(Decimal(published.strip()).scaleb(d))
    n = np.arange(1, max_n + 1, dtype=np.int64)
    centre = np.floor(float(published) * n).astype(np.int64)
    hit = np.zeros(max_n, dtype=bool)
    for k in (-1, 0, 1, 2):
        q = (centre + k) * 10**d
        hit |= np.sign(q) * ((2 * np.abs(q) + n) // (2 * n)) == target
    return " ".join(map(str, (np.flatnonzero(hit) + 1).tolist()))


def reproduce_floor(ard_path: Any, trial: dict[str, Any]) -> pd.DataFrame:
    """id, reproduced, status, n, grim_sizes of each reproduction target of the reference
    trial's kinds (enrolled, age range, highest dose, a mean by visit with GRIM, a paired
    t-test's P as a bound, AE incidence between periods in words), from ard.csv."""
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    at = {k: g for k, g in ard.groupby("analysis", sort=False)}
    params = trial["design"]["parameters"]
    n_total = int(at["enrolment"].query("statistic == 'n_subjects'")["value"].sum())
    out = []
    for t in trial["reproduction"]["targets"]:
        stat, published = t["statistic"], str(t["published"]).strip()
        row = {"id": t["id"], "n": "", "grim_sizes": "", "grim_consistent": ""}
        if stat == "n_subjects":
            value = n_total
        elif stat == "age_range":
            age = at["baseline"].query("parameter == 'AGE' and group == 'Total'")
            lo, hi = age.loc[age["statistic"] == "min", "value"].min(), \
                age.loc[age["statistic"] == "max", "value"].max()
            text = f"{lo:g}-{hi:g}"
            out.append(row | {"reproduced": text, "status": "match" if text == published
                              else "mismatch"})
            continue
        elif stat == "max_dose":
            value = at["dose_exposure"].query(
                "parameter == 'MAXDOSE' and group == 'Total' and statistic == 'max'")["value"]
            value = float(value.iloc[0])
        elif stat == "mean":
            p = params[t["parameter"]]
            visitn = p["baseline_visit" if t["visit"] == "baseline" else "comparison_visit"]
            rows = at["by_visit"][(at["by_visit"]["parameter"] == t["parameter"])
                                  & (at["by_visit"]["visitn"] == visitn)]
            stats = dict(zip(rows["statistic"], rows["value"], strict=True))
            value, row["n"] = stats["mean"], int(stats["n"])
            row["grim_sizes"] = _grim(published, n_total)
            row["grim_consistent"] = "yes" if str(row["n"]) in row["grim_sizes"].split() \
                else "no"
        elif stat == "p_value":
            paired = at["paired"][at["paired"]["parameter"] == t["parameter"]]
            value = float(paired[paired["method"].str.startswith(t.get("method", "paired_ttest"))
                                 & (paired["statistic"] == "p_value")]["value"].iloc[0])
            row["n"] = int(paired.loc[paired["statistic"] == "n_pairs", "value"].iloc[0])
            op, bound = published.split()[-2:]
            ok = value < float(bound) if op == "<" else value > float(bound)
            text = published if ok else f"P = {half_up(value, max(_decimals(bound), 3))}"
            out.append(row | {"reproduced": text, "status": "match" if ok else "mismatch"})
            continue
        elif stat == "ae_incidence_periods":
            periods = at["ae_periods"]
            test = periods[periods["statistic"] == "p_value"].iloc[0]
            ratio = periods[(periods["statistic"] == "rate_ratio")
                            & (periods["group"] == test["group"])]["value"].iloc[0]
            p = test["value"]
            found = "no difference" if p >= t.get("alpha", 0.05) else "difference"
            shown = "P < 0.001" if p < 0.001 else f"P = {half_up(p, 3)}"
            out.append(row | {"reproduced": f"{found} ({test['group']}: {shown}, rate ratio "
                                            f"{half_up(ratio, 2)})",
                              "status": "match" if found == published else "mismatch"})
            continue
        else:
            raise ValueError(f"target statistic {stat!r} is not in the floor")
        text = half_up(value, _decimals(published))
        out.append(row | {"reproduced": text,
                          "status": "match" if text == published else "mismatch"})
    return pd.DataFrame(out)
