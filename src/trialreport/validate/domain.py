"""The values of a trial that its data contracts refer to as ``{domain: NAME}``: visits,
parameter codes and ranges, dose levels, periods, study days and subject identifiers, taken
from the trial's config (``Domain.from_trial``) and, for subjects, from its subjects dataset."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trialreport.common.config import Parameter, Trial, as_trial


@dataclass
class Domain:
    """Trial-specific value domains, from the trial's config and the subjects file.

    A domain the config leaves out (no ``dose_levels``, ``age_range`` or ``study_days``) is
    None, and the check that would use it is not made."""

    visits: dict[str, int]
    parameters: dict[str, Parameter]
    dose_levels: list[float] | None
    periods: dict[str, tuple[float, float]]
    study_days: tuple[int, int] | None
    age_range: tuple[int, int] | None
    visit_days: dict[str, int] = field(default_factory=dict)
    visit_windows: dict[str, int] = field(default_factory=dict)
    period_doses: dict[str, list[float]] = field(default_factory=dict)
    """The dose levels a period allows, for periods whose config lists ``dose_levels``."""
    subject_ids: list[str] | None = None
    """None until the subjects dataset is read; then the membership check applies."""

    @classmethod
    def from_trial(cls, trial: Trial) -> Domain:
        design = trial.design
        windows = {}
        for v in design.visits:
            window = v.window_days if v.window_days is not None else design.visit_window_days
            if window is not None and v.day is not None:
                windows[v.name] = int(window)
        return cls(
            visit_days={v.name: int(v.day) for v in design.visits if v.day is not None},
            visit_windows=windows,
            visits={v.name: v.number for v in design.visits},
            parameters=dict(design.parameters),
            dose_levels=list(design.dose_levels) if design.dose_levels is not None else None,
            periods={p.name: (p.first_day, p.last_day) for p in design.periods},
            study_days=design.study_days,
            age_range=design.age_range,
            period_doses={p.name: list(p.dose_levels) for p in design.periods
                          if p.dose_levels is not None},
        )

    @classmethod
    def from_trial_config(cls, trial: Trial | Mapping[str, Any]) -> Domain:
        return cls.from_trial(as_trial(trial))

    def lookup(self, name: str) -> Any:
        values = {
            "visit_names": list(self.visits),
            "visit_numbers": sorted(set(self.visits.values())),
            "parameter_codes": list(self.parameters),
            "dose_levels": self.dose_levels,
            "periods": list(self.periods),
            "study_days": self.study_days,
            "onset_days": (None if self.study_days is None
                           else (-math.inf, self.study_days[1])),
            "age_range": self.age_range,
            "subject_ids": self.subject_ids,
        }
        if name not in values:
            raise KeyError(f"unknown domain {name!r}; known: {sorted(values)}")
        return values[name]
