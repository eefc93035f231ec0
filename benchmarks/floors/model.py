"""The between-arm model's floor: ordinary least squares with NumPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .common import Rows

# ---------------------------------------------------------------------------------------
# analyse, models: the prespecified between-arm model (trialreport.stats.models.fit_arm_model)
# ---------------------------------------------------------------------------------------


def two_arm_subjects(subjects: pd.DataFrame, seed: int = 20180104) -> pd.DataFrame:
    """The benchmark trial's subjects randomised 1:1 to Placebo and Fasoracetam (the scaled
    trial has one arm, and a between-arm model needs two), with a numeric TRT01PN: 0 on
    placebo, the fixed dose (100, 200 or 400) on the drug, for the dose-response trend."""
    rng = np.random.default_rng(seed)
    active = rng.random(len(subjects)) < 0.5
    dose = np.where(active, rng.choice([100, 200, 400], len(subjects)), 0)
    return subjects.assign(TRT01P=np.where(active, "Fasoracetam", "Placebo"),
                           TRT01PN=dose.astype(float))


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Coefficients, their covariance, the residual sum of squares and df, by NumPy least
    squares."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    rss = float(resid @ resid)
    df = x.shape[0] - x.shape[1]
    return beta, np.linalg.inv(x.T @ x) * (rss / df), rss, float(df)


def model_floor(spec: dict[str, Any], records: pd.DataFrame, subjects: pd.DataFrame,
                arms: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """The ARD rows of one ``analyses.models`` entry (``response ~ ARM + covariates +
    factors``, and the trend on ``dose``), by NumPy least squares and SciPy's t and F:
    per arm n, mean, SD and the LS mean (covariates at their mean, equal weight over factor
    levels); each arm against the reference (the first arm); the F test of ARM; the trend.
    ``records``: the efficacy set's records with TRT01P (as the analyse stage has them)."""
    code, visit, response = spec["parameter"], float(spec["visit"]), spec["response"]
    covariates, factors, dose = list(spec["covariates"]), list(spec["factors"]), spec["dose"]
    at = records[(records["PARAMCD"] == code) & (records["AVISITN"] == visit)]
    subject_cols = [c for c in dict.fromkeys([*covariates, *factors, dose])
                    if c not in ("BASE", "AVAL", "CHG")]
    at = at.drop(columns=[c for c in subject_cols if c in at.columns]).merge(
        subjects[["USUBJID", *subject_cols]], on="USUBJID", how="left")
    numeric = [response, *covariates, dose]
    frame = pd.DataFrame({c: at[c].to_numpy(float, na_value=np.nan) for c in numeric})
    for f in factors:
        frame[f] = at[f].astype(str).where(at[f].notna())
    frame["ARM"] = at["TRT01P"].astype(str).to_numpy()
    keep = frame.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    frame = frame[keep]
    y = frame[response].to_numpy()
    arm = frame["ARM"].to_numpy()
    reference, others = arms[0], arms[1:]
    levels = {f: sorted(frame[f].unique()) for f in factors}
    centred = {c: frame[c].to_numpy() - frame[c].to_numpy().mean() for c in [*covariates, dose]}
    dummies = [(frame[f].to_numpy() == lv).astype(float) for f in factors for lv in levels[f][1:]]
    ones = np.ones(len(y))
    arm_cols = [(arm == a).astype(float) for a in others]
    x = np.column_stack([ones, *arm_cols, *(centred[c] for c in covariates), *dummies])
    beta, cov, rss, df = _ols(x, y)
    _, _, rss0, df0 = _ols(np.column_stack([ones, *(centred[c] for c in covariates),
                                            *dummies]), y)
    tcrit = sps.t.ppf(0.5 + confidence / 2, df)
    method = f"{spec['id']}: ols {response} ~ {' + '.join(['ARM', *covariates, *factors])}"
    rows = Rows()
    add = lambda group, values: rows.add("model", method, code, visit, group, values)  # noqa: E731
    for i, a in enumerate(arms):
        raw = y[arm == a]
        xv = np.zeros(x.shape[1])
        xv[0] = 1.0
        if i:
            xv[i] = 1.0
        xv[1 + len(others) + len(covariates):] = np.concatenate(
            [np.full(len(levels[f]) - 1, 1.0 / len(levels[f])) for f in factors] or [[]])
        est, se = xv @ beta, math.sqrt(xv @ cov @ xv)
        add(a, {"n": raw.size, "mean": raw.mean(), "sd": raw.std(ddof=1), "lsmean": est,
                "se": se, "ci_low": est - tcrit * se, "ci_high": est + tcrit * se})
        if i:
            diff, dse = beta[i], math.sqrt(cov[i, i])
            add(f"{a} vs {reference}", {
                "diff": diff, "diff_se": dse, "diff_ci_low": diff - tcrit * dse,
                "diff_ci_high": diff + tcrit * dse, "t": diff / dse,
                "p_value": 2 * sps.t.sf(abs(diff / dse), df)})
    df_num = df0 - df
    f_value = ((rss0 - rss) / df_num) / (rss / df)
    add("all arms", {"n": len(y), "n_dropped": n_dropped, "df_resid": df,
                     "sigma": math.sqrt(rss / df), "f": f_value, "df_num": df_num,
                     "df_den": df, "p_value": sps.f.sf(f_value, df_num, df)})
    xd = np.column_stack([ones, centred[dose], *(centred[c] for c in covariates), *dummies])
    bd, cd, _, dfd = _ols(xd, y)
    slope, se = bd[1], math.sqrt(cd[1, 1])
    tcrit_d = sps.t.ppf(0.5 + confidence / 2, dfd)
    rows.add("model", f"{spec['id']}: ols trend {response} ~ "
             f"{' + '.join([dose, *covariates, *factors])}", code, visit, "dose-response", {
                 "slope": slope, "se": se, "ci_low": slope - tcrit_d * se,
                 "ci_high": slope + tcrit_d * se, "t": slope / se,
                 "p_value": 2 * sps.t.sf(abs(slope / se), dfd), "df_resid": dfd})
    return rows.frame()
