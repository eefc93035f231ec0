"""The efficacy rows of the analysis-results table (``build_ard``); the table itself, its
columns and names are in ``trialreport.analyse.ard``.

Analyses (``analysis``), each row naming its ``method`` and ``analysis_set``:

- ``enrolment``: per arm, subjects enrolled and in the safety and efficacy populations
  (demographics, disposition, exposure and adverse events are built by
  ``trialreport.analyse.safety`` into the same table);
- ``by_visit``: n, mean, sd, median, q1, q3, min, max, ci_low, ci_high per parameter, visit;
- ``paired``: baseline against the comparison visit on complete pairs (observed case, the
  primary analysis): n_pairs and the excluded pairs by reason, means and SDs, change mean,
  SD, median and t-based CI; paired t-test; Wilcoxon signed-rank (``wilcoxon_exact`` or
  ``wilcoxon_normal``); Hodges-Lehmann estimate and CI; Cohen's d_z with CI; matched-pairs
  rank-biserial; a ``tested`` flag; Holm-adjusted p (``holm:paired_ttest`` or
  ``holm:wilcoxon``, either variant) across the config's ``analyses.primary`` parameters;
- ``paired_locf``: the same on LOCF data (sensitivity), with the carried-forward counts;
- ``responders``: per visit, n, n_responders, proportion and Clopper-Pearson CI, by the
  config's rule; ``responders_paired``: exact McNemar, baseline against comparison visit,
  for rules on AVAL only (a rule on CHG has no baseline responder status);
- ``subgroup``: n_subjects and the paired rows per level of each config subgroup variable
  (group ``"<arm>; <VAR> = <level>"``), tests only with at least ``min_n`` pairs;
- ``ancova`` and ``responders_between_arms`` (trials with more than one arm): ANCOVA LS
  means and differences; chi-square, Fisher's exact and CMH on responders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analyse.ard import ArdBuilder, arm_order, is_number
from trialreport.analyse.between_arms import add_model, add_parallel
from trialreport.analyse.plan import plan_rows
from trialreport.analyse.responders import add_responders
from trialreport.common.config import (
    AnalysisConfigError,
    Design,
    Parameter,
    Primary,
    Subgroups,
    Trial,
    as_trial,
)
from trialreport.common.formatting import format_value
from trialreport.common.frames import member_of
from trialreport.derive.derivations import attach_base, derive_locf_records, derive_max_dose
from trialreport.stats.descriptive import describe
from trialreport.stats.multiplicity import holm
from trialreport.stats.paired import paired_comparison

DESCRIPTIVE_STATS = ["n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high"]


def build_ard(
    trial: str,
    config: Trial | Mapping[str, Any],
    subjects: pd.DataFrame,
    efficacy: pd.DataFrame,
    exposure: pd.DataFrame | None,
    locf: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Run the trial's analyses on derived data; returns the ARD (numbers as floats).

    ``locf``: the LOCF data of the sensitivity analysis (from the derive stage, as derived
    or as delivered); when None and ``analyses.locf`` asks for it, it is derived here.
    ``exposure`` is None (or empty) for a trial that delivers none."""
    cfg = as_trial(config, trial)
    design = cfg.design
    analyses = cfg.analyses
    confidence = analyses.confidence
    alternative = analyses.alternative
    visit_names = design.visit_names
    arms = arm_order(subjects, cfg)
    ard = ArdBuilder(trial, arms)

    for arm in arms:
        in_arm = subjects[subjects["TRT01P"] == arm]
        ard.add("enrolment", "n_subjects", len(in_arm), group=arm, analysis_set="enrolled")
        ard.add("enrolment", "n_safety", (in_arm["SAFFL"] == "Y").sum(), group=arm,
                analysis_set="enrolled")
        ard.add("enrolment", "n_efficacy", (in_arm["EFFFL"] == "Y").sum(), group=arm,
                analysis_set="enrolled")

    # Only the columns the analyses read: every filter below copies what it keeps, and a
    # large trial's text columns (PARAM, AVISIT ...) would triple the memory of this stage.
    eff = _analysis_columns(efficacy).merge(subjects[["USUBJID", "TRT01P", "EFFFL"]],
                                            on="USUBJID", how="left")
    eff = eff[eff["EFFFL"] == "Y"]
    if analyses.locf == "none":
        locf = None
    elif locf is None and analyses.locf == "derived":
        locf = attach_base(derive_locf_records(efficacy, sorted(visit_names), visit_names,
                                               baseline_visits=design.locf_from),
                           efficacy)
    elif locf is None:
        raise AnalysisConfigError("analyses.locf is 'delivered' but no LOCF records were "
                                  "given (they come from the derive stage)")
    if locf is not None:
        locf = _analysis_columns(locf).merge(subjects[["USUBJID", "TRT01P", "EFFFL"]],
                                             on="USUBJID", how="left")
        locf = locf[locf["EFFFL"] == "Y"]
    for paramcd, rule in analyses.responders.items():
        pcfg = design.parameters.get(paramcd)
        if pcfg is not None and rule.variable in ("CHG", "PCHG") and not pcfg.has_baseline:
            raise AnalysisConfigError(
                f"analyses.responders.{paramcd}: variable {rule.variable} is a change from "
                f"baseline, and {paramcd} has no baseline_visit (design.parameters."
                f"{paramcd}); use variable AVAL for a rating of change")
    for paramcd, pcfg in design.parameters.items():
        p = eff[eff["PARAMCD"] == paramcd]
        for arm in arms:
            pa_ = p[p["TRT01P"] == arm]
            for visitn, at_visit in pa_.groupby("AVISITN", sort=True):
                stats = describe(at_visit["AVAL"].to_numpy(float, na_value=math.nan),
                                 confidence)
                ard.add_many("by_visit", stats, parameter=paramcd,
                             visit=visit_names.get(int(visitn), str(visitn)),
                             visitn=float(visitn), group=arm, method="descriptive",
                             analysis_set="observed at visit")
            _add_paired(ard, pa_, paramcd, pcfg, arm, visit_names, confidence, alternative)
            if not pcfg.has_baseline and pcfg.no_change is not None and len(arms) == 1:
                _add_one_sample(ard, pa_, pcfg, arm, visit_names, confidence, alternative)
            if locf is not None:
                la = locf[(locf["PARAMCD"] == paramcd) & (locf["TRT01P"] == arm)]
                _add_paired(ard, la, paramcd, pcfg, arm, visit_names, confidence, alternative,
                            analysis="paired_locf")
            rule = analyses.responders.get(paramcd)
            if rule:
                add_responders(ard, pa_, paramcd, pcfg, rule, arm, visit_names, confidence)
    _add_holm(ard, analyses.primary)
    if analyses.subgroups:
        _add_subgroups(ard, eff, subjects, exposure, design, analyses.subgroups,
                       visit_names, confidence, alternative)
    if len(arms) > 1:
        add_parallel(ard, eff, subjects, design, analyses, visit_names, confidence, arms)
    for i, spec in enumerate(analyses.models):
        if spec.kind == "mmrm":  # every visit, all its records (trialreport.analyse.mmrm)
            from trialreport.analyse.mmrm import add_mmrm

            add_mmrm(ard, spec, i, efficacy, subjects, design, confidence, arms)
            continue
        add_model(ard, spec, eff, locf, subjects, design, confidence, arms)
    frame = ard.frame()
    if cfg.plan is None:
        return frame
    # the plan's decisions rest on the rows above (trialreport.analyse.plan)
    return pd.concat([frame, plan_rows(cfg, frame, arms)], ignore_index=True)


ANALYSIS_COLUMNS = ("USUBJID", "PARAMCD", "AVISITN", "AVAL", "BASE", "CHG", "DTYPE")


def _analysis_columns(records: pd.DataFrame) -> pd.DataFrame:
    """The columns of the efficacy (or LOCF) records that the analyses read."""
    return records[[c for c in records.columns if c in ANALYSIS_COLUMNS]]


def _wide(scores: pd.DataFrame, base_n: int, comp_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subject (sorted), the baseline and the comparison-visit AVAL. The baseline is
    the BASE the records carry (as delivered, or derived from the baseline record), else
    AVAL at the baseline visit."""
    wide = scores.pivot_table(index="USUBJID", columns="AVISITN", values="AVAL",
                              aggfunc="first", dropna=False)
    wide = wide.reindex(columns=sorted(set(wide.columns) | {base_n, comp_n})).sort_index()
    base = wide[base_n].astype(float)
    if "BASE" in scores.columns:
        given = (scores.dropna(subset=["BASE"]).groupby("USUBJID")["BASE"].first()
                 .astype(float))
        base = given.reindex(base.index).fillna(base)
    return (base.to_numpy(float, na_value=math.nan),
            wide[comp_n].to_numpy(float, na_value=math.nan))


def _add_paired(ard: ArdBuilder, scores: pd.DataFrame, paramcd: str, pcfg: Parameter,
                arm: str, visit_names: Mapping[int, str], confidence: float,
                alternative: str, analysis: str = "paired", group: str | None = None,
                min_n: int = 2) -> dict[str, Any] | None:
    """Paired baseline-versus-comparison rows. ``analysis`` "paired" is the observed case
    (complete pairs, primary); "paired_locf" the LOCF sensitivity analysis on records from
    ``derive_locf_records`` (it counts the pairs with a carried-forward value). Tests are
    added only with at least ``min_n`` pairs; otherwise a row ``tested = 0`` flags it."""
    base_n, comp_n = pcfg.baseline_visit, pcfg.comparison_visit
    if scores.empty or base_n is None:  # a rating of change has no baseline to pair with
        return None
    base, comp = _wide(scores, base_n, comp_n)
    result = paired_comparison(base, comp, confidence, alternative)
    bname, cname = visit_names.get(base_n), visit_names.get(comp_n)
    if analysis == "paired_locf":
        aset = f"LOCF (sensitivity): pairs {bname} and {cname}, missing values carried forward"
    else:
        aset = f"complete pairs: {bname} and {cname} (observed case)"
    keys = {"parameter": paramcd, "visit": visit_names.get(comp_n, str(comp_n)),
            "visitn": float(comp_n), "group": arm if group is None else group,
            "analysis_set": aset}
    add = ard.add
    add(analysis, "n_pairs", result["n_pairs"], method="descriptive", **keys)
    for why in ("n_excluded", "n_excluded_no_baseline", "n_excluded_no_comparison",
                "n_excluded_neither"):
        add(analysis, why, result[why], method="count", **keys)
    if analysis == "paired_locf" and "DTYPE" in scores.columns:
        w = scores.pivot_table(index="USUBJID", columns="AVISITN", values="DTYPE",
                               aggfunc="first")
        for col, stat in ((base_n, "n_imputed_baseline"), (comp_n, "n_imputed_comparison")):
            n_imp = int((w[col] == "LOCF").sum()) if col in w.columns else 0
            add(analysis, stat, n_imp, method="count: DTYPE = LOCF", **keys)
    for part in ("baseline", "comparison", "change"):
        ard.add_many(analysis, {k: result[part][k] for k in ("mean", "sd")},
                     prefix=f"{part}_", method="descriptive", **keys)
    add(analysis, "change_median", result["change"]["median"], method="descriptive", **keys)
    add(analysis, "change_ci_low", result["change"]["ci_low"], method="t-based CI", **keys)
    add(analysis, "change_ci_high", result["change"]["ci_high"], method="t-based CI", **keys)
    tested = result["n_pairs"] >= min_n
    add(analysis, "tested", float(tested),
        method="flag: tests need n_pairs >= " + str(min_n), **keys)
    if not tested:
        return result
    hl = result["hodges_lehmann"]
    hl_method = "hodges_lehmann_" + ("exact" if hl["method"] == "exact" else "normal")
    ard.add_many(analysis, {"hl_estimate": hl["estimate"], "hl_ci_low": hl["ci_low"],
                            "hl_ci_high": hl["ci_high"]}, method=hl_method, **keys)
    ard.add_many(analysis, result["cohens_dz"], method="cohens_dz_noncentral_t", **keys)
    add(analysis, "rank_biserial", result["rank_biserial"],
        method="rank_biserial_matched_pairs", **keys)
    if "ttest" in result:
        ard.add_many(analysis, result["ttest"], method="paired_ttest", **keys)
    if "wilcoxon" in result:
        w_ = result["wilcoxon"]
        method = "wilcoxon_exact" if w_["method"] == "exact" else "wilcoxon_normal"
        ard.add_many(analysis, {"W": w_["W"], "p_value": w_["p_value"],
                                "n_nonzero": w_["n_nonzero"]}, method=method, **keys)
    return result


def _add_one_sample(ard: ArdBuilder, scores: pd.DataFrame, pcfg: Parameter, arm: str,
                    visit_names: Mapping[int, str], confidence: float,
                    alternative: str) -> None:
    """A parameter without baseline (a rating of change) in a single-arm trial: at its
    comparison visit, AVAL against the scale's no-change value (``no_change``), by the
    one-sample t-test and the Wilcoxon signed-rank test of AVAL - no_change (the paired
    tests of ``paired_comparison`` with the no-change value as the "baseline" of every
    subject: the same statistics). ``difference_*`` is AVAL - no_change."""
    comp_n = pcfg.comparison_visit
    at = scores[scores["AVISITN"] == comp_n].dropna(subset=["AVAL"])
    if at.empty:
        return
    values = at["AVAL"].to_numpy(float)
    result = paired_comparison(np.full(values.size, float(pcfg.no_change)), values,
                               confidence, alternative)
    keys = {"parameter": pcfg.code, "visit": visit_names.get(comp_n, str(comp_n)),
            "visitn": float(comp_n), "group": arm,
            "analysis_set": f"observed at {visit_names.get(comp_n, comp_n)}; against the "
                            f"no-change value {format_value(float(pcfg.no_change))}"}
    ard.add("one_sample", "n", result["n_pairs"], method="descriptive", **keys)
    ard.add("one_sample", "no_change", float(pcfg.no_change), method="config", **keys)
    ard.add_many("one_sample", {k: result["comparison"][k] for k in ("mean", "sd")},
                 method="descriptive", **keys)
    ard.add_many("one_sample", {"difference_mean": result["change"]["mean"],
                                "difference_ci_low": result["change"]["ci_low"],
                                "difference_ci_high": result["change"]["ci_high"]},
                 method="t-based CI", **keys)
    if "ttest" in result:
        ard.add_many("one_sample", result["ttest"], method="one_sample_ttest", **keys)
    if "wilcoxon" in result:
        w_ = result["wilcoxon"]
        method = "wilcoxon_exact" if w_["method"] == "exact" else "wilcoxon_normal"
        ard.add_many("one_sample", {"W": w_["W"], "p_value": w_["p_value"],
                                    "n_nonzero": w_["n_nonzero"]}, method=method, **keys)


HOLM_FAMILIES = {"paired_ttest": ("paired_ttest",),
                 "wilcoxon": ("wilcoxon_exact", "wilcoxon_normal")}


def holm_family(method: str) -> str:
    """The test family of the config's ``analyses.primary.method``: ``paired_ttest`` or
    ``wilcoxon``. ``wilcoxon_exact`` and ``wilcoxon_normal`` both name the Wilcoxon
    signed-rank family, because which variant a parameter gets (exact, or the normal
    approximation) is decided by its data, not by the config."""
    for family in HOLM_FAMILIES:
        if method == family or method.startswith(family + "_"):
            return family
    raise AnalysisConfigError(f"analyses.primary.method {method!r} is not a test family; "
                              f"use one of {', '.join(HOLM_FAMILIES)}")


def _add_holm(ard: ArdBuilder, primary: Primary | None) -> None:
    """Holm-adjusted p beside the raw p of the primary comparisons (per arm).

    The family is every parameter the config lists under ``analyses.primary.parameters``,
    tested by the configured family (``holm_family``), whichever variant of it each
    parameter's data called for. A listed parameter without a p-value in an arm is an
    error: dropping it would shrink the family and make the adjusted p too small."""
    if not primary:
        return
    family_name = holm_family(primary.method)
    methods = HOLM_FAMILIES[family_name]
    params = list(primary.parameters)
    paired = [r for r in ard.rows if r["analysis"] == "paired"]
    arms = sorted({r["group"] for r in paired if r["parameter"] in params})
    for arm in arms:
        family = []
        for param in params:
            hits = [r for r in paired if r["group"] == arm and r["parameter"] == param
                    and r["method"] in methods and r["statistic"] == "p_value"]
            if len(hits) != 1:
                raise AnalysisConfigError(
                    f"primary comparison of parameter {param!r} (arm {arm!r}) has no "
                    f"{family_name} p-value (too few pairs, or no variation in the changes), "
                    "so the Holm family of analyses.primary.parameters cannot be formed; "
                    "remove it from analyses.primary or choose another method")
            family.append(hits[0])
        adjusted = holm(np.array([r["value"] for r in family]))
        for r, p_adj in zip(family, adjusted, strict=True):
            ard.add("paired", "p_value_holm", p_adj, method=f"holm:{family_name}",
                    analysis_set=r["analysis_set"], parameter=r["parameter"],
                    visit=r["visit"], visitn=r["visitn"], group=r["group"])
            ard.add("paired", "holm_family_size", len(family), method=f"holm:{family_name}",
                    analysis_set=r["analysis_set"], parameter=r["parameter"],
                    visit=r["visit"], visitn=r["visitn"], group=r["group"])


def subgroup_covariates(subjects: pd.DataFrame, exposure: pd.DataFrame | None,
                        variables: list[str]) -> pd.DataFrame:
    """USUBJID and each subgroup variable: a subject column, or MAXDOSE (derived from
    exposure). A variable that is neither is an ``AnalysisConfigError`` naming the key."""
    out = subjects[["USUBJID"]].copy()
    for var in variables:
        if var in subjects.columns:
            out[var] = subjects[var].to_numpy()
        elif var == "MAXDOSE" and exposure is not None and len(exposure):
            out = out.merge(derive_max_dose(exposure), on="USUBJID", how="left")
        elif var == "MAXDOSE":
            raise AnalysisConfigError("analyses.subgroups.variables names MAXDOSE, the "
                                      "highest dose reached, but the trial delivers no "
                                      "exposure data (data.exposure); remove it or add the "
                                      "exposure dataset")
        else:
            raise AnalysisConfigError(
                f"analyses.subgroups.variables names {var!r}, which is neither a column of "
                f"the subjects dataset nor MAXDOSE; subject columns: "
                f"{', '.join(c for c in subjects.columns if c != 'SRCROW')}")
    return out


def _add_subgroups(ard: ArdBuilder, eff: pd.DataFrame, subjects: pd.DataFrame,
                   exposure: pd.DataFrame | None, design: Design,
                   cfg: Subgroups, visit_names: Mapping[int, str], confidence: float,
                   alternative: str) -> None:
    variables = list(cfg.variables)
    min_n = cfg.min_n
    cov = subgroup_covariates(subjects, exposure, variables)
    eff_subjects = subjects.loc[subjects["EFFFL"] == "Y", ["USUBJID", "TRT01P"]]
    cov = cov.merge(eff_subjects, on="USUBJID", how="inner")
    for var in variables:
        for (arm, level), members in cov.dropna(subset=[var]).groupby(["TRT01P", var],
                                                                      sort=True):
            group = f"{arm}; {var} = {format_value(float(level)) if is_number(level) else level}"
            ard.add("subgroup", "n_subjects", len(members), method="count",
                    analysis_set="efficacy set", group=group)
            in_group = eff[member_of(eff["USUBJID"], set(members["USUBJID"]))]
            for paramcd, pcfg in design.parameters.items():
                _add_paired(ard, in_group[in_group["PARAMCD"] == paramcd], paramcd, pcfg,
                            str(arm), visit_names, confidence, alternative,
                            analysis="subgroup", group=group, min_n=min_n)
