"""The analysis-results table (ARD): every number the report shows, one row per number.

Columns: trial, analysis, analysis_set, method, parameter, visit, visitn, group, statistic,
value. Tables and figures are built from this table only; none computes numbers of its own.

Analyses (``analysis``), each row naming its ``method`` and ``analysis_set``:

- ``enrolment``: per arm, subjects enrolled and in the safety and efficacy populations
  (demographics, disposition, exposure and adverse events are built by
  ``trialreport.safety`` into the same table);
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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialreport.config import (
    Analyses,
    AnalysisConfigError,
    Design,
    ModelSpec,
    Parameter,
    Primary,
    ResponderRule,
    Subgroups,
    Trial,
    as_trial,
)
from trialreport.derive import attach_base, derive_locf_records, derive_max_dose
from trialreport.formatting import format_value
from trialreport.frames import member_of, ordered_arms
from trialreport.stats import (
    ancova_change,
    clopper_pearson,
    cmh_test,
    describe,
    holm,
    mcnemar_exact,
    paired_comparison,
    responder_tables,
)

ARD_COLUMNS = [
    "trial", "analysis", "analysis_set", "method", "parameter", "visit", "visitn", "group",
    "statistic", "value",
]
ANALYSIS_ORDER = ["enrolment", "by_visit", "paired", "one_sample", "paired_locf",
                  "responders", "responders_paired", "subgroup", "ancova",
                  "responders_between_arms", "model"]
OPERATORS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater,
             "==": np.equal}
DESCRIPTIVE_STATS = ["n", "mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high"]


class ArdBuilder:
    """Collects ARD rows for one trial. ``arms`` in protocol order: rows are sorted by
    analysis, parameter, visit, then group with the arms in that order (a group
    ``"<arm>; ..."`` or ``"<arm> vs ..."`` goes with its arm), then by name."""

    def __init__(self, trial: str, arms: Sequence[str] = ()):
        self.trial = trial
        self.arms = list(arms)
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
        rank = {arm: i for i, arm in enumerate(self.arms)}
        ard["_arm"] = [rank.get(g.split("; ", 1)[0].split(" vs ", 1)[0], len(rank))
                       for g in ard["group"]]
        ard = ard.sort_values(["_order", "parameter", "visitn", "_arm", "group"],
                              kind="stable", na_position="first")
        return ard.drop(columns=["_order", "_arm"]).reset_index(drop=True)


def format_ard(ard: pd.DataFrame) -> pd.DataFrame:
    out = ard.copy()
    out["value"] = out["value"].map(format_value)
    out["visitn"] = out["visitn"].map(format_value)
    return out


def arm_order(subjects: pd.DataFrame, cfg: Trial) -> list[str]:
    """The trial's arms in protocol order (``frames.ordered_arms``): TRT01PN, else the
    config's ``design.arms``, else by name; the reference arm
    (``analyses.parallel.reference_arm``, else an arm named Placebo) first."""
    named = set(subjects["TRT01P"].dropna().astype(str))
    reference = cfg.analyses.parallel.reference_arm or ("Placebo" if "Placebo" in named
                                                        else None)
    return ordered_arms(subjects, cfg.design.arms, reference)


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
                _add_responders(ard, pa_, paramcd, pcfg, rule, arm, visit_names, confidence)
    _add_holm(ard, analyses.primary)
    if analyses.subgroups:
        _add_subgroups(ard, eff, subjects, exposure, design, analyses.subgroups,
                       visit_names, confidence, alternative)
    if len(arms) > 1:
        _add_parallel(ard, eff, subjects, design, analyses, visit_names, confidence, arms)
    for spec in analyses.models:
        _add_model(ard, spec, eff, locf, subjects, design, confidence, arms)
    return ard.frame()


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


def _rule(rule: ResponderRule | Mapping[str, Any]) -> ResponderRule:
    if isinstance(rule, ResponderRule):
        return rule
    from trialreport.config import _responder_rule

    return _responder_rule(rule)


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


def rule_text(rule: ResponderRule | Mapping[str, Any]) -> str:
    """A responder rule as text, e.g. ``AVAL <= 2``."""
    rule = _rule(rule)
    if rule.operator == "in":
        values = ", ".join(format_value(float(v)) for v in rule.values)
        return f"{rule.variable} in {{{values}}}"
    return f"{rule.variable} {rule.operator} {format_value(float(rule.threshold))}"


def responder_flags(scores: pd.DataFrame, rule: ResponderRule | Mapping[str, Any],
                    baseline_visit: int) -> pd.Series:
    """1.0/0.0 per record by the config's rule on AVAL, CHG or PCHG; NaN where not
    evaluable.

    For a rule on CHG the change is AVAL - BASE after the baseline visit; at and before
    the baseline visit it is not evaluable (NaN): there is no baseline responder status.
    PCHG is the percent change, 100 * CHG / BASE (as ``derive.derive_var_pchg``), not
    evaluable where BASE is 0. Operator ``in``: the value is one of the rule's values."""
    rule = _rule(rule)
    if rule.variable == "AVAL":
        x = scores["AVAL"].astype(float)
    elif rule.variable in ("CHG", "PCHG"):
        base = scores["BASE"].astype(float)
        x = scores["AVAL"].astype(float) - base
        if rule.variable == "PCHG":
            x = (x * 100.0 / base).where(base != 0)
        x = x.where(scores["AVISITN"] > baseline_visit)
    else:
        raise ValueError(f"responder rule variable must be AVAL, CHG or PCHG, not "
                         f"{rule.variable}")
    values = x.to_numpy(float, na_value=math.nan)
    if rule.operator == "in":
        hit = np.isin(values, np.asarray(rule.values, dtype=float))
    else:
        hit = OPERATORS[rule.operator](values, float(rule.threshold))
    flags = pd.Series(hit, index=scores.index).astype(float)
    return flags.where(x.notna())


def _add_responders(ard: ArdBuilder, scores: pd.DataFrame, paramcd: str,
                    pcfg: Parameter, rule: ResponderRule, arm: str,
                    visit_names: Mapping[int, str], confidence: float) -> None:
    base_n, comp_n = pcfg.baseline_visit, pcfg.comparison_visit
    text = rule_text(rule)
    flagged = scores.assign(RESP=responder_flags(scores, rule, base_n))
    for visitn, at_visit in flagged.groupby("AVISITN", sort=True):
        r = at_visit["RESP"].dropna()
        if r.empty:
            continue
        cp = clopper_pearson(int(r.sum()), int(r.size), confidence)
        ard.add_many("responders", {"n": cp["n"], "n_responders": cp["k"],
                                    "proportion": cp["proportion"], "ci_low": cp["ci_low"],
                                    "ci_high": cp["ci_high"]},
                     method="clopper_pearson", parameter=paramcd,
                     visit=visit_names.get(int(visitn), str(visitn)), visitn=float(visitn),
                     group=arm, analysis_set=f"observed at visit; responder: {text}")
    if rule.variable != "AVAL" or base_n is None:
        # A rule on the change from baseline has no responder status at baseline (the
        # change is not defined there), so baseline against comparison is no comparison:
        # McNemar would test only improvement and could not fail in the other direction.
        return
    wide = flagged.pivot_table(index="USUBJID", columns="AVISITN", values="RESP",
                               aggfunc="first", dropna=False)
    wide = wide.reindex(columns=sorted(set(wide.columns) | {base_n, comp_n}))
    # Two-sided whatever the paired tests' sidedness: whether a lower score means more
    # responders depends on the rule, so a one-sided alternative would be ambiguous here.
    mc = mcnemar_exact(wide[base_n].to_numpy(float), wide[comp_n].to_numpy(float))
    ard.add_many("responders_paired", mc, method="mcnemar_exact_two_sided", parameter=paramcd,
                 visit=visit_names.get(comp_n, str(comp_n)), visitn=float(comp_n), group=arm,
                 analysis_set=f"complete pairs: {visit_names.get(base_n)} and "
                              f"{visit_names.get(comp_n)} (observed case); responder: {text}")


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
            group = f"{arm}; {var} = {format_value(float(level)) if _numeric(level) else level}"
            ard.add("subgroup", "n_subjects", len(members), method="count",
                    analysis_set="efficacy set", group=group)
            in_group = eff[member_of(eff["USUBJID"], set(members["USUBJID"]))]
            for paramcd, pcfg in design.parameters.items():
                _add_paired(ard, in_group[in_group["PARAMCD"] == paramcd], paramcd, pcfg,
                            str(arm), visit_names, confidence, alternative,
                            analysis="subgroup", group=group, min_n=min_n)


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _add_parallel(ard: ArdBuilder, eff: pd.DataFrame, subjects: pd.DataFrame,
                  design: Design, analyses: Analyses,
                  visit_names: Mapping[int, str], confidence: float,
                  arms: list[str]) -> None:
    """Between-arm analyses at each parameter's comparison visit, for trials with more than
    one arm: ANCOVA of CHG on arm and BASE (+ strata), responders by chi-square, Fisher's
    exact (two arms) and CMH across strata (two arms, when strata are given)."""
    cfg = analyses.parallel
    reference = cfg.reference_arm or ("Placebo" if "Placebo" in arms else arms[0])
    strata = list(cfg.strata)
    if reference not in arms:
        raise AnalysisConfigError(
            f"analyses.parallel.reference_arm {reference!r} is not an arm of the data; "
            f"arms (TRT01P) present: {', '.join(map(repr, arms))}")
    missing = [s_ for s_ in strata if s_ not in subjects.columns]
    if missing:
        raise AnalysisConfigError(
            f"analyses.parallel.strata {', '.join(map(repr, missing))} not a subject column; "
            f"subject columns: {', '.join(subjects.columns)}")
    extra = subjects[["USUBJID", *strata]] if strata else subjects[["USUBJID"]]
    for paramcd, pcfg in design.parameters.items():
        comp_n = pcfg.comparison_visit
        at = eff[(eff["PARAMCD"] == paramcd) & (eff["AVISITN"] == comp_n)]
        at = at.merge(extra, on="USUBJID", how="left").rename(columns={"TRT01P": "ARM"})
        keys = {"parameter": paramcd, "visit": visit_names.get(comp_n, str(comp_n)),
                "visitn": float(comp_n)}
        strata_text = f" + strata {', '.join(strata)}" if strata else ""
        aset = "observed case at the comparison visit"
        # A rating of change (no baseline) has no change to model here; its between-arm
        # model (AVAL ~ ARM + factors) is one of analyses.models.
        if pcfg.has_baseline:
            frame = at[["ARM", "CHG", "BASE", *strata]].astype({"CHG": float, "BASE": float})
            try:
                res = ancova_change(frame, reference, strata, confidence)
            except ValueError as exc:  # never silently drop the ANCOVA
                present = sorted(frame.dropna()["ARM"].astype(str).unique())
                raise AnalysisConfigError(
                    f"ANCOVA of {paramcd} at visit {comp_n} cannot be run: {exc} (reference arm "
                    f"{reference!r}; arms with complete CHG, BASE and strata there: "
                    f"{', '.join(map(repr, present)) or 'none'})") from exc
            if res is not None:
                method = f"ancova_ols: CHG ~ ARM + BASE{strata_text}"
                for arm, entry in res["arms"].items():
                    ard.add_many("ancova", {k: entry[k] for k in ("n", "lsmean", "se", "ci_low",
                                                                   "ci_high")},
                                 method=method, group=arm, analysis_set=aset, **keys)
                    if "diff" in entry:
                        ard.add_many("ancova", {k: entry[k] for k in (
                            "diff", "diff_se", "diff_ci_low", "diff_ci_high", "t", "p_value")},
                            method=method, group=f"{arm} vs {reference}", analysis_set=aset,
                            **keys)
        rule = analyses.responders.get(paramcd)
        if not rule:
            continue
        flags = responder_flags(at.rename(columns={"ARM": "TRT01P"}), rule,
                                pcfg.baseline_visit)
        order = [a for a in arms if a != reference] + [reference]
        arm_of, response = at["ARM"].to_numpy(object), flags.to_numpy(float)
        evaluable = pd.Series(response, index=at.index).notna()
        evaluated = set(at.loc[evaluable.to_numpy(), "USUBJID"])
        population = subjects.loc[subjects["EFFFL"] == "Y", ["USUBJID", "TRT01P"]]
        no_response = population[~member_of(population["USUBJID"], evaluated)]
        if rule.missing == "non_responder":
            aset_r = (f"efficacy population at the comparison visit, a missing response "
                      f"counted as non-response; responder: {rule_text(rule)}")
            arm_of = np.concatenate([arm_of[evaluable.to_numpy()],
                                     no_response["TRT01P"].to_numpy(object)])
            response = np.concatenate([response[evaluable.to_numpy()],
                                       np.zeros(len(no_response))])
        else:
            aset_r = f"{aset}; responder: {rule_text(rule)}"
        tab = responder_tables(arm_of, response, order)
        for i, arm in enumerate(tab["arms"]):
            n_arm, k_arm = tab["table"][i].sum(), tab["table"][i, 0]
            ard.add_many("responders_between_arms",
                         {"n": n_arm, "n_responders": k_arm,
                          "percent": 100.0 * k_arm / n_arm if n_arm else math.nan,
                          "n_missing": int((no_response["TRT01P"] == arm).sum())},
                         method="count", group=arm, analysis_set=aset_r, **keys)
        between = " vs ".join(tab["arms"])
        if "chi_square" in tab:
            ard.add_many("responders_between_arms", tab["chi_square"],
                         method="chi_square_pearson", group=between, analysis_set=aset_r,
                         **keys)
        if "chi_square_yates" in tab:
            ard.add_many("responders_between_arms", tab["chi_square_yates"],
                         method="chi_square_yates", group=between, analysis_set=aset_r,
                         **keys)
        if "fisher" in tab:
            ard.add_many("responders_between_arms", tab["fisher"], method="fisher_exact",
                         group=between, analysis_set=aset_r, **keys)
        if strata and len(tab["arms"]) == 2:
            strat = at.assign(RESP=flags.to_numpy()).dropna(subset=["RESP", *strata])
            tables = []
            for _, g in strat.groupby(strata, sort=True):
                t = np.array([[((g["ARM"] == a) & (g["RESP"] == v)).sum() for v in (1.0, 0.0)]
                              for a in tab["arms"]], dtype=float)
                if t.sum(axis=1).all() and t.sum(axis=0).all():
                    tables.append(t)
            if tables:
                ard.add_many("responders_between_arms", cmh_test(tables, confidence=confidence),
                             method="cmh_mantel_haenszel", group=between,
                             analysis_set=f"{aset_r}; strata {', '.join(strata)}", **keys)


MODEL_ARM_STATS = ("n", "mean", "sd", "lsmean", "se", "ci_low", "ci_high")
MODEL_CONTRAST_STATS = ("diff", "diff_se", "diff_ci_low", "diff_ci_high", "t", "p_value")


def _add_model(ard: ArdBuilder, spec: ModelSpec, eff: pd.DataFrame, locf: pd.DataFrame | None,
               subjects: pd.DataFrame, design: Design, confidence: float,
               arms: list[str]) -> None:
    """One prespecified between-arm model (``analyses.models``), fitted on all arms by
    ``trialreport.models.fit_arm_model`` on the efficacy population's records at the visit
    (observed, or LOCF). ARD rows (analysis ``model``, method ``"<id>: ols <formula>"``):
    per arm n, mean, sd, LS mean with SE and CI; per arm against the reference
    (``"<arm> vs <reference>"``) the difference with SE, CI, t and p; group ``all arms``
    the F test of the arm factor and the model's n, dropped rows, residual df and SD;
    group ``dose-response`` the linear trend on ``dose`` (``"<id>: ols trend ..."``)."""
    from trialreport.models import fit_arm_model

    where = f"analyses.models ({spec.id})"
    if len(arms) < 2:
        raise AnalysisConfigError(f"{where}: a between-arm model needs at least two arms; "
                                  f"the subjects have {', '.join(map(repr, arms))}")
    pcfg = design.parameters.get(spec.parameter)
    if pcfg is None:
        raise AnalysisConfigError(f"{where}: parameter {spec.parameter!r} is not one of "
                                  f"design.parameters ({', '.join(design.parameters)})")
    if spec.response == "CHG" and not pcfg.has_baseline:
        raise AnalysisConfigError(f"{where}: response CHG needs a baseline, and "
                                  f"{spec.parameter} has no baseline_visit; use response AVAL")
    if spec.records == "locf" and locf is None:
        raise AnalysisConfigError(f"{where}: records locf needs analyses.locf (true, derived "
                                  "or delivered)")
    records = locf if spec.records == "locf" else eff
    at = records[(records["PARAMCD"] == spec.parameter)
                 & (records["AVISITN"] == spec.visit)].copy()
    if "CHG" not in at.columns and "BASE" in at.columns:
        at["CHG"] = at["AVAL"].astype(float) - at["BASE"].astype(float)
    wanted = [*spec.covariates, *spec.factors, *([spec.dose] if spec.dose else [])]
    from_records = [c for c in wanted if c in ("BASE", "AVAL", "CHG")]
    from_subjects = [c for c in dict.fromkeys(wanted) if c not in from_records]
    missing = [c for c in from_subjects if c not in subjects.columns]
    if missing:
        raise AnalysisConfigError(
            f"{where}: {', '.join(map(repr, missing))} is neither BASE nor a column of the "
            f"subjects dataset; subject columns: "
            f"{', '.join(c for c in subjects.columns if c != 'SRCROW')}")
    at = at.drop(columns=[c for c in from_subjects if c in at.columns])
    at = at.merge(subjects[["USUBJID", *from_subjects]], on="USUBJID", how="left")
    frame = pd.DataFrame({"ARM": at["TRT01P"].astype(str),
                          spec.response: at[spec.response].astype(float)})
    for c in dict.fromkeys(wanted):
        frame[c] = (at[c].astype(float) if c in spec.covariates or c == spec.dose
                    else at[c].astype("string"))
    present = [a for a in arms if (frame["ARM"] == a).any()]
    reference = arms[0]  # arm_order puts the reference arm first
    if reference not in present:
        raise AnalysisConfigError(f"{where}: the reference arm {reference!r} has no "
                                  f"{spec.records} record of {spec.parameter} at visit "
                                  f"{spec.visit}")
    try:
        res = fit_arm_model(frame, spec.response, present, reference, spec.covariates,
                            spec.factors, spec.dose, confidence)
    except ValueError as exc:
        raise AnalysisConfigError(f"{where}: {spec.formula} at visit {spec.visit} cannot be "
                                  f"fitted: {exc}") from exc
    keys = {"parameter": spec.parameter, "visit": design.visit_name(spec.visit),
            "visitn": float(spec.visit),
            "analysis_set": f"{spec.records} records at {design.visit_name(spec.visit)}, "
                            "efficacy population"}
    method = f"{spec.id}: ols {res['formula']}"
    for arm, entry in res["arms"].items():
        ard.add_many("model", {k: entry[k] for k in MODEL_ARM_STATS}, method=method,
                     group=arm, **keys)
        if "diff" in entry:
            ard.add_many("model", {k: entry[k] for k in MODEL_CONTRAST_STATS},
                         method=method, group=f"{arm} vs {reference}", **keys)
    ard.add_many("model", {"n": res["n"], "n_dropped": res["n_dropped"],
                           "df_resid": res["df_resid"], "sigma": res["sigma"],
                           "f": res["f_arm"], "df_num": res["df_num"],
                           "df_den": res["df_den"], "p_value": res["p_value_arm"]},
                 method=method, group="all arms", **keys)
    if "dose_response" in res:
        dr = res["dose_response"]
        ard.add_many("model", {k: dr[k] for k in ("slope", "se", "ci_low", "ci_high", "t",
                                                  "p_value", "df_resid")},
                     method=f"{spec.id}: ols trend {dr['formula']}", group="dose-response",
                     **keys)
