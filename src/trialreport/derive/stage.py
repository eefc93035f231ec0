"""The derive stage (rule ``derive``): baseline flag, BASE, CHG and PCHG per
parameter, the LOCF data of the sensitivity analysis, and every difference between the data as
delivered and the pipeline's own derivations."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialreport.common.config import Trial, as_trial
from trialreport.common.frames import write_csv, write_parquet
from trialreport.common.runner import StageError

log = logging.getLogger("trialreport")


# ---------------------------------------------------------------------------------------
# derive, analyse
# ---------------------------------------------------------------------------------------


def derive(trial: Trial | Mapping[str, Any], inputs: Mapping[str, str],
           outputs: Mapping[str, str], trial_id: str = "") -> None:
    """Baseline flag, BASE and CHG on the observed records (as delivered where the data
    carry BASE and CHG); the LOCF data of the sensitivity analysis, derived or as the
    sponsor delivered them (``analyses.locf``); and every difference between what the data
    deliver and what the pipeline derives (``outputs["checks"]``)."""
    from trialreport.derive.derivations import (
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
    write_parquet(efficacy, outputs["efficacy"])
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
        write_parquet(locf, outputs["locf"])
    if "checks" in outputs:
        write_csv(checks[CHECK_COLUMNS], outputs["checks"])
    for check, n in checks.groupby("check").size().items():
        log.warning("%d difference(s) between the data as delivered and the pipeline's "
                    "derivation of %s (listed in %s)", n, check,
                    outputs.get("checks", "the derive stage's checks"))
