"""Safety derivations and counts against answers worked out by hand (tests/safety_fixture.py)
and, for the period test, against statsmodels and a hand-summed binomial."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import safety_fixture as fx
from scipy import stats as sps
from statsmodels.stats import rates as sm_rates

from trialreport.analyse.ard import ARD_COLUMNS
from trialreport.analyse.safety import (
    build_safety_ard,
    derive_var_relfl,
    derive_var_trtemfl,
    poisson_rate_comparison,
)

GI, NS, SK, CA = fx.GI, fx.NS, fx.SK, fx.CA
ARMS = ["Arm A", "Arm B", "Arm C", "Total"]


@pytest.fixture(scope="module")
def ard() -> pd.DataFrame:
    return build_safety_ard("fixture", fx.TRIAL, fx.subjects(), fx.adverse_events(),
                            fx.exposure(), fx.efficacy())


def value(ard: pd.DataFrame, analysis: str, parameter: str, group: str, statistic: str) -> float:
    rows = ard[(ard["analysis"] == analysis) & (ard["parameter"] == parameter)
               & (ard["group"] == group) & (ard["statistic"] == statistic)]
    assert len(rows) == 1, (analysis, parameter, group, statistic, len(rows))
    return float(rows["value"].iloc[0])


def row_of(ard, analysis, parameter, statistic):
    return [value(ard, analysis, parameter, g, statistic) for g in ARMS]


# -- derivations -----------------------------------------------------------------------------


def test_trtemfl_derived_from_first_dose_and_honoured_where_given():
    ae = derive_var_trtemfl(fx.adverse_events(), fx.exposure())
    flags = dict(zip(ae["USUBJID"] + ":" + ae["ASTDY"].astype(str), ae["TRTEMFL"],
                     strict=True))
    assert flags["A3:2"] == "N"  # onset day 2, first dose day 3
    assert flags["B3:3"] == "N"  # never dosed
    assert flags["C1:20"] == "N"  # given in the data, honoured although day 20 >= day 1
    assert flags["B1:1"] == "Y"  # onset on the day of the first dose
    assert flags["A1:9"] == "Y"
    assert (ae["TRTEMFL"] == "Y").sum() == 14  # 17 events less e6, e11, e13


def test_trtemfl_given_y_is_kept_even_before_first_dose():
    ae = fx.adverse_events()
    ae.loc[(ae["USUBJID"] == "A3"), "TRTEMFL"] = "Y"
    out = derive_var_trtemfl(ae, fx.exposure())
    assert out.loc[out["USUBJID"] == "A3", "TRTEMFL"].tolist() == ["Y"]


def test_trtemfl_derived_when_the_column_is_absent():
    ae = fx.adverse_events().drop(columns="TRTEMFL")
    out = derive_var_trtemfl(ae, fx.exposure())
    assert out.loc[out["USUBJID"] == "C1", "TRTEMFL"].tolist() == ["Y", "Y"]
    assert "TRTEMFL" not in ae.columns  # input left untouched


def test_relfl_possibly_probably_related_and_missing_count_as_related():
    ae = derive_var_relfl(fx.adverse_events())
    by_rel = dict(zip(ae["AEREL"].fillna("<missing>"), ae["RELFL"], strict=False))
    assert by_rel == {"NOT RELATED": "N", "UNLIKELY RELATED": "N", "POSSIBLY RELATED": "Y",
                      "PROBABLY RELATED": "Y", "RELATED": "Y", "<missing>": "Y"}


# -- the ARD ---------------------------------------------------------------------------------


def test_safety_ard_has_the_ard_columns(ard):
    assert ard.columns.tolist() == ARD_COLUMNS
    assert not ard.duplicated(["analysis", "parameter", "group", "statistic"]).any()


def test_denominators_are_the_safety_population_per_arm(ard):
    assert row_of(ard, "ae_overview", "", "N") == [3, 2, 4, 9]
    assert row_of(ard, "ae_soc_pt", "", "N") == [3, 2, 4, 9]
    assert row_of(ard, "disposition", "", "N") == [3, 3, 4, 10]  # enrolled


def test_ae_overview_by_hand(ard):
    expect = {  # parameter: (subjects per A, B, C, Total), (events per ...)
        "ANY": ([2, 2, 3, 7], [5, 4, 5, 14]),
        "RELATED": ([2, 1, 1, 4], [2, 2, 1, 5]),
        "SEVERE": ([1, 0, 0, 1], [1, 0, 0, 1]),
        "SERIOUS": ([1, 0, 0, 1], [1, 0, 0, 1]),
        "DISCONTINUATION": ([1, 0, 0, 1], [1, 0, 0, 1]),
    }
    for parameter, (subjects, events) in expect.items():
        assert row_of(ard, "ae_overview", parameter, "n_subjects") == subjects, parameter
        assert row_of(ard, "ae_overview", parameter, "n_events") == events, parameter
    assert row_of(ard, "ae_overview", "ANY", "pct_subjects") == pytest.approx(
        [200 / 3, 100.0, 75.0, 700 / 9])
    assert row_of(ard, "ae_overview", "RELATED", "pct_subjects") == pytest.approx(
        [200 / 3, 50.0, 25.0, 400 / 9])


SOC_PT = {  # parameter: subjects (A, B, C, Total), events (A, B, C, Total)
    "ANY": ([2, 2, 3, 7], [5, 4, 5, 14]),
    GI: ([2, 1, 1, 4], [2, 1, 2, 5]),
    f"{GI} / Nausea": ([2, 0, 1, 3], [2, 0, 1, 3]),
    f"{GI} / Vomiting": ([0, 1, 1, 2], [0, 1, 1, 2]),
    NS: ([1, 2, 1, 4], [3, 2, 1, 6]),
    f"{NS} / Dizziness": ([0, 2, 0, 2], [0, 2, 0, 2]),
    f"{NS} / Headache": ([1, 0, 1, 2], [3, 0, 1, 4]),
    SK: ([0, 1, 1, 2], [0, 1, 1, 2]),
    f"{SK} / Rash": ([0, 1, 1, 2], [0, 1, 1, 2]),
    CA: ([0, 0, 1, 1], [0, 0, 1, 1]),
    f"{CA} / Palpitations": ([0, 0, 1, 1], [0, 0, 1, 1]),
}


def test_soc_pt_subjects_once_per_term_and_class_events_every_time(ard):
    for parameter, (subjects, events) in SOC_PT.items():
        assert row_of(ard, "ae_soc_pt", parameter, "n_subjects") == subjects, parameter
        assert row_of(ard, "ae_soc_pt", parameter, "n_events") == events, parameter
    terms = set(ard.loc[ard["analysis"] == "ae_soc_pt", "parameter"]) - {""}
    assert terms == set(SOC_PT)  # excluded events (A3, B3, C1 day 20) add no term


def test_soc_pt_percentages(ard):
    assert row_of(ard, "ae_soc_pt", f"{NS} / Dizziness", "pct_subjects") == pytest.approx(
        [0.0, 100.0, 0.0, 200 / 9])
    assert row_of(ard, "ae_soc_pt", f"{GI} / Nausea", "pct_subjects") == pytest.approx(
        [200 / 3, 0.0, 25.0, 100 / 3])


SEVERITY = {  # parameter: {level: counts A, B, C, Total}; other levels all zero
    "ANY": {"MILD": [0, 1, 2, 3], "MODERATE": [1, 1, 1, 3], "SEVERE": [1, 0, 0, 1]},
    GI: {"Missing": [1, 0, 0, 1], "MILD": [0, 0, 1, 1], "MODERATE": [0, 1, 0, 1],
         "SEVERE": [1, 0, 0, 1]},
    f"{GI} / Nausea": {"Missing": [1, 0, 0, 1], "MILD": [0, 0, 1, 1], "SEVERE": [1, 0, 0, 1]},
    f"{NS} / Headache": {"MILD": [0, 0, 1, 1], "MODERATE": [1, 0, 0, 1]},
    f"{SK} / Rash": {"Missing": [0, 1, 0, 1], "MODERATE": [0, 0, 1, 1]},
}


def test_maximum_severity_per_subject_with_a_missing_row(ard):
    for parameter, levels in SEVERITY.items():
        for level in ("Missing", "MILD", "MODERATE", "SEVERE"):
            want = levels.get(level, [0, 0, 0, 0])
            assert row_of(ard, "ae_severity", parameter, f"n_{level}") == want, (parameter,
                                                                                 level)
    # A1: MILD, MODERATE, MILD headaches and a nausea of unknown severity -> MODERATE overall
    assert value(ard, "ae_severity", "ANY", "Arm A", "pct_MODERATE") == pytest.approx(100 / 3)


RELATIONSHIP = {  # parameter: (related, not related) per A, B, C, Total
    "ANY": ([2, 1, 1, 4], [0, 1, 2, 3]),
    f"{NS} / Headache": ([1, 0, 0, 1], [0, 0, 1, 1]),
    f"{GI} / Nausea": ([1, 0, 0, 1], [1, 0, 1, 2]),
    f"{SK} / Rash": ([0, 1, 1, 2], [0, 0, 0, 0]),  # B1's rash has no assessment: related
    f"{NS} / Dizziness": ([0, 1, 0, 1], [0, 1, 0, 1]),
}


def test_relationship_closest_per_subject(ard):
    for parameter, (related, not_related) in RELATIONSHIP.items():
        assert row_of(ard, "ae_relationship", parameter, "n_RELATED") == related, parameter
        assert row_of(ard, "ae_relationship", parameter, "n_NOT_RELATED") == not_related, \
            parameter


def test_baseline_characteristics_by_hand():
    # the safety population, named in the config (the default is every randomized subject)
    trial = dict(fx.TRIAL, tables={"demographics_population": "safety"})
    ard = build_safety_ard("fixture", trial, fx.subjects(), fx.adverse_events(),
                           fx.exposure(), fx.efficacy())
    assert row_of(ard, "baseline", "AGE", "mean") == pytest.approx([40, 22.5, 37.5, 35])
    assert row_of(ard, "baseline", "AGE", "sd") == pytest.approx(
        [10, math.sqrt(12.5), math.sqrt(125 / 3), math.sqrt(750 / 8)])
    assert row_of(ard, "baseline", "AGE", "median") == [40, 22.5, 37.5, 35]
    assert row_of(ard, "baseline", "AGE", "min") == [30, 20, 30, 20]
    assert row_of(ard, "baseline", "AGE", "max") == [50, 25, 45, 50]  # B3 (60) not safety
    assert row_of(ard, "baseline", "SEX", "n_F") == [2, 0, 3, 5]
    assert row_of(ard, "baseline", "SEX", "n_M") == [1, 2, 1, 4]
    assert row_of(ard, "baseline", "RACE", "n_ASIAN") == [1, 0, 1, 2]
    assert row_of(ard, "baseline", "RACE", "n_WHITE") == [2, 1, 3, 6]
    assert row_of(ard, "baseline", "RACE", "n_Missing") == [0, 1, 0, 1]
    assert row_of(ard, "baseline", "RACE", "pct_Missing") == pytest.approx([0, 50, 0, 100 / 9])
    assert row_of(ard, "baseline", "BASE_SCORE", "n") == [2, 2, 4, 8]  # A3 has none
    assert row_of(ard, "baseline", "BASE_SCORE", "mean") == pytest.approx([5, 6, 3.5, 4.5])


def test_disposition_by_hand(ard):
    assert row_of(ard, "disposition", "ENROLLED", "n") == [3, 3, 4, 10]
    assert row_of(ard, "disposition", "TREATED", "n") == [3, 2, 4, 9]
    assert row_of(ard, "disposition", "COMPLETED", "n") == [2, 1, 3, 6]
    assert row_of(ard, "disposition", "DISCONTINUED", "n") == [1, 2, 1, 4]
    assert row_of(ard, "disposition", "DISCONTINUED / ADVERSE EVENT", "n") == [1, 1, 0, 2]
    assert row_of(ard, "disposition", "DISCONTINUED / LACK OF EFFICACY", "n") == [0, 0, 1, 1]
    assert row_of(ard, "disposition", "DISCONTINUED / WITHDRAWAL BY SUBJECT", "n") == [
        0, 1, 0, 1]
    assert row_of(ard, "disposition", "DISCONTINUED", "pct") == pytest.approx(
        [100 / 3, 200 / 3, 25, 40])


def test_exposure_highest_dose_and_days_on_each_dose(ard):
    assert row_of(ard, "dose_exposure", "MAXDOSE", "n_0") == [0, 0, 4, 4]
    assert row_of(ard, "dose_exposure", "MAXDOSE", "n_10") == [2, 0, 0, 2]
    assert row_of(ard, "dose_exposure", "MAXDOSE", "n_20") == [1, 1, 0, 2]
    assert row_of(ard, "dose_exposure", "MAXDOSE", "n_40") == [0, 1, 0, 1]
    # the summary of the highest dose is over subjects on active treatment: Arm C (placebo
    # only) has none, and Total's median is of A 20, 10, 10 and B 20, 40, not of C's zeros
    assert row_of(ard, "dose_exposure", "MAXDOSE", "max")[:2] == [20, 40]
    assert row_of(ard, "dose_exposure", "MAXDOSE", "n") == [3, 2, 0, 5]
    assert math.isnan(value(ard, "dose_exposure", "MAXDOSE", "Arm C", "median"))
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "median") == 20
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "mean") == 20
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "min") == 10
    # A1 14 days at 10 and 14 at 20; A2 28 at 10; A3 26 at 10 (days 3-28); B1 28 at 20;
    # B2 7 at 20, 21 at 40; C 28 each at 0.
    assert row_of(ard, "dose_exposure", "DAYS_AT_DOSE 10", "subject_days") == [68, 0, 0, 68]
    assert row_of(ard, "dose_exposure", "DAYS_AT_DOSE 20", "subject_days") == [14, 35, 0, 49]
    assert row_of(ard, "dose_exposure", "DAYS_AT_DOSE 40", "subject_days") == [0, 21, 0, 21]
    assert row_of(ard, "dose_exposure", "DAYS_AT_DOSE 0", "subject_days") == [0, 0, 112, 112]
    assert value(ard, "dose_exposure", "DAYS_AT_DOSE 10", "Total", "median") == 26
    assert value(ard, "dose_exposure", "DAYS_AT_DOSE 10", "Total", "n") == 3
    assert math.isnan(value(ard, "dose_exposure", "DAYS_AT_DOSE 10", "Arm B", "mean"))


def test_rates_per_arm_in_subject_weeks(ard):
    # a trial of several arms: each arm on its own, never the arms pooled into one period.
    # Exposure days: 28+28+26 (A) + 28+28 (B) + 4*28 (C); TEAEs A e1-e5, B e7-e10,
    # C e12, e14-e17 (e6 before A3's first dose, e11 B3 not safety, e13 TRTEMFL = N)
    arms = ARMS[:3]
    assert [value(ard, "ae_rates", "TEAE", g, "exposure_days") for g in arms] == [82, 56, 112]
    assert [value(ard, "ae_rates", "TEAE", g, "n_events") for g in arms] == [5, 4, 5]
    assert [value(ard, "ae_rates", "TEAE", g, "n_subjects") for g in arms] == [2, 2, 3]
    assert value(ard, "ae_rates", "TEAE", "Arm B", "events_per_subject_week") == \
        pytest.approx(4 / 8)
    assert not (ard["analysis"] == "ae_periods").any()
    assert "Total" not in set(ard.loc[ard["analysis"] == "ae_rates", "group"])


def test_single_arm_trial_gets_period_columns():
    subjects = fx.subjects()
    subjects["TRT01P"] = "Drug"
    # split every exposure record at day 8: days 1-7 are period TREATMENT, 8-28 LATE
    ex = fx.exposure()
    early = ex[ex["EXSTDY"] < 8].assign(EXENDY=lambda f: f["EXENDY"].clip(upper=7))
    late = ex[ex["EXENDY"] >= 8].assign(EXSTDY=lambda f: f["EXSTDY"].clip(lower=8),
                                        APHASE="LATE")
    exposure = pd.concat([early, late], ignore_index=True)
    ae = fx.adverse_events()
    ae.loc[ae["ASTDY"].astype(int) >= 8, "APHASE"] = "LATE"
    trial = {"design": dict(fx.TRIAL["design"], periods=[
        {"name": "TREATMENT", "first_day": 1, "last_day": 7},
        {"name": "LATE", "first_day": 8, "last_day": 28}])}
    ard = build_safety_ard("one-arm", trial, subjects, ae, exposure)
    groups = ard.loc[(ard["analysis"] == "ae_overview") & (ard["statistic"] == "N"), "group"]
    # no arm column (it would count both periods under the drug's name), no Total
    assert groups.tolist() == ["TREATMENT", "LATE", "All periods"]
    # TE events on days 8+: e3 (A1 d9), e16 (C3 d10), e17 (C3 d12); all nine of the safety
    # population are exposed in both periods.
    assert value(ard, "ae_overview", "ANY", "LATE", "n_subjects") == 2
    assert value(ard, "ae_overview", "ANY", "LATE", "n_events") == 3
    assert value(ard, "ae_overview", "ANY", "TREATMENT", "n_events") == 11
    assert value(ard, "ae_overview", "", "LATE", "N") == 9
    assert value(ard, "ae_overview", "", "TREATMENT", "N") == 9
    assert value(ard, "ae_soc_pt", f"{SK} / Rash", "TREATMENT", "n_subjects") == 1  # B1 d6
    assert value(ard, "ae_soc_pt", f"{SK} / Rash", "LATE", "n_subjects") == 1  # C3 d10
    assert value(ard, "ae_soc_pt", f"{SK} / Rash", "All periods", "n_subjects") == 2


# -- the period test -------------------------------------------------------------------------


@pytest.mark.parametrize(("events", "exposure", "ref_events", "ref_exposure"),
                         [(16, 120, 3, 30), (10, 20, 2, 10), (20, 10, 5, 10), (1, 50, 9, 10)])
def test_period_test_matches_statsmodels_exact_conditional(events, exposure, ref_events,
                                                            ref_exposure):
    ours = poisson_rate_comparison(events, exposure, ref_events, ref_exposure)
    theirs = sm_rates.test_poisson_2indep(events, exposure, ref_events, ref_exposure,
                                 method="exact-cond")
    assert ours["p_value"] == pytest.approx(theirs.pvalue, rel=1e-12)
    assert ours["rate_ratio"] == pytest.approx(theirs.ratio)


def test_period_test_by_hand_binomial_sum():
    # equal exposure: 20 of 25 events in one period; under H0 X ~ Bin(25, 1/2), symmetric,
    # so two-sided P = 2 * P(X >= 20) = 2 * sum_{k=20}^{25} C(25, k) / 2^25.
    p = 2 * sum(math.comb(25, k) for k in range(20, 26)) / 2 ** 25
    assert poisson_rate_comparison(20, 10, 5, 10)["p_value"] == pytest.approx(p, rel=1e-12)


def test_period_test_interval_contains_the_ratio_and_inverts_clopper_pearson():
    out = poisson_rate_comparison(16, 120, 3, 30)
    assert out["rate_ratio"] == pytest.approx(4 / 3)
    assert out["ci_low"] < out["rate_ratio"] < out["ci_high"]
    # at the lower limit the one-sided exact P of 16 or more of 19 is alpha/2
    share = out["ci_low"] * 120 / (out["ci_low"] * 120 + 30)
    assert sps.binom.sf(15, 19, share) == pytest.approx(0.025, rel=1e-6)


def test_reference_trial_period_counts_against_the_csv():
    """The reference data: events per period counted straight from the CSV rows."""
    import csv
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "data" / "fasoracetam_nfc1"
    with open(root / "adverse_events.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    placebo = [r for r in rows if r["APHASE"] == "PLACEBO"]
    active = [r for r in rows if r["APHASE"] == "ACTIVE"]
    subjects = pd.read_csv(root / "subjects.csv", dtype=str)
    exposure = pd.read_csv(root / "exposure.csv")
    ae = pd.read_csv(root / "adverse_events.csv", dtype={"ASTDY": int}).astype(
        {"USUBJID": "string", "AESEV": "string", "AEREL": "string"})
    import yaml

    trial = yaml.safe_load((root.parents[1] / "config.yaml").read_text())["trials"][
        "fasoracetam_nfc1"]
    ard = build_safety_ard("nfc1", trial, subjects, ae, exposure)
    assert value(ard, "ae_periods", "TEAE", "PLACEBO", "n_events") == len(placebo) == 3
    assert value(ard, "ae_periods", "TEAE", "ACTIVE", "n_events") == len(active) == 16
    assert value(ard, "ae_periods", "TEAE", "ACTIVE", "n_subjects") == len(
        {r["USUBJID"] for r in active})
    assert value(ard, "ae_periods", "TEAE", "PLACEBO", "subject_weeks") == 30  # 30 x 7 days
    assert value(ard, "ae_periods", "TEAE", "ACTIVE", "subject_weeks") == 120  # 30 x 28 days
    p = value(ard, "ae_periods", "TEAE", "ACTIVE vs PLACEBO", "p_value")
    assert p == pytest.approx(
        sm_rates.test_poisson_2indep(16, 120, 3, 30, method="exact-cond").pvalue)


def test_trial_without_adverse_events_gives_zero_counts():
    ard = build_safety_ard("no-ae", fx.TRIAL, fx.subjects(), fx.adverse_events().iloc[0:0],
                           fx.exposure())
    assert row_of(ard, "ae_overview", "ANY", "n_subjects") == [0, 0, 0, 0]
    assert row_of(ard, "ae_soc_pt", "ANY", "n_events") == [0, 0, 0, 0]
    assert row_of(ard, "ae_severity", "ANY", "n_MILD") == [0, 0, 0, 0]
    assert set(ard.loc[ard["analysis"] == "ae_soc_pt", "parameter"]) == {"", "ANY"}
