"""Shared fixtures: the repository, its config, a way to run the real workflow, and a
private copy of the reference trial with an in-process ingest+validate."""

from __future__ import annotations

import copy
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialreport.common.config import DATASETS
from trialreport.common.runner import StageError
from trialreport.ingest.stage import ingest
from trialreport.validate.stage import validate

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_TRIAL = "fasoracetam_nfc1"
WORKFLOW_FILES = ("Snakefile", "config.yaml", "pyproject.toml")
WORKFLOW_DIRS = ("workflow", "schemas", "reports", "data")


@pytest.fixture(scope="session")
def config() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def trial(config: dict) -> dict:
    return config["trials"][REFERENCE_TRIAL]


def copy_repository(dest: Path) -> Path:
    """A temporary copy of what a user clones (no results, no .snakemake)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in WORKFLOW_DIRS:
        shutil.copytree(ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.html", "*_files"))
    return dest


def run_snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the real snakemake of this environment in ``workdir``; output is captured."""
    snakemake = Path(sys.executable).parent / "snakemake"
    return subprocess.run(
        [str(snakemake), "--cores", "2", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout,
    )


# --- Issue 3: bad-input corpus helpers ------------------------------------------------

REPO = Path(__file__).resolve().parents[1]
TRIAL_ID = "fasoracetam_nfc1"
REFERENCE = REPO / "data" / TRIAL_ID
SCHEMAS = REPO / "schemas"


def reference_trial_config() -> dict[str, Any]:
    config = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(config["trials"][TRIAL_ID])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Outcome:
    """What one ingest+validate run left behind."""

    stage: str | None  # the stage that refused the data, or None if both passed
    message: str
    results: Path

    @property
    def failures_csv(self) -> Path:
        return self.results / "validation" / "failures.csv"

    @property
    def summary_md(self) -> Path:
        return self.results / "validation" / "summary.md"


@dataclass
class TrialCopy:
    """The reference data copied into a temporary folder, with the trial config to edit."""

    root: Path
    trial: dict[str, Any]

    def path(self, dataset: str) -> Path:
        return self.root / self.trial["data"][dataset]["path"]

    def hashes(self) -> dict[str, str]:
        return {p.name: digest(p) for p in sorted((self.root / "data").rglob("*")) if p.is_file()}

    def run(self) -> Outcome:
        """ingest then validate, in-process, as the workflow runs them."""
        results = self.root / "results" / TRIAL_ID
        ingested = {n: str(results / "ingested" / f"{n}.parquet") for n in DATASETS}
        validated = {n: str(results / "validated" / f"{n}.parquet") for n in DATASETS}
        validated["warnings"] = str(results / "validation" / "warnings.csv")
        validated["exclusions"] = str(results / "validation" / "exclusions.csv")
        report_dir = results / "validation"
        try:
            ingest(self.trial, SCHEMAS, ingested, base_dir=self.root,
                            report_dir=report_dir)
        except StageError as exc:
            return Outcome("ingest", str(exc), results)
        try:
            validate(self.trial, SCHEMAS, ingested, validated, report_dir)
        except StageError as exc:
            return Outcome("validate", str(exc), results)
        return Outcome(None, "", results)


@pytest.fixture
def trial_copy(tmp_path: Path) -> TrialCopy:
    data = tmp_path / "data" / TRIAL_ID
    shutil.copytree(REFERENCE, data)
    trial = reference_trial_config()
    for source in trial["data"].values():
        source["path"] = f"data/{TRIAL_ID}/{Path(source['path']).name}"
    return TrialCopy(tmp_path, trial)


# --- A whole run of the workflow on the reference trial, shared by the tests that only read
# its outputs (the browser test, the run record of snakemake --report) ----------------------


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory) -> Path:
    """A copy of the repository in which ``snakemake --cores 2`` (the default target: every
    trial's report.html, tables and figures) has run once for the session; its root."""
    repo = copy_repository(tmp_path_factory.mktemp("reference-run") / "repo")
    proc = run_snakemake(repo)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return repo
