"""Startup: what a statistician's usual run costs beyond the computing, as ratios against
floors measured in the same run.

- cold run of the reference trial (fresh copy of the repository, no results), the report
  excluded, against one Python process importing pandas, scipy.stats, pandera and
  statsmodels.api once (what a single-process pipeline would pay to start): <= 3x;
- the run that has nothing to do, against Snakemake's own no-op on a one-rule Snakefile:
  <= 1.5x;
- 20 copies of the reference trial in one call with ``--cores 2``, against one trial's cold
  run: <= 11x (perfect use of both cores would be 10x).

Every timed command runs the environment's own executables (no ``uv run``), as the e2e tests
do; each is repeated and the best time kept, floors interleaved with the runs they bound, so
that other load on the machine moves both alike. ``TRIALREPORT_BENCH_REPEAT`` sets the number
of repetitions (default 2; the 20-trial run is timed once).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from trialreport.figures.data import FIGURE_NAMES, FORMATS
from trialreport.tables.display import TABLES

from conftest import ROOT

pytestmark = pytest.mark.benchmark

REPEAT = int(os.environ.get("TRIALREPORT_BENCH_REPEAT", "2"))
TRIAL = "fasoracetam_nfc1"
COPIES = 20
BIN = Path(sys.executable).parent
FLOOR_IMPORTS = "import pandas, scipy.stats, pandera.pandas, statsmodels.api"
ONE_RULE = 'rule one:\n    output:\n        "one.txt",\n    shell:\n        "touch {output}"\n'


def copy_repository(dest: Path, trials: dict | None = None) -> Path:
    """What a user clones, without results or .snakemake; ``trials`` replaces config's."""
    dest.mkdir(parents=True)
    for name in ("Snakefile", "config.yaml", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("workflow", "schemas", "reports", "data", "profiles"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns(
            "__pycache__", "*.html", "*_files", ".quarto"))
    if trials is not None:
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["trials"] = trials
        (dest / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False),
                                          encoding="utf-8")
    return dest


def targets(trial: str) -> list[str]:
    """Every output of the trial but the report: provenance, reproduction, tables, figures."""
    results = f"results/{trial}"
    return [f"{results}/provenance.json", f"{results}/reproduction.csv",
            *(f"{results}/tables/{spec.name}.csv" for spec in TABLES),
            *(f"{results}/figures/{name}.{fmt}" for name in FIGURE_NAMES for fmt in FORMATS)]


def timed(args: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    assert proc.returncode == 0, f"{args[:3]} failed:\n{proc.stderr[-3000:]}"
    return elapsed


def snakemake(workdir: Path, *args: str) -> float:
    return timed([str(BIN / "snakemake"), "--cores", "2", *args], cwd=workdir)


def floor() -> float:
    return timed([sys.executable, "-c", FLOOR_IMPORTS])


def report(name: str, ours: float, base: float, bound: float, what: str) -> None:
    ratio = ours / base
    print(f"\n{name}: {ours:.2f} s / {what} {base:.2f} s = ratio {ratio:.2f} "
          f"(bound {bound})")
    assert ratio <= bound, f"{name}: ratio {ratio:.2f} > {bound}"


@pytest.fixture(scope="module")
def cold(tmp_path_factory) -> dict:
    """Cold runs of the reference trial, each in a fresh copy, with a floor before each."""
    floors, runs, repo = [], [], None
    for i in range(REPEAT):
        floors.append(floor())
        repo = copy_repository(tmp_path_factory.mktemp("cold") / f"repo{i}")
        runs.append(snakemake(repo, *targets(TRIAL)))
    floors.append(floor())
    return {"floor": min(floors), "run": min(runs), "repo": repo}


def test_cold_reference_run_against_the_import_floor(cold) -> None:
    report("cold reference trial, report excluded", cold["run"], cold["floor"], 3,
           f"floor ({FLOOR_IMPORTS})")


def test_noop_run_against_a_one_rule_snakefile(cold, tmp_path) -> None:
    one = tmp_path / "one"
    one.mkdir()
    (one / "Snakefile").write_text(ONE_RULE, encoding="utf-8")
    snakemake(one)
    ours, theirs = [], []
    for _ in range(max(REPEAT, 3)):
        theirs.append(snakemake(one))
        ours.append(snakemake(cold["repo"], *targets(TRIAL)))
    report("no-op run", min(ours), min(theirs), 1.5, "one-rule Snakefile's no-op")


def test_twenty_trials_in_one_call(cold, tmp_path) -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    trial = config["trials"][TRIAL]
    ids = [f"{TRIAL}_copy{i:02d}" for i in range(1, COPIES + 1)]
    repo = copy_repository(tmp_path / "repo", {i: trial for i in ids})
    ours = snakemake(repo, *(t for i in ids for t in targets(i)))
    report(f"{COPIES} copies of the reference trial, --cores 2", ours, cold["run"], 11,
           "one trial's cold run")
    first = repo / "results" / ids[0]
    for i in ids[1:]:  # the copies computed the same results (the ARD names its trial)
        ard = (repo / "results" / i / "ard.csv").read_text(encoding="utf-8")
        assert ard.replace(i, ids[0]) == (first / "ard.csv").read_text(encoding="utf-8")
        assert ((repo / "results" / i / "reproduction.csv").read_bytes()
                == (first / "reproduction.csv").read_bytes())
