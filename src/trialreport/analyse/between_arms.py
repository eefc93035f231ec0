"""Between-arm comparisons of a trial with more than one arm, as rows of the ARD:
ANCOVA LS means and differences per visit (``ancova``), responder rates compared between
arms (``responders_between_arms``: chi-square, Fisher's exact, CMH), and the prespecified
models of ``analyses.models`` (``trialreport.stats.models``)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from trialreport.analyse.ard import ArdBuilder
from trialreport.analyse.responders import responder_flags, rule_text
from trialreport.common.config import (
    Analyses,
    AnalysisConfigError,
    Design,
    ModelSpec,
)
from trialreport.common.frames import member_of
from trialreport.common.plan import reference_arm
from trialreport.stats.ancova import ancova_change
from trialreport.stats.proportions import cmh_test, newcombe_difference, responder_tables


def add_parallel(ard: ArdBuilder, eff: pd.DataFrame, subjects: pd.DataFrame,
                  design: Design, analyses: Analyses,
                  visit_names: Mapping[int, str], confidence: float,
                  arms: list[str]) -> None:
    """Between-arm analyses at each parameter's comparison visit, for trials with more than
    one arm: ANCOVA of CHG on arm and BASE (+ strata), responders by chi-square, Fisher's
    exact (two arms) and CMH across strata (two arms, when strata are given)."""
    cfg = analyses.parallel
    reference = reference_arm(analyses, arms)
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
        add_pairwise_responders(ard, tab, reference, confidence, aset_r, keys)
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


def add_pairwise_responders(ard: ArdBuilder, tab: Mapping, reference: str, confidence: float,
                            analysis_set: str, keys: Mapping) -> None:
    """Each arm against the reference arm: the difference in responder percentages with
    Newcombe's hybrid score CI (``newcombe_difference``, in percentage points), and, with
    three or more arms, that pair's own chi-square and Fisher's exact test (with two arms
    the tests above are already the pair's)."""
    if reference not in tab["arms"]:
        return
    ref = tab["arms"].index(reference)
    k_ref, n_ref = int(tab["table"][ref, 0]), int(tab["table"][ref].sum())
    for i, arm in enumerate(tab["arms"]):
        if arm == reference:
            continue
        k, n = int(tab["table"][i, 0]), int(tab["table"][i].sum())
        group = f"{arm} vs {reference}"
        rd = newcombe_difference(k, n, k_ref, n_ref, confidence)
        ard.add_many("responders_between_arms",
                     {"diff": 100 * rd["diff"], "diff_ci_low": 100 * rd["ci_low"],
                      "diff_ci_high": 100 * rd["ci_high"]},
                     method="newcombe_hybrid_score", group=group,
                     analysis_set=analysis_set, **keys)
        if len(tab["arms"]) > 2:
            pair = responder_tables(np.array([arm] * n + [reference] * n_ref, dtype=object),
                                    np.array([1.0] * k + [0.0] * (n - k) + [1.0] * k_ref
                                             + [0.0] * (n_ref - k_ref)), [arm, reference])
            for name, method in (("chi_square", "chi_square_pearson"),
                                 ("chi_square_yates", "chi_square_yates"),
                                 ("fisher", "fisher_exact")):
                if name in pair:
                    ard.add_many("responders_between_arms", pair[name], method=method,
                                 group=group, analysis_set=analysis_set, **keys)


MODEL_ARM_STATS = ("n", "mean", "sd", "lsmean", "se", "ci_low", "ci_high")
MODEL_CONTRAST_STATS = ("diff", "diff_se", "diff_ci_low", "diff_ci_high", "t", "p_value")


def add_model(ard: ArdBuilder, spec: ModelSpec, eff: pd.DataFrame, locf: pd.DataFrame | None,
               subjects: pd.DataFrame, design: Design, confidence: float,
               arms: list[str]) -> None:
    """One prespecified between-arm model (``analyses.models``), fitted on all arms by
    ``trialreport.stats.models.fit_arm_model`` on the efficacy population's records at the visit
    (observed, or LOCF). ARD rows (analysis ``model``, method ``"<id>: ols <formula>"``):
    per arm n, mean, sd, LS mean with SE and CI; per arm against the reference
    (``"<arm> vs <reference>"``) the difference with SE, CI, t and p; group ``all arms``
    the F test of the arm factor and the model's n, dropped rows, residual df and SD;
    group ``dose-response`` the linear trend on ``dose`` (``"<id>: ols trend ..."``)."""
    from trialreport.stats.models import fit_arm_model

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
