"""Real snakemake runs on bad data, in a temporary copy of the repository (slow: e2e)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import REPO, TRIAL_ID, digest

pytestmark = pytest.mark.e2e

SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ["Snakefile", "config.yaml"]:
        shutil.copy2(REPO / name, root / name)
    for name in ["workflow", "schemas", "reports", "data"]:
        shutil.copytree(REPO / name, root / name)
    return root


def data_hashes(root: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in sorted((root / "data").rglob("*")) if p.is_file()}


def snakemake(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SNAKEMAKE), "--cores", "2"], cwd=root, capture_output=True,
                          text=True, timeout=600, check=False)


def edit(path: Path, row: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[row - 1]
    lines[row - 1] = lines[row - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_snakemake_refuses_contract_failures_in_two_files(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    data = root / "data" / TRIAL_ID
    edit(data / "subjects.csv", 2, ",12,F,", ",11,F,")
    edit(data / "exposure.csv", 3, ",50,mg BID,", ",300,mg BID,")
    before = data_hashes(root)

    run = snakemake(root)

    assert run.returncode != 0
    results = root / "results" / TRIAL_ID
    assert "Validation refused the data: 2 failure(s) in 2 file(s)." in run.stderr
    assert ("data/fasoracetam_nfc1/subjects.csv row 2, column AGE, rule range: value '11'"
            in run.stderr)
    failures = pd.read_csv(results / "validation" / "failures.csv", dtype=str)
    assert failures[["file", "row", "column", "rule", "value"]].values.tolist() == [
        ["data/fasoracetam_nfc1/subjects.csv", "2", "AGE", "range", "11"],
        ["data/fasoracetam_nfc1/exposure.csv", "3", "EXDOSE", "allowed_values", "300"]]
    assert (results / "validation" / "summary.md").exists()
    assert not (results / "validated").exists()
    assert not (results / "report.html").exists()
    assert data_hashes(root) == before


def test_snakemake_refuses_an_unreadable_file(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    path = root / "data" / TRIAL_ID / "adverse_events.csv"
    path.write_bytes(path.read_bytes().replace(b"irritability", b"irritabilit\xe9", 1))
    before = data_hashes(root)

    run = snakemake(root)

    assert run.returncode != 0
    assert "Cannot read the trial's data: 1 failure(s) in 1 file(s)." in run.stderr
    assert "adverse_events.csv row 5, column AETERM, rule encoding" in run.stderr
    results = root / "results" / TRIAL_ID
    assert (results / "validation" / "failures.csv").exists()
    assert not (results / "ingested").exists()
    assert not (results / "report.html").exists()
    assert data_hashes(root) == before


def test_snakemake_refuses_a_missing_file(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    (root / "data" / TRIAL_ID / "exposure.csv").unlink()

    run = snakemake(root)

    assert run.returncode != 0
    assert "data/fasoracetam_nfc1/exposure.csv" in run.stderr + run.stdout
    assert not (root / "results" / TRIAL_ID / "report.html").exists()
