"""Like-for-like floors: what each stage computes, written minimally in vectorised
pandas, NumPy and SciPy, for the benchmark suite to hold the stage against.

Each floor computes the SAME numbers as its stage (``tests/test_benchmark_floors.py``
checks them number for number on a small trial), but with nothing else: no config
parsing beyond the keys it needs, no contract checks, no messages, no general cases the
benchmark trial does not have. It covers the regime a large trial is in: one arm, a
two-sided alternative, the normal approximations of the Wilcoxon test and of the
Hodges-Lehmann interval (a group below 50 non-zero differences, where the stage may use
exact variants, is left out: its rows are reported as ``SKIPPED``), integer-valued
ratings (the Walsh averages are counted over the distinct differences).

A floor returns a frame with the ARD's key columns (``KEY``) and ``value``, so that its
rows can be matched with the stage's ARD rows (``match_ard``).

One module per stage (``derive``, ``efficacy`` and ``safety`` for the analyse stage,
``model``, ``reproduce``, ``tables``, ``figures``, ``provenance``, ``ingest``, ``validate``);
``common`` holds the row collector and ``match_ard``. The benchmarks call them as
``floors.<stage>_floor``.
"""

from .common import KEY, PLAN_STATISTICS, SKIPPED, match_ard, without_plan_rows
from .derive import derive_floor
from .efficacy import efficacy_floor
from .figures import figures_floor
from .ingest import ingest_floor
from .model import model_floor, two_arm_subjects
from .provenance import provenance_floor
from .reproduce import reproduce_floor
from .safety import safety_floor
from .tables import TABLE_NAMES, tables_floor
from .validate import validate_floor

__all__ = [
    "KEY",
    "SKIPPED",
    "match_ard",
    "without_plan_rows",
    "PLAN_STATISTICS",
    "derive_floor",
    "efficacy_floor",
    "figures_floor",
    "ingest_floor",
    "model_floor",
    "two_arm_subjects",
    "provenance_floor",
    "reproduce_floor",
    "safety_floor",
    "TABLE_NAMES",
    "tables_floor",
    "validate_floor",
]
