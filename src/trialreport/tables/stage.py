"""The tables stage (rule ``tables``): the display tables as CSV, formatted from
``ard.csv`` only (``trialreport.tables.display``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from trialreport.analyse.ard import read_ard
from trialreport.common.config import Trial, as_trial

log = logging.getLogger("trialreport")


def write_display_tables(trial: Trial | Mapping[str, Any], ard_path: str, outdir: str,
                         trial_id: str = "") -> None:
    """The safety, demographic, disposition and exposure tables as CSV, from ard.csv."""
    from trialreport.tables.display import write_tables

    for path in write_tables(read_ard(ard_path), as_trial(trial, trial_id), outdir):
        log.info("wrote %s", path)
