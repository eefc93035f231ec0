"""trialreport.stats.distributions gives the same floats as scipy.stats, scipy.optimize and
statsmodels, which it replaces in the analyse job to spare their import.

Every comparison is exact (``==``): the module evaluates the same special functions and
follows the same algorithms, so any difference, even in the last bit, is a defect (or a
change of scipy's algorithm that the lock file let in).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests

from trialreport.stats import distributions as dist

RNG = np.random.default_rng(20181)


@pytest.mark.parametrize("df", [1, 2, 5, 29, 30, 100, 12345])
def test_t_quantiles_and_cdf(df) -> None:
    for q in (0.001, 0.025, 0.5, 0.8, 0.975, 0.999999):
        assert dist.t_ppf(q, df) == stats.t.ppf(q, df)
    for x in (-40.0, -2.1, -1e-9, 0.0, 0.3, 2.0452296421327034, 7.5):
        assert dist.t_cdf(x, df) == stats.t.cdf(x, df)


def test_normal_quantiles_and_tails() -> None:
    for q in (1e-10, 0.025, 0.3, 0.5, 0.975, 1 - 1e-10):
        assert dist.norm_ppf(q) == stats.norm.ppf(q)
    for x in (-38.0, -8.0, -1.959963984540054, 0.0, 0.5, 3.2, 8.0):
        assert dist.norm_cdf(x) == stats.norm.cdf(x)


def test_beta_quantiles_of_clopper_pearson() -> None:
    for k, n in [(1, 1), (1, 30), (14, 30), (29, 30), (3, 4), (500, 100000)]:
        for q in (0.025, 0.975):
            assert dist.beta_ppf(q, k, n - k + 1) == stats.beta.ppf(q, k, n - k + 1)
            if k < n:  # the upper limit's quantile (at k = n the limit is 1)
                assert dist.beta_ppf(q, k + 1, n - k) == stats.beta.ppf(q, k + 1, n - k)


def test_noncentral_t_cdf() -> None:
    for df in (1, 4, 29, 2000):
        for x in (0.1, 2.0, 7.3):
            for nc in (-3.0, 0.0, 1.5, 8.2):
                assert dist.nct_cdf(x, df, nc) == stats.nct.cdf(x, df, nc)


@pytest.mark.parametrize("n", [1, 2, 7, 20, 57, 300])
@pytest.mark.parametrize("p", [0.5, 0.2, 0.8571428571428571, 0.03])
def test_binomial_pmf_cdf_sf_including_off_the_support(n, p) -> None:
    for k in [-2, -1, *range(n + 1), n + 1, n + 3]:
        assert dist.binom_pmf(k, n, p) == stats.binom.pmf(k, n, p), (k, n, p)
        assert dist.binom_cdf(k, n, p) == stats.binom.cdf(k, n, p), (k, n, p)
        assert dist.binom_sf(k, n, p) == stats.binom.sf(k, n, p), (k, n, p)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_the_binomial_test_against_scipy_over_every_k(alternative) -> None:
    for n in (1, 2, 5, 12, 31, 200):
        for p in (0.5, 0.25, 0.7, 1 / 3, 0.8571428571428571):
            for k in range(n + 1):
                ours = dist.binomtest_pvalue(k, n, p, alternative)
                assert ours == stats.binomtest(k, n, p, alternative=alternative).pvalue, (
                    k, n, p)


def test_the_binomial_test_refuses_what_it_cannot_test() -> None:
    with pytest.raises(ValueError):
        dist.binomtest_pvalue(5, 4, 0.5)
    with pytest.raises(ValueError):
        dist.binomtest_pvalue(1, 4, 0.5, "both")


def test_the_exact_interval_of_a_proportion_as_scipy_finds_it() -> None:
    for k, n in [(0, 10), (1, 10), (5, 10), (10, 10), (3, 19), (157, 1843)]:
        for confidence in (0.95, 0.9):
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence,
                                                     method="exact")
            assert dist.binom_exact_ci(k, n, confidence) == (ci.low, ci.high), (k, n)


def test_brent_root_finder_step_for_step_with_scipy() -> None:
    cases = [
        (lambda x: x**3 - 2 * x - 5, 2.0, 3.0, {}),
        (lambda x: math.cos(x) - x, 0.0, 1.0, {"xtol": 1e-12, "rtol": 1e-12}),
        (lambda x: math.exp(x) - 1e-3, -20.0, 5.0, {}),
        (lambda x: stats.nct.cdf(2.3, 29, x) - 0.025, 1.0, 8.0,
         {"xtol": 1e-12, "rtol": 1e-12, "maxiter": 500}),
        (lambda x: (x - 0.3) ** 3, 0.0, 1.0, {}),  # a flat root: many bisections
        (lambda x: x - 0.5, 0.0, 0.5, {}),  # a root at an end
    ]
    for f, a, b, kw in cases:
        assert dist.brentq(f, a, b, **kw) == optimize.brentq(f, a, b, **kw)
    with pytest.raises(ValueError):
        dist.brentq(lambda x: x * x + 1, -1.0, 1.0)
    for solver in (dist.brentq, optimize.brentq):  # both give up after 3 iterations
        with pytest.raises(RuntimeError):
            solver(lambda x: (x - 0.3) ** 3, 0.0, 1.0, maxiter=3)
    with pytest.raises(ValueError):
        dist.brentq(lambda x: math.nan if x > 0.7 else x - 0.9, 0.0, 1.0)


def test_midranks() -> None:
    for size in (1, 2, 9, 50, 1001):
        x = RNG.integers(0, 7, size=size).astype(float)  # many ties
        assert np.array_equal(dist.rankdata(x), stats.rankdata(x))
        y = RNG.normal(size=size)
        assert np.array_equal(dist.rankdata(y), stats.rankdata(y))


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Ratings on a 1..7 scale, as the trials have them: ties and zero differences."""
    base = RNG.integers(1, 8, size=n).astype(float)
    comp = np.clip(base - RNG.integers(-2, 4, size=n), 1, 7).astype(float)
    return base, comp


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_the_paired_t_test(alternative) -> None:
    for n in (2, 3, 10, 29, 30, 400, 100000):
        base, comp = _pairs(n)
        if np.std(comp - base) == 0:
            continue
        t, df, p = dist.ttest_rel(comp, base, alternative)
        ref = stats.ttest_rel(comp, base, alternative=alternative)
        assert (t, df, p) == (ref.statistic, ref.df, ref.pvalue), n
    noise = RNG.normal(size=(2, 31))
    t, df, p = dist.ttest_rel(noise[0], noise[1])
    ref = stats.ttest_rel(noise[0], noise[1])
    assert (t, p) == (ref.statistic, ref.pvalue)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_the_wilcoxon_normal_approximation(alternative) -> None:
    for n in (50, 51, 80, 333, 100000):
        base, comp = _pairs(n)
        w, p = dist.wilcoxon_normal(comp - base, alternative)
        ref = stats.wilcoxon(comp, base, alternative=alternative, zero_method="wilcox",
                             method="asymptotic", correction=True)
        assert (w, p) == (ref.statistic, ref.pvalue), n
    d = RNG.normal(size=75)
    assert dist.wilcoxon_normal(d) == tuple(
        stats.wilcoxon(d, method="asymptotic", correction=True))


def test_holm_as_statsmodels() -> None:
    for m in (1, 2, 3, 6, 40):
        p = RNG.uniform(0, 0.2, size=m)
        p[RNG.integers(0, m)] = 0.9  # an adjusted value above 1, clipped
        assert np.array_equal(dist.holm(p), multipletests(p, method="holm")[1])
    ties = np.array([0.01, 0.04, 0.01, 0.03])
    assert np.array_equal(dist.holm(ties), multipletests(ties, method="holm")[1])


def test_the_private_boost_functions_scipy_stats_calls_are_there() -> None:
    """distributions takes Boost's binomial and beta functions from scipy.special's private
    names (the ones scipy.stats.binom and scipy.stats.beta call); a scipy that renames them
    would make it fall back to scipy.stats, and its import with it."""
    from scipy.special import _ufuncs

    for name in ("_beta_ppf", "_binom_pmf", "_binom_cdf", "_binom_sf"):
        assert hasattr(_ufuncs, name), f"scipy.special._ufuncs.{name} is gone"
        assert getattr(dist, name) is getattr(_ufuncs, name)


def test_the_module_imports_neither_scipy_stats_nor_scipy_optimize() -> None:
    code = ("import sys, trialreport.stats.distributions; "
            "print(sorted(m for m in ('scipy.stats', 'scipy.optimize', 'statsmodels') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
