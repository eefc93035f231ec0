"""Reference-based imputation against published numbers, each with its source.

- rbmi's unit tests (insightsengineering/rbmi, tests/testthat): the strategies' means
  (test-strategies.R), Carpenter's covariance rule cases (same file), the delta
  template and lag scaling (test-delta.R), the jackknife pooling (test-pool.R);
- mice's ``pool.scalar`` printed example (Barnard-Rubin df; mice 3.10.3 reference page
  docs/reference/pool.scalar.html): inputs and outputs printed;
- Heymans & Eekhout, "Applied Missing Data Analysis with SPSS and (R)Studio", chapter
  "Rubin's Rules" (mwheymans/bookmi, 09-Background.Rmd): a worked example with its
  inputs and results printed.

Not reproducible here, and so not tested: rbmi's vignette results on the antidepressant
trial (the data are only in binary .rda / .sas7bdat form), SAS PROC MIANALYZE's printed
tables (not readable in any stored copy), and the "five macros" / Stata mimix outputs
(none found printed). The strategies' effect on a whole analysis is instead checked
against independent computations in tests/test_imputation.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from trialreport.stats import imputation as imp
from trialreport.stats import imputation_model as im
from trialreport.stats import imputation_pool as ip

# --- rbmi tests/testthat/test-strategies.R (commit 85875647) ----------------------------
# pars_group mu = c(1, 3, 5), pars_ref mu = c(2, 6, 10), sigma = diag(3) for both,
# index_mar = c(TRUE, FALSE, FALSE) (the ICE at the second visit):
#   strategy_CIR -> mu c(1, 5, 9); strategy_LMCF -> mu c(1, 1, 1); strategy_JR -> mu
#   c(1, 6, 10); all with sigma diag(3).


@pytest.mark.parametrize(("strategy", "expected"), [("JR", [1, 6, 10]), ("CIR", [1, 5, 9]),
                                                     ("LMCF", [1, 1, 1])])
def test_rbmi_strategy_means(strategy, expected) -> None:
    own, ref = np.array([[1.0, 3.0, 5.0]]), np.array([[2.0, 6.0, 10.0]])
    got = im.strategy_means(np.array([strategy]), np.array([1]), own, ref)
    np.testing.assert_array_equal(got[0], expected)
    sigma = np.eye(3)
    np.testing.assert_array_equal(im.strategy_sigma(strategy, 1, sigma, sigma.copy()),
                                  np.eye(3))


def test_rbmi_copy_reference_returns_the_reference() -> None:
    """rbmi's strategy_CR returns pars_ref (R/strategies.R; no hard-coded test there)."""
    own, ref = np.array([[1.0, 3.0, 5.0]]), np.array([[2.0, 6.0, 10.0]])
    np.testing.assert_array_equal(im.strategy_means(np.array(["CR"]), np.array([1]), own,
                                                    ref)[0], [2, 6, 10])
    assert im.strategy_sigma("CR", 1, np.eye(3), np.eye(3) * 2)[0, 0] == 2


def test_rbmi_compute_sigma_cases() -> None:
    """test-strategies.R: sigma_group = diag(3) + 0.5, sigma_ref = diag(3) + 0.2."""
    group, ref = np.eye(3) + 0.5, np.eye(3) + 0.2
    same = np.eye(3) + 0.5
    np.testing.assert_array_equal(im.compute_sigma(same, same.copy(), 2), same)
    np.testing.assert_array_equal(im.compute_sigma(group, ref, 3), group)  # all MAR
    np.testing.assert_array_equal(im.compute_sigma(group, ref, 0), ref)  # all non-MAR
    s = im.compute_sigma(group, ref, 2)  # index_mar = c(TRUE, TRUE, FALSE)
    assert s[2, 2] != ref[2, 2]
    np.testing.assert_array_equal(s[:2, :2], group[:2, :2])
    assert not np.array_equal(s[:2, 2], group[:2, 2])
    assert not np.array_equal(s[:2, 2], ref[:2, 2])
    np.testing.assert_array_equal(s, s.T)


# --- rbmi tests/testthat/test-delta.R (commit 0655323a) ---------------------------------


def test_rbmi_d_lagscale() -> None:
    cases = [
        ([1, 1, 1, 1], [-3, -6, -6, -12], [[-3, -9, -15, -27], [0, -6, -12, -24],
                                            [0, 0, -6, -18], [0, 0, 0, -12]]),
        ([0, 1, 1, 1], [-3, -6, -6, -12], [[0, -6, -12, -24], [0, 0, -6, -18],
                                            [0, 0, 0, -12], [0, 0, 0, 0]]),
        ([1, 0, 0, 0], [10, 10, 10, 10], [[10, 10, 10, 10], [0, 10, 10, 10],
                                          [0, 0, 10, 10], [0, 0, 0, 10]])]
    for dlag, delta, expected in cases:
        for ice, exp in enumerate(expected):  # is_post_ice TRUE from position ice on
            np.testing.assert_array_equal(im.delta_lagscale(delta, dlag, ice, 4), exp)


def test_rbmi_delta_template() -> None:
    """Tom: out = c(1, NA, 3, NA, NA), ICE "week 208" (4th visit) with JTR (rbmi's old
    name of JR); Harry: out = c(NA, 5, NA, 6, 7), ICE "week 52" with MAR. Expected
    is_missing, is_post_ice, and with dlag = c(1, 2, 3, 4, 5), delta = c(-3, -6, -6,
    -12, 1): delta = c(0, 0, 0, -12, -10, 0, 0, -18, 0, 0)."""
    visits = ["week 24", "week 52", "week 104", "week 208", "week 416"]
    nan = np.nan
    d = {"pt": np.repeat(["Tom", "Harry"], 5), "vis": np.tile(visits, 2),
         "grp": np.repeat(["A", "B"], 5),
         "out": np.array([1, nan, 3, nan, nan, nan, 5, nan, 6, 7], dtype=float)}
    data = imp.prepare(d, response="out", subject="pt", visit="vis", arm="grp",
                       levels={"vis": visits, "pt": ["Tom", "Harry"]}, reference="B",
                       ice={"Tom": ("week 208", "JR"), "Harry": ("week 52", "MAR")})
    row = {s: i for i, s in enumerate(data.subject_ids.tolist())}
    order = [row["Tom"], row["Harry"]]
    np.testing.assert_array_equal(data.missing[order].reshape(-1),
                                  [False, True, False, True, True,
                                   True, False, True, False, False])
    np.testing.assert_array_equal(data.post_ice[order].reshape(-1),
                                  [False, False, False, True, True,
                                   False, True, True, True, True])
    # rbmi's is_mar: FALSE after a non-MAR ICE
    is_mar = ~((data.strategy != "MAR")[:, None] & data.post_ice)
    np.testing.assert_array_equal(is_mar[order].reshape(-1),
                                  [True, True, True, False, False] + [True] * 5)
    delta = imp.delta_matrix(data, [-3, -6, -6, -12, 1], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(delta[order].reshape(-1),
                                  [0, 0, 0, -12, -10, 0, 0, -18, 0, 0])


# --- rbmi tests/testthat/test-pool.R (commit 01469c2f): jackknife -----------------------


def test_rbmi_jackknife_pool() -> None:
    """jest <- c(7, 3, 4, 5, 3, 3, 9): the first element the full-data estimate;
    jest_se <- sqrt(sum((jest_r - mean)^2) * (n - 1) / n); conf.level 0.90 two-sided:
    ci = 7 + c(-1, 1) * qnorm(0.95) * jest_se, p = 2 * pnorm(7, sd = jest_se,
    lower.tail = FALSE)."""
    jest = np.array([7.0, 3, 4, 5, 3, 3, 9])
    se = math.sqrt(27.5 * 5 / 6)  # sum of squares 27.5 about the mean 4.5, n = 6
    out = ip.jackknife_pool(jest[0], jest[1:], alpha=0.10)
    assert out["se"] == pytest.approx(se, rel=1e-14)
    z = float(special.ndtri(0.95))
    assert out["lower"] == pytest.approx(7 - z * se, rel=1e-14)
    assert out["upper"] == pytest.approx(7 + z * se, rel=1e-14)
    assert out["p"] == pytest.approx(2 * special.ndtr(-7 / se), rel=1e-13)


# --- mice pool.scalar printed example (mice 3.10.3) -------------------------------------


def test_mice_pool_scalar_example() -> None:
    """``pool.scalar(Q, U, n = nrow(nhanes), k = 1)`` (Barnard-Rubin 1999; dfcom = 25 - 1):
    $qhat 26.816 26.184 26.692 27.076 26.528; $u 0.7888227 0.5449227 0.7764973 0.6764760
    0.5379173; printed $qbar 26.6592, $ubar 0.6649272, $b 0.1106032, $t 0.797651,
    $df 16.41929, $r 0.1996066, $fmi 0.2522468."""
    q = [26.816, 26.184, 26.692, 27.076, 26.528]
    u = np.array([0.7888227, 0.5449227, 0.7764973, 0.6764760, 0.5379173])
    out = ip.rubin_rules(q, np.sqrt(u), df_com=24)
    assert round(out["estimate"], 4) == 26.6592
    assert round(out["ubar"], 7) == 0.6649272
    assert round(out["b"], 7) == 0.1106032
    assert round(out["total"], 6) == 0.797651
    assert round(out["df"], 5) == 16.41929
    assert round(out["r"], 7) == 0.1996066
    assert round(out["fmi"], 7) == 0.2522468


# --- Heymans & Eekhout, Rubin's Rules chapter -------------------------------------------


def test_heymans_eekhout_worked_example() -> None:
    """Tampascale mean difference in 3 imputations, n = 150, k = 2 (df_com 148):
    estimates 2.174, 1.965, 1.774; SEs 0.896, 0.882, 0.898. Printed: theta 1.971,
    V_W 0.7957147, V_B 0.040027, V_total 0.849084, SE 0.9214575, Wald 2.139, df_adjusted
    107.7509 (mice), RIV 0.06704779, FMI (mice) 0.0797587. The book's lambda-based values
    (df, RIV, FMI) come from unrounded SPSS output: 1e-3 relative for those."""
    out = ip.rubin_rules([2.174, 1.965, 1.774], [0.896, 0.882, 0.898], df_com=148)
    assert round(out["estimate"], 3) == 1.971
    assert round(out["ubar"], 7) == 0.7957147
    assert round(out["b"], 6) == 0.040027
    assert round(out["total"], 6) == 0.849084
    assert round(out["se"], 7) == 0.9214575
    assert round(out["estimate"] / out["se"], 3) == 2.139
    assert out["df"] == pytest.approx(107.7509, rel=1e-3)
    assert out["r"] == pytest.approx(0.06704779, rel=1e-3)
    assert out["fmi"] == pytest.approx(0.0797587, rel=1e-3)
