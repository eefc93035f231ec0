"""Each trial's config entry reaches the stages as results/<trial>/trial_config.json.

Snakemake writes the file when it builds the trial's jobs (workflow/rules/common.smk), only
when the trial's entry changed, so it reruns exactly the trials whose entry changed, as
rule parameters would; unlike parameters, the file costs Snakemake's own process no pandas
import (which it makes to compare parameters between runs, 0.3 s on every call, a no-op
included).
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

from trialreport.common.runner import read_trial_config, trial_config_text, write_trial_config

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


def test_code_maps_read_the_same_through_the_file() -> None:
    # YAML gives code-map keys as numbers or booleans; through JSON they become text, which
    # is how the maps are applied (keys compared as text, casefolded).
    import pandas as pd

    from trialreport.ingest.reading import apply_code_maps

    codes = {"AVAL": {5: 1, 2.0: 2, True: 3, " Much improved ": 2}}
    through = json.loads(trial_config_text({"codes": codes}))["codes"]
    assert set(through["AVAL"]) == {"5", "2.0", "true", " Much improved "}
    frame = pd.DataFrame({"AVAL": ["5", "2.0", "TRUE", "much improved", "7"]})
    assert apply_code_maps(frame, through).equals(apply_code_maps(frame, codes))
    assert apply_code_maps(frame, through)["AVAL"].tolist() == [1, 2, 3, 2, "7"]


def _snakemake(workdir: Path, *args: str) -> tuple[subprocess.CompletedProcess, bool]:
    """Run Snakemake; returns its result and whether its own process imported pandas."""
    flag = workdir / "pandas-imported.txt"
    flag.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", WATCHED, str(flag), "--cores", "2", *args],
                          cwd=workdir, capture_output=True, text=True, timeout=900)
    return proc, flag.read_text() == "True"


@pytest.mark.e2e
def test_a_run_with_nothing_to_do_imports_no_pandas_and_an_edit_reruns_its_trial(
        tmp_path) -> None:
    """When jobs run, Snakemake imports pandas anyway (to pass a script its parameters);
    when nothing runs, it does not, because no rule has parameters to compare."""
    repo = copy_repository(tmp_path / "repo")
    targets = [f"results/{TRIAL}/provenance.json", f"results/{TRIAL}/reproduction.csv"]
    first, _ = _snakemake(repo, *targets)
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

    noop, imported = _snakemake(repo, *targets)
    assert noop.returncode == 0, noop.stderr[-3000:]
    assert "Nothing to be done" in noop.stderr
    assert not imported, "Snakemake's own process imported pandas in a no-op run"

    # Only the trials being built get the file.
    other = repo / "results" / OTHER
    assert not other.exists()

    # With both trials up to date, a change to one trial's entry reruns that trial's jobs,
    # all of them, and none of the other's.
    both = [*targets, f"results/{OTHER}/reproduction.csv"]
    built, _ = _snakemake(repo, *both)
    assert built.returncode == 0, built.stderr[-3000:]
    other_mtime = (other / "trial_config.json").stat().st_mtime_ns
    config["trials"][TRIAL]["title"] += " (edited)"
    (repo / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False),
                                      encoding="utf-8")
    again, imported = _snakemake(repo, "--dry-run", *both)
    assert again.returncode == 0, again.stderr[-3000:]
    assert not imported
    planned = again.stdout + again.stderr
    for rule in ("ingest", "validate", "derive", "analyse", "reproduce", "provenance"):
        assert f"{TRIAL}/logs/{rule}.log" in planned, rule
    assert f"{OTHER}/logs/" not in planned
    assert (other / "trial_config.json").stat().st_mtime_ns == other_mtime
    assert read_trial_config(written)["title"].endswith("(edited)")
