"""Reference-based imputation (trialreport.stats.imputation) against independent
computations written out here:

- ICE derivation; the strategies' means by hand; Carpenter's covariance rule by the
  property it is built to have (the reference's conditional distribution after the ICE);
- imputed values against the conditional normal mean written out with numpy from the
  fitted MMRM's coefficients (by name) and covariance;
- under MAR with one covariance, conditional mean imputation + per-visit ANCOVA equals
  the MMRM's LS means and differences at every visit (exact: see the test);
- the leave-one-out and bootstrap refits against ``fit_mmrm`` on the reduced or
  duplicated data; the jackknife SE against a brute-force loop of full analyses;
- the ANCOVA against ``trialreport.stats.ancova.ancova_change`` (statsmodels);
- Rubin's rules and the Monte Carlo error by hand; determinism (seeds, workers);
- delta adjustment: zero delta, the exact linear shift, the tipping point at a grid edge.
Published numbers (rbmi's unit tests, mice, Heymans & Eekhout) are in
tests/test_imputation_reference.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from trialreport.stats import imputation as imp
from trialreport.stats import imputation_model as im
from trialreport.stats import imputation_pool as ip
from trialreport.stats.mmrm import build_design, fit_mmrm

T = 4
VISITS = [f"V{v + 1}" for v in range(T)]


def simulate(n: int, seed: int = 0, dropout: float = 0.15, intermittent: float = 0.0,
             keep_first: bool = False) -> dict[str, np.ndarray]:
    """A long table: CHG at V1..V4, ARM (PBO/TRT), BASE; monotone dropout (none before
    V2 with ``keep_first``), optional intermittent gaps."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(T, T))
    sigma = a @ a.T / T + np.eye(T)
    arm = np.arange(n) % 2
    base = rng.normal(10, 2, n)
    mu = (1 + np.linspace(0, 1, T) + arm[:, None] * np.linspace(0.2, 1.5, T)
          + 0.5 * (base[:, None] - 10))
    y = mu + rng.multivariate_normal(np.zeros(T), sigma, size=n)
    if dropout:
        first_missing = rng.geometric(dropout, n)  # 1-based visit of dropout
        if keep_first:
            first_missing = np.maximum(first_missing, 2)
        y[np.arange(T)[None] >= first_missing[:, None] - 1] = np.nan
    if intermittent:
        gap = rng.random((n, T)) < intermittent
        gap[:, -1] = False
        if keep_first:
            gap[:, 0] = False
        y[gap] = np.nan
    return {"USUBJID": np.repeat([f"S{i:03d}" for i in range(n)], T),
            "AVISIT": np.tile(VISITS, n), "ARM": np.repeat(np.array(["PBO", "TRT"])[arm], T),
            "BASE": np.repeat(base, T), "CHG": y.reshape(-1)}


def prep(d: dict, **kw) -> imp.ImputationData:
    kw.setdefault("strategy", {"TRT": "JR", "PBO": "MAR"})
    return imp.prepare(d, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                       baseline="BASE", levels={"AVISIT": VISITS}, reference="PBO", **kw)


def without(d: dict, sid: str) -> dict:
    keep = d["USUBJID"] != sid
    return {k: v[keep] for k, v in d.items()}


def ancova_by_hand(y: np.ndarray, trt: np.ndarray, base: np.ndarray | None) -> np.ndarray:
    """Arm coefficient of OLS y_j ~ 1 + trt (+ base) at each visit (numpy lstsq)."""
    cols = [np.ones(len(trt)), trt.astype(float)] + ([base] if base is not None else [])
    x = np.column_stack(cols)
    return np.linalg.lstsq(x, y, rcond=None)[0][1]


def rows_of(result, kind="difference"):
    return [r for r in result.rows if r["kind"] == kind]


# --- ICE and strategies ------------------------------------------------------------


def test_derive_ice_monotone_intermittent_none() -> None:
    nan = np.nan
    y = np.array([[1, 2, 3, 4],          # complete: no ICE
                  [1, 2, nan, nan],      # monotone gap: ICE at V3 (index 2)
                  [1, nan, 3, 4],        # intermittent only: no ICE
                  [1, nan, 3, nan],      # intermittent then monotone: ICE at V4
                  [nan, nan, nan, nan],  # nothing observed: ICE at V1
                  [nan, 2, nan, nan]], dtype=float)
    np.testing.assert_array_equal(im.derive_ice(y), [4, 2, 4, 3, 0, 2])


def test_strategy_means_by_hand() -> None:
    """rbmi's definitions written out per visit for every ICE position (J = 3)."""
    own, ref = np.array([1.0, 3.0, 5.0]), np.array([2.0, 6.0, 10.0])
    cases = {
        ("MAR", 1): own, ("JR", 0): ref, ("JR", 1): [1, 6, 10], ("JR", 2): [1, 3, 10],
        ("JR", 3): own, ("CR", 1): ref, ("CR", 3): ref,
        ("CIR", 0): ref, ("CIR", 1): [1, 1 + 4, 1 + 8], ("CIR", 2): [1, 3, 3 + 4],
        ("CIR", 3): own, ("LMCF", 1): [1, 1, 1], ("LMCF", 2): [1, 3, 3], ("LMCF", 3): own}
    for (s, ice), expected in cases.items():
        got = im.strategy_means(np.array([s]), np.array([ice]), own[None], ref[None])[0]
        np.testing.assert_array_equal(got, expected, err_msg=f"{s} ICE at {ice}")
    with pytest.raises(ValueError, match="LMCF"):
        im.strategy_means(np.array(["LMCF"]), np.array([0]), own[None], ref[None])


def test_carpenter_covariance_keeps_own_before_and_reference_conditional_after() -> None:
    """Carpenter et al. (2013, 4.3): the pre-ICE block is the subject's own; the
    distribution of post- given pre-ICE visits is the reference's (regression
    coefficients and residual covariance)."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    own, ref = a @ a.T + np.eye(4), b @ b.T + np.eye(4)
    for k in (1, 2, 3):
        s = im.compute_sigma(own, ref, k)
        p, q = slice(0, k), slice(k, 4)
        np.testing.assert_allclose(s[p, p], own[p, p], rtol=1e-12)
        np.testing.assert_allclose(s, s.T, rtol=1e-12)
        reg = s[q, p] @ np.linalg.inv(s[p, p])
        np.testing.assert_allclose(reg, ref[q, p] @ np.linalg.inv(ref[p, p]), rtol=1e-10)
        resid = s[q, q] - reg @ s[p, q]
        np.testing.assert_allclose(resid, ref[q, q] - ref[q, p] @ np.linalg.solve(
            ref[p, p], ref[p, q]), rtol=1e-10, atol=1e-12)
        assert np.linalg.eigvalsh(s).min() > 0
    assert im.compute_sigma(own, ref, 0) is ref
    assert im.compute_sigma(own, ref, 4) is own
    assert im.strategy_sigma("CR", 2, own, ref) is ref
    assert im.strategy_sigma("LMCF", 2, own, ref) is own


# --- imputation against the conditional normal mean written out ---------------------


def mean_by_name(fit, arm: str, base: float) -> np.ndarray:
    """X beta at each visit from the coefficients by name (reference coding)."""
    b = dict(zip(fit.beta_names, fit.beta, strict=True))
    out = []
    for v in VISITS:
        m = b["(Intercept)"] + b.get(f"AVISIT[{v}]", 0.0) + b["BASE"] * base
        m += b.get(f"BASE:AVISIT[{v}]", 0.0) * base
        if arm == "TRT":
            m += b["ARM[TRT]"] + b.get(f"ARM[TRT]:AVISIT[{v}]", 0.0)
        out.append(m)
    return np.array(out)


@pytest.mark.parametrize("same_cov", [True, False])
@pytest.mark.parametrize("strategy", ["JR", "CIR", "CR", "LMCF"])
def test_imputed_values_equal_conditional_normal_mean(same_cov, strategy) -> None:
    d = simulate(120, seed=3, intermittent=0.05, keep_first=True)
    y = d["CHG"].reshape(-1, T)  # a view: some V4 dropouts with a gap at V2 before
    y[1::4, 3] = np.nan
    y[1::4, 1] = np.nan
    data = prep(d, strategy={"TRT": strategy, "PBO": "MAR"})
    res = imp.condmean_impute(data, same_cov=same_cov)
    fit = res["fit"]
    sig_pbo = fit.sigma[0]
    sig_trt = fit.sigma[0] if same_cov else fit.sigma[1]
    checked = gaps = 0
    for i in range(data.n_subjects):
        ice = data.ice[i]
        if not (data.arm[i] == 1 and 0 < ice < T):
            continue
        base = data.columns["BASE"][i]
        own, ref = mean_by_name(fit, "TRT", base), mean_by_name(fit, "PBO", base)
        post = np.arange(T) >= ice
        mu = {"JR": np.where(post, ref, own), "CR": ref,
              "CIR": np.where(post, own[ice - 1] + ref - ref[ice - 1], own),
              "LMCF": np.where(post, own[ice - 1], own)}[strategy]
        if same_cov or strategy == "LMCF":
            s = sig_trt
        elif strategy == "CR":
            s = sig_pbo
        else:  # Carpenter's rule written out
            p, q = slice(0, ice), slice(ice, T)
            r11i = np.linalg.inv(sig_pbo[p, p])
            s = np.zeros((T, T))
            s[p, p] = sig_trt[p, p]
            s[q, p] = sig_pbo[q, p] @ r11i @ sig_trt[p, p]
            s[p, q] = s[q, p].T
            s[q, q] = sig_pbo[q, q] - sig_pbo[q, p] @ r11i @ (sig_pbo[p, p] - sig_trt[p, p]) \
                @ r11i @ sig_pbo[p, q]
        y = data.y[i]
        o, m = ~np.isnan(y), np.isnan(y)
        expected = mu[m] + s[np.ix_(m, o)] @ np.linalg.inv(s[np.ix_(o, o)]) @ (y[o] - mu[o])
        np.testing.assert_allclose(res["y"][i, m], expected, rtol=1e-10)
        np.testing.assert_array_equal(res["y"][i, o], y[o])
        checked += 1
        gaps += bool(np.any(m[:ice]))  # a gap before the ICE: imputed under own S11
    assert checked >= 5 and gaps >= 3


@pytest.mark.parametrize("strategy", ["JR", "CR", "CIR", "LMCF"])
def test_observed_post_ice_values_leave_the_fit_but_are_conditioned_on(strategy) -> None:
    """rbmi: observed values after an ICE with a non-MAR strategy are excluded from the
    imputation model's fit only; they stay in the data and are conditioned on."""
    d = simulate(80, seed=4, dropout=0.0)
    sid = np.unique(d["USUBJID"])
    chosen = [s for s, a in zip(d["USUBJID"][::T], d["ARM"][::T], strict=True) if a == "TRT"][:6]
    ice = {s: ("V2", strategy) for s in chosen}
    d2 = dict(d)
    d2["CHG"] = d["CHG"].copy()
    rows = np.flatnonzero(np.isin(d["USUBJID"], chosen[:3]) & (d["AVISIT"] == "V4"))
    d2["CHG"][rows] = np.nan  # three of them missing at V4, V2-V3 observed after the ICE
    data = prep(d2, ice=ice)
    res = imp.condmean_impute(data)
    removed = dict(d2)
    removed["CHG"] = np.where(np.isin(d2["USUBJID"], chosen) & np.isin(d2["AVISIT"],
                                                                       VISITS[1:]),
                              np.nan, d2["CHG"])
    ref_fit = fit_mmrm(build_design(removed, response="CHG", subject="USUBJID",
                                    visit="AVISIT", arm="ARM", baseline="BASE",
                                    levels={"AVISIT": VISITS}, reference={"ARM": "PBO"}))
    np.testing.assert_allclose(res["fit"].beta, ref_fit.beta, rtol=1e-8)
    np.testing.assert_allclose(res["fit"].sigma[0], ref_fit.sigma[0], rtol=1e-8)
    obs = ~np.isnan(data.y)
    np.testing.assert_array_equal(res["y"][obs], data.y[obs])
    assert len(sid) == data.n_subjects


# --- CMI under MAR equals the MMRM ---------------------------------------------------


@pytest.mark.parametrize("intermittent", [0.0, 0.08])
def test_cmi_under_mar_equals_mmrm_lsmeans(intermittent) -> None:
    """Under MAR with one (US) covariance and an imputation model in which every term
    interacts with visit (arm x visit, baseline x visit), the REML beta is the GLS
    estimate at the REML covariance, which satisfies sum_i X_i' Sigma^-1 e_i = 0 with
    e_i the subject's residuals completed by their conditional means (Sigma^-1 e_i is
    zero at the missing visits). With X_i = I_T (x) x_i' this is (Sigma^-1 (x) I)
    sum_i e_i (x) x_i = 0, i.e. the per-visit OLS normal equations of the completed data:
    the ANCOVA of y_j on arm and baseline at each visit reproduces the MMRM's visit-j
    coefficients exactly, so the CMI estimates equal the MMRM's LS-mean differences and
    LS means (baseline at its mean over subjects), for any MAR pattern, monotone or not."""
    d = simulate(150, seed=11, intermittent=intermittent)
    data = prep(d, strategy="MAR")
    cmi = imp.condmean_jackknife(data)
    fit = fit_mmrm(build_design(d, response="CHG", subject="USUBJID", visit="AVISIT",
                                arm="ARM", baseline="BASE", levels={"AVISIT": VISITS},
                                reference={"ARM": "PBO"}))
    for ours, theirs in zip(rows_of(cmi), fit.diffs(), strict=True):
        assert ours["visit"] == theirs["visit"]
        assert ours["estimate"] == pytest.approx(theirs["estimate"], abs=1e-8)
    # LS means: the MMRM's at the mean baseline of all subjects (the MMRM's own
    # covariate means leave out subjects with no observed visit)
    ours = {(r["arm"], r["visit"]): r["estimate"] for r in rows_of(cmi, "lsmean")}
    mean_base = float(np.mean(data.columns["BASE"]))
    for a in ("PBO", "TRT"):
        for v, m in zip(VISITS, mean_by_name(fit, a, mean_base), strict=True):
            assert ours[(a, v)] == pytest.approx(m, abs=1e-8)


# --- refits ---------------------------------------------------------------------------


def test_leave_one_out_and_bootstrap_refits_equal_fit_mmrm() -> None:
    """Tolerance 1e-5: fit_mmrm stops at SAS's relative Hessian criterion (1e-8), where
    its gradient can still be 1e-5 (the refit here goes on to rounding, 1e-8 or less)."""
    d = simulate(60, seed=7, intermittent=0.05)
    data = prep(d)
    model, _ = imp._build_model(data, "US", False, None, None)
    phi0 = model.fit.cov_params
    for i in (0, 5, 17):
        pats, n_obs = model.fitdata.leave_out(i)
        beta, sig, _ = model.fitdata.fit(pats, n_obs, phi0)
        reduced = dict(d)
        reduced["CHG"] = np.where(data.fit_use.reshape(-1), data.y.reshape(-1), np.nan)
        reduced = without(reduced, data.subject_ids[i])
        ref = fit_mmrm(build_design(reduced, response="CHG", subject="USUBJID",
                                    visit="AVISIT", arm="ARM", baseline="BASE",
                                    levels={"AVISIT": VISITS}, reference={"ARM": "PBO"},
                                    group="ARM"))
        np.testing.assert_allclose(beta, ref.beta, rtol=1e-5, atol=1e-7)
        for a in range(2):
            np.testing.assert_allclose(sig[a], ref.sigma[a], rtol=1e-5)
    # a bootstrap sample: subject 3 twice, subject 4 not at all
    counts = np.ones(data.n_subjects, dtype=np.int64)
    counts[3], counts[4] = 2, 0
    pats, n_obs = model.fitdata.weighted(counts)
    beta, sig, _ = model.fitdata.fit(pats, n_obs, phi0)
    long = dict(d)
    long["CHG"] = np.where(data.fit_use.reshape(-1), data.y.reshape(-1), np.nan)
    rows3 = long["USUBJID"] == data.subject_ids[3]
    dup = {k: np.concatenate([v, v[rows3]]) for k, v in long.items()}
    dup["USUBJID"] = dup["USUBJID"].astype(object)
    dup["USUBJID"][-T:] = "copy"
    dup = without(dup, data.subject_ids[4])
    ref = fit_mmrm(build_design(dup, response="CHG", subject="USUBJID", visit="AVISIT",
                                arm="ARM", baseline="BASE", levels={"AVISIT": VISITS},
                                reference={"ARM": "PBO"}, group="ARM"))
    np.testing.assert_allclose(beta, ref.beta, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sig[1], ref.sigma[1], rtol=1e-5)


# --- jackknife against a brute-force loop --------------------------------------------


@pytest.mark.parametrize("delta", [None, {"TRT": 1.5}])
def test_jackknife_se_equals_brute_force_loop(delta) -> None:
    """Each replicate: drop the subject from the long table, rerun the whole procedure
    (fit_mmrm from scratch, conditional mean imputation, delta on the imputed values
    from the ICE on, ANCOVA by numpy lstsq), then se = sqrt((n-1)/n sum (t_i - mean)^2)."""
    d = simulate(36, seed=21, intermittent=0.05)
    data = prep(d)
    cmi = imp.condmean_jackknife(data, delta=delta)

    def estimate(dd: dict) -> np.ndarray:
        sub = prep(dd)
        y = imp.condmean_impute(sub)["y"]
        if delta:
            y = y + np.where(sub.delta_eligible & (sub.arm == 1)[:, None], delta["TRT"], 0.0)
        return ancova_by_hand(y, sub.arm, sub.columns["BASE"])

    full = estimate(d)
    loo = np.array([estimate(without(d, s)) for s in data.subject_ids])
    n = len(loo)
    se = np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    for j, row in enumerate(rows_of(cmi)):
        assert row["estimate"] == pytest.approx(full[j], rel=1e-9)
        assert row["se"] == pytest.approx(se[j], rel=1e-6)
        z = row["estimate"] / row["se"]
        assert row["p"] == pytest.approx(2 * special.ndtr(-abs(z)), rel=1e-12)
        assert row["lower"] == pytest.approx(row["estimate"] - 1.959963984540054 * row["se"])
        assert row["df"] == math.inf


# --- the analysis model ----------------------------------------------------------------


def test_ancova_equals_statsmodels_ancova_change() -> None:
    from trialreport.stats.ancova import ancova_change

    rng = np.random.default_rng(2)
    n = 57
    arm = rng.integers(0, 2, n)
    base = rng.normal(20, 4, n)
    y = 1 + 0.8 * arm + 0.3 * base + rng.normal(size=n)
    res = ip.ancova(y[:, None], arm, 2, 0, base[:, None])
    ref = ancova_change({"ARM": np.where(arm == 1, "B", "A"), "CHG": y, "BASE": base}, "A")
    b = ref["arms"]["B"]
    assert res["diff"][0, 0, 0] == pytest.approx(b["diff"], rel=1e-10)
    assert res["diff_se"][0, 0] == pytest.approx(b["diff_se"], rel=1e-10)
    assert float(res["df"]) == ref["df_resid"]
    for k, a in enumerate("AB"):
        assert res["lsmean"][k, 0, 0] == pytest.approx(ref["arms"][a]["lsmean"], rel=1e-10)
        assert res["lsmean_se"][k, 0] == pytest.approx(ref["arms"][a]["se"], rel=1e-10)


# --- Rubin's rules and Monte Carlo error by hand ---------------------------------------


def test_rubin_rules_hand_worked() -> None:
    q = [1.0, 2.0, 4.0]
    se = [1.0, 1.0, 2.0]
    out = ip.rubin_rules(q, se, df_com=10)
    # qbar = 7/3; ubar = (1 + 1 + 4)/3 = 2; b = ((4/3)^2 + (1/3)^2 + (5/3)^2)/2 = 7/3
    # t = 2 + (4/3)(7/3) = 46/9; lambda = (28/9)/(46/9) = 14/23
    lam = 14 / 23
    v_old = 2 / lam**2
    v_obs = 11 / 13 * 10 * (1 - lam)
    assert out["estimate"] == pytest.approx(7 / 3, rel=1e-14)
    assert out["ubar"] == pytest.approx(2.0, rel=1e-14)
    assert out["b"] == pytest.approx(7 / 3, rel=1e-14)
    assert out["total"] == pytest.approx(46 / 9, rel=1e-14)
    assert out["se"] == pytest.approx(math.sqrt(46 / 9), rel=1e-14)
    assert out["df"] == pytest.approx(v_old * v_obs / (v_old + v_obs), rel=1e-12)
    assert out["r"] == pytest.approx((28 / 9) / 2, rel=1e-14)
    crit = special.stdtrit(out["df"], 0.975)
    assert out["lower"] == pytest.approx(7 / 3 - crit * math.sqrt(46 / 9), rel=1e-12)
    # Monte Carlo error of the estimate: sqrt(b / M), and the jackknife over imputations
    # of the mean gives exactly that
    assert out["mcse_estimate"] == pytest.approx(math.sqrt(7 / 9), rel=1e-14)
    loo = np.array([np.mean(np.delete(q, j)) for j in range(3)])
    assert math.sqrt(2 / 3 * np.sum((loo - loo.mean()) ** 2)) == pytest.approx(
        out["mcse_estimate"], rel=1e-12)
    loo_se = np.array([ip.rubin_rules(np.delete(q, j), np.delete(se, j), 10)["se"]
                       for j in range(3)])
    assert out["mcse_se"] == pytest.approx(
        math.sqrt(2 / 3 * np.sum((loo_se - loo_se.mean()) ** 2)), rel=1e-12)
    # edge cases of rbmi's rubin_df
    assert ip.barnard_rubin_df(5, 0.0, 1.0, math.inf) == math.inf
    assert ip.barnard_rubin_df(5, 0.0, 1.0, 20) == pytest.approx(21 / 23 * 20)
    assert ip.barnard_rubin_df(5, 0.5, 1.0, math.inf) == pytest.approx(4 / (1.2 * 0.5) ** 2)


# --- determinism -------------------------------------------------------------------


def test_same_seed_byte_identical_and_workers_do_not_matter() -> None:
    d = simulate(60, seed=8, intermittent=0.05)
    data = prep(d)
    a = imp.mi_bootstrap(data, m=6, seed=123)
    b = imp.mi_bootstrap(data, m=6, seed=123, workers=2)
    c = imp.mi_bootstrap(data, m=6, seed=124)
    assert repr(a.rows) == repr(b.rows)
    assert repr(a.rows) != repr(c.rows)
    j1 = imp.condmean_jackknife(data)
    j2 = imp.condmean_jackknife(data, workers=2)
    assert repr(j1.rows) == repr(j2.rows)


# --- delta adjustment and the tipping point -------------------------------------------


def test_delta_zero_is_exact_and_shift_is_linear() -> None:
    d = simulate(80, seed=9, intermittent=0.05)
    data = prep(d)
    base = imp.condmean_jackknife(data)
    zero = imp.condmean_jackknife(data, delta={"TRT": 0.0, "PBO": 0.0})
    assert [r["estimate"] for r in base.rows] == [r["estimate"] for r in zero.rows]
    assert [r["se"] for r in base.rows] == [r["se"] for r in zero.rows]
    # no covariates in the analysis: the arm coefficient is a difference of means, so a
    # delta moves it by delta x the share of the arm's subjects with an adjusted value
    plain = imp.condmean_jackknife(data, analysis_covariates=[])
    elig = data.delta_eligible
    n_arm = np.bincount(data.arm)
    for arm_name, a, sign in (("TRT", 1, 1.0), ("PBO", 0, -1.0)):
        moved = plain.at({arm_name: 2.0})
        for j, (r0, r1) in enumerate(zip(rows_of(plain), [r for r in moved if
                                                         r["kind"] == "difference"],
                                         strict=True)):
            share = np.sum(elig[data.arm == a, j]) / n_arm[a]
            assert r1["estimate"] - r0["estimate"] == pytest.approx(sign * 2.0 * share,
                                                                    abs=1e-12)
    # with the baseline in the analysis: delta x the arm coefficient of the regression of
    # the indicator of adjusted values on (1, arm, baseline)
    moved = base.at({"TRT": 2.0})
    for j, (r0, r1) in enumerate(zip(rows_of(base), [r for r in moved
                                                     if r["kind"] == "difference"],
                                     strict=True)):
        ind = (elig[:, j] & (data.arm == 1)).astype(float)
        slope = ancova_by_hand(ind, data.arm, data.columns["BASE"])
        assert r1["estimate"] - r0["estimate"] == pytest.approx(2.0 * slope, abs=1e-12)
    # rerunning with the delta equals re-pooling the same replicates with it
    direct = imp.condmean_jackknife(data, delta={"TRT": 2.0})
    for r1, r2 in zip(moved, direct.rows, strict=True):
        assert r1["estimate"] == pytest.approx(r2["estimate"], abs=1e-12)
        assert r1["se"] == pytest.approx(r2["se"], rel=1e-12)


def test_mi_delta_applied_to_each_imputation() -> None:
    d = simulate(60, seed=10)
    data = prep(d)
    res = imp.mi_bootstrap(data, m=5, seed=3)
    plain = imp.mi_bootstrap(data, m=5, seed=3, analysis_covariates=[])
    zero = res.at({"TRT": 0.0})
    assert repr(zero) == repr(res.rows)
    # no covariates: each imputation's estimate moves by delta x share, so the pooled one
    # too, and the between-imputation variance is unchanged
    moved = plain.at({"TRT": 1.0})
    elig = data.delta_eligible
    share = np.sum(elig[data.arm == 1], axis=0) / np.sum(data.arm == 1)
    for j, (r0, r1) in enumerate(zip(rows_of(plain), [r for r in moved
                                                      if r["kind"] == "difference"],
                                     strict=True)):
        assert r1["estimate"] - r0["estimate"] == pytest.approx(share[j], abs=1e-12)
        assert r1["b"] == pytest.approx(r0["b"], rel=1e-9, abs=1e-15)


def test_tipping_point_at_grid_edge_and_one_step_past() -> None:
    """The treatment raises the outcome here: imputed treatment values made lower
    (negative delta) tip the conclusion; higher ones only strengthen it."""
    d = simulate(90, seed=12)
    data = prep(d)
    cmi = imp.condmean_jackknife(data)
    tp = imp.tipping_point(cmi, -np.arange(0.0, 20.0, 0.5), ["TRT"])
    assert tp.significant_at_zero
    assert tp.tipping_delta is not None and tp.refined is not None
    assert tp.tipping_delta <= tp.refined < tp.tipping_delta + 0.5
    # independent root: estimate linear and jackknife variance quadratic in delta; fit
    # them through three deltas and solve (est / se)^2 = z^2 for the root nearest 0 below
    at = {x: next(r for r in cmi.at({"TRT": x}) if r["kind"] == "difference"
                  and r["visit"] == "V4") for x in (0.0, -1.0, -2.0)}
    xs = [0.0, -1.0, -2.0]
    e = np.polyfit(xs, [at[x]["estimate"] for x in xs], 1)
    v = np.polyfit(xs, [at[x]["se"] ** 2 for x in xs], 2)
    z2 = special.ndtri(0.975) ** 2
    roots = np.roots(np.polysub(np.polymul(e, e), z2 * v))
    root = max(r.real for r in roots if abs(r.imag) < 1e-12 and r.real < 0)
    assert tp.refined == pytest.approx(root, rel=1e-8)
    # grid edge: a grid ending just past the root tips at its last value; the same grid
    # without its last value does not tip
    edge = np.linspace(0.0, root * (1 + 1e-9), 7)
    tp_edge = imp.tipping_point(cmi, edge, ["TRT"])
    assert tp_edge.tipping_delta == edge[-1]
    assert tp_edge.rows[-1]["significant"] is False
    assert all(r["significant"] for r in tp_edge.rows[:-1])
    short = imp.tipping_point(cmi, edge[:-1], ["TRT"])
    assert short.tipping_delta is None and short.refined is None
    # the other direction does not tip, and raises the estimate step by step
    up = imp.tipping_point(cmi, np.arange(0.0, 5.0, 1.0), ["TRT"])
    assert up.tipping_delta is None
    assert all(np.diff([r["estimate"] for r in up.rows]) > 0)
    # raising the reference arm's imputed values tips it too
    ref = imp.tipping_point(cmi, np.arange(0.0, 40.0, 1.0), ["PBO"])
    assert ref.tipping_delta is not None and ref.tipping_delta > 0


def test_strategies_table_and_settings() -> None:
    d = simulate(60, seed=13)
    data = prep(d, strategy="MAR")
    assert np.any(data.ice == 0)
    with pytest.raises(ValueError, match="LMCF needs at least one visit"):
        imp.analyse_strategies(data, ["LMCF"], method="condmean")
    rows = imp.analyse_strategies(data, ["MAR", "JR", "CR", "CIR"], method="condmean")
    assert {r["strategy"] for r in rows} == {"MAR", "JR", "CR", "CIR"}
    mar = imp.condmean_jackknife(data)
    got = [r["estimate"] for r in rows if r["strategy"] == "MAR"]
    assert got == [r["estimate"] for r in mar.rows]
    jr = [r for r in rows if r["strategy"] == "JR" and r["kind"] == "difference"]
    mr = rows_of(mar)
    assert jr[-1]["estimate"] < mr[-1]["estimate"]  # jump to reference shrinks the effect
    res = imp.mi_bootstrap(data, m=3, seed=1)
    assert res.settings["m"] == 3 and res.settings["seed"] == 1
    assert res.settings["structure"] == "US"


def test_prepare_from_a_dataframe_with_missing_rows_and_given_ices() -> None:
    import pandas as pd

    d = simulate(20, seed=14)
    frame = pd.DataFrame(d)
    frame = frame[~frame["CHG"].isna()].sample(frac=1.0, random_state=1)  # rows dropped
    first = str(frame["USUBJID"].iloc[0])
    data = imp.prepare(frame, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                       baseline="BASE", levels={"AVISIT": VISITS}, reference="PBO",
                       ice={first: "V3"}, strategy="CIR")
    full = prep(d)
    # a subject with no row at all is not in the data (one row with a missing response
    # keeps it: imputed from the model alone)
    present = np.isin(full.subject_ids, data.subject_ids)
    assert data.n_subjects == present.sum() < full.n_subjects
    np.testing.assert_array_equal(np.isnan(data.y), np.isnan(full.y[present]))
    i = data.subject_ids.tolist().index(first)
    assert data.ice[i] == 2 and data.strategy[i] == "CIR"
    others = np.arange(data.n_subjects) != i
    assert np.all(data.ice[others] == T) and np.all(data.strategy[others] == "MAR")
    twice = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(ValueError, match="two rows"):
        imp.prepare(twice, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                    levels={"AVISIT": VISITS})
    with pytest.raises(ValueError, match="unknown strategy"):
        prep(d, strategy="J2R")


def test_random_imputation_is_conditional_mean_plus_cholesky_of_conditional_covariance() -> None:
    """A draw = E(y_? | y_!) + L z with L L' = S_?? - S_?! S_!!^-1 S_!? (lower Cholesky),
    the subject's k missing values taking the first k of its row of z."""
    rng = np.random.default_rng(4)
    a = rng.normal(size=(T, T))
    s = a @ a.T + np.eye(T)
    y = rng.normal(size=(5, T))
    y[0, 2:] = np.nan
    y[1, [0, 3]] = np.nan
    y[2, :] = np.nan
    y[3, 1] = np.nan
    mu = rng.normal(size=(5, T))
    z = rng.normal(size=(5, T))
    groups = im.imputation_groups(np.isnan(y), np.zeros(5, dtype=int))
    drawn = im.conditional_impute(y, mu, groups, [s], z)
    for i in range(5):
        m, o = np.isnan(y[i]), ~np.isnan(y[i])
        if not m.any():
            np.testing.assert_array_equal(drawn[i], y[i])
            continue
        if o.any():
            reg = s[np.ix_(m, o)] @ np.linalg.inv(s[np.ix_(o, o)])
            mean = mu[i, m] + reg @ (y[i, o] - mu[i, o])
            cov = s[np.ix_(m, m)] - reg @ s[np.ix_(o, m)]
        else:
            mean, cov = mu[i], s
        expected = mean + np.linalg.cholesky(cov) @ z[i, :m.sum()]
        np.testing.assert_allclose(drawn[i, m], expected, rtol=1e-10)


def test_mi_agrees_with_conditional_mean_imputation_within_monte_carlo_error() -> None:
    """Wolbers et al. (2022): with an estimator linear in the data, CMI is the limit of
    MI with infinitely many imputations (up to the bootstrap's O(1/n) bias)."""
    d = simulate(200, seed=15)
    data = prep(d)
    cmi = rows_of(imp.condmean_jackknife(data))
    mi = rows_of(imp.mi_bootstrap(data, m=60, seed=9))
    for c, r in zip(cmi, mi, strict=True):
        assert abs(c["estimate"] - r["estimate"]) < 4 * r["mcse_estimate"] + 0.02
        assert 0.6 < r["se"] / c["se"] < 1.6


def test_bootstrap_counts_resample_within_each_arm() -> None:
    rng = np.random.default_rng(0)
    arm = np.array([0] * 7 + [1] * 5)
    strata = [np.flatnonzero(arm == a) for a in (0, 1)]
    draws = np.array([imp.bootstrap_counts(rng, strata, 12) for _ in range(4000)])
    assert np.all(draws[:, arm == 0].sum(axis=1) == 7)
    assert np.all(draws[:, arm == 1].sum(axis=1) == 5)
    # each subject: Binomial(stratum size, 1 / stratum size) times in a sample
    np.testing.assert_allclose(draws.mean(axis=0), 1.0, atol=0.06)
    np.testing.assert_allclose(draws.var(axis=0)[:7], 6 / 7, rtol=0.1)
    np.testing.assert_allclose(draws.var(axis=0)[7:], 4 / 5, rtol=0.1)
