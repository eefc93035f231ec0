"""The workflow's stages as functions: paths in, files out.

The Snakemake scripts in ``workflow/scripts/`` only unpack ``snakemake.input``/``output`` and
call these. Each stage logs to its rule's log file and to the console; a stage that refuses
its input raises ``StageError`` with a message meant for the user, which ``run_stage`` prints
without a traceback before exiting non-zero (Snakemake then removes the rule's outputs, so
nothing downstream runs on refused data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import sys
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from trialreport import contracts, io
from trialreport.derive import derive_efficacy
from trialreport.reproduce import mismatch_message, reproduce

DATASETS = ("subjects", "scores", "adverse_events", "exposure")
log = logging.getLogger("trialreport")


class StageError(Exception):
    """The stage refuses its input; the message says why, for the user."""


def setup_logging(log_file: str | Path | None) -> None:
    log.handlers.clear()
    log.setLevel(logging.INFO)
    log.propagate = False
    fmt = logging.Formatter("%(levelname)s %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    log.addHandler(console)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        handler.setFormatter(fmt)
        log.addHandler(handler)


def run_stage(name: str, func: Callable[..., Any], log_file: str | Path | None,
              **kwargs: Any) -> None:
    """Run a stage; on ``StageError`` print its message and exit with status 1."""
    setup_logging(log_file)
    log.info("stage %s started", name)
    try:
        func(**kwargs)
    except StageError as exc:
        log.error("stage %s refused its input:\n%s", name, exc)
        sys.exit(1)
    log.info("stage %s finished", name)


def load_trial_config(config_path: str | Path, trial: str) -> dict[str, Any]:
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    return config["trials"][trial]


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


def ingest(trial: Mapping[str, Any], schema_dir: str | Path, outputs: Mapping[str, str],
           base_dir: str | Path = ".", report_dir: str | Path | None = None) -> None:
    """Read every dataset as configured (format, delimiter, encoding, column map, codes).

    All four files are tried before giving up, so one run names every unreadable file. When
    a file cannot be read, its failure cases (file, row, column, rule, value) go to
    ``<report_dir>/failures.csv`` and ``summary.md``, as for contract failures.
    """
    remove_stale_outputs(Path(outputs["subjects"]).parent.parent)
    if report_dir is not None:
        _clear_failure_report(report_dir)
    problems: list[pd.DataFrame] = []
    frames = {}
    known = contracts.load_contracts(schema_dir, list(DATASETS))
    for name in DATASETS:
        source = trial["data"][name]
        path = Path(base_dir) / source["path"]
        try:
            frame = io.read_table(path, source.get("format"), source.get("delimiter", ","),
                                  source.get("encoding", "utf-8"))
            frame = io.apply_column_map(frame, source["path"], source.get("columns"))
            frame = io.apply_code_maps(frame, source.get("codes"))
        except io.InputFileError as exc:
            problems.append(reading_failures(exc, name, source["path"]))
            continue
        extra = [c for c in frame.columns
                 if c not in known[name].columns and c != io.ROW_COLUMN]
        if extra and source.get("extra_columns", "keep") == "drop":
            frame = frame.drop(columns=extra)
            log.info("%s: dropped column(s) the contract does not name: %s",
                     source["path"], ", ".join(extra))
        elif extra:
            log.info("%s: carried column(s) the contract does not name: %s",
                     source["path"], ", ".join(extra))
        log.info("%s: read %d rows, %d columns", source["path"], len(frame),
                 frame.shape[1] - 1)
        frames[name] = frame
    if problems:
        table = pd.concat(problems, ignore_index=True)
        target = _write_failure_report(table, report_dir, "Files that cannot be read")
        raise StageError(contracts.summarise_failures(table, target, title="Cannot read "
                                                      "the trial's data"))
    for name, frame in frames.items():
        io.write_parquet(frame.astype({c: "string" for c in frame.columns
                                       if frame[c].dtype == object}), outputs[name])


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
    io.atomic_write_text(report_dir / "summary.md", failure_summary_markdown(table, heading))
    return str(report_dir / "failures.csv")


# ---------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------

EXCLUSION_COLUMNS = ["dataset", "file", "row", "USUBJID", "PARAMCD", "rule", "reason"]


def validate(trial: Mapping[str, Any], schema_dir: str | Path, inputs: Mapping[str, str],
             outputs: Mapping[str, str], report_dir: str | Path) -> None:
    """Check every dataset against its contract, lazily; write typed data or refuse it.

    On failure, ``<report_dir>/failures.csv`` lists every failure (dataset, file, row,
    column, rule, value, message) and ``<report_dir>/summary.md`` summarises them; no
    validated data are written. Rules listed under ``validation: warn`` in the trial's config
    are reported as warnings (``outputs["warnings"]``) and do not stop the run. Subjects with
    efficacy data but no baseline are failures or, with ``validation: missing_baseline:
    exclude``, exclusions listed with their reason (``outputs["exclusions"]``).
    """
    _clear_failure_report(report_dir)
    settings = trial.get("validation", {}) or {}
    warn_rules = set(settings.get("warn", []))
    unknown = sorted(warn_rules - set(contracts.RULES))
    if unknown:
        raise StageError(f"validation: warn names rule(s) that cannot be warnings: "
                         f"{', '.join(unknown)}; these can: {', '.join(sorted(contracts.RULES))}")
    known = contracts.load_contracts(schema_dir, list(DATASETS))
    domain = contracts.Domain.from_trial_config(trial)
    raw = {name: pd.read_parquet(inputs[name]) for name in DATASETS}
    typed, failures = {}, []
    # Subjects first: their identifiers are the domain of USUBJID everywhere else.
    for name in DATASETS:
        file = trial["data"][name]["path"]
        frame, fails = contracts.validate_frame(raw[name], known[name], domain, file)
        typed[name] = frame
        failures.append(fails)
        if name == "subjects" and "USUBJID" in frame.columns:
            domain.subject_ids = sorted(frame["USUBJID"].dropna().unique())
    scores_file = trial["data"]["scores"]["path"]
    missing = contracts.missing_baselines(
        typed["scores"], trial["design"]["parameters"],
        {int(v["number"]): v["name"] for v in trial["design"]["visits"]})
    # A baseline AVAL that is not a number is already a failure; do not report it twice.
    scores_fails = failures[DATASETS.index("scores")]
    unreadable = scores_fails.loc[(scores_fails["rule"] == "type")
                                  & (scores_fails["column"] == "AVAL"), "row"]
    missing = missing[~missing["row"].isin(set(unreadable))]
    mode = settings.get("missing_baseline", "error")
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
# derive, analyse, reproduce
# ---------------------------------------------------------------------------------------


def baseline_visits(trial: Mapping[str, Any]) -> dict[str, int]:
    return {code: int(p["baseline_visit"]) for code, p in trial["design"]["parameters"].items()}


def derive(trial: Mapping[str, Any], inputs: Mapping[str, str],
           outputs: Mapping[str, str]) -> None:
    efficacy = derive_efficacy(pd.read_parquet(inputs["scores"]), baseline_visits(trial))
    io.write_parquet(efficacy, outputs["efficacy"])
    n_base = efficacy.groupby("PARAMCD")["ABLFL"].apply(lambda s: (s == "Y").sum())
    for code, n in n_base.items():
        log.info("%s: %d subject(s) with a baseline rating", code, n)


def analyse(trial_id: str, trial: Mapping[str, Any], inputs: Mapping[str, str],
            output: str) -> None:
    # pingouin (via trialreport.analysis) is imported only here
    from trialreport.analysis import AnalysisConfigError, build_ard, format_ard
    from trialreport.safety import build_safety_ard

    subjects = pd.read_parquet(inputs["subjects"])
    efficacy = pd.read_parquet(inputs["efficacy"])
    exposure = pd.read_parquet(inputs["exposure"])
    try:
        ard = build_ard(trial_id, trial, subjects=subjects, efficacy=efficacy,
                        exposure=exposure)
    except AnalysisConfigError as exc:
        raise StageError(f"analyses of trial {trial_id!r}: {exc}") from exc
    # Safety, demographic, disposition and exposure tables (trialreport.safety), appended
    # after the efficacy results in the same analysis-results table.
    safety = build_safety_ard(trial_id, trial, subjects=subjects,
                              adverse_events=pd.read_parquet(inputs["adverse_events"]),
                              exposure=exposure, efficacy=efficacy)
    ard = pd.concat([ard, safety], ignore_index=True)
    io.write_csv(format_ard(ard), output)
    log.info("analysis results: %d rows", len(ard))


def read_ard(path: str | Path) -> pd.DataFrame:
    ard = pd.read_csv(path, dtype={"value": float, "visitn": float}, keep_default_na=False,
                      na_values={"value": [""], "visitn": [""]})
    return ard


def reproduce_targets(trial: Mapping[str, Any], ard_path: str, output: str) -> None:
    table = reproduce(read_ard(ard_path), trial)
    io.write_csv(table, output)
    for _, r in table.iterrows():
        log.info("%-20s published %-10s reproduced %-10s %s", r["id"], r["published"],
                 r["reproduced"], r["status"])
    if (table["status"] != "match").any():
        message = mismatch_message(table)
        if trial["reproduction"].get("on_mismatch", "fail") == "fail":
            Path(output).unlink()
            raise StageError(message + "\n(set reproduction.on_mismatch: report in the "
                             "trial's config to report mismatches without failing)")
        log.warning(message)


def write_display_tables(trial: Mapping[str, Any], ard_path: str, outdir: str) -> None:
    """The safety, demographic, disposition and exposure tables as CSV, from ard.csv."""
    from trialreport.tables import write_tables

    for path in write_tables(read_ard(ard_path), trial, outdir):
        log.info("wrote %s", path)


# ---------------------------------------------------------------------------------------
# provenance
# ---------------------------------------------------------------------------------------

PROVENANCE_PACKAGES = ("trialreport", "pandas", "numpy", "scipy", "pingouin", "pandera",
                       "statsmodels", "snakemake", "matplotlib", "nbclient", "nbconvert")


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(trial_id: str, trial: Mapping[str, Any], inputs: Mapping[str, str],
               data_files: Mapping[str, str], output: str, trial_config_output: str) -> None:
    """What the results rest on: input files with their SHA-256, the trial's config and the
    versions of the software. No time stamps, so the same inputs give the same file. The
    trial's config is also written as it was used, for the report to read."""
    record = {
        "trial": trial_id,
        "data": {name: {"path": trial["data"][name]["path"], "sha256": sha256(path),
                        "bytes": Path(path).stat().st_size}
                 for name, path in data_files.items()},
        "results": {name: {"path": str(path), "sha256": sha256(path)}
                    for name, path in inputs.items()},
        "config_sha256": hashlib.sha256(
            json.dumps(trial, sort_keys=True).encode("utf-8")).hexdigest(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PROVENANCE_PACKAGES},
    }
    io.atomic_write_text(output, json.dumps(record, indent=2, sort_keys=True) + "\n")
    io.atomic_write_text(trial_config_output,
                         json.dumps(dict(trial), indent=2, sort_keys=True) + "\n")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
