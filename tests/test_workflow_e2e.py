"""End to end: the real snakemake on a temporary copy of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from trialreport.analyse.stage import analyse
from trialreport.reproduce.stage import reproduce_targets

from conftest import REFERENCE_TRIAL, copy_repository, run_snakemake

pytestmark = pytest.mark.e2e
RESULTS = Path("results") / REFERENCE_TRIAL


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    repo = copy_repository(tmp_path_factory.mktemp("clone") / "repo")
    proc = run_snakemake(repo)
    return repo, proc


def test_workflow_builds_report_and_reproduces_every_published_target(first_run,
                                                                       trial) -> None:
    repo, proc = first_run
    assert proc.returncode == 0, proc.stderr[-4000:]
    table = pd.read_csv(repo / RESULTS / "reproduction.csv", dtype=str)
    assert len(table) == len(trial["reproduction"]["targets"])
    assert set(table["status"]) == {"match"}, table.to_string()
    published_table1 = {"cgii_baseline_mean": "3.79", "cgii_week5_mean": "2.33",
                        "cgis_baseline_mean": "4.83", "cgis_week5_mean": "3.86",
                        "cgii_p": "P < 0.001", "cgis_p": "P < 0.001", "participants": "30"}
    got = table.set_index("id")["reproduced"].to_dict()
    assert {k: got[k] for k in published_table1} == published_table1


def test_report_is_self_contained_and_says_the_data_are_synthetic(first_run, trial) -> None:
    repo, _ = first_run
    page = (repo / RESULTS / "report.html").read_text(encoding="utf-8")
    assert "Synthetic data." in page
    n = len(trial["reproduction"]["targets"])
    assert f"{n} of {n} published figures reproduced" in page
    assert "data:image/png;base64," in page  # the means-by-visit figure, embedded
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    log = (repo / RESULTS / "logs" / "report.log").read_text(encoding="utf-8")
    assert re.search(r"rendering .* with (quarto|Jupyter)", log)


def test_second_run_does_nothing_and_says_so(first_run) -> None:
    repo, _ = first_run
    proc = run_snakemake(repo)
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_results_are_byte_identical_when_recomputed(first_run, tmp_path, trial) -> None:
    repo, _ = first_run
    validated = repo / RESULTS / "validated"
    derived = repo / RESULTS / "derived"
    inputs = {"subjects": validated / "subjects.parquet",
              "exposure": validated / "exposure.parquet",
              "adverse_events": validated / "adverse_events.parquet",
              "efficacy": derived / "efficacy.parquet"}
    analyse(REFERENCE_TRIAL, trial, inputs, str(tmp_path / "ard.csv"))
    assert (tmp_path / "ard.csv").read_bytes() == (repo / RESULTS / "ard.csv").read_bytes()
    reproduce_targets(trial, str(tmp_path / "ard.csv"), str(tmp_path / "rep.csv"))
    assert (tmp_path / "rep.csv").read_bytes() == \
        (repo / RESULTS / "reproduction.csv").read_bytes()


def test_changed_week5_rating_fails_the_run_naming_the_target(tmp_path) -> None:
    repo = copy_repository(tmp_path / "repo")
    scores_csv = repo / "data" / REFERENCE_TRIAL / "scores.csv"
    scores = pd.read_csv(scores_csv, dtype=str, keep_default_na=False)
    row = scores.index[(scores["PARAMCD"] == "CGIS") & (scores["AVISIT"] == "Week 5")
                       & (scores["AVAL"] != "") & (scores["AVAL"] != "7")][0]
    scores.loc[row, "AVAL"] = str(int(scores.loc[row, "AVAL"]) + 1)
    scores.to_csv(scores_csv, index=False, lineterminator="\n")
    proc = run_snakemake(repo)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "cgis_week5_mean" in output
    assert "published 3.86, reproduced 3.90" in output
    assert not (repo / RESULTS / "report.html").exists()
    assert not (repo / RESULTS / "reproduction.csv").exists()
