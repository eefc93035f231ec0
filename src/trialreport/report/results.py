"""The workflow's result files of one trial, loaded once for the report's sections, with the
lookups they share.

Nothing here computes a statistic: every number is read from the analysis-results table
(ard.csv) or the reproduction table and only formatted for display by the sections
(``trialreport.report.sections``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.analyse.ard import read_ard
from trialreport.common.config import Parameter, Trial


@dataclass
class Results:
    trial_id: str
    trial: dict[str, Any]
    ard: pd.DataFrame
    reproduction: pd.DataFrame
    warnings: pd.DataFrame
    provenance: dict[str, Any]
    selection: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    results_dir: Path | None = None
    exclusions: pd.DataFrame | None = None
    renderer: str = ""
    output_format: str = "html"
    """html, pdf or docx: the figures are PNG in HTML and Word, SVG (vector) in the PDF."""

    @cached_property
    def cfg(self) -> Trial:
        return Trial.parse(self.trial_id, self.trial)

    @classmethod
    def load(
        cls, results_dir: str | Path, trial_id: str, renderer: str = "", output_format: str = "html"
    ) -> Results:
        results = Path(results_dir)

        def optional(path: Path) -> pd.DataFrame | None:
            return (pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists()
                    else None)

        return cls(
            trial_id=trial_id,
            trial=json.loads((results / "trial_config.json").read_text(encoding="utf-8")),
            ard=read_ard(results / "ard.csv"),
            reproduction=pd.read_csv(results / "reproduction.csv", dtype=str,
                                     keep_default_na=False),
            warnings=pd.read_csv(results / "validation" / "warnings.csv", dtype=str,
                                 keep_default_na=False),
            provenance=json.loads((results / "provenance.json").read_text(encoding="utf-8")),
            selection=optional(results / "ingested" / "selection.csv"),
            checks=optional(results / "derived" / "checks.csv"),
            results_dir=results,
            exclusions=optional(results / "validation" / "exclusions.csv"),
            renderer=renderer,
            output_format=output_format,
        )

    # -- lookups ---------------------------------------------------------------------------

    def value(self, **where: Any) -> float:
        rows = self.ard
        for column, wanted in where.items():
            rows = rows[rows[column] == wanted]
        if len(rows) != 1:
            raise KeyError(f"expected one result for {where}, found {len(rows)}")
        return float(rows["value"].iloc[0])

    def find(self, **where: Any) -> float:
        """The one value matching ``where``, or NaN when there is none."""
        try:
            return self.value(**where)
        except KeyError:
            return float("nan")

    def arms(self) -> list[str]:
        """Arms in the order of the enrolment rows of the ARD."""
        rows = self.ard[(self.ard["analysis"] == "enrolment")
                        & (self.ard["statistic"] == "n_subjects")]
        return list(dict.fromkeys(rows["group"]))

    def parameters(self) -> dict[str, Parameter]:
        return dict(self.cfg.design.parameters)

    def visit_name(self, number: int) -> str:
        return self.cfg.design.visit_name(number)

    def baseline_words(self, number: int) -> str:
        """"baseline", naming the visit only when it is not called Baseline (NFC-1's CGI-I
        change runs from week 1): "baseline (Baseline)" would say one thing twice."""
        name = self.visit_name(number)
        return "baseline" if name.strip().lower() == "baseline" else f"baseline ({name})"

    @property
    def single_arm(self) -> bool:
        return len(self.arms()) == 1

    @property
    def with_periods(self) -> bool:
        """A single-arm trial whose config declares more than one period (a placebo
        run-in, then active treatment): its AE tables have a column per period."""
        design = self.cfg.design
        return self.single_arm and design.periods_configured and len(design.periods) > 1

    def reference_arm(self) -> str:
        from trialreport.common.plan import reference_arm

        return reference_arm(self.cfg.analyses, self.arms())

    def n_population(self, arm: str, statistic: str = "n_efficacy") -> float:
        return self.find(analysis="enrolment", group=arm, statistic=statistic)

    def in_arm_order(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows in the protocol's arm order (``arms()``), otherwise as they are."""
        if "Arm" not in table:
            return table
        rank = {arm: i for i, arm in enumerate(self.arms())}
        return table.sort_values("Arm", key=lambda s: s.map(rank).fillna(len(rank)),
                                 kind="stable")
