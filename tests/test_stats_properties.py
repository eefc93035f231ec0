"""Properties the paired statistics must have whatever the data (hypothesis)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialreport.analyse.efficacy import build_ard
from trialreport.common.config import AnalysisConfigError
from trialreport.derive.derivations import derive_efficacy
from trialreport.stats import distributions as dist
from trialreport.stats.paired import hodges_lehmann, paired_comparison
from trialreport.stats.proportions import clopper_pearson

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pairs(draw, integer: bool | None = None):
    """Baseline and comparison ratings: CGI-like integers (ties) or floats (exact path)."""
    n = draw(st.integers(3, 25))
    use_int = draw(st.booleans()) if integer is None else integer
    if use_int:
        elem = st.integers(1, 7).map(float)
    else:
        elem = st.floats(-50, 50, allow_nan=False, width=32).map(lambda v: round(v, 3))
    base = np.array(draw(st.lists(elem, min_size=n, max_size=n)))
    comp = np.array(draw(st.lists(elem, min_size=n, max_size=n)))
    return base, comp


def _flat(result: dict) -> dict[str, object]:
    out = {}
    for key, value in result.items():
        if isinstance(value, dict):
            for k, v in value.items():
                out[f"{key}.{k}"] = v
        else:
            out[key] = value
    return out


def _close(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


CHANGE_KEYS = ["change.mean", "change.sd", "change.median", "change.ci_low",
               "change.ci_high", "ttest.t", "ttest.p_value", "wilcoxon.W",
               "wilcoxon.p_value", "wilcoxon.method", "hodges_lehmann.estimate",
               "hodges_lehmann.ci_low", "hodges_lehmann.ci_high", "cohens_dz.dz",
               "cohens_dz.ci_low", "cohens_dz.ci_high", "rank_biserial", "n_pairs"]


def _differences_usable(base, comp) -> bool:
    d = comp - base
    return np.std(d) > 1e-6 * max(1.0, np.abs(d).max())


@SETTINGS
@given(pairs(), st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_subjects(data, rnd):
    base, comp = data
    order = list(range(base.size))
    rnd.shuffle(order)
    a = _flat(paired_comparison(base, comp))
    b = _flat(paired_comparison(base[order], comp[order]))
    assert a.keys() == b.keys()
    for key in a:
        assert _close(a[key], b[key]), key


@SETTINGS
@given(pairs(integer=True), st.integers(-3, 3))
def test_adding_a_constant_to_both_visits_leaves_the_change_unchanged(data, shift):
    base, comp = data
    a = _flat(paired_comparison(base, comp))
    b = _flat(paired_comparison(base + shift, comp + shift))
    for key in CHANGE_KEYS:
        if key in a:
            assert _close(a[key], b[key]), key
    assert _close(b["baseline.mean"], a["baseline.mean"] + shift)


@SETTINGS
@given(pairs())
def test_swapping_the_visits_flips_the_sign(data):
    base, comp = data
    a = _flat(paired_comparison(base, comp))
    b = _flat(paired_comparison(comp, base))
    for key in ("change.mean", "change.median", "ttest.t", "hodges_lehmann.estimate",
                "cohens_dz.dz", "rank_biserial"):
        if key in a:
            assert _close(a[key], -b[key]), key
    for lo, hi in (("change.ci_low", "change.ci_high"),
                   ("hodges_lehmann.ci_low", "hodges_lehmann.ci_high"),
                   ("cohens_dz.ci_low", "cohens_dz.ci_high")):
        if lo in a:
            assert _close(a[lo], -b[hi]) and _close(a[hi], -b[lo]), lo
    for key in ("ttest.p_value", "wilcoxon.p_value", "wilcoxon.W", "change.sd"):
        if key in a:
            assert _close(a[key], b[key]), key


@SETTINGS
@given(pairs())
def test_deterministic(data):
    base, comp = data
    a = _flat(paired_comparison(base, comp))
    b = _flat(paired_comparison(base.copy(), comp.copy()))
    assert repr(a) == repr(b)


@SETTINGS
@given(pairs())
def test_intervals_contain_their_estimates(data):
    base, comp = data
    r = paired_comparison(base, comp)
    hl = r["hodges_lehmann"]
    if np.all(comp == base):  # R 4.x: zeros dropped, nothing left, no estimate
        assert hl["method"] == "not computed" and math.isnan(hl["estimate"])
    else:
        assert hl["ci_low"] <= hl["estimate"] <= hl["ci_high"]
    if _differences_usable(base, comp):
        dz = r["cohens_dz"]
        assert dz["ci_low"] < dz["dz"] < dz["ci_high"]


@SETTINGS
@given(st.integers(0, 40), st.integers(1, 40))
def test_clopper_pearson_contains_the_proportion(k, n):
    k = min(k, n)
    r = clopper_pearson(k, n)
    assert 0 <= r["ci_low"] <= k / n <= r["ci_high"] <= 1


# -- the whole ARD: row and subject order ---------------------------------------------------

@st.composite
def trials(draw):
    n = draw(st.integers(4, 12))
    rating = st.one_of(st.none(), st.integers(1, 7))
    rows = []
    for i in range(n):
        for visit in (0, 1, 2):
            value = draw(rating)
            rows.append({"USUBJID": f"S{i:02d}", "PARAMCD": "S", "AVISITN": visit,
                         "AVAL": np.nan if value is None else float(value)})
    return pd.DataFrame(rows), n


CONFIG = {
    "design": {"visits": [{"name": "B", "number": 0}, {"name": "W1", "number": 1},
                          {"name": "W2", "number": 2}],
               "parameters": {"S": {"label": "S", "min": 1, "max": 7, "baseline_visit": 0,
                                    "comparison_visit": 2}}},
    "analyses": {"responders": {"S": {"variable": "CHG", "operator": "<=", "threshold": -1}},
                 "locf": True, "subgroups": {"variables": ["TIER"], "min_n": 3},
                 "primary": {"parameters": ["S"]}},
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trials(), st.randoms(use_true_random=False))
def test_ard_invariant_to_row_and_subject_order(trial, rnd):
    scores, n = trial
    subjects = pd.DataFrame({"USUBJID": [f"S{i:02d}" for i in range(n)], "TRT01P": "Drug",
                             "AGE": 14, "SEX": "M", "SAFFL": "Y", "EFFFL": "Y",
                             "TIER": [1 + i % 2 for i in range(n)]})
    exposure = pd.DataFrame({"USUBJID": subjects["USUBJID"], "EXDOSE": 100})

    def run(sc, sb):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pingouin warns on all-zero changes
            try:
                return build_ard("t", CONFIG, sb, derive_efficacy(sc, {"S": 0}), exposure)
            except AnalysisConfigError as exc:  # primary S without a p: refused, as a whole
                return str(exc)

    a = run(scores, subjects)
    rows = list(range(len(scores)))
    rnd.shuffle(rows)
    subj = list(range(n))
    rnd.shuffle(subj)
    b = run(scores.iloc[rows].reset_index(drop=True), subjects.iloc[subj].reset_index(drop=True))
    if isinstance(a, str) or isinstance(b, str):
        assert isinstance(a, str) and isinstance(b, str) and a == b
        return
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    assert np.allclose(a["value"], b["value"], rtol=1e-9, atol=1e-12, equal_nan=True)


# -- the Hodges-Lehmann interval and the Wilcoxon test beside it (issue 24) ----------------


@st.composite
def differences(draw, min_size: int = 1, max_size: int = 80):
    """Paired differences with at least one non-zero: CGI-like integers or halves (zeros,
    ties and pairs d, -d are common) or 3-decimal floats."""
    n = draw(st.integers(min_size, max_size))
    kind = draw(st.sampled_from(["integer", "half", "float"]))
    if kind == "float":
        elem = st.floats(-20, 20, allow_nan=False, width=32).map(lambda v: round(v, 3))
    else:
        step = 1.0 if kind == "integer" else 0.5
        low = draw(st.integers(-6, 0))
        elem = st.integers(low, draw(st.integers(0, 6))).map(lambda v: v * step)
    d = np.array(draw(st.lists(elem, min_size=n, max_size=n)), dtype=float)
    if not np.any(d != 0):
        d[0] = draw(st.sampled_from([-1.0, 1.0]))
    return d


def _check_consistency(d: np.ndarray, p: float, hl: dict, alpha: float) -> None:
    """What holds between the normal-approximation interval and the continuity-corrected
    normal-approximation test of the same differences (zeros dropped in both), given that
    the interval is the set of shifts d whose test of x - d does not reject, taken between
    consecutive Walsh averages, where the test's tie groups are the groups of equal x:

    - P >= alpha implies 0 in [ci_low, ci_high] (always);
    - P < alpha implies 0 not strictly inside; 0 can still be a limit, and then it is a
      Walsh average: two non-zero differences are a and -a, which the test at 0 ranks as
      tied while the gaps beside 0 do not (the limit is open; e.g. SAGA's placebo CGI-S,
      tests/test_hodges_lehmann.py);
    - with no such pair, P < alpha exactly when 0 is outside."""
    lo, hi = hl["ci_low"], hl["ci_high"]
    x = d[d != 0]
    zero_is_a_walsh_average = bool(np.isin(-x, x).any())
    if p >= alpha:
        assert lo <= 0 <= hi
    else:
        assert not (lo < 0 < hi)
        if lo <= 0 <= hi:
            assert zero_is_a_walsh_average and 0 in (lo, hi)
    if not zero_is_a_walsh_average:
        assert (p < alpha) == (not lo <= 0 <= hi)


@settings(max_examples=400, deadline=None)
@given(differences(), st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]) | st.floats(0.5, 0.9999))
def test_normal_interval_excludes_zero_as_the_normal_test_rejects(d, confidence):
    _, p = dist.wilcoxon_normal(d)
    hl = hodges_lehmann(d, confidence, exact=False)
    assert hl["method"] == "normal approximation"
    _check_consistency(d, p, hl, 1 - confidence)


@settings(max_examples=60, deadline=None)
@given(differences(min_size=50, max_size=150))
def test_from_50_non_zero_changes_the_ard_s_test_and_interval_agree(d):
    """From 50 non-zero differences the ARD's Wilcoxon row is the normal approximation and
    the Hodges-Lehmann row beside it the normal-approximation interval: they agree as above."""
    d = d[d != 0]
    if d.size < 50:
        return
    r = paired_comparison(np.zeros(d.size), d)
    assert r["wilcoxon"]["method"] == "normal approximation"
    assert r["hodges_lehmann"]["method"] == "normal approximation"
    _check_consistency(d, r["wilcoxon"]["p_value"], r["hodges_lehmann"], 0.05)
