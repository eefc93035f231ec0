"""Review of the ADaM-as-delivered feature: each defect found, as a test (all now fixed).

Each test states the one change that would make it pass. They use the hand-counted
three-arm fixture (tests/adam_fixtures.py) and run the stages in-process as
tests/test_adam_delivery.py does.
"""

from __future__ import annotations

import math
from pathlib import Path

import adam_fixtures as fx
import numpy as np
import pandas as pd
import pytest
import yaml
from test_adam_delivery import _value, run_stages

from trialreport.analyse.ard import read_ard
from trialreport.common.config import Source
from trialreport.common.runner import StageError
from trialreport.ingest.records import select_records


def _cfg() -> dict:
    return yaml.safe_load(fx.THREE_ARM_CONFIG("adam"))


def _run(root: Path, frames: dict, trial: dict | None = None, through: str = "tables"):
    fx.write_datasets(frames, root / "adam")
    return run_stages(root, fx.THREE_ARM_ID, trial or _cfg(), through=through)


@pytest.fixture(scope="module")
def three_arm_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("review_three_arm")
    return _run(root, fx.three_arm_adam())


# Found in review, now fixed: TEAEs without ASTDY (partial dates) get no derived APHASE, so
# the whole-study period of ae_periods counts 11 subjects / 13 events while the AE overview
# counts 13 / 15. Fix (records.derive_period): give a record with no day the only period
# when there is one, e.g. `day = np.where(np.isnan(day) & (len(periods) == 1),
# periods[0].first_day, day)`.
def test_whole_study_period_counts_every_teae(three_arm_out):
    ard = read_ard(three_arm_out / "ard.csv")
    overview = _value(ard, analysis="ae_overview", parameter="ANY", group="Total",
                      statistic="n_events")
    # a trial of several arms counts incidence per arm (ae_rates), no pooled period row;
    # the arms' events add up to every TEAE of the overview all the same
    rates = ard[(ard["analysis"] == "ae_rates") & (ard["statistic"] == "n_events")]
    assert not (ard["analysis"] == "ae_periods").any()
    assert overview == 15
    assert rates["value"].sum() == overview


# Found in review, now fixed: Delivered BASE is 'used as delivered' (README) only by ANCOVA;
# the paired analysis (_wide) and the baseline table (baseline_values) take AVAL of the
# baseline record whenever it exists, so the report shows two different changes from
# baseline. Fix (analysis._wide): `base = given.reindex(base.index).fillna(base)` (delivered
# first).
def test_delivered_base_is_used_by_the_paired_analysis_too(tmp_path):
    frames = fx.three_arm_adam()
    q = frames["adqs"]
    placebo = q["USUBJID"].str.contains("-100") & (q["PARAMCD"] == "ACTOT")
    q.loc[placebo, "BASE"] = q.loc[placebo, "BASE"] + 1  # e.g. a mean of pre-dose values
    post = placebo & (q["AVISITN"] > 0)
    q.loc[post, "CHG"] = q.loc[post, "AVAL"] - q.loc[post, "BASE"]
    out = _run(tmp_path, frames)
    ard = read_ard(out / "ard.csv")
    # Week 24, Placebo observed: AVAL 191 / 7, delivered BASE (170 + 7) / 7, CHG 14 / 7
    assert _value(ard, analysis="paired", parameter="ACTOT", group="Placebo",
                  statistic="change_mean") == pytest.approx(2.0, abs=1e-12)


# Found in review, now fixed: A `where` that keeps no record (here the codes written in
# lower case) passes ingest and validate with an empty scores dataset; the run then fails
# far downstream with a message about LOCF, ANCOVA or a target ('found 0'). Fix
# (records.select_records): raise InputFileError(rule where_column-like
# 'where_selects_nothing') naming data.<dataset>.where and the values present when
# `keep.sum() == 0`.
def test_a_where_that_keeps_nothing_is_refused_naming_the_key(tmp_path):
    trial = _cfg()
    trial["data"]["scores"]["where"] = {"ANL01FL": "Y", "PARAMCD": ["actot"]}
    trial["analyses"]["locf"] = False
    with pytest.raises(StageError, match=r"data\.scores\.where"):
        _run(tmp_path, fx.three_arm_adam(), trial, through="validate")


# Found in review, now fixed: With TRTEMFL delivered empty and derived from exposure, a
# partial-date AE (ASTDY missing) is flagged N and shown as 'not treatment-emergent (e.g.
# before the first dose)': 2003's PRURITUS and 3003's RASH leave the TEAE counts. Fix
# (safety.derive_var_trtemfl): `on_or_after = ((onset.astype(float) >= start) |
# onset.isna()).to_numpy(dtype=bool)` (unknown onset counted as emergent).
def test_partial_date_events_are_not_called_pre_treatment(tmp_path):
    frames = fx.three_arm_adam()
    frames["adae"]["TRTEMFL"] = ""
    out = _run(tmp_path, frames)
    ard = read_ard(out / "ard.csv")
    assert _value(ard, analysis="ae_overview", parameter="ANY", group="Total",
                  statistic="n_events") == 15
    assert _value(ard, analysis="ae_overview", parameter="NOT_TEAE", group="Total",
                  statistic="n_events") == 2  # the two negative-day events only


# Found in review, now fixed: Open exposure records with no design.study_days (whole-study
# period without a last day) get EXDUR missing, and groupby().sum() turns that into 0: every
# subject is shown with 0 days at dose. Fix (safety.add_dose_exposure):
# `ex.groupby([...])['EXDUR'].sum(min_count=1)`.
def test_open_exposure_without_study_days_is_not_zero_days(tmp_path):
    trial = _cfg()
    del trial["design"]["study_days"]
    frames = fx.three_arm_adam()
    frames["adex"]["EXENDY"] = np.nan
    out = _run(tmp_path, frames, trial)
    ard = read_ard(out / "ard.csv")
    mean = _value(ard, analysis="dose_exposure", parameter="DAYS_AT_DOSE 100",
                  group="Total", statistic="mean")
    assert math.isnan(mean) or mean > 0


# Found in review, now fixed: APHASE delivered but design.periods left out: every record is
# refused with 'is not one of the allowed values (from the trial's config): STUDY', a name
# the user never wrote, and no config key. Fix (contracts._describe): for the periods domain
# add '(design.periods lists none: add them, or drop APHASE with extra_columns/columns)'.
def test_aphase_without_periods_names_design_periods(tmp_path):
    frames = fx.three_arm_adam()
    frames["adae"]["APHASE"] = "DOUBLE-BLIND"
    with pytest.raises(StageError):
        _run(tmp_path, frames, through="validate")
    failures = pd.read_csv(tmp_path / "results" / fx.THREE_ARM_ID / "validation" /
                           "failures.csv", dtype=str)
    assert failures["message"].str.contains("design.periods").all()


# Found in review, now fixed: records._same compares any two texts that parse as numbers by
# value, so a `where` on an identifier with leading zeros keeps other identifiers ('0701'
# keeps '701', '00701', '7.01e2'); matches_subjects likewise lets SUBJID '001' equal '1'.
# Fix (records._matches): compare by number only when the config value is a number
# (`isinstance(value, (int, float))`), else as text.
def test_where_on_text_identifiers_is_not_numeric():
    frame = pd.DataFrame({"SITEID": ["701", "0701", "00701", "7.01e2"],
                          "SRCROW": [1, 2, 3, 4]})
    kept, _ = select_records(frame, Source("subjects", "adsl.xpt",
                                           where={"SITEID": ("0701",)}))
    assert kept["SITEID"].tolist() == ["0701"]
