"""LOCF derivation on a hand-made frame, and the efficacy analyses as ARD rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from trialreport.analyse.efficacy import build_ard
from trialreport.analyse.responders import responder_flags
from trialreport.derive.derivations import derive_efficacy, derive_locf_records


def test_derive_locf_records_hand_made_frame():
    scores = pd.DataFrame({
        "USUBJID": ["a", "a", "a", "b", "b", "c"],
        "PARAMCD": ["X"] * 6,
        "AVISITN": [0, 1, 3, 1, 2, 2],
        "AVAL": [5, np.nan, 4, 3, 2, np.nan],
    })
    out = derive_locf_records(scores, [0, 1, 2, 3], {0: "B", 1: "W1", 2: "W2", 3: "W3"},
                              baseline_visits={"X": 0})
    expected = pd.DataFrame({
        # a: visit 1 missing -> 5 carried; visit 2 absent -> 5 carried; visit 3 observed.
        # b: nothing before visit 1 -> visit 0 not added; visit 3 absent -> 2 carried.
        # c: only a missing value, nothing earlier -> kept missing, nothing added.
        "USUBJID": ["a", "a", "a", "a", "b", "b", "b", "c"],
        "AVISITN": [0, 1, 2, 3, 1, 2, 3, 2],
        "AVAL": [5, 5, 5, 4, 3, 2, 2, np.nan],
        "AVISIT": ["B", "W1", "W2", "W3", "W1", "W2", "W3", "W2"],
        "DTYPE": ["", "LOCF", "LOCF", "", "", "", "LOCF", ""],
    })
    assert out["USUBJID"].tolist() == expected["USUBJID"].tolist()
    assert out["AVISITN"].tolist() == expected["AVISITN"].tolist()
    assert out["AVISIT"].tolist() == expected["AVISIT"].tolist()
    got = out["AVAL"].astype(float).to_numpy()
    assert np.array_equal(got, expected["AVAL"].to_numpy(float), equal_nan=True)
    assert out["DTYPE"].fillna("").tolist() == expected["DTYPE"].tolist()
    assert "DTYPE" not in scores.columns  # input untouched


def test_responder_flags_rules():
    frame = pd.DataFrame({"AVISITN": [0, 1, 2, 2], "AVAL": [5, 4, 3, np.nan],
                          "BASE": [5, 5, 5, 5]})
    chg = responder_flags(frame, {"variable": "CHG", "operator": "<=", "threshold": -1}, 0)
    # no change, hence no responder status, at the baseline visit
    assert math.isnan(chg.iloc[0]) and chg.tolist()[1:3] == [1.0, 1.0]
    assert math.isnan(chg.iloc[3])
    aval = responder_flags(frame, {"variable": "AVAL", "operator": "<=", "threshold": 3}, 0)
    assert aval.tolist()[:3] == [0.0, 0.0, 1.0]


def _trial(arms: int = 1):
    config = {
        "design": {
            "visits": [{"name": "Base", "number": 0}, {"name": "Wk2", "number": 2}],
            "parameters": {"S": {"label": "S", "min": 1, "max": 7, "integer": True,
                                 "baseline_visit": 0, "comparison_visit": 2}},
        },
        "analyses": {
            "paired": {"confidence": 0.95, "alternative": "two-sided"},
            "responders": {"S": {"variable": "CHG", "operator": "<=", "threshold": -1}},
            "locf": True,
            "subgroups": {"variables": ["TIER"], "min_n": 4},
            "primary": {"method": "paired_ttest", "parameters": ["S"]},
            "parallel": {"reference_arm": "Placebo", "strata": ["TIER"]} if arms > 1 else {},
        },
    }
    n = 12
    rng = np.random.default_rng(5)
    arm = (["Placebo", "Drug"] * n)[:n] if arms > 1 else ["Drug"] * n
    subjects = pd.DataFrame({"USUBJID": [f"s{i:02d}" for i in range(n)], "TRT01P": arm,
                             "AGE": 14, "SEX": "F", "SAFFL": "Y", "EFFFL": "Y",
                             "TIER": [1] * 9 + [2] * 3})
    base = rng.integers(3, 7, n)
    week2 = np.clip(base - rng.integers(0, 3, n), 1, 7).astype(float)
    week2[0] = np.nan  # one missing comparison value, carried forward by LOCF
    scores = pd.DataFrame({
        "USUBJID": np.repeat(subjects["USUBJID"], 2).to_numpy(),
        "PARAMCD": "S", "AVISITN": np.tile([0, 2], n),
        "AVAL": np.column_stack([base, week2]).ravel(),
    })
    exposure = pd.DataFrame({"USUBJID": subjects["USUBJID"], "EXDOSE": 100})
    return config, subjects, derive_efficacy(scores, {"S": 0}), exposure


def _get(ard, **where):
    rows = ard
    for k, v in where.items():
        rows = rows[rows[k] == v]
    assert len(rows) == 1, where
    return rows["value"].iloc[0]


def test_single_arm_ard_has_primary_locf_responders_subgroups_and_holm():
    config, subjects, efficacy, exposure = _trial()
    ard = build_ard("t", config, subjects, efficacy, exposure)
    assert _get(ard, analysis="paired", statistic="n_pairs") == 11
    assert _get(ard, analysis="paired", statistic="n_excluded_no_comparison") == 1
    assert _get(ard, analysis="paired_locf", statistic="n_pairs") == 12
    assert _get(ard, analysis="paired_locf", statistic="n_imputed_comparison") == 1
    # with one test in the primary family Holm leaves p unchanged
    assert _get(ard, analysis="paired", statistic="p_value_holm") == pytest.approx(
        _get(ard, analysis="paired", method="paired_ttest", statistic="p_value"))
    # subgroup TIER = 2 has 3 subjects < min_n 4: described, flagged, not tested
    small = ard[(ard["analysis"] == "subgroup") & (ard["group"] == "Drug; TIER = 2")]
    assert _get(small, statistic="tested") == 0
    assert not small["statistic"].isin(["p_value", "t", "W"]).any()
    big = ard[(ard["analysis"] == "subgroup") & (ard["group"] == "Drug; TIER = 1")]
    assert _get(big, statistic="tested") == 1
    assert (big["statistic"] == "p_value").sum() == 2
    # responders at week 2 among the 11 rated; a rule on CHG has no baseline status, so
    # neither a baseline responder row nor a McNemar test
    n_resp = _get(ard, analysis="responders", visitn=2.0, statistic="n_responders")
    expected = (efficacy.loc[efficacy["AVISITN"] == 2, "CHG"].astype(float) <= -1).sum()
    assert n_resp == expected
    assert ard[ard["analysis"] == "responders"]["visitn"].unique().tolist() == [2.0]
    assert not (ard["analysis"] == "responders_paired").any()
    # every efficacy row names its method and analysis set
    eff = ard[ard["analysis"].isin(["by_visit", "paired", "paired_locf", "responders",
                                    "responders_paired", "subgroup"])]
    assert (eff["method"] != "").all() and (eff["analysis_set"] != "").all()


def test_two_arm_trial_runs_ancova_and_between_arm_responder_tests():
    config, subjects, efficacy, exposure = _trial(arms=2)
    ard = build_ard("t", config, subjects, efficacy, exposure)
    anc = ard[ard["analysis"] == "ancova"]
    assert set(anc["group"]) == {"Drug", "Placebo", "Drug vs Placebo"}
    assert anc["method"].iloc[0] == "ancova_ols: CHG ~ ARM + BASE + strata TIER"
    between = ard[ard["analysis"] == "responders_between_arms"]
    assert {"chi_square_pearson", "fisher_exact", "cmh_mantel_haenszel"} <= set(
        between["method"])
    # Fisher's and the CMH odds ratios are both of response, Drug against Placebo
    counts = between[between["method"] == "count"].set_index(["group", "statistic"])["value"]
    a, n1 = counts[("Drug", "n_responders")], counts[("Drug", "n")]
    c, n2 = counts[("Placebo", "n_responders")], counts[("Placebo", "n")]
    fisher_or = _get(between, method="fisher_exact", statistic="odds_ratio")
    assert fisher_or == pytest.approx(a * (n2 - c) / ((n1 - a) * c))
    # paired analyses run per arm
    assert set(ard.loc[ard["analysis"] == "paired", "group"]) == {"Drug", "Placebo"}


def test_report_tables_only_format_ard_numbers():
    from trialreport.report.results import Results
    from trialreport.report.sections.between_arms import ancova_tables
    from trialreport.report.sections.paired import paired_table
    from trialreport.report.sections.responders import (
        mcnemar_not_computed,
        mcnemar_table,
        responder_table,
        responders_by_arm_tables,
    )
    from trialreport.report.sections.subgroups import subgroup_table

    config, subjects, efficacy, exposure = _trial(arms=2)
    config["design"]["parameters"]["S"]["label"] = "Score"
    ard = build_ard("t", config, subjects, efficacy, exposure)
    r = Results("t", config, ard, pd.DataFrame(), pd.DataFrame(), {})
    paired = paired_table(r)
    assert list(paired["Arm"]) == ["Drug", "Placebo"]
    drug = ard[(ard["analysis"] == "paired") & (ard["group"] == "Drug")]
    assert paired.loc[0, "Pairs"] == f"{_get(drug, statistic='n_pairs'):g}"
    assert paired.loc[0, "Median change"] == f"{_get(drug, statistic='change_median'):g}"
    assert len(paired_table(r, "paired_locf")) == 2
    resp = responder_table(r)
    assert set(resp["Arm"]) == {"Drug", "Placebo"}
    sub = subgroup_table(r)
    small = sub[sub["Subgroup"] == "TIER = 2"]
    assert (small["Tests"] == "descriptive only: too few pairs (flagged)").all()
    assert len(mcnemar_table(r)) == 0  # the rule is on CHG: no McNemar
    assert mcnemar_not_computed(r) == ["Score"]
    assert [h.split(",")[0] for h, _ in ancova_tables(r)] == ["Score"]
    assert [h.split(",")[0] for h, _ in responders_by_arm_tables(r)] == ["Score"]


def test_report_rounds_a_mean_half_up_like_the_reproduction_table():
    """3.125 (75/24) is 3.13 in every table: half up, as the reproduction table rounds."""
    from trialreport.report.results import Results
    from trialreport.report.sections.by_visit import by_visit_table

    ard = pd.DataFrame({
        "trial": "t", "analysis": "by_visit", "analysis_set": "", "method": "descriptive",
        "parameter": "X", "visit": "Week 1", "visitn": 1.0, "group": "A",
        "statistic": ["n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low",
                      "ci_high"],
        "value": [24, 75 / 24, 0.625, 3, 3, 3.5, 1, 5, 2.865, 3.385],
    })
    trial = {"design": {"parameters": {"X": {"label": "X", "baseline_visit": 0,
                                           "comparison_visit": 1}},
                        "visits": [{"name": "Week 1", "number": 1}]}}
    data = Results("t", trial, ard, pd.DataFrame(), pd.DataFrame(), {})
    row = by_visit_table(data).iloc[0]
    assert row["Mean (SD)"] == "3.13 (0.63)"
    assert row["95% CI of mean"] == "2.87 to 3.39"


@pytest.mark.parametrize(("columns", "order", "reference", "expected"), [
    # TRT01PN wins over the config and over names
    ({"TRT01PN": [2, 0, 1]}, ("B", "A", "C"), None, ["B", "C", "A"]),
    # no code: the config's design.arms, arms it does not name after, by name
    ({}, ("C", "A"), None, ["C", "A", "B"]),
    # neither: by name
    ({}, (), None, ["A", "B", "C"]),
    # the reference arm first, whatever the order
    ({"TRT01PN": [2, 0, 1]}, (), "A", ["A", "B", "C"]),
])
def test_arm_order_trt01pn_else_config_else_name_reference_first(columns, order, reference,
                                                                 expected):
    from trialreport.common.frames import ordered_arms

    subjects = pd.DataFrame({"TRT01P": ["A", "B", "C"], **columns})
    assert ordered_arms(subjects, order, reference) == expected
