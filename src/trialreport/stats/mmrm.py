"""MMRM: the mixed model for repeated measures, as SAS PROC MIXED and R's mmrm fit it.

    y_i = X_i beta + e_i,  e_i ~ N(0, Sigma_g(i)[visits of i]),  subjects independent,

with Sigma a structured T x T covariance over visits (US, TOEP, TOEPH, AR1, ARH1, CS; one
per group with ``group=``), fitted by REML (default) or ML with beta profiled out (GLS),
by Newton-Raphson on the analytic observed Hessian (SAS's optimiser, in unconstrained
parameters). Inference as SAS: model-based covariance of beta; denominator df by
Kenward-Roger (``ddfm="KR"``, SAS's DDFM=KR: adjusted covariance Phi_A, F scaling and
df), "KR-linear", "Satterthwaite", "BW" (SAS's DDFM=BETWITHIN, simplified) or "residual";
LS means with equal weights over the levels of other factors and numeric covariates at
their mean over the observations used (as SAS LSMEANS and R emmeans); differences against
the reference arm at each visit; Type 3 F tests.

Split into four modules because one would pass 1,500 lines: ``mmrm_design`` (model
matrix, coding, LS-means reference grid), ``mmrm_covariance`` (structures and their two
parameterisations), ``mmrm_inference`` (likelihood on pattern sufficient statistics, its
derivatives, Kenward-Roger, Satterthwaite) and this module (the fit, convergence and the
fallback order, the results).

Sources: SAS/STAT User's Guide, The MIXED Procedure (estimation, "Fit Statistics",
DDFM=KENWARDROGER, DDFM=SATTERTHWAITE, LSMEANS, Type 3 tests); Kenward & Roger (1997),
Biometrics 53:983-997; the R package mmrm's vignettes "Details of the model fitting",
"Kenward-Roger" and "Satterthwaite". Each test in tests/test_mmrm*.py names the published
output it reproduces.

Usage::

    design = build_design(frame, response="CHG", subject="USUBJID", visit="AVISIT",
                          arm="ARM", baseline="BASE", levels={"AVISIT": visits},
                          reference={"ARM": "Placebo"})
    fit = fit_mmrm(design, "US", fallback=("US", "TOEPH", "ARH1", "CS"))
    fit.lsmeans(), fit.diffs(), fit.type3()
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from trialreport.stats import mmrm_inference as inf
from trialreport.stats.mmrm_covariance import STRUCTURES, Structure, make_structure, n_params
from trialreport.stats.mmrm_design import (
    Design,
    build_design,
    level_codes,
    mmrm_terms,
    reference_grid,
    sum_coding_map,
    term_label,
)

__all__ = ["FALLBACK_ORDER", "STRUCTURES", "Design", "MMRMResult", "build_design",
           "fit_mmrm", "fit_statistics", "mmrm_terms", "n_params", "neg2_loglik"]

FALLBACK_ORDER = ("US", "TOEPH", "ARH1", "CS")
DDFM = ("KR", "KR-linear", "Satterthwaite", "BW", "residual")


# ---------------------------------------------------------------------------------------
# Missingness patterns


@dataclass
class _Problem:
    """A design reduced to pattern sufficient statistics (``mmrm_inference``), response
    centred at the OLS fit (``beta0``) so that no sum of squares loses digits."""

    patterns: list[inf.Pattern]
    beta0: np.ndarray
    n_obs: int
    n_subjects: int
    t: int
    n_groups: int
    start: list[np.ndarray]  # per group: empirical covariance of the OLS residuals
    rank_x: int


def _problem(design: Design) -> _Problem:
    x, y = design.x, design.y
    xtx = x.T @ x
    scale = np.sqrt(np.maximum(np.diag(xtx), 1e-300))
    eig = np.linalg.eigvalsh(xtx / np.outer(scale, scale))
    rank = int(np.sum(eig > 1e-10 * eig.max()))
    if rank < x.shape[1]:
        raise ValueError(f"the fixed-effects design is rank deficient ({rank} < {x.shape[1]}):"
                         " an empty arm x visit cell or a redundant column")
    # OLS, only to centre the response (the GLS fit is exact whatever beta0 is)
    beta0 = np.linalg.solve(xtx, x.T @ y)
    r = y - x @ beta0
    t = design.n_visits
    subj = design.subject
    first = np.r_[0, np.flatnonzero(np.diff(subj)) + 1]
    counts = np.diff(np.r_[first, len(subj)])
    mask = np.bitwise_or.reduceat(np.left_shift(1, design.visit.astype(np.int64)), first)
    key = design.group.astype(np.int64) * (1 << t) + mask
    order = np.argsort(key, kind="stable")
    bounds = np.flatnonzero(np.diff(key[order])) + 1
    patterns = []
    cov_sum = np.zeros((len(design.group_levels), t, t))
    cov_n = np.zeros_like(cov_sum)
    for subjects in np.split(order, bounds):
        k = key[subjects[0]]
        g, bits = int(k >> t), int(k & ((1 << t) - 1))
        idx = np.array([v for v in range(t) if bits >> v & 1])
        m = len(idx)
        assert np.all(counts[subjects] == m)
        rows = first[subjects][:, None] + np.arange(m)
        pat = inf.pattern_stats(x[rows], r[rows], g, idx)
        patterns.append(pat)
        cov_sum[g][np.ix_(idx, idx)] += pat.yy.reshape(m, m)
        cov_n[g][np.ix_(idx, idx)] += pat.n
    start = []
    for g in range(len(design.group_levels)):
        s = np.where(cov_n[g] > 0, cov_sum[g] / np.maximum(cov_n[g], 1), 0.0)
        d = np.diag(s).copy()
        d[d <= 0] = np.mean(d[d > 0]) if np.any(d > 0) else 1.0
        sd = np.sqrt(d)
        corr = np.where(cov_n[g] > 1, s / np.outer(sd, sd), 0.0)
        np.fill_diagonal(corr, 1.0)
        vals, vecs = np.linalg.eigh((corr + corr.T) / 2)
        corr = (vecs * np.maximum(vals, 0.05)) @ vecs.T
        dd = np.sqrt(np.diag(corr))
        start.append(corr / np.outer(dd, dd) * np.outer(sd, sd))
    return _Problem(patterns, beta0, len(y), design.n_subjects, t,
                    len(design.group_levels), start, rank)


# ---------------------------------------------------------------------------------------
# Objective


class _Objective:
    """-2 log L as a function of the working parameters of every group, stacked."""

    def __init__(self, prob: _Problem, structure: Structure, reml: bool):
        self.prob, self.s, self.reml = prob, structure, reml
        q = structure.n_params
        self.q = q
        self.offsets = [g * q for g in range(prob.n_groups)]
        self.k = q * prob.n_groups
        self.evaluations = 0

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        return [theta[o:o + self.q] for o in self.offsets]

    def sigmas(self, theta: np.ndarray) -> list[np.ndarray]:
        return [np.real(self.s.sigma(th)) for th in self.split(theta)]

    def value(self, theta: np.ndarray) -> inf.Evaluation:
        self.evaluations += 1
        return inf.evaluate(self.prob.patterns, self.sigmas(theta), self.prob.n_obs, self.reml)

    def value_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        ev = self.value(theta)
        dsig = [self.s.dsigma(th) for th in self.split(theta)]
        grad = inf.gradient(self.prob.patterns, ev, dsig, self.offsets, self.k, self.reml)
        return ev.neg2ll, grad

    def newton(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """-2 log L, its gradient and its observed Hessian in the working parameters:
        H_theta = J' H_phi J + sum_k (d -2logL / d phi_k) d2 phi_k / d theta^2, with H_phi
        analytic (``mmrm_inference.hessian``), J = d phi / d theta by the complex step and
        its derivative by central differences (phi(theta) is a small closed form)."""
        ev = self.value(theta)
        thetas = self.split(theta)
        phis = [np.real(self.s.natural(th)) for th in thetas]
        dnat = [self.s.dsigma_nat(ph) for ph in phis]
        d2nat = [self.s.d2sigma_nat(ph) for ph in phis]
        pats = self.prob.patterns
        g_phi = inf.gradient(pats, ev, dnat, self.offsets, self.k, self.reml)
        h_phi = inf.hessian(pats, ev, dnat, d2nat, self.offsets, self.k, self.reml)
        jac = np.zeros((self.k, self.k))
        curv = np.zeros((self.k, self.k))
        for o, th in zip(self.offsets, thetas, strict=True):
            sl = slice(o, o + self.q)
            jac[sl, sl] = self.s.jac_natural(th)
            for j in range(self.q):
                e = np.zeros(self.q)
                e[j] = 1e-5 * max(1.0, abs(th[j]))
                dj = (self.s.jac_natural(th + e) - self.s.jac_natural(th - e)) / (2 * e[j])
                curv[sl, o + j] = g_phi[sl] @ dj  # sum_k g_k d2 phi_k / d theta_h d theta_j
        h = jac.T @ h_phi @ jac + (curv + curv.T) / 2
        return ev.neg2ll, jac.T @ g_phi, h


def neg2_loglik(design: Design, structure: str, theta: np.ndarray, method: str = "REML"
                ) -> tuple[float, np.ndarray]:
    """-2 log L (REML or ML, SAS's constant) at working parameters ``theta`` (every
    group's, stacked) and its analytic gradient in ``theta``; beta is profiled out."""
    obj = _Objective(_problem(design), make_structure(structure, design.n_visits),
                     method.upper() == "REML")
    return obj.value_grad(np.asarray(theta, dtype=float))


# ---------------------------------------------------------------------------------------
# Fit


@dataclass
class Attempt:
    """One covariance structure tried: did it converge, and if not, why."""

    structure: str
    converged: bool
    reason: str
    iterations: int


@dataclass
class MMRMResult:
    """A fitted MMRM. Arrays are numpy, numbers plain floats.

    - ``beta``, ``beta_names``: fixed effects (reference coding; see ``mmrm_design``);
    - ``cov_beta``: model-based covariance (X'V^-1X)^-1; ``cov_beta_kr``: Kenward-Roger's
      adjusted Phi_A (None unless ``ddfm`` is a KR method and W exists);
    - ``sigma``: fitted covariance over visits per group (``group_levels`` order);
    - ``cov_params``, ``cov_param_names``: covariance parameters in SAS's
      parameterisation and names (group-prefixed when grouped); ``cov_params_cov``: their
      asymptotic covariance W = 2 H^-1 (H the observed Hessian of -2 log L);
    - ``neg2loglik``: -2 (restricted) log likelihood, SAS's "-2 Res Log Likelihood" (REML)
      or "-2 Log Likelihood" (ML); ``loglik`` = -neg2loglik / 2;
    - ``aic``, ``aicc``, ``bic``: SAS's fit statistics: d covariance parameters (REML) or
      covariance parameters + rank(X) (ML); AICC with n* = observations - rank(X) (REML)
      or observations (ML); BIC with log(subjects);
    - ``converged``, ``message``, ``iterations`` (optimiser steps), ``evaluations``,
      ``gradient_max`` (largest absolute gradient of -2 log L in working parameters),
      ``criterion`` (SAS's relative Hessian criterion g'H^-1 g / |-2 log L|);
    - ``structure`` used, ``attempts`` (every structure tried, in order, and why those
      before it were rejected);
    - ``counts``: subjects (= observations) per arm and visit, and per arm overall."""

    structure: str
    method: str
    ddfm: str
    converged: bool
    message: str
    beta: np.ndarray
    beta_names: list[str]
    cov_beta: np.ndarray
    cov_beta_kr: np.ndarray | None
    sigma: list[np.ndarray]
    group_levels: list
    cov_params: np.ndarray
    cov_param_names: list[str]
    cov_params_cov: np.ndarray | None
    neg2loglik: float
    loglik: float
    aic: float
    aicc: float
    bic: float
    n_obs: int
    n_subjects: int
    n_cov_params: int
    rank_x: int
    iterations: int
    evaluations: int
    gradient_max: float
    criterion: float
    attempts: list[Attempt]
    counts: list[dict]
    design: Design = field(repr=False)
    info: inf.Information | None = field(default=None, repr=False)

    # -- inference on any contrast --------------------------------------------------
    def _cov(self, ddfm: str) -> np.ndarray:
        if ddfm in ("KR", "KR-linear"):
            if (ddfm == "KR-linear") != (self.ddfm == "KR-linear") or self.ddfm not in DDFM[:2]:
                raise ValueError(f"Phi_A of ddfm={ddfm!r} is computed at the fit: fit with it")
            if self.cov_beta_kr is None:
                raise ValueError("Kenward-Roger needs the covariance parameters' observed "
                                 "information to be invertible; here it is singular")
            return self.cov_beta_kr
        return self.cov_beta

    def _df(self, lvec: np.ndarray, ddfm: str) -> float:
        if ddfm == "residual":
            return float(self.n_obs - self.rank_x)
        if ddfm == "BW":
            return _bw_df(self, lvec)
        if self.info is None or self.info.w is None:
            return math.nan
        return inf.satterthwaite_df(lvec, self.cov_beta, self.info)

    def estimate(self, lvec: Sequence[float], alpha: float = 0.05, ddfm: str | None = None
                 ) -> dict:
        """l'beta with SE, df, t, two-sided P and 1 - alpha CI; ``df_method`` names the df."""
        from scipy import special

        ddfm = ddfm or self.ddfm
        lvec = np.asarray(lvec, dtype=float)
        est = float(lvec @ self.beta)
        se = float(np.sqrt(lvec @ self._cov(ddfm) @ lvec))
        df = self._df(lvec, ddfm)
        t = est / se if se > 0 else math.nan
        p = float(2 * special.stdtr(df, -abs(t))) if np.isfinite(df) else math.nan
        half = float(special.stdtrit(df, 1 - alpha / 2)) * se if np.isfinite(df) else math.nan
        return {"estimate": est, "se": se, "df": df, "t": t, "p": p,
                "lower": est - half, "upper": est + half, "df_method": ddfm}

    def test(self, lmat: np.ndarray, ddfm: str | None = None) -> dict:
        """F test of L beta = 0 (KR: scaled F and df; Satterthwaite: multi-df as mmrm)."""
        from scipy import special

        ddfm = ddfm or self.ddfm
        lmat = np.atleast_2d(np.asarray(lmat, dtype=float))
        if ddfm in ("KR", "KR-linear") and self.info is not None and self.info.w is not None:
            f, ndf, ddf, scale = inf.kr_test(lmat, self.beta, self.cov_beta,
                                             self._cov(ddfm), self.info)
        elif ddfm == "Satterthwaite" and self.info is not None and self.info.w is not None:
            f, ndf, ddf = inf.satterthwaite_test(lmat, self.beta, self.cov_beta, self.info)
            scale = 1.0
        else:
            est = lmat @ self.beta
            ndf = float(np.linalg.matrix_rank(lmat))
            f = float(est @ np.linalg.pinv(lmat @ self.cov_beta @ lmat.T) @ est) / ndf
            ddf = (float(self.n_obs - self.rank_x) if ddfm == "residual"
                   else min(_bw_df(self, row) for row in lmat) if ddfm == "BW" else math.nan)
            scale = 1.0
        p = float(special.fdtrc(ndf, ddf, f)) if np.isfinite(ddf) else math.nan
        return {"num_df": ndf, "den_df": ddf, "F": float(f), "p": p, "scale": scale,
                "df_method": ddfm}

    # -- tables ----------------------------------------------------------------------
    def solution(self, alpha: float = 0.05, ddfm: str | None = None) -> list[dict]:
        """Each coefficient as SAS's "Solution for Fixed Effects" row."""
        eye = np.eye(len(self.beta))
        return [{"effect": name} | self.estimate(eye[i], alpha, ddfm)
                for i, name in enumerate(self.beta_names)]

    def type3(self, ddfm: str | None = None) -> list[dict]:
        """Type 3 F test of each term (sum-to-zero hypotheses; SAS Type 3 with no empty
        cells: main effects averaged with equal weights over the factors they interact
        with, at numeric covariates = 0 where they interact with them)."""
        m = sum_coding_map(self.design)
        rows = []
        for term, cols in self.design.term_columns.items():
            if not term:
                continue
            lmat = m[cols]
            rows.append({"effect": term_label(term)} | self.test(lmat, ddfm))
        return rows

    def lsmeans(self, alpha: float = 0.05, ddfm: str | None = None,
                covariate_mean: str = "observations") -> list[dict]:
        """LS mean of each arm at each visit (``Design.covariate_means`` says which mean)."""
        d = self.design
        out = []
        for arm in (d.variables[d.arm] if d.arm else [None]):
            for visit in d.visit_levels:
                fixed = {d.visit_var: visit} if d.visit_var in d.variables else {}
                if arm is not None:
                    fixed[d.arm] = arm
                lvec = reference_grid(d, fixed, covariate_mean)
                out.append({"arm": arm, "visit": visit} | self.estimate(lvec, alpha, ddfm))
        return out

    def diffs(self, alpha: float = 0.05, ddfm: str | None = None,
              covariate_mean: str = "observations") -> list[dict]:
        """Each arm minus the reference arm at each visit."""
        d = self.design
        if not d.arm:
            raise ValueError("the design has no arm (build_design(..., arm=...))")
        ref = d.reference[d.arm]
        out = []
        for visit in d.visit_levels:
            base = {d.visit_var: visit} if d.visit_var in d.variables else {}
            l_ref = reference_grid(d, base | {d.arm: ref}, covariate_mean)
            for arm in d.variables[d.arm]:
                if arm == ref:
                    continue
                lvec = reference_grid(d, base | {d.arm: arm}, covariate_mean) - l_ref
                out.append({"arm": arm, "reference": ref, "visit": visit}
                           | self.estimate(lvec, alpha, ddfm))
        return out


def _bw_df(fit: MMRMResult, lvec: np.ndarray) -> float:
    """SAS DDFM=BETWITHIN: subjects - rank(between-subject columns) for effects constant
    within every subject, residual df minus that for the others; every effect between-
    subject with TYPE=UN (SAS's exception for REPEATED / TYPE=UN without RANDOM). A
    contrast gets the smallest df of the terms it involves. (SAS further splits the
    within-subject df among several within-subject class effects; not done here.)"""
    d = fit.design
    x = d.x
    first = np.r_[0, np.flatnonzero(np.diff(d.subject)) + 1]
    varies = np.any(x != x[first][d.subject], axis=0)
    between_cols = ~varies
    between = d.n_subjects - int(np.linalg.matrix_rank(x[first][:, between_cols]))
    within = d.n_obs - fit.rank_x - between
    dfs = []
    for cols in d.term_columns.values():
        if np.any(np.abs(lvec[cols]) > 1e-10 * np.max(np.abs(lvec))):
            is_within = bool(np.any(varies[cols])) and fit.structure != "US"
            dfs.append(within if is_within else between)
    return float(min(dfs)) if dfs else float(between)


def _counts(design: Design) -> list[dict]:
    rows = []
    arm_codes = (level_codes(design.columns[design.arm], design.variables[design.arm], design.arm)
                 if design.arm else np.zeros(design.n_obs, dtype=int))
    arms = design.variables[design.arm] if design.arm else [None]
    for a, arm in enumerate(arms):
        sel = arm_codes == a
        rows.append({"arm": arm, "visit": None, "subjects": int(len(np.unique(
            design.subject[sel]))), "observations": int(sel.sum())})
        for v, visit in enumerate(design.visit_levels):
            n = int(np.sum(sel & (design.visit == v)))
            rows.append({"arm": arm, "visit": visit, "subjects": n, "observations": n})
    return rows


def _minimise(obj: _Objective, theta0: np.ndarray, max_iter: int, tol: float
              ) -> tuple[np.ndarray, int, str]:
    """Newton-Raphson on the observed Hessian in the working parameters, ridge-stabilised
    where the Hessian is not positive definite and with step halving (as SAS PROC MIXED's
    default optimiser, in unconstrained parameters). Stops when SAS's relative Hessian
    criterion g'H^-1 g / |-2 log L| is at most ``tol`` (then takes that last Newton step
    too) or after ``max_iter`` steps."""
    theta = np.asarray(theta0, dtype=float)
    used = 0
    note = ""
    while used < max_iter:
        try:
            f, g, h = obj.newton(theta)
        except inf.NotPositiveDefinite as err:
            return theta, used, f"not positive definite: {err}"
        vals, vecs = np.linalg.eigh(h)
        top = max(abs(vals).max(), 1e-300)
        if vals.min() > 1e-10 * top:
            step = -(vecs / vals) @ (vecs.T @ g)
            if float(-g @ step) / max(abs(f), 1e-300) <= tol:
                # converged; the Newton step already computed refines the estimates to
                # rounding (quadratic convergence) at the cost of one evaluation
                try:
                    if obj.value(theta + step).neg2ll <= f:
                        theta = theta + step
                except inf.NotPositiveDefinite:
                    pass
                break
        else:  # ridge: shift the spectrum to positive
            step = -(vecs / (np.abs(vals) + 1e-3 * top)) @ (vecs.T @ g)
        for _ in range(40):
            try:
                f_new = obj.value(theta + step).neg2ll
            except inf.NotPositiveDefinite:
                f_new = np.inf
            if f_new <= f:
                break
            step /= 2
        else:
            note = "step halving failed to decrease -2 log L"
            break
        theta = theta + step
        used += 1
    return theta, used, note


def fit_statistics(neg2loglik: float, n_cov: int, rank_x: int, n_obs: int, n_subjects: int,
                   reml: bool = True) -> dict[str, float]:
    """SAS PROC MIXED "Fit Statistics": AIC = -2l + 2d, AICC = -2l + 2dn*/(n* - d - 1),
    BIC = -2l + d log(subjects); REML: d = covariance parameters, n* = observations -
    rank(X); ML: d = covariance parameters + rank(X), n* = observations."""
    d = n_cov if reml else n_cov + rank_x
    n_star = n_obs - rank_x if reml else n_obs
    aicc = (neg2loglik + 2 * d * n_star / (n_star - d - 1)) if n_star - d - 1 > 0 else math.inf
    return {"aic": neg2loglik + 2 * d, "aicc": aicc, "bic": neg2loglik + d * math.log(n_subjects)}


def _fit_one(design: Design, prob: _Problem, kind: str, reml: bool, ddfm: str,
             max_iter: int, tol: float) -> MMRMResult:
    t = prob.t
    s = make_structure(kind, t)
    obj = _Objective(prob, s, reml)
    p = design.x.shape[1]
    rank_x = prob.rank_x
    reasons = []
    if obj.k > prob.n_obs - p:
        reasons.append(f"not identifiable: {obj.k} covariance parameters, "
                       f"{prob.n_obs - p} residual degrees of freedom")
    theta0 = np.concatenate([s.theta0(st) for st in prob.start])
    theta, iterations, note = _minimise(obj, theta0, max_iter, tol)
    try:
        f, g, h = obj.newton(theta)
    except inf.NotPositiveDefinite as err:
        return _failed(design, kind, reml, ddfm, f"not positive definite: {err}", iterations)
    vals = np.linalg.eigvalsh(h)
    crit = math.nan
    if vals.min() > 1e-8 * max(vals.max(), 1e-300):
        crit = float(g @ np.linalg.solve(h, g)) / max(abs(f), 1e-300)
    else:
        reasons.append("singular or indefinite Hessian of -2 log L (smallest eigenvalue "
                       f"{vals.min():.3g}): covariance parameters not identifiable")
    sig = obj.sigmas(theta)
    for gi, sg in enumerate(sig):
        ev_sig = np.linalg.eigvalsh(sg)
        if ev_sig.min() <= 1e-10 * ev_sig.max():
            reasons.append(f"fitted covariance matrix{_glabel(design, gi)} not positive "
                           f"definite (eigenvalues {ev_sig.min():.3g} to {ev_sig.max():.3g})")
    if not math.isnan(crit) and crit > tol:
        if iterations >= max_iter:
            reasons.append(f"iteration limit reached (max_iter={max_iter}): relative "
                           f"Hessian criterion {crit:.3g} > {tol:g}")
        else:
            reasons.append(f"did not converge: relative Hessian criterion {crit:.3g} > "
                           f"{tol:g}" + (f" ({note})" if note else ""))
    converged = not reasons
    ev = obj.value(theta)
    phis = [np.real(s.natural(th)) for th in obj.split(theta)]
    dsig = [s.dsigma_nat(ph) for ph in phis]
    d2sig = [s.d2sigma_nat(ph) for ph in phis]
    info = inf.information(prob.patterns, ev, sig, dsig, d2sig, obj.offsets, obj.k, reml)
    if info.w is None and converged:
        converged = False
        reasons.append("observed information of the covariance parameters is singular")
    kr = None
    if ddfm in ("KR", "KR-linear") and info.w is not None:
        kr = inf.kr_adjusted(ev.phi, info, linear=(ddfm == "KR-linear"))
    neg2 = float(ev.neg2ll)
    stats = fit_statistics(neg2, obj.k, rank_x, prob.n_obs, prob.n_subjects, reml)
    names = [f"{n}" if prob.n_groups == 1 else f"{n} {design.group_levels[gi]}"
             for gi in range(prob.n_groups) for n in s.names]
    return MMRMResult(
        structure=kind, method="REML" if reml else "ML", ddfm=ddfm, converged=converged,
        message="converged" if converged else "; ".join(reasons),
        beta=ev.beta + prob.beta0, beta_names=list(design.names), cov_beta=ev.phi,
        cov_beta_kr=kr, sigma=sig, group_levels=list(design.group_levels),
        cov_params=np.concatenate(phis), cov_param_names=names, cov_params_cov=info.w,
        neg2loglik=neg2, loglik=-neg2 / 2, aic=stats["aic"], aicc=stats["aicc"],
        bic=stats["bic"], n_obs=prob.n_obs,
        n_subjects=prob.n_subjects, n_cov_params=obj.k, rank_x=rank_x,
        iterations=iterations, evaluations=obj.evaluations,
        gradient_max=float(np.max(np.abs(g))), criterion=crit,
        attempts=[Attempt(kind, converged, "converged" if converged else "; ".join(reasons),
                          iterations)],
        counts=_counts(design), design=design, info=info)


def _glabel(design: Design, g: int) -> str:
    return "" if len(design.group_levels) == 1 else f" ({design.group_levels[g]})"


def _failed(design, kind, reml, ddfm, reason, iterations) -> MMRMResult:
    nan = math.nan
    p = design.x.shape[1]
    return MMRMResult(
        structure=kind, method="REML" if reml else "ML", ddfm=ddfm, converged=False,
        message=reason, beta=np.full(p, nan), beta_names=list(design.names),
        cov_beta=np.full((p, p), nan), cov_beta_kr=None, sigma=[],
        group_levels=list(design.group_levels), cov_params=np.empty(0), cov_param_names=[],
        cov_params_cov=None, neg2loglik=nan, loglik=nan, aic=nan, aicc=nan, bic=nan,
        n_obs=design.n_obs, n_subjects=design.n_subjects, n_cov_params=0, rank_x=p,
        iterations=iterations, evaluations=0, gradient_max=nan, criterion=nan,
        attempts=[Attempt(kind, False, reason, iterations)], counts=_counts(design),
        design=design)


def fit_mmrm(design: Design, structure: str = "US", *, method: str = "REML",
             ddfm: str = "KR", fallback: Sequence[str] | None = None, max_iter: int = 200,
             tol: float = 1e-8) -> MMRMResult:
    """Fit an MMRM; with ``fallback`` (e.g. ``FALLBACK_ORDER``), try each structure in
    that order until one converges, and record why each earlier one was rejected.

    ``method``: "REML" (default, as SAS and mmrm) or "ML". ``ddfm``: "KR" (SAS's default
    DDFM=KR; Phi_A with second derivatives in SAS's parameters), "KR-linear" (without
    them, mmrm's "Kenward-Roger-Linear"; see ``mmrm_inference``), "Satterthwaite", "BW"
    (SAS's DDFM=BETWITHIN without its split of the within-subject df) or "residual"
    (n - rank X). Convergence: SAS's relative Hessian criterion
    g'H^-1 g / |-2 log L| <= ``tol`` (SAS's default 1e-8) at a positive definite Hessian and
    a positive definite covariance matrix, within ``max_iter`` optimiser steps; a fit that
    does not converge is returned with ``converged=False`` and the reason in ``message``.
    """
    method = method.upper()
    if method not in ("REML", "ML"):
        raise ValueError("method must be 'REML' or 'ML'")
    if ddfm not in DDFM:
        raise ValueError(f"ddfm must be one of {DDFM}")
    prob = _problem(design)
    order = list(fallback) if fallback else [structure]
    attempts: list[Attempt] = []
    result = None
    for kind in order:
        try:
            result = _fit_one(design, prob, kind.upper(), method == "REML", ddfm, max_iter,
                              tol)
        except inf.NotPositiveDefinite as err:
            result = _failed(design, kind.upper(), method == "REML", ddfm,
                             f"not positive definite: {err}", 0)
        attempts += result.attempts
        if result.converged:
            break
    result.attempts = attempts
    if not result.converged and len(attempts) > 1:
        result.message = "no structure converged: " + "; ".join(
            f"{a.structure}: {a.reason}" for a in attempts)
    return result
