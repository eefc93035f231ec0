"""Tests that catch one-line defects a reviewer planted without any test failing.

Each test builds a small frame whose answer is worked out by hand here or taken from a
second library (scipy, statsmodels), and runs it through ``build_ard`` (or ``stats``):

1. the efficacy-population filter (EFFFL = "Y") dropped from ``build_ard``;
2. a responder proportion whose denominator counts subjects not rated at the visit;
3. the ANCOVA fitted without its strata;
4. boundaries moved by one: (a) subgroup tests only with at least ``min_n`` pairs,
   (b) the Wilcoxon signed-rank exact / normal switch at 50 non-zero differences.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats as sps

from trialreport.analyse.efficacy import build_ard
from trialreport.derive.derivations import derive_efficacy
from trialreport.stats import paired as S


def _config(*, responders: dict | None = None, **analyses) -> dict:
    return {
        "design": {
            "visits": [{"name": "Base", "number": 0}, {"name": "Wk2", "number": 2}],
            "parameters": {"S": {"label": "S", "baseline_visit": 0, "comparison_visit": 2}},
        },
        "analyses": {"paired": {"confidence": 0.95, "alternative": "two-sided"},
                     "responders": responders or {}, **analyses},
    }


def _subjects(ids, arms=None, **columns) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame({"USUBJID": list(ids),
                         "TRT01P": list(arms) if arms is not None else ["Drug"] * n,
                         "SAFFL": "Y", "EFFFL": columns.pop("EFFFL", "Y"), **columns})


def _scores(records) -> pd.DataFrame:
    """records: (USUBJID, AVISITN, AVAL) for parameter S."""
    frame = pd.DataFrame(records, columns=["USUBJID", "AVISITN", "AVAL"])
    frame["AVAL"] = frame["AVAL"].astype(float)
    return frame.assign(PARAMCD="S")[["USUBJID", "PARAMCD", "AVISITN", "AVAL"]]


def _ard(config, subjects, scores) -> pd.DataFrame:
    exposure = pd.DataFrame({"USUBJID": subjects["USUBJID"], "EXDOSE": 100})
    return build_ard("t", config, subjects, derive_efficacy(scores, {"S": 0}), exposure)


def _one(ard, **where) -> float:
    rows = ard
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return float(rows["value"].iloc[0])


# --- 1. Only the efficacy population is analysed ------------------------------------------

def test_subject_outside_efficacy_population_is_not_analysed():
    # s0..s3 are in the efficacy set; s4 (EFFFL = N) has ratings 7 -> 1 that would change
    # every number below if it were counted.
    subjects = _subjects(["s0", "s1", "s2", "s3", "s4"], EFFFL=["Y", "Y", "Y", "Y", "N"])
    base, week2 = [5, 6, 4, 5, 7], [3, 4, 4, 2, 1]
    scores = _scores([(f"s{i}", 0, b) for i, b in enumerate(base)]
                     + [(f"s{i}", 2, w) for i, w in enumerate(week2)])
    rule = {"S": {"variable": "AVAL", "operator": "<=", "threshold": 3}}
    ard = _ard(_config(responders=rule), subjects, scores)

    def by_visit(visitn, statistic):
        return _one(ard, analysis="by_visit", visitn=float(visitn), statistic=statistic)

    # by hand, efficacy set only (with s4: n 5, means 5.4 and 2.8)
    assert by_visit(0, "n") == 4
    assert by_visit(0, "mean") == pytest.approx((5 + 6 + 4 + 5) / 4)  # 5.0
    assert by_visit(2, "n") == 4
    assert by_visit(2, "mean") == pytest.approx((3 + 4 + 4 + 2) / 4)  # 3.25
    # changes -2, -2, 0, -3 (with s4's -6: n 5, mean -2.6)
    assert _one(ard, analysis="paired", statistic="n_pairs") == 4
    assert _one(ard, analysis="paired", statistic="change_mean") == pytest.approx(-7 / 4)
    assert _one(ard, analysis="paired", statistic="baseline_mean") == pytest.approx(5.0)
    # AVAL <= 3: none of 5, 6, 4, 5 at baseline; 3 and 2 of 3, 4, 4, 2 at week 2
    # (with s4: 0 of 5 and 3 of 5)
    assert _one(ard, analysis="responders", visitn=0.0, statistic="n") == 4
    assert _one(ard, analysis="responders", visitn=0.0, statistic="n_responders") == 0
    assert _one(ard, analysis="responders", visitn=2.0, statistic="n") == 4
    assert _one(ard, analysis="responders", visitn=2.0, statistic="n_responders") == 2
    assert _one(ard, analysis="responders", visitn=2.0, statistic="proportion") == 0.5
    # McNemar on the same 4 pairs: 2 become responders, none stop
    assert _one(ard, analysis="responders_paired", statistic="n_pairs") == 4
    assert _one(ard, analysis="responders_paired", statistic="after_only") == 2


# --- 2. Responder denominator: subjects rated at the visit ---------------------------------

def test_responder_denominator_is_subjects_rated_at_the_visit():
    # Six subjects rated at baseline. At week 2: s0..s3 rated 1, 2, 3, 5; s4 has a week-2
    # record with AVAL missing; s5 has no week-2 record at all. Rule AVAL <= 2.
    subjects = _subjects([f"s{i}" for i in range(6)])
    scores = _scores([(f"s{i}", 0, 5) for i in range(6)]
                     + [("s0", 2, 1), ("s1", 2, 2), ("s2", 2, 3), ("s3", 2, 5),
                        ("s4", 2, np.nan)])
    rule = {"S": {"variable": "AVAL", "operator": "<=", "threshold": 2}}
    ard = _ard(_config(responders=rule), subjects, scores)

    def resp(visitn, statistic):
        return _one(ard, analysis="responders", visitn=float(visitn), statistic=statistic)

    assert _one(ard, analysis="by_visit", visitn=2.0, statistic="n") == 4
    # 2 responders (s0, s1) among the 4 rated; not /5 (s4's missing AVAL counted as a
    # non-responder) nor /6 (every subject)
    assert resp(2, "n") == 4
    assert resp(2, "n_responders") == 2
    assert resp(2, "proportion") == 0.5
    ci = sps.binomtest(2, 4).proportion_ci(confidence_level=0.95, method="exact")
    assert resp(2, "ci_low") == pytest.approx(ci.low, rel=1e-9)  # 0.0676
    assert resp(2, "ci_high") == pytest.approx(ci.high, rel=1e-9)  # 0.9324
    # at baseline all six are rated and none responds: CI [0, 1 - 0.025^(1/6)]
    assert resp(0, "n") == 6
    assert resp(0, "n_responders") == 0
    assert resp(0, "ci_high") == pytest.approx(1 - 0.025 ** (1 / 6), rel=1e-9)


# --- 3. ANCOVA with its strata -------------------------------------------------------------

# Site effects are large (C lowers the change by about 3 points) and the arms are spread
# unevenly over the sites, so leaving SITE out of the model changes the arm difference.
ANCOVA_ROWS = [  # USUBJID, ARM, SITE, baseline, week 2
    ("p1", "Placebo", "A", 5, 5), ("p2", "Placebo", "A", 6, 5), ("p3", "Placebo", "A", 4, 4),
    ("p4", "Placebo", "B", 5, 3), ("p5", "Placebo", "B", 6, 5), ("p6", "Placebo", "C", 5, 1),
    ("d1", "Drug", "A", 6, 4), ("d2", "Drug", "B", 5, 2), ("d3", "Drug", "B", 4, 2),
    ("d4", "Drug", "C", 6, 1), ("d5", "Drug", "C", 5, 1), ("d6", "Drug", "C", 7, 2),
]


def test_ancova_adjusts_for_the_configured_strata():
    rows = pd.DataFrame(ANCOVA_ROWS, columns=["USUBJID", "ARM", "SITE", "BASE", "WK2"])
    subjects = _subjects(rows["USUBJID"], arms=rows["ARM"], SITE=rows["SITE"])
    scores = _scores([(s, 0, b) for s, b in zip(rows["USUBJID"], rows["BASE"], strict=True)]
                     + [(s, 2, w) for s, w in zip(rows["USUBJID"], rows["WK2"], strict=True)])
    config = _config(parallel={"reference_arm": "Placebo", "strata": ["SITE"]})
    ard = _ard(config, subjects, scores)

    data = rows.assign(CHG=rows["WK2"] - rows["BASE"]).astype({"CHG": float, "BASE": float})
    term = "C(ARM, Treatment('Placebo'))[T.Drug]"
    fit = smf.ols("CHG ~ C(ARM, Treatment('Placebo')) + BASE + C(SITE)", data).fit()
    plain = smf.ols("CHG ~ C(ARM, Treatment('Placebo')) + BASE", data).fit()
    ci, ci_plain = fit.conf_int(0.05).loc[term], plain.conf_int(0.05).loc[term]

    def diff(statistic):
        return _one(ard, analysis="ancova", group="Drug vs Placebo", statistic=statistic)

    assert diff("diff") == pytest.approx(fit.params[term], rel=1e-9)
    assert diff("diff_ci_low") == pytest.approx(ci.iloc[0], rel=1e-9)
    assert diff("diff_ci_high") == pytest.approx(ci.iloc[1], rel=1e-9)
    assert diff("p_value") == pytest.approx(fit.pvalues[term], rel=1e-9)
    assert _one(ard, analysis="ancova", group="Placebo", statistic="n") == 6
    # the data make the strata matter: without SITE every number differs by more than 1e-3
    assert abs(fit.params[term] - plain.params[term]) > 1e-3
    assert abs(ci.iloc[0] - ci_plain.iloc[0]) > 1e-3
    assert abs(ci.iloc[1] - ci_plain.iloc[1]) > 1e-3
    assert abs(fit.pvalues[term] - plain.pvalues[term]) > 1e-3


# --- 4a. Subgroup tests need at least min_n pairs -------------------------------------------

def test_subgroup_tested_from_exactly_min_n_pairs():
    # min_n = 4. TIER 1: five subjects, one without a week-2 rating -> exactly 4 pairs,
    # tested. TIER 2: four subjects, one without a week-2 rating -> 3 pairs, described only.
    # (The rule counts pairs, not subjects: both tiers have at least 4 subjects.)
    tiers = [1, 1, 1, 1, 1, 2, 2, 2, 2]
    subjects = _subjects([f"s{i}" for i in range(9)], TIER=tiers)
    base = [6, 5, 6, 4, 5, 5, 6, 4, 5]
    week2 = [3, 4, 4, 3, np.nan, 4, 3, 3, np.nan]
    scores = _scores([(f"s{i}", 0, b) for i, b in enumerate(base)]
                     + [(f"s{i}", 2, w) for i, w in enumerate(week2)])
    config = _config(subgroups={"variables": ["TIER"], "min_n": 4})
    ard = _ard(config, subjects, scores)
    sub = ard[ard["analysis"] == "subgroup"]
    at_min = sub[sub["group"] == "Drug; TIER = 1"]
    below = sub[sub["group"] == "Drug; TIER = 2"]

    assert _one(at_min, statistic="n_subjects") == 5
    assert _one(at_min, statistic="n_pairs") == 4
    assert _one(at_min, statistic="tested") == 1
    # changes -3, -1, -2, -1: paired t-test and (ties) normal-approximation Wilcoxon
    ref = sps.ttest_rel([3, 4, 4, 3], [6, 5, 6, 4])
    assert _one(at_min, method="paired_ttest", statistic="p_value") == pytest.approx(
        ref.pvalue, rel=1e-9)
    assert (at_min["statistic"] == "p_value").sum() == 2

    assert _one(below, statistic="n_subjects") == 4
    assert _one(below, statistic="n_pairs") == 3
    assert _one(below, statistic="tested") == 0
    assert not below["statistic"].isin(["p_value", "t", "W", "hl_estimate"]).any()
    # described all the same: changes -1, -3, -1
    assert _one(below, statistic="change_mean") == pytest.approx(-5 / 3)


# --- 4b. Wilcoxon signed-rank: exact below 50 non-zero differences, as R --------------------

def _signed(n: int) -> np.ndarray:
    """n distinct non-zero differences: k for k = 1..n, negative for multiples of 3."""
    k = np.arange(1, n + 1, dtype=float)
    return np.where(k % 3 == 0, -k, k)


def _normal_p_continuity(d: np.ndarray) -> float:
    """R's wilcox.test normal approximation, correct = TRUE (its default), no ties:
    z = (V - n(n+1)/4 - 0.5 sign(V - n(n+1)/4)) / sqrt(n(n+1)(2n+1)/24), p = 2 P(Z > |z|),
    V the sum of the ranks of the positive differences."""
    n = d.size
    ranks = sps.rankdata(np.abs(d))
    v = ranks[d > 0].sum()
    centred = v - n * (n + 1) / 4
    z = (centred - 0.5 * np.sign(centred)) / math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return float(2 * sps.norm.sf(abs(z)))


@pytest.mark.parametrize("n", [49, 50])
def test_wilcoxon_switches_to_normal_approximation_at_50(n):
    d = _signed(n)
    assert np.unique(np.abs(d)).size == n and np.all(d != 0)  # no ties, no zeros
    baseline = np.full(n, 100.0)
    r = S.paired_comparison(baseline, baseline + d)
    exact_p = float(sps.wilcoxon(d, method="exact").pvalue)
    normal_p = _normal_p_continuity(d)
    # the two p values differ enough that the test tells the variants apart
    assert abs(exact_p - normal_p) > 1e-4
    if n == 49:
        assert S.wilcoxon_method(d) == "exact"
        assert r["wilcoxon"]["method"] == "exact"
        assert r["wilcoxon"]["p_value"] == pytest.approx(exact_p, rel=1e-9)
        assert r["hodges_lehmann"]["method"] == "exact"
    else:
        assert S.wilcoxon_method(d) == "normal approximation"
        assert r["wilcoxon"]["method"] == "normal approximation"
        assert r["wilcoxon"]["p_value"] == pytest.approx(normal_p, rel=1e-9)
        ref = sps.wilcoxon(d, method="asymptotic", correction=True)
        assert r["wilcoxon"]["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
        assert r["hodges_lehmann"]["method"] == "normal approximation"
    # W: the smaller signed-rank sum; multiples of 3 up to n are negative
    neg = 3 * (n // 3) * (n // 3 + 1) / 2
    assert r["wilcoxon"]["W"] == min(neg, n * (n + 1) / 2 - neg)

    # the same through build_ard: the ARD names the variant
    ids = [f"s{i:02d}" for i in range(n)]
    scores = _scores([(s, 0, 100.0) for s in ids]
                     + [(s, 2, 100.0 + x) for s, x in zip(ids, d, strict=True)])
    ard = _ard(_config(), _subjects(ids), scores)
    method = "wilcoxon_exact" if n == 49 else "wilcoxon_normal"
    assert _one(ard, analysis="paired", method=method, statistic="p_value") == pytest.approx(
        exact_p if n == 49 else normal_p, rel=1e-9)
    assert _one(ard, analysis="paired", method=method, statistic="n_nonzero") == n
