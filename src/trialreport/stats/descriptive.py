"""Descriptive statistics of a sample, as the by-visit tables show them."""

from __future__ import annotations

import math

import numpy as np

from trialreport.stats import distributions as dist


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
    half = (dist.t_ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
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
