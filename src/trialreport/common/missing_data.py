"""Missing-data sensitivity analyses (``analyses.missing_data`` in a trial's entry), parsed
into typed objects and checked against the trial's design, naming the key to change.

Each entry imputes the change from baseline of one parameter up to one visit under named
assumptions about the data missing after each subject's intercurrent event (ICE), with
``trialreport.stats.imputation`` (the approach of R's ``rbmi``):

- ``intercurrent_event``: how each subject's ICE is found. ``rule: last_rating`` (the
  default) derives it: for a subject whose ratings end before the last analysis visit (a
  monotone gap), the ICE affects the first visit after the subject's last rating; a subject
  rated at the last visit has no ICE, and the visits missing before a rating (intermittent
  gaps) are imputed under MAR whatever the assumption. ``rule: day_column`` with
  ``column`` (a subjects column, the study day of the event, e.g. of the last dose; empty:
  no event) delivers it: the ICE affects the first analysis visit whose planned day
  (``design.visits[].day``) is after that day.
- ``strategies``: the assumptions, each run in turn for every subject with an ICE in the
  compared arms (``STRATEGIES``: MAR, J2R, CR, CIR, LMCF); subjects of the reference arm
  keep MAR (every reference-based assumption is MAR there). An assumption may also be mixed,
  one strategy per kind of event: ``{id, column, by_value: {value: strategy}, otherwise}``
  takes each subject's value of a subjects ``column`` (e.g. DCSREAS, the reason for
  discontinuation) and applies the strategy ``by_value`` gives it, else ``otherwise``.
- the imputation model: the MMRM of CHG on arm, visit, arm x visit, BASE, BASE x visit and
  ``covariates``/``factors`` (subject-level columns), covariance ``covariance``, REML; the
  analysis model: ANCOVA at the visit of CHG on arm, BASE, ``covariates`` and ``factors``.
- ``inference``: ``condmean_jackknife`` (conditional mean imputation with jackknife
  standard errors: deterministic, the default) or ``mi_bootstrap`` (``imputations``
  bootstrap draws, seeded by ``seed``, Rubin's rules with Barnard-Rubin df, the Monte Carlo
  error reported).
- ``tipping_point``: a grid of deltas added to the imputed values at and after the ICE in
  ``arms`` (default the compared arms) under ``strategy`` (default the first of
  ``strategies``); the report gives the first delta at which the conclusion changes.

The standard library only: Snakemake's own process parses the config.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trialreport.common.plan import PlanError

STRATEGIES = ("MAR", "J2R", "CR", "CIR", "LMCF")
"""The assumptions a config names; J2R is ``trialreport.stats.imputation``'s ``JR``."""
ENGINE_NAMES = {"MAR": "MAR", "J2R": "JR", "CR": "CR", "CIR": "CIR", "LMCF": "LMCF"}
ICE_RULES = ("last_rating", "day_column")
METHODS = ("condmean_jackknife", "mi_bootstrap")
COVARIANCES = ("US", "TOEP", "TOEPH", "AR1", "ARH1", "CS")
MAX_GRID = 201
"""At most this many deltas in a tipping-point grid (each one is a row group of ard.csv)."""


class MissingDataConfigError(PlanError):
    """An ``analyses.missing_data`` entry the trial cannot run; the message names the key.
    A ``PlanError``, so the workflow refuses the config before any job, as for the plan."""


@dataclass(frozen=True)
class MixedAssumption:
    """One strategy per kind of event: the subject's value of the subjects ``column`` picks
    it from ``by_value`` (value -> strategy), else ``otherwise``."""

    column: str
    by_value: tuple[tuple[str, str], ...]
    otherwise: str

    def strategy(self, value: Any) -> str:
        """The value's strategy; values compared as a person reads them: blanks around and
        letter case ignored, a whole number as written (1.0 as 1)."""
        return {_key(v): strategy for v, strategy in self.by_value}.get(_key(value),
                                                                         self.otherwise)


def _key(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().upper()


@dataclass(frozen=True)
class TippingPointSpec:
    strategy: str
    arms: tuple[str, ...]
    """Arms whose imputed values get the delta; empty: every compared arm."""
    deltas: tuple[float, ...]


@dataclass(frozen=True)
class MissingDataSpec:
    """One ``analyses.missing_data`` entry (module docstring); ``index`` its position."""

    id: str
    parameter: str
    visit: int
    strategies: tuple[str, ...]
    ice_rule: str = "last_rating"
    ice_column: str | None = None
    reference_arm: str | None = None
    covariates: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    covariance: str = "US"
    method: str = "condmean_jackknife"
    imputations: int | None = None
    seed: int | None = None
    tipping_point: TippingPointSpec | None = None
    index: int = 0
    mixed: Mapping[str, MixedAssumption] = field(default_factory=dict)
    """The mixed assumptions of ``strategies``, by their id."""

    @property
    def key(self) -> str:
        return f"analyses.missing_data[{self.index}] ({self.id})"


def grid(value: Any, where: str) -> tuple[float, ...]:
    """A delta grid: a list of numbers in increasing or decreasing order, or ``{from, to,
    step}``: from ``from`` towards ``to`` (either side) in steps of ``step``, both ends
    included where ``step`` reaches ``to``."""
    if isinstance(value, Mapping):
        try:
            lo, hi, step = (float(value[k]) for k in ("from", "to", "step"))
        except KeyError as exc:
            raise MissingDataConfigError(f"{where}.{exc.args[0]}: a grid given as a range "
                                         "needs from, to and step") from None
        if not step > 0 or hi == lo:
            raise MissingDataConfigError(f"{where}: step must be > 0 and to differ from "
                                         f"from (got from {lo:g}, to {hi:g}, step {step:g})")
        sign = 1.0 if hi > lo else -1.0
        count = math.floor(abs(hi - lo) / step + 1e-9) + 1
        if count > MAX_GRID:
            raise MissingDataConfigError(f"{where}: {count} deltas; at most {MAX_GRID}")
        values = tuple(round(lo + sign * k * step, 10) + 0.0 for k in range(count))
    else:
        values = tuple(float(v) for v in value)
    if not values:
        raise MissingDataConfigError(f"{where}: the grid has no delta")
    if len(values) > MAX_GRID:
        raise MissingDataConfigError(f"{where}: {len(values)} deltas; at most {MAX_GRID}")
    if any(not math.isfinite(v) for v in values):
        raise MissingDataConfigError(f"{where}: every delta must be a finite number")
    if list(values) != sorted(set(values)) and list(values) != sorted(set(values))[::-1]:
        raise MissingDataConfigError(f"{where}: the deltas must be distinct and in "
                                     "increasing (or decreasing) order")
    return values


def parse_missing_data(entries: Sequence[Mapping[str, Any]], design: Any,
                       reference: str | None = None) -> tuple[MissingDataSpec, ...]:
    """The typed, checked ``analyses.missing_data`` entries. ``design`` is the trial's
    ``Design``; ``reference`` the reference arm of ``analyses.parallel`` (a default)."""
    out = []
    seen: set[str] = set()
    for i, m in enumerate(entries or []):
        key = f"analyses.missing_data[{i}] ({m.get('id', '?')})"
        for required in ("id", "parameter", "strategies"):
            if required not in m:
                raise MissingDataConfigError(f"{key}.{required}: required")
        known = {"id", "parameter", "visit", "reference_arm", "intercurrent_event",
                 "strategies", "covariates", "factors", "covariance", "inference",
                 "tipping_point"}
        unknown = sorted(set(m) - known)
        if unknown:
            raise MissingDataConfigError(f"{key}.{unknown[0]}: not a key of a missing-data "
                                         f"analysis (keys: {', '.join(sorted(known))})")
        mid = str(m["id"])
        if mid in seen:
            raise MissingDataConfigError(f"{key}.id: {mid!r} is used by two entries")
        seen.add(mid)
        param = design.parameters.get(m["parameter"])
        if param is None:
            raise MissingDataConfigError(
                f"{key}.parameter: {m['parameter']!r} is not a parameter of "
                f"design.parameters ({', '.join(design.parameters)})")
        if not param.has_baseline:
            raise MissingDataConfigError(
                f"{key}.parameter: {m['parameter']} has no baseline (design.parameters."
                f"{m['parameter']}.baseline_visit); the imputation model is of the change "
                "from baseline")
        visit = int(m.get("visit", param.comparison_visit))
        after = sorted(v.number for v in design.visits if v.number > param.baseline_visit)
        if visit not in after:
            raise MissingDataConfigError(
                f"{key}.visit: {visit} is not a visit after {m['parameter']}'s baseline in "
                f"design.visits ({', '.join(map(str, after))})")
        if not m["strategies"]:
            raise MissingDataConfigError(f"{key}.strategies: name at least one assumption "
                                         f"({', '.join(STRATEGIES)})")
        mixed = {}
        for j, s in enumerate(m["strategies"]):
            if isinstance(s, Mapping):
                mixed.update(_mixed(s, f"{key}.strategies[{j}]"))
        strategies = tuple(str(s["id"]) if isinstance(s, Mapping) else str(s)
                           for s in m["strategies"])
        for j, s in enumerate(strategies):
            if s not in STRATEGIES and s not in mixed:
                raise MissingDataConfigError(f"{key}.strategies[{j}]: {s!r} is not an "
                                             f"assumption; use {', '.join(STRATEGIES)}")
        if len(set(strategies)) < len(strategies):
            raise MissingDataConfigError(f"{key}.strategies: an assumption is named twice")
        arms = tuple(design.arms)
        ref = m.get("reference_arm", reference)
        if ref is not None and arms and ref not in arms:
            raise MissingDataConfigError(f"{key}.reference_arm: {ref!r} is not an arm of "
                                         f"design.arms ({', '.join(arms)})")
        ice = m.get("intercurrent_event") or {}
        rule = ice.get("rule", "day_column" if "column" in ice else "last_rating")
        if rule not in ICE_RULES:
            raise MissingDataConfigError(f"{key}.intercurrent_event.rule: {rule!r}; use "
                                         f"{' or '.join(ICE_RULES)}")
        column = ice.get("column")
        if rule == "day_column":
            if not column:
                raise MissingDataConfigError(
                    f"{key}.intercurrent_event.column: rule day_column needs the subjects "
                    "column that holds each subject's study day of the event")
            no_day = [v.name for v in design.visits if v.number in after
                      and v.number <= visit and v.day is None]
            if no_day:
                raise MissingDataConfigError(
                    f"{key}.intercurrent_event: rule day_column places the event between "
                    f"visits by their planned day, and design.visits has no day for "
                    f"{', '.join(no_day)}")
        elif column:
            raise MissingDataConfigError(f"{key}.intercurrent_event.column: only with rule "
                                         "day_column")
        covariance = str(m.get("covariance", "US"))
        if covariance not in COVARIANCES:
            raise MissingDataConfigError(f"{key}.covariance: {covariance!r}; use "
                                         f"{', '.join(COVARIANCES)}")
        inf = m.get("inference") or {}
        method = inf.get("method", "condmean_jackknife")
        if method not in METHODS:
            raise MissingDataConfigError(f"{key}.inference.method: {method!r}; use "
                                         f"{' or '.join(METHODS)}")
        imputations = seed = None
        if method == "mi_bootstrap":
            if "imputations" not in inf or "seed" not in inf:
                raise MissingDataConfigError(
                    f"{key}.inference.{'imputations' if 'imputations' not in inf else 'seed'}"
                    ": multiple imputation needs the number of imputations and the seed, "
                    "so that the report is reproduced exactly")
            imputations, seed = int(inf["imputations"]), int(inf["seed"])
            if imputations < 2:
                raise MissingDataConfigError(f"{key}.inference.imputations: {imputations}; "
                                             "at least 2")
        elif set(inf) - {"method"}:
            extra = sorted(set(inf) - {"method"})[0]
            raise MissingDataConfigError(f"{key}.inference.{extra}: only with method "
                                         "mi_bootstrap")
        for name in ("covariates", "factors"):
            if "BASE" in m.get(name, []) or "ARM" in m.get(name, []):
                raise MissingDataConfigError(f"{key}.{name}: the baseline (BASE) and the arm "
                                             "are in both models already")
        tip = None
        if m.get("tipping_point"):
            t = m["tipping_point"]
            where = f"{key}.tipping_point"
            if "deltas" not in t:
                raise MissingDataConfigError(f"{where}.deltas: required (a list, or from, "
                                             "to and step)")
            strategy = str(t.get("strategy", strategies[0]))
            if strategy not in strategies:
                raise MissingDataConfigError(f"{where}.strategy: {strategy!r} is not one of "
                                             f"this entry's strategies ({', '.join(strategies)})")
            tip_arms = tuple(str(a) for a in t.get("arms", []))
            bad = [a for a in tip_arms if arms and a not in arms]
            if bad:
                raise MissingDataConfigError(f"{where}.arms: {bad[0]!r} is not an arm of "
                                             f"design.arms ({', '.join(arms)})")
            tip = TippingPointSpec(strategy, tip_arms, grid(t["deltas"], f"{where}.deltas"))
        out.append(MissingDataSpec(
            id=mid, parameter=str(m["parameter"]), visit=visit, strategies=strategies,
            ice_rule=rule, ice_column=column, reference_arm=ref,
            covariates=tuple(m.get("covariates", [])), factors=tuple(m.get("factors", [])),
            covariance=covariance, method=method, imputations=imputations, seed=seed,
            tipping_point=tip, index=i, mixed=mixed))
    return tuple(out)


def _mixed(s: Mapping[str, Any], where: str) -> dict[str, MixedAssumption]:
    """A mixed assumption, ``{id: MixedAssumption}``, checked."""
    for required in ("id", "column", "by_value"):
        if not s.get(required):
            raise MissingDataConfigError(f"{where}.{required}: a mixed assumption needs id, "
                                         "column and by_value (value: strategy)")
    name = str(s["id"])
    if name in STRATEGIES or not name.replace("_", "").isalnum():
        raise MissingDataConfigError(f"{where}.id: {name!r}; a mixed assumption's id is a "
                                     "name of letters, digits and _ other than "
                                     f"{', '.join(STRATEGIES)}")
    extra = sorted(set(s) - {"id", "column", "by_value", "otherwise"})
    if extra:
        raise MissingDataConfigError(f"{where}.{extra[0]}: not a key of a mixed assumption "
                                     "(id, column, by_value, otherwise)")
    pairs = []
    for value, strategy in s["by_value"].items():
        if strategy not in STRATEGIES:
            raise MissingDataConfigError(f"{where}.by_value.{value}: {strategy!r} is not an "
                                         f"assumption; use {', '.join(STRATEGIES)}")
        pairs.append((str(value), str(strategy)))
    otherwise = str(s.get("otherwise", "MAR"))
    if otherwise not in STRATEGIES:
        raise MissingDataConfigError(f"{where}.otherwise: {otherwise!r} is not an assumption; "
                                     f"use {', '.join(STRATEGIES)}")
    return {name: MixedAssumption(str(s["column"]), tuple(pairs), otherwise)}
