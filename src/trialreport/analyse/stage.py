"""The analyse stage (rule ``analyse``): the analysis-results table (``ard.csv``),
efficacy rows (``trialreport.analyse.efficacy``) then safety, demographic, disposition and
exposure rows (``trialreport.analyse.safety``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialreport.common.config import Trial, as_trial
from trialreport.common.frames import write_csv
from trialreport.common.runner import StageError

log = logging.getLogger("trialreport")


def analyse(trial_id: str, trial: Trial | Mapping[str, Any], inputs: Mapping[str, str],
            output: str, threads: int = 1) -> None:
    # the analyses (scipy.special; statsmodels where a model is configured) load here only
    from trialreport.analyse.ard import format_ard
    from trialreport.analyse.efficacy import build_ard
    from trialreport.analyse.safety import build_safety_ard
    from trialreport.common.config import AnalysisConfigError

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
        # Analyses under named assumptions about missing data (analyses.missing_data), on
        # the cores the rule has (trialreport.analyse.missing_data).
        if trial.analyses.missing_data:
            from trialreport.analyse.ard import arm_order
            from trialreport.analyse.missing_data import missing_data_ard

            ard = pd.concat([ard, missing_data_ard(
                trial_id, trial, subjects, efficacy, arm_order(subjects, trial),
                workers=threads)], ignore_index=True)
        # Safety, demographic, disposition and exposure tables (trialreport.analyse.safety),
        # appended after the efficacy results in the same analysis-results table.
        safety = build_safety_ard(trial_id, trial, subjects=subjects,
                                  adverse_events=adverse_events, exposure=exposure,
                                  efficacy=efficacy)
    except AnalysisConfigError as exc:
        raise StageError(f"analyses of trial {trial_id!r}: {exc}") from exc
    ard = pd.concat([ard, safety], ignore_index=True)
    write_csv(format_ard(ard), output)
    log.info("analysis results: %d rows", len(ard))
