"""Every method of trialreport.stats against an independent computation: a published R
output, a second library on the same data, or a small example worked out by hand here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from trialreport.stats.ancova import ancova_change
from trialreport.stats.descriptive import describe
from trialreport.stats.multiplicity import holm
from trialreport.stats.paired import (
    WalshAverages,
    cohens_dz,
    hodges_lehmann,
    mcnemar_exact,
    paired_comparison,
    rank_biserial_paired,
    signrank_null_cdf,
    wilcoxon_method,
)
from trialreport.stats.proportions import clopper_pearson, cmh_test, responder_tables

# R's `sleep` data (Cushny & Peebles), extra hours of sleep per patient under two drugs.
SLEEP_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
SLEEP_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])
# Hollander & Wolfe (1973) p. 29, the example of R's ?wilcox.test (depression scale).
HW_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
HW_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])


# -- paired t-test and mean change -------------------------------------------------------

def test_paired_ttest_reproduces_r_sleep_output():
    # R: t.test(extra ~ group, data = sleep, paired = TRUE)
    # t = -4.0621, df = 9, p-value = 0.002833
    # 95 percent CI: -2.4598858 -0.7001142; mean difference -1.58
    r = paired_comparison(SLEEP_2, SLEEP_1)  # change = group 1 - group 2, as R's order
    assert r["ttest"]["t"] == pytest.approx(-4.0621, abs=5e-5)
    assert r["ttest"]["df"] == 9
    assert r["ttest"]["p_value"] == pytest.approx(0.002833, abs=5e-7)
    assert r["change"]["mean"] == pytest.approx(-1.58)
    assert r["change"]["ci_low"] == pytest.approx(-2.4598858, abs=5e-8)
    assert r["change"]["ci_high"] == pytest.approx(-0.7001142, abs=5e-8)


def test_paired_ttest_agrees_with_scipy_one_sided():
    r = paired_comparison(SLEEP_2, SLEEP_1, alternative="less")
    ref = sps.ttest_rel(SLEEP_1, SLEEP_2, alternative="less")
    assert r["ttest"]["t"] == pytest.approx(ref.statistic)
    assert r["ttest"]["p_value"] == pytest.approx(ref.pvalue)


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_paired_ttest_equals_pingouin_exactly(alternative):
    # pingouin.ttest(paired=True) was the method until the analyse stage stopped importing
    # pingouin (it pulls statsmodels, scikit-learn and seaborn): same t, df and p to the bit,
    # incomplete pairs dropped alike.
    rng = np.random.default_rng(11)
    base = rng.integers(1, 8, 40).astype(float)
    comp = base - rng.integers(-1, 3, 40)
    base[[3, 17]] = np.nan
    comp[[5, 17, 30]] = np.nan
    r = paired_comparison(base, comp, alternative=alternative)
    ref = pg.ttest(comp, base, paired=True, alternative=alternative)
    assert r["ttest"]["t"] == float(ref["T"].iloc[0])
    assert r["ttest"]["df"] == float(ref["dof"].iloc[0]) == 40 - 4 - 1
    assert r["ttest"]["p_value"] == float(ref["p_val"].iloc[0])


def test_excluded_pairs_are_counted_with_their_reason():
    base = np.array([1, np.nan, 3, np.nan, 5, 6], dtype=float)
    comp = np.array([2, 2, np.nan, np.nan, 4, 8], dtype=float)
    r = paired_comparison(base, comp)
    assert (r["n_pairs"], r["n_excluded"]) == (3, 3)
    assert r["n_excluded_no_baseline"] == 1
    assert r["n_excluded_no_comparison"] == 1
    assert r["n_excluded_neither"] == 1
    # the changes of the complete pairs are 1, -1, 2
    assert r["change"]["mean"] == pytest.approx(2 / 3)
    assert r["change"]["median"] == 1


# -- Wilcoxon signed-rank ------------------------------------------------------------------

def test_wilcoxon_sleep_data_exact_with_ties_and_a_zero():
    # R: wilcox.test(extra ~ group, data = sleep, paired = TRUE) gives V = 0,
    # p-value = 0.009091 by its normal approximation (ties and a zero). The exact
    # conditional test used below 50 non-zero differences: all 9 non-zero changes are
    # positive, so T- = 0 is reached by 1 of the 2^9 sign assignments on each side, ties
    # or not: p = 2/512.
    r = paired_comparison(SLEEP_2, SLEEP_1)
    assert r["wilcoxon"]["method"] == "exact"
    assert r["wilcoxon"]["W"] == 0
    assert r["wilcoxon"]["p_value"] == pytest.approx(2 / 512)
    assert r["wilcoxon"]["n_nonzero"] == 9
    # R's number is still what the normal approximation (used from 50 on) gives here
    normal = sps.wilcoxon(SLEEP_2 - SLEEP_1, method="asymptotic", correction=True)
    assert normal.pvalue == pytest.approx(0.009091, abs=5e-7)


def test_wilcoxon_exact_reproduces_r_depression_example():
    # R ?wilcox.test: wilcox.test(x, y, paired = TRUE, alternative = "greater")
    # V = 40, p-value = 0.01953
    r = paired_comparison(HW_Y, HW_X, alternative="greater")
    assert r["wilcoxon"]["method"] == "exact"
    assert r["wilcoxon"]["W"] == 40
    assert r["wilcoxon"]["p_value"] == pytest.approx(0.01953, abs=5e-6)
    # exact p by hand: V >= 40 in 10 of the 2^9 = 512 sign assignments
    count = sum(1 for signs in itertools.product([0, 1], repeat=9)
                if sum(r_ for s, r_ in zip(signs, range(1, 10), strict=True) if s) >= 40)
    assert r["wilcoxon"]["p_value"] == pytest.approx(count / 512)


def test_wilcoxon_method_rule():
    assert wilcoxon_method(np.array([1.0, -2.0, 3.5])) == "exact"
    assert wilcoxon_method(np.array([1.0, -1.0, 3.0])) == "exact"  # ties: still exact
    assert wilcoxon_method(np.arange(1, 50, dtype=float)) == "exact"  # 49 non-zero
    assert wilcoxon_method(np.arange(0, 50, dtype=float)) == "exact"  # + a zero: 49
    assert wilcoxon_method(np.arange(1, 51, dtype=float)) == "normal approximation"  # 50


# -- Hodges-Lehmann ------------------------------------------------------------------------

def _walsh(d):
    return sorted((d[i] + d[j]) / 2 for i in range(len(d)) for j in range(i, len(d)))


def test_hodges_lehmann_hand_worked_small():
    # d = 1, 2, 4: Walsh averages 1, 1.5, 2, 2.5, 3, 4 -> median 2.25. With n = 3 the
    # smallest P(V <= v) is 1/8 > 0.025, so C = 1 and the CI is [min, max] = [1, 4].
    r = hodges_lehmann(np.array([1.0, 2.0, 4.0]))
    assert r == {"estimate": 2.25, "ci_low": 1.0, "ci_high": 4.0, "method": "exact"}


def test_hodges_lehmann_exact_ci_against_enumerated_null_distribution():
    d = HW_X - HW_Y
    n = d.size
    # null distribution of V by enumerating all 2^9 sign assignments
    sums = sorted(sum(r for s, r in zip(signs, range(1, n + 1), strict=True) if s)
                  for signs in itertools.product([0, 1], repeat=n))
    cdf = {v: sum(1 for x in sums if x <= v) / len(sums) for v in range(n * (n + 1) // 2 + 1)}
    c = min(v for v, p in cdf.items() if p >= 0.025)  # R's qsignrank(0.025, 9) = 6
    assert c == 6
    walsh = _walsh(list(d))
    r = hodges_lehmann(d)
    assert r["method"] == "exact"
    assert r["estimate"] == pytest.approx(np.median(walsh))
    assert r["estimate"] == pytest.approx(0.46)
    assert r["ci_low"] == pytest.approx(walsh[c - 1])  # 0.010
    assert r["ci_high"] == pytest.approx(walsh[len(walsh) - c])  # 0.786
    assert (round(r["ci_low"], 3), round(r["ci_high"], 3)) == (0.010, 0.786)


def test_signrank_null_cdf_matches_enumeration():
    for n in range(1, 9):
        sums = [sum(r for s, r in zip(signs, range(1, n + 1), strict=True) if s)
                for signs in itertools.product([0, 1], repeat=n)]
        counts = np.bincount(sums, minlength=n * (n + 1) // 2 + 1)
        assert np.allclose(signrank_null_cdf(n), np.cumsum(counts) / 2**n)


def test_hodges_lehmann_normal_ci_hand_worked_with_ties():
    d = SLEEP_2 - SLEEP_1  # 1.2 2.4 1.3 1.3 0 1.0 1.8 0.8 4.6 1.4: a zero and a tie
    # R 4.x drops the zero: n = 9, M = 45 Walsh averages. Between two consecutive
    # averages W(d) = (K - 22.5 - 0.5 sign) / S, K the number of averages above d, S^2 the
    # tie-corrected variance with the tie group of the two equal values 1.3 (t = 2):
    # S^2 = (9 * 10 * 19 - 6 / 2) / 24 = 71.125. The test does not reject while
    # K - 23 <= 1.959964 S = 16.53, i.e. K <= 39: C = 45 - 39 = 6, CI = [w_(6), w_(40)].
    s2 = (9 * 10 * 19 - 6 / 2) / 24
    assert s2 == 71.125
    assert math.floor(23 + 1.959963985 * math.sqrt(s2)) == 39
    walsh = _walsh([v for v in d if v != 0])
    r = hodges_lehmann(d)
    assert r["method"] == "normal approximation"
    assert r["estimate"] == pytest.approx(np.median(walsh)) == pytest.approx(1.4)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((walsh[5], walsh[39]))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((1.05, 2.95))  # R: 1.050018 2.949921


# -- effect sizes ---------------------------------------------------------------------------

def test_cohens_dz_value_and_noncentral_t_limits():
    d = SLEEP_1 - SLEEP_2
    r = cohens_dz(d)
    assert r["dz"] == pytest.approx(-1.58 / 1.2299955, rel=1e-6)  # mean / SD of changes
    n, t_obs = d.size, r["dz"] * math.sqrt(d.size)
    # the limits solve P(T <= t | lambda) = 0.975 and 0.025 for T ~ nct(9, lambda)
    assert sps.nct.cdf(t_obs, n - 1, r["ci_low"] * math.sqrt(n)) == pytest.approx(0.975)
    assert sps.nct.cdf(t_obs, n - 1, r["ci_high"] * math.sqrt(n)) == pytest.approx(0.025)
    assert r["ci_low"] < r["dz"] < r["ci_high"]


def test_cohens_dz_ci_agrees_with_t_test_on_zero():
    # the noncentral-t CI excludes 0 exactly when the paired t-test has p < alpha
    rng = np.random.default_rng(7)
    for shift in (0.0, 0.3, 0.6, 1.0):
        d = rng.normal(shift, 1.0, 15)
        r = cohens_dz(d)
        p = sps.ttest_1samp(d, 0).pvalue
        assert (r["ci_low"] > 0 or r["ci_high"] < 0) == (p < 0.05)


def test_rank_biserial_hand_worked_and_pingouin():
    # d = 1, -2, 3: ranks of |d| 1, 2, 3; R+ = 4, R- = 2; r = (4 - 2) / 6
    assert rank_biserial_paired(np.array([1.0, -2.0, 3.0])) == pytest.approx(1 / 3)
    import pingouin as pg
    ref = pg.wilcoxon(HW_X, HW_Y)["RBC"].iloc[0]
    assert rank_biserial_paired(HW_X - HW_Y) == pytest.approx(ref)
    assert math.isnan(rank_biserial_paired(np.zeros(3)))


# -- proportions -----------------------------------------------------------------------------

def test_clopper_pearson_reproduces_r_binom_test():
    # R: binom.test(682, 925, p = 0.75): 95 percent CI 0.7076683 0.7654066
    r = clopper_pearson(682, 925)
    assert r["proportion"] == pytest.approx(0.7372973, abs=5e-8)
    assert r["ci_low"] == pytest.approx(0.7076683, abs=5e-8)
    assert r["ci_high"] == pytest.approx(0.7654066, abs=5e-8)


@pytest.mark.parametrize("k,n", [(0, 10), (1, 29), (20, 30), (30, 30), (7, 13)])
def test_clopper_pearson_agrees_with_statsmodels(k, n):
    r = clopper_pearson(k, n)
    low, high = proportion_confint(k, n, alpha=0.05, method="beta")
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high))


def test_clopper_pearson_zero_successes_hand_formula():
    # k = 0: upper = 1 - (alpha/2)^(1/n)
    assert clopper_pearson(0, 30)["ci_high"] == pytest.approx(1 - 0.025 ** (1 / 30))


def test_mcnemar_exact_hand_worked_and_statsmodels():
    # 1 pair responder only before, 9 only after: p = 2 * P(X <= 1), X ~ Bin(10, 1/2)
    # = 2 * (1 + 10) / 1024
    before = np.array([1] + [0] * 9 + [1] * 3 + [0] * 5, dtype=float)
    after = np.array([0] + [1] * 9 + [1] * 3 + [0] * 5, dtype=float)
    r = mcnemar_exact(before, after)
    assert (r["before_only"], r["after_only"], r["both"], r["neither"]) == (1, 9, 3, 5)
    assert r["p_value"] == pytest.approx(22 / 1024)
    ref = mcnemar(np.array([[3, 1], [9, 5]]), exact=True)
    assert r["p_value"] == pytest.approx(ref.pvalue)


def test_mcnemar_without_discordant_pairs_has_no_p():
    r = mcnemar_exact(np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    assert math.isnan(r["p_value"])


def test_holm_hand_worked_and_statsmodels():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03; 2 * 0.03 = 0.06; max(0.06, 1 * 0.04) = 0.06
    p = np.array([0.01, 0.04, 0.03])
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06])
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    out = holm(np.array([0.02, np.nan, 0.5]))
    assert out[0] == pytest.approx(0.04) and math.isnan(out[1]) and out[2] == pytest.approx(0.5)


# -- parallel groups -------------------------------------------------------------------------

def _two_arm_frame():
    # baseline values identical in both arms, so arm and BASE are orthogonal and the LS
    # means equal the raw arm means of CHG (worked out below).
    return pd.DataFrame({
        "ARM": ["A"] * 4 + ["B"] * 4,
        "BASE": [4, 5, 6, 5, 4, 5, 6, 5],
        "CHG": [-1.0, -1.0, -2.0, 0.0, -2.0, -3.0, -3.0, -2.0],
    })


def test_ancova_balanced_hand_worked():
    r = ancova_change(_two_arm_frame(), reference="A")
    assert r["arms"]["A"]["lsmean"] == pytest.approx(-1.0)  # (-1 - 1 - 2 + 0) / 4
    assert r["arms"]["B"]["lsmean"] == pytest.approx(-2.5)  # (-2 - 3 - 3 - 2) / 4
    assert r["arms"]["B"]["diff"] == pytest.approx(-1.5)
    assert r["df_resid"] == 5  # 8 - 3 coefficients
    assert r["mean_baseline"] == 5


def test_ancova_against_numpy_least_squares():
    rng = np.random.default_rng(3)
    n = 40
    frame = pd.DataFrame({"ARM": rng.choice(["Placebo", "Drug"], n),
                          "BASE": rng.integers(3, 8, n).astype(float)})
    frame["CHG"] = -0.4 * frame["BASE"] - 1.0 * (frame["ARM"] == "Drug") + rng.normal(0, 1, n)
    r = ancova_change(frame, reference="Placebo")
    x = np.column_stack([np.ones(n), (frame["ARM"] == "Drug").to_numpy(float), frame["BASE"]])
    beta, *_ = np.linalg.lstsq(x, frame["CHG"].to_numpy(), rcond=None)
    resid = frame["CHG"].to_numpy() - x @ beta
    sigma2 = resid @ resid / (n - 3)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    se = math.sqrt(cov[1, 1])
    t = beta[1] / se
    drug = r["arms"]["Drug"]
    assert drug["diff"] == pytest.approx(beta[1])
    assert drug["diff_se"] == pytest.approx(se)
    assert drug["p_value"] == pytest.approx(2 * sps.t.sf(abs(t), n - 3))
    tc = sps.t.ppf(0.975, n - 3)
    assert drug["diff_ci_low"] == pytest.approx(beta[1] - tc * se)
    mb = frame["BASE"].mean()
    assert r["arms"]["Placebo"]["lsmean"] == pytest.approx(beta[0] + beta[2] * mb)
    assert drug["lsmean"] == pytest.approx(beta[0] + beta[1] + beta[2] * mb)


def test_ancova_with_strata_against_statsmodels_formula_and_predictions():
    rng = np.random.default_rng(11)
    n = 60
    frame = pd.DataFrame({"ARM": rng.choice(["A", "B", "C"], n),
                          "BASE": rng.integers(3, 8, n).astype(float),
                          "SITE": rng.choice(["s1", "s2", "s3"], n)})
    frame["CHG"] = rng.normal(0, 1, n) - 0.3 * frame["BASE"]
    r = ancova_change(frame, reference="A", strata=["SITE"])
    fit = smf.ols("CHG ~ C(ARM) + BASE + C(SITE)", data=frame).fit()
    for arm in ("B", "C"):
        assert r["arms"][arm]["diff"] == pytest.approx(fit.params[f"C(ARM)[T.{arm}]"])
        assert r["arms"][arm]["p_value"] == pytest.approx(fit.pvalues[f"C(ARM)[T.{arm}]"])
    # LS mean: the average of predictions at the mean baseline over the three sites
    for arm in ("A", "B", "C"):
        grid = pd.DataFrame({"ARM": arm, "BASE": frame["BASE"].mean(),
                             "SITE": ["s1", "s2", "s3"]})
        assert r["arms"][arm]["lsmean"] == pytest.approx(fit.predict(grid).mean())


def test_chi_square_hand_worked_and_fisher_against_r_tea_tasting():
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2)) -> p-value = 0.4857 (TeaTasting)
    arm = np.array(["A"] * 4 + ["B"] * 4)
    resp = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=float)
    r = responder_tables(arm, resp)
    assert r["table"].tolist() == [[3, 1], [1, 3]]  # rows A, B; columns yes, no
    assert r["fisher"]["odds_ratio"] == pytest.approx(9.0)  # sample OR (3 * 3) / (1 * 1)
    assert r["fisher"]["p_value"] == pytest.approx(0.4857, abs=5e-5)
    # hand: hypergeometric weights of a = 0..4 are 1, 16, 36, 16, 1 (of 70); the observed
    # a = 1 has 16; tables as or less likely: (1 + 16 + 16 + 1) / 70
    assert r["fisher"]["p_value"] == pytest.approx(34 / 70)
    # Pearson: every expected count is 2, so X^2 = 4 * (1^2 / 2) = 2, df = 1
    assert r["chi_square"]["statistic"] == pytest.approx(2.0)
    assert r["chi_square"]["p_value"] == pytest.approx(sps.chi2.sf(2.0, 1))


def test_responder_table_follows_the_given_arm_order():
    r = responder_tables(np.array(["Drug", "Placebo", "Drug"]), np.array([1.0, 0.0, 1.0]),
                           order=["Placebo", "Drug"])
    assert r["arms"] == ["Placebo", "Drug"]
    assert r["table"].tolist() == [[0, 1], [2, 0]]


def test_cmh_reproduces_r_ucb_admissions():
    # UCBAdmissions by department: rows male/female, columns admitted/rejected
    ucb = [[[512, 313], [89, 19]], [[353, 207], [17, 8]], [[120, 205], [202, 391]],
           [[138, 279], [131, 244]], [[53, 138], [94, 299]], [[22, 351], [24, 317]]]
    tables = [np.array(t) for t in ucb]
    r = cmh_test(tables)
    # R: mantelhaen.test(UCBAdmissions): common odds ratio 0.9046968,
    # 95 percent CI 0.7719074 1.0603298
    assert r["common_odds_ratio"] == pytest.approx(0.9046968, abs=5e-8)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.7719074, 1.0603298), abs=5e-8)
    # statistic by hand: (|sum(a - E[a])| - 1/2)^2 / sum(Var a)
    num = sum(t[0, 0] - t[0].sum() * t[:, 0].sum() / t.sum() for t in tables)
    var = sum(t[0].sum() * t[1].sum() * t[:, 0].sum() * t[:, 1].sum()
              / (t.sum() ** 2 * (t.sum() - 1)) for t in tables)
    assert r["statistic"] == pytest.approx((abs(num) - 0.5) ** 2 / var)
    assert r["statistic"] == pytest.approx(1.4269, abs=5e-5)
    assert cmh_test(tables, correction=False)["statistic"] == pytest.approx(num**2 / var)


def test_describe_matches_numpy_and_r_type7_quantiles():
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 10.0])
    r = describe(x)
    assert r["n"] == 5
    # R: quantile(c(1, 2, 3, 4, 10)) -> 25%: 2, 50%: 3, 75%: 4
    assert (r["q1"], r["median"], r["q3"]) == (2.0, 3.0, 4.0)
    assert r["sd"] == pytest.approx(np.std([1, 2, 3, 4, 10], ddof=1))
    res = sm.stats.DescrStatsW(np.array([1, 2, 3, 4, 10.0])).tconfint_mean()
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(res)


def test_walsh_order_statistics_by_counting_equal_the_enumerated_ones():
    """The large-trial path (counting and bisection) against the listed averages."""
    rng = np.random.default_rng(7)
    for d in (np.sort(rng.normal(size=300)), np.sort(rng.integers(-3, 4, 400).astype(float))):
        listed = WalshAverages(d)
        counted = WalshAverages(d, enumerate_up_to=0)
        assert listed.listed is not None and counted.listed is None
        for k in (1, 2, 17, listed.m // 2, listed.m // 2 + 1, listed.m - 3, listed.m):
            assert counted.order_statistic(k) == listed.order_statistic(k)


def test_wilcoxon_in_paired_comparison_equals_scipy_and_pingouin():
    # from 50 non-zero changes on, the normal approximation (tie and continuity corrected)
    rng = np.random.default_rng(3)
    b = rng.integers(2, 7, 90).astype(float)
    c = b - rng.integers(-1, 3, 90)
    r = paired_comparison(b, c)["wilcoxon"]
    assert r["n_nonzero"] >= 50 and r["method"] == "normal approximation"
    ref = pg.wilcoxon(c, b, method="asymptotic", correction=True)
    assert r["W"] == float(ref["W_val"].iloc[0])
    assert r["p_value"] == pytest.approx(float(ref["p_val"].iloc[0]), rel=1e-12)


@pytest.mark.parametrize(
    "d",
    [
        [1e17, 1e17 + 16, 2e17, -3e17, 5e16],  # values past 2**53
        [0.1, 0.2, 0.3, 0.7, 0.6, -0.1, 0.15, 0.25],  # decimal steps that round differently
        [5.0],
        [2.0, 2.0, 2.0, 2.0],
        [-1e-300, 0.0, 1e-300, 3.0],
    ],
    ids=["huge", "decimal-steps", "one", "all-equal", "tiny-and-zero"],
)
def test_walsh_counting_path_is_exact_on_awkward_values(d):
    d = np.sort(np.asarray(d, dtype=float))
    listed = WalshAverages(d)
    counted = WalshAverages(d, enumerate_up_to=0)
    assert [counted.order_statistic(k) for k in range(1, listed.m + 1)] == \
        [listed.order_statistic(k) for k in range(1, listed.m + 1)]


def test_walsh_counting_path_equals_listing_on_a_decimal_grid():
    rng = np.random.default_rng(11)
    for _ in range(3):
        d = np.sort(np.round(rng.normal(0, 1, 700), 1))
        listed = WalshAverages(d)
        counted = WalshAverages(d, enumerate_up_to=0)
        for k in (1, 5000, listed.m // 2, listed.m // 2 + 1, listed.m - 7, listed.m):
            assert counted.order_statistic(k) == listed.order_statistic(k)
