"""Wilson's interval and Newcombe's hybrid score interval for a difference of proportions,
against statsmodels (an independent implementation) and a hand-worked example."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from trialreport.stats.proportions import newcombe_difference, wilson

CASES = [(56, 70, 48, 80), (9, 10, 3, 10), (0, 20, 5, 20), (20, 20, 0, 20), (1, 46, 0, 50),
         (32, 46, 21, 50), (26, 46, 16, 50), (7, 7, 7, 7), (0, 5, 0, 9)]


@pytest.mark.parametrize("k, n", [(0, 10), (1, 10), (5, 10), (10, 10), (32, 46), (3, 1000)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_wilson_is_statsmodels_wilson(k, n, confidence) -> None:
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    assert wilson(k, n, confidence) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize("k1, n1, k2, n2", CASES)
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_newcombe_is_statsmodels_newcomb(k1, n1, k2, n2, confidence) -> None:
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb",
                                           compare="diff", alpha=1 - confidence)
    got = newcombe_difference(k1, n1, k2, n2, confidence)
    assert got["diff"] == k1 / n1 - k2 / n2
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((low, high), abs=1e-12)


def test_newcombe_by_hand() -> None:
    """9/10 against 3/10, 95%: Wilson intervals with z = 1.959964: 9/10 gives
    (0.59585, 0.98212), 3/10 gives (0.10779, 0.60322); d = 0.6, lower = 0.6 -
    sqrt(0.30415^2 + 0.30322^2) = 0.17052, upper = 0.6 + sqrt(0.08212^2 + 0.19221^2) =
    0.80902."""
    got = newcombe_difference(9, 10, 3, 10)
    assert got["diff"] == pytest.approx(0.6)
    assert got["ci_low"] == pytest.approx(0.17052, abs=5e-6)
    assert got["ci_high"] == pytest.approx(0.80902, abs=5e-6)


def test_an_empty_group_gives_no_difference() -> None:
    got = newcombe_difference(0, 0, 3, 10)
    assert all(math.isnan(v) for v in got.values())
