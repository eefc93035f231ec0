"""Proportions: the Clopper-Pearson and Wilson intervals, the difference of two
independent proportions with Newcombe's hybrid score interval, and responder rates compared
between arms (chi-square with and without Yates' correction, Fisher's exact test, the
Cochran-Mantel-Haenszel test over strata)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trialreport.stats import distributions as dist

# ---------------------------------------------------------------------------------------
# Proportions, responders, multiplicity
# ---------------------------------------------------------------------------------------


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> dict[str, float]:
    """Proportion k/n with the Clopper-Pearson ("exact") two-sided CI (Clopper & Pearson,
    1934): lower = Beta(alpha/2; k, n - k + 1), upper = Beta(1 - alpha/2; k + 1, n - k),
    with 0 and 1 at k = 0 and k = n (the interval of R's ``binom.test``)."""
    if n == 0:
        return {"n": 0.0, "k": 0.0, "proportion": math.nan, "ci_low": math.nan,
                "ci_high": math.nan}
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else dist.beta_ppf(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else dist.beta_ppf(1 - alpha / 2, k + 1, n - k)
    return {"n": float(n), "k": float(k), "proportion": k / n, "ci_low": low,
            "ci_high": high}


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for k/n (Wilson, 1927; Newcombe 1998, method 3, without
    continuity correction): (p + z^2/2n +- z sqrt(p(1 - p)/n + z^2/4n^2)) / (1 + z^2/n)."""
    z = dist.norm_ppf(1.0 - (1.0 - confidence) / 2)
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return (centre - half) / scale, (centre + half) / scale


def newcombe_difference(k1: int, n1: int, k2: int, n2: int,
                        confidence: float = 0.95) -> dict[str, float]:
    """The difference of two independent proportions, k1/n1 - k2/n2, with Newcombe's
    hybrid score interval (Newcombe, Stat Med 1998;17:873-890, method 10: from the Wilson
    intervals (l1, u1), (l2, u2) of each proportion, lower = d - sqrt((p1 - l1)^2 +
    (u2 - p2)^2), upper = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)); the interval of statsmodels'
    ``confint_proportions_2indep(method="newcomb")`` and SAS PROC FREQ's RISKDIFF(CL=NEWCOMBE).
    Missing (NaN) when either group is empty."""
    if n1 == 0 or n2 == 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    return {"diff": d, "ci_low": d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            "ci_high": d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)}


def responder_tables(arm: np.ndarray, responder: np.ndarray,
                     order: list[str] | None = None) -> dict[str, Any]:
    """Arm-by-responder contingency table from non-missing pairs: rows the arms (in
    ``order``, else sorted), columns responder yes, no. Computed:

    - Pearson's chi-square, no continuity correction: sum (O - E)^2 / E with
      E = row total * column total / n, df = arms - 1 (scipy ``chi2_contingency``);
    - for two arms, the same with Yates' continuity correction (``chi_square_yates``:
      |O - E| reduced by 0.5, not below 0; scipy ``chi2_contingency(correction=True)``);
    - for two arms, Fisher's exact test, two-sided (scipy ``fisher_exact``; the p of R's
      ``fisher.test``: the sum of the hypergeometric probabilities no larger than the
      observed one) and the sample odds ratio of response, first arm against second
      (a*d / b*c; R's ``fisher.test`` shows the conditional MLE instead).
    """
    a = np.asarray(arm, dtype=object)
    r = np.asarray(responder, dtype=float)
    keep = ~np.isnan(r) & np.array([x is not None and x == x for x in a])
    a, r = a[keep].astype(str), r[keep].astype(bool)
    present = {str(g) for g in a}
    arms = [g for g in order if g in present] if order else sorted(present)
    table = np.array([[int(((a == g) & r).sum()), int(((a == g) & ~r).sum())] for g in arms])
    out: dict[str, Any] = {"arms": arms, "table": table}
    from scipy import stats as sps  # late: only between-arm responder rates use it

    if len(arms) >= 2 and (table.sum(axis=0) > 0).all():
        chi2, p, dof, _ = sps.chi2_contingency(table, correction=False)
        out["chi_square"] = {"statistic": float(chi2), "df": float(dof), "p_value": float(p)}
        if len(arms) == 2:
            chi2, p, dof, _ = sps.chi2_contingency(table, correction=True)
            out["chi_square_yates"] = {"statistic": float(chi2), "df": float(dof),
                                       "p_value": float(p)}
    if len(arms) == 2:
        res = sps.fisher_exact(table, alternative="two-sided")
        out["fisher"] = {"odds_ratio": float(res.statistic), "p_value": float(res.pvalue)}
    return out


def cmh_test(tables: list[np.ndarray], correction: bool = True,
             confidence: float = 0.95) -> dict[str, float]:
    """Cochran-Mantel-Haenszel test of no association in K stratified 2x2 tables (each
    rows: arm of interest, reference arm; columns: responder yes, no), via
    statsmodels ``StratifiedTable.test_null_odds`` (with continuity correction by default,
    as R's ``mantelhaen.test``), with the Mantel-Haenszel common odds ratio and its
    Robins-Breslow-Greenland CI (statsmodels ``oddsratio_pooled_confint``)."""
    from statsmodels.stats.contingency_tables import StratifiedTable

    st = StratifiedTable([np.asarray(t, dtype=float) for t in tables])
    test = st.test_null_odds(correction=correction)
    low, high = st.oddsratio_pooled_confint(alpha=1 - confidence)
    return {"statistic": float(test.statistic), "df": 1.0, "p_value": float(test.pvalue),
            "common_odds_ratio": float(st.oddsratio_pooled), "ci_low": float(low),
            "ci_high": float(high), "n_strata": float(len(tables))}
