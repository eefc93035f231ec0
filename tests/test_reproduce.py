"""Reproduction of published figures: rounding, bounds, ranges and the GRIM test."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
import pytest

from trialreport.common.formatting import decimals_of, round_half_up
from trialreport.reproduce.grim import grim_sizes
from trialreport.reproduce.targets import reproduce


def test_round_half_up_rounds_halves_away_from_even() -> None:
    assert round_half_up(2.345, 2) == "2.35"  # binary 2.345 is 2.34499..: decimal text wins
    assert round_half_up(0.125, 2) == "0.13"  # round() in Python gives 0.12
    assert round_half_up(3.7931, 2) == "3.79"
    assert round_half_up(30.0, 0) == "30"
    assert decimals_of("3.79") == 2 and decimals_of("30") == 0


def brute_force_grim(mean: str, max_n: int) -> list[int]:
    """Independent check: try every whole-number total of 1-7 ratings."""
    d = decimals_of(mean)
    return [n for n in range(1, max_n + 1)
            if any(f"{math.floor(t / n * 10**d + 0.5) / 10**d:.{d}f}" == mean
                   for t in range(n, 7 * n + 1))]


@pytest.mark.parametrize(
    ("mean", "sizes_21_to_30"),
    # The sizes given for the published NFC-1 means between 21 and 30 participants.
    [("3.79", [24, 28, 29]), ("3.86", [21, 22, 28, 29]), ("2.33", [21, 24, 27, 30]),
     ("4.83", [23, 24, 29, 30])],
)
def test_grim_sizes_of_the_published_means(mean: str, sizes_21_to_30: list[int]) -> None:
    sizes = grim_sizes(mean, 30)
    assert [n for n in sizes if n >= 21] == sizes_21_to_30
    assert sizes == brute_force_grim(mean, 30)


def test_grim_includes_small_samples_that_round_to_the_mean() -> None:
    # 53 / 14 = 3.7857 rounds to 3.79, so n = 14 is a GRIM-consistent size for 3.79.
    assert 14 in grim_sizes("3.79", 30)
    assert 13 not in grim_sizes("3.79", 30)


def ard(mean: float, p: float, n: int = 29) -> pd.DataFrame:
    rows = [
        ("enrolment", "", "", math.nan, "n_subjects", 30),
        ("baseline", "descriptive", "AGE", math.nan, "min", 12),
        ("baseline", "descriptive", "AGE", math.nan, "max", 17),
        ("dose_exposure", "descriptive", "MAXDOSE", math.nan, "max", 400),
        ("by_visit", "descriptive", "X", 1.0, "mean", mean),
        ("by_visit", "descriptive", "X", 1.0, "n", n),
        ("paired", "paired_ttest", "X", 5.0, "p_value", p),
        ("paired", "descriptive", "X", 5.0, "n_pairs", n),
    ]
    frame = pd.DataFrame(rows, columns=["analysis", "method", "parameter", "visitn",
                                        "statistic", "value"])
    frame["visit"] = ""
    frame["group"] = "Total"
    return frame


TRIAL = {
    "design": {
        "visits": [{"name": "W1", "number": 1}, {"name": "W5", "number": 5}],
        "parameters": {"X": {"label": "X", "min": 1, "max": 7, "integer": True,
                             "baseline_visit": 1, "comparison_visit": 5}},
    },
    "reproduction": {"targets": [
        {"id": "n", "description": "n", "statistic": "n_subjects", "published": "30"},
        {"id": "age", "description": "age", "statistic": "age_range", "published": "12-17"},
        {"id": "dose", "description": "dose", "statistic": "max_dose", "published": "400"},
        {"id": "m", "description": "mean", "parameter": "X", "visit": "baseline",
         "statistic": "mean", "published": "3.79"},
        {"id": "p", "description": "p", "parameter": "X", "statistic": "p_value",
         "method": "paired_ttest", "published": "P < 0.001"},
    ]},
}


def test_all_targets_match_when_results_agree() -> None:
    table = reproduce(ard(110 / 29, 1e-6), TRIAL)
    assert table["status"].tolist() == ["match"] * 5
    m = table.set_index("id").loc["m"]
    assert (m["reproduced"], m["n"], m["grim_consistent"]) == ("3.79", 29, "yes")
    assert table.set_index("id").loc["p", "reproduced"] == "P < 0.001"


def test_mismatches_are_named_with_what_was_reproduced() -> None:
    table = reproduce(ard(111 / 29, 0.0123), TRIAL).set_index("id")
    assert table.loc["m", "status"] == "mismatch" and table.loc["m", "reproduced"] == "3.83"
    assert table.loc["p", "status"] == "mismatch" and table.loc["p", "reproduced"] == "P = 0.012"


def test_a_mean_whose_n_cannot_give_the_published_value_is_flagged_by_grim() -> None:
    table = reproduce(ard(3.79, 1e-6, n=27), TRIAL).set_index("id")
    assert table.loc["m", "status"] == "match"
    assert table.loc["m", "grim_consistent"] == "no"


def write_ard(path, frame: pd.DataFrame) -> None:
    from trialreport.analyse.ard import format_ard

    full = frame.assign(trial="t", analysis_set="")
    format_ard(full).to_csv(path, index=False)


def test_a_mismatch_fails_the_stage_and_leaves_no_reproduction_file(tmp_path) -> None:
    from trialreport.common.runner import StageError
    from trialreport.reproduce.stage import reproduce_targets

    write_ard(tmp_path / "ard.csv", ard(111 / 29, 1e-6))
    out = tmp_path / "reproduction.csv"
    with pytest.raises(StageError, match=r"m \(mean\): published 3.79, reproduced 3.83"):
        reproduce_targets(TRIAL, str(tmp_path / "ard.csv"), str(out))
    assert not out.exists()


def test_on_mismatch_report_lists_the_mismatch_without_failing(tmp_path) -> None:
    from trialreport.reproduce.stage import reproduce_targets

    write_ard(tmp_path / "ard.csv", ard(111 / 29, 1e-6))
    trial = {**TRIAL, "reproduction": {**TRIAL["reproduction"], "on_mismatch": "report"}}
    out = tmp_path / "reproduction.csv"
    reproduce_targets(trial, str(tmp_path / "ard.csv"), str(out))
    table = pd.read_csv(out, dtype=str).set_index("id")
    assert table.loc["m", "status"] == "mismatch"
    assert (table.drop(index="m")["status"] == "match").all()


def _grim_one_n_at_a_time(published: str, max_n: int) -> list[int]:
    """GRIM as its definition reads: each n, the totals next to published * n, each
    divided by n and rounded half up (the float through its decimal repr)."""
    target = Decimal(published.strip())
    sizes = []
    for n in range(1, max_n + 1):
        centre = math.floor(float(target) * n)
        if any(round_half_up(total / n, decimals_of(published)) == str(target)
               for total in range(centre - 1, centre + 3)):
            sizes.append(n)
    return sizes


@pytest.mark.parametrize("published", [
    "3.79", "2.33", "0", "0.00", "-0.00", "-0.01", "-1.5", "2.5", "-2.5", "1.005", "7.0",
    "12", "3.14159", " 4.83 ", "0.5", "99.99", "-7.125"])
def test_grim_sizes_in_integers_equal_the_definition(published: str) -> None:
    # grim_sizes decides the rounding of every total / n at once in integers; it must give
    # the sizes the definition gives, ties (x.xx5) and signed zeros included.
    for max_n in (1, 40, 2500):
        assert grim_sizes(published, max_n) == _grim_one_n_at_a_time(published, max_n)


@pytest.mark.parametrize("published", ["3.79", "2.33", "-0.40", "0.00", "-0.00", "12.5",
                                       "4.8", "100", "0.005", "-2.125"])
def test_grim_in_python_and_in_numpy_give_the_same_sizes(published: str) -> None:
    # Up to GRIM_IN_PYTHON_UP_TO subjects the rule runs in Python integers (the reproduce
    # job then imports no NumPy), above in NumPy: the same rule, the same sizes.
    import numpy as np

    from trialreport.reproduce.grim import _grim_mask, _grim_sizes_in_python

    decimals = decimals_of(published)
    for max_n in (1, 7, 30, 431, 6000):
        in_numpy = (np.flatnonzero(_grim_mask(published, decimals, max_n)) + 1).tolist()
        assert _grim_sizes_in_python(published, decimals, max_n) == in_numpy, max_n


def test_the_stage_reads_and_writes_as_the_data_frame_path_did(tmp_path) -> None:
    # The reproduce job works on ard.csv's rows with the standard library; what it reads and
    # the bytes it writes must be those of the data-frame path (trialreport.analyse.ard.read_ard,
    # write_csv), here with awkward text: commas, quotes and a line break in a
    # description, empty value and visitn cells, n both a number and empty.
    from trialreport.analyse.ard import read_ard
    from trialreport.common.frames import write_csv
    from trialreport.reproduce.stage import read_ard_rows, reproduction_csv
    from trialreport.reproduce.targets import reproduce_rows

    frame = ard(111 / 29, 1e-6)
    frame.loc[len(frame)] = ["extra", "descriptive", "X", math.nan, "sd", math.nan, "",
                             "Total"]
    write_ard(tmp_path / "ard.csv", frame)
    trial = {**TRIAL, "reproduction": {**TRIAL["reproduction"], "targets": [
        {**t, "description": 'mean, "quoted"\nover two lines'} if t["id"] == "m" else t
        for t in TRIAL["reproduction"]["targets"]]}}

    rows = read_ard_rows(tmp_path / "ard.csv")
    records = read_ard(tmp_path / "ard.csv").to_dict("records")
    assert len(rows) == len(records) == len(frame)
    for ours, theirs in zip(rows, records, strict=True):
        assert ours.keys() == theirs.keys()
        for key, value in theirs.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(ours[key]), key
            else:
                assert ours[key] == value and type(ours[key]) is type(value), key

    write_csv(reproduce(read_ard(tmp_path / "ard.csv"), trial), tmp_path / "frame.csv")
    text = reproduction_csv(reproduce_rows(rows, trial))
    assert text.encode("utf-8") == (tmp_path / "frame.csv").read_bytes()
    assert '"mean, ""quoted""\nover two lines"' in text
