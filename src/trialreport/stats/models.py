"""The prespecified between-arm model of a randomized trial.

``fit_arm_model`` generalises ``trialreport.stats.ancova_change``: any response (AVAL or
CHG), any numeric covariates, any categorical factors (strata), all arms in one model, the
overall F test of the arm factor and, optionally, a linear dose-response trend. Results are
plain dicts of named numbers, each documented where it is computed.

statsmodels and scipy are imported inside the function that uses them, so that importing
this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

ARM = "ARM"


def fit_arm_model(data: pd.DataFrame, response: str, arms: Sequence[str], reference: str,
                  covariates: Sequence[str] = (), factors: Sequence[str] = (),
                  dose: str | None = None, confidence: float = 0.95) -> dict[str, Any]:
    """Between-arm comparison by a linear model fitted by ordinary least squares
    (analysis of covariance when there are covariates; one-way ANOVA when there are none):

    ``response ~ ARM + covariate ... + factor ...``

    via statsmodels ``OLS``, ARM in treatment (indicator) coding with ``reference`` as the
    reference arm, each factor in treatment coding with its first level (sorted) as the
    reference, each covariate a numeric term with one common slope across arms (no
    arm-by-covariate interaction). All arms are in one model: every contrast against the
    reference uses the residual variance pooled over all arms and the residual df of that
    model (as SAS PROC GLM with LSMEANS / PDIFF, or R ``emmeans`` on ``lm``).

    ``data`` has one row per subject with columns ARM (text), ``response``, each covariate
    (numeric), each factor (categorical) and ``dose`` (numeric) if given. Rows with any of
    these missing are dropped (observed case; no imputation): ``n_dropped`` counts them, and
    both models (arm and dose) are fitted on the same remaining rows. ``arms`` lists every
    arm in display order (kept as given); every row's ARM must be one of them, and every arm
    must keep at least one row.

    Computed (``confidence`` sets every interval, two-sided, t-based on the residual df):

    - ``n`` rows analysed, ``n_dropped``, ``df_resid`` = n - number of coefficients,
      ``sigma`` the residual SD sqrt(RSS / df_resid); ``formula`` the model fitted.
    - ``f_arm``, ``df_num``, ``df_den``, ``p_value_arm``: the overall test of no difference
      between arms, the F statistic ((RSS_0 - RSS) / (arms - 1)) / (RSS / df_resid) of the
      nested comparison of the full model with the model without ARM (statsmodels
      ``compare_f_test``; the type III / adjusted F of ARM, since ARM is one term).
    - ``arms``: a dict keyed by arm, in the order given, with ``n``, ``mean``, ``sd`` (raw,
      of the response among the analysed rows; SD with n - 1, NaN for one row);
      ``lsmean``, ``se``, ``ci_low``, ``ci_high``: the least-squares mean, the model's
      prediction x'b at the mean of each covariate over the analysed rows (all arms
      together), averaged with equal weight over the levels of each factor (the SAS
      LSMEANS / R emmeans default, not weighted by the level sizes), with SE sqrt(x'Vx),
      V the model's covariance of b (Searle, Speed & Milliken, 1980, *Am. Stat.* 34:216).
      Each non-reference arm also has the contrast arm - reference: ``diff`` (its arm
      coefficient, equal to the difference of the LS means), ``diff_se``,
      ``diff_ci_low``, ``diff_ci_high``, ``t`` = diff / diff_se and ``p_value``, two-sided,
      on t(df_resid). No multiplicity adjustment.
    - ``covariates``: per covariate its ``mean`` over the analysed rows (where LS means are
      evaluated), common ``slope`` and its ``se``.
    - ``factor_levels``: per factor, the number of analysed rows at each level (sorted).
    - ``dose_response`` (only when ``dose`` is given): a linear trend test. A second model
      ``response ~ dose + covariate ... + factor ...`` has the numeric dose in place of the
      arm factor; reported are its ``slope`` (change in response per unit of dose), ``se``,
      ``ci_low``, ``ci_high``, ``t``, two-sided ``p_value`` and ``df_resid``. It tests a
      straight-line relation with the dose values as given (their spacing matters; placebo
      is usually dose 0), assuming that line fits: it is not a test of a monotone or any
      non-linear dose-response (e.g. Williams' test, MCP-Mod) and says nothing of
      curvature; compare it with the arm contrasts.

    Covariates (and the dose) are centred at their analysed mean before fitting: the same
    model, better conditioned; nothing reported depends on the centring.

    Raises ValueError for: a missing column; a non-numeric or non-finite value in a numeric
    column; an arm of ``arms`` without analysed rows (named); a row whose ARM is not in
    ``arms``; fewer than two arms; ``reference`` not among ``arms``; a rank-deficient
    design (a column that is a linear combination of earlier ones, e.g. a factor level that
    coincides with an arm, a covariate constant over the analysed rows; the message names
    the aliased term and what it is aliased with), and no residual degrees of freedom.
    A factor level with a single subject is not rank-deficient by itself: it is estimated,
    from that subject alone, and given equal weight in the LS means (pool small levels per
    the SAP before calling).
    """
    import statsmodels.api as sm
    from scipy import stats as sps

    covariates, factors = list(covariates), list(factors)
    frame, n_dropped = _analysed_rows(data, response, arms, reference, covariates, factors,
                                      dose, confidence)
    arms = list(arms)
    y = frame[response].to_numpy(float)
    levels = {f: _sorted_levels(frame[f]) for f in factors}

    design = _Design(frame, arms, reference, covariates, factors, levels)
    design.check_rank("the arm model")
    fit = sm.OLS(y, design.centred()).fit()
    df_resid = float(fit.df_resid)
    tcrit = float(sps.t.ppf(0.5 + confidence / 2, df_resid))
    params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())

    reduced = _Design(frame, arms, reference, covariates, factors, levels, with_arm=False)
    f_value, p_f, df_num = fit.compare_f_test(sm.OLS(y, reduced.centred()).fit())

    terms = ["ARM", *covariates, *factors]
    out: dict[str, Any] = {
        "n": float(len(frame)),
        "n_dropped": float(n_dropped),
        "df_resid": df_resid,
        "sigma": float(math.sqrt(fit.scale)),
        "formula": f"{response} ~ {' + '.join(terms)}",
        "reference": reference,
        "f_arm": float(f_value),
        "df_num": float(df_num),
        "df_den": df_resid,
        "p_value_arm": float(p_f),
        "arms": {},
        "covariates": {c: {"mean": float(frame[c].mean()),
                           "slope": float(params[design.index[c]]),
                           "se": float(math.sqrt(cov[design.index[c], design.index[c]]))}
                       for c in covariates},
        "factor_levels": {f: {str(level): float((frame[f] == level).sum())
                              for level in levels[f]} for f in factors},
    }
    for arm in arms:
        raw = y[(frame[ARM] == arm).to_numpy()]
        x = design.lsmean_vector(arm)
        est, se = float(x @ params), float(math.sqrt(x @ cov @ x))
        entry: dict[str, Any] = {
            "n": float(raw.size),
            "mean": float(raw.mean()),
            "sd": float(raw.std(ddof=1)) if raw.size > 1 else math.nan,
            "lsmean": est, "se": se,
            "ci_low": est - tcrit * se, "ci_high": est + tcrit * se,
        }
        if arm != reference:
            j = design.index[f"{ARM}[{arm}]"]
            diff, dse = float(params[j]), float(math.sqrt(cov[j, j]))
            entry |= {"diff": diff, "diff_se": dse,
                      "diff_ci_low": diff - tcrit * dse, "diff_ci_high": diff + tcrit * dse,
                      "t": float(fit.tvalues[j]), "p_value": float(fit.pvalues[j])}
        out["arms"][arm] = entry

    if dose is not None:
        trend = _Design(frame, arms, reference, covariates, factors, levels, with_arm=False,
                        dose=dose)
        trend.check_rank("the dose-response model")
        dfit = sm.OLS(y, trend.centred()).fit()
        j = trend.index[dose]
        slope, se = float(dfit.params[j]), float(dfit.bse[j])
        d_df = float(dfit.df_resid)
        d_tcrit = float(sps.t.ppf(0.5 + confidence / 2, d_df))
        out["dose_response"] = {
            "formula": f"{response} ~ {' + '.join([dose, *covariates, *factors])}",
            "slope": slope, "se": se,
            "ci_low": slope - d_tcrit * se, "ci_high": slope + d_tcrit * se,
            "t": float(dfit.tvalues[j]), "p_value": float(dfit.pvalues[j]),
            "df_resid": d_df,
        }
    return out


def _analysed_rows(data: pd.DataFrame, response: str, arms: Sequence[str], reference: str,
                   covariates: list[str], factors: list[str], dose: str | None,
                   confidence: float) -> tuple[pd.DataFrame, int]:
    """Check the arguments; return the rows with every needed value present (numeric
    columns as float, ARM as text) and the number of rows dropped."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r}")
    if isinstance(arms, str):
        raise ValueError(f"arms must be a list of arm names, not the string {arms!r}")
    arms = list(arms)
    if len(set(arms)) != len(arms):
        raise ValueError(f"arms lists an arm twice: {arms}")
    if len(arms) < 2:
        raise ValueError(f"a between-arm model needs at least 2 arms, got {arms}")
    if reference not in arms:
        raise ValueError(f"reference arm {reference!r} is not one of the arms {arms}")
    numeric = [response, *covariates, *([dose] if dose is not None else [])]
    needed = [ARM, *numeric, *factors]
    repeated = sorted({c for c in needed if needed.count(c) > 1})
    if repeated:
        raise ValueError(f"column(s) {repeated} used twice among ARM, the response, the "
                         "covariates, the factors and the dose")
    absent = [c for c in needed if c not in data.columns]
    if absent:
        raise ValueError(f"column(s) {absent} not in the data; columns: {list(data.columns)}")

    frame = data[needed]
    keep = ~frame.isna().any(axis=1)
    frame = frame.loc[keep].reset_index(drop=True)
    frame[ARM] = frame[ARM].astype(str)
    for c in numeric:
        try:
            values = pd.to_numeric(frame[c], errors="raise").astype(float)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"column {c!r} must be numeric: {exc}") from exc
        if not np.isfinite(values.to_numpy()).all():
            raise ValueError(f"column {c!r} has an infinite value")
        frame[c] = values

    unknown = sorted(set(frame[ARM].unique()) - set(arms))  # each distinct arm once
    if unknown:
        raise ValueError(f"ARM value(s) {unknown} in the data are not among the arms {arms}; "
                         "select the rows of the arms to analyse first")
    empty = [a for a in arms if not (frame[ARM] == a).any()]
    if empty:
        before = data[ARM].astype(str).where(data[ARM].notna())
        detail = ", ".join(f"{a!r} ({int((before == a).sum())} row(s) before dropping)"
                           for a in empty)
        raise ValueError(f"arm(s) without analysed rows (after dropping rows with a missing "
                         f"{', '.join(needed)}): {detail}")
    return frame, int((~keep).sum())


def _sorted_levels(values: pd.Series) -> list[Any]:
    """The levels of a factor, sorted by value (as patsy / R order them); by their text
    when the values cannot be compared with one another."""
    unique = list(pd.unique(values))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=str)


class _Design:
    """The design matrix of ``response ~ [ARM | dose] + covariates + factors``, column
    names (``const``, ``ARM[arm]``, covariate, ``factor[level]``, dose), a readable label
    per column, the rank check and the LS-mean vector."""

    def __init__(self, frame: pd.DataFrame, arms: list[str], reference: str,
                 covariates: list[str], factors: list[str], levels: dict[str, list[Any]],
                 with_arm: bool = True, dose: str | None = None):
        self.reference = reference
        self.factor_levels = levels
        self.numeric = [*([dose] if dose else []), *covariates]
        columns: dict[str, np.ndarray] = {"const": np.ones(len(frame))}
        labels = {"const": "the intercept"}
        if with_arm:
            for a in arms:
                if a != reference:
                    columns[f"{ARM}[{a}]"] = (frame[ARM] == a).to_numpy(float)
                    labels[f"{ARM}[{a}]"] = f"ARM {a!r}"
        if dose:
            columns[dose] = frame[dose].to_numpy(float)
            labels[dose] = f"the dose {dose}"
        for c in covariates:
            columns[c] = frame[c].to_numpy(float)
            labels[c] = f"covariate {c}"
        for f in factors:
            for level in levels[f][1:]:
                name = f"{f}[{level}]"
                columns[name] = (frame[f] == level).to_numpy(float)
                labels[name] = (f"{f} level {str(level)!r} (reference level "
                                f"{str(levels[f][0])!r})")
        self.names = list(columns)
        self.labels = [labels[n] for n in self.names]
        self.index = {n: i for i, n in enumerate(self.names)}
        self.matrix = np.column_stack(list(columns.values()))

    def centred(self) -> np.ndarray:
        """The design with the numeric columns centred at their mean (a reparametrisation:
        only the intercept changes)."""
        x = self.matrix.copy()
        for c in self.numeric:
            j = self.index[c]
            x[:, j] -= x[:, j].mean()
        return x

    def lsmean_vector(self, arm: str) -> np.ndarray:
        """x of the LS mean of ``arm`` in the centred parametrisation: intercept 1, the
        arm's indicator 1, covariates at their mean (0 once centred), each factor's
        non-reference levels 1 / number of levels (equal weight over the levels)."""
        x = np.zeros(len(self.names))
        x[self.index["const"]] = 1.0
        if arm != self.reference:
            x[self.index[f"{ARM}[{arm}]"]] = 1.0
        for f, levels in self.factor_levels.items():
            for level in levels[1:]:
                x[self.index[f"{f}[{level}]"]] = 1.0 / len(levels)
        return x

    def check_rank(self, model: str) -> None:
        """Refuse a design whose coefficients are not all estimable, or that leaves no
        residual degrees of freedom (n <= p: no variance estimate).

        The rank is computed on the uncentred design with each column scaled to unit length
        (so that the units of a covariate do not matter), by numpy ``matrix_rank``
        (singular values above max(n, p) * eps * the largest). When it is below the number
        of columns, the columns are taken in model order (intercept, arm or dose,
        covariates, factor levels) and each one that does not raise the rank of those kept
        before it is reported with the kept columns it is a combination of (least squares
        coefficients above 1e-8).
        """
        x = self.matrix
        n, p = x.shape
        if n <= p:
            raise ValueError(f"{model} has no residual degrees of freedom ({n} analysed rows, "
                             f"{p} coefficients): no variance, no test")
        norms = np.linalg.norm(x, axis=0)
        zero = [self.labels[j] for j in range(p) if norms[j] == 0]
        if zero:
            raise ValueError(f"{model} cannot be fitted: {', '.join(zero)} is zero in every "
                             "analysed row")
        scaled = x / norms
        rank = int(np.linalg.matrix_rank(scaled))
        if rank < p:
            kept: list[int] = []
            problems = []
            for j in range(p):
                if np.linalg.matrix_rank(scaled[:, [*kept, j]]) > len(kept):
                    kept.append(j)
                    continue
                coef = np.linalg.lstsq(scaled[:, kept], scaled[:, j], rcond=None)[0]
                with_ = [self.labels[k] for k, b in zip(kept, coef, strict=True)
                         if abs(b) > 1e-8]
                problems.append(f"{self.labels[j]} is aliased with "
                                f"{' + '.join(with_) or 'nothing'}")
            raise ValueError(
                f"{model} is rank deficient (rank {rank} < {p} coefficients), its estimates "
                f"would not be unique: {'; '.join(problems)}. A factor level that coincides "
                "with an arm or with another factor's level, or a covariate that is constant "
                "or a combination of other terms over the analysed rows, cannot be estimated; "
                "pool or drop it as the SAP prescribes")
