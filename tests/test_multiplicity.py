"""trialreport.stats.multiplicity_strategy against published worked examples, statsmodels and an
independent closed-testing implementation written here.

Published examples (numbers copied from the printed output; R prints 7 significant digits,
so a printed 0.024 is checked as "rounds to 0.024 at 7 significant digits", ``r_printed``):

- graphicalMCP (R, Xi & Brockmann), vignette "Sequentially rejective graphical multiple
  comparison procedures based on Bonferroni tests" (shortcut-testing), the two doses x
  primary/secondary endpoint graph: adjusted p, rejections, the weight each hypothesis was
  tested at (``test_values``), and intermediate graphs.
- graphicalMCP, vignette "Get started": the simple successive graph (which graphicalMCP's
  graph_test_shortcut help page attributes to Bretz et al. 2011, Figure 1), rejections and
  the graph after deleting H1, H2, H4.
- graphicalMCP, vignette "Graphical multiple comparison procedures based on the closure
  principle": a six-hypothesis graph with epsilon edges, Bonferroni adjusted p-values.
- graphicalMCP, tests/testthat/test-graph_test_shortcut.R, "adjusted p that exceeds alpha
  by floating point diff is rejected": a p-value exactly at its local level.
- gMCP (R, Rohmeyer & Klinglmueller), inst/unitTests/runit.graphGMCP.R: Holm adjusted
  p-values; Holm at alpha = 0.6; gMCP's example graph createGraphFromBretzEtAl() (three
  doses x primary and secondary endpoint), rejections and the final graph's transitions.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from trialreport.stats import multiplicity_strategy as M

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
ALPHAS = [0.01, 0.025, 0.05, 0.1, 0.2]


def names(m: int) -> list[str]:
    return [f"H{i + 1}" for i in range(m)]


def run(p, method, alpha, weights=None, transitions=None, order=None):
    """``adjust`` on a list of p-values named H1..Hm."""
    return M.adjust(dict(zip(names(len(p)), p, strict=True)), method, alpha,
                    weights=weights, transitions=transitions, order=order)


def col(rows, key):
    return [r[key] for r in rows]


def rejected(rows):
    return [r["decision"] == M.REJECTED for r in rows]


def r_printed(value: float, printed: str) -> bool:
    """``value`` prints as ``printed`` in R (7 significant digits)."""
    return float(f"{value:.7g}") == float(printed)


# --- published examples ---------------------------------------------------------------------

# graphicalMCP, vignette shortcut-testing, "Motivating example": H1, H3 primary and
# secondary endpoint for the low dose, H2, H4 for the high dose.
SHORTCUT_W = [0.5, 0.5, 0.0, 0.0]
SHORTCUT_G = [[0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5], [0, 1, 0, 0], [1, 0, 0, 0]]


def test_graphicalmcp_shortcut_vignette_adjusted_p_and_rejections():
    # p_values <- c(0.018, 0.01, 0.105, 0.006); graph_test_shortcut(g, p, alpha = 0.025)
    #   adjusted_p: H1 0.024  H2 0.020  H3 0.105  H4 0.024
    #   rejected:   TRUE TRUE FALSE TRUE
    rows = run([0.018, 0.01, 0.105, 0.006], "graphical", 0.025, SHORTCUT_W, SHORTCUT_G)
    for value, printed in zip(col(rows, "p_adjusted"), ["0.024", "0.020", "0.105", "0.024"],
                              strict=True):
        assert r_printed(value, printed)
    assert col(rows, "decision") == ["rejected", "rejected", "not rejected", "rejected"]
    # test_values = TRUE: H2 at weight 0.50, H1 at 0.75, H4 at 0.50, H3 (not rejected) at 1.00,
    # each times Alpha = 0.025.
    levels = dict(zip(col(rows, "hypothesis"), col(rows, "local_level"), strict=True))
    assert levels == pytest.approx({"H1": 0.75 * 0.025, "H2": 0.5 * 0.025,
                                    "H3": 1.0 * 0.025, "H4": 0.5 * 0.025}, rel=1e-15)


def test_graphicalmcp_shortcut_vignette_intermediate_graphs():
    # Printed graphs (R's print shows 1 for 0.9999999999999999: compared to 1e-15).
    w, g = np.array(SHORTCUT_W), np.array(SHORTCUT_G, dtype=float)

    def same(actual, printed):
        np.testing.assert_allclose(actual, printed, rtol=0, atol=1e-15)

    # details$results[[3]], after H2 then H1: H3 0.5, H4 0.5; H3 -> H4 1, H4 -> H3 1.
    w21, g21 = M.update_graph(*M.update_graph(w, g, 1), 0)
    same(w21, [0, 0, 0.5, 0.5])
    same(g21, [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
    # graph_update(g, delete = c(H2, H4)): H1 1, H3 0; H1 -> H3 1, H3 -> H1 1.
    w24, g24 = M.update_graph(*M.update_graph(w, g, 1), 3)
    same(w24, [1, 0, 0, 0])
    same(g24, [[0, 0, 1, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    # outputs$graph, after H1, H2, H4: H3 has weight 1 and no edges.
    wf, gf = M.update_graph(w21, g21, 3)
    same(wf, [0, 0, 1, 0])
    same(gf, np.zeros((4, 4)))


def test_graphicalmcp_get_started_simple_successive_graph():
    # vignette "Get started": hypotheses c(0.5, 0.5, 0, 0), H1 -> H3, H2 -> H4, H3 -> H2,
    # H4 -> H1 (all 1); p = c(0.01, 0.005, 0.03, 0.01), alpha = 0.025: rejected TRUE TRUE
    # FALSE TRUE; graph_update(delete = H1, H2, H4) leaves H3 with weight 1.
    w = [0.5, 0.5, 0, 0]
    g = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]]
    rows = run([0.01, 0.005, 0.03, 0.01], "graphical", 0.025, w, g)
    assert rejected(rows) == [True, True, False, True]
    wk, gk = np.array(w, dtype=float), np.array(g, dtype=float)
    for j in (0, 1, 3):
        wk, gk = M.update_graph(wk, gk, j)
    assert wk.tolist() == [0, 0, 1, 0]
    # H3, not rejected, was tested at the full alpha.
    assert rows[2]["local_level"] == 0.025


def test_graphicalmcp_closed_testing_vignette_bonferroni():
    # vignette closed-testing: epsilon <- 1e-5; p <- c(0.015, 0.013, 0.01, 0.007, 0.1, 0.0124);
    # graph_test_closure(g, p, alpha = 0.025) (the same as graph_test_shortcut):
    #   adjusted_p: 0.026 0.026 0.028 0.028 0.100 0.028; nothing rejected.
    eps = 1e-5
    g = [[0, 0.5, 0.25, 0, 0.25, 0], [0.5, 0, 0, 0.25, 0, 0.25], [0, 0, 0, 0, 1, 0],
         [eps, 0, 0, 0, 0, 1 - eps], [0, eps, 1 - eps, 0, 0, 0], [0, 0, 0, 1, 0, 0]]
    rows = run([0.015, 0.013, 0.01, 0.007, 0.1, 0.0124], "graphical", 0.025,
               [0.5, 0.5, 0, 0, 0, 0], g)
    for value, printed in zip(col(rows, "p_adjusted"),
                              ["0.026", "0.026", "0.028", "0.028", "0.100", "0.028"],
                              strict=True):
        assert r_printed(value, printed)
    # Nothing rejected: the primaries were tested at 0.5 alpha, the secondaries never.
    assert col(rows, "decision") == ["not rejected"] * 2 + ["not tested: gate closed"] * 4
    assert col(rows, "local_level") == [0.0125, 0.0125, 0, 0, 0, 0]


def test_graphicalmcp_p_exactly_at_its_level_is_rejected():
    # graphicalMCP tests/testthat/test-graph_test_shortcut.R: "adjusted p that exceeds alpha
    # by floating point diff is rejected": expected rejected H1 H2 H4, not H3 H5 H6.
    # After H1 (0.001 <= 0.0125) H2 has weight 0.5 + 0.5 * 0.5 = 0.75 and p2 = 0.01875 =
    # 0.75 * 0.025 exactly. graphicalMCP rounds adjusted p to 10 digits before comparing;
    # here p <= alpha * w holds in floating point without rounding.
    g = [[0, 0.5, 0.25, 0, 0.25, 0], [0.5, 0, 0, 0.25, 0, 0.25], [0, 0, 0, 0, 1, 0],
         [0.0001, 0, 0, 0, 0, 0.9999], [0, 0.0001, 0.9999, 0, 0, 0], [0, 0, 0, 1, 0, 0]]
    rows = run([0.001, 0.01875, 0.013, 0.0002, 0.03, 0.04], "graphical", 0.025,
               [0.5, 0.5, 0, 0, 0, 0], g)
    assert rejected(rows) == [True, True, False, True, False, False]
    assert rows[1]["local_level"] == 0.75 * 0.025


def test_gmcp_holm_adjusted_p_values():
    # gMCP runit.graphGMCP.R, test.adjPValues: adjPValues(createBonferroniHolmGraph(3),
    # c(0.02, 0.055, 0.012)) == c(0.04, 0.055, 0.036) (checkEquals: tolerance 1.5e-8).
    p = [0.02, 0.055, 0.012]
    for method, extra in [("graphical", M.holm_graph(3)), ("holm", ())]:
        rows = run(p, method, 0.05, *extra)
        assert col(rows, "p_adjusted") == pytest.approx([0.04, 0.055, 0.036], abs=1e-15)


def test_gmcp_holm_at_alpha_0_6():
    # gMCP runit.graphGMCP.R, test.bonferroniHolm: gMCP(BonferroniHolm(3), c(0.1, 0.3, 0.7),
    # alpha = 0.6) rejects H1 and H2, not H3. H2 is rejected at its level exactly: H1 first
    # (0.1 <= 0.6 / 3), then H2 has weight 1/3 + 1/3 * 1/2 = 1/2 and 0.3 <= 0.6 * 1/2.
    for method, extra in [("graphical", M.holm_graph(3)), ("holm", ())]:
        rows = run([0.1, 0.3, 0.7], method, 0.6, *extra)
        assert rejected(rows) == [True, True, False]
        assert rows[1]["local_level"] == 0.3


# gMCP's example graph createGraphFromBretzEtAl() (R/exampleGraphs.R; named BretzEtAl2011()
# in later versions): three doses (1, 2, 3) x two endpoints (1 primary, 2 secondary); node
# order H11, H21, H31, H12, H22, H32.
BRETZ_NAMES = ["H11", "H21", "H31", "H12", "H22", "H32"]
BRETZ_W = {"H11": 1 / 3, "H21": 1 / 3, "H31": 1 / 3, "H12": 0, "H22": 0, "H32": 0}
BRETZ_G = {"H11": {"H21": 1 / 2, "H12": 1 / 2},
           "H21": {"H11": 1 / 3, "H31": 1 / 3, "H22": 1 / 3},
           "H31": {"H21": 1 / 2, "H32": 1 / 2},
           "H12": {"H21": 1},
           "H22": {"H11": 1 / 2, "H31": 1 / 2},
           "H32": {"H21": 1}}


def test_gmcp_bretz_three_doses_two_endpoints():
    # gMCP runit.graphGMCP.R, test.gMCPBretzEtAl: gMCP(graph, c(0.1, 0.008, 0.005, 0.15,
    # 0.04, 0.006)) (alpha = 0.05): rejected FALSE TRUE TRUE FALSE FALSE TRUE, and the last
    # graph's edges H11 -> H12 0.666666666666667, H11 -> H22 0.333333333333333,
    # H12 -> H11 0.5, H12 -> H22 0.5, H22 -> H11 1, no others.
    p = dict(zip(BRETZ_NAMES, [0.1, 0.008, 0.005, 0.15, 0.04, 0.006], strict=True))
    rows = M.adjust(p, "graphical", 0.05, BRETZ_W, BRETZ_G)
    assert rejected(rows) == [False, True, True, False, False, True]
    w = np.array([BRETZ_W[n] for n in BRETZ_NAMES])
    g = np.array([[BRETZ_G[a].get(b, 0.0) for b in BRETZ_NAMES] for a in BRETZ_NAMES])
    for j in (2, 1, 5):  # H31, H21, H32: the order of the shortcut's rejections
        w, g = M.update_graph(w, g, j)
    expected = np.zeros((6, 6))
    expected[0, 3], expected[0, 4] = 2 / 3, 1 / 3
    expected[3, 0], expected[3, 4] = 0.5, 0.5
    expected[4, 0] = 1.0
    np.testing.assert_allclose(g, expected, rtol=0, atol=1.5e-8)
    # H12 (secondary, low dose) is still gated: weight 0 in the final graph.
    assert rows[3]["decision"] == M.GATE_CLOSED


# --- a worked example, step by step -------------------------------------------------------

def test_hand_worked_three_dose_example_local_levels():
    # gMCP's three-dose graph above at alpha = 0.05, p = (0.1, 0.008, 0.005, 0.15,
    # 0.04, 0.006), worked by hand with Algorithm 1:
    # 1. w = (1/3, 1/3, 1/3, 0, 0, 0). p/w: H11 0.3, H21 0.024, H31 0.015. Reject H31 at
    #    0.05 / 3 = 0.016667 (0.005 <= 0.016667). H31 passes half its 1/3 to H21, half to
    #    H32: w = (1/3, 1/2, -, 0, 0, 1/6). H21's edges are redirected around H31, each
    #    divided by 1 - g(H21, H31) g(H31, H21) = 1 - 1/3 * 1/2 = 5/6:
    #    H21 -> H11 = (1/3) / (5/6) = 2/5, H21 -> H22 = 2/5,
    #    H21 -> H32 = (0 + g(H21, H31) g(H31, H32)) / (5/6) = (1/6) / (5/6) = 1/5.
    # 2. Reject H21 at 0.05 * 1/2 = 0.025 (0.008 <= 0.025). H21 passes 2/5 of 1/2 to H11,
    #    2/5 to H22, 1/5 to H32: w = (1/3 + 1/5, -, -, 0, 1/5, 1/6 + 1/10) =
    #    (8/15, -, -, 0, 1/5, 4/15).
    # 3. Reject H32 at 0.05 * 4/15 = 0.013333 (0.006 <= 0.013333). H32's edge went to H21
    #    only, which H21's removal redirected to H11 (2/5) and H22 (2/5) and H32 (dropped):
    #    H32 -> H11 = (0 + 1 * 2/5)/(1 - 1 * 1/5) = 1/2, H32 -> H22 = 1/2, so
    #    w = (8/15 + 2/15, -, -, 0, 1/5 + 2/15, -) = (2/3, -, -, 0, 1/3, -).
    # 4. H11 0.1 > 0.05 * 2/3 = 0.0333; H22 0.04 > 0.05 * 1/3 = 0.0167; H12 has weight 0.
    rows = M.adjust(dict(zip(BRETZ_NAMES, [0.1, 0.008, 0.005, 0.15, 0.04, 0.006],
                             strict=True)), "graphical", 0.05, BRETZ_W, BRETZ_G)
    assert col(rows, "local_level") == pytest.approx(
        [0.05 * 2 / 3, 0.05 / 2, 0.05 / 3, 0.0, 0.05 / 3, 0.05 * 4 / 15], rel=1e-14)
    assert col(rows, "decision") == ["not rejected", "rejected", "rejected",
                                     "not tested: gate closed", "not rejected", "rejected"]
    # Adjusted p (Bretz et al. 2011): H31 0.005 / (1/3) = 0.015; H21 0.008 / (1/2) = 0.016;
    # H32 0.006 / (4/15) = 0.0225; then H11 0.1 / (2/3) = 0.15 and H22 0.04 / (1/3) = 0.12:
    # H22 goes first at 0.12, passing its weight to H11 (weight 1): H11 max(0.12, 0.1) =
    # 0.12; H12 last at max(0.12, 0.15) = 0.15.
    assert col(rows, "p_adjusted") == pytest.approx(
        [0.12, 0.016, 0.015, 0.15, 0.12, 0.0225], rel=1e-14)


# --- Bonferroni, Holm, Hochberg against statsmodels ---------------------------------------

STATSMODELS = {"bonferroni": "bonferroni", "holm": "holm", "hochberg": "simes-hochberg"}
FIXED_P = [
    [0.01, 0.02, 0.03, 0.04, 0.05],
    [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205],
    [0.02, 0.02, 0.02, 0.02],          # ties
    [0.0, 1.0, 0.5, 0.0125, 0.025],    # the extremes, and p at alpha/4, alpha/2 (0.05)
    [0.04, 0.03],                      # Hochberg rejects both (0.04 <= 0.05), Holm neither
    [0.3],
    [0.9, 0.8, 0.7],
]


def _against_statsmodels(p, method, alpha):
    rows = run(p, method, alpha)
    reject, adjusted, _, _ = multipletests(p, alpha=alpha, method=STATSMODELS[method])
    assert rejected(rows) == reject.tolist()
    assert col(rows, "p_adjusted") == pytest.approx(adjusted.tolist(), rel=0, abs=1e-12)


@pytest.mark.parametrize("method", list(STATSMODELS))
@pytest.mark.parametrize("p", FIXED_P)
@pytest.mark.parametrize("alpha", [0.025, 0.05])
def test_matches_statsmodels_on_fixed_vectors(method, p, alpha):
    _against_statsmodels(p, method, alpha)


def test_the_fixed_vectors_tell_the_methods_apart():
    # Holm rejects neither of (0.04, 0.03) at 0.05, Hochberg both, Bonferroni neither.
    assert rejected(run([0.04, 0.03], "holm", 0.05)) == [False, False]
    assert rejected(run([0.04, 0.03], "hochberg", 0.05)) == [True, True]
    # (0.01, 0.02, 0.03, 0.04, 0.05) at 0.05: Bonferroni H1; Holm H1 only (0.02 > 0.0125);
    # Hochberg all five (0.05 <= 0.05 / 1).
    p = FIXED_P[0]
    assert rejected(run(p, "bonferroni", 0.05)) == [True, False, False, False, False]
    assert rejected(run(p, "holm", 0.05)) == [True, False, False, False, False]
    assert rejected(run(p, "hochberg", 0.05)) == [True] * 5


def test_hochberg_local_levels():
    # Step-up at 0.05 over (0.01, 0.02, 0.024, 0.5): 0.5 > 0.05, 0.024 <= 0.05 / 2, so
    # H1..H3 are rejected at the level of that step, 0.025; H4 failed its own 0.05. Holm
    # would stop at H2 (0.02 > 0.05 / 3).
    rows = run([0.02, 0.01, 0.5, 0.024], "hochberg", 0.05)
    assert col(rows, "decision") == ["rejected", "rejected", "not rejected", "rejected"]
    assert col(rows, "local_level") == [0.025, 0.025, 0.05, 0.025]
    # A missing p-value takes the top rank: its level is the last step's, alpha / 1.
    rows = run([0.02, None, 0.001], "hochberg", 0.05)
    assert col(rows, "local_level") == [0.05 / 2, 0.05, 0.05 / 2]
    assert col(rows, "decision") == ["rejected", "not rejected", "rejected"]


p_vectors = st.lists(
    st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.001, 0.01, 0.02, 0.025, 0.05])),
    min_size=1, max_size=12)


@SETTINGS
@given(p=p_vectors, alpha=st.sampled_from(ALPHAS), method=st.sampled_from(list(STATSMODELS)))
def test_matches_statsmodels_on_random_vectors(p, alpha, method):
    _against_statsmodels(p, method, alpha)


@pytest.mark.parametrize("seed", range(20))
def test_matches_statsmodels_on_uniform_vectors(seed):
    rng = np.random.default_rng(seed)
    p = (rng.uniform(0, 0.1, rng.integers(1, 30)) ** rng.uniform(0.5, 2)).tolist()
    for method in STATSMODELS:
        _against_statsmodels(p, method, 0.05)


@SETTINGS
@given(p=st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=1, max_size=8),
       alpha=st.sampled_from(ALPHAS), method=st.sampled_from(list(STATSMODELS)))
def test_missing_p_counts_in_m_and_acts_as_p_of_one(p, alpha, method):
    # A missing p-value stays in the family: statsmodels with 1 in its place gives the same
    # decisions and the same adjusted p for the others; the missing one has none.
    rows = run(p, method, alpha)
    filled = [1.0 if v is None else v for v in p]
    reject, adjusted, _, _ = multipletests(filled, alpha=alpha, method=STATSMODELS[method])
    assert rejected(rows) == reject.tolist()
    for row, v, a in zip(rows, p, adjusted, strict=True):
        if v is None:
            assert row["p_adjusted"] is None and row["decision"] == "not rejected"
        else:
            assert row["p_adjusted"] == pytest.approx(a, rel=0, abs=1e-12)


# --- a p-value exactly at its local level is rejected; one step above it is not -----------

def _above(x: float) -> float:
    return float(np.nextafter(x, 1.0))


def _boundary_cases():
    """(method, alpha, weights, transitions, p-values with one at its level, its index,
    the level) for each method and for a level reached at a later step."""
    a = 0.05
    holm2_w, holm2_g = M.holm_graph(2)
    return [
        ("bonferroni", a, None, None, [a / 4, 0.5, 0.5, 0.5], 0, a / 4),
        ("bonferroni", a, [0.8, 0.2], None, [0.5, a * 0.2], 1, a * 0.2),
        ("holm", a, None, None, [a / 3, 0.5, 0.5], 0, a / 3),
        ("holm", a, None, None, [0.001, a / 2, 0.5], 1, a / 2),      # second step
        ("hochberg", a, None, None, [0.001, 0.5, a / 3, 0.9], 2, a / 3),  # 2nd of 4
        ("hochberg", a, None, None, [0.03, a], 1, a),                   # the largest
        ("fixed_sequence", a, None, None, [0.001, a, 0.01], 1, a),
        ("graphical", a, holm2_w, holm2_g, [a * 0.5, 0.9], 0, a * 0.5),
        ("graphical", a, holm2_w, holm2_g, [0.001, a * 1.0], 1, a * 1.0),  # after H1
        ("graphical", a, SHORTCUT_W, SHORTCUT_G, [a * 0.75, 0.001, 0.9, 0.9], 0, a * 0.75),
    ]


@pytest.mark.parametrize("method, alpha, w, g, p, i, level", _boundary_cases())
def test_p_equal_to_its_level_is_rejected_and_one_ulp_above_is_not(method, alpha, w, g, p,
                                                                  i, level):
    rows = run(p, method, alpha, w, g)
    assert rows[i]["decision"] == "rejected"
    assert rows[i]["local_level"] == level
    above = list(p)
    above[i] = _above(level)
    rows = run(above, method, alpha, w, g)
    assert rows[i]["decision"] == "not rejected"


def test_zero_weight_is_never_rejected_even_with_p_zero():
    # p <= alpha * 0 holds for p = 0, but a hypothesis of weight 0 is not tested.
    rows = run([0.9, 0.0], "graphical", 0.05, [1.0, 0.0], [[0, 1], [0, 0]])
    assert col(rows, "decision") == ["not rejected", "not tested: gate closed"]
    rows = run([0.9, 0.0], "bonferroni", 0.05, [1.0, 0.0])
    assert col(rows, "decision") == ["not rejected", "not tested: gate closed"]
    assert rows[1]["p_adjusted"] == 1.0


# --- fixed sequence -------------------------------------------------------------------------

def test_fixed_sequence_stops_at_the_first_non_rejection():
    rows = run([0.01, 0.04, 0.06, 0.001, 0.002], "fixed_sequence", 0.05)
    assert col(rows, "decision") == ["rejected", "rejected", "not rejected",
                                     "not tested: gate closed", "not tested: gate closed"]
    assert col(rows, "local_level") == [0.05, 0.05, 0.05, 0.0, 0.0]
    # adjusted p: running maximum of the raw p-values
    assert col(rows, "p_adjusted") == [0.01, 0.04, 0.06, 0.06, 0.06]


def test_fixed_sequence_follows_order_not_the_mapping():
    p = {"H1": 0.2, "H2": 0.01, "H3": 0.03}
    rows = M.adjust(p, "fixed_sequence", 0.05, order=["H2", "H3", "H1"])
    assert col(rows, "hypothesis") == ["H2", "H3", "H1"]
    assert col(rows, "decision") == ["rejected", "rejected", "not rejected"]
    assert col(rows, "p_adjusted") == [0.01, 0.03, 0.2]
    rows = M.adjust(p, "fixed_sequence", 0.05)
    assert col(rows, "decision") == ["not rejected"] + ["not tested: gate closed"] * 2


def test_fixed_sequence_missing_p_closes_the_gate_and_leaves_adjusted_p_undefined():
    rows = run([0.01, None, 0.001, 0.02], "fixed_sequence", 0.05)
    assert col(rows, "decision") == ["rejected", "not rejected", "not tested: gate closed",
                                     "not tested: gate closed"]
    assert col(rows, "p_adjusted") == [0.01, None, None, None]
    assert col(rows, "local_level") == [0.05, 0.05, 0.0, 0.0]
    assert col(rows, "p_value") == [0.01, None, 0.001, 0.02]


# --- Bonferroni, Holm and fixed sequence as graphs ---------------------------------------------

def _same_results(graph_rows, rows, levels=True):
    assert col(graph_rows, "decision") == col(rows, "decision")
    for a, b in zip(col(graph_rows, "p_adjusted"), col(rows, "p_adjusted"), strict=True):
        assert (a is None and b is None) or a == pytest.approx(b, rel=0, abs=1e-12)
    if levels:
        assert col(graph_rows, "local_level") == pytest.approx(col(rows, "local_level"),
                                                               rel=1e-12, abs=0)


p_with_missing = st.lists(st.one_of(st.floats(0, 1), st.floats(0, 0.1), st.none()),
                          min_size=1, max_size=8)


@SETTINGS
@given(p=p_with_missing, alpha=st.sampled_from(ALPHAS))
def test_holm_graph_gives_holm(p, alpha):
    _same_results(run(p, "graphical", alpha, *M.holm_graph(len(p))), run(p, "holm", alpha))


@SETTINGS
@given(p=p_with_missing, alpha=st.sampled_from(ALPHAS))
def test_bonferroni_graph_gives_bonferroni(p, alpha):
    _same_results(run(p, "graphical", alpha, *M.bonferroni_graph(len(p))),
                  run(p, "bonferroni", alpha))


@SETTINGS
@given(p=p_with_missing, alpha=st.sampled_from(ALPHAS))
def test_fixed_sequence_graph_gives_fixed_sequence(p, alpha):
    _same_results(run(p, "graphical", alpha, *M.fixed_sequence_graph(len(p))),
                  run(p, "fixed_sequence", alpha))


def test_holm_graph_on_uniform_vectors():
    rng = np.random.default_rng(7)
    for _ in range(200):
        m = int(rng.integers(1, 12))
        p = rng.uniform(0, 0.1, m).tolist()
        _same_results(run(p, "graphical", 0.05, *M.holm_graph(m)), run(p, "holm", 0.05))


def test_graph_constructors():
    assert M.holm_graph(3) == ([1 / 3] * 3, [[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
    assert M.holm_graph(1) == ([1.0], [[0.0]])
    assert M.bonferroni_graph(2) == ([0.5, 0.5], [[0, 0], [0, 0]])
    assert M.fixed_sequence_graph(3) == ([1, 0, 0], [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="positive integer"):
        M.holm_graph(0)


# --- the graphical procedure against a brute-force closed test ------------------------------
#
# Independent of the module: the closed testing procedure (Marcus, Peritz & Gabriel 1976)
# over every intersection hypothesis H_I, each tested with weighted Bonferroni at the
# weights w_j(I) the graph gives it (Bretz et al. 2009, Section 3: w(I) is what is left
# after removing the hypotheses outside I with Algorithm 1's update, in any order). H_i is
# rejected when every H_I with i in I is rejected, i.e. some j in I has w_j(I) > 0 and
# p_j <= alpha w_j(I); its adjusted p is max over I containing i of min_{j in I} p_j / w_j(I)
# (Bretz et al. 2011). The sequentially rejective algorithm is a shortcut of this test.

def intersection_weights(w, g, keep):
    """w(I) for I = ``keep``: Algorithm 1's update in plain loops, removing the others in
    index order."""
    m = len(w)
    w = [float(x) for x in w]
    g = [[float(x) for x in row] for row in g]
    alive = set(range(m))
    for j in range(m):
        if j in keep:
            continue
        alive.discard(j)
        w_new = [0.0] * m
        g_new = [[0.0] * m for _ in range(m)]
        for a in alive:
            w_new[a] = w[a] + w[j] * g[j][a]
            denominator = 1.0 - g[a][j] * g[j][a]
            for b in alive:
                if b != a and denominator > 0:
                    g_new[a][b] = (g[a][b] + g[a][j] * g[j][b]) / denominator
        w, g = w_new, g_new
    return w


def closed_test(p, w, g, alpha):
    """(rejected, adjusted p, weight in the final graph) per hypothesis, by brute force. A
    missing p-value (None) rejects nothing."""
    m = len(p)
    q = [math.inf if v is None else v for v in p]
    weights = {subset: intersection_weights(w, g, set(subset))
               for r in range(1, m + 1) for subset in itertools.combinations(range(m), r)}

    def local_p(subset):
        return min(q[j] / weights[subset][j] if weights[subset][j] > 0 else math.inf
                   for j in subset)

    def rejects(subset):
        return any(weights[subset][j] > 0 and q[j] <= alpha * weights[subset][j]
                   for j in subset)

    rejected_, adjusted = [], []
    for i in range(m):
        family = [subset for subset in weights if i in subset]
        rejected_.append(all(rejects(subset) for subset in family))
        worst = max(local_p(subset) for subset in family)
        if p[i] is None:
            adjusted.append(None)
        elif worst == math.inf:  # no level rejects it: never reachable (1) or gated (None)
            adjusted.append(1.0 if weights[(i,)][i] == 0 else None)
        else:
            adjusted.append(min(1.0, worst))
    left = tuple(i for i in range(m) if not rejected_[i])
    final = intersection_weights(w, g, set(left)) if left else [0.0] * m
    return rejected_, adjusted, final


def random_graph(rng, m):
    """Initial weights (sum 1 or less, some 0) and transitions (rows sum 1 or less, some
    edges missing)."""
    w = rng.dirichlet(np.ones(m))
    w[rng.random(m) < 0.3] = 0.0
    full = w.sum() > 0 and rng.random() < 0.5
    w = w / w.sum() if full else w * rng.uniform(0.5, 1.0)
    g = np.zeros((m, m))
    for i in range(m):
        others = [k for k in range(m) if k != i]
        if not others:
            continue
        row = rng.dirichlet(np.ones(len(others)))
        row[rng.random(len(others)) < 0.35] = 0.0
        if row.sum() > 0:
            row = row / row.sum() * (1.0 if rng.random() < 0.6 else rng.uniform(0, 1))
        g[i, others] = row
    return w, g


def random_p(rng, m):
    p = np.where(rng.random(m) < 0.7, rng.uniform(0, 0.06, m), rng.uniform(0, 1, m))
    p[rng.random(m) < 0.05] = 0.0
    return [None if rng.random() < 0.1 else float(v) for v in p]


def _check_against_closed_test(p, w, g, alpha):
    rows = run(p, "graphical", alpha, w.tolist(), g.tolist())
    want_rejected, want_adjusted, final = closed_test(p, w, g, alpha)
    assert rejected(rows) == want_rejected
    for row, want in zip(rows, want_adjusted, strict=True):
        got = row["p_adjusted"]
        assert (got is None and want is None) or got == pytest.approx(want, rel=0, abs=1e-12)
    for row, rej, w_final in zip(rows, want_rejected, final, strict=True):
        if rej:
            assert row["local_level"] > 0 and row["p_value"] <= row["local_level"]
        else:
            assert row["local_level"] == pytest.approx(alpha * w_final, rel=1e-12, abs=0)
            assert row["decision"] == ("not rejected" if w_final > 0
                                       else "not tested: gate closed")


@pytest.mark.parametrize("seed", range(6))
def test_graphical_equals_closed_test_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    for _ in range(80):
        m = int(rng.integers(1, 7))
        w, g = random_graph(rng, m)
        _check_against_closed_test(random_p(rng, m), w, g, float(rng.choice(ALPHAS)))


@st.composite
def graphs(draw, max_m=5):
    """A graph with rational weights (ties between hypotheses) and p-values."""
    m = draw(st.integers(1, max_m))
    raw = draw(st.lists(st.integers(0, 4), min_size=m, max_size=m))
    slack = draw(st.integers(0, 2))
    w = np.array(raw, dtype=float) / max(1, sum(raw) + slack)
    g = np.zeros((m, m))
    for i in range(m):
        edges = draw(st.lists(st.integers(0, 3), min_size=m, max_size=m))
        edges[i] = 0
        slack = draw(st.integers(0, 1))
        if sum(edges) > 0:
            g[i] = np.array(edges, dtype=float) / (sum(edges) + slack)
    p = draw(st.lists(st.one_of(st.floats(0, 1), st.floats(0, 0.05), st.none()),
                      min_size=m, max_size=m))
    return p, w, g


@SETTINGS
@given(case=graphs(), alpha=st.sampled_from(ALPHAS))
def test_graphical_equals_closed_test_on_generated_graphs(case, alpha):
    _check_against_closed_test(*case, alpha)


@SETTINGS
@given(case=graphs(), alpha=st.sampled_from(ALPHAS))
def test_missing_p_behaves_as_p_of_one_in_a_graph(case, alpha):
    # Decisions and levels with a missing p-value are those with p = 1; adjusted p-values
    # too, except that those a missing p-value gates are undefined instead of 1.
    p, w, g = case
    rows = run(p, "graphical", alpha, w.tolist(), g.tolist())
    ones = run([1.0 if v is None else v for v in p], "graphical", alpha, w.tolist(),
               g.tolist())
    assert col(rows, "decision") == col(ones, "decision")
    assert col(rows, "local_level") == col(ones, "local_level")
    for row, one, v in zip(rows, ones, p, strict=True):
        if v is None or row["p_adjusted"] is None:
            assert row["p_adjusted"] is None and one["p_adjusted"] == 1.0
        else:
            assert row["p_adjusted"] == one["p_adjusted"]


def test_graph_gated_by_a_missing_p_value():
    # Successive graph (Get started): H3 is reachable only through H1. With p1 missing,
    # H3 stays at weight 0: not tested, adjusted p undefined; H2 and H4 go on.
    w = [0.5, 0.5, 0, 0]
    g = [[0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [1, 0, 0, 0]]
    rows = run([None, 0.005, 0.001, 0.01], "graphical", 0.025, w, g)
    assert col(rows, "decision") == ["not rejected", "rejected", "not tested: gate closed",
                                     "rejected"]
    assert col(rows, "p_adjusted") == [None, 0.01, None, 0.02]
    # H1 holds all the weight in the end (0.5 + H2's and H4's, passed on to it), with
    # nothing to test.
    assert rows[0]["local_level"] == 0.025


def test_unreachable_hypothesis_has_adjusted_p_one():
    # No edge leads to H3 and it starts at 0: no level rejects it, whatever the data (as
    # gMCP and graphicalMCP, adjusted p 1; graphicalMCP test "shortcut testing handles 0
    # cases": weights all 0 give adjusted p 1, 1, 1).
    rows = run([0.001, 0.001, 0.001], "graphical", 0.05, [0.5, 0.5, 0], [[0, 1, 0],
                                                                         [1, 0, 0],
                                                                         [0, 0, 0]])
    assert col(rows, "p_adjusted") == [0.002, 0.002, 1.0]
    assert col(rows, "decision") == ["rejected", "rejected", "not tested: gate closed"]
    rows = run([0.001] * 3, "graphical", 0.025, [0, 0, 0], np.zeros((3, 3)))
    assert col(rows, "p_adjusted") == [1.0, 1.0, 1.0]


@SETTINGS
@given(case=graphs())
def test_adjusted_p_is_the_smallest_alpha_that_rejects(case):
    # Rejected at level a exactly when the adjusted p is at most a, a just above and just
    # below each adjusted p-value (as gMCP's runit.adjPValues.R checks at a itself).
    p, w, g = case
    adjusted = [r["p_adjusted"] for r in run(p, "graphical", 0.5, w.tolist(), g.tolist())]
    for a in {v for v in adjusted if v is not None and 1e-6 < v < 0.99}:
        for level in (a * (1 + 1e-9), a * (1 - 1e-9)):
            rows = run(p, "graphical", level, w.tolist(), g.tolist())
            assert rejected(rows) == [v is not None and v <= level for v in adjusted]


# --- the graph update -------------------------------------------------------------------------

@SETTINGS
@given(case=graphs(max_m=6), data=st.data())
def test_update_graph_matches_plain_loops_and_any_order(case, data):
    _, w, g = case
    m = len(w)
    keep = set(data.draw(st.lists(st.integers(0, m - 1), unique=True)))
    removed = data.draw(st.permutations([j for j in range(m) if j not in keep]))
    w_now, g_now = w, g
    for j in removed:
        w_now, g_now = M.update_graph(w_now, g_now, j)
    np.testing.assert_allclose(w_now, intersection_weights(w, g, keep), rtol=1e-12,
                               atol=1e-15)
    assert w_now.sum() <= w.sum() + 1e-12 if removed else True
    assert (g_now.sum(axis=1) <= 1 + 1e-12).all() and not np.diag(g_now).any()
    # the inputs are left as they were
    assert isinstance(w, np.ndarray) and np.array_equal(w, case[1])


def test_update_graph_weight_passes_along_every_edge():
    # Each of H1's edges carries its share: 0.6 of H1's 0.5 to H2, 0.4 to H3.
    w, g = M.update_graph([0.5, 0.25, 0.25], [[0, 0.6, 0.4], [0, 0, 1], [1, 0, 0]], 0)
    assert w.tolist() == pytest.approx([0, 0.25 + 0.3, 0.25 + 0.2])
    # H3 -> H1 -> H2 becomes H3 -> H2: (g32 + g31 g12) / (1 - g31 g13) = (0 + 1 * 0.6) /
    # (1 - 1 * 0.4) = 1; H2 -> H3 stays 1 (H2 had no edge to H1).
    np.testing.assert_allclose(g, [[0, 0, 0], [0, 0, 1], [0, 1, 0]], rtol=0, atol=1e-15)


# --- invalid plans: each error names what is wrong ------------------------------------------

P3 = {"H1": 0.01, "H2": 0.02, "H3": 0.03}
W3 = {"H1": 0.5, "H2": 0.5, "H3": 0.0}
G3 = {"H1": {"H3": 1.0}, "H2": {"H3": 1.0}}

INVALID = [
    # (arguments to adjust, pattern of the message)
    (dict(method="holms"), r"unknown multiplicity method 'holms'.*'holm'"),
    (dict(alpha=0.0), r"alpha .* strictly between 0 and 1; got 0\.0"),
    (dict(alpha=1.0), r"alpha .* got 1\.0"),
    (dict(alpha=-0.05), r"alpha .* got -0\.05"),
    (dict(alpha=float("nan")), r"alpha .* got nan"),
    (dict(alpha="0.05"), r"alpha .* got '0\.05'"),
    (dict(alpha=True), r"alpha .* got True"),
    (dict(p_values={}), r"names no hypotheses"),
    (dict(p_values=[0.01, 0.02]), r"p_values must map each hypothesis name"),
    (dict(p_values={"H1": 0.01, "H2": 1.3}), r"p-value of 'H2' is 1\.3.*\[0, 1\]"),
    (dict(p_values={"H1": -0.01}), r"p-value of 'H1' is -0\.01"),
    (dict(p_values={"H1": "0.01"}), r"p-value of 'H1' is '0\.01'"),
    (dict(p_values={"H1": float("inf")}), r"p-value of 'H1' is inf"),
    (dict(p_values={"": 0.01}), r"hypothesis names must be non-empty strings"),
    (dict(order=["H1", "H2"]), r"order leaves out 'H3'"),
    (dict(order=["H1", "H2", "H3", "H4"]), r"order names 'H4', which has no p-value"),
    (dict(order=["H1", "H2", "H2"]), r"order names 'H2' twice"),
    (dict(order="H1"), r"order must be a list of hypothesis names"),
    (dict(weights={"H1": -0.1, "H2": 0.5, "H3": 0.5}), r"weight of 'H1' is -0\.1.*>= 0"),
    (dict(weights={"H1": 0.6, "H2": 0.5, "H3": 0.0}), r"weights sum to 1\.1.*at most 1"),
    (dict(weights=[0.4, 0.4, 0.2 + 1e-6]), r"weights sum to 1\.000001"),
    (dict(weights={"H1": 0.5, "H2": 0.5}), r"no weight for 'H3'"),
    (dict(weights={"H1": 0.5, "H2": 0.5, "H3": 0, "H9": 0}), r"weights name 'H9'"),
    (dict(weights=[0.5, 0.5]), r"weights has 2 entries; expected 3"),
    (dict(weights=[[0.5, 0.5, 0]]), r"weights has 1 entries; expected 3"),
    (dict(weights={"H1": 0.5, "H2": None, "H3": 0}), r"weight of 'H2' is None"),
    (dict(weights=0.5), r"weights must map each hypothesis"),
    (dict(transitions={"H1": {"H2": 0.7, "H3": 0.7}}),
     r"transitions row 'H1' \(the edges leaving 'H1'\) sums to 1\.4"),
    (dict(transitions={"H1": {"H1": 0.5}}),
     r"transition weight 'H1' -> 'H1' is 0\.5.*g_ii must be 0"),
    (dict(transitions={"H2": {"H3": -0.5}}), r"transition weight 'H2' -> 'H3' is -0\.5"),
    (dict(transitions={"H2": {"H4": 0.5}}), r"row 'H2' has an edge to 'H4'"),
    (dict(transitions={"H7": {"H1": 0.5}}), r"a row for 'H7'"),
    (dict(transitions={"H1": 0.5}), r"transitions row 'H1' must map"),
    (dict(transitions=[[0, 1, 0], [1, 0, 0]]), r"transitions has 2 rows; expected 3"),
    (dict(transitions=[[0, 1, 0], [1, 0], [0, 0, 0]]),
     r"transitions row 'H2' has 2 entries; expected 3"),
    (dict(transitions=np.eye(3)), r"transition weight 'H1' -> 'H1' is 1\.0"),
    (dict(transitions=[[0, 1, 0], [1, 0, 0], [0, float("nan"), 0]]),
     r"transition weight 'H3' -> 'H2' is nan; it must be a finite number"),
    (dict(weights=None), r"'graphical' needs both weights"),
    (dict(transitions=None), r"'graphical' needs both weights"),
]


@pytest.mark.parametrize("changes, message", INVALID)
def test_invalid_plan_raises_naming_the_culprit(changes, message):
    arguments = dict(p_values=P3, method="graphical", alpha=0.05, weights=W3, transitions=G3)
    with pytest.raises(ValueError, match=message):
        M.adjust(**(arguments | changes))


@pytest.mark.parametrize("method", ["holm", "hochberg", "fixed_sequence"])
def test_weights_or_transitions_for_a_method_without_them_raise(method):
    with pytest.raises(ValueError, match=f"method '{method}' takes no weights"):
        M.adjust(P3, method, 0.05, weights=W3)
    with pytest.raises(ValueError, match=f"method '{method}' takes no transitions"):
        M.adjust(P3, method, 0.05, transitions=G3)
    with pytest.raises(ValueError, match="method 'bonferroni' takes no transitions"):
        M.adjust(P3, "bonferroni", 0.05, transitions=G3)


def test_sums_within_rounding_of_one_are_accepted():
    # 0.1 ten times sums to 0.9999999999999999, 1/3 three times as decimals to 0.9999
    tenths = {f"H{i}": 0.1 for i in range(10)}
    rows = M.adjust(tenths, "graphical", 0.05, [0.1] * 10, np.zeros((10, 10)))
    assert len(rows) == 10
    M.adjust(P3, "graphical", 0.05, [0.3333, 0.3333, 0.3334], [[0, 0.7, 0.3], [0.2, 0, 0.8],
                                                                [0.5, 0.5, 0]])


# --- the rows -----------------------------------------------------------------------------

@pytest.mark.parametrize("method", M.METHODS)
def test_rows_have_the_documented_keys_and_vocabulary(method):
    extra = M.holm_graph(3) if method == "graphical" else ()
    rows = run([0.001, None, 0.5], method, 0.05, *extra)
    assert [list(r) for r in rows] == [["hypothesis", "p_value", "p_adjusted", "decision",
                                        "local_level"]] * 3
    assert col(rows, "hypothesis") == ["H1", "H2", "H3"]
    assert col(rows, "p_value") == [0.001, None, 0.5]
    assert set(col(rows, "decision")) <= set(M.DECISIONS)
    assert all(type(r["local_level"]) is float for r in rows)
    assert all(r["p_adjusted"] is None or type(r["p_adjusted"]) is float for r in rows)


def test_method_names_ignore_case_and_dashes():
    assert M.adjust(P3, "Fixed-Sequence", 0.05) == M.adjust(P3, "fixed_sequence", 0.05)
    assert M.adjust(P3, "HOLM", 0.05) == M.holm(P3, 0.05)


def test_importing_the_module_loads_numpy_only():
    # Each workflow stage is a fresh process: the module must not pull scipy, pandas or
    # statsmodels.
    code = ("import sys, trialreport.stats.multiplicity_strategy; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'scipy', 'pandas', 'statsmodels', 'pingouin', 'matplotlib'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_docstring_examples():
    import doctest

    failures, tried = doctest.testmod(M, optionflags=doctest.ELLIPSIS)
    assert tried >= 3 and failures == 0
