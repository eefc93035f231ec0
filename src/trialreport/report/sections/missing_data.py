"""An endpoint's analyses under named assumptions about missing data (``missing_data:<id>``
in its ``sensitivity:`` list, ``analyses.missing_data``), shown beside its main result:
one row per assumption (estimate, CI, P) with one sentence saying what it assumes, then the
tipping-point table and figure. Every number is read from ``ard.csv`` (analysis
``missing_data``, ``trialreport.analyse.missing_data``)."""

from __future__ import annotations

import math

import pandas as pd

from trialreport.analyse.missing_data import assumptions_run
from trialreport.analyse.plan import resolve
from trialreport.common.plan import AnalysisRef, Endpoint, compared_arms
from trialreport.report.markdown import (
    blocks,
    estimate_ci,
    markdown_table,
    markdown_text,
    num,
    p_cell,
)
from trialreport.report.results import Results

ASSUMES = {
    "MAR": "Missing at random: after the event a subject's missing ratings follow the "
           "trajectory of the subjects of the same arm who stayed, given the subject's own "
           "earlier ratings.",
    "J2R": "Jump to reference: after the event the subject's mean jumps to the reference "
           "arm's mean, as if the treatment effect vanished at once when treatment stopped.",
    "CR": "Copy reference: the subject's whole trajectory, before and after the event, "
          "follows the reference arm's mean, so the ratings after it are predicted as a "
          "reference-arm subject with the same earlier ratings.",
    "CIR": "Copy increments in reference: after the event the subject's mean changes from "
           "visit to visit as the reference arm's does, keeping the effect reached at the "
           "last visit before it.",
    "LMCF": "Last mean carried forward: after the event the subject's mean stays at its "
            "arm's mean at the last visit before the event.",
}
"""What each assumption (``trialreport.common.missing_data.STRATEGIES``) says of the
ratings after a subject's intercurrent event (Carpenter, Roger & Kenward 2013)."""
NAMES = {"MAR": "missing at random", "J2R": "jump to reference", "CR": "copy reference",
         "CIR": "copy increments in reference", "LMCF": "last mean carried forward"}
INFERENCE = {
    "condmean_jackknife": "conditional mean imputation from the imputation model, standard "
                          "errors by the leave-one-subject-out jackknife (normal CI and P; "
                          "deterministic)",
    "mi_bootstrap": "multiple imputation, each imputation from the imputation model refitted "
                    "to a bootstrap sample of subjects (within arms), pooled by Rubin's "
                    "rules with Barnard-Rubin df",
}
ICE_RULES = {
    "last_rating": "each subject whose ratings stop before the visit has an intercurrent "
                   "event after the last rating (a monotone gap); missing visits followed "
                   "by a rating (intermittent gaps) are imputed under MAR",
    "day_column": "each subject's intercurrent event is at the study day in the subjects "
                  "column {column}: the visits planned after it are affected",
}


def assumes(spec, strategy: str) -> str:
    """What an assumption assumes, in one sentence (a mixed one: its strategy per value)."""
    mixed = spec.mixed.get(strategy)
    if mixed is None:
        return ASSUMES[strategy]
    groups: dict[str, list[str]] = {}
    for value, s in mixed.by_value:
        groups.setdefault(s, []).append(value)
    parts = [f"{NAMES[s]} ({s}) where {mixed.column} is {' or '.join(v)}"
             for s, v in groups.items()]
    return (f"Mixed, by the subject's {mixed.column}: {'; '.join(parts)}; "
            f"{NAMES[mixed.otherwise]} ({mixed.otherwise}) for any other value.")


def _spec(r: Results, ref: AnalysisRef):
    return next(m for m in r.cfg.analyses.missing_data if m.id == ref.model)


def analysis_name(r: Results, ref: AnalysisRef) -> str:
    spec = _spec(r, ref)
    return (f"missing data {spec.id}: imputation under named assumptions "
            f"({', '.join(spec.strategies)}), {spec.method.replace('_', ' + ')}")


def sensitivity_rows(r: Results, e: Endpoint, ref: AnalysisRef, arm: str, reference: str,
                     several: bool) -> list[dict[str, str]]:
    """One row of the endpoint's sensitivity table per assumption of ``ref``."""
    rows = []
    for strategy in _spec(r, ref).strategies:
        res = resolve(r.ard, ref, e, arm, reference, assumption=strategy)
        rows.append({
            "Analysis": f"missing data {ref.model}: {strategy}",
            **({"Comparison": f"{arm} vs {reference}"} if several else {}),
            "Estimate of": "" if res is None else res.estimate_label,
            "Estimate (CI)": "not computed" if res is None else estimate_ci(
                res.estimate, res.ci_low, res.ci_high),
            "P value": "not computed" if res is None else p_cell(res.p_value),
        })
    return rows


def _value(r: Results, method: str, group: str, statistic: str) -> float:
    a = r.ard
    rows = a[(a["analysis"] == "missing_data") & (a["method"] == method)
             & (a["group"] == group) & (a["statistic"] == statistic)]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def _branches(r: Results, method: str, arm: str) -> str:
    """A mixed assumption's subjects per strategy in ``arm`` (ARD ``n_<strategy>``)."""
    a = r.ard
    rows = a[(a["analysis"] == "missing_data") & (a["method"] == method) & (a["group"] == arm)
             & a["statistic"].str.match(r"n_[A-Z0-9]+$")]
    if rows.empty:
        return ""
    taken = "; ".join(f"{s.removeprefix('n_')} {num(v, 0)}"
                      for s, v in zip(rows["statistic"], rows["value"].astype(float),
                                      strict=True))
    return f" {arm}'s subjects with an event: {taken}."


def assumption_table(r: Results, e: Endpoint, ref: AnalysisRef, arm: str,
                     reference: str) -> pd.DataFrame:
    spec = _spec(r, ref)
    confidence = f"{100 * r.cfg.analyses.confidence:g}% CI"
    mi = spec.method == "mi_bootstrap"
    out = []
    for strategy in spec.strategies:
        res = resolve(r.ard, ref, e, arm, reference, assumption=strategy)
        row = {"Assumption": strategy, "What it assumes": assumes(spec, strategy)
               + _branches(r, f"{spec.id}: {strategy}", arm)}
        if res is None:
            row |= {f"Difference ({confidence})": "not computed", "P value": "not computed"}
        else:
            row |= {f"Difference ({confidence})": estimate_ci(res.estimate, res.ci_low,
                                                              res.ci_high),
                    "P value": p_cell(res.p_value)}
            if mi:
                method = f"{spec.id}: {strategy}"
                contrast = f"{arm} vs {reference}"
                row["Monte Carlo error (estimate; P)"] = (
                    f"{num(_value(r, method, contrast, 'mcse_diff'), 3)}; "
                    f"{num(_value(r, method, contrast, 'mcse_p'), 3)}")
        out.append(row)
    return pd.DataFrame(out)


def tipping_table(r: Results, method: str, contrast: str) -> pd.DataFrame:
    a = r.ard
    rows = a[(a["analysis"] == "missing_data") & (a["method"] == method)
             & a["group"].str.startswith(f"{contrast}; delta ")]
    confidence = f"{100 * r.cfg.analyses.confidence:g}% CI"
    level = 1 - r.cfg.analyses.confidence
    out = []
    for group in dict.fromkeys(rows["group"]):
        own = rows[rows["group"] == group]
        s = dict(zip(own["statistic"], own["value"].astype(float), strict=True))
        out.append({"Delta": num(s["delta"], 2),
                    f"Difference ({confidence})": estimate_ci(s["diff"], s["diff_ci_low"],
                                                             s["diff_ci_high"]),
                    "P value": p_cell(s["p_value"]),
                    f"P < {level:g}": "yes" if s["significant"] else "no"})
    return pd.DataFrame(out)


def tipping_sentence(r: Results, method: str, contrast: str) -> str:
    s = {k: _value(r, method, contrast, k) for k in (
        "significant_at_zero", "tipping_reached", "tipping_delta", "tipping_delta_refined",
        "grid_first", "grid_last")}
    level = 1 - r.cfg.analyses.confidence
    at_zero = (f"P < {level:g}" if s["significant_at_zero"] else f"P >= {level:g}")
    if not s["tipping_reached"]:
        return (f"At delta 0 the difference has {at_zero}; the conclusion does not change: "
                f"not reached in the grid (deltas {num(s['grid_first'], 2)} to "
                f"{num(s['grid_last'], 2)}).")
    refined = (f"; P crosses {level:g} at delta {num(s['tipping_delta_refined'], 2)}"
               if s["tipping_delta_refined"] == s["tipping_delta_refined"] else "")
    return (f"At delta 0 the difference has {at_zero}; the conclusion changes at delta "
            f"{num(s['tipping_delta'], 2)}, the first delta of the grid where it does"
            f"{refined}.")


def missing_data_block(r: Results, e: Endpoint, ref: AnalysisRef) -> str:
    """The block of one ``missing_data:<id>`` sensitivity analysis of endpoint ``e``."""
    from trialreport.figures.tipping_point import NAME, caption

    spec = _spec(r, ref)
    arms = r.arms()
    reference = spec.reference_arm or r.reference_arm()
    compared = [a for a in compared_arms(e, arms, reference) if a != reference]
    if not assumptions_run(r.ard, spec.id):
        return (f"**Missing data {markdown_text(spec.id)}: not computed** (no rows of "
                "analysis missing_data in ard.csv).")
    method = f"{spec.id}: {spec.strategies[0]}"
    counts = "; ".join(
        f"{name}: {num(_value(r, method, name, 'n_imputed'), 0)} of "
        f"{num(_value(r, method, name, 'n'), 0)} imputed at {r.visit_name(spec.visit)}, "
        f"{num(_value(r, method, name, 'n_ice'), 0)} with an event"
        for name in (reference, *compared))
    rule = ICE_RULES[spec.ice_rule].format(column=spec.ice_column)
    extra = "".join(f", {c}" for c in (*spec.covariates, *spec.factors))
    intro = (f"Missing data under named assumptions ({markdown_text(spec.id)}): the change "
             f"from baseline in {r.cfg.design.parameters[spec.parameter].label} at "
             f"{r.visit_name(spec.visit)}, the missing values imputed from an MMRM of the "
             f"change at every visit up to it (arm, visit, arm by visit, baseline, baseline "
             f"by visit{extra}; "
             f"{spec.covariance} covariance, REML), then an ANCOVA at the visit; "
             f"{INFERENCE[spec.method]}"
             + (f", {spec.imputations} imputations, seed {spec.seed}"
                if spec.method == "mi_bootstrap" else "")
             + f". Intercurrent events: {rule}. Each assumption applies to the subjects "
             f"with an event outside the reference arm ({markdown_text(reference)}), whose "
             f"own subjects are imputed under MAR. {markdown_text(counts)}.")
    parts = [intro]
    for arm in compared:
        parts.append(markdown_table(
            assumption_table(r, e, ref, arm, reference),
            caption=f"{e.label}: {arm} vs {reference} under each assumption about the "
                    f"missing data ({spec.id}; nominal P)"))
    tip = spec.tipping_point
    if tip is not None:
        method = f"{spec.id}: tipping point, {tip.strategy}"
        # as the analysis does: the delta goes to every arm but the reference by default
        tip_arms = ", ".join(tip.arms or [a for a in r.arms() if a != reference])
        for arm in compared:
            contrast = f"{arm} vs {reference}"
            parts.append(markdown_table(
                tipping_table(r, method, contrast),
                caption=f"{e.label}: tipping point, {contrast} under {tip.strategy} with "
                        f"delta added to the imputed values of {tip_arms} ({spec.id})"))
            parts.append(markdown_text(tipping_sentence(r, method, contrast)))
        path = r.results_dir / "figures" if r.results_dir else None
        ext = "svg" if r.output_format == "pdf" else "png"
        if path is None or not (path / f"{NAME}.{ext}").exists():
            parts.append(f"**{markdown_text('Tipping point')}: not drawn.** The figures "
                         f"step did not write figures/{NAME}.{ext}.")
        else:
            text, alt = caption(r.cfg, r.ard)
            alt = " ".join(alt.split()).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f"![{markdown_text(text)}](figures/{NAME}.{ext})"
                         f'{{#fig-tipping-point fig-alt="{alt}"}}')
    return blocks(*parts)


def missing_data_blocks(r: Results, e: Endpoint) -> list[str]:
    """The blocks of every ``missing_data:<id>`` in the endpoint's sensitivity list."""
    return [missing_data_block(r, e, ref) for ref in e.sensitivity
            if ref.kind == "missing_data"]
