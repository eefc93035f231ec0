"""The synthetic reference dataset: reproducible byte for byte, and true to the publication."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialreport.synthetic.nfc1 import make_reference_dataset, write_reference_dataset

from conftest import ROOT

DATA = ROOT / "data" / "fasoracetam_nfc1"


@pytest.fixture(scope="module")
def ds():
    return make_reference_dataset()


def test_regenerated_files_equal_committed_files_byte_for_byte(tmp_path: Path) -> None:
    for path in write_reference_dataset(tmp_path):
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = make_reference_dataset(1), make_reference_dataset(1), make_reference_dataset(2)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    assert not a.scores["AVAL"].equals(c.scores["AVAL"])


def test_thirty_adolescents_with_sex_and_variant_tier(ds) -> None:
    s = ds.subjects
    assert len(s) == 30 and s["USUBJID"].is_unique
    assert s["AGE"].between(12, 17).all()
    assert (s["AGE"].min(), s["AGE"].max()) == (12, 17)
    assert set(s["SEX"]) == {"M", "F"}
    assert set(s["MGLURTIER"]) == {1, 2, 3}


def test_cgi_s_every_visit_from_baseline_and_cgi_i_from_week_1(ds) -> None:
    visits = ds.scores.groupby("PARAMCD")["AVISITN"].unique()
    assert sorted(visits["CGIS"]) == [0, 1, 2, 3, 4, 5]
    assert sorted(visits["CGII"]) == [1, 2, 3, 4, 5]
    assert ds.scores.groupby(["USUBJID", "PARAMCD", "AVISITN"]).size().max() == 1
    assert ds.scores["AVAL"].dropna().between(1, 7).all()


@pytest.mark.parametrize(
    ("param", "week", "n", "mean_2dp"),
    [("CGII", 1, 29, "3.79"), ("CGII", 5, 30, "2.33"), ("CGIS", 0, 30, "4.83"),
     ("CGIS", 5, 29, "3.86")],
)
def test_published_means_hold_at_published_precision(ds, param, week, n, mean_2dp) -> None:
    values = ds.scores.query("PARAMCD == @param and AVISITN == @week")["AVAL"].dropna()
    assert len(values) == n
    # Computed independently of the pipeline: plain integer sum over count, then %-rounding.
    total = int(values.astype(int).sum())
    assert f"{total / n:.2f}" == mean_2dp


def test_missing_ratings_only_where_the_published_means_require_them(ds) -> None:
    missing = ds.scores[ds.scores["AVAL"].isna()]
    assert sorted(zip(missing["PARAMCD"], missing["AVISITN"], strict=True)) == [
        ("CGII", 1), ("CGIS", 5)]


def test_ratings_change_plausibly_between_visits(ds) -> None:
    wide = ds.scores.pivot_table(index="USUBJID", columns=["PARAMCD", "AVISITN"],
                                 values="AVAL", aggfunc="first")
    for param in ("CGIS", "CGII"):
        steps = wide[param].astype(float).diff(axis=1).abs().to_numpy()
        assert np.nanmax(steps) <= 2, param
    # Not a copy-paste pattern: subjects' trajectories differ.
    assert wide["CGIS"].drop_duplicates().shape[0] >= 20


def test_dose_advances_by_symptoms_and_not_everyone_reaches_400(ds) -> None:
    ex = ds.exposure
    assert set(ex.loc[ex["APHASE"] == "PLACEBO", "EXDOSE"]) == {0}
    active = ex[ex["APHASE"] == "ACTIVE"].sort_values(["USUBJID", "EXSTDY"])
    levels = [50, 100, 200, 400]
    for _, doses in active.groupby("USUBJID")["EXDOSE"]:
        d = doses.tolist()
        assert d[0] == 50
        assert all(b in (a, levels[min(levels.index(a) + 1, 3)]) for a, b in zip(d, d[1:],
                                                                                   strict=False))
    top = active.groupby("USUBJID")["EXDOSE"].max()
    assert 0 < (top == 400).sum() < 30


def test_adverse_events_mostly_mild_none_serious_similar_incidence(ds) -> None:
    ae = ds.adverse_events
    assert (ae["AESER"] == "N").all()
    assert (ae["AESEV"] == "MILD").mean() > 0.6
    per_week = ae.groupby("APHASE").size() / pd.Series({"PLACEBO": 30, "ACTIVE": 120})
    assert per_week["PLACEBO"] > 0 and per_week["ACTIVE"] > 0
    assert 0.5 < per_week["PLACEBO"] / per_week["ACTIVE"] < 2
