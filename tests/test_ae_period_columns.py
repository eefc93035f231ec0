"""AE tables of a single-arm trial with periods: one column per period and All periods.

A column named for the drug would also count the events of a placebo period, so such a
trial's AE tables have no arm column. Checked on a hand-made one-arm trial (every count
worked out by hand below) and on the reference data against an independent pandas count
of data/fasoracetam_nfc1/adverse_events.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from trialreport.analyse.safety import build_safety_ard
from trialreport.common.config import as_trial
from trialreport.ingest.records import derive_period
from trialreport.tables.display import (
    STUDY_DRUG,
    STUDY_TREATMENT,
    ae_overview_table,
    ae_relationship_table,
    ae_severity_table,
    ae_soc_pt_table,
    build_tables,
)

ROOT = Path(__file__).resolve().parents[1]
NS = "Nervous system disorders"
ANY_TEAE = "Subjects with at least one TEAE"
RELATED_ROW = f"  related to {STUDY_TREATMENT}"
NO_PERIOD_ROW = "  in no period (no onset day; counted under All periods only)"

# One arm, "Drug"; placebo days 1-7 (dose 0 only), active days 8-28. S3 stops after the
# placebo week, so the active period has N = 2 (S1, S2) and the placebo period N = 3.
#   e1 S1 Headache  day 7  RELATED      last day of placebo -> PLACEBO
#   e2 S2 Headache  day 8  NOT RELATED  first active day    -> ACTIVE
#   e3 S2 Dizziness day 20 POSSIBLY     ACTIVE
#   e4 S3 Headache  no day RELATED      no period: All periods only
# Placebo: 1 subject [1 event]; active: 1 [2]; all periods: 3 [4].
PERIODS = [
    {"name": "PLACEBO", "label": "Placebo week", "first_day": 1, "last_day": 7,
     "dose_levels": [0]},
    {"name": "ACTIVE", "label": "Active weeks", "first_day": 8, "last_day": 28,
     "dose_levels": [10]},
]


def _trial(periods=PERIODS):
    return {"design": {
        "description": "one-arm fixture", "dose_unit": "mg", "dose_levels": [0, 10],
        "periods": periods,
        "parameters": {"SCORE": {"label": "Score", "min": 0, "max": 10,
                                 "baseline_visit": 0, "comparison_visit": 1}},
        "visits": [{"name": "Baseline", "number": 0}, {"name": "End", "number": 1}]}}


def _subjects(arms=("Drug", "Drug", "Drug")):
    frame = pd.DataFrame({"USUBJID": ["S1", "S2", "S3"], "TRT01P": list(arms),
                          "AGE": [30, 40, 50], "SEX": ["F", "M", "F"], "SAFFL": "Y",
                          "EOSSTAT": ["COMPLETED", "COMPLETED", "DISCONTINUED"]})
    frame["EFFFL"] = "Y"
    return frame.astype({c: "string" for c in frame.columns if c != "AGE"})


def _exposure():
    rows = [("S1", 0, 1, 7, "PLACEBO"), ("S1", 10, 8, 28, "ACTIVE"),
            ("S2", 0, 1, 7, "PLACEBO"), ("S2", 10, 8, 28, "ACTIVE"),
            ("S3", 0, 1, 7, "PLACEBO")]
    frame = pd.DataFrame(rows, columns=["USUBJID", "EXDOSE", "EXSTDY", "EXENDY", "APHASE"])
    frame["EXTRT"] = "DRUG"
    return frame


def _adverse_events():
    rows = [("S1", "Headache", "MILD", "RELATED", 7.0),
            ("S2", "Headache", "MODERATE", "NOT RELATED", 8.0),
            ("S2", "Dizziness", "MILD", "POSSIBLY RELATED", 20.0),
            ("S3", "Headache", "SEVERE", "RELATED", np.nan)]
    frame = pd.DataFrame(rows, columns=["USUBJID", "AEDECOD", "AESEV", "AEREL", "ASTDY"])
    frame["AEBODSYS"] = NS
    frame["AETERM"] = frame["AEDECOD"].str.lower()
    frame["AESER"] = "N"
    frame["AEACN"] = "DOSE NOT CHANGED"
    text = [c for c in frame.columns if c != "ASTDY"]
    frame = frame.astype({c: "string" for c in text})
    # the period from the onset day, as the validate stage derives it: day 7 is the
    # placebo week's last day, day 8 the first active day, no day no period
    return derive_period(frame, "ASTDY", as_trial(_trial(), "one-arm").design.periods)


@pytest.fixture(scope="module")
def ard():
    return build_safety_ard("one-arm", _trial(), _subjects(), _adverse_events(), _exposure())


def _value(ard, analysis, parameter, group, statistic):
    rows = ard[(ard["analysis"] == analysis) & (ard["parameter"] == parameter)
               & (ard["group"] == group) & (ard["statistic"] == statistic)]
    assert len(rows) == 1, (analysis, parameter, group, statistic, len(rows))
    return float(rows["value"].iloc[0])


def _cell(table, label_column, label, header):
    rows = table[table[label_column] == label]
    assert len(rows) == 1, (label, len(rows))
    return rows[header].iloc[0]


HEADERS = ["Placebo week (N = 3)", "Active weeks (N = 2)", "All periods (N = 3)"]


def test_derived_periods_at_the_boundary_days():
    ae = _adverse_events()
    assert ae["APHASE"].tolist()[:3] == ["PLACEBO", "ACTIVE", "ACTIVE"]
    assert pd.isna(ae["APHASE"].iloc[3])


def test_columns_are_the_periods_and_all_periods_with_their_denominators(ard):
    for analysis in ("ae_overview", "ae_soc_pt", "ae_severity", "ae_relationship"):
        n = ard[(ard["analysis"] == analysis) & (ard["statistic"] == "N")]
        assert n["group"].tolist() == ["PLACEBO", "ACTIVE", "All periods"], analysis
        assert n["value"].tolist() == [3, 2, 3], analysis
    tables = build_tables(ard, _trial())
    for name in ("ae_overview", "ae_soc_pt", "ae_severity", "ae_relationship"):
        assert list(tables[name].columns)[-3:] == HEADERS, name
        assert not any("Drug" in c or "Total" in c for c in tables[name].columns), name


def test_a_placebo_period_event_is_not_counted_in_the_active_column(ard):
    # mutation: without the period filter the active column would hold e1 too (3 events)
    assert _value(ard, "ae_overview", "ANY", "PLACEBO", "n_events") == 1
    assert _value(ard, "ae_overview", "ANY", "ACTIVE", "n_events") == 2
    assert _value(ard, "ae_overview", "ANY", "ACTIVE", "n_subjects") == 1
    # related: e1 (placebo), e3 (active), e4 (no period)
    assert _value(ard, "ae_overview", "RELATED", "PLACEBO", "n_events") == 1
    assert _value(ard, "ae_overview", "RELATED", "ACTIVE", "n_events") == 1
    assert _value(ard, "ae_overview", "RELATED", "All periods", "n_events") == 3
    t = ae_overview_table(ard, as_trial(_trial(), "one-arm"))
    assert [_cell(t, "Category", ANY_TEAE, h) for h in HEADERS] == [
        "1 (33.3) [1]", "1 (50.0) [2]", "3 (100.0) [4]"]


def test_an_event_without_a_period_is_in_all_periods_only(ard):
    # the period columns add up to 3 events of 4: e4 is in neither
    assert _value(ard, "ae_soc_pt", f"{NS} / Headache", "PLACEBO", "n_subjects") == 1
    assert _value(ard, "ae_soc_pt", f"{NS} / Headache", "ACTIVE", "n_subjects") == 1
    assert _value(ard, "ae_soc_pt", f"{NS} / Headache", "All periods", "n_subjects") == 3
    assert _value(ard, "ae_severity", "ANY", "All periods", "n_SEVERE") == 1
    assert _value(ard, "ae_severity", "ANY", "PLACEBO", "n_SEVERE") == 0
    assert _value(ard, "ae_severity", "ANY", "ACTIVE", "n_SEVERE") == 0
    # ... and the overview says so on a row of its own, in All periods only
    assert _value(ard, "ae_overview", "NO_PERIOD", "All periods", "n_events") == 1
    no_period = ard[ard["parameter"] == "NO_PERIOD"]
    assert set(no_period["group"]) == {"All periods"}
    t = ae_overview_table(ard, as_trial(_trial(), "one-arm"))
    assert [_cell(t, "Category", NO_PERIOD_ROW, h) for h in HEADERS] == [
        "", "", "1 (33.3) [1]"]


def test_no_period_row_only_when_some_event_has_no_period():
    ae = _adverse_events().iloc[:3]
    ard = build_safety_ard("one-arm", _trial(), _subjects(), ae, _exposure())
    assert not (ard["parameter"] == "NO_PERIOD").any()
    t = ae_overview_table(ard, as_trial(_trial(), "one-arm"))
    assert NO_PERIOD_ROW not in t["Category"].tolist()


def test_related_names_the_study_treatment_where_a_period_gives_placebo(ard):
    trial = as_trial(_trial(), "one-arm")
    t = ae_overview_table(ard, trial)
    assert [_cell(t, "Category", RELATED_ROW, h) for h in HEADERS] == [
        "1 (33.3) [1]", "1 (50.0) [1]", "3 (100.0) [3]"]
    assert "  related to study drug" not in t["Category"].tolist()
    rel = ae_relationship_table(ard, trial)
    assert "Relationship to study treatment" in rel.columns
    assert "  leading to discontinuation of study treatment" in t["Category"].tolist()
    assert set(ae_soc_pt_table(ard, trial).columns) >= set(HEADERS)
    assert set(ae_severity_table(ard, trial).columns) >= set(HEADERS)


def test_related_is_to_the_study_drug_where_no_period_gives_placebo_only():
    periods = [dict(PERIODS[0], dose_levels=[0, 10]), PERIODS[1]]
    ard = build_safety_ard("one-arm", _trial(periods), _subjects(), _adverse_events(),
                           _exposure())
    trial = as_trial(_trial(periods), "one-arm")
    t = ae_overview_table(ard, trial)
    assert f"  related to {STUDY_DRUG}" in t["Category"].tolist()
    assert "  leading to discontinuation of study drug" in t["Category"].tolist()
    assert "Relationship" in ae_relationship_table(ard, trial).columns


def test_parallel_groups_keep_arms_and_total():
    ard = build_safety_ard("two-arm", _trial(), _subjects(("Drug", "Placebo", "Drug")),
                           _adverse_events(), _exposure())
    t = ae_overview_table(ard, as_trial(_trial(), "two-arm"))
    # the placebo arm first (arm_order: the reference arm first), then Total
    assert list(t.columns) == ["Category", "Placebo (N = 1)", "Drug (N = 2)", "Total (N = 3)"]
    assert _cell(t, "Category", ANY_TEAE, "Placebo (N = 1)") == "1 (100.0) [2]"
    # the event without a period (e4, S3) is counted in its arm as before
    assert _cell(t, "Category", ANY_TEAE, "Drug (N = 2)") == "2 (100.0) [2]"
    assert f"  related to {STUDY_DRUG}" in t["Category"].tolist()
    assert not (ard["parameter"] == "NO_PERIOD").any()


def test_single_arm_with_one_period_keeps_the_arm_column():
    periods = [{"name": "STUDY", "first_day": 1, "last_day": 28}]
    ae = _adverse_events().iloc[:3].assign(APHASE="STUDY")
    ex = _exposure().assign(APHASE="STUDY")
    ard = build_safety_ard("one-period", _trial(periods), _subjects(), ae, ex)
    t = ae_overview_table(ard, as_trial(_trial(periods), "one-period"))
    assert list(t.columns) == ["Category", "Drug (N = 3)"]


# -- the reference trial, against an independent count of the CSV ---------------------------


def _independent_reference_counts():
    """TEAE subjects and events per period and over all, counted with pandas from the CSVs:
    an event is treatment-emergent when its onset day is on or after the subject's first
    dose; the denominator of a period is the number of subjects with exposure in it."""
    data = ROOT / "data" / "fasoracetam_nfc1"
    subjects = pd.read_csv(data / "subjects.csv", dtype=str)
    safety = set(subjects.loc[subjects["SAFFL"] == "Y", "USUBJID"])
    exposure = pd.read_csv(data / "exposure.csv")
    ae = pd.read_csv(data / "adverse_events.csv")
    first = exposure.groupby("USUBJID")["EXSTDY"].min()
    ae = ae[ae["USUBJID"].isin(safety) & (ae["ASTDY"] >= ae["USUBJID"].map(first))]
    out = {}
    for period in ("PLACEBO", "ACTIVE"):
        events = ae[ae["APHASE"] == period]
        n_exposed = exposure.loc[exposure["APHASE"] == period, "USUBJID"].nunique()
        out[period] = (events["USUBJID"].nunique(), n_exposed, len(events))
    out["All periods"] = (ae["USUBJID"].nunique(), len(safety), len(ae))
    return out


def test_reference_teae_row_against_an_independent_count():
    data = ROOT / "data" / "fasoracetam_nfc1"
    config = yaml.safe_load((ROOT / "config.yaml").read_text())["trials"]["fasoracetam_nfc1"]
    subjects = pd.read_csv(data / "subjects.csv", dtype=str)
    exposure = pd.read_csv(data / "exposure.csv")
    ae = pd.read_csv(data / "adverse_events.csv").astype(
        {"USUBJID": "string", "AESEV": "string", "AEREL": "string", "APHASE": "string"})
    ard = build_safety_ard("fasoracetam_nfc1", config, subjects, ae, exposure)
    trial = as_trial(config, "fasoracetam_nfc1")
    table = ae_overview_table(ard, trial)
    labels = trial.design.period_labels
    expected = _independent_reference_counts()
    # the figures of the issue: placebo week 3 (10.0%) [3], active weeks 15 (50.0%) [16],
    # all periods 16 (53.3%) [19]
    assert expected == {"PLACEBO": (3, 30, 3), "ACTIVE": (15, 30, 16),
                        "All periods": (16, 30, 19)}
    for group, (n, big_n, events) in expected.items():
        header = f"{labels.get(group, group)} (N = {big_n})"
        assert _cell(table, "Category", ANY_TEAE, header) == (
            f"{n} ({100 * n / big_n:.1f}) [{events}]")
    assert list(table.columns) == ["Category", "Single-blind placebo (week 1) (N = 30)",
                                   "Open-label fasoracetam (weeks 2-5) (N = 30)",
                                   "All periods (N = 30)"]
    assert RELATED_ROW in table["Category"].tolist()
