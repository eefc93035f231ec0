"""Missing data under named assumptions: reference-based imputation as R's rbmi does it.

Four modules, because one would pass 600 lines: ``imputation_data`` (the data, ICEs and
strategies per subject), ``imputation_model`` (the strategies' means and covariances,
conditional normal imputation, refits of the imputation model), ``imputation_pool`` (the
ANCOVA analysis model, Rubin's rules with Barnard-Rubin df, jackknife pooling) and this
one (the two inference methods, delta adjustment and the tipping point, the results).

Steps (rbmi's "Statistical Specifications" vignette, Wolbers et al. 2022, Carpenter, Roger
& Kenward 2013):

1. ``prepare``: one row per subject, visits as columns; the ICE of each subject (the first
   visit affected by it, given or derived by ``imputation_model.derive_ice``) and its
   strategy (MAR, JR, CR, CIR, LMCF; definitions in ``imputation_model``).
2. the imputation model: the MMRM of ``trialreport.stats.mmrm`` (arm, visit, arm x visit,
   baseline, baseline x visit, further covariates and factors; US by default; REML),
   fitted to the observed values less those after an ICE with a non-MAR strategy (rbmi
   excludes those from this fit only and conditions on them when imputing). One
   covariance matrix for all subjects by default (rbmi's ``same_cov = TRUE``);
   ``same_cov=False`` fits one per arm and each subject uses its own arm's.
3. imputation from the conditional normal distribution given the subject's observed
   values under the strategy's marginal mean and covariance;
4. the analysis (``imputation_pool.ancova``): per visit, OLS of the outcome on the arm
   and the covariates (default: the baseline, further covariates and factors), giving
   each arm's difference from the reference and each arm's LS mean;
5. inference:

   - ``condmean_jackknife``: conditional mean imputation with the full-data REML fit,
     standard errors by the leave-one-subject-out jackknife over the whole procedure
     (refit, reimpute, reanalyse), se = sqrt((n - 1) / n sum (theta_(-i) - mean)^2),
     CI and P from the normal distribution (rbmi ``method_condmean(type = "jackknife")``;
     deterministic);
   - ``mi_bootstrap``: approximate Bayesian multiple imputation (rbmi
     ``method_approxbayes``): M bootstrap samples of subjects, stratified by arm (rbmi's
     default strata are the group), the MMRM refitted to each, one draw per bootstrap
     sample from the conditional normal distribution for the original data, the analysis
     of each completed data set, Rubin's rules with Barnard-Rubin df (complete-data df
     n - p of the ANCOVA) and the Monte Carlo errors of ``imputation_pool``. A seeded
     ``numpy.random.SeedSequence`` spawns one generator per imputation, so results do
     not depend on ``workers``.

6. delta adjustment (rbmi's marginal delta, "five macros" style): fixed values added to
   imputed values at and after the ICE (``ImputationData.delta_eligible``: missing and
   not before the ICE; for subjects with an ICE whatever their strategy), after
   imputation and before the analysis; observed values are never changed. ``delta`` is a
   mapping arm -> value (the same value at every such visit, rbmi's ``dlag = c(1, 0, 0,
   ...)``) or an (n, T) array (``delta_matrix`` builds rbmi's ``delta``/``dlag`` form).
   The estimates are linear in the response, so each replicate carries the analysis of
   one unit adjustment per arm along with the estimate (exactly the analysis of the
   adjusted data, within each jackknife replicate and each imputation).
7. ``tipping_point``: a delta grid; estimate, CI and P per delta; the first grid delta
   at which the conclusion at delta = 0 changes (P < alpha or not; the CI excludes 0 or
   not, the same thing for CI and P from one distribution), refined by Brent's root of
   P(delta) = alpha between that grid value and the one before where P is monotone on
   the grid up to there.

Speed: a refit starts from the full-data fit and needs a few Newton steps on pattern
sufficient statistics (``imputation_model.FitData``); ``workers`` > 1 runs the
replicates (jackknife) or imputations (MI) in forked processes, each on one BLAS thread
(threadpoolctl where installed), combined in a fixed order, so results are identical
whatever the number of workers.

Usage::

    data = prepare(frame, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                   baseline="BASE", levels={"AVISIT": visits}, reference="Placebo",
                   strategy={"Drug": "JR", "Placebo": "MAR"})
    cmi = condmean_jackknife(data, workers=2)
    mi = mi_bootstrap(data, m=100, seed=2024)
    tip = tipping_point(cmi, grid=np.arange(0, 10.5, 0.5), arms=["Drug"])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trialreport.stats import imputation_model as im
from trialreport.stats import imputation_pool as ip
from trialreport.stats.imputation_data import ImputationData, delta_matrix, prepare
from trialreport.stats.mmrm import build_design, fit_mmrm
from trialreport.stats.mmrm_covariance import make_structure
from trialreport.stats.mmrm_inference import NotPositiveDefinite

__all__ = ["STRATEGIES", "ImputationData", "ImputationResult", "TippingPoint",
           "analyse_strategies", "condmean_impute", "condmean_jackknife", "delta_matrix",
           "mi_bootstrap", "prepare", "tipping_point"]

STRATEGIES = im.STRATEGIES


# ---------------------------------------------------------------------------------------
# The model: fit, covariance keys, one set of estimates


@dataclass
class _Model:
    data: ImputationData
    structure: str
    same_cov: bool
    x_own: np.ndarray
    x_ref: np.ndarray
    group: np.ndarray
    ref_group: int
    fit: Any
    fitdata: im.FitData
    cov_specs: list[tuple]
    groups: im.ImputationGroups
    covariates: np.ndarray
    directions: np.ndarray  # (n, T, D): one unit delta per arm, then the given array
    params: list[tuple[str, Any, Any]] = field(default_factory=list)

    def covs(self, sigmas: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for kind, g, ice in self.cov_specs:
            if kind == "own":
                out.append(sigmas[g])
            elif kind == "ref":
                out.append(sigmas[self.ref_group])
            else:
                out.append(im.compute_sigma(sigmas[g], sigmas[self.ref_group], ice))
        return out

    def complete(self, beta: np.ndarray, sigmas: list[np.ndarray],
                 z: np.ndarray | None = None) -> np.ndarray:
        d = self.data
        mu = im.strategy_means(d.strategy, d.ice, self.x_own @ beta, self.x_ref @ beta)
        return im.conditional_impute(d.y, mu, self.groups, self.covs(sigmas), z)

    def estimates(self, completed: np.ndarray, keep: np.ndarray | None = None,
                  extra: np.ndarray | None = None, se: bool = False) -> dict:
        """The ANCOVA of ``completed`` and of each delta direction (columns of the
        response), flattened to the parameter order of ``params``."""
        d = self.data
        resp = np.concatenate([completed[:, :, None], self.directions], axis=2)
        if extra is not None:
            resp[:, :, 0] += extra
        arm, cov = d.arm, self.covariates
        if keep is not None:
            resp, arm, cov = resp[keep], arm[keep], cov[keep]
        res = ip.ancova(resp, arm, len(d.arms), d.reference, cov, se=se)
        est = np.concatenate([res["diff"], res["lsmean"]], axis=0)  # (2K-1, T, R)
        out = {"est": est.transpose(1, 0, 2).reshape(-1, est.shape[2])}
        if se:
            s = np.concatenate([res["diff_se"], res["lsmean_se"]], axis=0)
            out |= {"se": s.T.reshape(-1), "df": float(res["df"])}
        return out


def _build_model(data: ImputationData, structure: str, same_cov: bool,
                 delta: Mapping[Any, float] | np.ndarray | None,
                 analysis_covariates: Sequence[str] | None) -> tuple[_Model, np.ndarray]:
    n, t = data.y.shape
    names = data.names
    arm_names = np.array(data.arms, dtype=object)
    long: dict[str, np.ndarray] = {
        names["subject"]: np.repeat(data.subject_ids, t),
        names["visit"]: np.tile(np.array(data.visits, dtype=object), n),
        names["arm"]: np.repeat(arm_names[data.arm], t),
        names["response"]: np.where(data.fit_use, data.y, np.nan).reshape(-1)}
    for k, v in data.columns.items():
        long[k] = np.repeat(v, t)
    lev = {names["visit"]: data.visits, names["arm"]: data.arms}
    for f in data.factors:
        lev[f] = sorted(set(data.columns[f].tolist()))
    design = build_design(long, response=names["response"], subject=names["subject"],
                          visit=names["visit"], arm=names["arm"], baseline=data.baseline,
                          covariates=data.covariates, factors=data.factors, levels=lev,
                          reference={names["arm"]: data.arms[data.reference]},
                          group=None if same_cov else names["arm"])
    fit = fit_mmrm(design, structure, method="REML", ddfm="residual")
    if not fit.converged:
        raise ValueError(f"the imputation model did not converge: {fit.message}")
    p = design.x.shape[1]
    x_own = design.model_matrix(long).reshape(n, t, p)
    long_ref = dict(long)
    long_ref[names["arm"]] = np.full(n * t, data.arms[data.reference], dtype=object)
    x_ref = design.model_matrix(long_ref).reshape(n, t, p)
    group = np.zeros(n, dtype=int) if same_cov else data.arm.copy()
    ref_group = 0 if same_cov else data.reference
    fitdata = im.FitData(x_own, data.y, data.fit_use, group, len(fit.sigma),
                         make_structure(structure, t), fit.beta)
    specs: dict[tuple, int] = {}
    key = np.empty(n, dtype=int)
    for i in range(n):
        s, ice, g = data.strategy[i], int(data.ice[i]), int(group[i])
        if s in ("MAR", "LMCF") or ice >= t or (s in ("JR", "CIR") and g == ref_group
                                                 and ice > 0):
            spec = ("own", g, t)
        elif s == "CR" or ice == 0:
            spec = ("ref", ref_group, 0)
        else:
            spec = ("mix", g, ice)
        key[i] = specs.setdefault(spec, len(specs))
    groups = im.imputation_groups(data.missing, key)
    cov_names = (analysis_covariates if analysis_covariates is not None
                 else [*([data.baseline] if data.baseline else []), *data.covariates,
                       *data.factors])
    cov_cols = []
    for c in cov_names:
        v = data.columns[c]
        if c in data.factors:
            cov_cols += [(v == lv).astype(float) for lv in sorted(set(v.tolist()))[1:]]
        else:
            cov_cols.append(v.astype(float))
    covariates = np.column_stack(cov_cols) if cov_cols else np.zeros((n, 0))
    eligible = data.delta_eligible
    dirs = [(eligible & (data.arm == a)[:, None]).astype(float) for a in range(len(data.arms))]
    coef = np.zeros(len(data.arms))
    if isinstance(delta, Mapping):
        for a, v in delta.items():
            coef[data.arms.index(a)] = float(v)
    elif delta is not None:
        dirs.append(np.where(eligible, np.asarray(delta, dtype=float), 0.0))
        coef = np.append(coef, 1.0)
    others = [a for a in data.arms if a != data.arms[data.reference]]
    params = [(kind, a, v) for v in data.visits
              for kind, arms in (("difference", others), ("lsmean", data.arms)) for a in arms]
    model = _Model(data, structure, same_cov, x_own, x_ref, group, ref_group, fit, fitdata,
                   list(specs), groups, covariates, np.stack(dirs, axis=2), params)
    return model, coef


# ---------------------------------------------------------------------------------------
# Parallel execution


@contextlib.contextmanager
def _one_blas_thread():
    """BLAS on one thread (threadpoolctl where installed): the matrices are small, and
    several BLAS threads per process slowed the MMRM fits badly on a loaded machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the locked env
        yield
        return
    with threadpool_limits(limits=1):
        yield


_STATE: Any = None


def _init_worker(state: Any) -> None:
    global _STATE
    _STATE = state
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)


def _call_block(args: tuple[Callable, int, int]) -> Any:
    func, lo, hi = args
    return func(_STATE, lo, hi)


def _run_blocks(func: Callable[[Any, int, int], np.ndarray], state: Any, n_tasks: int,
                workers: int) -> np.ndarray:
    """``func(state, lo, hi)`` over task blocks, concatenated in task order; forked
    worker processes when ``workers`` > 1 (each task computed the same way either way)."""
    if workers <= 1 or n_tasks < 2:
        with _one_blas_thread():
            return func(state, 0, n_tasks)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    bounds = np.linspace(0, n_tasks, min(n_tasks, 4 * workers) + 1).astype(int)
    blocks = [(func, int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
              if hi > lo]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(state,)) as pool:
        parts = list(pool.map(_call_block, blocks))
    return np.concatenate(parts, axis=0)


# ---------------------------------------------------------------------------------------
# Results


@dataclass
class ImputationResult:
    """Estimates of one imputation method: ``rows`` (one dict of plain values per
    parameter: kind "difference" (arm minus ``reference``) or "lsmean", arm, visit,
    estimate, se, df, lower, upper, p, method, delta; Rubin's-rules quantities for MI),
    ``settings`` (method, strategies, structure, same_cov, M, seed, ...). ``at(delta)``
    recomputes the rows with another delta from the same replicates or imputations."""

    method: str
    settings: dict
    rows: list[dict]
    alpha: float
    _pool: Callable[[np.ndarray, float], list[dict]] = field(repr=False)
    _coef: np.ndarray = field(repr=False)
    _arms: list = field(repr=False)

    def at(self, delta: Mapping[Any, float] | None = None, alpha: float | None = None
           ) -> list[dict]:
        """The rows with ``delta`` (arm -> value) instead of the run's per-arm deltas."""
        coef = self._coef.copy()
        if delta is not None:
            coef[:len(self._arms)] = 0.0
            for a, v in delta.items():
                coef[self._arms.index(a)] = float(v)
        return self._pool(coef, self.alpha if alpha is None else alpha)


def _rows(model: _Model, stats: list[dict], method: str, delta: Any) -> list[dict]:
    ref = model.data.arms[model.data.reference]
    out = []
    for (kind, a, v), s in zip(model.params, stats, strict=True):
        out.append({"kind": kind, "arm": a, "reference": ref if kind == "difference" else None,
                    "visit": v} | s | {"method": method, "delta": delta})
    return out


def _settings(model: _Model, method: str, **extra: Any) -> dict:
    d = model.data
    counts = {s: int(np.sum((d.strategy == s) & (d.ice < d.n_visits))) for s in STRATEGIES}
    return {"method": method, "structure": model.structure, "same_cov": model.same_cov,
            "subjects": d.n_subjects, "ice_derived": d.ice_derived,
            "ice_by_strategy": counts, "imputed_values": int(d.missing.sum()),
            "fit_converged": bool(model.fit.converged)} | extra


def _delta_label(model: _Model, coef: np.ndarray) -> dict:
    label = {a: float(c) for a, c in zip(model.data.arms, coef, strict=False) if c}
    if len(coef) > len(model.data.arms):
        label["array"] = True
    return label


def condmean_impute(data: ImputationData, *, structure: str = "US", same_cov: bool = True
                    ) -> dict[str, Any]:
    """The data completed by conditional mean imputation with the full-data fit: ``y``
    (n, T), ``mean`` (n, T: each subject's marginal mean under its strategy), ``fit``
    (the ``MMRMResult`` of the imputation model)."""
    model, _ = _build_model(data, structure, same_cov, None, None)
    beta, sigmas = model.fit.beta, model.fit.sigma
    mean = im.strategy_means(data.strategy, data.ice, model.x_own @ beta, model.x_ref @ beta)
    return {"y": model.complete(beta, sigmas), "mean": mean, "fit": model.fit}


# ---------------------------------------------------------------------------------------
# Conditional mean imputation + jackknife


def _jackknife_block(model: _Model, lo: int, hi: int) -> np.ndarray:
    n = model.data.n_subjects
    phi0 = model.fit.cov_params
    out = []
    for i in range(lo, hi):
        if model.fitdata.pattern_of[i] < 0:
            beta, sig = model.fit.beta, model.fit.sigma
        else:
            pats, n_obs = model.fitdata.leave_out(i)
            try:
                beta, sig, _ = model.fitdata.fit(pats, n_obs, phi0)
            except (NotPositiveDefinite, np.linalg.LinAlgError) as err:
                raise ValueError(f"jackknife: the imputation model without subject "
                                 f"{model.data.subject_ids[i]!r} cannot be fitted: {err}"
                                 ) from err
        keep = np.ones(n, dtype=bool)
        keep[i] = False
        out.append(model.estimates(model.complete(beta, sig), keep)["est"])
    return np.array(out)


def condmean_jackknife(data: ImputationData, *, structure: str = "US",
                       same_cov: bool = True, delta: Mapping[Any, float] | np.ndarray | None
                       = None, alpha: float = 0.05, workers: int = 1,
                       analysis_covariates: Sequence[str] | None = None) -> ImputationResult:
    """Conditional mean imputation with jackknife standard errors (module docstring,
    step 5; rbmi ``method_condmean(type = "jackknife")``; Wolbers et al. 2022). Every
    leave-one-subject-out replicate refits the MMRM (from the full fit), reimputes and
    reanalyses, with the delta applied inside it. Deterministic."""
    model, coef = _build_model(data, structure, same_cov, delta, analysis_covariates)
    full = model.estimates(model.complete(model.fit.beta, model.fit.sigma))["est"]
    loo = _run_blocks(_jackknife_block, model, data.n_subjects, workers)  # (n, P, R)

    def pool(c: np.ndarray, a: float) -> list[dict]:
        w = np.r_[1.0, c]
        theta, thetas = full @ w, loo @ w
        stats = [ip.jackknife_pool(theta[j], thetas[:, j], a) for j in range(len(theta))]
        return _rows(model, stats, "condmean-jackknife", _delta_label(model, c))

    settings = _settings(model, "condmean-jackknife", replicates=data.n_subjects,
                         workers=workers)
    return ImputationResult("condmean-jackknife", settings, pool(coef, alpha), alpha, pool,
                            coef, list(data.arms))


# ---------------------------------------------------------------------------------------
# Multiple imputation, approximate Bayesian bootstrap


def bootstrap_counts(rng: np.random.Generator, strata: list[np.ndarray], n: int
                     ) -> np.ndarray:
    """How often each of ``n`` subjects is in a bootstrap sample drawn with replacement
    within each stratum (rows of each arm), as many as the stratum has."""
    counts = np.zeros(n, dtype=np.int64)
    for rows in strata:
        np.add.at(counts, rows[rng.integers(0, len(rows), len(rows))], 1)
    return counts


def _mi_block(state: tuple[_Model, list], lo: int, hi: int) -> np.ndarray:
    model, seeds = state
    d = model.data
    phi0 = model.fit.cov_params
    strata = [np.flatnonzero(d.arm == a) for a in range(len(d.arms))]
    out = []
    for j in range(lo, hi):
        rng = np.random.default_rng(seeds[j])
        for attempt in range(20):
            counts = bootstrap_counts(rng, strata, d.n_subjects)
            try:
                pats, n_obs = model.fitdata.weighted(counts)
                beta, sig, _ = model.fitdata.fit(pats, n_obs, phi0)
                break
            except (NotPositiveDefinite, np.linalg.LinAlgError) as err:
                if attempt == 19:
                    raise ValueError(f"imputation {j + 1}: 20 bootstrap samples in a row "
                                     f"could not be fitted ({err})") from err
        z = rng.standard_normal(d.y.shape)
        out.append(model.complete(beta, sig, z))
    return np.array(out)


def mi_bootstrap(data: ImputationData, *, m: int = 100, seed: int = 0,
                 structure: str = "US", same_cov: bool = True,
                 delta: Mapping[Any, float] | np.ndarray | None = None, alpha: float = 0.05,
                 workers: int = 1, analysis_covariates: Sequence[str] | None = None
                 ) -> ImputationResult:
    """Approximate Bayesian multiple imputation by the bootstrap with Rubin's rules
    (module docstring, step 5; rbmi ``method_approxbayes``). ``m`` imputations; ``seed``
    seeds everything (the same seed gives identical results whatever ``workers``)."""
    if m < 2:
        raise ValueError("multiple imputation needs m >= 2")
    model, coef = _build_model(data, structure, same_cov, delta, analysis_covariates)
    seeds = np.random.SeedSequence(seed).spawn(m)
    completed = _run_blocks(_mi_block, (model, seeds), m, workers)  # (M, n, T)

    def pool(c: np.ndarray, a: float) -> list[dict]:
        adjust = model.directions @ c
        ests, ses = [], []
        for y in completed:
            res = model.estimates(y, extra=adjust, se=True)
            ests.append(res["est"][:, 0])
            ses.append(res["se"])
            df = res["df"]
        ests_a, ses_a = np.array(ests), np.array(ses)
        stats = [ip.rubin_rules(ests_a[:, j], ses_a[:, j], df, a)
                 for j in range(ests_a.shape[1])]
        return _rows(model, stats, "mi-bootstrap", _delta_label(model, c))

    settings = _settings(model, "mi-bootstrap", m=m, seed=seed, workers=workers,
                         bootstrap_strata="arm")
    return ImputationResult("mi-bootstrap", settings, pool(coef, alpha), alpha, pool, coef,
                            list(data.arms))


# ---------------------------------------------------------------------------------------
# Tipping point


@dataclass
class TippingPoint:
    """``rows``: per grid delta, estimate, se, df, lower, upper, p, significant;
    ``significant_at_zero``; ``tipping_delta``: the first grid delta whose conclusion
    differs from delta = 0 (None if none does); ``refined``: the root of P = alpha
    between it and the grid value before (None where P is not monotone there or no
    tipping point); ``parameter``: (kind, arm, visit)."""

    parameter: tuple
    arms: list
    alpha: float
    significant_at_zero: bool
    tipping_delta: float | None
    refined: float | None
    rows: list[dict]


def tipping_point(result: ImputationResult, grid: Sequence[float], arms: Sequence[Any],
                  *, visit: Any = None, arm: Any = None, alpha: float | None = None
                  ) -> TippingPoint:
    """Tipping-point analysis (module docstring, step 7) of the difference of ``arm``
    (default the first non-reference arm) from the reference at ``visit`` (default the
    last), the same delta added in each of ``arms``, over ``grid`` (in its order)."""
    from scipy import optimize

    alpha = result.alpha if alpha is None else alpha
    rows0 = result.rows
    diffs = [r for r in rows0 if r["kind"] == "difference"]
    visit = diffs[-1]["visit"] if visit is None else visit
    arm = diffs[0]["arm"] if arm is None else arm
    index = next(i for i, r in enumerate(rows0)
                 if r["kind"] == "difference" and r["visit"] == visit and r["arm"] == arm)

    def at(d: float) -> dict:
        return result.at(dict.fromkeys(arms, float(d)), alpha)[index]

    sig0 = at(0.0)["p"] < alpha
    rows, tip, refined = [], None, None
    prev = 0.0
    ps = [at(0.0)["p"]]
    for d in grid:
        r = at(d)
        sig = r["p"] < alpha
        rows.append({"delta": float(d)} | {k: r[k] for k in
                                            ("estimate", "se", "df", "lower", "upper", "p")}
                    | {"significant": bool(sig)})
        ps.append(r["p"])
        if tip is None and sig != sig0:
            tip = float(d)
            steps = np.diff(ps)
            if np.all(steps >= 0) or np.all(steps <= 0):
                refined = float(optimize.brentq(lambda x: at(x)["p"] - alpha, prev, d,
                                                xtol=1e-12, rtol=1e-12))
        if tip is None:
            prev = float(d)
    return TippingPoint(("difference", arm, visit), list(arms), alpha, bool(sig0), tip,
                        refined, rows)


def analyse_strategies(data: ImputationData, strategies: Sequence[str] = STRATEGIES,
                       method: str = "condmean", **kwargs: Any) -> list[dict]:
    """The rows of ``condmean_jackknife`` (``method="condmean"``) or ``mi_bootstrap``
    (``"mi"``) with each strategy in turn for every subject with an ICE (the reference
    arm's subjects keep theirs: every reference-based strategy is MAR there), each row
    with its ``strategy``."""
    run = condmean_jackknife if method == "condmean" else mi_bootstrap
    ref = data.arms[data.reference]
    out = []
    for s in strategies:
        per_arm = {a: (s if a != ref else "MAR") for a in data.arms}
        res = run(data.with_strategy(per_arm), **kwargs)
        out += [r | {"strategy": s} for r in res.rows]
    return out
