"""The exact conditional Wilcoxon signed-rank test with ties
(``trialreport.stats.paired.wilcoxon_exact``),
pinned against a full enumeration of the 2^n sign assignments written here independently
(itertools.product over signs, midranks by hand-rolled averaging), against scipy's exact
distribution without ties, and at the switch to the normal approximation (49 vs 50
non-zero differences)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats as sps

from trialreport.stats import paired as S


def _midranks(values: list[float]) -> list[Fraction]:
    """Midranks of the values, by sorting and averaging the positions of equal values."""
    order = sorted(values)
    out = []
    for v in values:
        positions = [i + 1 for i, w in enumerate(order) if w == v]
        out.append(Fraction(sum(positions), len(positions)))
    return out


def _enumerate(d: list[float], alternative: str) -> Fraction:
    """p value by listing every sign assignment of the non-zero |d| (zeros dropped)."""
    nz = [x for x in d if x != 0]
    ranks = _midranks([abs(x) for x in nz])
    t_obs = sum(r for r, x in zip(ranks, nz, strict=True) if x > 0)
    le = ge = 0
    total = 0
    for signs in itertools.product((False, True), repeat=len(nz)):
        t = sum(r for r, positive in zip(ranks, signs, strict=True) if positive)
        total += 1
        le += t <= t_obs
        ge += t >= t_obs
    p_le, p_ge = Fraction(le, total), Fraction(ge, total)
    if alternative == "less":
        return p_le
    if alternative == "greater":
        return p_ge
    return min(Fraction(1), 2 * min(p_le, p_ge))


# hand-made samples with ties among |d| and zero differences
TIED_SAMPLES = [
    [1, -1, 2, 2, 3, 0],                 # tie of 1 and -1 (midrank 1.5), a tie at 2, a zero
    [-3, -3, -2, 0, 1, 1],               # the CGI-S changes of test_review_fixes_analysis
    [0.5, 0.5, -0.5, 1.5, 2.0, -2.0, 0, 0, 3.0],
    [1, 1, 1, 1],                        # all tied, all positive
    [-1, -1, -1, 1, 2, 2, -4, 5, 5, 5, 0, 7],
    [2, -2, 2, -2, 2],
    [1, -1, 0],                          # T+ at the centre: 2 * 3/4 capped at p = 1
]


@pytest.mark.parametrize("d", TIED_SAMPLES)
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_exact_with_ties_and_zeros_equals_full_enumeration(d, alternative):
    expected = _enumerate(d, alternative)
    r = S.wilcoxon_exact(np.array(d, dtype=float), alternative)
    assert r["p_value"] == pytest.approx(float(expected), rel=1e-12)
    assert r["n_nonzero"] == sum(1 for x in d if x != 0)
    nz = [x for x in d if x != 0]
    ranks = _midranks([abs(x) for x in nz])
    assert r["T_plus"] == float(sum(rk for rk, x in zip(ranks, nz, strict=True) if x > 0))
    assert r["T_plus"] + r["T_minus"] == len(nz) * (len(nz) + 1) / 2


def test_hand_worked_tied_sample():
    # d = 1, -1, 2, 2, 0: zero dropped; |d| 1, 1, 2, 2 -> midranks 1.5, 1.5, 3.5, 3.5;
    # T+ = 1.5 + 3.5 + 3.5 = 8.5. Of the 16 sign assignments, T+ >= 8.5 needs both 3.5s
    # positive and at least one 1.5 positive: 3 assignments; P(T+ >= 8.5) = 3/16;
    # P(T+ <= 8.5) = 1 - P(T+ = 10) = 15/16; two-sided 2 * 3/16 = 0.375.
    r = S.wilcoxon_exact(np.array([1.0, -1, 2, 2, 0]))
    assert r["T_plus"] == 8.5
    assert r["p_value"] == pytest.approx(0.375)
    assert S.wilcoxon_exact(np.array([1.0, -1, 2, 2, 0]), "greater")["p_value"] == \
        pytest.approx(3 / 16)
    assert S.wilcoxon_exact(np.array([1.0, -1, 2, 2, 0]), "less")["p_value"] == \
        pytest.approx(15 / 16)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_without_ties_equals_scipy_exact(seed, alternative):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 25))
    d = rng.permutation(np.arange(1, n + 1, dtype=float)) * rng.choice([-1.0, 1.0], n) + 0.25
    assert np.unique(np.abs(d)).size == n
    ref = sps.wilcoxon(d, alternative=alternative, method="exact")
    assert S.wilcoxon_exact(d, alternative)["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_five_nonzero_all_one_sign_gives_the_smallest_exact_p():
    # five non-zero changes of one sign (with ties and zeros): the extreme of 2^5 = 32
    # assignments on each side, p = 2/32 = 0.0625, whatever the ties
    d = np.array([-1.0, -1, -2, -2, -3, 0, 0])
    r = S.paired_comparison(np.zeros(d.size), d)
    assert r["wilcoxon"]["method"] == "exact"
    assert r["wilcoxon"]["n_nonzero"] == 5
    assert r["wilcoxon"]["p_value"] == pytest.approx(2 / 32)
    assert r["wilcoxon"]["W"] == 0
    # the normal approximation used before gave less than any exact test can here
    old = sps.wilcoxon(d, zero_method="wilcox", method="asymptotic", correction=True)
    assert old.pvalue < 0.0625


def test_paired_comparison_with_ties_uses_the_exact_conditional_test():
    base = np.array([5.0, 5, 5, 5, 5, 5])
    comp = np.array([2.0, 2, 3, 5, 6, 6])   # changes -3, -3, -2, 0, 1, 1
    r = S.paired_comparison(base, comp)
    assert r["wilcoxon"]["method"] == "exact"
    assert r["wilcoxon"]["p_value"] == pytest.approx(
        float(_enumerate([-3, -3, -2, 0, 1, 1], "two-sided")))
    assert r["wilcoxon"]["W"] == 3  # T+ = 1.5 + 1.5, the smaller sum
    one = S.paired_comparison(base, comp, alternative="less")
    assert one["wilcoxon"]["W"] == 3 and one["wilcoxon"]["p_value"] == pytest.approx(
        float(_enumerate([-3, -3, -2, 0, 1, 1], "less")))


def _tied(n: int) -> np.ndarray:
    """n non-zero differences with ties (|d| in pairs), mostly positive, plus two zeros."""
    k = np.arange(n, dtype=float) // 2 + 1
    signs = np.where(np.arange(n) % 5 == 0, -1.0, 1.0)
    return np.concatenate([k * signs, [0.0, 0.0]])


@pytest.mark.parametrize("n", [49, 50])
def test_switch_to_normal_approximation_at_50_nonzero(n):
    d = _tied(n)
    assert np.count_nonzero(d) == n and np.unique(np.abs(d[d != 0])).size < n
    r = S.paired_comparison(np.zeros(d.size), d)
    normal = sps.wilcoxon(d, zero_method="wilcox", method="asymptotic", correction=True)
    if n == 49:
        assert S.wilcoxon_method(d) == "exact"
        assert r["wilcoxon"]["method"] == "exact"
        # the exact p differs from the normal approximation, so the variants are told apart
        assert r["wilcoxon"]["p_value"] == pytest.approx(S.wilcoxon_exact(d)["p_value"])
        assert abs(r["wilcoxon"]["p_value"] - normal.pvalue) > 1e-9
        # and agrees with a Monte-Carlo of the sign assignments to within its error
        rng = np.random.default_rng(1)
        ranks = sps.rankdata(np.abs(d[d != 0]))
        t_obs = ranks[d[d != 0] > 0].sum()
        sims = (rng.random((200_000, n)) < 0.5) @ ranks
        mc = 2 * min((sims <= t_obs).mean(), (sims >= t_obs).mean())
        assert r["wilcoxon"]["p_value"] == pytest.approx(mc, abs=4 * np.sqrt(mc / 200_000))
    else:
        assert S.wilcoxon_method(d) == "normal approximation"
        assert r["wilcoxon"]["method"] == "normal approximation"
        assert r["wilcoxon"]["p_value"] == pytest.approx(normal.pvalue, rel=1e-12)


def test_two_sided_p_is_capped_at_one():
    # |d| 1, 1 -> midranks 1.5, 1.5; T+ = 1.5: P(T+ <= 1.5) = P(T+ >= 1.5) = 3/4
    assert S.wilcoxon_exact(np.array([1.0, -1.0, 0.0]))["p_value"] == 1.0


def test_no_nonzero_difference_and_bad_alternative():
    assert np.isnan(S.wilcoxon_exact(np.zeros(4))["p_value"])
    with pytest.raises(ValueError, match="alternative"):
        S.wilcoxon_exact(np.array([1.0, 2.0]), "both")
