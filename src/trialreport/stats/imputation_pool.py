"""Analysis and pooling of imputed data (``trialreport.stats.imputation``).

- ``ancova``: the analysis model applied to completed data, rbmi's ``ancova``: at each
  visit separately, ordinary least squares of the outcome on an intercept, the arm
  (reference coding against the reference arm) and the covariates (the baseline, as a
  main effect). Per visit: the difference of each arm from the reference (its arm
  coefficient; with main effects only it is the LS-mean difference) and each arm's LS
  mean, the mean over all subjects of the prediction with the arm set to that arm (rbmi's
  default "counterfactual" weighting; numeric covariates at their mean), with the OLS
  standard errors and residual df n - p. The response may have extra columns (the
  estimates are linear in it), which is how delta adjustments are carried through.
- ``rubin_rules``: Rubin's rules with the Barnard & Rubin (1999) small-sample df, as
  rbmi's ``rubin_rules``/``rubin_df`` and mice's ``pool.scalar`` (rule "rubin1987"):
  qbar = mean(q_m), ubar = mean(se_m^2), b = var(q_m), t = ubar + (1 + 1/M) b,
  lambda = (1 + 1/M) b / t, df_old = (M - 1) / lambda^2,
  df_obs = (df_com + 1) / (df_com + 3) df_com (1 - lambda), df = df_old df_obs /
  (df_old + df_obs) (df_old alone for df_com infinite; df_obs for b = 0; infinite for
  df_com infinite and b = 0); r = (1 + 1/M) b / ubar; fmi = (r + 2 / (df + 3)) / (r + 1)
  (mice). t-based CI and two-sided P. Monte Carlo error of qbar: sqrt(b / M) (White,
  Royston & Wood 2011, section 7.3; the jackknife over imputations gives the same value
  exactly); of the SE, the CI limits and P: the leave-one-imputation-out jackknife
  (same source), sqrt((M - 1) / M sum (x_(-m) - mean)^2).
- ``jackknife_pool``: conditional mean imputation with the jackknife (Wolbers et al.
  2022; rbmi ``pool`` for ``method_condmean(type = "jackknife")``): the estimate is the
  full-data one, se = sqrt((n - 1) / n sum_b (theta_(-b) - mean)^2), CI theta +- z se and
  two-sided P = 2 Phi(-|theta / se|) from the normal distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def ancova_design(arm: np.ndarray, n_arms: int, reference: int,
                  covariates: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """[1, arm indicators (not the reference), covariates] and the column of each arm
    (-1 for the reference)."""
    n = len(arm)
    others = [a for a in range(n_arms) if a != reference]
    cols = [np.ones(n)] + [(arm == a).astype(float) for a in others]
    x = np.column_stack(cols + [covariates.reshape(n, -1)])
    col_of = [-1 if a == reference else 1 + others.index(a) for a in range(n_arms)]
    return x, col_of


def ancova(y: np.ndarray, arm: np.ndarray, n_arms: int, reference: int,
           covariates: np.ndarray, se: bool = True) -> dict[str, np.ndarray]:
    """Per-visit ANCOVA (module docstring) of ``y`` (n, T) or (n, T, R).

    Returns ``diff`` (K-1 non-reference arms, T, R), ``lsmean`` (K, T, R); with ``se``,
    ``diff_se``, ``lsmean_se`` of the first response column (T,) per arm and ``df``."""
    y3 = y if y.ndim == 3 else y[:, :, None]
    n, t, r = y3.shape
    x, col_of = ancova_design(arm, n_arms, reference, covariates)
    p = x.shape[1]
    q_, r_ = np.linalg.qr(x)
    coef = np.linalg.solve(r_, q_.T @ y3.reshape(n, t * r)).reshape(p, t, r)
    others = [a for a in range(n_arms) if a != reference]
    diff = np.stack([coef[col_of[a]] for a in others])
    # counterfactual LS means: mean design row with the arm set to a
    xbar = x.mean(axis=0)
    lvecs = []
    for a in range(n_arms):
        lv = xbar.copy()
        lv[1:1 + len(others)] = 0.0
        if col_of[a] >= 0:
            lv[col_of[a]] = 1.0
        lvecs.append(lv)
    lmat = np.array(lvecs)
    lsmean = np.einsum("kp,ptr->ktr", lmat, coef)
    out = {"diff": diff, "lsmean": lsmean}
    if se:
        df = n - p
        resid = y3[:, :, 0] - x @ coef[:, :, 0]
        s2 = np.sum(resid**2, axis=0) / df  # (T,)
        rinv = np.linalg.inv(r_)
        xtx_inv = rinv @ rinv.T
        out["diff_se"] = np.stack([np.sqrt(s2 * xtx_inv[col_of[a], col_of[a]])
                                   for a in others])
        out["lsmean_se"] = np.sqrt(np.einsum("kp,pq,kq->k", lmat, xtx_inv, lmat)[:, None]
                                   * s2[None, :])
        out["df"] = np.array(float(df))
    return out


# ---------------------------------------------------------------------------------------
# Pooling


def barnard_rubin_df(m: int, b: float, t: float, df_com: float) -> float:
    """Barnard & Rubin (1999) df of the pooled estimate (rbmi ``rubin_df``)."""
    if df_com is None or math.isnan(df_com) or (math.isinf(df_com) and b == 0):
        return math.inf
    lam = (1 + 1 / m) * b / t
    v_obs = (df_com + 1) / (df_com + 3) * df_com * (1 - lam) if math.isfinite(df_com) \
        else math.inf
    if lam == 0:
        return v_obs
    v_old = (m - 1) / lam**2
    if math.isinf(df_com):
        return v_old
    return v_old * v_obs / (v_old + v_obs)


def _t_inference(est: float, se: float, df: float, alpha: float) -> dict[str, float]:
    from scipy import special

    if not se > 0:
        return {"lower": math.nan, "upper": math.nan, "p": math.nan, "t": math.nan}
    stat = est / se
    if math.isinf(df):
        crit = float(special.ndtri(1 - alpha / 2))
        p = float(2 * special.ndtr(-abs(stat)))
    else:
        crit = float(special.stdtrit(df, 1 - alpha / 2))
        p = float(2 * special.stdtr(df, -abs(stat)))
    return {"lower": est - crit * se, "upper": est + crit * se, "p": p, "t": stat}


def rubin_rules(estimates: Sequence[float], ses: Sequence[float], df_com: float,
                alpha: float = 0.05, mc_error: bool = True) -> dict[str, float]:
    """Rubin's rules with Barnard-Rubin df (module docstring), as plain floats: estimate,
    se, df, lower, upper, p, t, ubar, b, total (variance), r, lambda, fmi, and with
    ``mc_error`` the Monte Carlo errors mcse_estimate, mcse_se, mcse_lower, mcse_upper,
    mcse_p."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(ses, dtype=float) ** 2
    m = len(q)
    qbar = float(q.mean())
    ubar = float(u.mean())
    b = float(q.var(ddof=1)) if m > 1 else 0.0
    total = ubar + (1 + 1 / m) * b
    df = barnard_rubin_df(m, b, total, df_com)
    se = math.sqrt(total)
    r = (1 + 1 / m) * b / ubar if ubar > 0 else math.inf
    out = {"estimate": qbar, "se": se, "df": df} | _t_inference(qbar, se, df, alpha)
    out |= {"ubar": ubar, "b": b, "total": total, "r": r,
            "lambda": (1 + 1 / m) * b / total if total > 0 else math.nan,
            "fmi": (r + 2 / (df + 3)) / (r + 1) if math.isfinite(df) else r / (r + 1),
            "m": float(m)}
    if mc_error and m > 2:
        out["mcse_estimate"] = math.sqrt(b / m)
        keys = ("se", "lower", "upper", "p")
        loo = np.array([[rubin_rules(np.delete(q, j), np.sqrt(np.delete(u, j)), df_com,
                                     alpha, mc_error=False)[k] for k in keys]
                        for j in range(m)])
        spread = np.sqrt((m - 1) / m * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
        out |= {f"mcse_{k}": float(v) for k, v in zip(keys, spread, strict=True)}
    return out


def jackknife_se(theta_loo: np.ndarray) -> np.ndarray:
    """sqrt((n - 1) / n sum_b (theta_(-b) - mean)^2) over the first axis."""
    n = theta_loo.shape[0]
    dev = theta_loo - theta_loo.mean(axis=0)
    return np.sqrt((n - 1) / n * np.sum(dev**2, axis=0))


def jackknife_pool(theta: float, theta_loo: np.ndarray, alpha: float = 0.05
                   ) -> dict[str, float]:
    """Estimate, jackknife SE, normal CI and two-sided P (module docstring)."""
    se = float(jackknife_se(np.asarray(theta_loo, dtype=float)))
    return {"estimate": float(theta), "se": se, "df": math.inf} | _t_inference(
        float(theta), se, math.inf, alpha)
