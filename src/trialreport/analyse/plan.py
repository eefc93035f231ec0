"""The analysis plan's rows of the ARD: each endpoint's main test, its multiplicity-adjusted
P and the decision (analysis ``plan``).

The numbers an endpoint reports are the rows of the analyses its plan names
(``ancova``, ``responders_between_arms``, ``paired``, ``paired_locf``, ``one_sample``,
``model``); ``resolve`` reads them (estimate, confidence interval, P, per-arm summaries),
for this stage and for the report alike. ``plan_rows`` then runs the plan's multiplicity
strategy (``trialreport.stats.multiplicity_strategy``) over the family's main tests and
writes, per hypothesis (method ``<endpoint id>: <procedure>``, group the comparison or, in a
single-arm trial, the arm):

- ``p_value``: the main test's P as the decision uses it (one-sided where the endpoint's
  decision rule is: half the two-sided P in the favoured direction, else 1 minus that);
- ``alpha``: the overall level of the family (or the endpoint's own level with no
  multiplicity control);
- ``p_adjusted``, ``alpha_local``: the adjusted P and the level the hypothesis was last held
  to (missing where the procedure defines none);
- ``tested`` and ``rejected`` (1 or 0): the decision is "rejected" (tested and rejected),
  "not rejected" (tested, not rejected) or "not tested: gate closed" (not tested).

An endpoint outside the family (secondary, exploratory) gets its ``p_value`` only, with
method ``<endpoint id>: nominal``: it is not adjusted for multiplicity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from trialreport.analyse.ard import ArdBuilder
from trialreport.common.config import AnalysisConfigError, Trial
from trialreport.common.plan import (
    WITHIN_ARM,
    AnalysisRef,
    Endpoint,
    Plan,
    check_family,
    compared_arms,
    family,
    hypotheses,
    reference_arm,
)

ESTIMATES = {
    "ancova": "Difference in LS means",
    "model": "Difference in LS means",
    "missing_data": "Difference in LS means",
    "responders_between_arms": "Difference in responder rates (percentage points)",
    "paired": "Mean change from baseline",
    "paired_locf": "Mean change from baseline (LOCF)",
    "one_sample": "Mean difference from no change",
}
DECISIONS = ("rejected", "not rejected", "not tested: gate closed")


@dataclass(frozen=True)
class Result:
    """One analysis's answer for one comparison (or, within an arm, for the arm), read
    from the ARD: the estimate with its CI, the two-sided P of the named test and the rows'
    method; per arm, n and the arm's own estimate (LS mean, rate, mean) with its SE or CI."""

    ref: AnalysisRef
    group: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str
    test_method: str
    se: float = math.nan
    arms: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def estimate_label(self) -> str:
        if self.ref.kind in WITHIN_ARM and self.ref.test == "wilcoxon":
            return "Hodges-Lehmann estimate of the change"
        return ESTIMATES[self.ref.kind]


def _rows(ard: pd.DataFrame, analysis: str, parameter: str, visit: int) -> pd.DataFrame:
    return ard[(ard["analysis"] == analysis) & (ard["parameter"] == parameter)
               & (ard["visitn"] == float(visit))]


def _stats(rows: pd.DataFrame) -> dict[str, float]:
    return dict(zip(rows["statistic"], rows["value"].astype(float), strict=True))


def resolve(ard: pd.DataFrame, ref: AnalysisRef, endpoint: Endpoint, arm: str,
            reference: str, assumption: str | None = None) -> Result | None:
    """The ARD's answer of analysis ``ref`` to ``endpoint`` for ``arm`` (against
    ``reference`` when the analysis compares arms); None when the ARD has no such rows
    (the analysis was not run, e.g. too few subjects). For ``missing_data:<id>``, under
    ``assumption`` (default the entry's first: ``trialreport.analyse.missing_data``)."""
    kind = ref.kind
    if kind in WITHIN_ARM:
        rows = _rows(ard, kind, endpoint.parameter, endpoint.visit)
        rows = rows[rows["group"] == arm]
        if rows.empty:
            return None
        if kind == "one_sample":
            est = _stats(rows[rows["method"] == "t-based CI"])
            estimate = est.get("difference_mean", math.nan)
            ci = (est.get("difference_ci_low", math.nan), est.get("difference_ci_high", math.nan))
        elif ref.test == "wilcoxon":  # the Hodges-Lehmann estimate goes with the test
            hl = _stats(rows[rows["method"].str.startswith("hodges_lehmann")])
            estimate = hl.get("hl_estimate", math.nan)
            ci = (hl.get("hl_ci_low", math.nan), hl.get("hl_ci_high", math.nan))
        else:
            desc = _stats(rows[rows["method"] == "descriptive"])
            est = _stats(rows[rows["method"] == "t-based CI"])
            estimate = desc.get("change_mean", math.nan)
            ci = (est.get("change_ci_low", math.nan), est.get("change_ci_high", math.nan))
        test = rows[rows["method"].str.startswith(ref.test) & (rows["statistic"] == "p_value")]
        return Result(ref, arm, estimate, *ci,
                      p_value=float(test["value"].iloc[0]) if len(test) else math.nan,
                      method=str(rows["analysis_set"].iloc[0]),
                      test_method=str(test["method"].iloc[0]) if len(test) else ref.test)
    contrast = f"{arm} vs {reference}"
    if kind == "model":
        rows = _rows(ard, "mmrm" if ref.test == "mmrm" else "model", endpoint.parameter,
                     endpoint.visit)
        rows = rows[rows["method"].str.startswith(f"{ref.model}: ")
                    & ~rows["method"].str.contains(" trend ")]
        names = {"diff": "diff", "low": "diff_ci_low", "high": "diff_ci_high",
                 "se": "diff_se", "arm": "lsmean", "arm_se": "se"}
        test_rows = rows
    elif kind == "missing_data":
        rows = _rows(ard, "missing_data", endpoint.parameter, endpoint.visit)
        run = [m for m in dict.fromkeys(rows["method"]) if m.startswith(f"{ref.model}: ")
               and ": tipping point, " not in m]
        method = f"{ref.model}: {assumption}" if assumption else (run[0] if run else "")
        rows = rows[rows["method"] == method]
        names = {"diff": "diff", "low": "diff_ci_low", "high": "diff_ci_high",
                 "se": "diff_se", "arm": "lsmean", "arm_se": "se"}
        test_rows = rows
    elif kind == "ancova":
        rows = _rows(ard, "ancova", endpoint.parameter, endpoint.visit)
        names = {"diff": "diff", "low": "diff_ci_low", "high": "diff_ci_high",
                 "se": "diff_se", "arm": "lsmean", "arm_se": "se"}
        test_rows = rows
    else:  # responders_between_arms
        rows = _rows(ard, "responders_between_arms", endpoint.parameter, endpoint.visit)
        names = {"diff": "diff", "low": "diff_ci_low", "high": "diff_ci_high",
                 "se": "", "arm": "percent", "arm_se": ""}
        test_rows = rows[rows["method"] == ref.test]
        rows = rows[rows["method"].isin(["count", "newcombe_hybrid_score"])]
    diff = _stats(rows[rows["group"] == contrast])
    if names["diff"] not in diff:
        return None
    p = _stats(test_rows[test_rows["group"] == contrast]).get("p_value", math.nan)
    arms = {}
    for name in (arm, reference):
        own = _stats(rows[rows["group"] == name])
        arms[name] = {"n": own.get("n", math.nan), "estimate": own.get(names["arm"], math.nan),
                      "se": own.get(names["arm_se"], math.nan),
                      "n_responders": own.get("n_responders", math.nan)}
    method = str(test_rows.loc[test_rows["group"] == contrast, "method"].iloc[0]) \
        if (test_rows["group"] == contrast).any() else ref.test
    return Result(ref, contrast, diff[names["diff"]], diff[names["low"]], diff[names["high"]],
                  p_value=p, method=str(rows["analysis_set"].iloc[0]), test_method=method,
                  se=diff.get(names["se"], math.nan), arms=arms)


def decision_p(endpoint: Endpoint, result: Result | None) -> float | None:
    """The P the endpoint's decision rule compares with its level: the two-sided P, or
    one-sided in the favoured direction (``direction``); None when not computed."""
    if result is None or not math.isfinite(result.p_value):
        return None
    if endpoint.sidedness != "one-sided":
        return result.p_value
    favoured = (result.estimate < 0) if endpoint.direction == "lower" else (result.estimate > 0)
    return result.p_value / 2 if favoured else 1 - result.p_value / 2


def plan_arms(plan: Plan, trial: Trial, arms: list[str]) -> str:
    """The reference arm, after checking that the plan's comparisons and hypotheses exist
    in the data's arms and that no confirmatory endpoint of a trial with several arms rests
    on a within-arm test (``AnalysisConfigError`` naming the key)."""
    reference = reference_arm(trial.analyses, arms)
    for e in plan.endpoints:
        missing = [a for a in e.comparison if a not in arms]
        if missing:
            raise AnalysisConfigError(f"{e.key}.comparison: {', '.join(map(repr, missing))} "
                                      f"not an arm of the data ({', '.join(arms)})")
        if len(arms) > 1 and e.confirmatory and e.main.kind in WITHIN_ARM:
            raise AnalysisConfigError(
                f"{e.key}.main: {e.main.name} is a within-arm analysis, and the data have "
                f"{len(arms)} arms: a {e.role} endpoint's main analysis compares arms")
        if len(arms) == 1 and e.main.kind not in WITHIN_ARM:
            raise AnalysisConfigError(f"{e.key}.main: {e.main.name} compares arms, and the "
                                      f"data have one arm ({arms[0]})")
    try:
        check_family(plan, arms, reference)
    except ValueError as exc:
        raise AnalysisConfigError(str(exc)) from exc
    return reference


def plan_rows(trial: Trial, ard: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    """The ``plan`` rows of the ARD (see the module's docstring), or none without a plan."""
    from trialreport.stats.multiplicity_strategy import adjust

    out = ArdBuilder(trial.id, arms)
    plan = trial.plan
    if plan is None:
        return out.frame()
    reference = plan_arms(plan, trial, arms)
    tested = hypotheses(plan, arms, reference)
    members = family(plan, arms, reference)
    p_values = {name: decision_p(e, resolve(ard, e.main, e, arm, reference))
                for name, (e, arm) in tested.items()}
    m = plan.multiplicity
    if m.method == "none":
        decided = {h: _unadjusted(h, p_values[h], tested[h][0].alpha) for h in members}
    else:
        weights = {h: m.weights.get(h, 0.0) for h in members} if m.weights else None
        try:
            decided = {row["hypothesis"]: row for row in adjust(
                {h: p_values[h] for h in members}, m.method, m.alpha, weights=weights,
                transitions=m.transitions or None, order=members)}
        except ValueError as exc:  # weights or transitions that do not make a graph
            raise AnalysisConfigError(f"plan.multiplicity: {exc}") from exc
    visit_names = trial.design.visit_names
    for name, (e, arm) in tested.items():
        group = arm if len(arms) == 1 else f"{arm} vs {reference}"
        keys = {"parameter": e.parameter, "visit": visit_names.get(e.visit, str(e.visit)),
                "visitn": float(e.visit), "group": group,
                "analysis_set": f"{e.population} = Y; {e.role}; {e.main.name} ({e.main.test}); "
                                f"{e.sidedness}"}
        p = p_values[name]
        if name not in decided:
            out.add("plan", "p_value", math.nan if p is None else p,
                    method=f"{e.id}: nominal", **keys)
            continue
        row = decided[name]
        procedure = m.method if m.method != "none" else "no multiplicity adjustment"
        level = m.alpha if m.method != "none" else e.alpha
        out.add_many("plan", {
            "p_value": math.nan if p is None else p,
            "alpha": level,
            "p_adjusted": math.nan if row["p_adjusted"] is None else row["p_adjusted"],
            "alpha_local": row["local_level"],
            "tested": float(row["decision"] != DECISIONS[2]),
            "rejected": float(row["decision"] == DECISIONS[0]),
        }, method=f"{e.id}: {procedure}", **keys)
    return out.frame()


def _unadjusted(name: str, p: float | None, alpha: float) -> dict:
    """Without multiplicity control each hypothesis is tested at its endpoint's level."""
    rejected = p is not None and p <= alpha
    return {"hypothesis": name, "p_value": p, "p_adjusted": p, "local_level": alpha,
            "decision": DECISIONS[0] if rejected else DECISIONS[1]}


def decision_of(tested: float, rejected: float) -> str:
    """The decision's words from the ARD's ``tested`` and ``rejected`` rows."""
    if not tested:
        return DECISIONS[2]
    return DECISIONS[0] if rejected else DECISIONS[1]


__all__ = ["Result", "compared_arms", "decision_of", "decision_p", "plan_rows", "resolve"]
