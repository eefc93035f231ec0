"""Derivations on small hand-made frames whose answers are written out."""

from __future__ import annotations

import pandas as pd

from trialreport.derive.derivations import (
    derive_efficacy,
    derive_max_dose,
    derive_var_ablfl,
    derive_var_base,
    derive_var_chg,
)


def scores() -> pd.DataFrame:
    return pd.DataFrame({
        "USUBJID": ["A", "A", "A", "A", "A", "B", "B", "B", "B"],
        "PARAMCD": ["S", "S", "S", "I", "I", "S", "S", "I", "I"],
        "AVISITN": [0, 1, 5, 1, 5, 0, 5, 1, 5],
        "AVAL": [5, 5, 3, 4, 2, None, 4, 3, 3],
    }).astype({"AVAL": "Float64"})


BASELINES = {"S": 0, "I": 1}


def test_baseline_flag_is_per_parameter_and_needs_a_rating() -> None:
    out = derive_var_ablfl(scores(), BASELINES)
    flagged = out[out["ABLFL"] == "Y"][["USUBJID", "PARAMCD", "AVISITN"]]
    assert flagged.values.tolist() == [["A", "S", 0], ["A", "I", 1], ["B", "I", 1]]


def test_base_and_change_from_baseline() -> None:
    out = derive_var_chg(derive_var_base(derive_var_ablfl(scores(), BASELINES)), BASELINES)
    got = {(r.USUBJID, r.PARAMCD, r.AVISITN): (r.BASE, r.CHG) for r in out.itertuples()}
    assert got[("A", "S", 5)] == (5, -2)
    assert got[("A", "S", 1)] == (5, 0)
    assert got[("A", "I", 5)] == (4, -2)
    assert got[("B", "I", 5)] == (3, 0)
    # On and before baseline there is no change; without a baseline rating neither BASE nor CHG.
    assert pd.isna(got[("A", "S", 0)][1]) and pd.isna(got[("A", "I", 1)][1])
    assert pd.isna(got[("B", "S", 5)][0]) and pd.isna(got[("B", "S", 5)][1])


def test_derivations_leave_their_input_untouched() -> None:
    before = scores()
    frame = before.copy()
    derive_efficacy(frame, BASELINES)
    pd.testing.assert_frame_equal(frame, before)


def test_max_dose_per_subject() -> None:
    ex = pd.DataFrame({"USUBJID": ["A", "A", "A", "B", "B"],
                       "EXDOSE": [0, 50, 100, 0, 50]})
    assert derive_max_dose(ex).values.tolist() == [["A", 100], ["B", 50]]
