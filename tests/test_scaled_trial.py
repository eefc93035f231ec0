"""`trialreport make-scaled-trial N DIR`: a large synthetic trial and the config that runs it."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from snakemake.utils import validate

from trialreport.cli import main
from trialreport.common.config import DATASETS
from trialreport.ingest.stage import ingest
from trialreport.validate.stage import validate as validate_data

from conftest import ROOT

N = 200
SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


def make(outdir: Path, n: int = N, *extra: str) -> int:
    return main(["make-scaled-trial", str(n), str(outdir), "--reference-config",
                 str(ROOT / "config.yaml"), *extra])


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("scaled")
    assert make(outdir) == 0
    return outdir


def read(outdir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(outdir / f"{name}.csv", keep_default_na=False, dtype=str)


def test_row_counts_follow_the_reference_design(written: Path) -> None:
    subjects, scores = read(written, "subjects"), read(written, "scores")
    exposure, ae = read(written, "exposure"), read(written, "adverse_events")
    assert len(subjects) == N and subjects["USUBJID"].is_unique
    # CGI-S at six visits, CGI-I at five: 11 rows per subject; five exposure weeks
    assert len(scores) == 11 * N
    assert scores.groupby("PARAMCD").size().to_dict() == {"CGIS": 6 * N, "CGII": 5 * N}
    assert len(exposure) == 5 * N
    # events at 0.16 per subject-week over five weeks: 0.8 per subject, Poisson
    assert 0.6 * N < len(ae) < 1.0 * N
    assert set(ae["USUBJID"]) <= set(subjects["USUBJID"])


def test_missing_ratings_only_after_each_parameters_baseline(written: Path) -> None:
    scores = read(written, "scores")
    missing = scores[scores["AVAL"] == ""]
    assert 0 < len(missing) < 0.06 * len(scores)
    baseline = {"CGIS": "0", "CGII": "1"}  # the reference config's baseline visits
    assert not (missing["AVISITN"] == missing["PARAMCD"].map(baseline)).any()


def test_the_config_validates_and_holds_only_the_scaled_trial(written: Path) -> None:
    config = yaml.safe_load((written / "config.yaml").read_text(encoding="utf-8"))
    validate(copy.deepcopy(config), SCHEMA)
    assert list(config["trials"]) == [f"scaled_{N}"]
    trial = config["trials"][f"scaled_{N}"]
    for name in ("subjects", "scores", "adverse_events", "exposure"):
        path = Path(trial["data"][name]["path"])
        assert path.is_absolute() and path == (written / f"{name}.csv").resolve()
    reference = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    assert trial["design"] == reference["trials"]["fasoracetam_nfc1"]["design"]
    assert trial["analyses"] == reference["trials"]["fasoracetam_nfc1"]["analyses"]
    text = (written / "config.yaml").read_text(encoding="utf-8")
    assert "--replace-workflow-config --configfile" in text  # says how to run it


def test_the_data_pass_the_contracts(written: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((written / "config.yaml").read_text(encoding="utf-8"))
    trial = config["trials"][f"scaled_{N}"]
    ingested = {n: str(tmp_path / "in" / f"{n}.parquet") for n in DATASETS}
    validated = {n: str(tmp_path / "ok" / f"{n}.parquet") for n in DATASETS}
    validated["warnings"] = str(tmp_path / "warnings.csv")
    validated["exclusions"] = str(tmp_path / "exclusions.csv")
    ingest(trial, ROOT / "schemas", ingested, report_dir=tmp_path / "v")
    validate_data(trial, ROOT / "schemas", ingested, validated, tmp_path / "v")
    assert not (tmp_path / "v" / "failures.csv").exists()
    assert pd.read_csv(validated["exclusions"]).empty  # no subject lacks a baseline
    assert len(pd.read_parquet(validated["scores"])) == 11 * N


def test_same_n_and_seed_give_the_same_bytes(written: Path, tmp_path: Path) -> None:
    assert make(tmp_path / "again") == 0
    assert make(tmp_path / "other", N, "--seed", "7") == 0
    for name in ("subjects", "scores", "adverse_events", "exposure"):
        first = (written / f"{name}.csv").read_bytes()
        assert (tmp_path / "again" / f"{name}.csv").read_bytes() == first
    assert (tmp_path / "other" / "scores.csv").read_bytes() != (
        written / "scores.csv").read_bytes()


def test_one_subject_is_enough(tmp_path: Path) -> None:
    assert make(tmp_path, 1) == 0
    assert len(read(tmp_path, "scores")) == 11


@pytest.mark.parametrize(("n", "message"), [
    ("0", "at least 1, not 0"),
    ("-5", "at least 1, not -5"),
    ("lots", "whole number, not 'lots'"),
    ("1e5", "whole number, not '1e5'"),
])
def test_a_bad_subject_count_is_refused_with_a_message(n: str, message: str, tmp_path: Path,
                                                       capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["make-scaled-trial", n, str(tmp_path / "out")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_missing_reference_config_is_refused_with_a_message(tmp_path: Path,
                                                              capsys) -> None:
    assert main(["make-scaled-trial", "10", str(tmp_path / "out"), "--reference-config",
                 str(tmp_path / "none.yaml")]) == 2
    assert "none.yaml does not exist; run from the repository root" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_command_line_refuses_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "trialreport.cli", "make-scaled-trial", "0",
                           str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 2
    assert "at least 1, not 0" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
