"""The Hodges-Lehmann estimate and interval as R 4.x ``wilcox.test(conf.int = TRUE)``
computes them (issue 24), against R's printed outputs and against the exact jump points
of R's W(d) found here by brute force.

R's normal-approximation interval is where its standardized signed-rank statistic W(d) of
x - d crosses +-z, found by ``uniroot`` with tol 1e-4, so R prints a point within about
1e-4 of a jump of the step function W; ``hodges_lehmann`` returns the jump points
themselves. Two independent computations are here, both written from R's source, not from
the package:

- ``r_w``: R's ``W(d)`` transcribed from ``wilcox.test.default`` of R 4.x
  (src/library/stats/R/wilcox.test.R, "Copyright (C) 1995-2019", one-sample branch; the
  text is in the project's research notes, section 3.1), with scipy's ``rankdata``;
- ``r_zeroin2``: R's ``uniroot``, i.e. ``R_zeroin2`` transcribed from
  src/library/stats/src/zeroin.c (R 4.x), and ``r_wilcox_conf_int`` the interval branch of
  ``wilcox.test.default`` around them (alpha doubling included).

``r_wilcox_conf_int`` reproduces every printed digit of the four R outputs below, which
shows that ``r_w`` is R's statistic; the brute force then lists every Walsh average,
evaluates ``r_w`` inside every gap between consecutive ones and takes the first and last
gap where the test does not reject: the exact limits, which ``hodges_lehmann`` must
equal.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from trialreport.stats import distributions as dist
from trialreport.stats.paired import hodges_lehmann

# ---------------------------------------------------------------------------------------
# R's W(d) and uniroot, transcribed
# ---------------------------------------------------------------------------------------


def r_w(x: np.ndarray, d: float, correct: bool = True) -> float:
    """R 4.x ``W(d)``, two-sided: zeros of x - d dropped, midranks of |x - d|, the
    tie-corrected SIGMA.CI, continuity correction sign(zd) * 0.5 when ``correct``."""
    xd = np.asarray(x, dtype=float) - d
    xd = xd[xd != 0]
    nx = xd.size
    dr = sps.rankdata(np.abs(xd))
    zd = dr[xd > 0].sum() - nx * (nx + 1) / 4
    _, nties = np.unique(dr, return_counts=True)
    sigma = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - np.sum(nties**3 - nties) / 48)
    correction = np.sign(zd) * 0.5 if correct else 0.0
    return (zd - correction) / sigma if sigma > 0 else math.nan


def r_zeroin2(ax: float, bx: float, fa: float, fb: float, f, tol: float,
              maxit: int = 1000) -> float:
    """``R_zeroin2`` (Brent's zeroin as R has it), statement for statement."""
    eps = np.finfo(float).eps
    a, b, c, fc = ax, bx, ax, fa
    maxit += 1
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    while maxit:
        maxit -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def r_wilcox_conf_int(x, mu: float = 0.0, conf_level: float = 0.95,
                      tol_root: float = 1e-4) -> tuple[float, float, float, float]:
    """The two-sided normal-approximation ``conf.int`` branch of R 4.x
    ``wilcox.test.default``: (lower, upper, (pseudo)median, conf.level)."""
    x = np.asarray(x, dtype=float) - mu
    x = x[x != 0] + mu
    alpha = 1 - conf_level
    mumin, mumax = x.min(), x.max()
    w_min, w_max = r_w(x, mumin), r_w(x, mumax)
    while w_min - sps.norm.isf(alpha / 2) < 0 or w_max - sps.norm.ppf(alpha / 2) > 0:
        alpha *= 2
    if alpha >= 1 or 1 - conf_level < alpha * 0.75:
        conf_level = 1 - min(1.0, alpha)
    if alpha < 1:
        def root(zq: float) -> float:
            return r_zeroin2(mumin, mumax, w_min - zq, w_max - zq,
                             lambda d: r_w(x, d) - zq, tol_root)
        low, high = root(sps.norm.isf(alpha / 2)), root(sps.norm.ppf(alpha / 2))
    else:
        low = high = float(np.median(x))
    estimate = r_zeroin2(mumin, mumax, r_w(x, mumin, False), r_w(x, mumax, False),
                         lambda d: r_w(x, d, False), tol_root)
    return low, high, estimate, conf_level


def brute_force(differences, confidence: float = 0.95,
                scale: float = 1.0) -> tuple[float, float, float]:
    """The exact limits and estimate by listing every Walsh average of the non-zero
    differences and evaluating ``r_w`` inside every gap between consecutive distinct ones
    (and beyond both ends): the lower limit is the left end of the first gap where the
    test does not reject (W <= z), the upper the right end of the last one (W >= -z); the
    estimate is where W without correction changes sign (the middle of the gap if it is
    0 on a whole gap). Decimal data are multiplied by ``scale`` and rounded to whole
    numbers first (W does not change with the scale), so that no two averages that are
    equal differ by a rounding; the results are divided by it."""
    x = np.asarray(differences, dtype=float)
    if scale != 1:
        x = np.round(x * scale)
    x = x[x != 0]
    i, j = np.triu_indices(x.size)
    walsh = np.unique((x[i] + x[j]) / 2)
    inside = np.r_[walsh[0] - 1, (walsh[:-1] + walsh[1:]) / 2, walsh[-1] + 1]
    z = sps.norm.isf((1 - confidence) / 2)
    w = np.array([r_w(x, d) for d in inside])
    lefts, rights = np.r_[-np.inf, walsh], np.r_[walsh, np.inf]
    low = lefts[np.nonzero(w <= z)[0][0]]
    high = rights[np.nonzero(w >= -z)[0][-1]]
    w0 = np.array([r_w(x, d, correct=False) for d in inside])
    assert np.all(np.diff(w0) <= 0)  # W does not increase between the jumps
    flat = np.nonzero(w0 == 0)[0]  # W is 0 on a whole gap: its middle
    estimate = inside[flat[0]] if flat.size else rights[np.nonzero(w0 > 0)[0][-1]]
    return float(low) / scale, float(high) / scale, float(estimate) / scale


# ---------------------------------------------------------------------------------------
# R's printed outputs (research notes, section 3.3), R < 4.6
# ---------------------------------------------------------------------------------------

# Stack Exchange Q 270889, one sample with ties:
# wilcox.test(dat, conf.int = T, correct = T, exact = F, conf.level = .99)
SE_DAT = [2.10, 2.35, 2.35, 3.10, 3.10, 3.15, 3.90, 3.90, 4.00, 4.80, 5.00, 5.00, 5.15,
          5.35, 5.50, 6.00, 6.00, 6.25, 6.45]
# R's datasets::sleep; wilcox.test(extra[1:10], extra[11:20], paired = TRUE,
# conf.int = TRUE): a zero difference and a tie
SLEEP_EXTRA = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0, 2, 1.9, 0.8, 1.1, 0.1, -0.1,
               4.4, 5.5, 1.6, 4.6, 3.4]
SLEEP_DIFF = np.array(SLEEP_EXTRA[:10]) - np.array(SLEEP_EXTRA[10:])
# R's datasets::stackloss; wilcox.test(x, mu = median(x), conf.int = TRUE): mu = 58 and
# mu = 15 make 6 and 3 zeros, which R 4.x drops (n = 15 and 18)
AIR_FLOW = [80, 80, 75, 62, 62, 62, 62, 62, 58, 58, 58, 58, 58, 58, 50, 50, 50, 50, 50, 56,
            70]
STACK_LOSS = [42, 37, 37, 28, 18, 18, 19, 20, 15, 14, 14, 13, 11, 12, 8, 7, 8, 8, 9, 15, 15]

R_OUTPUTS = {
    # name: (data, mu, conf.level, printed V, printed p, printed CI and (pseudo)median,
    #        a scale that makes the data whole numbers)
    "stack-exchange": (SE_DAT, 0.0, 0.99, 190, "0.0001419",
                       ("3.450018", "5.499933", "4.400028"), 100),
    "sleep": (SLEEP_DIFF, 0.0, 0.95, 0, "0.009091", ("-2.949921", "-1.050018", "-1.400031"),
              10),
    "air-flow": (AIR_FLOW, 58.0, 0.95, 74, "0.4394", ("55.99999", "68.00001", "61.99994"),
                 1),
    "stack-loss": (STACK_LOSS, 15.0, 0.95, 92.5, "0.7768",
                   ("11.49998", "24.00005", "15.99999"), 1),
}


def _signif(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


@pytest.mark.parametrize("name", R_OUTPUTS)
def test_transcribed_r_code_prints_every_digit_of_r(name):
    """The transcriptions of R's W and uniroot give R's printed numbers to the last
    printed digit: they are what R computes, so the brute force below can stand for R."""
    data, mu, conf, _, _, printed, _ = R_OUTPUTS[name]
    low, high, estimate, level = r_wilcox_conf_int(data, mu, conf)
    assert level == conf  # R kept the requested level (no "not achievable" warning)
    assert (_signif(low, 7), _signif(high, 7), _signif(estimate, 7)) == printed


@pytest.mark.parametrize("name", R_OUTPUTS)
def test_test_beside_the_interval_is_r_s_test(name):
    """The same outputs' V and p: the package's normal-approximation test (zeros dropped,
    tie and continuity corrections) is the test the interval goes with."""
    data, mu, _, v, p, _, _ = R_OUTPUTS[name]
    d = np.asarray(data, dtype=float) - mu
    nonzero = d[d != 0]
    ranks = dist.rankdata(np.abs(nonzero))
    assert ranks[nonzero > 0].sum() == v
    _, p_ours = dist.wilcoxon_normal(d)
    assert _signif(p_ours, 4) == p


@pytest.mark.parametrize("name", R_OUTPUTS)
def test_hodges_lehmann_is_r_s_interval_at_its_exact_jump_points(name):
    """``hodges_lehmann`` returns the jump points of W; R's uniroot stops within its tol
    (1e-4) of them and R prints 7 significant digits (at most 5e-6 off here), so R's printed
    numbers are within 1.05e-4 of ours, and ours equal the brute force's jump points (up to
    the rounding of decimal data, 1e-12)."""
    data, mu, conf, _, _, printed, scale = R_OUTPUTS[name]
    d = np.asarray(data, dtype=float) - mu
    r = hodges_lehmann(d, conf, exact=False)
    assert r["method"] == "normal approximation"
    ours = np.array([r["ci_low"], r["ci_high"], r["estimate"]]) + mu
    assert ours == pytest.approx([float(v) for v in printed], abs=1.05e-4, rel=0)
    exact = np.array(brute_force(d, conf, scale)) + mu
    assert ours == pytest.approx(exact, abs=1e-12, rel=0)


def test_r_printed_interval_numbers_by_hand():
    """The jump points of the four outputs, read off the step function: R's printed
    3.450018 / 5.499933 / 4.400028 are the averages 3.45, 5.5, 4.4, and so on."""
    expected = {"stack-exchange": (3.45, 5.5, 4.4), "sleep": (-2.95, -1.05, -1.4),
                "air-flow": (56.0, 68.0, 62.0), "stack-loss": (11.5, 24.0, 16.0)}
    for name, values in expected.items():
        data, mu, conf, *_ = R_OUTPUTS[name]
        r = hodges_lehmann(np.asarray(data, dtype=float) - mu, conf, exact=False)
        got = (r["ci_low"] + mu, r["ci_high"] + mu, r["estimate"] + mu)
        assert got == pytest.approx(values, abs=1e-12), name


# ---------------------------------------------------------------------------------------
# Exact jump points: brute force on many data sets
# ---------------------------------------------------------------------------------------


def _data_sets(seed: int, count: int):
    """Integer and half-integer differences (exact in binary, so the brute force's gaps
    are the true ones), with zeros, ties and pairs d, -d; 1 to 45 of them."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(1, 46))
        low, high = int(rng.integers(-6, 1)), int(rng.integers(0, 7))
        d = rng.integers(low, high + 1, size=n) * rng.choice([1.0, 0.5])
        if rng.random() < 0.2:
            d = np.round(rng.normal(rng.normal(), 2, n) * 4) / 4
        if np.any(d != 0):
            yield d, float(rng.choice([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]))


def test_normal_path_equals_the_brute_force_jump_points():
    seen = {"finite": 0, "infinite": 0, "zero-limit": 0}
    for d, conf in _data_sets(24, 400):
        r = hodges_lehmann(d, conf, exact=False)
        low, high, estimate = brute_force(d, conf)
        assert (r["ci_low"], r["ci_high"], r["estimate"]) == (low, high, estimate), (d, conf)
        seen["infinite" if math.isinf(low) else "finite"] += 1
        seen["zero-limit"] += 0 in (low, high)
    assert min(seen.values()) >= 5, seen  # the cases below were all met


def test_counting_path_of_a_large_sample_equals_the_brute_force():
    """Above 2 x 10^6 averages ``WalshAverages`` counts instead of listing (as at 10^5
    pairs); 2500 integer differences (about 2150 non-zero, 2.3 x 10^6 averages) against
    the brute force."""
    rng = np.random.default_rng(5)
    d = (rng.integers(1, 8, 2500) - rng.integers(1, 7, 2500)).astype(float)
    assert np.count_nonzero(d) * (np.count_nonzero(d) + 1) // 2 > 2_000_000
    for conf in (0.95, 0.999999):
        r = hodges_lehmann(d, conf)
        assert r["method"] == "normal approximation"
        assert (r["ci_low"], r["ci_high"], r["estimate"]) == brute_force(d, conf)


def test_zero_differences_are_dropped_from_estimate_and_interval():
    """R 4.x drops zeros before the interval; the old interval kept them (issue 24)."""
    rng = np.random.default_rng(8)
    for d, conf in _data_sets(9, 60):
        with_zeros = np.r_[d, np.zeros(int(rng.integers(1, 20)))]
        assert hodges_lehmann(with_zeros, conf) == hodges_lehmann(d, conf, exact=False)


def test_exact_path_unchanged_and_only_without_ties_or_zeros():
    d = np.array([1.0, -2.5, 3.0, 4.5, -0.5, 6.0, 7.5, 2.0])  # no ties, no zeros, n = 8
    r = hodges_lehmann(d)
    assert r["method"] == "exact"
    i, j = np.triu_indices(d.size)
    walsh = np.sort((d[i] + d[j]) / 2)
    # qsignrank(0.025, 8) = 4: P(V <= 3) = 5/256 < 0.025 <= P(V <= 4) = 7/256
    assert (r["ci_low"], r["ci_high"]) == (walsh[3], walsh[-4])
    assert r["estimate"] == np.median(walsh)
    assert hodges_lehmann(np.r_[d, 0.0])["method"] == "normal approximation"  # a zero
    assert hodges_lehmann(np.r_[d, -1.0])["method"] == "normal approximation"  # |1| tied


# ---------------------------------------------------------------------------------------
# Edge cases: flat W at the estimate, too few differences, no non-zero difference
# ---------------------------------------------------------------------------------------


def test_estimate_is_the_middle_of_a_gap_where_w_is_zero():
    """d = 0, 1, 2, 4, 8: the 10 Walsh averages of 1, 2, 4, 8 have 3 and 4 in the middle,
    and W without correction is 0 on all of (3, 4); the estimate is 3.5, the classical
    median of the averages. R's uniroot returns whichever point of (3, 4) it meets."""
    d = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    assert [r_w(d[1:], t, correct=False) for t in (3.25, 3.5, 3.75)] == [0.0, 0.0, 0.0]
    assert r_w(d[1:], 2.9, correct=False) > 0 > r_w(d[1:], 4.1, correct=False)
    assert hodges_lehmann(d)["estimate"] == 3.5


def test_too_few_differences_give_the_whole_line_not_a_lower_level():
    """With 4 non-zero differences the test rejects no shift at 95% (W = 1.64 even when
    every x - d is positive), so the set of shifts it does not reject is the whole line.
    R instead doubles alpha until its W at min(x) (that observation dropped) rejects and
    reports an 80% interval with a warning; the ARD has no place for a lowered level, so
    the limits are -inf and inf at the level asked for. At 80% the limits are finite."""
    d = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    x = d[1:]
    assert r_w(x, 0.5) == pytest.approx(4.5 / math.sqrt(7.5))  # < 1.96: not rejected
    r = hodges_lehmann(d, 0.95)
    assert (r["ci_low"], r["ci_high"], r["estimate"]) == (-math.inf, math.inf, 3.5)
    low, high, estimate, level = r_wilcox_conf_int(d)  # what R 4.x would do
    assert level == pytest.approx(0.8)
    assert (low, high) == pytest.approx((1.0, 8.0), abs=1e-4)
    assert 3 < estimate < 4 and abs(estimate - 3.5) > 0.3  # uniroot's point of (3, 4)
    r80 = hodges_lehmann(d, 0.8)
    assert (r80["ci_low"], r80["ci_high"]) == brute_force(d, 0.8)[:2] == (1.0, 8.0)
    # one non-zero difference among zeros: no shift is rejected either
    r1 = hodges_lehmann(np.array([0.0, 0.0, 2.0]))
    assert (r1["ci_low"], r1["ci_high"], r1["estimate"]) == (-math.inf, math.inf, 2.0)


def test_no_non_zero_difference_gives_no_estimate():
    """R 4.x: with every difference zero, n = 0 after dropping them: NaN estimate and
    interval (no test either)."""
    for d in (np.zeros(5), np.array([0.0, math.nan]), np.array([], dtype=float)):
        r = hodges_lehmann(d)
        assert r["method"] == "not computed"
        assert all(math.isnan(r[k]) for k in ("estimate", "ci_low", "ci_high"))


# ---------------------------------------------------------------------------------------
# Issue 24's two intervals
# ---------------------------------------------------------------------------------------

# The SAGA placebo arm's changes in CGI-S, baseline to week 6 (the shipped synthetic
# trial, complete pairs): 5 x -2, 13 x -1, 13 x 0, 8 x 1.
SAGA_PLACEBO_CGIS = np.repeat([-2.0, -1.0, 0.0, 1.0], [5, 13, 13, 8])
# NFC-1, subgroup MAXDOSE = 400, CGI-S, baseline to week 5: 2 x -2, 4 x -1, 5 x 0.
NFC1_MAXDOSE400_CGIS = np.repeat([-2.0, -1.0, 0.0], [2, 4, 5])


def test_nfc1_subgroup_interval_no_longer_contains_zero():
    """Issue 24: [-1.5, 0] (estimate -0.5) beside P = 0.031 (exact conditional: 2 / 2^6).
    Zeros dropped, the six non-zero changes give [-2, -1] (estimate -1.5); the
    normal-approximation test rejects too."""
    d = NFC1_MAXDOSE400_CGIS
    r = hodges_lehmann(d)
    assert (r["ci_low"], r["ci_high"], r["estimate"]) == (-2.0, -1.0, -1.5)
    assert (r["ci_low"], r["ci_high"], r["estimate"]) == brute_force(d)
    assert dist.wilcoxon_normal(d)[1] == pytest.approx(0.0305448, abs=1e-7)


def test_saga_placebo_interval_ends_at_zero_where_the_test_rejects_zero():
    """Issue 24: [-0.5, 0] beside P = 0.017. Zeros dropped: [-1, 0], the normal test's
    P = 0.0181. The upper limit is exactly 0, the one case of the consistency property
    where P < alpha and 0 is not outside: 0 is a Walsh average (-1 and 1), the test at 0
    ranks |-1| and |1| as tied and rejects (W(0) = -2.36), while for every d in (-0.5, 0)
    it does not (W = -0.91): the set of shifts not rejected is [-1, 0), open at 0. R 4.x
    prints a point that uniroot stops at within 1e-4 of 0 (by the transcription above,
    -2.7e-05: on the side not rejected)."""
    d = SAGA_PLACEBO_CGIS
    x = d[d != 0]
    r = hodges_lehmann(d)
    assert (r["ci_low"], r["ci_high"], r["estimate"]) == (-1.0, 0.0, -0.5)
    assert (r["ci_low"], r["ci_high"], r["estimate"]) == brute_force(d)
    p = dist.wilcoxon_normal(d)[1]
    assert p == pytest.approx(0.0181155, abs=1e-7)
    assert r_w(x, 0.0) == pytest.approx(-2.3632493, abs=1e-7)  # the test at 0: rejects
    assert 2 * sps.norm.sf(abs(r_w(x, 0.0))) == pytest.approx(p, rel=1e-12)
    assert -1.96 < r_w(x, -0.25) < 1.96 and r_w(x, 0.5) < -1.96
    low, high, estimate, _ = r_wilcox_conf_int(d)
    assert -1e-4 < high < 0 and abs(low + 1) < 1e-4 and abs(estimate + 0.5) < 1e-4


@pytest.mark.e2e
def test_shipped_trials_ard_after_the_workflow(reference_run):
    """The two intervals of issue 24 in the shipped trials' ard.csv (the workflow run once
    per session), beside their Wilcoxon rows."""
    def rows(trial, analysis, parameter, group):
        ard = pd.read_csv(reference_run / "results" / trial / "ard.csv")
        sel = ard[(ard["analysis"] == analysis) & (ard["parameter"] == parameter)
                  & (ard["group"] == group)]
        return {(m, s): v for m, s, v in zip(sel["method"], sel["statistic"], sel["value"],
                                              strict=True)}

    saga = rows("fasoracetam_saga", "paired", "CGIS", "Placebo")
    hl = "hodges_lehmann_normal"
    assert saga[("descriptive", "n_pairs")] == 39
    assert (saga[(hl, "hl_ci_low")], saga[(hl, "hl_ci_high")], saga[(hl, "hl_estimate")]) \
        == (-1.0, 0.0, -0.5)
    assert saga[("wilcoxon_exact", "p_value")] == pytest.approx(0.0166073, abs=1e-7)
    nfc = rows("fasoracetam_nfc1", "subgroup", "CGIS", "Fasoracetam; MAXDOSE = 400")
    assert nfc[("descriptive", "n_pairs")] == 11
    assert (nfc[(hl, "hl_ci_low")], nfc[(hl, "hl_ci_high")], nfc[(hl, "hl_estimate")]) \
        == (-2.0, -1.0, -1.5)
    assert nfc[("wilcoxon_exact", "p_value")] == 0.03125


@pytest.mark.e2e
def test_where_the_shipped_intervals_and_the_exact_test_beside_them_disagree(reference_run):
    """Below 50 non-zero changes the ARD's Wilcoxon row is the exact conditional test
    (ties kept) while the interval with ties or zeros is R 4.x's normal-approximation one,
    so the two can disagree near alpha. In the shipped trials: SAGA's placebo CGI-S (P =
    0.017, the limit 0 that is open, above) and NFC-1's MAXDOSE = 100 CGI-I (4 x -2, 1 x -1,
    3 x 0: exact P = 2 / 2^5 = 0.0625, the normal approximation's 0.048 < 0.05, interval
    [-2, -1]). Every other interval excludes 0 exactly when P < 0.05."""
    disagree = set()
    for trial in ("fasoracetam_nfc1", "fasoracetam_saga"):
        ard = pd.read_csv(reference_run / "results" / trial / "ard.csv")
        key = ["analysis", "analysis_set", "parameter", "visitn", "group"]
        hl = ard[ard["method"] == "hodges_lehmann_normal"].pivot_table(
            index=key, columns="statistic", values="value")
        test = ard[ard["method"].isin(["wilcoxon_exact", "wilcoxon_normal"])
                   & (ard["statistic"] == "p_value")].set_index(key)["value"]
        both = hl.join(test.rename("p"), how="inner")
        assert len(both) >= 12
        for k, row in both.iterrows():
            outside = not row["hl_ci_low"] <= 0 <= row["hl_ci_high"]
            if outside != (row["p"] < 0.05):
                disagree.add((trial, k[0], k[2], k[4]))
    assert disagree == {
        ("fasoracetam_saga", "paired", "CGIS", "Placebo"),
        ("fasoracetam_nfc1", "subgroup", "CGII", "Fasoracetam; MAXDOSE = 100")}
