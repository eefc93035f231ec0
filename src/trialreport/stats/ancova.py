"""ANCOVA of the change from baseline: LS means per arm and their differences."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trialreport.stats import distributions as dist

# ---------------------------------------------------------------------------------------
# Parallel-group comparisons
# ---------------------------------------------------------------------------------------


def ancova_change(data: Any, reference: str, strata: list[str] | tuple[str, ...] = (),
                  confidence: float = 0.95) -> dict[str, Any]:
    """Between-arm comparison of change from baseline by ANCOVA (analysis of covariance):
    ordinary least squares ``CHG ~ ARM + BASE (+ stratum ...)`` via statsmodels ``OLS``,
    arms and strata as indicator (treatment) coding with ``reference`` as the reference arm
    and each factor's first level (sorted) as its reference. Rows with a missing CHG, BASE,
    ARM or stratum are dropped (observed case).

    - LS mean of each arm: the model's prediction at the mean baseline of the analysed
      rows, averaged with equal weight over the levels of each stratification factor
      (the SAS LSMEANS / R emmeans default), x'b, with SE sqrt(x' V x) and t-based CI;
    - difference of each arm from the reference (its arm coefficient), CI and t-test p on
      the residual df = n - number of coefficients.

    ``data`` needs columns ARM, CHG, BASE and the strata.
    """
    import pandas as pd
    import statsmodels.api as sm

    frame = pd.DataFrame(data)[["ARM", "CHG", "BASE", *strata]].dropna().copy()
    frame["ARM"] = frame["ARM"].astype(str)
    arms = sorted(frame["ARM"].unique())
    if reference not in arms or len(arms) < 2:
        raise ValueError("ANCOVA needs the reference arm and at least one other arm")
    others = [a for a in arms if a != reference]
    columns: dict[str, np.ndarray] = {"const": np.ones(len(frame))}
    for a in others:
        columns[f"ARM[{a}]"] = (frame["ARM"] == a).to_numpy(float)
    columns["BASE"] = frame["BASE"].to_numpy(float)
    strata_levels = {}
    for s_ in strata:
        levels = sorted(frame[s_].astype(str).unique())
        strata_levels[s_] = levels
        for level in levels[1:]:
            columns[f"{s_}[{level}]"] = (frame[s_].astype(str) == level).to_numpy(float)
    exog = pd.DataFrame(columns, index=frame.index)
    fit = sm.OLS(frame["CHG"].to_numpy(float), exog).fit()
    df_resid = float(fit.df_resid)
    tcrit = dist.t_ppf(0.5 + confidence / 2, df_resid)
    mean_base = float(frame["BASE"].mean())
    params, cov = fit.params.to_numpy(), fit.cov_params().to_numpy()
    out: dict[str, Any] = {"n": float(len(frame)), "df_resid": df_resid,
                           "mean_baseline": mean_base,
                           "baseline_slope": float(fit.params["BASE"]), "arms": {}}
    for arm in arms:
        x = pd.Series(0.0, index=exog.columns)
        x["const"] = 1.0
        if arm != reference:
            x[f"ARM[{arm}]"] = 1.0
        x["BASE"] = mean_base
        for s_, levels in strata_levels.items():
            for level in levels[1:]:
                x[f"{s_}[{level}]"] = 1.0 / len(levels)
        xv = x.to_numpy()
        est, se = float(xv @ params), float(math.sqrt(xv @ cov @ xv))
        entry = {"n": float((frame["ARM"] == arm).sum()), "lsmean": est, "se": se,
                 "ci_low": est - tcrit * se, "ci_high": est + tcrit * se}
        if arm != reference:
            name = f"ARM[{arm}]"
            diff, dse = float(fit.params[name]), float(fit.bse[name])
            entry |= {"diff": diff, "diff_se": dse, "diff_ci_low": diff - tcrit * dse,
                      "diff_ci_high": diff + tcrit * dse, "t": float(fit.tvalues[name]),
                      "p_value": float(fit.pvalues[name])}
        out["arms"][arm] = entry
    return out
