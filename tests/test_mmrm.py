"""The MMRM engine (trialreport.stats.mmrm) against independent computations.

- a dense GLS and the textbook REML / ML log likelihood written here with plain numpy;
- per-visit OLS ANCOVA (statsmodels) on complete balanced data with an unstructured
  covariance (identical regressors at every visit: GLS = OLS, REML = the unbiased
  residual covariance, Kenward-Roger = the exact t);
- Hotelling's T^2, which Kenward & Roger (1997, section 5) reproduce exactly;
- the classical split-plot ANOVA for compound symmetry on balanced data;
- finite differences of the likelihood and of each covariance structure;
- simulation recovery of every structure, and the fallback and non-convergence paths.
Published reference output (SAS) is in tests/test_mmrm_reference.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from trialreport.stats.mmrm import (
    FALLBACK_ORDER,
    build_design,
    fit_mmrm,
    fit_statistics,
    n_params,
    neg2_loglik,
)
from trialreport.stats.mmrm_covariance import STRUCTURES, make_structure

LOG_2PI = np.log(2 * np.pi)


def true_sigma(kind: str, t: int) -> np.ndarray:
    """A covariance matrix of structure ``kind`` (heterogeneous where allowed)."""
    sd = np.linspace(1.0, 2.0, t) if kind in ("US", "TOEPH", "ARH1") else np.ones(t) * 1.5
    lag = np.abs(np.subtract.outer(np.arange(t), np.arange(t)))
    if kind in ("AR1", "ARH1"):
        corr = 0.6 ** lag
    elif kind in ("TOEP", "TOEPH"):
        corr = np.array([1.0, 0.5, 0.35, 0.1, 0.05, 0.0])[lag]
    elif kind == "CS":
        corr = np.where(lag == 0, 1.0, 0.4)
    else:
        rng = np.random.default_rng(7)
        a = rng.normal(size=(t, t))
        corr = a @ a.T + t * np.eye(t)
        d = np.sqrt(np.diag(corr))
        corr = corr / np.outer(d, d)
    return corr * np.outer(sd, sd)


def simulate(n: int, sigma: np.ndarray | list[np.ndarray], seed: int = 0,
             dropout: float = 0.0, intermittent: float = 0.0, arms=("PBO", "TRT"),
             balanced: bool = False) -> dict[str, np.ndarray]:
    """A long table: CHG at visits V1..VT, ARM, BASE, AGE (numeric), SEX (factor)."""
    rng = np.random.default_rng(seed)
    sigmas = sigma if isinstance(sigma, list) else [sigma] * len(arms)
    t = sigmas[0].shape[0]
    arm = np.arange(n) % len(arms) if balanced else rng.integers(0, len(arms), n)
    base = rng.normal(10, 2, n)
    age = rng.normal(50, 10, n)
    sex = rng.integers(0, 2, n)
    effect = np.linspace(0.2, 1.5, t)
    mu = (1 + np.linspace(0, 1, t) + arm[:, None] * effect + 0.5 * (base[:, None] - 10)
          + 0.05 * np.arange(t) * (base[:, None] - 10) + 0.02 * (age[:, None] - 50)
          + 0.3 * sex[:, None])
    err = np.empty((n, t))
    for g in range(len(arms)):
        sel = arm == g
        err[sel] = rng.multivariate_normal(np.zeros(t), sigmas[g], size=int(sel.sum()))
    y = mu + err
    if dropout:
        last = np.minimum(rng.geometric(dropout, n), t)
        y[np.arange(t)[None] >= last[:, None]] = np.nan
    if intermittent:
        y[rng.random((n, t)) < intermittent] = np.nan
    return {"USUBJID": np.repeat(np.arange(n), t),
            "AVISIT": np.tile([f"V{v + 1}" for v in range(t)], n),
            "ARM": np.repeat(np.array(arms)[arm], t), "BASE": np.repeat(base, t),
            "AGE": np.repeat(age, t), "SEX": np.repeat(np.array(["F", "M"])[sex], t),
            "CHG": y.reshape(-1)}


def mmrm_design(data, t: int, **kw):
    kw.setdefault("baseline", "BASE")
    return build_design(data, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                        levels={"AVISIT": [f"V{v + 1}" for v in range(t)]},
                        reference={"ARM": "PBO"}, **kw)


def dense_v(design, sigmas) -> np.ndarray:
    """Block-diagonal V of every observation, written out."""
    n = design.n_obs
    v = np.zeros((n, n))
    for s in range(design.n_subjects):
        rows = np.flatnonzero(design.subject == s)
        idx = design.visit[rows]
        v[np.ix_(rows, rows)] = sigmas[design.group[s]][np.ix_(idx, idx)]
    return v


# --- covariance structures ---------------------------------------------------------


@pytest.mark.parametrize(("kind", "count"), [("US", 21), ("TOEP", 6), ("TOEPH", 11),
                                             ("AR1", 2), ("ARH1", 7), ("CS", 2)])
def test_parameter_counts(kind, count) -> None:
    assert n_params(kind, 6) == count
    assert make_structure(kind, 6).n_params == count


@pytest.mark.parametrize("kind", STRUCTURES)
def test_structure_positive_definite_and_derivatives(kind) -> None:
    """Any working parameters give a positive definite matrix; dSigma/dtheta and
    dSigma/dphi (complex step) equal central finite differences."""
    s = make_structure(kind, 5)
    rng = np.random.default_rng(3)
    for _ in range(20):
        theta = rng.normal(scale=1.5, size=s.n_params)
        assert np.linalg.eigvalsh(s.sigma(theta)).min() > 0
    theta = rng.normal(scale=0.5, size=s.n_params)
    h = 1e-6
    fd = np.array([(s.sigma(theta + h * e) - s.sigma(theta - h * e)) / (2 * h)
                   for e in np.eye(s.n_params)])
    np.testing.assert_allclose(s.dsigma(theta), fd, atol=1e-7)
    phi = np.real(s.natural(theta))
    fd_phi = np.array([(s.sigma_nat(phi + h * e) - s.sigma_nat(phi - h * e)) / (2 * h)
                       for e in np.eye(s.n_params)])
    np.testing.assert_allclose(s.dsigma_nat(phi), fd_phi, atol=1e-7)
    d2 = s.d2sigma_nat(phi)
    fd2 = np.array([(s.dsigma_nat(phi + 1e-5 * e) - s.dsigma_nat(phi - 1e-5 * e)) / 2e-5
                    for e in np.eye(s.n_params)])
    np.testing.assert_allclose(d2, fd2, atol=1e-6)
    # working -> natural -> working is the identity
    np.testing.assert_allclose(s.sigma(s.theta0(s.sigma(theta))), s.sigma(theta), atol=1e-6)


@pytest.mark.parametrize("kind", STRUCTURES)
def test_each_structure_recovers_a_known_covariance(kind) -> None:
    t = 4
    sigma = true_sigma(kind, t)
    design = mmrm_design(simulate(3000, sigma, seed=11), t)
    fit = fit_mmrm(design, kind)
    assert fit.converged, fit.message
    assert fit.n_cov_params == n_params(kind, t)
    assert np.linalg.eigvalsh(fit.sigma[0]).min() > 0
    assert np.max(np.abs(fit.sigma[0] - sigma)) < 0.08 * np.max(sigma)


def test_separate_covariance_per_group() -> None:
    """GROUP= (mmrm: us(AVISIT | ARM / USUBJID)): one covariance per arm."""
    t = 3
    sig_a, sig_b = true_sigma("US", t), 2.5 * true_sigma("AR1", t)
    design = mmrm_design(simulate(4000, [sig_a, sig_b], seed=5, dropout=0.1), t, group="ARM")
    fit = fit_mmrm(design, "US")
    assert fit.converged, fit.message
    assert fit.n_cov_params == 12 and fit.group_levels == ["PBO", "TRT"]
    assert fit.cov_param_names[0] == "UN(1,1) PBO" and fit.cov_param_names[6] == "UN(1,1) TRT"
    assert np.max(np.abs(fit.sigma[0] - sig_a)) < 0.1 * np.max(sig_a)
    assert np.max(np.abs(fit.sigma[1] - sig_b)) < 0.1 * np.max(sig_b)


# --- likelihood and GLS ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["US", "ARH1", "TOEPH", "CS"])
@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("grouped", [False, True])
def test_gradient_equals_finite_differences(kind, method, grouped) -> None:
    t = 4
    design = mmrm_design(simulate(80, true_sigma("US", t), seed=2, dropout=0.15,
                                  intermittent=0.1), t, group="ARM" if grouped else None)
    k = n_params(kind, t) * (2 if grouped else 1)
    theta = np.random.default_rng(1).normal(scale=0.3, size=k)
    _, grad = neg2_loglik(design, kind, theta, method)
    h = 1e-5
    fd = np.array([(neg2_loglik(design, kind, theta + h * e, method)[0]
                    - neg2_loglik(design, kind, theta - h * e, method)[0]) / (2 * h)
                   for e in np.eye(k)])
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


@pytest.fixture(scope="module")
def messy():
    """Monotone dropout, intermittent gaps, a numeric covariate and a factor."""
    t = 4
    data = simulate(70, true_sigma("US", t), seed=9, dropout=0.15, intermittent=0.08)
    return mmrm_design(data, t, covariates=["AGE"], factors=["SEX"])


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_gls_and_likelihood_equal_dense_numpy(messy, method) -> None:
    fit = fit_mmrm(messy, "US", method=method)
    assert fit.converged, fit.message
    x, y = messy.x, messy.y
    v = dense_v(messy, fit.sigma)
    vinv = np.linalg.inv(v)
    xtvx = x.T @ vinv @ x
    beta = np.linalg.solve(xtvx, x.T @ vinv @ y)
    np.testing.assert_allclose(fit.beta, beta, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(fit.cov_beta, np.linalg.inv(xtvx), rtol=1e-8, atol=1e-12)
    r = y - x @ beta
    n, p = x.shape
    logdet_v = np.linalg.slogdet(v)[1]
    if method == "REML":  # SAS's -2 Res Log Likelihood
        neg2 = (n - p) * LOG_2PI + logdet_v + np.linalg.slogdet(xtvx)[1] + r @ vinv @ r
    else:
        neg2 = n * LOG_2PI + logdet_v + r @ vinv @ r
    assert fit.neg2loglik == pytest.approx(neg2, abs=1e-8)
    assert fit.loglik == pytest.approx(-neg2 / 2, abs=1e-8)
    assert fit.gradient_max < 1e-4


def test_fit_statistics_as_sas_prints_them() -> None:
    """SAS's AIC/AICC/BIC conventions, from a SAS REML listing that prints -2 Res Log
    Likelihood to 8 decimals in its iteration history: openpharma/mmrm repository,
    design/KR/kr_us.txt (PROC MIXED, TYPE=UN, 800 read / 537 used observations, 200
    subjects, 3 columns in X, 10 covariance parameters): "-2 Res Log Likelihood 3668.0,
    AIC 3688.0, AICC 3688.4, BIC 3720.9"; the last iteration's value 3667.96276376."""
    stats = fit_statistics(3667.96276376, 10, 2, 537, 200, reml=True)  # rank(X) = 2
    assert round(stats["aic"], 1) == 3688.0
    assert round(stats["aicc"], 1) == 3688.4
    assert round(stats["bic"], 1) == 3720.9


# --- inference against closed forms ------------------------------------------------------


def test_complete_balanced_us_equals_per_visit_ancova() -> None:
    import statsmodels.api as sm

    t = 3
    data = simulate(40, true_sigma("US", t), seed=4, balanced=True)
    design = mmrm_design(data, t)
    fit = fit_mmrm(design, "US", ddfm="KR")
    assert fit.converged, fit.message
    diffs = {row["visit"]: row for row in fit.diffs()}
    wide = data["CHG"].reshape(40, t)
    trt = (data["ARM"][::t] == "TRT").astype(float)
    base = data["BASE"][::t]
    for v in range(t):
        ols = sm.OLS(wide[:, v], np.column_stack([np.ones(40), trt, base])).fit()
        row = diffs[f"V{v + 1}"]
        assert row["estimate"] == pytest.approx(ols.params[1], rel=1e-8)
        assert row["se"] == pytest.approx(ols.bse[1], rel=1e-6)
        assert row["df"] == pytest.approx(ols.df_resid, abs=1e-4)
        assert row["p"] == pytest.approx(ols.pvalues[1], rel=1e-5)
        lo, hi = ols.conf_int()[1]
        assert (row["lower"], row["upper"]) == (pytest.approx(lo, rel=1e-6),
                                                pytest.approx(hi, rel=1e-6))
    np.testing.assert_allclose(fit.cov_beta_kr, fit.cov_beta, rtol=1e-6, atol=1e-12)


def test_kenward_roger_reproduces_hotelling() -> None:
    """Saturated arm x visit means, complete data, unstructured covariance: the Type 3
    test of visit is Hotelling's T^2, F = (nu - q + 1) / (nu q) T^2 on q and
    nu - q + 1 df (nu = subjects - arms); KR's lambda is (nu - q + 1) / nu."""
    t, n1, n2 = 4, 12, 15
    rng = np.random.default_rng(8)
    data = simulate(n1 + n2, true_sigma("US", t), seed=8)
    arm = np.array(["PBO"] * n1 + ["TRT"] * n2)
    rng.shuffle(arm)
    data["ARM"] = np.repeat(arm, t)
    design = mmrm_design(data, t, baseline=None)
    fit = fit_mmrm(design, "US", ddfm="KR")
    wide = data["CHG"].reshape(-1, t)
    groups = [wide[arm == a] for a in ("PBO", "TRT")]
    resid = np.vstack([g - g.mean(axis=0) for g in groups])
    nu = n1 + n2 - 2
    s = resid.T @ resid / nu
    c = np.diff(np.eye(t), axis=0)  # q = t - 1 contrasts among visits
    q = t - 1
    d = c @ (groups[0].mean(axis=0) + groups[1].mean(axis=0)) / 2
    var = c @ s @ c.T * (1 / n1 + 1 / n2) / 4
    t2 = d @ np.linalg.solve(var, d)
    visit = next(row for row in fit.type3() if row["effect"] == "AVISIT")
    assert visit["num_df"] == q
    assert visit["den_df"] == pytest.approx(nu - q + 1, abs=1e-5)
    assert visit["scale"] == pytest.approx((nu - q + 1) / nu, abs=1e-7)
    assert visit["F"] == pytest.approx((nu - q + 1) / (nu * q) * t2, rel=1e-6)
    assert all(row["df"] == pytest.approx(nu, abs=1e-5) for row in fit.diffs())


def split_plot_anova(wide: np.ndarray, arm: np.ndarray) -> dict[str, tuple[float, float]]:
    """Classical split-plot ANOVA F and denominator df (whole plot arm, split plot visit)."""
    n, t = wide.shape
    levels = np.unique(arm)
    g = len(levels)
    grand = wide.mean()
    subj = wide.mean(axis=1)
    cell = np.array([wide[arm == a].mean(axis=0) for a in levels])
    arm_mean = cell.mean(axis=1)
    per = n // g
    visit_mean = wide.mean(axis=0)
    ss_a = t * per * np.sum((arm_mean - grand) ** 2)
    ss_s = t * sum(np.sum((subj[arm == a] - arm_mean[i]) ** 2) for i, a in enumerate(levels))
    ss_v = n * np.sum((visit_mean - grand) ** 2)
    ss_av = per * np.sum((cell - arm_mean[:, None] - visit_mean[None] + grand) ** 2)
    ss_e = np.sum((wide - grand) ** 2) - ss_a - ss_s - ss_v - ss_av
    df_s, df_e = n - g, (n - g) * (t - 1)
    ms_s, ms_e = ss_s / df_s, ss_e / df_e
    return {"ARM": (ss_a / (g - 1) / ms_s, df_s), "AVISIT": (ss_v / (t - 1) / ms_e, df_e),
            "ARM:AVISIT": (ss_av / ((g - 1) * (t - 1)) / ms_e, df_e)}


@pytest.mark.parametrize("ddfm", ["KR", "Satterthwaite"])
def test_compound_symmetry_balanced_split_plot(ddfm) -> None:
    """Between-subject contrasts on subjects - groups df, within-subject ones on
    (subjects - groups)(T - 1); KR makes no adjustment; F as the split-plot ANOVA."""
    t, n = 4, 24
    arms = ("PBO", "LOW", "HIGH")
    data = simulate(n, true_sigma("CS", t), seed=6, arms=arms, balanced=True)
    design = build_design(data, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                          levels={"ARM": list(arms)}, reference={"ARM": "PBO"})
    fit = fit_mmrm(design, "CS", ddfm=ddfm)
    assert fit.converged, fit.message
    anova = split_plot_anova(data["CHG"].reshape(n, t), data["ARM"][::t])
    for row in fit.type3():
        f, den = anova[row["effect"]]
        assert row["den_df"] == pytest.approx(den, abs=1e-5)
        assert row["F"] == pytest.approx(f, rel=1e-6)
        assert row["scale"] == pytest.approx(1.0, abs=1e-8)
    if ddfm == "KR":
        np.testing.assert_allclose(fit.cov_beta_kr, fit.cov_beta, rtol=1e-7, atol=1e-12)


def test_type3_arm_is_the_mean_difference_over_visits(messy) -> None:
    """SAS Type 3 for the arm: the arm difference averaged with equal weights over
    visits, which is the average of the per-visit LS-mean differences."""
    fit = fit_mmrm(messy, "US")
    from trialreport.stats.mmrm_design import reference_grid

    lvec = np.mean([reference_grid(messy, {"ARM": "TRT", "AVISIT": v})
                    - reference_grid(messy, {"ARM": "PBO", "AVISIT": v})
                    for v in messy.visit_levels], axis=0)
    est = fit.estimate(lvec)
    arm = next(row for row in fit.type3() if row["effect"] == "ARM")
    assert arm["F"] == pytest.approx(est["t"] ** 2, rel=1e-9)
    assert arm["den_df"] == pytest.approx(est["df"], rel=1e-9)
    assert est["estimate"] == pytest.approx(np.mean([r["estimate"] for r in fit.diffs()]))


def test_satterthwaite_and_kr_share_scalar_df(messy) -> None:
    """For one row, KR's df is the Satterthwaite df of the unadjusted variance (the
    mmrm vignette's one-dimensional shortcut); only the SE differs."""
    kr = fit_mmrm(messy, "ARH1", ddfm="KR")
    sat = fit_mmrm(messy, "ARH1", ddfm="Satterthwaite")
    for a, b in zip(kr.diffs(), sat.diffs(), strict=True):
        assert a["df"] == pytest.approx(b["df"], rel=1e-6)
        assert a["se"] > b["se"]  # Phi_A inflates the model-based variance here
        assert (a["df_method"], b["df_method"]) == ("KR", "Satterthwaite")


# --- LS means and design -----------------------------------------------------------------


def test_lsmeans_at_observation_mean_and_equal_factor_weights(messy) -> None:
    """Covariates at their mean over the observations used (SAS LSMEANS; R emmeans on an
    mmrm fit, whose reference grid averages the model frame's rows); a factor's levels
    weighted equally."""
    fit = fit_mmrm(messy, "US")
    names = messy.names
    base_obs = messy.columns["BASE"].mean()
    first = np.r_[0, np.flatnonzero(np.diff(messy.subject)) + 1]
    base_subj = messy.columns["BASE"][first].mean()
    assert base_obs != pytest.approx(base_subj)
    for over, base in (("observations", base_obs), ("subjects", base_subj)):
        rows = fit.lsmeans(covariate_mean=over)
        row = next(r for r in rows if r["arm"] == "TRT" and r["visit"] == "V3")
        lvec = np.zeros(len(names))
        age = messy.columns["AGE"].mean() if over == "observations" else \
            messy.columns["AGE"][first].mean()
        for i, name in enumerate(names):
            lvec[i] = {"(Intercept)": 1.0, "ARM[TRT]": 1.0, "AVISIT[V3]": 1.0,
                       "ARM[TRT]:AVISIT[V3]": 1.0, "BASE": base, "BASE:AVISIT[V3]": base,
                       "AGE": age, "SEX[M]": 0.5}.get(name, 0.0)
        assert row["estimate"] == pytest.approx(float(lvec @ fit.beta), rel=1e-12)


def test_counts_and_missing_rows() -> None:
    t = 4
    data = simulate(50, true_sigma("US", t), seed=3, dropout=0.2)
    data["BASE"] = data["BASE"].copy()
    data["BASE"][:t] = np.nan  # subject 0: no baseline, not used
    design = mmrm_design(data, t)
    fit = fit_mmrm(design, "US")
    y = data["CHG"].reshape(50, t)[1:]
    arm = data["ARM"][::t][1:]
    counts = {(r["arm"], r["visit"]): r for r in fit.counts}
    for a in ("PBO", "TRT"):
        sel = arm == a
        assert counts[(a, None)]["subjects"] == int(np.sum(np.any(~np.isnan(y[sel]), axis=1)))
        for v in range(t):
            assert counts[(a, f"V{v + 1}")]["observations"] == int(np.sum(~np.isnan(y[sel, v])))
    assert design.n_obs == int(np.sum(~np.isnan(y)))
    assert design.dropped["missing BASE"] == int(np.sum(~np.isnan(data["CHG"][:t])))


# --- convergence and fallback --------------------------------------------------------------


def test_fallback_when_unstructured_is_not_identifiable() -> None:
    """Six subjects, six visits: 21 US parameters exceed the residual df; the next
    structure in the prespecified order is used and the result says why US was not."""
    t = 6
    data = simulate(6, true_sigma("AR1", t), seed=12, balanced=True)
    design = mmrm_design(data, t, baseline=None)
    fit = fit_mmrm(design, fallback=FALLBACK_ORDER)
    assert fit.attempts[0].structure == "US" and not fit.attempts[0].converged
    assert "not identifiable" in fit.attempts[0].reason
    assert fit.converged and fit.structure != "US"
    assert fit.structure == fit.attempts[-1].structure
    assert [a.structure for a in fit.attempts] == list(FALLBACK_ORDER[:len(fit.attempts)])


def test_non_convergence_is_reported(messy) -> None:
    fit = fit_mmrm(messy, "US", max_iter=1)
    assert not fit.converged
    assert "iteration limit" in fit.message and "max_iter=1" in fit.message
    assert fit.attempts[0].reason == fit.message


def test_fallback_order_records_every_rejection(messy) -> None:
    """With max_iter=1 nothing converges: every structure is tried, each with its reason."""
    fit = fit_mmrm(messy, fallback=("US", "CS"), max_iter=1)
    assert [a.structure for a in fit.attempts] == ["US", "CS"]
    assert not fit.converged and fit.message.startswith("no structure converged")


# --- Kenward-Roger and Satterthwaite written out densely ---------------------------------


def test_kenward_roger_and_satterthwaite_equal_a_dense_implementation() -> None:
    """Kenward & Roger (1997), written here with dense matrices and finite differences
    (no pattern sums, no analytic derivatives): V_h and V_hj by differencing V in SAS's
    ARH(1) parameters (a non-linear structure, so R_hj != 0), W as twice the inverse of
    the finite-difference Hessian of the dense -2 REML log likelihood;
    Phi_A = Phi + 2 Phi {sum W_hj (Q_hj - P_h Phi P_j - R_hj / 4)} Phi; Satterthwaite
    df = 2 (l'Phi l)^2 / (g'W g); KR's multi-row F scaling and df from A1, A2."""
    t = 3
    design = mmrm_design(simulate(40, true_sigma("ARH1", t), seed=21, dropout=0.2), t)
    fit = fit_mmrm(design, "ARH1", ddfm="KR", tol=1e-12)
    s = make_structure("ARH1", t)
    x, y = design.x, design.y
    n, p = x.shape
    phi0 = fit.cov_params.copy()
    k = len(phi0)

    def v_of(phi):
        return dense_v(design, [s.sigma_nat(phi)])

    def neg2(phi):
        vinv = np.linalg.inv(v_of(phi))
        xtvx = x.T @ vinv @ x
        r = y - x @ np.linalg.solve(xtvx, x.T @ vinv @ y)
        return (np.linalg.slogdet(v_of(phi))[1] + np.linalg.slogdet(xtvx)[1] + r @ vinv @ r
                + (n - p) * LOG_2PI)

    def phi_of(phi):
        vinv = np.linalg.inv(v_of(phi))
        return np.linalg.inv(x.T @ vinv @ x)

    h = 1e-4 * np.maximum(np.abs(phi0), 0.1)
    e = np.eye(k) * h
    hess = np.array([[(neg2(phi0 + e[i] + e[j]) - neg2(phi0 + e[i] - e[j])
                       - neg2(phi0 - e[i] + e[j]) + neg2(phi0 - e[i] - e[j])) / (4 * h[i] * h[j])
                      for j in range(k)] for i in range(k)])
    w = 2 * np.linalg.inv(hess)
    np.testing.assert_allclose(fit.cov_params_cov, w, rtol=2e-4, atol=1e-8)
    v = v_of(phi0)
    vinv = np.linalg.inv(v)
    big_phi = phi_of(phi0)
    dv = [(v_of(phi0 + e[i]) - v_of(phi0 - e[i])) / (2 * h[i]) for i in range(k)]
    d2v = [[(v_of(phi0 + e[i] + e[j]) - v_of(phi0 + e[i] - e[j]) - v_of(phi0 - e[i] + e[j])
             + v_of(phi0 - e[i] - e[j])) / (4 * h[i] * h[j]) for j in range(k)]
           for i in range(k)]
    pmat = [-x.T @ vinv @ dv[i] @ vinv @ x for i in range(k)]
    inner = np.zeros((p, p))
    for i in range(k):
        for j in range(k):
            q = x.T @ vinv @ dv[i] @ vinv @ dv[j] @ vinv @ x
            r = x.T @ vinv @ d2v[i][j] @ vinv @ x
            inner += w[i, j] * (q - pmat[i] @ big_phi @ pmat[j] - r / 4)
    phi_a = big_phi + 2 * big_phi @ inner @ big_phi
    np.testing.assert_allclose(fit.cov_beta_kr, phi_a, rtol=2e-4, atol=1e-9)
    # Satterthwaite / scalar KR df of the last visit's difference
    from trialreport.stats.mmrm_design import reference_grid

    last = design.visit_levels[-1]
    lvec = (reference_grid(design, {"ARM": "TRT", "AVISIT": last})
            - reference_grid(design, {"ARM": "PBO", "AVISIT": last}))
    g = np.array([(lvec @ phi_of(phi0 + e[i]) @ lvec - lvec @ phi_of(phi0 - e[i]) @ lvec)
                  / (2 * h[i]) for i in range(k)])
    df = 2 * (lvec @ big_phi @ lvec) ** 2 / (g @ w @ g)
    row = next(r for r in fit.diffs() if r["visit"] == last)
    assert row["df"] == pytest.approx(df, rel=1e-4)
    assert row["se"] == pytest.approx(np.sqrt(lvec @ phi_a @ lvec), rel=1e-4)
    # multi-row KR: the visit main effect (2 rows)
    from trialreport.stats.mmrm_design import sum_coding_map

    lmat = sum_coding_map(design)[design.term_columns[("AVISIT",)]]
    c = lmat.shape[0]
    m = lmat.T @ np.linalg.solve(lmat @ big_phi @ lmat.T, lmat)
    mp = [m @ big_phi @ pm @ big_phi for pm in pmat]
    a1 = sum(w[i, j] * np.trace(mp[i]) * np.trace(mp[j]) for i in range(k) for j in range(k))
    a2 = sum(w[i, j] * np.trace(mp[i] @ mp[j]) for i in range(k) for j in range(k))
    b = (a1 + 6 * a2) / (2 * c)
    gg = ((c + 1) * a1 - (c + 4) * a2) / ((c + 2) * a2)
    c1, c2, c3 = (gg / (3 * c + 2 * (1 - gg)), (c - gg) / (3 * c + 2 * (1 - gg)),
                  (c + 2 - gg) / (3 * c + 2 * (1 - gg)))
    e_star = 1 / (1 - a2 / c)
    v_star = 2 / c * (1 + c1 * b) / ((1 - c2 * b) ** 2 * (1 - c3 * b))
    rho = v_star / (2 * e_star ** 2)
    dfm = 4 + (c + 2) / (c * rho - 1)
    lam = dfm / (e_star * (dfm - 2))
    est = lmat @ fit.beta
    f = lam * est @ np.linalg.solve(lmat @ phi_a @ lmat.T, est) / c
    visit = next(r for r in fit.type3() if r["effect"] == "AVISIT")
    assert visit["den_df"] == pytest.approx(dfm, rel=1e-3)
    assert visit["scale"] == pytest.approx(lam, rel=1e-4)
    assert visit["F"] == pytest.approx(f, rel=1e-4)
    # multi-row Satterthwaite (Fai & Cornelius 1996, as lmerTest and mmrm): the rows of
    # L rotated to the eigenvectors of L Phi L', each row's df, E = sum nu / (nu - 2)
    sat = fit_mmrm(design, "ARH1", ddfm="Satterthwaite", tol=1e-12)
    vals, vecs = np.linalg.eigh(lmat @ big_phi @ lmat.T)
    nus = []
    for row_l in vecs.T @ lmat:
        g = np.array([(row_l @ phi_of(phi0 + e[i]) @ row_l - row_l @ phi_of(phi0 - e[i])
                       @ row_l) / (2 * h[i]) for i in range(k)])
        nus.append(2 * (row_l @ big_phi @ row_l) ** 2 / (g @ w @ g))
    nus = np.array(nus)
    assert np.all(nus > 2) and abs(nus[0] - nus[1]) > 0.1
    e_sum = np.sum(nus / (nus - 2))
    visit = next(r for r in sat.type3() if r["effect"] == "AVISIT")
    assert visit["den_df"] == pytest.approx(2 * e_sum / (e_sum - c), rel=1e-4)
    assert visit["F"] == pytest.approx(est @ np.linalg.solve(lmat @ big_phi @ lmat.T, est) / c,
                                       rel=1e-6)


@pytest.mark.parametrize("kind", ["US", "TOEPH", "AR1"])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_newton_hessian_equals_finite_differences_of_the_gradient(kind, method) -> None:
    """The optimiser's Hessian in the working parameters (analytic in SAS's parameters,
    chain rule through the parameterisation) against differences of the gradient."""
    from trialreport.stats.mmrm import _Objective, _problem

    t = 4
    design = mmrm_design(simulate(60, true_sigma("US", t), seed=13, dropout=0.2), t,
                         group="ARM")
    obj = _Objective(_problem(design), make_structure(kind, t), method == "REML")
    theta = np.random.default_rng(4).normal(scale=0.3, size=obj.k)
    _, grad, hess = obj.newton(theta)
    np.testing.assert_allclose(grad, obj.value_grad(theta)[1], rtol=1e-9, atol=1e-9)
    h = 1e-5
    fd = np.array([(obj.value_grad(theta + h * e)[1] - obj.value_grad(theta - h * e)[1])
                   / (2 * h) for e in np.eye(obj.k)])
    np.testing.assert_allclose(hess, (fd + fd.T) / 2, rtol=1e-5, atol=1e-5)


def test_kr_linear_differs_only_for_non_linear_structures(messy) -> None:
    """R_hj (second derivatives of Sigma in SAS's parameters) vanishes for UN, so KR and
    KR-linear agree there; for ARH(1) it does not."""
    for kind, same in (("US", True), ("ARH1", False)):
        full = fit_mmrm(messy, kind, ddfm="KR").cov_beta_kr
        linear = fit_mmrm(messy, kind, ddfm="KR-linear").cov_beta_kr
        assert np.allclose(full, linear, rtol=1e-10, atol=1e-14) == same
    with pytest.raises(ValueError, match="no arm"):
        design = build_design({"id": [1, 1, 2, 2], "v": [1, 2, 1, 2], "y": [1.0, 2.0, 2.0, 4.5]},
                              response="y", subject="id", visit="v")
        fit_mmrm(design, "CS").diffs()
