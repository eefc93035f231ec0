"""The two real-world deliveries of tests/delivery_fixtures.py added to a fresh copy of the
repository by a config file alone, written from README.md, and run by the real snakemake
to their reports: a non-ADaM efficacy delivery (two CSV files), and R-written
Dataset-JSON ADSL and ADAE mixed with a SAS transport ADQS. No data value is edited."""

from __future__ import annotations

import hashlib

import delivery_fixtures as fx
import pandas as pd
import pytest

from conftest import copy_repository, run_snakemake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    repo = copy_repository(tmp_path_factory.mktemp("clone") / "repo")
    files = {**fx.write_plain(repo / "plain"), **{
        f"r_{k}": v for k, v in fx.write_r_mixed(repo / "rmixed").items()}}
    before = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    indent = lambda text: "\n".join("    " + line for line in text.splitlines())  # noqa: E731
    (repo / "deliveries.yaml").write_text(
        f"trials:\n  {fx.PLAIN_ID}:\n{indent(fx.PLAIN_CONFIG('plain'))}\n"
        f"  {fx.R_MIXED_ID}:\n{indent(fx.R_MIXED_CONFIG('rmixed'))}\n", encoding="utf-8")
    proc = run_snakemake(repo, f"results/{fx.PLAIN_ID}/report.html",
                         f"results/{fx.R_MIXED_ID}/report.html",
                         "--configfile", "deliveries.yaml", timeout=1200)
    after = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
    return repo, proc, before == after


def test_both_deliveries_get_their_reports_with_their_files_untouched(delivered):
    repo, proc, untouched = delivered
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr
    assert untouched
    for trial in (fx.PLAIN_ID, fx.R_MIXED_ID):
        assert (repo / "results" / trial / "report.html").stat().st_size > 0


def test_the_plain_report_says_how_its_populations_were_formed(delivered):
    repo, _, _ = delivered
    page = (repo / "results" / fx.PLAIN_ID / "report.html").read_text(encoding="utf-8")
    assert "EFFFL = Y: randomized (an arm, TRT01P, not empty) and a baseline ADHDRS" in page
    assert "config design.populations.EFFFL" in page
    assert "AVISIT from AVISITN through design.visits" in page
    _, ratings = fx.plain_frames()
    ard = pd.read_csv(repo / "results" / fx.PLAIN_ID / "ard.csv", dtype=str,
                      keep_default_na=False)
    n = ard[(ard["analysis"] == "enrolment") & (ard["statistic"] == "n_efficacy")]
    # every subject but A06, who has no baseline rating
    assert sum(int(v) for v in n["value"]) == ratings["Subject"].nunique() - 1 == 11


def test_the_r_mixed_report_lists_what_was_read_leniently(delivered):
    repo, _, _ = delivered
    page = (repo / "results" / fx.R_MIXED_ID / "report.html").read_text(encoding="utf-8")
    assert "TRTEMFL: empty read as N (ADaM convention" in page
    assert "WEIGHT: number(s) written as text with surrounding blanks" in page
    reproduction = pd.read_csv(repo / "results" / fx.R_MIXED_ID / "reproduction.csv")
    assert reproduction.set_index("id").loc["participants", "status"] == "match"
