"""A statistician swaps in another trial by config alone: other formats, names and codes.

The reference data are rewritten the way another sponsor might deliver them (Parquet,
semicolon-separated CSV, their own column names, CGI-I written as words); a config entry
maps them back. Both trials run in one snakemake invocation, one job per trial and stage,
and the swapped-in trial's results must equal the reference trial's number for number.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from conftest import REFERENCE_TRIAL, copy_repository, run_snakemake

pytestmark = pytest.mark.e2e

CGI_I_WORDS = {1: "Very much improved", 2: "Much improved", 3: "Minimally improved",
               4: "No change", 5: "Minimally worse", 6: "Much worse", 7: "Very much worse"}


def test_a_second_trial_in_other_formats_gives_the_same_results(tmp_path) -> None:
    repo = copy_repository(tmp_path / "repo")
    source = repo / "data" / REFERENCE_TRIAL
    theirs = repo / "data" / "sponsor_delivery"
    theirs.mkdir()

    scores = pd.read_csv(source / "scores.csv", dtype=str, keep_default_na=False)
    is_cgii = (scores["PARAMCD"] == "CGII") & (scores["AVAL"] != "")
    scores.loc[is_cgii, "AVAL"] = scores.loc[is_cgii, "AVAL"].astype(int).map(CGI_I_WORDS)
    scores = scores.rename(columns={"USUBJID": "Subject", "AVAL": "Score"})
    scores.to_parquet(theirs / "efficacy.parquet", index=False)

    subjects = pd.read_csv(source / "subjects.csv", dtype=str, keep_default_na=False)
    subjects.rename(columns={"USUBJID": "Subject", "AGE": "AgeYears"}).to_csv(
        theirs / "subjects.txt", sep=";", index=False)
    for name in ("adverse_events", "exposure"):
        (theirs / f"{name}.csv").write_bytes((source / f"{name}.csv").read_bytes())

    config = yaml.safe_load((repo / "config.yaml").read_text(encoding="utf-8"))
    trial = copy.deepcopy(config["trials"][REFERENCE_TRIAL])
    trial["title"] = "The same trial, delivered differently"
    trial["data"] = {
        "subjects": {"path": "data/sponsor_delivery/subjects.txt", "format": "csv",
                     "delimiter": ";",
                     "columns": {"Subject": "USUBJID", "AgeYears": "AGE"}},
        "scores": {"path": "data/sponsor_delivery/efficacy.parquet",
                   "columns": {"Subject": "USUBJID", "Score": "AVAL"},
                   "codes": {"AVAL": {w: k for k, w in CGI_I_WORDS.items()}}},
        "adverse_events": {"path": "data/sponsor_delivery/adverse_events.csv"},
        "exposure": {"path": "data/sponsor_delivery/exposure.csv"},
    }
    extra = repo / "sponsor.yaml"
    extra.write_text(yaml.safe_dump({"trials": {"sponsor_delivery": trial}}), encoding="utf-8")

    proc = run_snakemake(repo, "--configfile", "config.yaml", str(extra))
    assert proc.returncode == 0, proc.stderr[-4000:]

    results = repo / "results"
    for name in (REFERENCE_TRIAL, "sponsor_delivery"):
        assert (results / name / "report.html").exists()
        rep = pd.read_csv(results / name / "reproduction.csv", dtype=str)
        assert set(rep["status"]) == {"match"}
    ours = pd.read_csv(results / REFERENCE_TRIAL / "ard.csv", dtype=str, keep_default_na=False)
    theirs_ard = pd.read_csv(results / "sponsor_delivery" / "ard.csv", dtype=str,
                             keep_default_na=False)
    pd.testing.assert_frame_equal(ours.drop(columns="trial"), theirs_ard.drop(columns="trial"))
    # The inputs were only read.
    assert pd.read_parquet(theirs / "efficacy.parquet")["Score"].isin(CGI_I_WORDS.values()).any()
