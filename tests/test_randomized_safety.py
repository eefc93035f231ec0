"""Safety and demographic tables by design: a randomized trial's AE rates per arm with rate
ratios against the reference arm (checked against scipy and statsmodels), dose summaries
over subjects on active treatment, relationship wording where an arm is placebo, coded
values in words, ordered categories in their order, labels that say what a baseline value
is, and demographics on the population the config names."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import safety_fixture as fx
import yaml
from scipy import stats as sps
from statsmodels.stats import rates as sm_rates

from trialreport.analyse.safety import build_safety_ard
from trialreport.analyse.subjects import order_levels
from trialreport.common.config import AnalysisConfigError, Trial
from trialreport.tables.display import (
    SPECS_BY_NAME,
    as_words,
    baseline_label,
    build_tables,
    placebo_arms,
    population_words,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["trials"]


def value(ard: pd.DataFrame, analysis: str, parameter: str, group: str,
          statistic: str) -> float:
    rows = ard[(ard["analysis"] == analysis) & (ard["parameter"] == parameter)
               & (ard["group"] == group) & (ard["statistic"] == statistic)]
    assert len(rows) == 1, (analysis, parameter, group, statistic, len(rows))
    return float(rows["value"].iloc[0])


def exact_ratio_ci(events: int, weeks: float, ref_events: int, ref_weeks: float,
                   ) -> tuple[float, float]:
    """The exact conditional interval of a rate ratio, from scipy: given the total, the
    arm's events are binomial with share weeks * RR / (weeks * RR + ref_weeks); the
    Clopper-Pearson interval of that share, turned back into a ratio."""
    ci = sps.binomtest(events, events + ref_events).proportion_ci(0.95, method="exact")
    return tuple(p / (1 - p) * ref_weeks / weeks for p in (ci.low, ci.high))


# -- a randomized trial: rates per arm, rate ratio against the reference arm -----------------


@pytest.fixture(scope="module")
def fixture_ard() -> pd.DataFrame:
    trial = dict(fx.TRIAL, analyses={"parallel": {"reference_arm": "Arm C"}})
    return build_safety_ard("fixture", trial, fx.subjects(), fx.adverse_events(),
                            fx.exposure(), fx.efficacy())


def test_rate_ratio_against_the_reference_arm_by_scipy_and_statsmodels(fixture_ard):
    # TEAEs: A 5 over 82 days, B 4 over 56, C (reference) 5 over 112 (tests/safety_fixture.py)
    for arm, events, days in (("Arm A", 5, 82), ("Arm B", 4, 56)):
        group = f"{arm} vs Arm C"
        ratio = (events / (days / 7)) / (5 / 16)
        assert value(fixture_ard, "ae_rates", "TEAE", group, "rate_ratio") == \
            pytest.approx(ratio, rel=1e-12)
        low, high = exact_ratio_ci(events, days / 7, 5, 16)
        assert value(fixture_ard, "ae_rates", "TEAE", group, "ci_low") == \
            pytest.approx(low, rel=1e-9)
        assert value(fixture_ard, "ae_rates", "TEAE", group, "ci_high") == \
            pytest.approx(high, rel=1e-9)
        theirs = sm_rates.test_poisson_2indep(events, days / 7, 5, 16, method="exact-cond")
        assert value(fixture_ard, "ae_rates", "TEAE", group, "p_value") == \
            pytest.approx(theirs.pvalue, rel=1e-12)
    # the reference arm is not compared with itself, and nothing is pooled
    groups = set(fixture_ard.loc[fixture_ard["analysis"] == "ae_rates", "group"])
    assert groups == {"Arm A", "Arm B", "Arm C", "Arm A vs Arm C", "Arm B vs Arm C"}


def test_rate_table_shows_each_arm_and_the_reference(fixture_ard):
    trial = dict(fx.TRIAL, analyses={"parallel": {"reference_arm": "Arm C"}})
    t = build_tables(fixture_ard, trial)["ae_periods"]
    assert t["Arm"].tolist() == ["Arm C", "Arm A", "Arm B"]  # the reference arm first
    column = "Rate ratio vs Arm C [95% CI]"
    low, high = exact_ratio_ci(5, 82 / 7, 5, 16)
    ratio = (5 / (82 / 7)) / (5 / 16)
    assert t[column].tolist()[0] == "reference"
    assert t[column].tolist()[1] == f"{ratio:.2f} [{low:.2f}, {high:.2f}]"
    # 5 / 16 = 0.3125 (rounded half up), 5 / (82 / 7) = 0.4268, 4 / 8
    assert t["Events per subject-week"].tolist() == ["0.313", "0.427", "0.500"]


def _saga() -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    root = ROOT / "data" / "fasoracetam_saga"
    subjects = pd.read_csv(root / "subjects.csv", dtype=str, keep_default_na=False,
                           na_values=[""]).astype({"AGE": int})
    ae = pd.read_csv(root / "adverse_events.csv").assign(APHASE="STUDY")
    ae = ae.astype({"USUBJID": "string", "AESEV": "string", "AEREL": "string"})
    exposure = pd.read_csv(root / "exposure.csv").assign(APHASE="STUDY")
    return CONFIG["fasoracetam_saga"], subjects, ae, exposure


@pytest.fixture(scope="module")
def saga():
    trial, subjects, ae, exposure = _saga()
    return trial, subjects, ae, exposure, build_safety_ard("saga", trial, subjects, ae,
                                                           exposure)


def test_saga_rates_per_arm_counted_from_the_csv(saga):
    """Every number straight from the CSV rows: treatment-emergent (onset on or after the
    first dose) events of the safety population, exposure days of its records."""
    trial, subjects, ae, exposure, ard = saga
    safe = subjects[subjects["SAFFL"] == "Y"]
    first = exposure.groupby("USUBJID")["EXSTDY"].min()
    te = ae[ae["USUBJID"].isin(safe["USUBJID"])
            & (ae["ASTDY"].isna() | (ae["ASTDY"] >= ae["USUBJID"].map(first)))]
    counts, weeks = {}, {}
    for arm in ("Placebo", "Fasoracetam"):
        ids = set(safe.loc[safe["TRT01P"] == arm, "USUBJID"])
        counts[arm] = int(te["USUBJID"].isin(ids).sum())
        ex = exposure[exposure["USUBJID"].isin(ids)]
        weeks[arm] = float((ex["EXENDY"] - ex["EXSTDY"] + 1).sum()) / 7
        assert value(ard, "ae_rates", "TEAE", arm, "n_events") == counts[arm]
        assert value(ard, "ae_rates", "TEAE", arm, "subject_weeks") == pytest.approx(weeks[arm])
    group = "Fasoracetam vs Placebo"
    low, high = exact_ratio_ci(counts["Fasoracetam"], weeks["Fasoracetam"],
                               counts["Placebo"], weeks["Placebo"])
    ratio = counts["Fasoracetam"] / weeks["Fasoracetam"] / (counts["Placebo"]
                                                          / weeks["Placebo"])
    assert value(ard, "ae_rates", "TEAE", group, "rate_ratio") == pytest.approx(ratio)
    assert value(ard, "ae_rates", "TEAE", group, "ci_low") == pytest.approx(low)
    assert value(ard, "ae_rates", "TEAE", group, "ci_high") == pytest.approx(high)
    assert not (ard["analysis"] == "ae_periods").any()  # no pooled "Whole study" row


def test_saga_tables_have_no_pooled_column_no_period_note_and_placebo_wording(saga):
    trial, *_, ard = saga
    tables = build_tables(ard, trial)
    rates = tables["ae_periods"]
    assert rates["Arm"].tolist() == ["Placebo", "Fasoracetam"]
    assert "Whole study" not in rates.to_csv()
    assert rates["Rate ratio vs Placebo [95% CI]"].tolist()[0] == "reference"
    spec = SPECS_BY_NAME["ae_periods"]
    assert "first period" not in spec.note_for(with_periods=False)
    assert "reference arm" in spec.note_for(with_periods=False)
    assert "by arm" in spec.title_for(with_periods=False)
    # the single-arm trial with periods keeps its period comparison and note
    assert "first period" in spec.note_for(with_periods=True)
    assert "by period" in spec.title_for(with_periods=True)
    # the placebo column's relationship is to placebo, not to the study drug
    overview = tables["ae_overview"]
    assert "  related to study drug" not in overview["Category"].tolist()
    assert "  related to study treatment (placebo or study drug)" in \
        overview["Category"].tolist()
    assert "Relationship to study treatment" in tables["ae_relationship"].columns


def test_without_exposure_data_a_placebo_arm_is_known_by_its_name():
    assert placebo_arms(None, ["Placebo", "Drug 10 mg", "Total"]) == ["Placebo"]
    assert placebo_arms(None, ["Low dose", "High dose"]) == []


def test_a_trial_of_active_arms_only_keeps_study_drug_wording(fixture_ard):
    subjects = fx.subjects()
    subjects = subjects[subjects["TRT01P"] != "Arm C"]
    ard = build_safety_ard("active", fx.TRIAL, subjects, fx.adverse_events(), fx.exposure())
    overview = build_tables(ard, fx.TRIAL)["ae_overview"]
    assert "  related to study drug" in overview["Category"].tolist()


# -- dose summaries over subjects on active treatment ---------------------------------------


def test_saga_dose_summary_over_active_treatment_subjects_only(saga):
    trial, subjects, _, exposure, ard = saga
    safe = subjects[subjects["SAFFL"] == "Y"]
    top = exposure.groupby("USUBJID")["EXDOSE"].max().reindex(safe["USUBJID"])
    active = top[top > 0]
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "n") == len(active) == 47
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "median") == active.median()
    assert value(ard, "dose_exposure", "MAXDOSE", "Total", "mean") == \
        pytest.approx(active.mean())
    assert value(ard, "dose_exposure", "MAXDOSE", "Placebo", "n") == 0
    table = build_tables(ard, trial)["exposure"]
    assert table["Characteristic"].iloc[0] == \
        "Highest dose reached (mg BID), subjects on active treatment"
    assert table.iloc[0]["Placebo (N = 50)"] == "0"
    assert table.iloc[0]["Total (N = 97)"] == "47"
    # placebo-only subjects still counted, in the 0 (placebo) row
    zero = table[table["Statistic"] == "0 (placebo), n (%)"]
    assert zero["Placebo (N = 50)"].tolist() == ["50 (100.0)"]


# -- coded values in words; ordered categories --------------------------------------------


def test_coded_values_in_words_and_the_label_map():
    assert as_words("LACK OF EFFICACY") == "Lack of efficacy"
    assert as_words("LOST TO FOLLOW-UP") == "Lost to follow-up"
    assert as_words("Tier 1") == "Tier 1"  # already words
    assert as_words("400") == "400"
    assert as_words("ADVERSE EVENT", {"ADVERSE EVENT": "Adverse event (AE)"}) == \
        "Adverse event (AE)"


def test_race_keeps_proper_names_in_capitals():
    subjects = fx.subjects()
    subjects.loc[subjects["USUBJID"] == "A1", "RACE"] = "BLACK OR AFRICAN AMERICAN"
    ard = build_safety_ard("fixture", fx.TRIAL, subjects, fx.adverse_events(), fx.exposure())
    shown = build_tables(ard, fx.TRIAL)["demographics"]["Statistic"].tolist()
    assert "Black or African American, n (%)" in shown
    assert "Asian, n (%)" in shown


def test_disposition_reasons_in_words_and_from_the_config_map():
    trial = dict(fx.TRIAL, tables={"labels": {"DCSREAS": {
        "WITHDRAWAL BY SUBJECT": "Withdrawal by subject or guardian"}}})
    ard = build_safety_ard("fixture", trial, fx.subjects(), fx.adverse_events(),
                           fx.exposure(), fx.efficacy())
    status = build_tables(ard, trial)["disposition"]["Status"].tolist()
    assert "  Lack of efficacy" in status and "  Adverse event" in status
    assert "  Withdrawal by subject or guardian" in status
    assert not any(s.strip().isupper() for s in status)


@pytest.mark.parametrize(("levels", "expected"), [
    (["65-80", "<65", ">80"], ["<65", "65-80", ">80"]),
    ([">=80", "<=64", "65-79"], ["<=64", "65-79", ">=80"]),
    (["80+", "12-17 years", "18-64 years", "65-79"], ["12-17 years", "18-64 years",
                                                       "65-79", "80+"]),
    (["400", "50", "100", "0"], ["0", "50", "100", "400"]),
    (["Tier 2", "Tier 10", "Tier 1"], ["Tier 1", "Tier 10", "Tier 2"]),  # not numbers: name
])
def test_ordered_categories_by_lower_bound(levels, expected):
    assert order_levels(levels) == expected


def test_ordered_categories_in_the_configured_order_in_the_table():
    subjects = fx.subjects()
    groups = {"A1": "<65", "A2": "65-80", "A3": ">80", "B1": "65-80", "B2": "<65",
              "B3": ">80", "C1": ">80", "C2": "65-80", "C3": "<65", "C4": "65-80"}
    subjects["AGEGR1"] = subjects["USUBJID"].map(groups)
    design = dict(fx.TRIAL["design"], covariates=[{"name": "AGEGR1", "label": "Age group"}])
    for tables, expected in (({}, ["<65", "65-80", ">80"]),
                             ({"order": {"AGEGR1": [">80", "65-80", "<65"]}},
                              [">80", "65-80", "<65"])):
        trial = dict(fx.TRIAL, design=design, tables=tables)
        ard = build_safety_ard("fixture", trial, subjects, fx.adverse_events(),
                               fx.exposure())
        t = build_tables(ard, trial)["demographics"]
        start = t.index[t["Characteristic"] == "Age group"][0]
        shown = t["Statistic"].iloc[start:start + 3].str.removesuffix(", n (%)").tolist()
        assert shown == expected


# -- what a baseline value is -----------------------------------------------------------------


def test_nfc1_week1_cgii_is_not_called_a_baseline():
    trial = Trial.parse("fasoracetam_nfc1", CONFIG["fasoracetam_nfc1"])
    assert baseline_label(trial, "CGII") == "CGI-I at Week 1 (baseline of the change)"
    assert baseline_label(trial, "CGIS") == "CGI-S at baseline"


def test_baseline_wording_follows_the_config_not_the_trial():
    entry = CONFIG["fasoracetam_nfc1"]
    design = dict(entry["design"])
    params = {k: dict(v) for k, v in design["parameters"].items()}
    params["CGIS"]["baseline_visit"] = 1  # a severity rating at the end of a run-in
    params["CGII"]["baseline_visit"] = 0
    params["CGII"]["rates_change"] = True  # a rating of change at the first visit
    trial = Trial.parse("x", dict(entry, design=dict(design, parameters=params)))
    assert baseline_label(trial, "CGIS") == "CGI-S at Week 1 (baseline of the change)"
    assert baseline_label(trial, "CGII") == "CGI-I at Baseline (baseline of the change)"
    params["CGII"]["rates_change"] = False  # a state at the first visit: a baseline
    trial = Trial.parse("x", dict(entry, design=dict(design, parameters=params)))
    assert baseline_label(trial, "CGII") == "CGI-I at baseline"


# -- demographics on the population the config names -----------------------------------------


def test_demographics_default_is_every_randomized_subject():
    ard = build_safety_ard("fixture", fx.TRIAL, fx.subjects(), fx.adverse_events(),
                           fx.exposure(), fx.efficacy())
    # B3 (age 60) was randomized but never treated: in, though not in the safety set
    assert value(ard, "baseline", "", "Arm B", "N") == 3
    assert value(ard, "baseline", "AGE", "Arm B", "max") == 60
    assert value(ard, "baseline", "AGE", "Total", "n") == 10
    assert set(ard.loc[ard["analysis"] == "baseline", "analysis_set"]) <= {
        "randomized", "randomized, with a baseline rating"}
    assert population_words("randomized") == "all randomized subjects"
    spec = SPECS_BY_NAME["demographics"]
    trial = Trial.parse("fixture", fx.TRIAL)
    assert spec.title_for(False, trial) == \
        "Demographics and baseline characteristics: all randomized subjects"


def test_demographics_population_from_the_config_and_randfl():
    subjects = fx.subjects()
    subjects["RANDFL"] = ["Y"] * 9 + ["N"]  # C4 screened, not randomized
    ard = build_safety_ard("fixture", fx.TRIAL, subjects, fx.adverse_events(), fx.exposure())
    assert value(ard, "baseline", "", "Total", "N") == 9
    assert value(ard, "baseline", "", "Arm C", "N") == 3
    trial = dict(fx.TRIAL, tables={"demographics_population": "safety"})
    ard = build_safety_ard("fixture", trial, subjects, fx.adverse_events(), fx.exposure())
    assert value(ard, "baseline", "", "Arm B", "N") == 2
    assert value(ard, "baseline", "", "Arm C", "N") == 4
    assert population_words("safety") == "safety population (SAFFL = Y)"
    assert population_words("randomized", single_arm=True).startswith("all enrolled")


def test_an_unknown_population_is_refused_naming_the_config_key():
    trial = dict(fx.TRIAL, tables={"demographics_population": "ITTFL"})
    with pytest.raises(AnalysisConfigError, match=r"tables\.demographics_population.*ITTFL"):
        build_safety_ard("fixture", trial, fx.subjects(), fx.adverse_events(), fx.exposure())


def test_a_single_arm_trial_without_periods_shows_its_arm_not_a_whole_study_row():
    subjects = fx.subjects()
    subjects["TRT01P"] = "Drug"
    trial = {"design": {k: v for k, v in fx.TRIAL["design"].items() if k != "periods"}}
    ard = build_safety_ard("one", trial, subjects, fx.adverse_events(), fx.exposure())
    t = build_tables(ard, trial)["ae_periods"]
    assert t["Arm"].tolist() == ["Drug"]
    assert not any(c.startswith(("Rate ratio", "P ")) for c in t.columns)  # nothing compared
    assert value(ard, "ae_rates", "TEAE", "Drug", "subject_weeks") == pytest.approx(250 / 7)
    assert value(ard, "ae_rates", "TEAE", "Drug", "n_events") == 14


def test_no_rate_ratio_where_exposure_time_is_unknown():
    # open exposure records and no last study day: exposure days are not known, so there is
    # no rate and no ratio (never a ratio computed on missing time)
    exposure = fx.exposure().assign(EXENDY=math.nan)
    design = {k: v for k, v in fx.TRIAL["design"].items() if k != "periods"}
    trial = {"design": design, "analyses": {"parallel": {"reference_arm": "Arm C"}}}
    ard = build_safety_ard("open", trial, fx.subjects(), fx.adverse_events(), exposure)
    assert math.isnan(value(ard, "ae_rates", "TEAE", "Arm A", "events_per_subject_week"))
    assert not ((ard["analysis"] == "ae_rates") & (ard["statistic"] == "p_value")).any()


# -- rates at their edges: no reference event, no event, unknown exposure, another level ----


def _rates(ae: pd.DataFrame, exposure: pd.DataFrame | None = None,
           confidence: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    analyses = {"parallel": {"reference_arm": "Arm C"}}
    if confidence is not None:
        analyses["paired"] = {"confidence": confidence}
    trial = dict(fx.TRIAL, analyses=analyses)
    ard = build_safety_ard("fixture", trial, fx.subjects(), ae,
                           fx.exposure() if exposure is None else exposure, fx.efficacy())
    return ard, build_tables(ard, trial)["ae_periods"].set_index("Arm")


def test_a_reference_arm_without_events_gives_an_unbounded_interval_not_a_crash():
    ae = fx.adverse_events()
    ids = set(fx.subjects().query("TRT01P == 'Arm C'")["USUBJID"])
    ard, t = _rates(ae[~ae["USUBJID"].isin(ids)])
    assert value(ard, "ae_rates", "TEAE", "Arm A vs Arm C", "ci_high") == math.inf
    cell = t.loc["Arm A", "Rate ratio vs Arm C [95% CI]"]
    share = sps.binomtest(5, 5).proportion_ci(0.95, method="exact").low
    low = share / (1 - share) * 16 / (82 / 7)  # the lower limit; the upper is unbounded
    assert cell == f"NE [{low:.2f}, ∞]", cell  # not estimable: 0 events in the denominator
    assert t.loc["Arm C", "Events per subject-week"] == "0.000"


def test_no_event_at_all_leaves_the_test_empty_not_nan():
    ae = fx.adverse_events()
    _, t = _rates(ae.iloc[0:0])
    assert (t["P (exact conditional)"] == "").all()
    assert "nan" not in t.to_string().lower()


def test_an_arm_whose_dosing_end_is_unknown_has_no_rate_and_no_comparison():
    ex = fx.exposure()
    arm_a = set(fx.subjects().query("TRT01P == 'Arm A'")["USUBJID"])
    first = ex.index[ex["USUBJID"].isin(arm_a)][0]
    # an open record that neither the data nor its period close (no period named)
    ex.loc[first, ["EXENDY", "APHASE"]] = pd.NA
    ard, t = _rates(fx.adverse_events(), ex)
    rows = ard[(ard["analysis"] == "ae_rates") & (ard["group"] == "Arm A")
               & ard["statistic"].isin(["exposure_days", "subject_weeks"])]
    assert rows["value"].isna().all()
    assert rows["method"].str.startswith("not collected: a dosing record").all()
    assert "Arm A vs Arm C" not in set(ard.loc[ard["analysis"] == "ae_rates", "group"])
    assert t.loc["Arm A", "Subject-weeks of exposure"] == "not collected"
    assert t.loc["Arm A", "Rate ratio vs Arm C [95% CI]"] == ""
    assert t.loc["Arm B", "Rate ratio vs Arm C [95% CI]"] != ""  # the other arm still is


def test_the_rate_interval_follows_the_trials_confidence_level():
    ard, t = _rates(fx.adverse_events(), confidence=0.90)
    ci = sps.binomtest(5, 10).proportion_ci(0.90, method="exact")
    low = ci.low / (1 - ci.low) * 16 / (82 / 7)
    assert value(ard, "ae_rates", "TEAE", "Arm A vs Arm C", "ci_low") == pytest.approx(
        low, rel=1e-9)
    assert "Rate ratio vs Arm C [90% CI]" in t.columns
