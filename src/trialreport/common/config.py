"""A trial's config entry, parsed once into typed objects that the stages take.

``config.yaml`` is checked against ``schemas/config.schema.yaml`` first (by the Snakefile);
``Trial.parse`` then turns one trial's entry into the small frozen
dataclasses below, with every default of the schema filled in, so a stage says what it
needs (``trial.design.parameters["CGIS"].baseline_visit``) instead of digging through
nested dicts. The entry as written stays available as ``Trial.raw`` (provenance writes it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trialreport.common.missing_data import MissingDataSpec, parse_missing_data
from trialreport.common.plan import Plan, PlanError, check_plan, parse_plan, with_model_tests

DATASETS = ("subjects", "scores", "adverse_events", "exposure")
REQUIRED_DATASETS = ("subjects", "scores")
"""A trial must deliver subjects and scores; adverse events and exposure are optional."""

WHOLE_STUDY = "STUDY"
"""Name of the one period assumed when the config lists none (it spans the study)."""

LOCF_DTYPE = "LOCF"
"""DTYPE of the sponsor's last-observation-carried-forward records in a BDS dataset."""


@dataclass(frozen=True)
class Source:
    """Where one dataset is and how to read it (``data.<dataset>`` in the config)."""

    dataset: str
    path: str
    format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    columns: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra_columns: str = "keep"
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    """Record selection: keep a row when, for every column listed, its value is one of the
    listed values (``null`` or ``""`` in the list: the cell is empty)."""
    missing_values: tuple[str, ...] = ("", "NA", ".")
    """Dataset-JSON: text read as a missing value in number, date, datetime and time
    columns (where none of them can be a value); each such cell is counted."""
    text_missing_values: tuple[str, ...] = ("",)
    """Dataset-JSON: text read as a missing value in ``string`` columns (only ``""`` by
    default: ``NA`` may be a real term there)."""

    @property
    def config_key(self) -> str:
        return f"data.{self.dataset}"


@dataclass(frozen=True)
class Visit:
    name: str
    number: int
    day: int | None = None
    window_days: int | None = None


@dataclass(frozen=True)
class Period:
    name: str
    label: str
    first_day: float
    """First study day; ``-inf`` for the assumed whole-study period without study days."""
    last_day: float
    dose_levels: tuple[float, ...] | None = None

    def contains(self, day: float) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True)
class Parameter:
    code: str
    label: str
    name: str
    min: float
    max: float
    integer: bool
    baseline_visit: int | None
    """AVISITN of the baseline; None for a rating of change (CGI-I, CIBIC+), which has no
    baseline record and is analysed at a visit, not as a change from baseline."""
    comparison_visit: int
    no_change: float | None = None
    """The scale's "no change" value (4 on CGI-I and CIBIC+): a single-arm trial tests a
    parameter without baseline against it."""

    rates_change: bool = False
    """A rating of change since a reference (CGI-I, CIBIC+), not of a state (CGI-S): its
    baseline is not a baseline state, and tables say so. Default: given a no_change value."""

    @property
    def has_baseline(self) -> bool:
        return self.baseline_visit is not None


@dataclass(frozen=True)
class Covariate:
    name: str
    label: str
    type: str = "categorical"


@dataclass(frozen=True)
class PopulationRule:
    """How an analysis-population flag the data do not carry is formed
    (``design.populations.<flag>``): Y for a subject with an arm (``randomized``), whose
    subjects columns satisfy ``where`` and who has a baseline for each parameter of
    ``has_baseline``; N otherwise."""

    flag: str
    randomized: bool = True
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    has_baseline: tuple[str, ...] = ()

    @property
    def config_key(self) -> str:
        return f"design.populations.{self.flag}"


@dataclass(frozen=True)
class Design:
    description: str
    visits: tuple[Visit, ...]
    parameters: Mapping[str, Parameter]
    periods: tuple[Period, ...]
    periods_configured: bool
    """False when the config lists no periods and one whole-study period is assumed."""
    population: str = "participants"
    treatment: str = ""
    dose_unit: str = ""
    dose_rule: str = ""
    dose_levels: tuple[float, ...] | None = None
    age_range: tuple[int, int] | None = None
    study_days: tuple[int, int] | None = None
    covariates: tuple[Covariate, ...] = ()
    visit_window_days: int | None = None

    @property
    def visit_names(self) -> dict[int, str]:
        return {v.number: v.name for v in self.visits}

    def visit_name(self, number: int) -> str:
        return self.visit_names.get(int(number), str(number))

    arms: tuple[str, ...] = ()
    """Arms (TRT01P) in protocol order, used where the subjects have no TRT01PN."""
    populations: Mapping[str, PopulationRule] = field(default_factory=dict)
    """Population flags formed on reading where the subjects file has none."""

    @property
    def baseline_visits(self) -> dict[str, int]:
        """PARAMCD -> baseline AVISITN, for the parameters that have a baseline."""
        return {code: p.baseline_visit for code, p in self.parameters.items()
                if p.baseline_visit is not None}

    @property
    def locf_from(self) -> dict[str, int]:
        """PARAMCD -> the visit from which values may be carried forward: the baseline, or,
        for a parameter without one, any visit (one before the first visit number)."""
        first = min(v.number for v in self.visits) - 1
        return {code: first if p.baseline_visit is None else p.baseline_visit
                for code, p in self.parameters.items()}

    @property
    def period_names(self) -> list[str]:
        return [p.name for p in self.periods]

    @property
    def period_labels(self) -> dict[str, str]:
        return {p.name: p.label for p in self.periods}


@dataclass(frozen=True)
class ResponderRule:
    """A record is a response when ``variable`` (AVAL, CHG or PCHG, the percent change
    from baseline) compares with ``threshold`` by ``operator``, or, with operator ``in``,
    when it is one of ``values`` (categories such as CGI-I 1 and 2). ``missing`` says how
    the between-arm rates at the comparison visit treat a subject of the efficacy
    population without an evaluable response: ``exclude`` (the denominator is the
    subjects with one) or ``non_responder`` (counted as a non-response; the denominator is
    the efficacy population of the arm)."""

    variable: str
    operator: str
    threshold: float = math.nan
    label: str = ""
    values: tuple[float, ...] = ()
    missing: str = "exclude"


@dataclass(frozen=True)
class Subgroups:
    variables: tuple[str, ...]
    min_n: int = 6


@dataclass(frozen=True)
class Primary:
    parameters: tuple[str, ...]
    method: str = "paired_ttest"


@dataclass(frozen=True)
class Parallel:
    reference_arm: str | None = None
    strata: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """A prespecified between-arm model (``analyses.models``): ``response`` (AVAL or CHG) at
    ``visit`` on ``ARM`` (treatment coding against the reference arm) plus ``covariates``
    (numeric, e.g. BASE) and ``factors`` (categorical subject columns, e.g. SITEGR1), fitted
    on the ``records`` selected for the visit (observed, or LOCF); with ``dose`` (a numeric
    subject column, e.g. TRT01PN), also a dose-response trend test."""

    id: str
    parameter: str
    visit: int
    response: str = "CHG"
    covariates: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    records: str = "observed"
    dose: str | None = None
    kind: str = "ols"
    """``ols`` (one visit, least squares) or ``mmrm`` (every visit of ``visits``; the
    fields below, ``trialreport.analyse.mmrm``)."""
    visits: tuple[int, ...] = ()
    structure: str = "US"
    fallback: tuple[str, ...] = ()
    per_arm_covariance: bool = False
    method: str = "REML"
    df: str = "kenward-roger"
    population: str = "EFFFL"

    @property
    def formula(self) -> str:
        if self.kind == "mmrm":
            from trialreport.common.mmrm_spec import mmrm_formula

            return mmrm_formula(self)
        return " + ".join([f"{self.response} ~ ARM", *self.covariates, *self.factors])


@dataclass(frozen=True)
class Analyses:
    confidence: float = 0.95
    alternative: str = "two-sided"
    responders: Mapping[str, ResponderRule] = field(default_factory=dict)
    locf: str = "none"
    """``none``; ``derived`` (the pipeline's LOCF is the sensitivity analysis); ``delivered``
    (the sponsor's DTYPE = LOCF records are; the pipeline's own LOCF is compared with them)."""
    subgroups: Subgroups | None = None
    primary: Primary | None = None
    parallel: Parallel = field(default_factory=Parallel)
    models: tuple[ModelSpec, ...] = ()
    missing_data: tuple[MissingDataSpec, ...] = ()
    """Sensitivity analyses under named assumptions about missing data
    (``trialreport.common.missing_data``)."""


@dataclass(frozen=True)
class Validation:
    warn: frozenset[str] = frozenset()
    missing_baseline: str = "error"
    consistency: str = "warn"
    """Cross-dataset checks (validate.crosschecks): warn (listed) or refuse."""
    open_exposure: str = "flag"
    """An open exposure record the data cannot close: flag (counted to its period's last
    day, listed) or refuse."""


@dataclass(frozen=True)
class Target:
    id: str
    description: str
    statistic: str
    published: str
    parameter: str | None = None
    visit: str | None = None
    method: str = "paired_ttest"
    alpha: float = 0.05
    analysis: str | None = None
    """With ``analysis``, the target addresses any row of the analysis-results table by
    its analysis, parameter, visit (name or number), group (an arm, or a contrast such as
    ``High Dose vs Placebo``), method (a prefix) and statistic."""
    group: str | None = None
    denominator: int | None = None
    """A published percentage's denominator: the check lists the whole-number counts of
    it that round to the percentage (``trialreport.reproduce.consistency``)."""
    proportions: tuple[Proportion, ...] = ()
    """For a published p comparing two proportions: the two published percentages with
    their denominators; ``method`` then names the test (chisq, chisq_yates, fisher)."""


@dataclass(frozen=True)
class Proportion:
    """A published percentage and its denominator, e.g. ``70%`` of 46."""
    published: str
    denominator: int


@dataclass(frozen=True)
class Reproduction:
    targets: tuple[Target, ...]
    on_mismatch: str = "fail"


@dataclass(frozen=True)
class Tables:
    """How the display tables show the data (``tables:``): the population of the
    demographics table (``randomized``, ``safety``, ``enrolled`` or a Y/N flag column of
    subjects such as ITTFL), words for coded values (column -> code -> label) and the order
    of ordered categories (column -> levels)."""

    demographics_population: str = "randomized"
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _tables(t: Mapping[str, Any]) -> Tables:
    return Tables(demographics_population=t.get("demographics_population", "randomized"),
                  labels={col: {str(k): str(v) for k, v in m.items()}
                          for col, m in (t.get("labels") or {}).items()},
                  order={col: tuple(str(v) for v in levels)
                         for col, levels in (t.get("order") or {}).items()})


@dataclass(frozen=True)
class Trial:
    id: str
    title: str
    data: Mapping[str, Source]
    design: Design
    validation: Validation
    analyses: Analyses
    reproduction: Reproduction
    reference: str = ""
    synthetic: bool = False
    data_notice: str = ""
    plan: Plan | None = None
    """The analysis plan (``plan:``); None when the trial declares none, and then nothing
    is called primary."""
    tables: Tables = field(default_factory=Tables)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, dataset: str) -> bool:
        """Whether the trial delivers this dataset (subjects and scores always do)."""
        return dataset in self.data

    @property
    def absent(self) -> list[str]:
        return [d for d in DATASETS if d not in self.data]

    @classmethod
    def parse(cls, trial_id: str, entry: Mapping[str, Any]) -> Trial:
        """The typed form of one trial's (schema-checked) config entry.

        Called from Python with frames in hand, an entry may be partial: without ``data``
        every dataset counts as delivered (the caller passes the frames), without
        ``reproduction`` there are no targets."""
        design = _design(entry["design"])
        data = entry.get("data") or {name: {"path": f"({name} in memory)"}
                                     for name in DATASETS}
        reproduction = entry.get("reproduction") or {"targets": []}
        analyses = _analyses(entry.get("analyses") or {}, design)
        plan = None
        if entry.get("plan"):
            plan = parse_plan(entry["plan"], {c: p.comparison_visit
                                              for c, p in design.parameters.items()})
            plan = with_model_tests(plan, entry["plan"], analyses.models)
            check_plan(plan, design, analyses)
        return cls(
            id=trial_id,
            title=entry.get("title", trial_id),
            reference=entry.get("reference", ""),
            synthetic=bool(entry.get("synthetic", False)),
            data_notice=entry.get("data_notice", ""),
            data={name: _source(name, data[name]) for name in DATASETS if name in data},
            design=design,
            validation=Validation(
                warn=frozenset((entry.get("validation") or {}).get("warn", [])),
                missing_baseline=(entry.get("validation") or {}).get("missing_baseline",
                                                                     "error"),
                consistency=(entry.get("validation") or {}).get("consistency", "warn"),
                open_exposure=(entry.get("validation") or {}).get("open_exposure", "flag")),
            analyses=analyses,
            plan=plan,
            tables=_tables(entry.get("tables") or {}),
            reproduction=Reproduction(
                targets=tuple(_target(t) for t in reproduction["targets"]),
                on_mismatch=reproduction.get("on_mismatch", "fail")),
            raw=entry,
        )


class AnalysisConfigError(ValueError):
    """The trial's config asks for an analysis the data cannot give (a misspelt arm, a
    missing column, a dataset the trial does not deliver).
    ``trialreport.analyse.stage.analyse`` shows the
    message, which names the config key to change, and refuses the stage."""


def check_trials(trials: Mapping[str, Mapping[str, Any]]) -> None:
    """Parse every trial's entry as the stages will, so a plan that names what its trial
    lacks stops the workflow before any job runs: ``PlanError`` with the message prefixed
    by ``trials.<trial>.``, the full key to change."""
    from trialreport.common.plan import PlanError

    for trial_id, entry in trials.items():
        try:
            Trial.parse(trial_id, entry)
        except PlanError as exc:
            raise PlanError(f"trials.{trial_id}.{exc}") from None


def as_trial(trial: Trial | Mapping[str, Any], trial_id: str = "") -> Trial:
    """``trial`` itself if already parsed, else its parsed config entry."""
    if isinstance(trial, Trial):
        return trial
    return Trial.parse(trial_id, trial)


def _source(dataset: str, s: Mapping[str, Any]) -> Source:
    where = {}
    for column, wanted in (s.get("where") or {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        where[column] = tuple(values)
    return Source(dataset=dataset, path=s["path"], format=s.get("format"),
                  delimiter=s.get("delimiter", ","), encoding=s.get("encoding", "utf-8"),
                  columns=dict(s.get("columns") or {}), codes=dict(s.get("codes") or {}),
                  extra_columns=s.get("extra_columns", "keep"), where=where,
                  missing_values=tuple(str(v) for v in s.get("missing_values",
                                                             ("", "NA", "."))),
                  text_missing_values=tuple(str(v) for v in s.get("text_missing_values",
                                                                  ("",))))


def _design(d: Mapping[str, Any]) -> Design:
    study_days = tuple(d["study_days"]) if "study_days" in d else None
    if d.get("periods"):
        periods = tuple(Period(p["name"], p.get("label", p["name"]), int(p["first_day"]),
                               int(p["last_day"]),
                               tuple(float(x) for x in p["dose_levels"])
                               if "dose_levels" in p else None)
                        for p in d["periods"])
    else:
        first, last = study_days if study_days else (-math.inf, math.inf)
        periods = (Period(WHOLE_STUDY, "Whole study", first, last),)
    return Design(
        description=d.get("description", ""),
        population=d.get("population", "participants"),
        treatment=d.get("treatment", ""),
        dose_unit=d.get("dose_unit", ""),
        dose_rule=d.get("dose_rule", ""),
        dose_levels=tuple(float(x) for x in d["dose_levels"]) if "dose_levels" in d else None,
        age_range=tuple(d["age_range"]) if "age_range" in d else None,
        study_days=study_days,
        covariates=tuple(Covariate(c["name"], c.get("label", c["name"]),
                                   c.get("type", "categorical"))
                         for c in d.get("covariates", [])),
        visit_window_days=d.get("visit_window_days"),
        periods=periods,
        periods_configured=bool(d.get("periods")),
        visits=tuple(Visit(v["name"], int(v["number"]), v.get("day"), v.get("window_days"))
                     for v in d["visits"]),
        parameters={code: Parameter(code, p.get("label", code), p.get("name", code),
                                    p.get("min", -math.inf), p.get("max", math.inf),
                                    bool(p.get("integer", False)),
                                    None if p.get("baseline_visit") is None
                                    else int(p["baseline_visit"]),
                                    int(p["comparison_visit"]), p.get("no_change"),
                                    bool(p.get("rates_change", p.get("no_change") is not None)))
                    for code, p in d["parameters"].items()},
        arms=tuple(d.get("arms", [])),
        populations={flag: _population(flag, rule, d["parameters"])
                     for flag, rule in (d.get("populations") or {}).items()},
    )


def _population(flag: str, rule: Any, parameters: Mapping[str, Any]) -> PopulationRule:
    if rule == "randomized":
        return PopulationRule(flag)
    baseline = rule.get("has_baseline", False)
    if baseline is True:
        codes = tuple(c for c, p in parameters.items() if p.get("baseline_visit") is not None)
    else:
        codes = tuple(baseline or ())
    return PopulationRule(
        flag, randomized=bool(rule.get("randomized", True)),
        where={c: tuple(v if isinstance(v, list) else [v])
               for c, v in (rule.get("where") or {}).items()},
        has_baseline=codes)


def _analyses(a: Mapping[str, Any], design: Design) -> Analyses:
    paired = a.get("paired") or {}
    locf = a.get("locf", False)
    locf = {True: "derived", False: "none"}.get(locf, locf) if isinstance(locf, bool) else locf
    sub = a.get("subgroups")
    prim = a.get("primary")
    par = a.get("parallel") or {}
    return Analyses(
        confidence=float(paired.get("confidence", 0.95)),
        alternative=paired.get("alternative", "two-sided"),
        responders={code: responder_rule(r)
                    for code, r in (a.get("responders") or {}).items()},
        locf=locf,
        subgroups=Subgroups(tuple(sub["variables"]), int(sub.get("min_n", 6))) if sub else None,
        primary=Primary(tuple(prim["parameters"]), prim.get("method", "paired_ttest"))
        if prim else None,
        parallel=Parallel(par.get("reference_arm"), tuple(par.get("strata", []))),
        models=tuple(_model(m, design, i) for i, m in enumerate(a.get("models", []))),
        missing_data=parse_missing_data(a.get("missing_data", []), design,
                                        par.get("reference_arm")),
    )


def responder_rule(r: Mapping[str, Any]) -> ResponderRule:
    return ResponderRule(r["variable"], r["operator"],
                         float(r["threshold"]) if "threshold" in r else math.nan,
                         r.get("label", ""), tuple(float(v) for v in r.get("values", [])),
                         r.get("missing", "exclude"))


def _model(m: Mapping[str, Any], design: Design, index: int = 0) -> ModelSpec:
    param = design.parameters.get(m["parameter"])
    if m.get("kind") == "mmrm":
        from trialreport.common.mmrm_spec import mmrm_spec

        return ModelSpec(**mmrm_spec(m, design, index))
    from trialreport.common.mmrm_spec import check_ols_keys

    check_ols_keys(m, index)
    if m.get("response") == "PCHG":
        raise PlanError(f"analyses.models[{index}] ({m.get('id', m['parameter'])}).response: "
                        "PCHG is modelled over visits by kind: mmrm; an ols model takes "
                        "CHG or AVAL")
    visit = m.get("visit")
    if visit is None:
        visit = param.comparison_visit if param is not None else 0
    return ModelSpec(id=m.get("id", f"{m['parameter']}_{visit}"), parameter=m["parameter"],
                     visit=int(visit), response=m.get("response", "CHG"),
                     covariates=tuple(m.get("covariates", [])),
                     factors=tuple(m.get("factors", [])),
                     records=m.get("records", "observed"), dose=m.get("dose"))


def _target(t: Mapping[str, Any]) -> Target:
    return Target(id=t["id"], description=t["description"], statistic=t["statistic"],
                  published=str(t["published"]), parameter=t.get("parameter"),
                  visit=t.get("visit"),
                  method=t.get("method", "" if t.get("analysis") else "paired_ttest"),
                  alpha=float(t.get("alpha", 0.05)), analysis=t.get("analysis"),
                  group=t.get("group"), denominator=t.get("denominator"),
                  proportions=tuple(Proportion(str(p["published"]), int(p["denominator"]))
                                    for p in t.get("proportions") or ()))
