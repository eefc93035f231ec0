"""The reproduce stage (rule ``reproduce``): published targets against the analysis
results, written to ``reproduction.csv``. It works on ``ard.csv``'s rows with the standard
library, so the job imports no pandas."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from trialreport.common.config import Trial, as_trial
from trialreport.common.files import atomic_write_text
from trialreport.common.runner import StageError
from trialreport.reproduce.targets import (
    REPRODUCTION_COLUMNS,
    Row,
    TargetError,
    mismatch_message,
    reproduce_rows,
)

log = logging.getLogger("trialreport")


# ---------------------------------------------------------------------------------------
# The reproduce stage: ard.csv in, reproduction.csv out, with the standard library
# ---------------------------------------------------------------------------------------

NUMERIC_ARD_COLUMNS = ("value", "visitn")


def read_ard_rows(path: str | Path) -> list[Row]:
    """ard.csv as rows: ``value`` and ``visitn`` as floats (NaN where empty), the other
    columns as text ('' where empty), as ``trialreport.analyse.ard.read_ard`` reads them into a
    frame."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for column in NUMERIC_ARD_COLUMNS:
            text = row.get(column)
            if text is not None:
                row[column] = float(text) if text != "" else math.nan
    return rows


def reproduction_csv(rows: Sequence[Row]) -> str:
    """reproduction.csv's text: the columns of ``REPRODUCTION_COLUMNS``, UTF-8, ``\\n`` line
    endings, fields quoted only where needed; the bytes ``io.write_csv`` writes for the same
    table as a data frame."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPRODUCTION_COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None or (isinstance(row[c], float)
                                                   and math.isnan(row[c])) else row[c]
                         for c in REPRODUCTION_COLUMNS])
    return buffer.getvalue()


def reproduce_targets(trial: Trial | Mapping[str, Any], ard_path: str, output: str,
                      trial_id: str = "") -> None:
    """The workflow's reproduce stage: the trial's published targets against ard.csv,
    written to ``output`` (reproduction.csv). Targets that are not reproduced fail the stage
    (the file removed) unless the trial's ``reproduction.on_mismatch`` is ``report``;
    inconsistent ones are reported and never fail it."""
    trial = as_trial(trial, trial_id)
    try:
        table = reproduce_rows(read_ard_rows(ard_path), trial)
    except TargetError as exc:
        raise StageError(f"reproduction.targets of trial {trial.id!r}: {exc}") from exc
    atomic_write_text(output, reproduction_csv(table))
    for r in table:
        log.info("%-20s published %-10s reproduced %-10s %s", r["id"], r["published"],
                 r["reproduced"], r["status"])
    if any(r["status"] == "inconsistent" for r in table):
        # published figures that no whole-number data could give: reported, never failing
        log.warning(mismatch_message(table, "inconsistent"))
    if any(r["status"] == "mismatch" for r in table):
        message = mismatch_message(table)
        if trial.reproduction.on_mismatch == "fail":
            Path(output).unlink()
            raise StageError(message + "\n(set reproduction.on_mismatch: report in the "
                             "trial's config to report mismatches without failing)")
        log.warning(message)
