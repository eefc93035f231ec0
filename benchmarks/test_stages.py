"""Each stage on a large trial, as ratios against a floor measured in the same run.

The floors of derive and analyse (benchmarks/floors.py) compute the same numbers as the
stage; tests/test_benchmark_floors.py checks that on a small trial, and the tests here
check it again at full size."""

from __future__ import annotations

import floors
import pandas as pd
import pytest

from trialreport import contracts, io
from trialreport.analysis import build_ard
from trialreport.config import Trial
from trialreport.derive import attach_base, derive_efficacy_as_delivered, derive_locf_records
from trialreport.safety import build_safety_ard

from conftest import ROOT, compare


def test_reading_a_large_csv(scaled) -> None:
    path = scaled["paths"]["scores"]
    frame = compare(
        "read scores.csv",
        ours=lambda: io.read_table(path),
        floor=lambda: pd.read_csv(path, dtype=str, keep_default_na=False),
        max_time_ratio=4, max_memory_ratio=6,
    )
    assert len(frame) == len(scaled["dataset"].scores)


def test_validating_a_large_scores_file(scaled) -> None:

    raw = io.read_table(scaled["paths"]["scores"])
    contract = contracts.load_contract(ROOT / "schemas" / "scores.yaml")
    domain = contracts.Domain.from_trial_config(scaled["trial"])
    domain.subject_ids = sorted(scaled["dataset"].subjects["USUBJID"])
    visits = list(domain.visits)

    def floor() -> int:
        # The irreducible checks: typing, allowed values and the key, in plain pandas.
        typed = raw.assign(AVISITN=pd.to_numeric(raw["AVISITN"]),
                           AVAL=pd.to_numeric(raw["AVAL"]), ADY=pd.to_numeric(raw["ADY"]))
        bad = (~typed["AVISIT"].isin(visits)).sum() + (~typed["USUBJID"].isin(
            domain.subject_ids)).sum()
        return int(bad + typed.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).sum())

    _, failures = compare(
        "validate scores",
        ours=lambda: contracts.validate_frame(raw, contract, domain, "scores.csv"),
        floor=floor, max_time_ratio=25, max_memory_ratio=10, repeat=2,
    )
    assert failures.empty


def _design(scaled):
    return Trial.parse("scaled", scaled["trial"]).design


def _derive(scores, design):
    """What the derive stage computes (``pipeline.derive``): ABLFL, BASE, CHG, then the
    LOCF records with BASE."""
    efficacy, _ = derive_efficacy_as_delivered(scores, design.baseline_visits)
    locf = derive_locf_records(efficacy, sorted(design.visit_names), design.visit_names,
                               baseline_visits=design.locf_from)
    return efficacy, attach_base(locf, efficacy)


@pytest.fixture(scope="module")
def derived(scaled):
    scores = scaled["dataset"].scores.astype({"AVAL": "Float64"})
    return _derive(scores, _design(scaled))


def test_deriving_baseline_change_and_locf(scaled) -> None:
    scores = scaled["dataset"].scores.astype({"AVAL": "Float64"})
    design = _design(scaled)
    efficacy, _ = compare(
        "derive: BASE, CHG, LOCF",
        ours=lambda: _derive(scores, design),
        floor=lambda: floors.derive_floor(scores, dict(design.baseline_visits),
                                          dict(design.locf_from), sorted(design.visit_names)),
        max_time_ratio=3, max_memory_ratio=3)
    assert efficacy["CHG"].notna().sum() > 0


def test_analysing_a_large_trial(scaled, derived) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy, locf = derived
    # The floor computes every number of the efficacy ARD (tests/test_benchmark_floors.py):
    # by-visit descriptives, paired t and Wilcoxon, Hodges-Lehmann and d_z with their CIs,
    # rank-biserial, Holm, the same on LOCF data, responders and McNemar, subgroups.
    floor = floors.efficacy_floor(trial, ds.subjects, efficacy, locf, ds.exposure)
    assert floor.attrs["skipped"] == 0  # nothing left out at this size
    ard = compare(
        "analyse: efficacy ARD",
        ours=lambda: build_ard("scale", trial, ds.subjects, efficacy, ds.exposure, locf),
        floor=lambda: floors.efficacy_floor(trial, ds.subjects, efficacy, locf, ds.exposure),
        max_time_ratio=3, max_memory_ratio=3)
    assert floors.match_ard(floor, ard).empty


def test_safety_tables_of_a_large_trial(scaled, derived) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy, _ = derived
    args = (ds.subjects, ds.adverse_events, ds.exposure, efficacy)
    ard = compare(
        "analyse: safety, demographics, disposition, exposure ARD",
        ours=lambda: build_safety_ard("scale", trial, *args),
        floor=lambda: floors.safety_floor(trial, *args),
        max_time_ratio=3, max_memory_ratio=3)
    assert floors.match_ard(floors.safety_floor(trial, *args), ard).empty
