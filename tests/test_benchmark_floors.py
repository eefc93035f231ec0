"""The benchmark floors (benchmarks/floors.py) compute the same numbers as the stages they
are held against, on a small scaled trial: otherwise a ratio to them would mean nothing."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from trialreport.analysis import build_ard
from trialreport.config import Trial
from trialreport.derive import attach_base, derive_efficacy, derive_locf_records
from trialreport.safety import build_safety_ard
from trialreport.scaled import make_scaled_dataset

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import floors  # noqa: E402

N = 300


@pytest.fixture(scope="module")
def trial() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))[
        "trials"]["fasoracetam_nfc1"]


@pytest.fixture(scope="module")
def data(trial: dict) -> dict:
    ds = make_scaled_dataset(N)
    design = Trial.parse("scaled", trial).design
    scores = ds.scores.astype({"AVAL": "Float64"})
    efficacy = derive_efficacy(scores, design.baseline_visits)
    locf = attach_base(derive_locf_records(efficacy, sorted(design.visit_names),
                                           design.visit_names,
                                           baseline_visits=design.locf_from), efficacy)
    return {"ds": ds, "design": design, "scores": scores, "efficacy": efficacy, "locf": locf}


def test_derive_floor_gives_the_stages_base_change_and_locf(data: dict) -> None:
    design = data["design"]
    eff, locf = floors.derive_floor(data["scores"], dict(design.baseline_visits),
                                    dict(design.locf_from), sorted(design.visit_names))
    key = ["USUBJID", "PARAMCD", "AVISITN"]
    stage = data["efficacy"].sort_values(key, ignore_index=True)
    assert len(eff) == len(stage)
    for col in ("BASE", "CHG"):
        np.testing.assert_array_equal(eff[col].to_numpy(float, na_value=np.nan),
                                      stage[col].to_numpy(float, na_value=np.nan))
    assert (eff["ABLFL"].fillna("") == stage["ABLFL"].fillna("")).all()
    theirs = data["locf"].sort_values(key, ignore_index=True)
    ours = locf.sort_values(key, ignore_index=True)
    assert len(ours) == len(theirs) and (ours["DTYPE"] == "LOCF").sum() > 0
    assert (ours["USUBJID"].astype(object) == theirs["USUBJID"].astype(object)).all()
    for col in ("AVISITN", "AVAL", "BASE"):
        np.testing.assert_array_equal(ours[col].to_numpy(float, na_value=np.nan),
                                      theirs[col].to_numpy(float, na_value=np.nan))
    assert (ours["DTYPE"].fillna("") == theirs["DTYPE"].fillna("")).all()


def test_efficacy_floor_gives_every_number_of_the_stage(data: dict, trial: dict) -> None:
    ds = data["ds"]
    ard = build_ard("scaled", trial, ds.subjects, data["efficacy"], ds.exposure, data["locf"])
    floor = floors.efficacy_floor(trial, ds.subjects, data["efficacy"], data["locf"],
                                  ds.exposure)
    diff = floors.match_ard(floor, ard)
    # The floor leaves out the small-sample variants (exact Wilcoxon below 50 non-zero
    # differences): those rows, and only those, are on the stage's side alone.
    small = diff[(diff["_merge"] == "left_only") & diff["method"].str.startswith("wilcoxon")]
    assert diff.drop(small.index).empty, diff.drop(small.index).to_string()
    assert len(small) <= 3 * floor.attrs["skipped"]
    assert len(ard) - len(small) > 600  # nearly every row is compared
    assert set(ard["analysis"]) >= {"by_visit", "paired", "paired_locf", "responders",
                                    "responders_paired", "subgroup"}


def test_safety_floor_gives_every_number_of_the_stage(data: dict, trial: dict) -> None:
    ds = data["ds"]
    ard = build_safety_ard("scaled", trial, subjects=ds.subjects,
                           adverse_events=ds.adverse_events, exposure=ds.exposure,
                           efficacy=data["efficacy"])
    floor = floors.safety_floor(trial, ds.subjects, ds.adverse_events, ds.exposure,
                                data["efficacy"])
    diff = floors.match_ard(floor, ard)
    assert diff.empty, diff.to_string()
    assert len(ard) > 1000


def test_match_ard_finds_a_changed_number_and_a_missing_row(data: dict, trial: dict) -> None:
    ds = data["ds"]
    ard = build_safety_ard("scaled", trial, subjects=ds.subjects,
                           adverse_events=ds.adverse_events, exposure=ds.exposure,
                           efficacy=data["efficacy"])
    floor = floors.safety_floor(trial, ds.subjects, ds.adverse_events, ds.exposure,
                                data["efficacy"])
    changed = floor.copy()
    changed.loc[changed["statistic"] == "n_subjects", "value"] += 1
    assert not floors.match_ard(changed, ard).empty
    assert not floors.match_ard(floor.iloc[1:], ard).empty
    assert floors.match_ard(pd.concat([floor]), ard).empty
