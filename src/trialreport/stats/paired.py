"""Paired comparisons: baseline against a later visit within subjects.

The paired t-test, the Wilcoxon signed-rank test (exact with ties, or normal), the
Hodges-Lehmann estimate and its interval, Cohen's d_z, the matched-pairs rank-biserial
correlation and the exact McNemar test. Each function says what it computes, which
variant, and its source; results are plain dicts of named numbers."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trialreport.stats import distributions as dist
from trialreport.stats.descriptive import describe
from trialreport.stats.distributions import ALTERNATIVES

EXACT_WILCOXON_BELOW = 50


def wilcoxon_method(differences: np.ndarray) -> str:
    """The Wilcoxon variant used: ``exact`` when there are fewer than 50 non-zero
    differences (``EXACT_WILCOXON_BELOW``), with or without ties among their absolute values
    (``wilcoxon_exact``: the exact conditional distribution, ties kept); from 50 on, the
    ``normal approximation`` with tie and continuity corrections (R's ``correct = TRUE``).
    Zero differences are dropped first (Wilcoxon's method) and are not counted."""
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    return "exact" if d.size < EXACT_WILCOXON_BELOW else "normal approximation"


def wilcoxon_exact(differences: np.ndarray, alternative: str = "two-sided") -> dict[str, Any]:
    """Exact conditional (permutation) Wilcoxon signed-rank test, ties kept.

    Zero differences are dropped (``zero_method='wilcox'``); the n non-zero absolute
    differences get midranks (tied values share the mean of their ranks). Under H0 each of
    the 2^n sign assignments to these fixed midranks is equally likely; T+ is the sum of
    the midranks of the positive differences. Its distribution is counted exactly by
    dynamic programming over the doubled midranks (integers, since a midrank is a whole or
    half number): counts[s] = number of sign assignments whose doubled T+ equals s. Without
    ties this is the distribution of R's ``psignrank`` (and scipy's ``method='exact'``);
    with ties it is the conditional distribution of, e.g., coin's ``wilcoxsign_test(...,
    distribution = "exact")``.

    p values, with t the observed T+: ``greater`` P(T+ >= t), ``less`` P(T+ <= t),
    ``two-sided`` min(1, 2 min(P(T+ <= t), P(T+ >= t))).

    ``paired_comparison`` uses it when there are fewer than 50 non-zero differences
    (``EXACT_WILCOXON_BELOW``; 2^n is then at most 2^49, so the counts are exact in
    int64) and the normal approximation from 50 on. Returned: ``T_plus``, ``T_minus``,
    ``p_value``, ``n_nonzero``. With no non-zero difference there is no test (p NaN).
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    d = d[d != 0]
    n = int(d.size)
    if n == 0:
        return {"T_plus": 0.0, "T_minus": 0.0, "p_value": math.nan, "n_nonzero": 0}
    if n >= 63:
        raise ValueError(f"wilcoxon_exact counts 2^n sign assignments in int64; n = {n} "
                         "non-zero differences is too many (use the normal approximation)")
    doubled = np.rint(2 * dist.rankdata(np.abs(d))).astype(np.int64)  # 2 x midrank
    total = int(doubled.sum())
    counts = np.zeros(total + 1, dtype=np.int64)
    counts[0] = 1
    for a in doubled:
        a = int(a)
        shifted = np.zeros_like(counts)
        shifted[a:] = counts[:total + 1 - a]
        counts = counts + shifted
    t2 = int(doubled[d > 0].sum())
    n_all = float(2**n)
    p_le = float(counts[:t2 + 1].sum()) / n_all
    p_ge = float(counts[t2:].sum()) / n_all
    if alternative == "greater":
        p = p_ge
    elif alternative == "less":
        p = p_le
    else:
        p = min(1.0, 2.0 * min(p_le, p_ge))
    return {"T_plus": t2 / 2.0, "T_minus": (total - t2) / 2.0, "p_value": p,
            "n_nonzero": n}


def paired_comparison(
    baseline: np.ndarray,
    comparison: np.ndarray,
    confidence: float = 0.95,
    alternative: str = "two-sided",
) -> dict[str, Any]:
    """Compare a comparison visit with baseline on complete pairs.

    Pairs with a missing value at either visit are dropped (observed case). The change is
    comparison - baseline. Computed:

    - n of pairs, mean and SD at each visit (among the pairs);
    - mean change with its two-sided t-based confidence interval (``describe`` of the
      changes; the same interval as R's ``t.test(..., paired = TRUE)``);
    - paired t-test (Student, 1908): t, df = n - 1, p, the numbers of
      ``scipy.stats.ttest_rel`` (what ``pingouin.ttest(paired=True)`` calls for t and p),
      computed by ``distributions.ttest_rel`` without importing scipy.stats (pingouin is
      not imported either: it pulls statsmodels, scikit-learn and seaborn into every
      analysis; the tests check that all three give the same numbers); not computed (no
      ``ttest`` entry) with fewer than 2 pairs or constant changes (SD 0);
    - Wilcoxon signed-rank test (zero changes dropped), the variant chosen by
      ``wilcoxon_method``: below 50 non-zero changes the exact conditional distribution with
      ties kept (``wilcoxon_exact``), from 50 on the normal approximation with tie and
      continuity corrections, the numbers of ``scipy.stats.wilcoxon`` (what
      ``pingouin.wilcoxon`` calls), by ``distributions.wilcoxon_normal`` (pingouin's
      wrapper also builds an n x n matrix for its CLES, which does not fit in memory for
      large trials). W is the smaller of the signed-rank sums for a two-sided
      test and T+ (sum of the ranks of the positive changes) for a one-sided one.
    - median change (``describe``), Hodges-Lehmann estimate with CI (``hodges_lehmann``),
      Cohen's d_z with CI (``cohens_dz``), matched-pairs rank-biserial
      (``rank_biserial_paired``).

    The counts of excluded pairs say why: no baseline value, no comparison value, neither.
    Confidence intervals are two-sided at ``confidence`` whatever the ``alternative``.
    ``alternative`` refers to the change: ``"less"`` tests that the comparison visit is lower.
    """
    if alternative not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(comparison, dtype=float)
    keep = ~(np.isnan(b) | np.isnan(c))
    b, c = b[keep], c[keep]
    n = int(b.size)
    change = c - b
    out: dict[str, Any] = {
        "n_pairs": n,
        "n_excluded": int((~keep).sum()),
        "n_excluded_no_baseline": int((np.isnan(np.asarray(baseline, dtype=float))
                                       & ~np.isnan(np.asarray(comparison, dtype=float))).sum()),
        "n_excluded_no_comparison": int((~np.isnan(np.asarray(baseline, dtype=float))
                                         & np.isnan(np.asarray(comparison, dtype=float))).sum()),
        "n_excluded_neither": int((np.isnan(np.asarray(baseline, dtype=float))
                                   & np.isnan(np.asarray(comparison, dtype=float))).sum()),
        "baseline": describe(b, confidence),
        "comparison": describe(c, confidence),
        "change": describe(change, confidence),
        "hodges_lehmann": hodges_lehmann(change, confidence),
        "cohens_dz": cohens_dz(change, confidence),
        "rank_biserial": rank_biserial_paired(change),
    }
    if n < 2:
        return out
    # With constant changes (SD 0) t is +-inf or undefined and p 0 or NaN: not a test
    # result (R's t.test stops: "data are essentially constant"). No "ttest" entry then,
    # so the ARD has no t-test rows and the report says "not computed".
    if np.std(change, ddof=1) > 0:
        t, _, p = dist.ttest_rel(c, b, alternative)
        out["ttest"] = {
            "t": t,
            "df": float(n - 1),
            "p_value": p,
        }
    method = wilcoxon_method(change)
    if np.any(change != 0):
        if method == "exact":
            ex = wilcoxon_exact(change, alternative)
            # W as scipy reports it: the smaller signed-rank sum when two-sided, else T+
            w = (min(ex["T_plus"], ex["T_minus"]) if alternative == "two-sided"
                 else ex["T_plus"])
            wx_w, wx_p = float(w), float(ex["p_value"])
        else:
            wx_w, wx_p = dist.wilcoxon_normal(change, alternative)
        out["wilcoxon"] = {
            "W": wx_w,
            "p_value": wx_p,
            "method": method,
            "n_nonzero": int(np.count_nonzero(change)),
        }
    return out


# ---------------------------------------------------------------------------------------
# Paired comparison: effect sizes and location estimates
# ---------------------------------------------------------------------------------------


def signrank_null_cdf(n: int) -> np.ndarray:
    """Exact null distribution of the Wilcoxon signed-rank statistic V (sum of positive
    ranks) for n untied, non-zero differences: ``cdf[v] = P(V <= v)``, v = 0..n(n+1)/2.

    Counted by the recursion on the number of sign assignments giving each sum (each of the
    2^n assignments equally likely under H0); the distribution of R's ``psignrank``.
    """
    m = n * (n + 1) // 2
    counts = np.zeros(m + 1, dtype=float)
    counts[0] = 1.0
    for k in range(1, n + 1):
        shifted = np.zeros_like(counts)
        shifted[k:] = counts[:-k]
        counts = counts + shifted
    return np.cumsum(counts) / 2.0**n


def hodges_lehmann(differences: np.ndarray, confidence: float = 0.95,
                   exact: bool | None = None) -> dict[str, Any]:
    """One-sample (paired) Hodges-Lehmann estimate of the location shift and its two-sided
    CI, as R 4.x (4.0 to 4.5) ``wilcox.test(x, conf.int = TRUE)`` defines them, so that
    the interval goes with the Wilcoxon test of the same data (zeros dropped in both).

    Source: ``wilcox.test.default`` of R 4.x, src/library/stats/R/wilcox.test.R
    ("Copyright (C) 1995-2019"), one-sample branch; Hodges & Lehmann (1963); Bauer (1972)
    for the exact interval. R >= 4.6 changed both paths (exact with ties; zeros kept in
    the asymptotic interval); this follows 4.x.

    Missing differences and zero differences are dropped first (R: ``x <- x[x != 0]``);
    n is the number of non-zero differences and M = n(n+1)/2 the number of their Walsh
    averages (x_i + x_j)/2, i <= j. With no non-zero difference there is no estimate and
    no interval (NaN, as R). Otherwise:

    - ``exact`` (by default when n < 50, R's ``exact = NULL``; ``exact=False`` forces the
      normal path) and only when there were no zero differences and no ties among |x|:
      the estimate is the median of the Walsh averages and the CI is
      [W_(C), W_(M+1-C)] of the ordered averages, C = ``qsignrank(alpha/2, n)`` (the
      smallest v with P(V <= v) >= alpha/2 under the exact signed-rank null distribution),
      at least 1: R's ``c(diffs[qu], diffs[ql+1])``. As in R, with n <= 5 C = 1 gives
      [min, max], whose achieved confidence 1 - 2^(1-n) is below the nominal one (R warns;
      not reported here).
    - ``normal approximation`` otherwise. R's interval is where its standardized
      statistic W(d) of x - d (zeros of x - d dropped, ranks of |x - d| with midranks,
      tie-corrected variance, continuity correction 0.5 sign) crosses +-z(1 - alpha/2),
      found by ``uniroot`` (tol 1e-4). W is a step function of d that changes only at
      Walsh averages, so the crossings are Walsh averages, and this returns them exactly
      (R's printed limits are within about 1e-4 of them). Between two consecutive distinct
      Walsh averages no x - d is zero, the only ties among |x - d| are equal values of x,
      and the sum of the ranks of the positive x - d equals K(d), the number of Walsh
      averages above d. So W there depends on K only, through the same expression as the
      test's statistic (``distributions.wilcoxon_normal``, evaluated here on K with the
      variance of the tie groups of equal values), and it does not increase with d. The
      lower limit is the left end of the first such interval where the test of x - d
      does not reject (p >= alpha), the upper the right end of the last one: with
      K_hi the largest K that is not rejected (a binary search over K) and C = M - K_hi,
      the limits are the order statistics W_(C) and W_(M+1-C) (``WalshAverages``, which
      finds them without listing the averages: 5 x 10^9 of them at 10^5 pairs).
      The estimate is where W without continuity correction crosses 0, i.e. where K(d)
      passes M/2: the median of the Walsh averages of the non-zero differences. When M is
      even and the two middle averages differ, W is exactly 0 between them; R's uniroot
      returns whichever point of that interval it meets first, this returns the midpoint
      (the classical estimator, and the choice that turns the estimate of -x into minus
      that of x).

    Consistency with ``wilcoxon_normal`` on the same data (P its two-sided p, zeros
    dropped): P >= alpha implies ci_low <= 0 <= ci_high; P < alpha implies that 0 is not
    strictly inside the interval, and it is outside unless 0 is one of its limits, which
    needs 0 to be a Walsh average (two non-zero differences of equal size and opposite
    sign): the test at 0 then ranks |-a| and |a| as tied, the intervals beside 0 do not,
    and the confidence set is open at that limit. With no such pair, P < alpha exactly
    when 0 is outside. (tests/test_stats_properties.py; the strict-interior part holds for
    every confidence level with z(1 - alpha/2) < 4 sqrt(2), i.e. below 1 - 1.5e-8.)

    Edge cases, where this differs from R on purpose: R evaluates W at min(x) and max(x)
    themselves (dropping those observations) and, when the test there does not reject,
    doubles alpha until it does, reporting a lower confidence level with a warning (down
    to a degenerate interval at level 0). Here the confidence level stays the requested
    one: when even the outermost intervals (every x - d of one sign) are not rejected,
    the set of shifts the test does not reject is the whole line and the limits are
    -inf and inf. The interval always contains the estimate.

    Returned: ``estimate``, ``ci_low``, ``ci_high``, ``method`` (``exact``, ``normal
    approximation`` or ``not computed``). The achieved confidence is not reported.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    x = np.sort(d[d != 0])
    n = int(x.size)
    if n == 0:
        return {"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                "method": "not computed"}
    walsh = WalshAverages(x)
    m = walsh.m
    estimate = (walsh.order_statistic((m + 1) // 2) + walsh.order_statistic(m // 2 + 1)) / 2
    alpha = 1.0 - confidence
    no_ties = np.unique(np.abs(x)).size == n
    if (n < EXACT_WILCOXON_BELOW if exact is None else exact) and no_ties and n == d.size:
        cdf = signrank_null_cdf(n)
        c = int(np.searchsorted(cdf, alpha / 2 - 1e-12))  # smallest v with cdf[v] >= a/2
        c = max(c, 1)
        method = "exact"
    else:
        method = "normal approximation"
        _, groups = np.unique(x, return_counts=True)  # ties between x - d, d no average
        k_hi = _largest_count_not_rejected(n, groups, alpha)
        if k_hi == m:
            return {"estimate": float(estimate), "ci_low": -math.inf, "ci_high": math.inf,
                    "method": method}
        c = m - k_hi
    return {"estimate": float(estimate), "ci_low": walsh.order_statistic(c),
            "ci_high": walsh.order_statistic(m + 1 - c), "method": method}


def _signed_rank_normal_p(r_plus: float, count: float, tie_sum: float) -> float:
    """Two-sided p of the signed-rank sum ``r_plus`` of ``count`` non-zero differences by
    the normal approximation with continuity correction, ``tie_sum`` = sum(t^3 - t) over
    the tie groups: the expression of ``distributions.wilcoxon_normal``, operation for
    operation, so that the interval and the test decide alike."""
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    se = math.sqrt((se - tie_sum / 2) / 24)
    z = (r_plus - mn) / se
    z -= float(np.sign(z)) * 0.5 / se
    return 2 * dist.norm_cdf(-abs(z))


def _largest_count_not_rejected(n: int, groups: np.ndarray, alpha: float) -> int:
    """The largest K in M/2..M at which the continuity-corrected normal signed-rank test
    of n differences whose positive ones have rank sum K (tie groups ``groups``) gives
    p >= alpha. p falls as K moves away from M/2 (where it is 1), so a binary search."""
    m = n * (n + 1) // 2
    groups = groups.astype(float)
    tie_sum = float(np.sum(groups**3 - groups))

    def kept(k: int) -> bool:
        return _signed_rank_normal_p(float(k), float(n), tie_sum) >= alpha

    lo, hi = (m + 1) // 2, m  # kept(lo): |K - M/2| <= 1/2 gives z = 0 after correction
    if kept(hi):
        return hi
    while hi - lo > 1:  # kept(lo), not kept(hi)
        mid = (lo + hi) // 2
        if kept(mid):
            lo = mid
        else:
            hi = mid
    return lo


class WalshAverages:
    """Order statistics of the Walsh averages (d_i + d_j) / 2, i <= j, of sorted ``d``.

    Up to ``enumerate_up_to`` values the M = n(n+1)/2 averages are listed and sorted. Past
    that (a large trial: 10^5 pairs give 5 x 10^9 averages) the k-th smallest is found
    without listing them. For each d_i the averages with d_j, j >= i, increase with j (in
    floating point too), so the number of averages <= t is found by a vectorised binary
    search per i that evaluates ``(d_i + d_j) / 2`` exactly as the listing does; t is then
    bisected until no other average lies between the bounds, and the answer is the smallest
    average above the lower bound: the same float the listing gives.
    """

    def __init__(self, sorted_d: np.ndarray, enumerate_up_to: int = 2_000_000):
        self.d = np.asarray(sorted_d, dtype=float)
        n = self.d.size
        self.m = n * (n + 1) // 2
        self.listed = None
        if self.m <= enumerate_up_to:
            i, j = np.triu_indices(n)
            self.listed = np.sort((self.d[i] + self.d[j]) / 2.0)

    def _first_above(self, t: float) -> np.ndarray:
        """For each i, the first j >= i with (d_i + d_j) / 2 > t (n if there is none).

        ``searchsorted`` on 2t - d_i gives the boundary up to rounding; it is then moved,
        a whole block of equal values at a time, until the exact predicate holds on both
        sides of it.
        """
        d, n = self.d, self.d.size
        i = np.arange(n)
        with np.errstate(over="ignore", invalid="ignore"):
            j = np.maximum(np.searchsorted(d, 2.0 * t - d, side="right"), i)
        while True:
            up = (j < n) & ((d + d[np.minimum(j, n - 1)]) / 2.0 <= t)
            down = ~up & (j > i) & ((d + d[np.maximum(j - 1, 0)]) / 2.0 > t)
            if not (up.any() or down.any()):
                return j
            j = np.where(up, np.searchsorted(d, d[np.minimum(j, n - 1)], side="right"), j)
            j = np.where(down, np.searchsorted(d, d[np.maximum(j - 1, 0)], side="left"), j)
            j = np.maximum(j, i)

    def count_at_most(self, t: float) -> int:
        """Number of Walsh averages <= t."""
        return int((self._first_above(t) - np.arange(self.d.size)).sum())

    def smallest_above(self, t: float) -> float:
        """The smallest Walsh average strictly greater than t."""
        j = self._first_above(t)
        ok = j < self.d.size
        return float(np.min((self.d[ok] + self.d[j[ok]]) / 2.0))

    def order_statistic(self, k: int) -> float:
        """The k-th smallest Walsh average, k = 1..M."""
        if self.listed is not None:
            return float(self.listed[k - 1])
        # The smallest average is d_0 itself and the largest d_(n-1), so below the first
        # there is none (count 0 < k) and up to the last there are all (count M >= k).
        lo = float(np.nextafter(self.d[0], -np.inf))
        hi = float(self.d[-1])
        while True:
            candidate = self.smallest_above(lo)
            if candidate >= hi or self.count_at_most(candidate) >= k:
                return candidate  # nothing lies between lo and candidate
            mid = lo / 2.0 + hi / 2.0
            if mid <= lo or mid >= hi:
                return candidate
            if self.count_at_most(mid) >= k:
                hi = mid
            else:
                lo = mid


def cohens_dz(differences: np.ndarray, confidence: float = 0.95) -> dict[str, float]:
    """Cohen's d_z = mean(d) / SD(d) of paired differences (SD with n - 1; Cohen, 1988,
    section 2.3.5), with its two-sided CI by inverting the noncentral t distribution
    (Steiger & Fouladi, 1997; the method of MBESS ``ci.sm``): the observed
    t = d_z * sqrt(n) has a noncentral t(n - 1, lambda) distribution; the limits are the
    lambda with P(T >= t) = alpha/2 and P(T <= t) = alpha/2, divided by sqrt(n).
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    n = d.size
    nan = {"dz": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    if n < 2:
        return nan
    sd = float(d.std(ddof=1))
    if sd == 0:
        return nan
    dz = float(d.mean()) / sd
    if dz < 0:
        # T(lambda) and -T(-lambda) have the same distribution; scipy's noncentral t is
        # more accurate for t >= 0, so compute the interval of -dz and reflect it.
        mirror = cohens_dz(-d, confidence)
        return {"dz": dz, "ci_low": -mirror["ci_high"], "ci_high": -mirror["ci_low"]}
    t_obs, df = dz * math.sqrt(n), n - 1
    alpha = 1.0 - confidence

    def limit(target: float) -> float:
        # lambda such that P(T <= t_obs | lambda) = target; the cdf falls as lambda rises.
        def f(lam: float) -> float:
            return dist.nct_cdf(t_obs, df, lam) - target
        lo, hi, step = t_obs - 1.0, t_obs + 1.0, 1.0
        while f(lo) < 0:
            lo, step = lo - step, step * 1.5
        step = 1.0
        while f(hi) > 0:
            hi, step = hi + step, step * 1.5
        return dist.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500)

    try:
        low, high = limit(1 - alpha / 2), limit(alpha / 2)
    except (ValueError, RuntimeError):  # the noncentral t gave NaN or no root: no interval
        return {"dz": dz, "ci_low": math.nan, "ci_high": math.nan}
    return {"dz": dz, "ci_low": low / math.sqrt(n), "ci_high": high / math.sqrt(n)}


def rank_biserial_paired(differences: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation r = (R+ - R-) / (R+ + R-), where R+ and R-
    are the sums of the ranks of |d| (average ranks for ties) over positive and negative
    differences, zero differences dropped (Kerby, 2014, *Compr. Psychol.* 3:11.IT.3.1).
    Ranges from -1 (every difference negative) to 1; NaN when every difference is zero."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    d = d[d != 0]
    if d.size == 0:
        return math.nan
    ranks = dist.rankdata(np.abs(d))
    r_plus, r_minus = ranks[d > 0].sum(), ranks[d < 0].sum()
    return float((r_plus - r_minus) / (r_plus + r_minus))


def mcnemar_exact(before: np.ndarray, after: np.ndarray,
                  alternative: str = "two-sided") -> dict[str, float]:
    """Exact McNemar test of paired binary outcomes (McNemar, 1947; exact form): on the
    pairs with both outcomes known, b = pairs positive only before, c = positive only after;
    under H0 c ~ Binomial(b + c, 1/2), and p is the binomial test's (two-sided: twice the
    smaller tail, at most 1; the p of R's ``exact2x2::mcnemar.exact`` and of
    statsmodels ``mcnemar(exact=True)``). ``alternative`` refers to c: ``"greater"`` tests
    that more pairs become positive than stop being positive. p is NaN when b + c = 0."""
    x = np.asarray(before, dtype=float)
    y = np.asarray(after, dtype=float)
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep].astype(bool), y[keep].astype(bool)
    b = int((x & ~y).sum())
    c = int((~x & y).sum())
    out = {"n_pairs": float(x.size), "both": float((x & y).sum()),
           "neither": float((~x & ~y).sum()), "before_only": float(b),
           "after_only": float(c), "p_value": math.nan}
    if b + c > 0:
        out["p_value"] = dist.binomtest_pvalue(c, b + c, 0.5, alternative)
    return out
