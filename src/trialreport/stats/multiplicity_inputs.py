"""Reading a multiplicity strategy's inputs as an analysis plan gives them: p-values by
hypothesis name, alpha, the method's name, initial weights and transitions, by name or as a
vector and a matrix. Each check raises ``ValueError`` with a message for the plan's author
that names the hypothesis, row or edge at fault (the plan is a YAML file, not code).
``trialreport.stats.multiplicity_strategy`` applies the strategy."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np

METHODS = ("bonferroni", "holm", "hochberg", "fixed_sequence", "graphical")

# Weights and transition rows typed into a plan as decimals (0.1 ten times, 1/3 as 0.3333)
# may sum to a hair over 1 in binary floating point. A sum up to 1 + SUM_TOLERANCE is
# accepted as 1; anything above is an error.
SUM_TOLERANCE = 1e-9


def check_m(m: Any) -> None:
    """The number of hypotheses of a graph: a positive integer."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise ValueError(f"the number of hypotheses must be a positive integer; got {m!r}")


def method_key(method: Any) -> str:
    """The method's key in ``METHODS``, case and ``-``/``_``/spaces aside."""
    key = str(method).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in METHODS:
        raise ValueError(f"unknown multiplicity method {method!r}; choose one of "
                         + ", ".join(repr(k) for k in METHODS))
    return key


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def alpha_level(alpha: Any) -> float:
    """The overall level as a float: a number strictly between 0 and 1."""
    if not _number(alpha) or not 0 < float(alpha) < 1:
        raise ValueError("alpha (the overall familywise level) must be a number strictly "
                         f"between 0 and 1; got {alpha!r}")
    return float(alpha)


def p_value_list(p_values: Any, order: Any) -> tuple[list[str], list[float]]:
    """The hypotheses' names in ``order`` (default: the mapping's) and their p-values,
    NaN where missing (``None`` or NaN); a p-value must be a number in [0, 1]."""
    if not isinstance(p_values, Mapping):
        raise ValueError("p_values must map each hypothesis name to its p-value (None when "
                         "missing), e.g. {'H1': 0.01, 'H2': None}; got "
                         f"{type(p_values).__name__}")
    if not p_values:
        raise ValueError("p_values names no hypotheses")
    for name in p_values:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"hypothesis names must be non-empty strings; got {name!r}")
    names = list(p_values) if order is None else _order(order, p_values)
    p = []
    for name in names:
        value = p_values[name]
        if value is None or (_number(value) and math.isnan(value)):
            p.append(math.nan)
            continue
        if not _number(value):
            raise ValueError(f"p-value of {name!r} is {value!r}; a p-value must be a number "
                             "in [0, 1], or None when the test could not be computed")
        if not 0 <= float(value) <= 1:
            raise ValueError(f"p-value of {name!r} is {value!r}; a p-value must lie in "
                             "[0, 1] (or be None when the test could not be computed)")
        p.append(float(value))
    return names, p


def _order(order: Any, p_values: Mapping[str, Any]) -> list[str]:
    if isinstance(order, str) or not isinstance(order, Sequence):
        raise ValueError(f"order must be a list of hypothesis names; got {order!r}")
    names = list(order)
    seen = set()
    for name in names:
        if name not in p_values:
            raise ValueError(f"order names {name!r}, which has no p-value entry; the "
                             f"hypotheses are {', '.join(map(repr, p_values))}")
        if name in seen:
            raise ValueError(f"order names {name!r} twice")
        seen.add(name)
    left_out = [name for name in p_values if name not in seen]
    if left_out:
        raise ValueError(f"order leaves out {', '.join(map(repr, left_out))}; it must list "
                         "every hypothesis once")
    return names


def _entry(value: Any, where: str) -> float:
    if not _number(value) or not math.isfinite(float(value)):
        raise ValueError(f"{where} is {value!r}; it must be a finite number")
    return float(value)


def _is_vector(value: Any) -> bool:
    return isinstance(value, np.ndarray) or (isinstance(value, Sequence)
                                             and not isinstance(value, str))


def weight_vector(weights: Any, names: list[str]) -> np.ndarray:
    """Initial weights in the order of ``names``, from a mapping that names every
    hypothesis or a vector in that order: each >= 0, summing to at most 1."""
    m = len(names)
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise ValueError(f"weights name {unknown[0]!r}, which is not one of the "
                             f"hypotheses ({', '.join(names)})")
        for name in names:
            if name not in weights:
                raise ValueError(f"weights give no weight for {name!r}; write 0 for a "
                                 "hypothesis that starts with none")
        values = [weights[name] for name in names]
    elif _is_vector(weights):
        values = weights.tolist() if isinstance(weights, np.ndarray) else list(weights)
        if any(_is_vector(v) for v in values) or len(values) != m:
            raise ValueError(f"weights has {len(values)} entries; expected {m} numbers, one "
                             f"per hypothesis in order ({', '.join(names)})")
    else:
        raise ValueError("weights must map each hypothesis to its initial weight, or list "
                         f"the weights in order; got {weights!r}")
    w = np.array([_entry(v, f"weight of {name!r}") for v, name in zip(values, names,
                                                                        strict=True)])
    for name, value in zip(names, w.tolist(), strict=True):
        if value < 0:
            raise ValueError(f"weight of {name!r} is {value!r}; weights must be >= 0")
    total = float(np.sum(w))
    if total > 1 + SUM_TOLERANCE:
        raise ValueError(f"weights sum to {total!r}; the initial weights split alpha and "
                         "must sum to at most 1")
    return w


def transition_matrix(transitions: Any, names: list[str]) -> np.ndarray:
    """The m x m transition matrix in the order of ``names``, from a mapping of each
    hypothesis to its outgoing edges (rows and edges left out are 0) or an m x m matrix:
    entries >= 0, g_ii = 0, each row summing to at most 1."""
    m = len(names)
    g = np.zeros((m, m))
    if isinstance(transitions, Mapping):
        for source, row in transitions.items():
            if source not in names:
                raise ValueError(f"transitions has a row for {source!r}, which is not one "
                                 f"of the hypotheses ({', '.join(names)})")
            if not isinstance(row, Mapping):
                raise ValueError(f"transitions row {source!r} must map target hypotheses "
                                 f"to transition weights; got {row!r}")
            i = names.index(source)
            for target, value in row.items():
                if target not in names:
                    raise ValueError(f"transitions row {source!r} has an edge to "
                                     f"{target!r}, which is not one of the hypotheses "
                                     f"({', '.join(names)})")
                g[i, names.index(target)] = _entry(
                    value, f"transition weight {source!r} -> {target!r}")
    elif _is_vector(transitions):
        rows = transitions.tolist() if isinstance(transitions, np.ndarray) else list(transitions)
        if len(rows) != m:
            raise ValueError(f"transitions has {len(rows)} rows; expected {m}, one per "
                             f"hypothesis in order ({', '.join(names)})")
        for i, row in enumerate(rows):
            if not _is_vector(row) or len(row) != m:
                size = len(row) if _is_vector(row) else "no"
                raise ValueError(f"transitions row {names[i]!r} has {size} entries; "
                                 f"expected {m}, one per hypothesis ({', '.join(names)})")
            for k, value in enumerate(row):
                g[i, k] = _entry(value, f"transition weight {names[i]!r} -> {names[k]!r}")
    else:
        raise ValueError("transitions must map each hypothesis to its outgoing edges, or be "
                         f"an m x m matrix in order; got {transitions!r}")
    for i, source in enumerate(names):
        if g[i, i] != 0:
            raise ValueError(f"transition weight {source!r} -> {source!r} is {float(g[i, i])!r}; a "
                             "hypothesis cannot pass weight to itself (g_ii must be 0)")
        for k, target in enumerate(names):
            if g[i, k] < 0:
                raise ValueError(f"transition weight {source!r} -> {target!r} is "
                                 f"{float(g[i, k])!r}; transition weights must be >= 0")
        total = float(np.sum(g[i]))
        if total > 1 + SUM_TOLERANCE:
            raise ValueError(f"transitions row {source!r} (the edges leaving {source!r}) "
                             f"sums to {total!r}; each row must sum to at most 1")
    return g
