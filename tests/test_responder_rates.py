"""Percent change from baseline, responder rules on it and on categories, and the
between-arm responder rates at the comparison visit (n / N / percent, missing handled as
configured) with their tests, each checked against a hand count and scipy run here."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from trialreport.analyse.ard import ARD_COLUMNS
from trialreport.analyse.efficacy import build_ard
from trialreport.analyse.responders import responder_flags, rule_text
from trialreport.common.config import Trial
from trialreport.derive.derivations import (
    derive_efficacy,
    derive_efficacy_as_delivered,
    derive_var_pchg,
)
from trialreport.reproduce.targets import reproduce

from conftest import ROOT

SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


# --- PCHG ----------------------------------------------------------------------------------


def test_pchg_is_100_chg_over_base_exact_at_the_edge_and_missing_where_undefined():
    scores = pd.DataFrame({
        "USUBJID": ["a", "a", "b", "b", "c", "c", "d"],
        "PARAMCD": "X",
        "AVISITN": [0, 6, 0, 6, 0, 6, 6],
        "AVAL": [10, 7, 0, 3, 21, 15, 4],
    })
    out = derive_efficacy(scores, {"X": 0}).set_index(["USUBJID", "AVISITN"])
    assert out.loc[("a", 6), "PCHG"] == -30.0  # exactly: 100 * -3 / 10
    assert pd.isna(out.loc[("a", 0), "PCHG"])  # no change at baseline
    assert pd.isna(out.loc[("b", 6), "PCHG"])  # a baseline of 0 has no percent change
    assert out.loc[("c", 6), "PCHG"] == pytest.approx(-600 / 21)
    assert pd.isna(out.loc[("d", 6), "PCHG"])  # no baseline record
    # every PCHG a 0-27 subscale can give is exact at -30 where 30% is a whole number
    for base in range(1, 28):
        for aval in range(0, 28):
            frame = pd.DataFrame({"CHG": [aval - base], "BASE": [base]})
            pchg = float(derive_var_pchg(frame)["PCHG"].iloc[0])
            assert (pchg <= -30) == (10 * aval <= 7 * base), (base, aval)


def test_pchg_as_delivered_is_used_and_checked():
    scores = pd.DataFrame({
        "USUBJID": ["a", "a", "b", "b"], "PARAMCD": "X", "AVISITN": [0, 6, 0, 6],
        "AVAL": [10, 7, 20, 10], "PCHG": [np.nan, -30.0, np.nan, -40.0], "SRCROW": [2, 3, 4, 5],
    })
    out, checks = derive_efficacy_as_delivered(scores, {"X": 0})
    assert out.loc[out["SRCROW"] == 5, "PCHG"].iloc[0] == -40.0  # as delivered
    assert checks["check"].tolist() == ["PCHG"]  # -40 against the derived -50
    assert checks["derived"].iloc[0] == -50.0


# --- responder rules -------------------------------------------------------------------------


def _frame(base, aval, visit=6):
    return pd.DataFrame({"AVISITN": visit, "AVAL": aval, "BASE": base})


@pytest.mark.parametrize(
    ("base", "aval", "le", "lt"),
    [(10, 7, 1.0, 0.0),     # exactly -30%: responds under <=, not under <
     (10, 8, 0.0, 0.0),     # -20%: one point short
     (10, 6, 1.0, 1.0),     # -40%: one point past
     (21, 15, 0.0, 0.0),    # -28.6%
     (21, 14, 1.0, 1.0),    # -33.3%
     (20, 14, 1.0, 0.0)],   # exactly -30% again
)
def test_pchg_rule_at_the_edge_and_one_step_past(base, aval, le, lt):
    frame = _frame([base], [aval])
    rule = {"variable": "PCHG", "operator": "<=", "threshold": -30}
    assert responder_flags(frame, rule, 0).iloc[0] == le
    assert responder_flags(frame, rule | {"operator": "<"}, 0).iloc[0] == lt


def test_pchg_rule_not_evaluable_at_baseline_or_from_a_zero_baseline():
    rule = {"variable": "PCHG", "operator": "<=", "threshold": -30}
    assert math.isnan(responder_flags(_frame([10], [5], visit=0), rule, 0).iloc[0])
    assert math.isnan(responder_flags(_frame([0], [0]), rule, 0).iloc[0])
    assert math.isnan(responder_flags(_frame([10], [np.nan]), rule, 0).iloc[0])


def test_category_rule_in_values():
    frame = pd.DataFrame({"AVISITN": 6, "AVAL": [1, 2, 3, 7, np.nan]})
    rule = {"variable": "AVAL", "operator": "in", "values": [1, 2]}
    got = responder_flags(frame, rule, None)
    assert got.tolist()[:4] == [1.0, 1.0, 0.0, 0.0] and math.isnan(got.iloc[4])
    assert rule_text(rule) == "AVAL in {1, 2}"
    assert rule_text({"variable": "PCHG", "operator": "<=", "threshold": -30}) == "PCHG <= -30"


def test_schema_takes_in_with_values_and_refuses_mixtures(config: dict):
    good = copy.deepcopy(config)
    validate(good, SCHEMA)  # the shipped SAGA entry uses both forms
    for bad_rule, fragment in (
            ({"variable": "AVAL", "operator": "in", "threshold": 2}, "values"),
            ({"variable": "AVAL", "operator": "<=", "values": [1, 2]}, "threshold"),
            ({"variable": "PCHG", "operator": "<=", "threshold": -30, "missing": "lost"},
             "lost")):
        broken = copy.deepcopy(config)
        broken["trials"]["fasoracetam_saga"]["analyses"]["responders"]["CGII"] = bad_rule
        with pytest.raises(WorkflowError, match=fragment):
            validate(broken, SCHEMA)


# --- between-arm rates ---------------------------------------------------------------------

# Drug: 10 in the efficacy population: 6 respond (-30% or better), 2 do not, one has no
# week-6 record, one a missing week-6 rating; plus one responder outside the efficacy
# population (EFFFL = N), who must not count. Placebo: 10: 3 respond, 6 do not, 1 has no
# week-6 record.
DRUG = [(10, 7)] * 6 + [(10, 8)] * 2 + [(10, None), (10, np.nan)]
PLACEBO = [(10, 5)] * 3 + [(20, 15)] * 6 + [(10, None)]


def _two_arm(missing: str):
    rows, subjects = [], []
    for arm, cases in (("Drug", DRUG + [(10, 1)]), ("Placebo", PLACEBO)):
        for i, (base, week6) in enumerate(cases):
            sid = f"{arm}-{i:02d}"
            efffl = "N" if arm == "Drug" and i == len(cases) - 1 else "Y"
            subjects.append({"USUBJID": sid, "TRT01P": arm, "SAFFL": "Y", "EFFFL": efffl})
            rows.append({"USUBJID": sid, "PARAMCD": "IA", "AVISITN": 0, "AVAL": base})
            if week6 is not None:
                rows.append({"USUBJID": sid, "PARAMCD": "IA", "AVISITN": 6, "AVAL": week6})
    config = {
        "design": {
            "visits": [{"name": "Baseline", "number": 0}, {"name": "Week 6", "number": 6}],
            "parameters": {"IA": {"label": "IA", "min": 0, "max": 27, "integer": True,
                                  "baseline_visit": 0, "comparison_visit": 6}},
        },
        "analyses": {
            "responders": {"IA": {"variable": "PCHG", "operator": "<=", "threshold": -30,
                                  "missing": missing}},
            "parallel": {"reference_arm": "Placebo"},
        },
    }
    scores = derive_efficacy(pd.DataFrame(rows), {"IA": 0})
    return config, pd.DataFrame(subjects), scores


def _rows(ard, **where):
    rows = ard[ard["analysis"] == "responders_between_arms"]
    for k, v in where.items():
        rows = rows[rows[k] == v]
    return rows.set_index("statistic")["value"]


@pytest.mark.parametrize(("missing", "drug", "placebo"),
                         [("exclude", (6, 8), (3, 9)), ("non_responder", (6, 10), (3, 10))])
def test_rates_per_arm_by_hand_count(missing, drug, placebo):
    config, subjects, scores = _two_arm(missing)
    ard = build_ard("t", config, subjects, scores, None)
    for arm, (k, n), n_missing in (("Drug", drug, 2), ("Placebo", placebo, 1)):
        got = _rows(ard, group=arm, method="count")
        assert (got["n_responders"], got["n"], got["n_missing"]) == (k, n, n_missing)
        assert got["percent"] == pytest.approx(100 * k / n)
    aset = set(ard.loc[ard["analysis"] == "responders_between_arms", "analysis_set"])
    assert len(aset) == 1
    assert ("missing response counted as non-response" in aset.pop()) == (
        missing == "non_responder")


@pytest.mark.parametrize(("missing", "table"),
                         [("exclude", [[6, 2], [3, 6]]), ("non_responder", [[6, 4], [3, 7]])])
def test_between_arm_tests_equal_scipy_on_the_hand_table(missing, table):
    config, subjects, scores = _two_arm(missing)
    ard = build_ard("t", config, subjects, scores, None)
    t = np.array(table)
    between = "Drug vs Placebo"
    pearson = _rows(ard, group=between, method="chi_square_pearson")
    yates = _rows(ard, group=between, method="chi_square_yates")
    fisher = _rows(ard, group=between, method="fisher_exact")
    chi2, p, dof, _ = sps.chi2_contingency(t, correction=False)
    assert (pearson["statistic"], pearson["p_value"], pearson["df"]) == pytest.approx(
        (chi2, p, dof))
    chi2_y, p_y, _, _ = sps.chi2_contingency(t, correction=True)
    assert (yates["statistic"], yates["p_value"]) == pytest.approx((chi2_y, p_y))
    assert fisher["p_value"] == pytest.approx(sps.fisher_exact(t)[1])
    # and Pearson's and Yates' statistics by their formulas, written out here
    n = t.sum()
    expected = np.outer(t.sum(axis=1), t.sum(axis=0)) / n
    assert pearson["statistic"] == pytest.approx(((t - expected) ** 2 / expected).sum())
    dev = np.maximum(np.abs(t - expected) - 0.5, 0)
    assert yates["statistic"] == pytest.approx((dev ** 2 / expected).sum())
    assert pearson["p_value"] == pytest.approx(sps.chi2.sf(pearson["statistic"], 1))
    # Fisher's two-sided p by enumerating the tables with the same margins: the sum of the
    # hypergeometric probabilities no larger than the observed one
    (a, b), (c, d) = t
    r1, r2, c1 = a + b, c + d, a + c

    def prob(x):
        return math.comb(r1, x) * math.comb(r2, c1 - x) / math.comb(r1 + r2, c1)

    observed = prob(a)
    support = range(max(0, c1 - r2), min(r1, c1) + 1)
    by_hand = sum(prob(x) for x in support if prob(x) <= observed * (1 + 1e-7))
    assert fisher["p_value"] == pytest.approx(by_hand)


def test_new_rows_fit_the_ard_columns():
    config, subjects, scores = _two_arm("non_responder")
    ard = build_ard("t", config, subjects, scores, None)
    assert list(ard.columns) == ARD_COLUMNS
    rows = ard[ard["analysis"] == "responders_between_arms"]
    assert set(rows["method"]) == {"count", "chi_square_pearson", "chi_square_yates",
                                   "fisher_exact", "newcombe_hybrid_score"}
    assert (rows["parameter"] == "IA").all() and (rows["visitn"] == 6).all()


# --- the published primary endpoint in words -------------------------------------------------


@pytest.mark.parametrize(("p", "published", "status"),
                         [(0.05, "not met", "match"), (0.0499, "not met", "mismatch"),
                          (0.0499, "met", "match"), (0.05, "met", "mismatch"),
                          (0.2, "no difference", "match")])
def test_qualitative_target_on_any_p_value(p, published, status):
    ard = pd.DataFrame([{"trial": "t", "analysis": "ancova", "analysis_set": "",
                         "method": "ancova_ols", "parameter": "X", "visit": "W6",
                         "visitn": 6.0, "group": "A vs P", "statistic": "p_value",
                         "value": p}], columns=ARD_COLUMNS)
    trial = Trial.parse("t", {
        "design": {"visits": [{"name": "W6", "number": 6}],
                   "parameters": {"X": {"label": "X", "baseline_visit": 0,
                                        "comparison_visit": 6}}},
        "reproduction": {"targets": [{"id": "primary", "description": "primary",
                                      "analysis": "ancova", "parameter": "X",
                                      "statistic": "p_value", "alpha": 0.05,
                                      "published": published}]}})
    row = reproduce(ard, trial).iloc[0]
    assert row["status"] == status
    assert "rule:" in row["source"]


def test_report_table_shows_the_ard_rates_with_arms_as_columns():
    from trialreport.report.markdown import estimate_ci, p_cell
    from trialreport.report.results import Results
    from trialreport.report.sections.responders import responders_by_arm_tables
    from trialreport.stats.proportions import newcombe_difference

    config, subjects, scores = _two_arm("non_responder")
    ard = build_ard("t", config, subjects, scores, None)
    r = Results("t", config, ard, pd.DataFrame(), pd.DataFrame(), {})
    [(heading, table)] = responders_by_arm_tables(r)
    assert "PCHG <= -30" in heading and "counted as non-response" in heading
    assert [c.split(" (N = ")[0] for c in table.columns] == ["Statistic", "Placebo", "Drug"]
    table.columns = [c.split(" (N = ")[0] for c in table.columns]  # reference arm first
    rows = table.set_index("Statistic")
    assert rows.loc["Responders, n/N (%)", "Drug"] == "6/10 (60.0)"
    assert rows.loc["Responders, n/N (%)", "Placebo"] == "3/10 (30.0)"
    assert rows.loc["No evaluable response, n", "Drug"] == "2"
    p = sps.chi2_contingency(np.array([[6, 4], [3, 7]]), correction=False)[1]
    pearson = rows.loc["P value, Pearson's chi-square (no continuity correction)"]
    assert pearson["Drug"] == p_cell(p) and pearson["Placebo"] == ""
    diff = newcombe_difference(6, 10, 3, 10)
    shown = rows.loc["Difference vs Placebo, percentage points (95% CI, Newcombe)"]
    assert shown["Drug"] == estimate_ci(100 * diff["diff"], 100 * diff["ci_low"],
                                        100 * diff["ci_high"], 1)
    single = Results("t", config, ard[ard["analysis"] != "responders_between_arms"],
                        pd.DataFrame(), pd.DataFrame(), {})
    assert responders_by_arm_tables(single) == []


def test_a_change_rule_on_a_parameter_without_baseline_is_refused_naming_the_key():
    from trialreport.common.config import AnalysisConfigError

    config, subjects, scores = _two_arm("exclude")
    config["design"]["parameters"]["IA"]["baseline_visit"] = None
    with pytest.raises(AnalysisConfigError, match=r"analyses\.responders\.IA: variable PCHG"):
        build_ard("t", config, subjects, scores, None)
