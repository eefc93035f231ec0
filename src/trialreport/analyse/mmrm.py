"""An MMRM of ``analyses.models`` (``kind: mmrm``) as rows of the ARD (analysis ``mmrm``).

The records: the parameter's observed records (efficacy data, DTYPE empty) at the model's
``visits``, of the subjects flagged ``<population> = Y``; a record is used when its
response and every model variable are present, so a subject enters with a baseline and at
least one post-baseline value, every observed visit used (missing at random). The model
(``trialreport.common.mmrm_spec``) is fitted by ``trialreport.stats.mmrm.fit_mmrm``.

ARD rows, all with method ``"<id>: mmrm <formula>"``, parameter the model's, in the order
below (``ArdBuilder`` sorts them by visit, then arm):

- per arm and visit (group ``<arm>``; visit, visitn the visit's): ``n`` (subjects, each
  with one observation there), ``lsmean``, ``se``, ``df``, ``ci_low``, ``ci_high``;
- per compared arm and visit (group ``<arm> vs <reference>``): ``diff``, ``diff_se``,
  ``diff_df``, ``diff_ci_low``, ``diff_ci_high``, ``t``, ``p_value``;
- per arm over the visits (group ``<arm>``, no visit): ``n_subjects``, ``n_obs``;
- per visit, the fitted covariance matrix's row (group ``covariance with <visit>``, or
  ``<arm>; covariance with <visit>`` with one matrix per arm): ``covariance``;
- Type 3 F tests (group ``type 3: <effect>``, no visit; effects ``ARM``, ``AVISIT``,
  ``ARM:AVISIT``, ``BASE``, ...): ``f``, ``df_num``, ``df_den``, ``p_value``;
- the fit (group ``fit``, no visit): ``converged`` (1 or 0), ``n_subjects``, ``n_obs``,
  ``n_cov_params``, ``neg2_loglik`` (-2 restricted log likelihood under REML), ``aic``,
  ``bic``, ``iterations``, and flags (value 1) naming what was used:
  ``structure_<us|toep|...>``, ``method_<reml|ml>``, ``df_<kenward_roger|satterthwaite>``;
- each covariance structure tried, in the prespecified order (group
  ``covariance attempt <k>: <structure>: <reason>``, the reason ``converged`` or why it
  was rejected): ``converged``, ``used``, ``iterations``.

A model that does not converge under any structure tried gets the ``fit`` rows
(``converged`` 0), the attempt rows with each reason and the counts, and no estimates:
the report says it did not converge and why. Values are plain floats of deterministic
numpy computations: the same records give the same rows.
"""

from __future__ import annotations

import logging
import math

import pandas as pd

from trialreport.analyse.ard import ArdBuilder
from trialreport.common.config import AnalysisConfigError, Design, ModelSpec
from trialreport.common.mmrm_spec import DF_METHODS, mmrm_formula, mmrm_terms

log = logging.getLogger("trialreport")

ARM_STATS = ("n", "lsmean", "se", "df", "ci_low", "ci_high")
CONTRAST_STATS = ("diff", "diff_se", "diff_df", "diff_ci_low", "diff_ci_high", "t", "p_value")
TYPE3_PREFIX = "type 3: "
ATTEMPT_PREFIX = "covariance attempt "
COVARIANCE_PREFIX = "covariance with "


def mmrm_records(spec: ModelSpec, efficacy: pd.DataFrame, subjects: pd.DataFrame,
                 design: Design, where: str) -> pd.DataFrame:
    """The long table the MMRM is fitted on: USUBJID, ARM, AVISIT (visit name), AVISITN,
    the response, BASE and the configured covariates and factors, one row per observed
    record of the population at the model's visits (missing values kept: the engine
    leaves those rows out and counts them)."""
    flag = spec.population
    if flag not in subjects.columns:
        raise AnalysisConfigError(f"{where}.population: {flag!r} is not a column of the "
                                  "subjects dataset")
    wanted = [c for c in dict.fromkeys([*spec.covariates, *spec.factors]) if c != "BASE"]
    missing = [c for c in wanted if c not in subjects.columns]
    if missing:
        key = "covariates" if missing[0] in spec.covariates else "factors"
        raise AnalysisConfigError(
            f"{where}.{key}: {', '.join(map(repr, missing))} is neither BASE nor a column of "
            f"the subjects dataset; subject columns: "
            f"{', '.join(c for c in subjects.columns if c != 'SRCROW')}")
    rec = efficacy[(efficacy["PARAMCD"] == spec.parameter)
                   & efficacy["AVISITN"].isin(list(spec.visits))]
    if "DTYPE" in rec.columns:  # observed records only: no imputed (e.g. LOCF) rows
        rec = rec[rec["DTYPE"].fillna("").astype(str).str.strip() == ""]
    cols = [c for c in ("USUBJID", "AVISITN", "AVAL", "BASE", "CHG") if c in rec.columns]
    rec = rec[cols]
    subj = subjects.loc[subjects[flag] == "Y", ["USUBJID", "TRT01P", *wanted]]
    rec = rec.merge(subj, on="USUBJID", how="inner")
    base = rec["BASE"].astype(float) if "BASE" in rec.columns else pd.Series(
        math.nan, index=rec.index)
    chg = (rec["CHG"].astype(float) if "CHG" in rec.columns
           else rec["AVAL"].astype(float) - base)
    values = {"CHG": chg, "AVAL": rec["AVAL"].astype(float),
              "PCHG": (100.0 * chg / base.where(base != 0))}
    out = pd.DataFrame({
        "USUBJID": rec["USUBJID"].astype(str), "ARM": rec["TRT01P"].astype(str),
        "AVISITN": rec["AVISITN"].astype(int),
        "AVISIT": rec["AVISITN"].map(lambda n: design.visit_name(int(n))),
        spec.response: values[spec.response].to_numpy(float)})
    if "BASE" in spec.covariates:
        out["BASE"] = base.to_numpy(float)
    for c in wanted:
        out[c] = (rec[c].astype(float).to_numpy() if c in spec.covariates
                  else rec[c].astype("string").to_numpy(object))
    return out.sort_values(["USUBJID", "AVISITN"], kind="stable").reset_index(drop=True)


def mmrm_design(spec: ModelSpec, records: pd.DataFrame, arms: list[str], design: Design):
    """The engine's design of the spec on ``records`` (``mmrm_records``): arms in the
    protocol's order with ``arms[0]`` the reference, visits in the model's order."""
    from trialreport.stats.mmrm import build_design

    data = {c: records[c].to_numpy(object if records[c].dtype == object else None)
            for c in records.columns}
    present = [a for a in arms if (records["ARM"] == a).any()]
    return build_design(
        data, response=spec.response, subject="USUBJID", visit="AVISIT", arm="ARM",
        factors=list(spec.factors), terms=mmrm_terms(spec),
        levels={"AVISIT": [design.visit_name(v) for v in spec.visits], "ARM": present},
        reference={"ARM": arms[0]}, group="ARM" if spec.per_arm_covariance else None)


def fit_spec(spec: ModelSpec, design_mmrm):
    """``fit_mmrm`` with the spec's structure, fallback order, method and df method."""
    from trialreport.stats.mmrm import fit_mmrm

    return fit_mmrm(design_mmrm, spec.structure, method=spec.method,
                    ddfm=DF_METHODS[spec.df], fallback=spec.fallback or None)


def add_mmrm(ard: ArdBuilder, spec: ModelSpec, index: int, efficacy: pd.DataFrame,
             subjects: pd.DataFrame, design: Design, confidence: float,
             arms: list[str]) -> None:
    """Fit one MMRM of ``analyses.models`` and add its rows (module docstring)."""
    where = f"analyses.models[{index}] ({spec.id})"
    if len(arms) < 2:
        raise AnalysisConfigError(f"{where}: an MMRM compares arms and needs at least two; "
                                  f"the subjects have {', '.join(map(repr, arms))}")
    records = mmrm_records(spec, efficacy, subjects, design, where)
    if not (records["ARM"] == arms[0]).any():
        raise AnalysisConfigError(f"{where}: the reference arm {arms[0]!r} has no observed "
                                  f"record of {spec.parameter} at visits "
                                  f"{', '.join(map(str, spec.visits))}")
    try:
        d = mmrm_design(spec, records, arms, design)
        fit = fit_spec(spec, d)
    except ValueError as exc:
        raise AnalysisConfigError(f"{where}: {mmrm_formula(spec)} cannot be fitted: {exc}"
                                  ) from exc
    write_rows(ard, spec, fit, design, confidence)


def write_rows(ard: ArdBuilder, spec: ModelSpec, fit, design: Design,
               confidence: float) -> None:
    """The ARD rows of a fitted MMRM (module docstring)."""
    method = f"{spec.id}: mmrm {mmrm_formula(spec)}"
    aset = (f"{spec.population} = Y; observed records at "
            f"{', '.join(design.visit_name(v) for v in spec.visits)}; subjects with a "
            "baseline and at least one post-baseline value")
    common = {"parameter": spec.parameter, "method": method, "analysis_set": aset}
    numbers = {design.visit_name(v): v for v in spec.visits}

    def at(visit) -> dict:
        return {"visit": visit, "visitn": float(numbers[visit])}

    alpha = 1 - confidence
    counts = {(c["arm"], c["visit"]): c for c in fit.counts}
    if fit.converged:
        for row in fit.lsmeans(alpha=alpha):
            n = counts[(row["arm"], row["visit"])]["subjects"]
            ard.add_many("mmrm", {"n": n, "lsmean": row["estimate"], "se": row["se"],
                                  "df": row["df"], "ci_low": row["lower"],
                                  "ci_high": row["upper"]},
                         group=row["arm"], **at(row["visit"]), **common)
        for row in fit.diffs(alpha=alpha):
            ard.add_many("mmrm", {"diff": row["estimate"], "diff_se": row["se"],
                                  "diff_df": row["df"], "diff_ci_low": row["lower"],
                                  "diff_ci_high": row["upper"], "t": row["t"],
                                  "p_value": row["p"]},
                         group=f"{row['arm']} vs {row['reference']}", **at(row["visit"]),
                         **common)
        for gi, sigma in enumerate(fit.sigma):
            prefix = f"{fit.group_levels[gi]}; " if len(fit.sigma) > 1 else ""
            for i, visit in enumerate(fit.design.visit_levels):
                for j, other in enumerate(fit.design.visit_levels):
                    ard.add("mmrm", "covariance", float(sigma[i, j]),
                            group=f"{prefix}{COVARIANCE_PREFIX}{other}", **at(visit),
                            **common)
        for row in fit.type3():
            ard.add_many("mmrm", {"f": row["F"], "df_num": row["num_df"],
                                  "df_den": row["den_df"], "p_value": row["p"]},
                         group=f"{TYPE3_PREFIX}{row['effect']}", **common)
    for c in fit.counts:
        if c["visit"] is None:
            ard.add_many("mmrm", {"n_subjects": c["subjects"], "n_obs": c["observations"]},
                         group=c["arm"], **common)
        elif not fit.converged:
            ard.add("mmrm", "n", c["subjects"], group=c["arm"], **at(c["visit"]), **common)
    flags = {f"structure_{fit.structure.lower()}": 1.0,
             f"method_{fit.method.lower()}": 1.0,
             f"df_{spec.df.replace('-', '_')}": 1.0}
    ard.add_many("mmrm", {"converged": float(fit.converged), "n_subjects": fit.n_subjects,
                          "n_obs": fit.n_obs, "n_cov_params": fit.n_cov_params,
                          "neg2_loglik": fit.neg2loglik, "aic": fit.aic, "bic": fit.bic,
                          "iterations": fit.iterations} | flags, group="fit", **common)
    for k, attempt in enumerate(fit.attempts, start=1):
        used = float(fit.converged and k == len(fit.attempts))
        ard.add_many("mmrm", {"converged": float(attempt.converged), "used": used,
                              "iterations": attempt.iterations},
                     group=f"{ATTEMPT_PREFIX}{k}: {attempt.structure}: "
                           f"{_one_line(attempt.reason)}", **common)
    if not fit.converged:
        log.warning("MMRM %s of %s did not converge: %s", spec.id, spec.parameter,
                    fit.message)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
