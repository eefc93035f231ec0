"""The ingest stage (rule ``ingest``): read every dataset as the trial's config
declares it (format, delimiter, encoding, column map, codes), select the records to use, and
write them as Parquet with each record's row number in its file.

A stage that refuses its input raises ``StageError`` with a message meant for the user, which
``run_stage`` prints without a traceback before exiting non-zero (Snakemake then removes the
rule's outputs, so nothing downstream runs on refused data)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.common.config import DATASETS, Trial, as_trial
from trialreport.common.frames import write_csv, write_parquet
from trialreport.common.runner import StageError
from trialreport.ingest.leniency import null_flags_as_n, read_as, unknown_onsets
from trialreport.ingest.populations import fill_parameter, fill_visit_names, form_populations
from trialreport.ingest.reading import apply_code_maps, apply_column_map, read_table
from trialreport.ingest.records import (
    select_records,
    selection_summary,
)
from trialreport.ingest.source import ROW_COLUMN, InputFileError
from trialreport.validate import contracts
from trialreport.validate.failures import clear_failure_report, write_failure_report

log = logging.getLogger("trialreport")


# ---------------------------------------------------------------------------------------
# ingest
# ---------------------------------------------------------------------------------------


STALE_ON_REINGEST = ("report.html", "reproduction.csv")


def remove_stale_outputs(results_dir: Path) -> None:
    """Remove the final outputs of a trial whose data are being read again.

    Snakemake does not delete the outputs of later rules when an earlier rule fails, so
    without this a refused dataset would leave the previous report in place, looking current.
    They are rebuilt when the new data pass every stage.
    """
    for name in STALE_ON_REINGEST:
        path = results_dir / name
        if path.exists():
            path.unlink()
            log.info("removed %s: it was built from the previous data", path)


def ingest(trial: Trial | Mapping[str, Any], schema_dir: str | Path,
           outputs: Mapping[str, str], base_dir: str | Path = ".",
           report_dir: str | Path | None = None, trial_id: str = "") -> None:
    """Read every dataset as configured (format, delimiter, encoding, column map, codes),
    then keep the records the config selects (``where``; in scores, derived records other
    than LOCF are set aside), counting what was set aside in ``outputs["selection"]``.

    All files are tried before giving up, so one run names every unreadable file. When
    a file cannot be read, its failure cases (file, row, column, rule, value) go to
    ``<report_dir>/failures.csv`` and ``summary.md``, as for contract failures. A dataset
    the trial does not deliver (adverse events, exposure) is written with no rows.
    """
    trial = as_trial(trial, trial_id)
    remove_stale_outputs(Path(outputs["subjects"]).parent.parent)
    if report_dir is not None:
        clear_failure_report(report_dir)
    problems: list[pd.DataFrame] = []
    frames, selections = {}, {}
    known = contracts.load_contracts(schema_dir, list(DATASETS))
    for name in DATASETS:
        if not trial.has(name):
            frames[name] = _empty_dataset(known[name])
            log.info("%s: not delivered (no data.%s in the trial's config)", name, name)
            continue
        source = trial.data[name]
        path = Path(base_dir) / source.path
        try:
            frame = read_table(path, source.format, source.delimiter, source.encoding,
                               {"missing_values": source.missing_values,
                                "text_missing_values": source.text_missing_values})
            lenient = read_as(frame, source)
            frame.attrs.clear()  # listed in the selection table, not carried in the data
            frame = apply_column_map(frame, source.path, source.columns)
            frame = apply_code_maps(frame, source.codes)
            frame, selections[name] = select_records(frame, source,
                                                     derived_records=name == "scores")
            frame, flags = null_flags_as_n(frame, source, known[name])
            formed = []
            if name == "adverse_events":
                formed = [unknown_onsets(frame, source, trial.has("exposure"))]
            if name == "scores":
                frame, visits = fill_visit_names(frame, source, trial.design)
                frame, parameter = fill_parameter(frame, source, trial.design)
                formed = [visits, parameter]
            selections[name] = pd.concat([selections[name], lenient, flags, *formed],
                                         ignore_index=True)
        except InputFileError as exc:
            problems.append(reading_failures(exc, name, source.path))
            continue
        extra = [c for c in frame.columns
                 if c not in known[name].columns and c != ROW_COLUMN]
        if extra and source.extra_columns == "drop":
            frame = frame.drop(columns=extra)
            log.info("%s: dropped column(s) the contract does not name: %s",
                     source.path, ", ".join(extra))
        elif extra:
            log.info("%s: carried column(s) the contract does not name: %s",
                     source.path, ", ".join(extra))
        for _, count in selections[name].iterrows():
            log.info("%s: %s %d record(s): %s", source.path, count["records"], count["n"],
                     count["criterion"])
        frames[name] = frame
    if not problems and trial.design.populations:
        try:
            frames["subjects"], formed = form_populations(
                frames["subjects"], frames["scores"], trial.design,
                trial.data["subjects"].path)
            selections["subjects"] = pd.concat([selections["subjects"], formed],
                                               ignore_index=True)
        except InputFileError as exc:
            problems.append(reading_failures(exc, "subjects", trial.data["subjects"].path))
    if problems:
        table = pd.concat(problems, ignore_index=True)
        target = write_failure_report(table, report_dir, "Files that cannot be read")
        raise StageError(contracts.summarise_failures(table, target, title="Cannot read "
                                                      "the trial's data"))
    for name, frame in frames.items():
        write_parquet(frame.astype({c: "string" for c in frame.columns
                                       if frame[c].dtype == object}), outputs[name])
    if "selection" in outputs:
        write_csv(selection_summary(selections), outputs["selection"])


def _empty_dataset(contract: contracts.Contract) -> pd.DataFrame:
    """A dataset with the contract's required columns and no rows (not delivered)."""
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in contract.required_columns})
    frame[ROW_COLUMN] = pd.Series(dtype="int64")
    return frame


def reading_failures(exc: InputFileError, dataset: str, file: str) -> pd.DataFrame:
    """The failure cases of an unreadable file, in the columns of the failures table."""
    rows = [{"dataset": dataset, "file": file,
             "row": "" if c.get("row") is None else int(c["row"]),
             "column": c.get("column", ""), "rule": c["rule"], "value": str(c.get("value", "")),
             "message": c["message"], "severity": "error"} for c in exc.cases]
    return pd.DataFrame(rows, columns=contracts.FAILURE_COLUMNS)
