"""Statistical methods. Each function says what it computes, which variant, and its source.

Results are plain dicts of named numbers; ``trialreport.analysis`` turns them into rows of
the analysis-results table. Every method here has a test against an independent computation
(a second library, a hand-worked example or a published reference output).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pingouin as pg
from scipy import stats as sps

ALTERNATIVES = ("two-sided", "greater", "less")


def describe(values: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Descriptive statistics of the non-missing values.

    n; mean; SD with n - 1 in the denominator; median and quartiles Q1, Q3 by linear
    interpolation between order statistics (Hyndman & Fan type 7, the default of R and
    NumPy); min; max; and the two-sided t-based confidence interval of the mean,
    mean +/- t(1 - alpha/2, n - 1) * SD / sqrt(n). Statistics that need more values than
    there are (SD and CI with n < 2) are NaN.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    out: dict[str, float] = {"n": float(n)}
    if n == 0:
        return out | dict.fromkeys(
            ["mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high"], math.nan)
    mean = float(x.mean())
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    half = (float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
            if n > 1 else math.nan)
    q1, median, q3 = (float(v) for v in np.quantile(x, [0.25, 0.5, 0.75]))
    return out | {
        "mean": mean,
        "sd": sd,
        "median": median,
        "q1": q1,
        "q3": q3,
        "min": float(x.min()),
        "max": float(x.max()),
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def wilcoxon_method(differences: np.ndarray) -> str:
    """The Wilcoxon variant used: exact when there are at most 50 non-zero differences and
    no ties among their absolute values; otherwise the normal approximation with tie and
    continuity corrections (zero differences dropped, Wilcoxon's method)."""
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    has_ties = np.unique(np.abs(d)).size < d.size
    return "exact" if (d.size <= 50 and not has_ties) else "normal approximation"


def paired_comparison(
    baseline: np.ndarray,
    comparison: np.ndarray,
    confidence: float = 0.95,
    alternative: str = "two-sided",
) -> dict[str, Any]:
    """Compare a comparison visit with baseline on complete pairs.

    Pairs with a missing value at either visit are dropped (observed case). The change is
    comparison - baseline. Computed:

    - n of pairs, mean and SD at each visit (among the pairs);
    - mean change with its two-sided t-based confidence interval (``describe`` of the
      changes; the same interval as R's ``t.test(..., paired = TRUE)``);
    - paired t-test (Student, 1908) via ``pingouin.ttest(paired=True)``: t, df = n - 1, p
      (pingouin rounds its own CI to two decimals, so the CI is taken from ``describe``);
    - Wilcoxon signed-rank test via ``pingouin.wilcoxon`` (scipy underneath), with the
      variant chosen by ``wilcoxon_method``: W is the smaller of the signed-rank sums for a
      two-sided test, p as scipy computes it.

    ``alternative`` refers to the change: ``"less"`` tests that the comparison visit is lower.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(comparison, dtype=float)
    keep = ~(np.isnan(b) | np.isnan(c))
    b, c = b[keep], c[keep]
    n = int(b.size)
    change = c - b
    out: dict[str, Any] = {
        "n_pairs": n,
        "n_excluded": int((~keep).sum()),
        "baseline": describe(b, confidence),
        "comparison": describe(c, confidence),
        "change": describe(change, confidence),
    }
    if n < 2:
        return out
    tt = pg.ttest(c, b, paired=True, alternative=alternative, confidence=confidence)
    out["ttest"] = {
        "t": float(tt["T"].iloc[0]),
        "df": float(tt["dof"].iloc[0]),
        "p_value": float(tt["p_val"].iloc[0]),
    }
    method = wilcoxon_method(change)
    if np.any(change != 0):
        kwargs = ({"method": "exact", "correction": False} if method == "exact"
                  else {"method": "asymptotic", "correction": True})
        wx = pg.wilcoxon(c, b, alternative=alternative, **kwargs)
        out["wilcoxon"] = {
            "W": float(wx["W_val"].iloc[0]),
            "p_value": float(wx["p_val"].iloc[0]),
            "method": method,
            "n_nonzero": int(np.count_nonzero(change)),
        }
    return out
