"""Fixtures of the benchmark suite: one large synthetic trial, written once per session."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialreport.common.frames import write_csv
from trialreport.synthetic.scaled import make_scaled_dataset

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = int(os.environ.get("TRIALREPORT_BENCH_SUBJECTS", "100000"))


@pytest.fixture(scope="session")
def scaled(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("scaled")
    ds = make_scaled_dataset(SUBJECTS)
    paths = {}
    for name, frame in ds.tables().items():
        paths[name] = folder / f"{name}.csv"
        write_csv(frame, paths[name])
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    trial = config["trials"]["fasoracetam_nfc1"]
    trial["data"] = {name: {"path": str(path)} for name, path in paths.items()}
    return {"dataset": ds, "paths": paths, "trial": trial, "folder": folder}


def _vm(field: str) -> int | None:
    """A size from /proc/self/status (VmRSS, VmHWM), in bytes; None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Set this process's peak resident set (VmHWM) to its current size (Linux: write 5 to
    /proc/self/clear_refs). A forked child otherwise starts with its parent's peak, so
    whatever it allocates below that peak would not show in ``ru_maxrss``."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return _vm("VmHWM") is not None


def _release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``, and Arrow's
    memory pool). The child
    inherits its parent's heap, freed blocks included; allocations that reuse those
    resident pages would not raise the resident set, and the run would look smaller."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    # Arrow's own allocator (text columns are Arrow arrays) keeps freed memory too
    import pyarrow

    pyarrow.default_memory_pool().release_unused()


def _child(func: Callable[[], Any], conn: Any) -> None:
    gc.collect()
    _release_free_memory()
    exact = _reset_peak()
    before = _vm("VmRSS") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    func()
    elapsed = time.perf_counter() - start
    after = _vm("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    conn.send((elapsed, max(after - before, 0)))
    conn.close()


def measure(func: Callable[[], Any], repeat: int = 3) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs, and the least peak memory a run added.

    Each run is a forked child process, so a run starts from the same memory and its peak
    resident set (``ru_maxrss``) above the starting point is what the run itself needed,
    whether Python, NumPy or a C library allocated it.
    """
    context = multiprocessing.get_context("fork")
    times, peaks = [], []
    for _ in range(repeat):
        parent, child = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(func, child))
        process.start()
        elapsed, peak = parent.recv()
        process.join()
        assert process.exitcode == 0
        times.append(elapsed)
        peaks.append(peak)
    return min(times), max(min(peaks), 1)


def compare(stage: str, ours: Callable[[], Any], floor: Callable[[], Any],
            max_time_ratio: float, max_memory_ratio: float, repeat: int = 3) -> Any:
    """Stage and floor measured in turn, ``repeat`` times each, interleaved (so a busy
    spell of a shared machine slows both alike); the best time and least memory of each.
    With ``TRIALREPORT_BENCH_RECORD=file.jsonl`` each result is also appended to that file
    (what benchmarks/README.md's table is made from)."""
    floor_runs, our_runs = [], []
    for _ in range(repeat):
        floor_runs.append(measure(floor, 1))
        our_runs.append(measure(ours, 1))
    t_floor, m_floor = min(r[0] for r in floor_runs), min(r[1] for r in floor_runs)
    t_ours, m_ours = min(r[0] for r in our_runs), min(r[1] for r in our_runs)
    result = ours()
    time_ratio, memory_ratio = t_ours / t_floor, m_ours / m_floor
    print(f"\n{stage} ({SUBJECTS} subjects): ours {t_ours:.3f} s / floor {t_floor:.3f} s = "
          f"ratio {time_ratio:.1f}; peak memory {m_ours / 2**20:.0f} MiB / "
          f"{m_floor / 2**20:.0f} MiB = ratio {memory_ratio:.1f}")
    record = os.environ.get("TRIALREPORT_BENCH_RECORD")
    if record:
        with open(record, "a", encoding="utf-8") as out:
            out.write(json.dumps({
                "stage": stage, "subjects": SUBJECTS, "repeat": repeat,
                "time_stage": t_ours, "time_floor": t_floor, "time_ratio": time_ratio,
                "time_bound": max_time_ratio, "memory_stage": m_ours,
                "memory_floor": m_floor, "memory_ratio": memory_ratio,
                "memory_bound": max_memory_ratio}) + "\n")
    assert time_ratio <= max_time_ratio, f"{stage}: time ratio {time_ratio:.1f}"
    assert memory_ratio <= max_memory_ratio, f"{stage}: memory ratio {memory_ratio:.1f}"
    return result
