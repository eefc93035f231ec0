"""The validate stage (rule ``validate``): every dataset checked against its data
contract (``schemas/<dataset>.yaml``), lazily, every failure at once; typed data written only
when nothing is refused."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.common.config import DATASETS, Trial, as_trial
from trialreport.common.frames import write_csv, write_parquet
from trialreport.common.runner import StageError
from trialreport.ingest.records import (
    derive_period,
    subject_copy_failures,
)
from trialreport.validate.contracts import (
    FAILURE_COLUMNS,
    load_contracts,
    summarise_failures,
    validate_frame,
)
from trialreport.validate.domain import Domain
from trialreport.validate.failures import clear_failure_report, write_failure_report
from trialreport.validate.rules import BASELINE_RULE, RULES, missing_baselines

log = logging.getLogger("trialreport")


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
    clear_failure_report(report_dir)
    warn_rules = set(trial.validation.warn)
    unknown = sorted(warn_rules - set(RULES))
    if unknown:
        raise StageError(f"validation: warn names rule(s) that cannot be warnings: "
                         f"{', '.join(unknown)}; these can: {', '.join(sorted(RULES))}")
    known = load_contracts(schema_dir, list(DATASETS))
    domain = Domain.from_trial(trial)
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
        frame, fails = validate_frame(raw[name], known[name], domain, files[name])
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
    # The cross-dataset checks match records by USUBJID and read the dosing days: where a
    # dataset lacks such a column (a contract failure reported above) they cannot run;
    # otherwise they run beside the contracts, so every failure is reported at once.
    lacking = [f"{files[n]} ({', '.join(sorted(CROSS_CHECK_COLUMNS[n] - set(typed[n].columns)))})"
               for n in DATASETS
               if trial.has(n) and not CROSS_CHECK_COLUMNS[n] <= set(typed[n].columns)]
    if lacking:
        log.info("cross-dataset checks not run: no %s", "; ".join(lacking))
    else:
        failures.append(_cross_dataset_findings(trial, typed, files))
    scores_file = files["scores"]
    missing = missing_baselines(typed["scores"], trial.design.parameters,
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
                                    rule=BASELINE_RULE)[EXCLUSION_COLUMNS]
        exclusions["reason"] = ("excluded from change-from-baseline analyses: "
                                + missing["reason"])
    elif len(missing):
        failures.append(pd.DataFrame({
            "dataset": "scores", "file": scores_file, "row": missing["row"],
            "column": "AVAL", "rule": BASELINE_RULE, "value": missing["value"],
            "message": missing["reason"] + " (set validation: missing_baseline: exclude in "
                       "the trial's config to exclude such subjects instead)",
            "severity": "error"}, columns=FAILURE_COLUMNS))
    table = pd.concat(failures, ignore_index=True)
    table.loc[table["rule"].isin(warn_rules), "severity"] = "warning"
    errors = table[table["severity"] == "error"]
    if len(errors):
        # records completed by a rule (notes) are no failures: listed only in a run that goes on
        failed = table[table["severity"] != "note"]
        target = write_failure_report(failed, report_dir, "Validation failures")
        raise StageError(summarise_failures(failed, target))
    for name in DATASETS:
        write_parquet(typed[name], outputs[name])
    write_csv(table, outputs["warnings"])
    if "exclusions" in outputs:
        write_csv(exclusions, outputs["exclusions"])
    for _, x in exclusions.iterrows():
        log.info("excluded %s from %s: %s", x["USUBJID"], x["PARAMCD"], x["reason"])
    log.info("all %d datasets passed their contracts (%d warning(s), %d exclusion(s))",
             len(DATASETS), len(table), len(exclusions))


CROSS_CHECK_COLUMNS = {"subjects": {"USUBJID"}, "scores": {"USUBJID"},
                       "adverse_events": {"USUBJID"},
                       "exposure": {"USUBJID", "EXSTDY", "EXENDY"}}
"""The columns the cross-dataset checks cannot do without (every other one they read is
optional: a check whose column is absent is not made)."""


def _cross_dataset_findings(trial: Trial, typed: dict[str, pd.DataFrame],
                            files: Mapping[str, str]) -> pd.DataFrame:
    """Open exposure records closed where the data say (``typed["exposure"]`` updated),
    adverse events counted as emergent for want of an onset day, and the cross-dataset
    consistency checks (``validate.crosschecks``), as rows of the failures table."""
    from trialreport.validate import crosschecks as cc

    delivered = {name: trial.has(name) for name in DATASETS}
    findings = []
    if delivered["exposure"]:
        typed["exposure"], closed = cc.close_open_exposure(
            typed["exposure"], typed["subjects"], trial.design.periods,
            trial.validation.open_exposure, files["exposure"], files["subjects"])
        findings += closed
    if delivered["adverse_events"]:
        findings += cc.onset_missing_notes(typed["adverse_events"], files["adverse_events"],
                                           delivered["exposure"], typed["subjects"])
        findings += cc.missing_value_notes(typed["adverse_events"], files["adverse_events"],
                                           typed["subjects"])
    severity = "error" if trial.validation.consistency == "refuse" else "warning"
    findings += cc.consistency_findings(typed["subjects"], typed["adverse_events"],
                                        typed["exposure"], typed["scores"], files, severity,
                                        delivered)
    for f in findings:
        if f["severity"] != "error":
            log.info("%s, row %s: %s: %s", f["file"], f["row"], f["rule"], f["message"])
    return cc.findings_frame(findings)


def _explain_derived_period(fails: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """An empty APHASE that the pipeline derived means the day lies in no period: say so."""
    day = "ASTDY" if dataset == "adverse_events" else "EXSTDY"
    derived = (fails["column"] == "APHASE") & (fails["rule"] == "not_null")
    fails = fails.copy()
    fails.loc[derived, "message"] = (
        f"the file has no APHASE, and no period of design.periods holds this record's "
        f"{day}, so it has no period; add the period to design.periods (or its days)")
    return fails
