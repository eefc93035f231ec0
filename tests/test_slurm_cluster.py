"""End to end on SLURM: the reference trial through `snakemake --profile profiles/slurm`,
compared byte for byte with a local run (profiles/slurm/compare-with-local.sh); and that
comparison itself, on small trees, where no SLURM is needed.

Runs where `sbatch` is on PATH and a controller answers (`sinfo`); on this kind of machine
`profiles/slurm/one-node-cluster.sh` starts a one-node cluster. Slow: every stage is a
SLURM job that starts its own Snakemake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REFERENCE_TRIAL, ROOT

SCRIPT = ROOT / "profiles" / "slurm" / "compare-with-local.sh"
BIN = Path(sys.executable).parent


def _controller_answers() -> bool:
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_slurm = pytest.mark.skipif(
    shutil.which("sbatch") is None or not _controller_answers(),
    reason="no SLURM here (sbatch missing or no controller answering sinfo); "
           "profiles/slurm/one-node-cluster.sh starts one on Debian")
needs_plugin = pytest.mark.skipif(
    not any(BIN.parent.glob("lib/python*/site-packages/snakemake_executor_plugin_slurm")),
    reason="SLURM executor plugin missing: uv sync --frozen --group slurm")


@pytest.mark.e2e
@needs_slurm
@needs_plugin
def test_slurm_run_matches_the_local_run_byte_for_byte(tmp_path) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(["bash", str(SCRIPT), str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = (tmp_path / "comparison.txt").read_text(encoding="utf-8").splitlines()
    status = dict(reversed(line.split(" ", 1)) for line in lines)
    assert set(status.values()) == {"same"}, [line for line in lines
                                              if not line.startswith("same ")]
    # The comparison covers the whole run, not an empty or partial tree.
    results = tmp_path / "results.local"
    written = sorted(str(p.relative_to(results)) for p in results.rglob("*") if p.is_file())
    assert sorted(status) == written
    trial = f"{REFERENCE_TRIAL}/"
    for name in ("report.html", "ard.csv", "reproduction.csv", "provenance.json",
                 "tables/demographics.csv", "figures/means_by_visit.png",
                 "validated/scores.parquet", "derived/efficacy.parquet",
                 "logs/report.log"):
        assert status[trial + name] == "same"
    slurm_log = (tmp_path / "slurm.log").read_text(encoding="utf-8")
    assert "has been submitted with SLURM jobid" in slurm_log
    assert "Falling back to 'sacct'" not in slurm_log


def _compare(local: Path, slurm: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), "--compare", str(local), str(slurm), str(out)],
                          capture_output=True, text=True, timeout=60)


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


FILES = {"t/ard.csv": b"a,b\n1,2\n", "t/logs/x.log": b"done\n", "t/tables/d.csv": b"n\n30\n"}


def test_comparison_passes_on_identical_trees_and_lists_every_file(tmp_path) -> None:
    proc = _compare(_tree(tmp_path / "a", FILES), _tree(tmp_path / "b", FILES),
                    tmp_path / "out.txt")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").read_text().splitlines() == \
        [f"same {name}" for name in sorted(FILES)]


@pytest.mark.parametrize("change, line", [
    ({"t/ard.csv": b"a,b\n1,3\n"}, "differs t/ard.csv"),          # one byte
    ({"t/logs/x.log": b"done\n\n"}, "differs t/logs/x.log"),      # one byte more, in a log
    ({"t/extra.csv": b""}, "only-slurm t/extra.csv"),            # a file only SLURM wrote
])
def test_comparison_fails_naming_the_file_that_differs(tmp_path, change, line) -> None:
    proc = _compare(_tree(tmp_path / "a", FILES), _tree(tmp_path / "b", {**FILES, **change}),
                    tmp_path / "out.txt")
    assert proc.returncode == 1
    assert line in proc.stderr
    assert line in (tmp_path / "out.txt").read_text().splitlines()


def test_comparison_fails_on_a_file_missing_from_the_slurm_run_and_on_empty_trees(
        tmp_path) -> None:
    fewer = {k: v for k, v in FILES.items() if k != "t/tables/d.csv"}
    proc = _compare(_tree(tmp_path / "a", FILES), _tree(tmp_path / "b", fewer),
                    tmp_path / "out.txt")
    assert proc.returncode == 1 and "only-local t/tables/d.csv" in proc.stderr
    (tmp_path / "e1").mkdir()
    (tmp_path / "e2").mkdir()
    assert _compare(tmp_path / "e1", tmp_path / "e2", tmp_path / "out2.txt").returncode == 1
