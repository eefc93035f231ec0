"""The missing-data sensitivity analyses of ``analyses.missing_data`` (analysis
``missing_data`` of the ARD), run by ``trialreport.stats.imputation``.

The records (``imputation_records``): the efficacy population (EFFFL = Y) with a baseline
(BASE) of the parameter, one row per subject and visit after the baseline up to the
entry's visit, CHG missing where the subject has no observed record; the subject's ICE by
the entry's rule (``trialreport.common.missing_data``). The assumptions are run in turn
with each subject with an ICE in a compared arm under the assumption (a mixed one: the
strategy its subjects column gives the subject's value), the reference arm under MAR.

Rows, all with analysis ``missing_data``, the parameter and the entry's visit, and
analysis_set ``EFFFL = Y; <inference>; MMRM <covariance>``:

- method ``<id>: <assumption>`` (e.g. ``saga_mnar: J2R``):

  - group ``<arm> vs <reference>``: ``diff`` (difference in LS means of the change),
    ``diff_se``, ``diff_df`` (``inf`` for the jackknife, whose CI and P are normal),
    ``diff_ci_low``, ``diff_ci_high``, ``p_value``; with multiple imputation also
    ``imputations``, ``seed`` and the Monte Carlo errors ``mcse_diff``, ``mcse_se``,
    ``mcse_ci_low``, ``mcse_ci_high``, ``mcse_p``;
  - group ``<arm>`` (every arm): ``n`` (subjects analysed), ``n_ice`` (subjects with an
    intercurrent event before or at the visit), ``n_imputed`` (subjects whose value at
    the visit is imputed), ``lsmean`` and ``se``; for a mixed assumption, in each compared
    arm, ``n_<strategy>`` (e.g. ``n_J2R``, ``n_MAR``): the subjects with an event that each
    of its strategies took.

- method ``<id>: tipping point, <assumption>`` (the delta added in the arms the
  analysis_set names):

  - group ``<arm> vs <reference>; delta <d>`` per grid delta, in the grid's order:
    ``delta``, ``diff``, ``diff_se``, ``diff_ci_low``, ``diff_ci_high``, ``p_value``,
    ``significant`` (1 when P < 1 - confidence);
  - group ``<arm> vs <reference>``: ``significant_at_zero``, ``tipping_reached`` (1 or 0),
    ``tipping_delta`` (the first grid delta whose conclusion differs from delta 0; empty
    when not reached in the grid), ``tipping_delta_refined`` (where P crosses the level
    between that delta and the one before, when P is monotone there; else empty),
    ``grid_first``, ``grid_last``, ``n_deltas``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analyse.ard import ARD_COLUMNS
from trialreport.common.config import AnalysisConfigError, Trial
from trialreport.common.formatting import format_value
from trialreport.common.missing_data import ENGINE_NAMES, MissingDataSpec
from trialreport.common.plan import reference_arm

log = logging.getLogger("trialreport")

ANALYSIS = "missing_data"
INFERENCE_WORDS = {"condmean_jackknife": "conditional mean imputation, jackknife",
                   "mi_bootstrap": "multiple imputation, bootstrap"}


def analysis_visits(cfg: Trial, spec: MissingDataSpec) -> list[int]:
    """The visits of the imputation model: after the parameter's baseline, up to the
    entry's visit."""
    base = cfg.design.parameters[spec.parameter].baseline_visit
    return sorted(v.number for v in cfg.design.visits if base < v.number <= spec.visit)


def ice_from_days(days: pd.Series, visit_days: Sequence[float], key: str, column: str
                  ) -> dict[Any, int]:
    """Subject -> index of the first visit whose planned day is after the subject's event
    day (rule ``day_column``); subjects with no day or an event after the last visit have
    no ICE."""
    out = {}
    for sid, value in days.items():
        if pd.isna(value) or (isinstance(value, str) and not value.strip()):
            continue
        try:
            day = float(value)
        except (TypeError, ValueError):
            raise AnalysisConfigError(
                f"{key}.intercurrent_event.column: subjects column {column}, subject {sid}: "
                f"{value!r} is not a study day") from None
        after = [i for i, d in enumerate(visit_days) if d > day]
        if after:
            out[sid] = after[0]
    return out


def imputation_records(cfg: Trial, spec: MissingDataSpec, subjects: pd.DataFrame,
                       efficacy: pd.DataFrame, arms: Sequence[str]
                       ) -> tuple[pd.DataFrame, dict[Any, int] | None]:
    """The long table of the imputation (USUBJID, TRT01P, AVISITN, CHG, BASE and the
    entry's covariates and factors; one row per subject and visit, CHG NaN where missing)
    and, for rule ``day_column``, subject -> first affected visit (None: derived)."""
    key = spec.key
    cols = [*spec.covariates, *spec.factors]
    if spec.ice_column:
        cols.append(spec.ice_column)
    mixed = {mx.column: f"strategies[{spec.strategies.index(name)}].column"
             for name, mx in spec.mixed.items()}
    cols += list(mixed)
    missing = [c for c in dict.fromkeys(cols) if c not in subjects.columns]
    if missing:
        where = ("intercurrent_event.column" if missing[0] == spec.ice_column else
                 "covariates" if missing[0] in spec.covariates else
                 "factors" if missing[0] in spec.factors else mixed[missing[0]])
        raise AnalysisConfigError(f"{key}.{where}: {missing[0]!r} is not a subjects column "
                                  f"(columns: {', '.join(subjects.columns)})")
    mitt = subjects[(subjects["EFFFL"] == "Y") & subjects["TRT01P"].isin(arms)]
    mitt = mitt[["USUBJID", "TRT01P", *dict.fromkeys(cols)]]
    visits = analysis_visits(cfg, spec)
    rec = efficacy[efficacy["PARAMCD"] == spec.parameter]
    if "DTYPE" in rec.columns:
        rec = rec[rec["DTYPE"].isna()]
    base = (rec.dropna(subset=["BASE"]).groupby("USUBJID", sort=True)["BASE"].first()
            .astype(float))
    mitt = mitt[mitt["USUBJID"].isin(base.index)].sort_values("USUBJID", kind="stable")
    observed = rec[rec["AVISITN"].isin(visits) & rec["CHG"].notna()]
    grid = pd.DataFrame({"USUBJID": np.repeat(mitt["USUBJID"].to_numpy(), len(visits)),
                         "AVISITN": np.tile(np.array(visits, dtype=int), len(mitt))})
    frame = grid.merge(observed[["USUBJID", "AVISITN", "CHG"]].astype(
        {"AVISITN": int, "CHG": float}), on=["USUBJID", "AVISITN"], how="left",
        validate="one_to_one")
    frame = frame.merge(mitt, on="USUBJID", how="left")
    frame["BASE"] = frame["USUBJID"].map(base)
    for c in spec.covariates:
        values = pd.to_numeric(frame[c], errors="coerce")
        bad = frame.loc[values.isna(), ["USUBJID", c]]
        if len(bad):
            row = bad.iloc[0]
            raise AnalysisConfigError(f"{key}.covariates: subjects column {c}, subject "
                                      f"{row['USUBJID']}: {row[c]!r} is not a number")
        frame[c] = values.astype(float)
    for c in spec.factors:
        if frame[c].isna().any():
            sid = frame.loc[frame[c].isna(), "USUBJID"].iloc[0]
            raise AnalysisConfigError(f"{key}.factors: subjects column {c}, subject {sid}: "
                                      "empty")
        frame[c] = frame[c].astype(str)
    ice = None
    if spec.ice_rule == "day_column":
        days = {v.number: v.day for v in cfg.design.visits}
        per_subject = mitt.set_index("USUBJID")[spec.ice_column]
        ice = ice_from_days(per_subject, [days[v] for v in visits], key, spec.ice_column)
    return frame.reset_index(drop=True), ice


def prepare_data(cfg: Trial, spec: MissingDataSpec, subjects: pd.DataFrame,
                 efficacy: pd.DataFrame, arms: Sequence[str]) -> Any:
    """``trialreport.stats.imputation.prepare`` of ``imputation_records`` (every subject
    MAR; the assumptions are set per run)."""
    from trialreport.stats.imputation import prepare

    frame, ice = imputation_records(cfg, spec, subjects, efficacy, arms)
    present = [a for a in arms if a in set(frame["TRT01P"])]
    reference = spec.reference_arm or reference_arm(cfg.analyses, list(arms))
    if reference not in present or len(present) < 2:
        raise AnalysisConfigError(f"{spec.key}: the reference arm {reference!r} and another "
                                  "arm need subjects with a baseline in the efficacy "
                                  f"population (arms with some: {', '.join(present)})")
    visits = analysis_visits(cfg, spec)
    data = {c: frame[c].to_numpy() for c in frame.columns}
    try:
        return prepare(data, response="CHG", subject="USUBJID", visit="AVISITN",
                       arm="TRT01P", baseline="BASE", covariates=spec.covariates,
                       factors=spec.factors, levels={"AVISITN": visits, "TRT01P": present},
                       reference=reference,
                       ice=None if ice is None else {s: visits[i] for s, i in ice.items()},
                       strategy="MAR")
    except ValueError as exc:  # e.g. a covariate that changes within a subject
        raise AnalysisConfigError(f"{spec.key}: {exc}") from exc


def subject_strategies(data: Any, spec: MissingDataSpec, strategy: str,
                       subjects: pd.DataFrame | None = None) -> np.ndarray:
    """Each subject's strategy (the engine's names) under assumption ``strategy``: MAR in
    the reference arm and without an ICE; else ``strategy``, or for a mixed assumption the
    strategy its column's value in ``subjects`` gives."""
    mixed = spec.mixed.get(strategy)
    values = None
    if mixed is not None:
        values = subjects.drop_duplicates("USUBJID").set_index("USUBJID")[mixed.column]
    out = np.full(data.n_subjects, "MAR", dtype=object)
    for i, sid in enumerate(data.subject_ids.tolist()):
        if data.ice[i] >= data.n_visits or data.arm[i] == data.reference:
            continue
        own = strategy if mixed is None else mixed.strategy(values.get(sid))
        out[i] = ENGINE_NAMES[own]
    return out


def branch_counts(data: Any, spec: MissingDataSpec, strategy: str,
                  subjects: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    """For a mixed assumption, per compared arm the subjects with an intercurrent event that
    each of its strategies took (``n_<strategy>``, every strategy it can give, 0 included);
    nothing for a plain one (all take it)."""
    mixed = spec.mixed.get(strategy)
    if mixed is None:
        return {}
    names = list(dict.fromkeys([s for _, s in mixed.by_value] + [mixed.otherwise]))
    given = subject_strategies(data, spec, strategy, subjects)
    event = data.ice < data.n_visits
    out = {}
    for k, a in enumerate(data.arms):
        if k == data.reference:
            continue
        own = (data.arm == k) & event
        out[a] = {f"n_{name}": float(np.sum(own & (given == ENGINE_NAMES[name])))
                  for name in names}
    return out


def run_assumption(data: Any, spec: MissingDataSpec, strategy: str, alpha: float,
                   workers: int, subjects: pd.DataFrame | None = None) -> Any:
    """The ``ImputationResult`` of one assumption (``subject_strategies``)."""
    from dataclasses import replace

    from trialreport.stats import imputation as imp

    try:
        prepared = replace(data, strategy=subject_strategies(data, spec, strategy, subjects))
        if spec.method == "mi_bootstrap":
            return imp.mi_bootstrap(prepared, m=spec.imputations, seed=spec.seed,
                                    structure=spec.covariance, alpha=alpha, workers=workers)
        return imp.condmean_jackknife(prepared, structure=spec.covariance, alpha=alpha,
                                      workers=workers)
    except ValueError as exc:
        raise AnalysisConfigError(f"{spec.key}.strategies ({strategy}): {exc}") from exc


def _row(trial: str, spec: MissingDataSpec, visit: str, method: str, analysis_set: str,
         group: str, statistic: str, value: float) -> dict:
    return {"trial": trial, "analysis": ANALYSIS, "analysis_set": analysis_set,
            "method": method, "parameter": spec.parameter, "visit": visit,
            "visitn": float(spec.visit), "group": group, "statistic": statistic,
            "value": float(value)}


def missing_data_ard(trial_id: str, cfg: Trial, subjects: pd.DataFrame,
                     efficacy: pd.DataFrame, arms: Sequence[str], workers: int = 1
                     ) -> pd.DataFrame:
    """The ``missing_data`` rows of every ``analyses.missing_data`` entry (module
    docstring), in the config's order, the assumptions in the entry's order."""
    from trialreport.stats import imputation as imp

    rows: list[dict] = []
    alpha = 1 - cfg.analyses.confidence
    for spec in cfg.analyses.missing_data:
        data = prepare_data(cfg, spec, subjects, efficacy, arms)
        visit_name = cfg.design.visit_name(spec.visit)
        t_index = data.visits.index(spec.visit)
        ref = data.arms[data.reference]
        others = [a for a in data.arms if a != ref]
        analysis_set = (f"EFFFL = Y; {spec.method}; MMRM {spec.covariance}"
                        + (f", {spec.imputations} imputations, seed {spec.seed}"
                           if spec.method == "mi_bootstrap" else ""))
        counts = {}
        for k, a in enumerate(data.arms):
            own = data.arm == k
            counts[a] = {"n": float(own.sum()),
                         "n_ice": float(np.sum(own & (data.ice <= t_index))),
                         "n_imputed": float(np.sum(own & data.missing[:, t_index]))}
        results = {}
        for strategy in spec.strategies:
            log.info("missing data %s: %s, %s, %d subjects, %d worker(s)", spec.id, strategy,
                     spec.method, data.n_subjects, workers)
            res = run_assumption(data, spec, strategy, alpha, workers, subjects)
            results[strategy] = res
            method = f"{spec.id}: {strategy}"
            at = [r for r in res.rows if r["visit"] == spec.visit]
            for a in others:
                d = next(r for r in at if r["kind"] == "difference" and r["arm"] == a)
                stats = {"diff": d["estimate"], "diff_se": d["se"], "diff_df": d["df"],
                         "diff_ci_low": d["lower"], "diff_ci_high": d["upper"],
                         "p_value": d["p"]}
                if spec.method == "mi_bootstrap":
                    stats |= {"imputations": float(spec.imputations),
                              "seed": float(spec.seed),
                              "mcse_diff": d.get("mcse_estimate", math.nan),
                              "mcse_se": d.get("mcse_se", math.nan),
                              "mcse_ci_low": d.get("mcse_lower", math.nan),
                              "mcse_ci_high": d.get("mcse_upper", math.nan),
                              "mcse_p": d.get("mcse_p", math.nan)}
                rows += [_row(trial_id, spec, visit_name, method, analysis_set,
                              f"{a} vs {ref}", s, v) for s, v in stats.items()]
            branches = branch_counts(data, spec, strategy, subjects)
            for a in data.arms:
                ls = next(r for r in at if r["kind"] == "lsmean" and r["arm"] == a)
                stats = counts[a] | branches.get(a, {}) | {"lsmean": ls["estimate"],
                                                            "se": ls["se"]}
                rows += [_row(trial_id, spec, visit_name, method, analysis_set, a, s, v)
                         for s, v in stats.items()]
        tip = spec.tipping_point
        if tip is None:
            continue
        tip_arms = list(tip.arms) or others
        method = f"{spec.id}: tipping point, {tip.strategy}"
        tip_set = f"{analysis_set}; delta added in {', '.join(tip_arms)}"
        for a in others:
            tp = imp.tipping_point(results[tip.strategy], tip.deltas, tip_arms,
                                   visit=spec.visit, arm=a, alpha=alpha)
            contrast = f"{a} vs {ref}"
            for r in tp.rows:
                group = f"{contrast}; delta {format_value(r['delta'])}"
                stats = {"delta": r["delta"], "diff": r["estimate"], "diff_se": r["se"],
                         "diff_ci_low": r["lower"], "diff_ci_high": r["upper"],
                         "p_value": r["p"], "significant": float(r["significant"])}
                rows += [_row(trial_id, spec, visit_name, method, tip_set, group, s, v)
                         for s, v in stats.items()]
            summary = {
                "significant_at_zero": float(tp.significant_at_zero),
                "tipping_reached": float(tp.tipping_delta is not None),
                "tipping_delta": math.nan if tp.tipping_delta is None else tp.tipping_delta,
                "tipping_delta_refined": math.nan if tp.refined is None else tp.refined,
                "grid_first": tip.deltas[0], "grid_last": tip.deltas[-1],
                "n_deltas": float(len(tip.deltas))}
            rows += [_row(trial_id, spec, visit_name, method, tip_set, contrast, s, v)
                     for s, v in summary.items()]
    return pd.DataFrame(rows, columns=ARD_COLUMNS)




def assumptions_run(ard: pd.DataFrame, spec_id: str) -> list[str]:
    """The assumptions of entry ``spec_id`` that have rows in the ARD, in their order."""
    rows = ard[(ard["analysis"] == ANALYSIS) & ard["method"].str.startswith(f"{spec_id}: ")]
    names = [m.split(": ", 1)[1] for m in rows["method"]]
    return [n for n in dict.fromkeys(names) if not n.startswith("tipping point")]


__all__ = ["ANALYSIS", "assumptions_run", "imputation_records", "missing_data_ard",
           "prepare_data", "run_assumption"]
