"""Whether published figures can all hold with whole-number data.

Two checks, both on a published figure and the assumptions stated beside it:

- a published percentage of a known denominator N (GRIM for proportions, after Brown &
  Heathers, 2017): the whole-number counts k in 0..N whose percentage 100 k / N, rounded
  half up to the published number of decimals, reads as published
  (``percentage_counts``); none means no count of N gives it;
- a published comparison of two such proportions with a p value and a named test
  (``TESTS``: Pearson's chi-square without continuity correction, with Yates' correction,
  or Fisher's exact test, two-sided): whether any pair (k1, k2) of those counts gives a p
  that rounds (half up, at the published decimals) to the published p, or satisfies a
  published bound such as ``P < 0.05`` (``proportions_p_candidates``).

Everything is computed exactly where it can be: percentages as fractions; the chi-square
statistics in closed form from the 2 x 2 table; Fisher's p from the hypergeometric
probabilities as fractions. The tests in ``tests/test_consistency.py`` check the p values
against scipy and the candidate counts against a brute force.

An inconsistent combination says only that the figures cannot all hold under these
assumptions (these denominators, this test, this rounding); another analysis (e.g. a
stratified test, or other denominators) might give them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

TESTS = {
    "chisq": "Pearson chi-square test without continuity correction",
    "chisq_yates": "chi-square test with Yates' continuity correction",
    "fisher": "Fisher's exact test, two-sided",
}
"""The tests a published comparison of two proportions may name (config ``method``)."""

ARD_METHODS = {"chisq": "chi_square_pearson", "chisq_yates": "chi_square_yates",
               "fisher": "fisher_exact"}
"""The ``ard.csv`` method of each test's rows (analysis ``responders_between_arms``); a
target's ``method`` may give either name."""


def test_of(method: str) -> str:
    """The test (a key of ``TESTS``) a config ``method`` names: ``chisq`` or
    ``chi_square_pearson``, ``chisq_yates`` or ``chi_square_yates``, ``fisher`` or
    ``fisher_exact``."""
    if method in TESTS:
        return method
    for test, ard_name in ARD_METHODS.items():
        if method == ard_name:
            return test
    raise ConsistencyError(f"method {method!r} names no test of two proportions; use one of "
                           + ", ".join(f"{t} ({a})" for t, a in ARD_METHODS.items()))

ROUNDING_RULE = "rounded half up at the published number of decimals"

_PERCENT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*$")
_P_VALUE = re.compile(r"^\s*(?:[A-Za-z]+\s*)?(<=|>=|<|>|=)?\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
                      r"\s*$")


class ConsistencyError(ValueError):
    """A published figure or assumption the check cannot read (names the value)."""


def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


def round_half_up_exact(value: Fraction, decimals: int) -> Fraction:
    """``value`` rounded half up (away from zero for positive values) to ``decimals``."""
    scale = Fraction(10) ** decimals
    return Fraction(math.floor(value * scale + Fraction(1, 2))) / scale


def parse_percentage(published: str) -> tuple[Fraction, int]:
    """``"70%"`` -> (70, 0 decimals); ``"57.1%"`` -> (57.1, 1). The ``%`` is optional."""
    match = _PERCENT.match(str(published))
    if not match:
        raise ConsistencyError(f"published percentage {published!r} is not a number such as "
                               "'70%' or '57.1%'")
    number = match.group(1)
    return Fraction(number), _decimals(number)


def percentage_counts(published: str, denominator: int) -> list[int]:
    """The counts k in 0..N whose percentage 100 k / N, rounded half up at the published
    decimals, equals the published percentage (exact arithmetic)."""
    if int(denominator) != denominator or denominator < 1:
        raise ConsistencyError(f"denominator must be a whole number >= 1, not {denominator!r}")
    value, decimals = parse_percentage(published)
    return [k for k in range(int(denominator) + 1)
            if round_half_up_exact(Fraction(100 * k, int(denominator)), decimals) == value]


def two_by_two_p(k1: int, n1: int, k2: int, n2: int, method: str) -> float:
    """Two-sided p of the 2 x 2 table [[k1, n1 - k1], [k2, n2 - k2]] by ``method``.

    ``chisq``: X^2 = N (ad - bc)^2 / (r1 r2 c1 c2) on 1 df; ``chisq_yates``: the same with
    |ad - bc| reduced by min(N / 2, |ad - bc|) (Yates; as R's ``chisq.test`` and scipy's
    ``chi2_contingency``); ``fisher``: the sum of the hypergeometric probabilities (margins
    fixed) of every table no more probable than the observed one, with R's relative
    tolerance 1e-7. A table with an empty row or column has no chi-square test (NaN);
    Fisher's p is then 1.
    """
    if method not in TESTS:
        raise ConsistencyError(f"test {method!r} is not one of {', '.join(TESTS)}")
    a, b, c, d = k1, n1 - k1, k2, n2 - k2
    n = a + b + c + d
    r1, r2, c1, c2 = a + b, c + d, a + c, b + d
    if method == "fisher":
        lo, hi = max(0, c1 - r2), min(r1, c1)
        weights = {x: math.comb(r1, x) * math.comb(r2, c1 - x) for x in range(lo, hi + 1)}
        observed = Fraction(weights[a])
        total = sum(weights.values())
        limit = observed * (1 + Fraction(1, 10**7))
        return float(Fraction(sum(w for w in weights.values() if w <= limit), total))
    if 0 in (r1, r2, c1, c2):
        return math.nan
    cross = abs(a * d - b * c)
    if method == "chisq_yates":
        cross = max(Fraction(0), cross - Fraction(n, 2))
    statistic = Fraction(n) * Fraction(cross) ** 2 / (r1 * r2 * c1 * c2)
    from scipy import stats as sps  # late: only a chi-square target needs it

    return float(sps.chi2.sf(float(statistic), 1))


def p_agrees(p: float, published: str) -> bool:
    """Whether p reads as the published p: a value (``"0.0155"``, ``"p = 0.0155"``) when p
    rounded half up at its decimals equals it; a bound (``"P < 0.05"``) when p satisfies
    it."""
    match = _P_VALUE.match(str(published))
    if not match:
        raise ConsistencyError(f"published p {published!r} is not a value such as '0.0155' "
                               "or 'p = 0.0155', nor a bound such as 'P < 0.05'")
    op, number = match.group(1) or "=", match.group(2)
    if math.isnan(p):
        return False
    if op == "=":
        shown = round_half_up_exact(Fraction(p), _decimals(number))
        return shown == Fraction(number)
    bound = float(number)
    return {"<": p < bound, "<=": p <= bound, ">": p > bound, ">=": p >= bound}[op]


@dataclass(frozen=True)
class Finding:
    """The outcome of a check: ``consistent`` (some whole-number data give the figure),
    the counts or pairs that do, and ``reason`` in words (rule, denominators, test)."""
    consistent: bool
    reason: str
    candidates: tuple = ()


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} = {float(Fraction(100 * k, n)):.2f}%"


def check_percentage(published: str, denominator: int) -> Finding:
    """GRIM for a proportion: the counts of ``denominator`` that give ``published``."""
    counts = percentage_counts(published, denominator)
    if counts:
        shown = ", ".join(_pct(k, denominator) for k in counts)
        return Finding(True, f"{published} of {denominator}: k = {shown} "
                             f"({ROUNDING_RULE})", tuple(counts))
    value, _ = parse_percentage(published)
    below = math.floor(value * denominator / 100)
    near = [k for k in (below, below + 1) if 0 <= k <= denominator]
    return Finding(False, f"no whole number k of {denominator} gives {published} "
                          f"({ROUNDING_RULE}; nearest "
                          f"{', '.join(_pct(k, denominator) for k in near)})")


def proportions_p_candidates(proportions: Sequence[tuple[str, int]], method: str,
                             published_p: str) -> list[tuple[int, int, float]]:
    """Every pair (k1, k2) of counts that give the two published percentages, with the
    p of ``method``, that agrees with the published p (``p_agrees``)."""
    if len(proportions) != 2:
        raise ConsistencyError(f"a comparison of proportions needs exactly two, not "
                               f"{len(proportions)}")
    (pct1, n1), (pct2, n2) = proportions
    out = []
    for k1 in percentage_counts(pct1, n1):
        for k2 in percentage_counts(pct2, n2):
            p = two_by_two_p(k1, n1, k2, n2, method)
            if p_agrees(p, published_p):
                out.append((k1, k2, p))
    return out


def check_proportions_p(proportions: Sequence[tuple[str, int]], method: str,
                        published_p: str) -> Finding:
    """Whether some whole-number counts give both percentages and the published p under
    ``method``; the reason names the rounding rule, the denominators and the test."""
    if method not in TESTS:
        raise ConsistencyError(f"test {method!r} is not one of {', '.join(TESTS)}")
    (pct1, n1), (pct2, n2) = proportions
    assumed = (f"{pct1} of {n1} vs {pct2} of {n2}, {TESTS[method]} ({method}), "
               f"percentages and p {ROUNDING_RULE}")
    for pct, n in proportions:
        single = check_percentage(pct, n)
        if not single.consistent:
            return Finding(False, f"{single.reason}; so no data give {published_p} "
                                  f"under {assumed}")
    found = proportions_p_candidates(proportions, method, published_p)
    if found:
        shown = "; ".join(f"{k1}/{n1} vs {k2}/{n2}: p = {p:.4g}" for k1, k2, p in found)
        return Finding(True, f"{shown} ({assumed})", tuple(found))
    tried = [(k1, k2, two_by_two_p(k1, n1, k2, n2, method))
             for k1 in percentage_counts(pct1, n1) for k2 in percentage_counts(pct2, n2)]
    shown = "; ".join(f"{k1}/{n1} vs {k2}/{n2}: p = {p:.4g}" for k1, k2, p in tried)
    return Finding(False, f"no counts give {published_p} under {assumed}: {shown}")
