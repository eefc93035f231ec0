"""Shared fixtures: the repository, its config, and a way to run the real workflow."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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
