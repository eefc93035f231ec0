"""The distribution functions and tests the analyses need, from ``scipy.special`` alone.

Importing ``scipy.stats`` loads every distribution and test it has: about half a second,
more than the whole analysis of a small trial, paid by the analyse job of every trial.
Each function here evaluates the special function ``scipy.stats`` itself evaluates for the
same quantity (its ``t.ppf`` is ``scipy.special.stdtrit``, its ``binom.pmf`` the Boost
binomial of ``scipy.special``, ...) and follows scipy's algorithm step by step (the
two-sided binomial test, the paired t-test, the normal approximation of the Wilcoxon
signed-rank test, Brent's root finder), so the results are the same floats:
``tests/test_distributions.py`` checks them for equality against ``scipy.stats`` and
``scipy.optimize`` over many arguments. What only some trials use still imports
``scipy.stats`` or statsmodels, inside the function that needs it: chi-square and Fisher's
exact test of two proportions and the CMH test (``stats``), the between-arm models
(``models``) and the chi-square check of published p values (``consistency``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

try:
    # Boost's binomial and beta functions: what scipy.stats.binom and scipy.stats.beta call
    # (private names of scipy.special; tests/test_distributions.py names them, so a scipy
    # that renames them fails that test by name, and the lock file pins scipy).
    from scipy.special._ufuncs import _beta_ppf, _binom_cdf, _binom_pmf, _binom_sf
except ImportError:  # a scipy that renamed them: scipy.stats' own, at its import's cost
    from scipy import stats

    _beta_ppf, _binom_pmf = stats.beta.ppf, stats.binom.pmf
    _binom_cdf, _binom_sf = stats.binom.cdf, stats.binom.sf

ALTERNATIVES = ("two-sided", "greater", "less")
_EPS = float(np.finfo(float).eps)


# ---------------------------------------------------------------------------------------
# Continuous distributions (arguments inside the support, as the analyses use them)
# ---------------------------------------------------------------------------------------


def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t with ``df`` degrees of freedom, 0 < q < 1
    (``scipy.stats.t.ppf``)."""
    return float(special.stdtrit(df, q))


def t_cdf(x: float, df: float) -> float:
    """P(T <= x) for Student's t (as scipy's t-tests compute it)."""
    return float(special.stdtr(df, x))


def norm_ppf(q: float) -> float:
    """Quantile of the standard normal distribution, 0 < q < 1 (``scipy.stats.norm.ppf``)."""
    return float(special.ndtri(q))


def norm_cdf(x: float) -> float:
    """P(Z <= x) for the standard normal distribution (``scipy.stats.norm.cdf``; scipy's
    tests take their normal p-values from it)."""
    return float(special.ndtr(x))


def beta_ppf(q: float, a: float, b: float) -> float:
    """Quantile of the Beta(a, b) distribution, 0 < q < 1 (``scipy.stats.beta.ppf``)."""
    return float(_beta_ppf(q, a, b))


def nct_cdf(x: float, df: float, nc: float) -> float:
    """P(T <= x) for the noncentral t with ``df`` degrees of freedom and noncentrality
    ``nc`` (``scipy.stats.nct.cdf``)."""
    return float(special.nctdtr(df, nc, x))


# ---------------------------------------------------------------------------------------
# The binomial distribution and the exact binomial test
# ---------------------------------------------------------------------------------------


def binom_pmf(k: float, n: int, p: float) -> float:
    """P(X = k) for X ~ Binomial(n, p) (``scipy.stats.binom.pmf``: 0 off the support)."""
    if k != math.floor(k) or k < 0 or k > n:
        return 0.0
    return float(np.clip(_binom_pmf(k, n, p), 0, 1))


def binom_cdf(k: float, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p) (``scipy.stats.binom.cdf``)."""
    if k >= n:
        return 1.0
    if k < 0:
        return 0.0
    return float(np.clip(_binom_cdf(math.floor(k), n, p), 0, 1))


def binom_sf(k: float, n: int, p: float) -> float:
    """P(X > k) for X ~ Binomial(n, p) (``scipy.stats.binom.sf``)."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return float(np.clip(_binom_sf(math.floor(k), n, p), 0, 1))


def _binary_search_for_binom_tst(a: Callable[[float], float], d: float, lo: float,
                                 hi: float) -> float:
    """The i in [lo, hi] with a(i) <= d < a(i + 1), for ``a`` ascending (scipy's helper of
    the two-sided binomial test)."""
    while lo < hi:
        mid = lo + (hi - lo) // 2
        midval = a(mid)
        if midval < d:
            lo = mid + 1
        elif midval > d:
            hi = mid - 1
        else:
            return mid
    return lo if a(lo) <= d else lo - 1


def binomtest_pvalue(k: int, n: int, p: float, alternative: str = "two-sided") -> float:
    """p-value of the exact binomial test of H0: P(success) = p, k successes in n trials
    (``scipy.stats.binomtest(k, n, p, alternative).pvalue``). Two-sided: the total
    probability of the outcomes no more likely than the one observed (relative tolerance
    1e-7), at most 1, as R's ``binom.test``; ``greater``: P(X >= k); ``less``: P(X <= k).
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"binomial test needs 0 <= k <= n and n >= 1 (k = {k}, n = {n})")
    if alternative == "less":
        return binom_cdf(k, n, p)
    if alternative == "greater":
        return binom_sf(k - 1, n, p)
    d = binom_pmf(k, n, p)
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    if k < p * n:
        ix = _binary_search_for_binom_tst(lambda x1: -binom_pmf(x1, n, p), -d * rerr,
                                          math.ceil(p * n), n)
        y = n - ix + int(d * rerr == binom_pmf(ix, n, p))
        pval = binom_cdf(k, n, p) + binom_sf(n - y, n, p)
    else:
        ix = _binary_search_for_binom_tst(lambda x1: binom_pmf(x1, n, p), d * rerr, 0,
                                          math.floor(p * n))
        y = ix + 1
        pval = binom_cdf(y - 1, n, p) + binom_sf(k - 1, n, p)
    return min(1.0, pval)


def binom_exact_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided exact (Clopper-Pearson) interval of a binomial proportion found as scipy's
    ``binomtest(k, n).proportion_ci(confidence, method="exact")`` finds it: the p solving
    P(X >= k | p) = alpha/2 and P(X <= k | p) = alpha/2 by Brent's method on [0, 1]; 0 and
    1 at k = 0 and k = n."""
    alpha = (1 - confidence) / 2
    low = 0.0 if k == 0 else brentq(lambda p: binom_sf(k - 1, n, p) - alpha, 0, 1)
    high = 1.0 if k == n else brentq(lambda p: binom_cdf(k, n, p) - alpha, 0, 1)
    return low, high


# ---------------------------------------------------------------------------------------
# Root finding
# ---------------------------------------------------------------------------------------


def brentq(f: Callable[[float], float], a: float, b: float, xtol: float = 2e-12,
           rtol: float = 4 * _EPS, maxiter: int = 100) -> float:
    """A root of ``f`` in [a, b], where f(a) and f(b) differ in sign, by Brent's method:
    the algorithm of ``scipy.optimize.brentq`` (C. Harris's brentq.c), step by step, so it
    returns the same float. The result is within ``xtol + rtol * |x|`` of a root.

    Raises ``ValueError`` when f(a) and f(b) have the same sign or f gives NaN, and
    ``RuntimeError`` when ``maxiter`` iterations do not converge, as scipy does."""
    if xtol <= 0:
        raise ValueError(f"xtol too small ({xtol:g} <= 0)")
    if rtol < 4 * _EPS:
        raise ValueError(f"rtol too small ({rtol:g} < {4 * _EPS:g})")

    def value(x: float) -> float:
        fx = float(f(x))
        if math.isnan(fx):
            raise ValueError(f"the function value at x = {x:.17g} is NaN; the root "
                             "finder cannot continue")
        return fx

    xpre, xcur = float(a), float(b)
    xblk = fblk = spre = scur = 0.0
    fpre, fcur = value(xpre), value(xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("f(a) and f(b) must have different signs")
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and (math.copysign(1.0, fpre)
                                        != math.copysign(1.0, fcur)):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:
                stry = -fcur * (xcur - xpre) / (fcur - fpre)  # interpolate
            else:  # extrapolate
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):
                spre, scur = scur, stry  # good short step
            else:
                spre = scur = sbis  # bisect
        else:
            spre = scur = sbis  # bisect
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = value(xcur)
    raise RuntimeError(f"the root finder did not converge in {maxiter} iterations")


# ---------------------------------------------------------------------------------------
# Ranks and the paired tests
# ---------------------------------------------------------------------------------------


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` (no NaN), ties given their average rank (midranks;
    ``scipy.stats.rankdata(method="average")``)."""
    x = np.asarray(values, dtype=float).ravel()
    order = np.argsort(x, kind="mergesort")
    inverse = np.empty(x.size, dtype=np.intp)
    inverse[order] = np.arange(x.size, dtype=np.intp)
    sorted_x = x[order]
    new = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    dense = np.cumsum(new)[inverse]
    bounds = np.r_[np.nonzero(new)[0], x.size]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def _pvalue(statistic: float, cdf: Callable[[float], float], alternative: str) -> float:
    """p of a statistic with a symmetric null distribution (scipy's ``_get_pvalue``)."""
    if alternative == "less":
        return cdf(statistic)
    if alternative == "greater":
        return cdf(-statistic)
    if alternative == "two-sided":
        return 2 * cdf(-abs(statistic))
    raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")


def ttest_rel(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided"
              ) -> tuple[float, float, float]:
    """Paired t-test of a - b (no NaN; n >= 2): t = mean(d) / (SD(d) / sqrt(n)) with
    n - 1 degrees of freedom, computed as ``scipy.stats.ttest_rel(a, b)`` computes it.
    Returns (t, df, p)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    mean = np.mean(d)
    centred = d - np.mean(d, keepdims=True)
    var = np.mean(centred**2) * (np.float64(n) / (np.float64(n) - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.divide(mean, np.sqrt(var / np.float64(n)))
    df = np.float64(n - 1)
    p = _pvalue(float(t), lambda x: t_cdf(x, df), alternative)
    return float(t), float(df), p


def wilcoxon_normal(d: np.ndarray, alternative: str = "two-sided"
                    ) -> tuple[float, float]:
    """Wilcoxon signed-rank test of the differences ``d`` (no NaN) by the normal
    approximation with continuity correction, zero differences dropped ("wilcox") and the
    variance corrected for ties, as ``scipy.stats.wilcoxon(d, zero_method="wilcox",
    method="asymptotic", correction=True)`` computes it: z = (T+ - n(n+1)/4 - c 0.5) / se,
    se^2 = [n(n+1)(2n+1) - sum(t^3 - t)/2] / 24 over the tie groups t of |d|, c the sign
    of the correction. Returns (W, p): W the smaller signed-rank sum when two-sided, T+
    otherwise. At least one difference must be non-zero."""
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    d = np.asarray(d, dtype=float)
    nonzero = d[d != 0]
    count = float(nonzero.size)
    ranks = rankdata(np.abs(nonzero))
    r_plus = float(np.sum((nonzero > 0) * ranks))
    r_minus = float(np.sum((nonzero < 0) * ranks))
    _, ties = np.unique(np.abs(nonzero), return_counts=True)
    ties = ties.astype(float)
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    se = math.sqrt((se - float(np.sum(ties**3 - ties)) / 2) / 24)
    z = (r_plus - mn) / se
    sign = {"greater": 1.0, "less": -1.0}.get(alternative, float(np.sign(z)))
    z -= sign * 0.5 / se
    p = _pvalue(z, norm_cdf, alternative)
    w = min(r_plus, r_minus) if alternative == "two-sided" else r_plus
    return w, p


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values: the i-th smallest of m p-values becomes
    max over j <= i of min(1, (m - j + 1) p_(j)), as statsmodels'
    ``multipletests(method="holm")`` computes them. No NaN."""
    p = np.asarray(p_values, dtype=float)
    m = p.size
    order = np.argsort(p)
    adjusted = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
    adjusted[adjusted > 1] = 1
    out = np.empty(m)
    out[order] = adjusted
    return out
