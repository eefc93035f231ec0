"""Imputation model of reference-based imputation (``trialreport.stats.imputation``).

What this module computes, per subject i with visits 1..J (rbmi's "Statistical
Specifications" vignette, section 3, and Carpenter, Roger & Kenward 2013, section 4.3):

- **ICE**: ``ice[i]`` is the index (0-based) of the first visit affected by the subject's
  intercurrent event, rbmi's t~_i; J (``n_visits``) for a subject without one.
  ``derive_ice``: where an ICE is not delivered, the visit after the last observed visit
  of a subject whose data end in a monotone gap (the last visit missing); 0 for a subject
  with no observed visit; J for a subject observed at the last visit. Intermittent gaps
  (missing visits followed by an observed one) are before the ICE and so imputed under
  MAR whatever the subject's strategy.
- **marginal mean and covariance** under the subject's strategy (``strategy_means``,
  ``strategy_sigma``), from mu_i = X_i beta (own arm), mu_ref,i (the same covariates with
  the arm set to the reference arm), Sigma_i (own group) and Sigma_ref (reference group);
  with t = ice[i] and l = t - 1 the last visit before the ICE:

  | strategy | mean at visits < t | mean at visits >= t | covariance |
  | --- | --- | --- | --- |
  | MAR  | mu_i | mu_i | Sigma_i |
  | JR   | mu_i | mu_ref,i | Carpenter's rule below |
  | CR   | mu_ref,i | mu_ref,i | Sigma_ref |
  | CIR  | mu_i | mu_i[l] + mu_ref,i[v] - mu_ref,i[l] | Carpenter's rule |
  | LMCF | mu_i | mu_i[l] | Sigma_i |

  Carpenter et al. (2013, section 4.3; rbmi's ``compute_sigma``), blocks 1 = visits < t,
  2 = visits >= t: S11 = Sigma_i,11; S21 = Sigma_ref,21 Sigma_ref,11^-1 Sigma_i,11;
  S22 = Sigma_ref,22 - Sigma_ref,21 Sigma_ref,11^-1 (Sigma_ref,11 - Sigma_i,11)
  Sigma_ref,11^-1 Sigma_ref,12 (Sigma_ref when the two are the same matrix, as with one
  covariance for all subjects, rbmi's default ``same_cov = TRUE``). As rbmi's
  ``strategy_JR``/``strategy_CIR``: t = J gives (mu_i, Sigma_i) and t = 0 gives
  (mu_ref,i, Sigma_ref); LMCF with t = 0 is an error (rbmi: "LMCF cannot be adopted since
  at least one MAR outcome value is needed").
- **imputation** (``conditional_impute``): each missing value from the conditional normal
  distribution of the missing given the observed values under that marginal
  distribution, E = mu_? + S_?! S_!!^-1 (y_! - mu_!), Cov = S_?? - S_?! S_!!^-1 S_!?:
  the mean (conditional mean imputation) or a draw. The observed values conditioned on
  include observed values after an ICE with a non-MAR strategy: rbmi removes those only
  from the data the imputation model is fitted to ("for this purpose only"; stat_specs
  section 3.3.1) and keeps them in the imputation and the analysis.
- **the imputation model fit** (``FitData``, ``newton_fit``): the MMRM of the project's
  engine (``trialreport.stats.mmrm``), refitted on a leave-one-subject-out or bootstrap
  sample by Newton-Raphson on the engine's analytic gradient and observed Hessian of the
  REML (or ML) log likelihood (``mmrm_inference``) in the covariance structure's natural
  parameters, started from the full-data fit. The pattern sufficient statistics of a
  sample are those of the full data with the left-out subject's subtracted, or summed
  with bootstrap counts as weights, so a refit costs a few likelihood evaluations over
  the missingness patterns whatever the number of subjects.
- **delta adjustment** (``delta_lagscale``): rbmi's ``delta_template``/``d_lagscale``:
  the k-th visit after the ICE gets sum_{j<=k} dlag[j] * delta[t + j - 1], applied to
  imputed values only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trialreport.stats import mmrm_inference as inf
from trialreport.stats.mmrm_covariance import Structure

STRATEGIES = ("MAR", "JR", "CR", "CIR", "LMCF")


# ---------------------------------------------------------------------------------------
# Intercurrent events and strategies


def derive_ice(y: np.ndarray) -> np.ndarray:
    """First visit affected by an ICE per subject (rows of ``y``, NaN = missing): the
    visit after the last observed one where the last visit is missing, 0 with no observed
    visit, ``y.shape[1]`` (no ICE) where the last visit is observed."""
    observed = ~np.isnan(y)
    t = y.shape[1]
    any_obs = observed.any(axis=1)
    last = t - 1 - np.argmax(observed[:, ::-1], axis=1)
    return np.where(any_obs, last + 1, 0).astype(int)


def strategy_means(strategy: np.ndarray, ice: np.ndarray, mu_own: np.ndarray,
                   mu_ref: np.ndarray) -> np.ndarray:
    """Marginal mean of each subject (rows) under its strategy (module table)."""
    n, t = mu_own.shape
    v = np.arange(t)[None, :]
    post = v >= ice[:, None]
    rows = np.arange(n)
    last = np.clip(ice - 1, 0, t - 1)
    own_last = mu_own[rows, last][:, None]
    ref_last = mu_ref[rows, last][:, None]
    out = mu_own.copy()
    s = np.asarray(strategy)[:, None]
    out = np.where((s == "JR") & post, mu_ref, out)
    out = np.where(s == "CR", mu_ref, out)
    out = np.where((s == "CIR") & post, own_last + mu_ref - ref_last, out)
    out = np.where((s == "LMCF") & post, own_last, out)
    # CIR with the ICE at the first visit: the reference mean (rbmi's strategy_CIR)
    out = np.where((s == "CIR") & (ice[:, None] == 0), mu_ref, out)
    bad = (np.asarray(strategy) == "LMCF") & (ice == 0)
    if np.any(bad):
        raise ValueError("LMCF needs at least one visit before the ICE (subjects at rows "
                         f"{np.flatnonzero(bad).tolist()[:10]} have their ICE at the first "
                         "visit)")
    return out


def compute_sigma(sigma_own: np.ndarray, sigma_ref: np.ndarray, n_mar: int) -> np.ndarray:
    """Carpenter et al. (2013, section 4.3) covariance for JR and CIR: visits before
    ``n_mar`` keep the subject's own covariance, the conditional distribution of the later
    visits given them is the reference's (rbmi ``compute_sigma``)."""
    t = sigma_own.shape[0]
    if sigma_own is sigma_ref or np.array_equal(sigma_own, sigma_ref) or n_mar <= 0:
        return sigma_ref
    if n_mar >= t:
        return sigma_own
    a, b = slice(0, n_mar), slice(n_mar, t)
    t11 = sigma_own[a, a]
    r11_inv_r12 = np.linalg.solve(sigma_ref[a, a], sigma_ref[a, b])  # R11^-1 R12
    s21 = r11_inv_r12.T @ t11
    s22 = sigma_ref[b, b] - r11_inv_r12.T @ (sigma_ref[a, a] - t11) @ r11_inv_r12
    out = np.empty_like(sigma_own)
    out[a, a] = t11
    out[b, a] = s21
    out[a, b] = s21.T
    out[b, b] = (s22 + s22.T) / 2
    return out


def strategy_sigma(strategy: str, ice: int, sigma_own: np.ndarray,
                   sigma_ref: np.ndarray) -> np.ndarray:
    """Marginal covariance of one subject under its strategy (module table)."""
    t = sigma_own.shape[0]
    if strategy in ("MAR", "LMCF") or ice >= t:
        return sigma_own
    if strategy == "CR":
        return sigma_ref
    if strategy in ("JR", "CIR"):
        return compute_sigma(sigma_own, sigma_ref, ice)
    raise ValueError(f"unknown strategy {strategy!r}; choose from {STRATEGIES}")


def delta_lagscale(delta: Sequence[float], dlag: Sequence[float], ice: int,
                   n_visits: int) -> np.ndarray:
    """rbmi's ``d_lagscale``: zero before the ICE; at the k-th visit from the ICE on
    (k = 1, 2, ...), the cumulative sum over j <= k of dlag[j] * delta[ice + j - 1]."""
    out = np.zeros(n_visits)
    post = np.arange(n_visits) >= ice
    scale = np.asarray(delta, dtype=float)[post]
    lag = np.asarray(dlag, dtype=float)[:len(scale)]
    out[post] = np.cumsum(lag * scale)
    return out


# ---------------------------------------------------------------------------------------
# Imputation


@dataclass
class ImputationGroups:
    """Subjects sharing a covariance key and a set of observed visits (computed once per
    data set): ``key`` indexes the list of covariance matrices of a parameter draw."""

    key: list[int]
    obs: list[np.ndarray]
    mis: list[np.ndarray]
    rows: list[np.ndarray]


def imputation_groups(missing: np.ndarray, cov_key: np.ndarray) -> ImputationGroups:
    """Group the subjects with a missing value by (covariance key, missingness mask)."""
    t = missing.shape[1]
    bits = missing.astype(np.int64) @ (1 << np.arange(t, dtype=np.int64))
    has = bits > 0
    code = cov_key.astype(np.int64) * (1 << t) + bits
    out = ImputationGroups([], [], [], [])
    for c in np.unique(code[has]):
        rows = np.flatnonzero(code == c)
        mask = missing[rows[0]]
        out.key.append(int(c >> t))
        out.obs.append(np.flatnonzero(~mask))
        out.mis.append(np.flatnonzero(mask))
        out.rows.append(rows)
    return out


def conditional_impute(y: np.ndarray, mu: np.ndarray, groups: ImputationGroups,
                       covs: Sequence[np.ndarray], z: np.ndarray | None = None
                       ) -> np.ndarray:
    """``y`` with each missing value replaced by its conditional mean given the subject's
    observed values (``z`` None) or by a draw from the conditional normal distribution
    (``z``: standard normal numbers, one row per subject; the subject's k missing values
    use the first k of its row, so a draw does not depend on how subjects are grouped)."""
    out = y.copy()
    for key, obs, mis, rows in zip(groups.key, groups.obs, groups.mis, groups.rows,
                                   strict=True):
        s = covs[key]
        mu_m = mu[np.ix_(rows, mis)]
        if len(obs):
            s_oo = s[np.ix_(obs, obs)]
            s_om = s[np.ix_(obs, mis)]
            coef = np.linalg.solve(s_oo, s_om)  # S_!!^-1 S_!?
            resid = y[np.ix_(rows, obs)] - mu[np.ix_(rows, obs)]
            value = mu_m + resid @ coef
            cond = s[np.ix_(mis, mis)] - s_om.T @ coef
        else:
            value = mu_m
            cond = s[np.ix_(mis, mis)]
        if z is not None:
            chol = np.linalg.cholesky((cond + cond.T) / 2)
            value = value + z[rows][:, :len(mis)] @ chol.T
        out[np.ix_(rows, mis)] = value
    return out


# ---------------------------------------------------------------------------------------
# Imputation model refits


@dataclass
class _PatternData:
    group: int
    idx: np.ndarray
    subjects: np.ndarray  # subject rows (of the imputation data) in this pattern
    x: np.ndarray  # (n_k, m, p)
    r: np.ndarray  # (n_k, m) response minus X beta_centre
    full: inf.Pattern  # sufficient statistics of all its subjects


class FitData:
    """The data the imputation model is fitted to, grouped into missingness patterns.

    ``x`` (n, T, p): each subject's model matrix at every visit; ``y`` (n, T); ``use``
    (n, T): the cells fitted (observed, and not after an ICE with a non-MAR strategy);
    ``group`` (n,): covariance group; ``beta_centre``: responses are centred at
    X beta_centre (the full-data fit) so that sums of squares keep their digits."""

    def __init__(self, x: np.ndarray, y: np.ndarray, use: np.ndarray, group: np.ndarray,
                 n_groups: int, structure: Structure, beta_centre: np.ndarray,
                 reml: bool = True):
        self.structure, self.n_groups, self.reml = structure, n_groups, reml
        self.beta_centre = np.asarray(beta_centre, dtype=float)
        self.n_subjects = x.shape[0]
        t = y.shape[1]
        bits = use.astype(np.int64) @ (1 << np.arange(t, dtype=np.int64))
        key = group.astype(np.int64) * (1 << t) + bits
        self.patterns: list[_PatternData] = []
        self.pattern_of = np.full(self.n_subjects, -1)
        self.position = np.full(self.n_subjects, -1)
        for k in np.unique(key[bits > 0]):
            subjects = np.flatnonzero(key == k)
            idx = np.flatnonzero(use[subjects[0]])
            xs = x[subjects][:, idx, :]
            r = y[subjects][:, idx] - xs @ self.beta_centre
            g = int(group[subjects[0]])
            self.pattern_of[subjects] = len(self.patterns)
            self.position[subjects] = np.arange(len(subjects))
            self.patterns.append(_PatternData(g, idx, subjects, xs, r,
                                              inf.pattern_stats(xs, r, g, idx)))
        self.n_obs = int(use.sum())

    def leave_out(self, i: int) -> tuple[list[inf.Pattern], int]:
        """Pattern statistics without subject ``i`` (the full data's less its own)."""
        k = self.pattern_of[i]
        pats = [p.full for p in self.patterns]
        if k < 0:
            return pats, self.n_obs
        pd_ = self.patterns[k]
        j = self.position[i]
        own = inf.pattern_stats(pd_.x[j:j + 1], pd_.r[j:j + 1], pd_.group, pd_.idx)
        full = pd_.full
        pats[k] = inf.Pattern(full.group, full.idx, full.n - 1, full.xx - own.xx,
                              full.xy - own.xy, full.yy - own.yy)
        if full.n == 1:
            del pats[k]
        return pats, self.n_obs - len(pd_.idx)

    def weighted(self, counts: np.ndarray) -> tuple[list[inf.Pattern], int]:
        """Pattern statistics of a bootstrap sample: subject i counted ``counts[i]`` times."""
        pats = []
        n_obs = 0
        for pd_ in self.patterns:
            w = counts[pd_.subjects]
            if not np.any(w):
                continue
            sw = np.sqrt(w.astype(float))
            pats.append(inf.pattern_stats(pd_.x * sw[:, None, None], pd_.r * sw[:, None],
                                          pd_.group, pd_.idx))
            pats[-1].n = int(w.sum())
            n_obs += int(w.sum()) * len(pd_.idx)
        return pats, n_obs

    def fit(self, patterns: list[inf.Pattern], n_obs: int, phi0: np.ndarray
            ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
        """beta, the covariance matrix of each group and the natural parameters."""
        beta, sig, phi = newton_fit(patterns, self.structure, self.n_groups, n_obs, phi0,
                                    self.reml)
        return beta + self.beta_centre, sig, phi


def newton_fit(patterns: list[inf.Pattern], structure: Structure, n_groups: int,
               n_obs: int, phi0: np.ndarray, reml: bool = True, tol: float = 1e-10,
               max_iter: int = 100) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """REML (ML) estimates by Newton-Raphson in the natural covariance parameters on the
    observed Hessian (``mmrm_inference.gradient``/``hessian``), from ``phi0`` (every
    group's parameters stacked), with step halving where -2 log L would increase or a
    matrix would not be positive definite, and a ridge where the Hessian is not positive
    definite. Stops after the step at which SAS's relative Hessian criterion
    g'H^-1 g / |-2 log L| is at most ``tol``. Returns beta, the matrices, phi."""
    q = structure.n_params
    offsets = [g * q for g in range(n_groups)]
    k = q * n_groups

    def sigmas(ph: np.ndarray) -> list[np.ndarray]:
        return [np.real(structure.sigma_nat(ph[o:o + q])) for o in offsets]

    def derivs(ph: np.ndarray):
        d1 = [structure.dsigma_nat(ph[o:o + q]) for o in offsets]
        d2 = [structure.d2sigma_nat(ph[o:o + q]) for o in offsets]
        return d1, d2

    phi = np.asarray(phi0, dtype=float).copy()
    ev = inf.evaluate(patterns, sigmas(phi), n_obs, reml)
    fixed = derivs(phi) if structure.linear else None
    for _ in range(max_iter):
        d1, d2 = fixed or derivs(phi)
        g = inf.gradient(patterns, ev, d1, offsets, k, reml)
        h = inf.hessian(patterns, ev, d1, d2, offsets, k, reml)
        vals, vecs = np.linalg.eigh(h)
        top = max(float(np.abs(vals).max()), 1e-300)
        newton = vals.min() > 1e-10 * top
        shift = vals if newton else np.abs(vals) + 1e-3 * top
        step = -(vecs / shift) @ (vecs.T @ g)
        crit = float(-g @ step) / max(abs(ev.neg2ll), 1e-300)
        for _ in range(60):
            try:
                trial = inf.evaluate(patterns, sigmas(phi + step), n_obs, reml)
            except inf.NotPositiveDefinite:
                step = step / 2
                continue
            if trial.neg2ll <= ev.neg2ll + 1e-10 * abs(ev.neg2ll):
                break
            step = step / 2
        else:
            raise inf.NotPositiveDefinite("step halving failed to decrease -2 log L")
        phi, ev = phi + step, trial
        if newton and crit <= tol:
            break
    else:
        raise inf.NotPositiveDefinite(f"no convergence in {max_iter} Newton steps")
    return ev.beta, sigmas(phi), phi
