"""Each trial's config entry reaches the stages as results/<trial>/trial_config.json.

The workflow's parse (workflow/rules/common.smk) writes the file only when the trial's entry
changed, so Snakemake reruns exactly the trials whose entry changed, as rule parameters
would; unlike parameters, the file costs Snakemake's own process no pandas import (which it
makes to compare parameters between runs, 0.3 s on every call, a no-op included).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trialreport.stage import read_trial_config, trial_config_text, write_trial_config

from conftest import copy_repository

TRIAL = "fasoracetam_nfc1"
OTHER = "fasoracetam_saga"
# Snakemake's own process, which writes at its exit whether it imported pandas.
WATCHED = """
import atexit, sys
flag = sys.argv.pop(1)
atexit.register(lambda: open(flag, "w").write(str("pandas" in sys.modules)))
from snakemake.cli import main
sys.argv[0] = "snakemake"
sys.exit(main())
"""


def test_the_file_is_written_once_and_again_only_when_the_entry_changes(tmp_path) -> None:
    path = tmp_path / "t" / "trial_config.json"
    entry = {"title": "T", "design": {"parameters": {"CGIS": {}, "CGII": {}}}}
    assert write_trial_config(entry, path) is True
    os.utime(path, ns=(1, 1))
    assert write_trial_config(dict(entry), path) is False
    assert path.stat().st_mtime_ns == 1  # untouched: Snakemake sees no change
    changed = {**entry, "title": "T2"}
    assert write_trial_config(changed, path) is True
    assert path.stat().st_mtime_ns > 1
    assert read_trial_config(path) == changed


def test_the_text_keeps_the_configs_order_and_writes_dates_as_iso() -> None:
    entry = {"title": "T", "design": {"parameters": {"CGIS": 1, "CGII": 2}},
             "cutoff": datetime.date(2018, 1, 2)}
    text = trial_config_text(entry)
    assert text.index('"CGIS"') < text.index('"CGII"')  # not sorted: the order means something
    assert list(json.loads(text)) == ["title", "design", "cutoff"]
    assert json.loads(text)["cutoff"] == "2018-01-02"
    assert text.endswith("}\n")


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Snakemake; fails the test if its own process imported pandas."""
    flag = workdir / "pandas-imported.txt"
    flag.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", WATCHED, str(flag), "--cores", "2", *args],
                          cwd=workdir, capture_output=True, text=True, timeout=900)
    assert flag.read_text() == "False", "Snakemake's own process imported pandas"
    return proc


@pytest.mark.e2e
def test_snakemake_runs_reruns_and_skips_without_importing_pandas(tmp_path) -> None:
    repo = copy_repository(tmp_path / "repo")
    targets = [f"results/{TRIAL}/provenance.json", f"results/{TRIAL}/reproduction.csv"]
    first = _snakemake(repo, *targets)
    assert first.returncode == 0, first.stderr[-3000:]
    config = yaml.safe_load((repo / "config.yaml").read_text(encoding="utf-8"))
    written = repo / "results" / TRIAL / "trial_config.json"
    used = read_trial_config(written)  # the entry with the defaults of the config's schema
    entry = config["trials"][TRIAL]
    assert used["title"] == entry["title"]
    assert set(entry["design"]) <= set(used["design"])
    assert {k: v["path"] for k, v in used["data"].items()} == {
        k: v["path"] for k, v in entry["data"].items()}
    assert used["data"]["scores"]["encoding"] == "utf-8"  # a default the schema filled in

    noop = _snakemake(repo, *targets)
    assert noop.returncode == 0, noop.stderr[-3000:]
    assert "Nothing to be done" in noop.stderr

    # A change to one trial's entry reruns that trial's jobs and leaves the other's file be.
    other = repo / "results" / OTHER / "trial_config.json"
    other_mtime = other.stat().st_mtime_ns
    config["trials"][TRIAL]["title"] += " (edited)"
    (repo / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False),
                                      encoding="utf-8")
    again = _snakemake(repo, "--dry-run", *targets)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "ingest" in again.stdout and "provenance" in again.stdout
    assert other.stat().st_mtime_ns == other_mtime
    assert read_trial_config(written)["title"].endswith("(edited)")
