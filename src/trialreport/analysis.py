"""The analysis-results table (ARD): every number the report shows, one row per number.

Columns: trial, analysis, analysis_set, method, parameter, visit, visitn, group, statistic,
value. Tables and figures are built from this table only; none computes numbers of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialreport.derive import derive_max_dose
from trialreport.formatting import format_value
from trialreport.stats import describe, paired_comparison

ARD_COLUMNS = [
    "trial", "analysis", "analysis_set", "method", "parameter", "visit", "visitn", "group",
    "statistic", "value",
]
ANALYSIS_ORDER = ["enrolment", "demographics", "exposure", "by_visit", "paired"]
DESCRIPTIVE_STATS = ["n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high"]


class ArdBuilder:
    """Collects ARD rows for one trial."""

    def __init__(self, trial: str):
        self.trial = trial
        self.rows: list[dict[str, Any]] = []

    def add(self, analysis: str, statistic: str, value: float, *, analysis_set: str = "",
            method: str = "", parameter: str = "", visit: str = "", visitn: float = math.nan,
            group: str = "") -> None:
        self.rows.append({
            "trial": self.trial, "analysis": analysis, "analysis_set": analysis_set,
            "method": method, "parameter": parameter, "visit": visit, "visitn": visitn,
            "group": group, "statistic": statistic, "value": float(value),
        })

    def add_many(self, analysis: str, values: Mapping[str, float], prefix: str = "",
                 **keys: Any) -> None:
        for statistic, value in values.items():
            self.add(analysis, prefix + statistic, value, **keys)

    def frame(self) -> pd.DataFrame:
        ard = pd.DataFrame(self.rows, columns=ARD_COLUMNS)
        ard["_order"] = ard["analysis"].map({a: i for i, a in enumerate(ANALYSIS_ORDER)})
        ard = ard.sort_values(["_order", "parameter", "visitn", "group"], kind="stable",
                              na_position="first")
        return ard.drop(columns="_order").reset_index(drop=True)


def format_ard(ard: pd.DataFrame) -> pd.DataFrame:
    out = ard.copy()
    out["value"] = out["value"].map(format_value)
    out["visitn"] = out["visitn"].map(format_value)
    return out


def _arms(subjects: pd.DataFrame) -> list[str]:
    return sorted(subjects["TRT01P"].dropna().unique())


def build_ard(
    trial: str,
    config: Mapping[str, Any],
    subjects: pd.DataFrame,
    efficacy: pd.DataFrame,
    exposure: pd.DataFrame,
) -> pd.DataFrame:
    """Run the trial's analyses on derived data; returns the ARD (numbers as floats)."""
    design = config["design"]
    paired_cfg = config.get("analyses", {}).get("paired", {})
    confidence = float(paired_cfg.get("confidence", 0.95))
    alternative = paired_cfg.get("alternative", "two-sided")
    visit_names = {int(v["number"]): v["name"] for v in design["visits"]}
    ard = ArdBuilder(trial)

    for arm in _arms(subjects):
        in_arm = subjects[subjects["TRT01P"] == arm]
        ard.add("enrolment", "n_subjects", len(in_arm), group=arm, analysis_set="enrolled")
        ard.add("enrolment", "n_safety", (in_arm["SAFFL"] == "Y").sum(), group=arm,
                analysis_set="enrolled")
        ard.add("enrolment", "n_efficacy", (in_arm["EFFFL"] == "Y").sum(), group=arm,
                analysis_set="enrolled")
        ard.add_many("demographics", describe(in_arm["AGE"].to_numpy(float)),
                     parameter="AGE", group=arm, analysis_set="enrolled", method="descriptive")
        for sex in sorted(in_arm["SEX"].dropna().unique()):
            ard.add("demographics", f"n_{sex}", (in_arm["SEX"] == sex).sum(), parameter="SEX",
                    group=arm, analysis_set="enrolled", method="count")

    arm_of = subjects.set_index("USUBJID")["TRT01P"]
    max_dose = derive_max_dose(exposure)
    max_dose["TRT01P"] = max_dose["USUBJID"].map(arm_of)
    for arm, group in max_dose.groupby("TRT01P", sort=True):
        ard.add("exposure", "max", group["MAXDOSE"].max(), parameter="MAXDOSE", group=arm,
                analysis_set="treated", method="descriptive")
        for dose, count in group["MAXDOSE"].value_counts().sort_index().items():
            ard.add("exposure", f"n_{format_value(dose)}", count, parameter="MAXDOSE",
                    group=arm, analysis_set="treated", method="count")

    eff = efficacy.merge(subjects[["USUBJID", "TRT01P", "EFFFL"]], on="USUBJID", how="left")
    eff = eff[eff["EFFFL"] == "Y"]
    for paramcd, pcfg in design["parameters"].items():
        p = eff[eff["PARAMCD"] == paramcd]
        for arm in _arms(subjects):
            pa_ = p[p["TRT01P"] == arm]
            for visitn, at_visit in pa_.groupby("AVISITN", sort=True):
                stats = describe(at_visit["AVAL"].to_numpy(float, na_value=math.nan),
                                 confidence)
                ard.add_many("by_visit", stats, parameter=paramcd,
                             visit=visit_names.get(int(visitn), str(visitn)),
                             visitn=float(visitn), group=arm, method="descriptive",
                             analysis_set="observed at visit")
            _add_paired(ard, pa_, paramcd, pcfg, arm, visit_names, confidence, alternative)
    return ard.frame()


def _add_paired(ard: ArdBuilder, scores: pd.DataFrame, paramcd: str, pcfg: Mapping[str, Any],
                arm: str, visit_names: Mapping[int, str], confidence: float,
                alternative: str) -> None:
    base_n, comp_n = int(pcfg["baseline_visit"]), int(pcfg["comparison_visit"])
    wide = scores.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL",
                              aggfunc="first", dropna=False)
    if base_n not in wide.columns or comp_n not in wide.columns:
        return
    base = wide[base_n].to_numpy(float, na_value=math.nan)
    comp = wide[comp_n].to_numpy(float, na_value=math.nan)
    result = paired_comparison(base, comp, confidence, alternative)
    keys = {
        "parameter": paramcd,
        "visit": visit_names.get(comp_n, str(comp_n)),
        "visitn": float(comp_n),
        "group": arm,
        "analysis_set": f"complete pairs: {visit_names.get(base_n)} and "
                        f"{visit_names.get(comp_n)} (observed case)",
    }
    ard.add("paired", "n_pairs", result["n_pairs"], method="descriptive", **keys)
    ard.add("paired", "n_excluded", result["n_excluded"], method="descriptive", **keys)
    for part in ("baseline", "comparison", "change"):
        ard.add_many("paired", {k: result[part][k] for k in ("mean", "sd")},
                     prefix=f"{part}_", method="descriptive", **keys)
    ard.add("paired", "change_ci_low", result["change"]["ci_low"], method="t-based CI", **keys)
    ard.add("paired", "change_ci_high", result["change"]["ci_high"], method="t-based CI", **keys)
    if "ttest" in result:
        ard.add_many("paired", result["ttest"], method="paired_ttest", **keys)
    if "wilcoxon" in result:
        w = result["wilcoxon"]
        method = "wilcoxon_exact" if w["method"] == "exact" else "wilcoxon_normal"
        ard.add_many("paired", {"W": w["W"], "p_value": w["p_value"],
                                "n_nonzero": w["n_nonzero"]}, method=method, **keys)
