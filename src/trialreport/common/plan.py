"""A trial's analysis plan (``plan:`` in its config entry), parsed into typed objects.

The plan says which questions the trial asks and in which order: endpoints with a role
(``ROLES``), each with its estimand in the five attributes of ICH E9(R1) (population,
variable, intercurrent events and the strategy for each, population-level summary,
treatment comparison), a main analysis, sensitivity analyses and a decision rule (alpha,
sidedness); and a multiplicity strategy over the main tests of the confirmatory endpoints
(``MULTIPLICITY``). The report is led by it: primary endpoints first, then the rest in the
plan's order; what the plan does not name is descriptive.

An analysis is named as the analysis-results table names it (``ANALYSES``): ``ancova``,
``responders_between_arms``, ``paired``, ``paired_locf``, ``one_sample``, or
``model:<id>`` for a model of ``analyses.models``, or ``missing_data:<id>`` for the analyses
under named assumptions of ``analyses.missing_data`` (``trialreport.common.missing_data``).
``trialreport.common.config`` checks every name against the trial's design and analyses
(``check_plan``), naming the key to change. The standard library only: Snakemake's own
process parses plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

ROLES = ("primary", "key secondary", "secondary", "exploratory")
CONFIRMATORY = ("primary", "key secondary")
"""Roles whose main tests form the multiplicity family unless the plan lists it."""
VARIABLES = ("change", "percent change", "value", "responder")
STRATEGIES = ("treatment policy", "hypothetical", "composite", "while on treatment",
              "principal stratum")
MULTIPLICITY = ("none", "bonferroni", "holm", "hochberg", "fixed_sequence", "graphical")
ANALYSES = ("ancova", "responders_between_arms", "paired", "paired_locf", "one_sample",
            "model", "missing_data")
NAMED = ("model", "missing_data")
"""Analyses named with an id: ``model:<id>``, ``missing_data:<id>``."""
TESTS = {
    "ancova": ("ancova_ols",),
    "model": ("ols", "mmrm"),
    "missing_data": ("imputation",),
    "responders_between_arms": ("chi_square_pearson", "chi_square_yates", "fisher_exact"),
    "paired": ("paired_ttest", "wilcoxon"),
    "paired_locf": ("paired_ttest", "wilcoxon"),
    "one_sample": ("one_sample_ttest", "wilcoxon"),
}
"""The tests whose P each analysis can give; the first is the default."""
SUMMARIES = {
    "ancova": "difference in LS means",
    "model": "difference in LS means",
    "missing_data": "difference in LS means",
    "responders_between_arms": "difference in proportions",
    "paired": "mean change from baseline within subjects",
    "paired_locf": "mean change from baseline within subjects",
    "one_sample": "mean difference from the scale's no-change value",
}
"""The population-level summary each analysis estimates (the default of ``summary``)."""


@dataclass(frozen=True)
class AnalysisRef:
    """A main or sensitivity analysis: one of ``ANALYSES`` (``model`` with the model's
    ``id``), and the test whose P it gives (one of ``TESTS[kind]``)."""

    kind: str
    test: str
    model: str | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.model}" if self.kind in NAMED else self.kind


@dataclass(frozen=True)
class IntercurrentEvent:
    event: str
    strategy: str
    note: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One question of the trial: ``role`` (``ROLES``), the estimand's attributes and the
    analyses that answer it. ``visit`` is an AVISITN; ``comparison`` the arms compared
    with the reference arm (empty: every other arm); ``alpha``, ``sidedness`` and
    ``direction`` (which side of the estimate favours the treatment: ``lower`` or
    ``higher``, needed when one-sided) are its decision rule."""

    id: str
    role: str
    label: str
    parameter: str
    visit: int
    variable: str
    population: str
    intercurrent_events: tuple[IntercurrentEvent, ...]
    summary: str
    comparison: tuple[str, ...]
    main: AnalysisRef
    sensitivity: tuple[AnalysisRef, ...] = ()
    alpha: float = 0.05
    sidedness: str = "two-sided"
    direction: str | None = None
    index: int = 0
    """Position in ``plan.endpoints`` (for messages naming the key)."""

    @property
    def key(self) -> str:
        return f"plan.endpoints[{self.index}] ({self.id})"

    @property
    def confirmatory(self) -> bool:
        return self.role in CONFIRMATORY


@dataclass(frozen=True)
class Multiplicity:
    """The strategy over the family's main tests: ``method`` (``MULTIPLICITY``), at overall
    ``alpha``; ``family`` the hypotheses in order (default: the main tests of the primary
    and key secondary endpoints, in the plan's order); ``weights`` and ``transitions`` of a
    graphical procedure, by hypothesis name."""

    method: str = "none"
    alpha: float = 0.05
    family: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    transitions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    endpoints: tuple[Endpoint, ...]
    multiplicity: Multiplicity
    alpha: float = 0.05
    sidedness: str = "two-sided"
    source: str = ""
    """Where the plan comes from, and what in it is the configuration's own."""

    def by_role(self, role: str) -> list[Endpoint]:
        return [e for e in self.endpoints if e.role == role]

    @property
    def primary(self) -> list[Endpoint]:
        return self.by_role("primary")

    def endpoint(self, endpoint_id: str) -> Endpoint:
        return next(e for e in self.endpoints if e.id == endpoint_id)


def hypothesis_name(endpoint: Endpoint, arm: str, several: bool) -> str:
    """A hypothesis of the family: the endpoint's id, with ``:<arm>`` when the endpoint
    compares several arms with the reference arm (one hypothesis per comparison)."""
    return f"{endpoint.id}:{arm}" if several else endpoint.id


def parse_analysis(value: str | Mapping[str, Any], where: str) -> AnalysisRef:
    """``ancova``, ``model:<id>`` or ``{analysis: ..., test: ...}`` as an ``AnalysisRef``;
    a name outside ``ANALYSES`` or a test the analysis does not give raises ``PlanError``
    naming ``where``."""
    if isinstance(value, str):
        value = {"analysis": value}
    name = str(value.get("analysis", ""))
    kind, _, model = name.partition(":")
    if kind not in ANALYSES or (kind in NAMED) != bool(model):
        raise PlanError(f"{where}: {name!r} is not an analysis; use one of "
                        "ancova, responders_between_arms, paired, paired_locf, one_sample, "
                        "model:<id> for a model of analyses.models, or missing_data:<id> "
                        "for an entry of analyses.missing_data")
    tests = TESTS[kind]
    test = value.get("test", tests[0])
    if test not in tests:
        raise PlanError(f"{where}: test {test!r} is not one {name} gives; it gives "
                        f"{', '.join(tests)}")
    return AnalysisRef(kind, test, model or None)


def with_model_tests(plan: Plan, raw: Mapping[str, Any], models: Any) -> Plan:
    """The plan with each ``model:<id>`` analysis that names no test given its model's
    test: ``mmrm`` for a model of kind mmrm (``ols``, the parsed default, otherwise).
    ``raw`` is the plan as written, to tell a default from a test named there."""
    kinds = {m.id: getattr(m, "kind", "ols") for m in models}

    def fix(ref: AnalysisRef, value: Any) -> AnalysisRef:
        named = isinstance(value, Mapping) and "test" in value
        if ref.kind != "model" or named or kinds.get(ref.model, "ols") == ref.test:
            return ref
        return replace(ref, test=kinds[ref.model])

    endpoints = []
    for e, raw_e in zip(plan.endpoints, raw.get("endpoints", []), strict=True):
        sens = raw_e.get("sensitivity", [])
        endpoints.append(replace(e, main=fix(e.main, raw_e["main"]), sensitivity=tuple(
            fix(s, v) for s, v in zip(e.sensitivity, sens, strict=True))))
    return replace(plan, endpoints=tuple(endpoints))


class PlanError(ValueError):
    """A plan that names an analysis, parameter, visit, arm, population or hypothesis the
    trial does not have; the message names the config key."""


def parse_plan(p: Mapping[str, Any], comparison_visits: Mapping[str, int]) -> Plan:
    """The typed plan of a (schema-checked) ``plan:`` entry. ``comparison_visits`` maps
    each parameter to its comparison visit (an endpoint's default visit)."""
    alpha = float(p.get("alpha", 0.05))
    sidedness = p.get("sidedness", "two-sided")
    endpoints = []
    for i, e in enumerate(p.get("endpoints", [])):
        where = f"plan.endpoints[{i}] ({e.get('id', '?')})"
        main = parse_analysis(e["main"], f"{where}.main")
        visit = e.get("visit", comparison_visits.get(e["parameter"]))
        endpoints.append(Endpoint(
            id=e["id"], role=e["role"], label=e.get("label", e["id"]),
            parameter=e["parameter"], visit=int(visit) if visit is not None else -1,
            variable=e.get("variable", "change"), population=e.get("population", "EFFFL"),
            intercurrent_events=tuple(
                IntercurrentEvent(x["event"], x["strategy"], x.get("note", ""))
                for x in e.get("intercurrent_events", [])),
            summary=e.get("summary", SUMMARIES[main.kind]),
            comparison=tuple(e.get("comparison", [])), main=main,
            sensitivity=tuple(parse_analysis(s, f"{where}.sensitivity[{j}]")
                              for j, s in enumerate(e.get("sensitivity", []))),
            alpha=float(e.get("alpha", alpha)), sidedness=e.get("sidedness", sidedness),
            direction=e.get("direction"), index=i))
    m = p.get("multiplicity") or {}
    multiplicity = Multiplicity(
        method=m.get("method", "none"), alpha=float(m.get("alpha", alpha)),
        family=tuple(m.get("family", [])),
        weights={str(k): float(v) for k, v in (m.get("weights") or {}).items()},
        transitions={str(k): {str(j): float(x) for j, x in row.items()}
                     for k, row in (m.get("transitions") or {}).items()})
    return Plan(tuple(endpoints), multiplicity, alpha, sidedness, p.get("source", ""))


WITHIN_ARM = ("paired", "paired_locf", "one_sample")
BETWEEN_ARMS = ("ancova", "responders_between_arms", "model", "missing_data")
ONE_SIDED_TESTS = ("ancova_ols", "ols", "mmrm", "paired_ttest", "one_sample_ttest",
                   "chi_square_pearson")
"""Tests whose two-sided P is twice the one-sided P in the direction of the estimate
(t and normal statistics, the 1-df Pearson chi-square of a 2x2 table), so a one-sided
decision can be taken from it."""


def check_plan(plan: Plan, design: Any, analyses: Any) -> None:
    """Refuse a plan that names what the trial does not have: every endpoint's parameter,
    visit, variable, population, comparison arms and analyses (``analyses.models`` ids,
    responder rules, LOCF), its decision rule, and the multiplicity family's hypotheses.
    ``design`` and ``analyses`` are the trial's ``Design`` and ``Analyses``. Raises
    ``PlanError`` naming the key to change."""
    seen: set[str] = set()
    for e in plan.endpoints:
        if e.id in seen:
            raise PlanError(f"{e.key}: the id {e.id!r} is used by two endpoints")
        seen.add(e.id)
        param = design.parameters.get(e.parameter)
        if param is None:
            raise PlanError(f"{e.key}.parameter: {e.parameter!r} is not a parameter of "
                            f"design.parameters ({', '.join(design.parameters)})")
        numbers = [v.number for v in design.visits]
        if e.visit not in numbers:
            raise PlanError(f"{e.key}.visit: {e.visit} is not a visit number of "
                            f"design.visits ({', '.join(map(str, numbers))})")
        if e.variable in ("change", "percent change") and not param.has_baseline:
            raise PlanError(f"{e.key}.variable: {e.variable!r} needs a baseline, and "
                            f"{e.parameter} has none (design.parameters.{e.parameter}."
                            "baseline_visit); a rating of change is analysed as 'value'")
        if e.variable == "responder" and e.parameter not in analyses.responders:
            raise PlanError(f"{e.key}.variable: 'responder' needs a responder rule for "
                            f"{e.parameter} in analyses.responders")
        if e.population != "EFFFL":
            raise PlanError(f"{e.key}.population: {e.population!r}; the efficacy analyses "
                            "run on the efficacy population (EFFFL = Y), so the estimand's "
                            "population is EFFFL")
        unknown = [a for a in e.comparison if design.arms and a not in design.arms]
        if unknown:
            raise PlanError(f"{e.key}.comparison: {', '.join(map(repr, unknown))} not an "
                            f"arm of design.arms ({', '.join(design.arms)})")
        for where, ref in [(f"{e.key}.main", e.main),
                           *((f"{e.key}.sensitivity[{j}]", s)
                             for j, s in enumerate(e.sensitivity))]:
            _check_analysis(where, ref, e, param, analyses, design.arms)
        if e.main.kind == "missing_data":
            raise PlanError(f"{e.key}.main: {e.main.name} is a sensitivity analysis (the "
                            "endpoint's result under named assumptions about missing data); "
                            "name it in sensitivity, and the endpoint's main analysis in main")
        if len(design.arms) > 1 and e.confirmatory and e.main.kind in WITHIN_ARM:
            raise PlanError(f"{e.key}.main: {e.main.name} is a within-arm analysis; in a "
                            "trial with several arms within-arm tests are descriptive, so a "
                            f"{e.role} endpoint's main analysis compares arms (ancova, "
                            "responders_between_arms or model:<id>)")
        if e.sidedness == "one-sided":
            if e.direction not in ("lower", "higher"):
                raise PlanError(f"{e.key}.direction: a one-sided decision needs the side "
                                "that favours the treatment: lower or higher")
            if e.main.test not in ONE_SIDED_TESTS:
                raise PlanError(f"{e.key}.sidedness: one-sided, but {e.main.test} gives no "
                                "one-sided P from its two-sided one; use "
                                f"{', '.join(ONE_SIDED_TESTS)}, or two-sided")
    if plan.multiplicity.method == "graphical" and not plan.multiplicity.weights:
        raise PlanError("plan.multiplicity.weights: a graphical procedure needs the initial "
                        "weight of each hypothesis")
    if design.arms:
        check_family(plan, list(design.arms), reference_arm(analyses, list(design.arms)))


def _check_analysis(where: str, ref: AnalysisRef, e: Endpoint, param: Any,
                    analyses: Any, arms: Sequence[str] = ()) -> None:
    at_comparison = e.visit == param.comparison_visit
    need = {
        "ancova": (param.has_baseline and e.variable == "change" and at_comparison,
                   "the ANCOVA of the change at the parameter's comparison visit; for "
                   "another visit or variable, name a model of analyses.models"),
        "responders_between_arms": (e.variable == "responder" and at_comparison,
                                    "responder rates at the parameter's comparison visit "
                                    "(variable: responder)"),
        "paired": (param.has_baseline and e.variable == "change" and at_comparison,
                   "the change from baseline at the parameter's comparison visit"),
        "paired_locf": (param.has_baseline and e.variable == "change" and at_comparison
                        and analyses.locf != "none",
                        "the change at the comparison visit after LOCF (analyses.locf)"),
        "one_sample": (not param.has_baseline and param.no_change is not None
                       and e.variable == "value" and at_comparison,
                       "a rating of change (no baseline, with no_change) at its comparison "
                       "visit (variable: value)"),
    }
    if ref.kind == "missing_data":
        _check_missing_data(where, ref, e, analyses, arms)
        return
    if ref.kind == "model":
        model = next((m for m in analyses.models if m.id == ref.model), None)
        if model is None:
            ids = ", ".join(m.id for m in analyses.models) or "none"
            raise PlanError(f"{where}: no model {ref.model!r} in analyses.models "
                            f"(ids: {ids})")
        response = {"change": "CHG", "value": "AVAL", "percent change": "PCHG"}.get(e.variable)
        kind = getattr(model, "kind", "ols")
        visits = tuple(model.visits) if kind == "mmrm" else (model.visit,)
        if model.parameter != e.parameter or e.visit not in visits or \
                model.response != response:
            at = ("visits " + ", ".join(map(str, visits))) if kind == "mmrm" \
                else f"visit {model.visit}"
            raise PlanError(f"{where}: model {ref.model!r} is {model.response} of "
                            f"{model.parameter} at {at}; the endpoint is "
                            f"{e.variable} of {e.parameter} at visit {e.visit}")
        if ref.test != kind:
            raise PlanError(f"{where}: test {ref.test!r}; model {ref.model!r} is kind "
                            f"{kind}, whose test is {kind}")
        if kind == "mmrm" and model.population != e.population:
            raise PlanError(f"{where}: model {ref.model!r} is fitted on {model.population} "
                            f"= Y; the endpoint's population is {e.population}")
        return
    ok, what = need[ref.kind]
    if not ok:
        raise PlanError(f"{where}: {ref.name} estimates {what}; the endpoint is "
                        f"{e.variable} of {e.parameter} at visit {e.visit}")


def _check_missing_data(where: str, ref: AnalysisRef, e: Endpoint, analyses: Any,
                        arms: Sequence[str] = ()) -> None:
    spec = next((m for m in analyses.missing_data if m.id == ref.model), None)
    if spec is None:
        ids = ", ".join(m.id for m in analyses.missing_data) or "none"
        raise PlanError(f"{where}: no entry {ref.model!r} in analyses.missing_data "
                        f"(ids: {ids})")
    reference = reference_arm(analyses, list(arms))
    if arms and spec.reference_arm not in (None, reference):
        raise PlanError(f"{where}: missing_data {ref.model!r} imputes against reference arm "
                        f"{spec.reference_arm!r} (its reference_arm), the plan compares with "
                        f"{reference!r} (analyses.parallel.reference_arm); make them agree")
    if (spec.parameter, spec.visit) != (e.parameter, e.visit) or e.variable != "change":
        raise PlanError(f"{where}: missing_data {ref.model!r} is the change of "
                        f"{spec.parameter} at visit {spec.visit}; the endpoint is "
                        f"{e.variable} of {e.parameter} at visit {e.visit}")


def reference_arm(analyses: Any, arms: list[str]) -> str:
    """The arm every other is compared with: ``analyses.parallel.reference_arm``, else
    Placebo when there is one, else the first arm."""
    return analyses.parallel.reference_arm or ("Placebo" if "Placebo" in arms else arms[0])


def compared_arms(endpoint: Endpoint, arms: list[str], reference: str) -> list[str]:
    """The arms an endpoint's main analysis compares with the reference arm (in the
    protocol's order), or, in a single-arm trial, the one arm."""
    if len(arms) == 1:
        return list(arms)
    others = [a for a in arms if a != reference]
    return [a for a in others if a in endpoint.comparison] if endpoint.comparison else others


def hypotheses(plan: Plan, arms: list[str], reference: str) -> dict[str, tuple[Endpoint, str]]:
    """Every hypothesis the plan's endpoints test, by name, with its endpoint and arm, in
    the plan's order."""
    out = {}
    for e in plan.endpoints:
        compared = compared_arms(e, arms, reference)
        for arm in compared:
            out[hypothesis_name(e, arm, len(compared) > 1)] = (e, arm)
    return out


def family(plan: Plan, arms: list[str], reference: str) -> list[str]:
    """The hypotheses under multiplicity control: ``plan.multiplicity.family``, else the
    main tests of the primary and key secondary endpoints in the plan's order."""
    if plan.multiplicity.family:
        return list(plan.multiplicity.family)
    return [name for name, (e, _) in hypotheses(plan, arms, reference).items()
            if e.confirmatory]


def check_family(plan: Plan, arms: list[str], reference: str) -> None:
    """Every hypothesis named by ``plan.multiplicity`` (family, weights, transitions) is
    one the endpoints test."""
    known = hypotheses(plan, arms, reference)
    m = plan.multiplicity
    named = [("plan.multiplicity.family", h) for h in m.family]
    named += [("plan.multiplicity.weights", h) for h in m.weights]
    named += [("plan.multiplicity.transitions", h) for h in m.transitions]
    named += [(f"plan.multiplicity.transitions.{h}", j) for h, row in m.transitions.items()
              for j in row]
    for key, name in named:
        if name not in known:
            raise PlanError(f"{key}: {name!r} is not a hypothesis of the plan; its "
                            f"hypotheses are {', '.join(known)} (an endpoint's id, with "
                            "':<arm>' when it compares several arms with the reference)")
    members = family(plan, arms, reference)
    outside = [h for h in (*m.weights, *m.transitions) if h not in members]
    if outside:
        raise PlanError(f"plan.multiplicity: {', '.join(map(repr, outside))} has a weight or "
                        "transition but is not in the family (plan.multiplicity.family)")
    levels = {known[h][0].alpha for h in members}
    if m.method != "none" and levels - {m.alpha}:
        raise PlanError("plan.multiplicity.alpha: the family is tested at one overall "
                        f"level ({m.alpha:g}); its endpoints give alpha "
                        f"{', '.join(f'{a:g}' for a in sorted(levels))}")
