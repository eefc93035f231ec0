"""Contract limits at the edge and one step past it (the reference trial's config):
a rating exactly at its visit's planned day +/- window, an adverse event or a dose record
on a period's first and last day, and the study-day bounds that negative AE days escape."""

from __future__ import annotations

import pandas as pd
import pytest

from trialreport.ingest.source import ROW_COLUMN
from trialreport.validate import contracts
from trialreport.validate.domain import Domain

from conftest import SCHEMAS, reference_trial_config


def _failures(dataset: str, rows: list[dict]) -> pd.DataFrame:
    contract = contracts.load_contract(SCHEMAS / f"{dataset}.yaml")
    domain = Domain.from_trial_config(reference_trial_config())
    domain.subject_ids = ["S1"]
    frame = pd.DataFrame(rows).astype("string")
    frame[ROW_COLUMN] = range(2, len(frame) + 2)
    _, failures = contracts.validate_frame(frame, contract, domain, f"{dataset}.csv")
    return failures


def _rating(ady: int) -> dict:
    # Week 2 is planned on day 15 with a window of 3 days (config.yaml)
    return {"USUBJID": "S1", "PARAMCD": "CGIS", "AVISIT": "Week 2", "AVISITN": "2",
            "ADY": str(ady), "AVAL": "4"}


@pytest.mark.parametrize(("ady", "ok"), [(12, True), (18, True), (11, False), (19, False),
                                         (15, True)])
def test_rating_day_at_the_window_edge_passes_and_one_past_fails(ady, ok):
    failures = _failures("scores", [_rating(ady)])
    assert failures["rule"].tolist() == ([] if ok else ["ady_within_visit_window"])


def _event(day: int, phase: str) -> dict:
    return {"USUBJID": "S1", "AETERM": "t", "AEDECOD": "T", "AEBODSYS": "B", "AESEV": "MILD",
            "AESER": "N", "AEREL": "NOT RELATED", "ASTDY": str(day), "AENDY": "",
            "APHASE": phase}


# PLACEBO runs from day 1 to day 7, ACTIVE from day 8 to day 37 (config.yaml)
@pytest.mark.parametrize(("day", "phase", "ok"), [
    (1, "PLACEBO", True), (7, "PLACEBO", True), (8, "PLACEBO", False),
    (8, "ACTIVE", True), (37, "ACTIVE", True), (7, "ACTIVE", False),
])
def test_event_on_a_periods_first_and_last_day_passes_and_one_past_fails(day, phase, ok):
    failures = _failures("adverse_events", [_event(day, phase)])
    assert failures["rule"].tolist() == ([] if ok else ["onset_within_period"])


@pytest.mark.parametrize(("day", "rules"), [
    (-30, ["onset_within_period"]),  # before the first dose: allowed by range, no period
    (37, []), (38, ["onset_within_period", "range"]),
])
def test_onset_days_may_be_negative_but_not_past_the_last_study_day(day, rules):
    failures = _failures("adverse_events", [_event(day, "ACTIVE")])
    assert sorted(failures["rule"]) == rules


def test_event_without_onset_day_passes_the_contract():
    assert _failures("adverse_events", [_event(1, "PLACEBO") | {"ASTDY": ""}]).empty


def _dose(start: int, end: int | None, phase: str, dose: str) -> dict:
    return {"USUBJID": "S1", "APHASE": phase, "EXDOSE": dose, "EXSTDY": str(start),
            "EXENDY": "" if end is None else str(end)}


@pytest.mark.parametrize(("start", "end", "phase", "dose", "ok"), [
    (1, 7, "PLACEBO", "0", True), (2, 8, "PLACEBO", "0", False),
    (8, 37, "ACTIVE", "50", True), (7, 37, "ACTIVE", "50", False),
    (8, None, "ACTIVE", "50", True),  # an open record
])
def test_dose_record_on_a_periods_first_and_last_day_passes_and_one_past_fails(
        start, end, phase, dose, ok):
    failures = _failures("exposure", [_dose(start, end, phase, dose)])
    assert failures["rule"].tolist() == ([] if ok else ["interval_within_period"])
