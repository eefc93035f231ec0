"""Defects found in review of the analyses, each against a hand-worked answer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from trialreport.analyse.efficacy import build_ard
from trialreport.common.config import AnalysisConfigError
from trialreport.derive.derivations import derive_efficacy


def _subjects(n: int, arms: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"USUBJID": [f"s{i}" for i in range(n)],
                         "TRT01P": arms if arms is not None else ["Drug"] * n,
                         "SAFFL": "Y", "EFFFL": "Y", "TIER": [1, 2] * (n // 2) + [1] * (n % 2)})


def _scores(values: dict[str, dict[int, list[float]]]) -> pd.DataFrame:
    rows = []
    for paramcd, by_visit in values.items():
        for visitn, avals in by_visit.items():
            for i, aval in enumerate(avals):
                rows.append({"USUBJID": f"s{i}", "PARAMCD": paramcd, "AVISITN": visitn,
                             "AVAL": aval})
    return pd.DataFrame(rows)


def _config(primary_method: str, primary: list[str], **analyses) -> dict:
    return {
        "design": {
            "visits": [{"name": "Baseline", "number": 0}, {"name": "Week 1", "number": 1},
                       {"name": "Week 5", "number": 5}],
            "parameters": {
                "CGII": {"label": "CGI-I", "baseline_visit": 1, "comparison_visit": 5},
                "CGIS": {"label": "CGI-S", "baseline_visit": 0, "comparison_visit": 5},
            },
        },
        "analyses": {"paired": {"confidence": 0.95, "alternative": "two-sided"},
                     "primary": {"method": primary_method, "parameters": primary},
                     **analyses},
    }


BASELINES = {"CGII": 1, "CGIS": 0}


def _ard(config, scores, subjects=None):
    subjects = _subjects(6) if subjects is None else subjects
    exposure = pd.DataFrame({"USUBJID": subjects["USUBJID"], "EXDOSE": 100})
    return build_ard("t", config, subjects, derive_efficacy(scores, BASELINES), exposure)


def _one(ard, **where):
    rows = ard
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return float(rows["value"].iloc[0])


# --- 1. The Holm family does not depend on the Wilcoxon variant the data triggered --------

# CGI-I changes -1..-6 and 44 zeros: 6 non-zero -> exact Wilcoxon, p = 2 / 2^6 = 0.03125.
# CGI-S changes (-3, -3, -2, 1, 1) x 10: 50 non-zero -> normal approximation. Ties: |d| 1
# (20 values, midrank 10.5), 2 (10, midrank 25.5), 3 (20, midrank 40.5); W = T+ = 20 * 10.5
# = 210; mean 50*51/4 = 637.5; variance 50*51*101/24 - (2*(20^3 - 20) + (10^3 - 10))/48
# = 10731.25 - 353.125 = 10378.125; z = (210 - 637.5 + 0.5)/sqrt(10378.125).
HOLM_SCORES = _scores({
    "CGII": {1: [7] * 50, 5: [6, 5, 4, 3, 2, 1] + [7] * 44},
    "CGIS": {0: [5] * 50, 5: [2, 2, 3, 6, 6] * 10},
})
CGIS_NORMAL_P = 2 * float(sps.norm.cdf((210 - 637.5 + 0.5) / math.sqrt(10378.125)))


@pytest.mark.parametrize("method", ["wilcoxon_exact", "wilcoxon_normal"])
def test_holm_family_spans_both_wilcoxon_variants(method):
    ard = _ard(_config(method, ["CGII", "CGIS"]), HOLM_SCORES, _subjects(50))
    assert _one(ard, parameter="CGII", method="wilcoxon_exact",
                statistic="p_value") == pytest.approx(0.03125)
    assert _one(ard, parameter="CGIS", method="wilcoxon_normal",
                statistic="p_value") == pytest.approx(CGIS_NORMAL_P, rel=1e-9)
    holm = ard[ard["statistic"] == "p_value_holm"].set_index("parameter")
    assert (holm["method"] == "holm:wilcoxon").all()
    # Holm, family of 2: CGIS (the smaller p) 2 * p; CGII max(2 * p_CGIS, 1 * 0.03125)
    assert holm.loc["CGIS", "value"] == pytest.approx(2 * CGIS_NORMAL_P, rel=1e-9)
    assert holm.loc["CGII", "value"] == pytest.approx(0.03125)
    sizes = ard[ard["statistic"] == "holm_family_size"]["value"]
    assert sizes.tolist() == [2.0, 2.0]


def test_tied_changes_below_50_get_the_exact_wilcoxon():
    # CGI-S changes -3, -3, -2, 0, 1, 1: the zero dropped; |d| 3, 3, 2, 1, 1 have midranks
    # 4.5, 4.5, 3, 1.5, 1.5; T+ = 3. Of the 32 sign assignments, T+ <= 3 in 5 (none
    # positive; either 1.5; both 1.5s; the 3): P = 5/32, two-sided p = 10/32 = 0.3125.
    scores = _scores({"CGII": {1: [7] * 6, 5: [6, 5, 4, 3, 2, 1]},
                      "CGIS": {0: [5] * 6, 5: [2, 2, 3, 5, 6, 6]}})
    ard = _ard(_config("wilcoxon", ["CGII", "CGIS"]), scores)
    assert _one(ard, parameter="CGIS", method="wilcoxon_exact",
                statistic="p_value") == pytest.approx(10 / 32)
    assert not (ard["method"] == "wilcoxon_normal").any()


def test_primary_member_without_p_value_is_refused_not_dropped():
    scores = _scores({"CGII": {1: [7] * 6, 5: [6, 5, 4, 3, 2, 1]},
                      "CGIS": {0: [5] * 6, 5: [5] * 6}})  # no change at all: no Wilcoxon p
    with pytest.raises(AnalysisConfigError, match="'CGIS'"):
        _ard(_config("wilcoxon_exact", ["CGII", "CGIS"]), scores)


# --- 2. LOCF never imputes a baseline, nor carries a rating from before it -----------------

def test_locf_fills_only_after_each_parameters_baseline_visit():
    from trialreport.derive.derivations import derive_locf_records

    scores = pd.DataFrame({
        "USUBJID": ["a"] * 3 + ["b"] * 3 + ["a"] * 2,
        "PARAMCD": ["CGII"] * 6 + ["CGIS"] * 2,
        "AVISITN": [0, 1, 5, 0, 1, 2, 0, 1],
        "AVAL": [6, None, 2, 6, 4, None, 5, None],
    })
    out = derive_locf_records(scores, [0, 1, 2, 5], {0: "B", 1: "W1", 2: "W2", 5: "W5"},
                              baseline_visits={"CGII": 1, "CGIS": 0})
    got = {(r.USUBJID, r.PARAMCD, r.AVISITN): (None if pd.isna(r.AVAL) else float(r.AVAL),
                                                None if pd.isna(r.DTYPE) else r.DTYPE)
           for r in out.itertuples()}
    assert got == {
        # CGI-I (baseline week 1): the visit-0 rating 6 is before baseline; the missing
        # baseline stays missing and nothing is carried to week 2 (not added).
        ("a", "CGII", 0): (6.0, None), ("a", "CGII", 1): (None, None),
        ("a", "CGII", 5): (2.0, None),
        # b: baseline 4 carried to the missing week 2 and the absent week 5.
        ("b", "CGII", 0): (6.0, None), ("b", "CGII", 1): (4.0, None),
        ("b", "CGII", 2): (4.0, "LOCF"), ("b", "CGII", 5): (4.0, "LOCF"),
        # CGI-S (baseline visit 0): week 1 is post-baseline, so 5 is carried there and on.
        ("a", "CGIS", 0): (5.0, None), ("a", "CGIS", 1): (5.0, "LOCF"),
        ("a", "CGIS", 2): (5.0, "LOCF"), ("a", "CGIS", 5): (5.0, "LOCF"),
    }


def test_locf_paired_analysis_has_no_imputed_baseline():
    # CGI-I ratings 6, missing, 2 at visits 0, 1, 5 for s0: no baseline, so no LOCF pair.
    scores = _scores({"CGII": {0: [6] * 6, 1: [None, 4, 4, 5, 5, 6], 5: [2, 3, 2, 4, 3, 5]},
                      "CGIS": {0: [5] * 6, 5: [4] * 6}})
    ard = _ard(_config("paired_ttest", ["CGII"], locf=True), scores)
    locf = ard[(ard["analysis"] == "paired_locf") & (ard["parameter"] == "CGII")]
    assert _one(locf, statistic="n_pairs") == 5
    assert _one(locf, statistic="n_excluded_no_baseline") == 1
    assert _one(locf, statistic="n_imputed_baseline") == 0
    assert _one(locf, statistic="baseline_mean") == pytest.approx(24 / 5)


# --- 3. McNemar only for a responder rule on AVAL -----------------------------------------

def test_mcnemar_only_for_rules_on_aval():
    # CGI-I (AVAL <= 2), week 1 -> week 5: responders s0, s1 at baseline; at week 5 s0, s2,
    # s3, s4. Discordant: before only 1 (s1), after only 3; exact two-sided p =
    # 2 * P(Bin(4, 1/2) <= 1) = 2 * 5/16 = 0.625.
    # CGI-S (CHG <= -1): five of six subjects worsen; a baseline-vs-week-5 McNemar would
    # have "responders" only after baseline, so it is not computed at all.
    scores = _scores({"CGII": {1: [2, 1, 4, 4, 3, 5], 5: [1, 4, 2, 2, 2, 5]},
                      "CGIS": {0: [3] * 6, 5: [2, 5, 5, 4, 6, 4]}})
    rules = {"CGII": {"variable": "AVAL", "operator": "<=", "threshold": 2},
             "CGIS": {"variable": "CHG", "operator": "<=", "threshold": -1}}
    ard = _ard(_config("paired_ttest", ["CGII"], responders=rules), scores)
    mc = ard[ard["analysis"] == "responders_paired"]
    assert set(mc["parameter"]) == {"CGII"}
    got = dict(zip(mc["statistic"], mc["value"], strict=True))
    assert (got["both"], got["before_only"], got["after_only"], got["neither"]) == (1, 1, 3, 1)
    assert got["p_value"] == pytest.approx(0.625)
    # and no baseline "non-responder by construction" row for the CHG rule
    cgis = ard[(ard["analysis"] == "responders") & (ard["parameter"] == "CGIS")]
    assert cgis["visitn"].unique().tolist() == [5.0]
    assert _one(cgis, statistic="n_responders") == 1


# --- 4. A misspelt reference arm or stratum is refused, not a silently missing ANCOVA -----

def _two_arm(parallel):
    subjects = _subjects(6, ["Placebo", "Drug"] * 3)
    scores = _scores({"CGII": {1: [4, 4, 5, 5, 4, 3], 5: [4, 2, 5, 3, 3, 2]},
                      "CGIS": {0: [5, 5, 4, 4, 5, 4], 5: [5, 3, 4, 3, 4, 2]}})
    return _ard(_config("paired_ttest", ["CGII"], parallel=parallel), scores, subjects)


def test_two_arm_ancova_runs_with_the_right_reference():
    ard = _two_arm({"reference_arm": "Placebo", "strata": ["TIER"]})
    anc = ard[ard["analysis"] == "ancova"]
    assert set(anc["group"]) == {"Drug", "Placebo", "Drug vs Placebo"}


@pytest.mark.parametrize("parallel, named", [
    ({"reference_arm": "placebo"}, r"'placebo'.*'Drug', 'Placebo'"),
    ({"reference_arm": "Placebo", "strata": ["TEIR"]}, r"'TEIR'"),
])
def test_misspelt_parallel_config_is_refused(parallel, named):
    with pytest.raises(AnalysisConfigError, match=named):
        _two_arm(parallel)


def test_pipeline_analyse_refuses_with_a_stage_error(tmp_path):
    from trialreport.analyse.stage import analyse
    from trialreport.common.runner import StageError

    subjects = _subjects(6, ["Placebo", "Drug"] * 3)
    scores = _scores({"CGII": {1: [4] * 6, 5: [3, 2, 4, 3, 3, 2]},
                      "CGIS": {0: [5] * 6, 5: [4, 3, 4, 3, 4, 2]}})
    inputs = {}
    for name, frame in {"subjects": subjects,
                        "efficacy": derive_efficacy(scores, BASELINES),
                        "exposure": pd.DataFrame({"USUBJID": subjects["USUBJID"],
                                                  "EXDOSE": 100}),
                        "adverse_events": pd.DataFrame()}.items():
        inputs[name] = str(tmp_path / f"{name}.parquet")
        frame.to_parquet(inputs[name])
    config = _config("paired_ttest", ["CGII"], parallel={"reference_arm": "Plcebo"})
    with pytest.raises(StageError, match="reference_arm 'Plcebo'"):
        analyse("t", config, inputs, str(tmp_path / "ard.csv"))


# --- 5. No t-test on constant changes; a published P cannot then "match" -------------------

def test_constant_changes_give_no_t_test_and_a_p_target_mismatch():
    from trialreport.reproduce.targets import reproduce
    from trialreport.stats.paired import paired_comparison

    # every change is -1: SD 0, t = -inf and p = 0 were reported before
    r = paired_comparison(np.array([5.0, 4, 6, 5]), np.array([4.0, 3, 5, 4]))
    assert "ttest" not in r
    # Wilcoxon still runs (tied |d|, exact conditional): ranks all 2.5, T+ = 0, reached by
    # 1 of the 2^4 sign assignments on each side: p = 2/16 = 0.125
    assert r["wilcoxon"]["p_value"] == pytest.approx(0.125)
    assert "ttest" not in paired_comparison(np.array([5.0]), np.array([4.0]))  # n < 2

    scores = _scores({"CGII": {1: [4, 4, 5, 5, 4, 3], 5: [3, 3, 4, 4, 3, 2]},
                      "CGIS": {0: [5] * 6, 5: [4, 3, 4, 3, 4, 2]}})
    config = _config("paired_ttest", ["CGIS"])
    ard = _ard(config, scores)
    cgii = ard[(ard["analysis"] == "paired") & (ard["parameter"] == "CGII")]
    assert not (cgii["method"] == "paired_ttest").any()
    config["reproduction"] = {"targets": [
        {"id": "cgii_p", "description": "CGI-I p", "parameter": "CGII",
         "statistic": "p_value", "method": "paired_ttest", "published": "P < 0.001"}]}
    row = reproduce(ard, config).iloc[0]
    assert row["status"] == "mismatch"
    assert row["reproduced"].startswith("not computed")
