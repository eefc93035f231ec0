"""The workflow's stages as functions: paths in, files out (ingest, validate, derive,
analyse, the display tables; reproduce is in ``trialreport.reproduce`` and provenance in
``trialreport.provenance``, which import no pandas).

The Snakemake scripts in ``workflow/scripts/`` only unpack ``snakemake.input``/``output``,
read the trial's config entry (``trial_config.json``, ``trialreport.stage``) and call these
through ``run_stage``. Each stage logs to its rule's log file and to the console; a stage
that refuses its input raises ``StageError`` with a message meant for the user, which
``run_stage`` prints without a traceback before exiting non-zero (Snakemake then removes
the rule's outputs, so nothing downstream runs on refused data).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport import contracts, io
from trialreport.config import DATASETS, Trial, as_trial
from trialreport.files import atomic_write_text
from trialreport.records import (
    derive_period,
    select_records,
    selection_summary,
    subject_copy_failures,
)
from trialreport.reproduce import reproduce_targets  # noqa: F401 - the stages' API
from trialreport.stage import StageError, run_stage, setup_logging  # noqa: F401 - the stages' API

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
        _clear_failure_report(report_dir)
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
            frame = io.read_table(path, source.format, source.delimiter, source.encoding)
            frame = io.apply_column_map(frame, source.path, source.columns)
            frame = io.apply_code_maps(frame, source.codes)
            frame, selections[name] = select_records(frame, source,
                                                     derived_records=name == "scores")
        except io.InputFileError as exc:
            problems.append(reading_failures(exc, name, source.path))
            continue
        extra = [c for c in frame.columns
                 if c not in known[name].columns and c != io.ROW_COLUMN]
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
    if problems:
        table = pd.concat(problems, ignore_index=True)
        target = _write_failure_report(table, report_dir, "Files that cannot be read")
        raise StageError(contracts.summarise_failures(table, target, title="Cannot read "
                                                      "the trial's data"))
    for name, frame in frames.items():
        io.write_parquet(frame.astype({c: "string" for c in frame.columns
                                       if frame[c].dtype == object}), outputs[name])
    if "selection" in outputs:
        io.write_csv(selection_summary(selections), outputs["selection"])


def _empty_dataset(contract: contracts.Contract) -> pd.DataFrame:
    """A dataset with the contract's required columns and no rows (not delivered)."""
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in contract.required_columns})
    frame[io.ROW_COLUMN] = pd.Series(dtype="int64")
    return frame


def reading_failures(exc: io.InputFileError, dataset: str, file: str) -> pd.DataFrame:
    """The failure cases of an unreadable file, in the columns of the failures table."""
    rows = [{"dataset": dataset, "file": file,
             "row": "" if c.get("row") is None else int(c["row"]),
             "column": c.get("column", ""), "rule": c["rule"], "value": str(c.get("value", "")),
             "message": c["message"], "severity": "error"} for c in exc.cases]
    return pd.DataFrame(rows, columns=contracts.FAILURE_COLUMNS)


def _clear_failure_report(report_dir: str | Path) -> None:
    for stale in ("failures.csv", "summary.md"):
        (Path(report_dir) / stale).unlink(missing_ok=True)


def _write_failure_report(table: pd.DataFrame, report_dir: str | Path | None,
                          heading: str) -> str:
    if report_dir is None:
        return "(not written: no report folder given)"
    report_dir = Path(report_dir)
    io.write_csv(table, report_dir / "failures.csv")
    atomic_write_text(report_dir / "summary.md", failure_summary_markdown(table, heading))
    return str(report_dir / "failures.csv")


# ---------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------

EXCLUSION_COLUMNS = ["dataset", "file", "row", "USUBJID", "PARAMCD", "rule", "reason"]


def validate(trial: Trial | Mapping[str, Any], schema_dir: str | Path,
             inputs: Mapping[str, str], outputs: Mapping[str, str], report_dir: str | Path,
             trial_id: str = "") -> None:
    """Check every dataset against its contract, lazily; write typed data or refuse it.

    On failure, ``<report_dir>/failures.csv`` lists every failure (dataset, file, row,
    column, rule, value, message) and ``<report_dir>/summary.md`` summarises them; no
    validated data are written. Rules listed under ``validation: warn`` in the trial's config
    are reported as warnings (``outputs["warnings"]``) and do not stop the run. Subjects with
    efficacy data but no baseline are failures or, with ``validation: missing_baseline:
    exclude``, exclusions listed with their reason (``outputs["exclusions"]``).

    Where adverse events or exposure have no period (APHASE), it is derived from the study
    day (``records.derive_period``). Subject-level variables repeated in the other datasets
    (as ADaM repeats ADSL's) must equal the subjects dataset's (rule ``matches_subjects``)
    and are then dropped there: the subjects dataset is their one source.
    """
    trial = as_trial(trial, trial_id)
    _clear_failure_report(report_dir)
    warn_rules = set(trial.validation.warn)
    unknown = sorted(warn_rules - set(contracts.RULES))
    if unknown:
        raise StageError(f"validation: warn names rule(s) that cannot be warnings: "
                         f"{', '.join(unknown)}; these can: {', '.join(sorted(contracts.RULES))}")
    known = contracts.load_contracts(schema_dir, list(DATASETS))
    domain = contracts.Domain.from_trial(trial)
    raw = {name: pd.read_parquet(inputs[name]) for name in DATASETS}
    derived_period = {}
    for name, day in (("adverse_events", "ASTDY"), ("exposure", "EXSTDY")):
        derived_period[name] = "APHASE" not in raw[name].columns
        raw[name] = derive_period(raw[name], day, trial.design.periods)
    files = {name: trial.data[name].path if trial.has(name) else f"(no {name} delivered)"
             for name in DATASETS}
    typed, failures = {}, []
    # Subjects first: their identifiers are the domain of USUBJID everywhere else.
    for name in DATASETS:
        frame, fails = contracts.validate_frame(raw[name], known[name], domain, files[name])
        if derived_period.get(name):
            fails = _explain_derived_period(fails, name)
        typed[name] = frame
        failures.append(fails)
        if name == "subjects" and "USUBJID" in frame.columns:
            domain.subject_ids = sorted(frame["USUBJID"].dropna().unique())
    for name in DATASETS[1:]:
        copies, fails = subject_copy_failures(raw[name], raw["subjects"], name, files[name],
                                              files["subjects"], list(known[name].columns))
        if copies:
            typed[name] = typed[name].drop(columns=copies)
            log.info("%s: subject-level column(s) %s taken from the subjects dataset (the "
                     "copies here were checked against it)", files[name], ", ".join(copies))
        failures.append(fails)
    scores_file = files["scores"]
    missing = contracts.missing_baselines(typed["scores"], trial.design.parameters,
                                          trial.design.visit_names)
    # A baseline AVAL that is not a number is already a failure; do not report it twice.
    scores_fails = failures[DATASETS.index("scores")]
    unreadable = scores_fails.loc[(scores_fails["rule"] == "type")
                                  & (scores_fails["column"] == "AVAL"), "row"]
    missing = missing[~missing["row"].isin(set(unreadable))]
    mode = trial.validation.missing_baseline
    exclusions = pd.DataFrame(columns=EXCLUSION_COLUMNS)
    if len(missing) and mode == "exclude":
        exclusions = missing.assign(dataset="scores", file=scores_file,
                                    rule=contracts.BASELINE_RULE)[EXCLUSION_COLUMNS]
        exclusions["reason"] = ("excluded from change-from-baseline analyses: "
                                + missing["reason"])
    elif len(missing):
        failures.append(pd.DataFrame({
            "dataset": "scores", "file": scores_file, "row": missing["row"],
            "column": "AVAL", "rule": contracts.BASELINE_RULE, "value": missing["value"],
            "message": missing["reason"] + " (set validation: missing_baseline: exclude in "
                       "the trial's config to exclude such subjects instead)",
            "severity": "error"}, columns=contracts.FAILURE_COLUMNS))
    table = pd.concat(failures, ignore_index=True)
    table.loc[table["rule"].isin(warn_rules), "severity"] = "warning"
    errors = table[table["severity"] == "error"]
    if len(errors):
        target = _write_failure_report(table, report_dir, "Validation failures")
        raise StageError(contracts.summarise_failures(table, target))
    for name in DATASETS:
        io.write_parquet(typed[name], outputs[name])
    io.write_csv(table, outputs["warnings"])
    if "exclusions" in outputs:
        io.write_csv(exclusions, outputs["exclusions"])
    for _, x in exclusions.iterrows():
        log.info("excluded %s from %s: %s", x["USUBJID"], x["PARAMCD"], x["reason"])
    log.info("all %d datasets passed their contracts (%d warning(s), %d exclusion(s))",
             len(DATASETS), len(table), len(exclusions))


def _explain_derived_period(fails: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """An empty APHASE that the pipeline derived means the day lies in no period: say so."""
    day = "ASTDY" if dataset == "adverse_events" else "EXSTDY"
    derived = (fails["column"] == "APHASE") & (fails["rule"] == "not_null")
    fails = fails.copy()
    fails.loc[derived, "message"] = (
        f"the file has no APHASE, and no period of design.periods holds this record's "
        f"{day}, so it has no period; add the period to design.periods (or its days)")
    return fails


def failure_summary_markdown(table: pd.DataFrame, heading: str = "Validation failures") -> str:
    """A short Markdown summary: failures by rule and file, then the first 50 of them."""
    errors = table[table["severity"] == "error"]
    warnings = table[table["severity"] == "warning"]
    lines = [f"# {heading}", "",
             f"{len(errors)} failure(s) in {errors['file'].nunique()} file(s); "
             "the data were refused and nothing downstream was produced. "
             "Your files were not modified."
             + (f" Also {len(warnings)} warning(s)." if len(warnings) else ""), "",
             "| rule | failures | files |", "|---|---:|---|"]
    for rule, group in errors.groupby("rule", sort=True):
        lines.append(f"| {rule} | {len(group)} | {', '.join(sorted(group['file'].unique()))} |")
    lines += ["", "## First failures", "", "| file | row | column | rule | value | message |",
              "|---|---:|---|---|---|---|"]
    for _, f in errors.head(50).iterrows():
        cells = [f["file"], f["row"], f["column"], f["rule"], f["value"], f["message"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if len(errors) > 50:
        lines.append(f"\n... and {len(errors) - 50} more in failures.csv.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# derive, analyse
# ---------------------------------------------------------------------------------------


def derive(trial: Trial | Mapping[str, Any], inputs: Mapping[str, str],
           outputs: Mapping[str, str], trial_id: str = "") -> None:
    """Baseline flag, BASE and CHG on the observed records (as delivered where the data
    carry BASE and CHG); the LOCF data of the sensitivity analysis, derived or as the
    sponsor delivered them (``analyses.locf``); and every difference between what the data
    deliver and what the pipeline derives (``outputs["checks"]``)."""
    from trialreport.derive import (
        CHECK_COLUMNS,
        attach_base,
        compare_locf,
        derive_efficacy_as_delivered,
        derive_locf_records,
        locf_as_delivered,
        split_derived_records,
    )

    trial = as_trial(trial, trial_id)
    design = trial.design
    observed, sponsor_locf = split_derived_records(pd.read_parquet(inputs["scores"]))
    efficacy, checks = derive_efficacy_as_delivered(observed, design.baseline_visits)
    io.write_parquet(efficacy, outputs["efficacy"])
    n_base = efficacy.dropna(subset=["BASE"]).groupby("PARAMCD")["USUBJID"].nunique()
    for code, n in n_base.items():
        log.info("%s: %d subject(s) with a baseline", code, n)
    if trial.analyses.locf == "delivered" and sponsor_locf.empty:
        raise StageError(f"trial {trial.id!r}: analyses.locf is 'delivered', but "
                         f"{trial.data['scores'].path} has no records with DTYPE = LOCF "
                         "among those selected (data.scores.where); set analyses.locf to "
                         "true to derive LOCF, or false")
    locf = pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVISIT", "AVISITN", "AVAL", "DTYPE"])
    ours = None
    if trial.analyses.locf != "none" or len(sponsor_locf):
        ours = derive_locf_records(efficacy, sorted(design.visit_names), design.visit_names,
                                   baseline_visits=design.locf_from)
    if len(sponsor_locf):
        theirs = locf_as_delivered(efficacy, sponsor_locf)
        checks = pd.concat([checks, compare_locf(ours, theirs)], ignore_index=True)
        log.info("%d LOCF record(s) as delivered; %d differ from the pipeline's LOCF",
                 len(sponsor_locf), (checks["check"] == "LOCF").sum())
    if trial.analyses.locf == "derived":
        locf = ours
    elif trial.analyses.locf == "delivered":
        locf = theirs
    locf = attach_base(locf, efficacy)
    if "locf" in outputs:
        io.write_parquet(locf, outputs["locf"])
    if "checks" in outputs:
        io.write_csv(checks[CHECK_COLUMNS], outputs["checks"])
    for check, n in checks.groupby("check").size().items():
        log.warning("%d difference(s) between the data as delivered and the pipeline's "
                    "derivation of %s (listed in %s)", n, check,
                    outputs.get("checks", "the derive stage's checks"))


def analyse(trial_id: str, trial: Trial | Mapping[str, Any], inputs: Mapping[str, str],
            output: str) -> None:
    # the analyses (scipy.special; statsmodels where a model is configured) load here only
    from trialreport.analysis import build_ard, format_ard
    from trialreport.config import AnalysisConfigError
    from trialreport.safety import build_safety_ard

    trial = as_trial(trial, trial_id)
    subjects = pd.read_parquet(inputs["subjects"])
    efficacy = pd.read_parquet(inputs["efficacy"])
    exposure = pd.read_parquet(inputs["exposure"]) if trial.has("exposure") else None
    adverse_events = (pd.read_parquet(inputs["adverse_events"])
                      if trial.has("adverse_events") else None)
    locf = pd.read_parquet(inputs["locf"]) if "locf" in inputs else None
    try:
        ard = build_ard(trial_id, trial, subjects=subjects, efficacy=efficacy,
                        exposure=exposure, locf=locf)
        # Safety, demographic, disposition and exposure tables (trialreport.safety),
        # appended after the efficacy results in the same analysis-results table.
        safety = build_safety_ard(trial_id, trial, subjects=subjects,
                                  adverse_events=adverse_events, exposure=exposure,
                                  efficacy=efficacy)
    except AnalysisConfigError as exc:
        raise StageError(f"analyses of trial {trial_id!r}: {exc}") from exc
    ard = pd.concat([ard, safety], ignore_index=True)
    io.write_csv(format_ard(ard), output)
    log.info("analysis results: %d rows", len(ard))


def read_ard(path: str | Path) -> pd.DataFrame:
    ard = pd.read_csv(path, dtype={"value": float, "visitn": float}, keep_default_na=False,
                      na_values={"value": [""], "visitn": [""]})
    return ard


def write_display_tables(trial: Trial | Mapping[str, Any], ard_path: str, outdir: str,
                         trial_id: str = "") -> None:
    """The safety, demographic, disposition and exposure tables as CSV, from ard.csv."""
    from trialreport.tables import write_tables

    for path in write_tables(read_ard(ard_path), as_trial(trial, trial_id), outdir):
        log.info("wrote %s", path)
