"""Multiplicity control of a trial's confirmatory tests: p-values in, one decision each out.

An analysis plan names hypotheses H1..Hm, each with the raw p-value of its main test (or a
missing one, when the test could not be computed), an overall level ``alpha`` and a
strategy that controls the familywise error rate strongly at ``alpha``. Sidedness is the
caller's: the p-values and ``alpha`` arrive as they are to be compared. ``adjust`` is the
entry point (its inputs are checked by ``multiplicity_inputs``); it returns one row (a
dict) per hypothesis:

``hypothesis``
    the name from the plan.
``p_value``
    the raw p-value, ``None`` when missing.
``p_adjusted``
    the adjusted p-value: the smallest overall level at which the procedure rejects the
    hypothesis (Wright 1992), capped at 1; ``None`` where undefined (see *Missing
    p-values*).
``decision``
    one of ``DECISIONS``, by the rules below.
``local_level``
    the significance level the hypothesis was last held to: for a rejected hypothesis the
    level at the step that rejected it; otherwise the level it had when the procedure
    stopped (0 for a hypothesis whose gate never opened).

Methods (``METHODS``)
---------------------
``bonferroni``
    each hypothesis at alpha / m, or at alpha * w_i with ``weights`` (weighted Bonferroni).
``holm``
    Holm (1979), step-down: the k-th smallest p-value at alpha / (m - k + 1), stopping at
    the first that fails.
``hochberg``
    Hochberg (1988), step-up: the largest k with p_(k) <= alpha / (m - k + 1) and every
    smaller p-value is rejected. Valid under independence or positive dependence (Sarkar
    1998), unlike the others, which need no assumption on the joint distribution.
``fixed_sequence``
    hierarchical testing (Maurer, Hothorn & Lehmacher 1995; Westfall & Krishen 2001):
    each hypothesis in the plan's order at the full alpha, stopping at the first that is
    not rejected.
``graphical``
    the sequentially rejective graphical procedure of Bretz, Maurer, Brannath & Posch
    (2009), with initial weights w (w_i >= 0, sum <= 1) and transition matrix G (g_ij >= 0,
    g_ii = 0, rows summing to at most 1). Bonferroni, Holm and fixed sequence are graphs
    (``bonferroni_graph``, ``holm_graph``, ``fixed_sequence_graph``); so are fallback,
    gatekeeping and successive strategies.

Decisions (``DECISIONS``)
-------------------------
``"rejected"``
    the p-value is at most the hypothesis's local level at some step, and that level is
    positive: p <= alpha * w_i with w_i > 0 (``<=``: a p-value equal to its level rejects).
``"not rejected"``
    not rejected, and the procedure stopped with a positive local level for it: it was
    tested and its p-value exceeded that level (or its p-value is missing, see below).
``"not tested: gate closed"``
    not rejected, and its local level was still 0 when the procedure stopped: in a fixed
    sequence, every hypothesis after the first one not rejected; in a graph, a hypothesis
    whose weight is 0 in the final graph (the hypotheses that pass weight to it were not
    all rejected); in weighted Bonferroni, a hypothesis of weight 0. A hypothesis of local
    level 0 is never rejected, even with p = 0.

Missing p-values
----------------
A missing p-value (``None`` or NaN) is a test that could not be computed. Its hypothesis
stays in the family, is never rejected, and so passes on no weight: Bonferroni, Holm and
Hochberg still count it in m (no other hypothesis gains its share of alpha), and in a
fixed sequence or a graph the hypotheses that depend on it stay gated. Decisions are those
the procedure gives with p = 1 in its place (with alpha < 1 a p-value of 1 rejects
nothing), and so, in a graph, are the local levels. Its decision is ``"not rejected"``
when a positive level was available to it (the gate was open; there was nothing to test)
and ``"not tested: gate closed"`` otherwise. Its adjusted p-value is ``None``, and so is
the adjusted p-value of every hypothesis that no level would reject because a hypothesis
with a missing p-value stands in its way: in a fixed sequence, every hypothesis after the
missing one; in a graph, a hypothesis left with weight 0 that weight could otherwise reach
(its weight is positive once every other hypothesis is removed from the graph).

A hypothesis that no level rejects whatever the other p-values (a graph in which no weight
can ever reach it, or weight 0 in weighted Bonferroni) has adjusted p-value 1, as in R's
gMCP and graphicalMCP.

Floating point
--------------
Decisions compare p <= level in floating point as it stands, with no rounding tolerance
(graphicalMCP rounds adjusted p-values to 10 decimals before comparing them with alpha).
The adjusted p-value is computed separately (p / w rather than p <= alpha * w), so the two
could disagree only for a p-value within a rounding error of its level; the decision is the
procedure's. Weights entered with rounding (three thirds typed as 0.3333) may sum to
1 + ``multiplicity_inputs.SUM_TOLERANCE`` at most.

Sources
-------
Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat
6:65-70.
Hochberg Y (1988). A sharper Bonferroni procedure for multiple tests of significance.
Biometrika 75:800-802.
Sarkar SK (1998). Some probability inequalities for ordered MTP2 random variables: a proof
of the Simes conjecture. Ann Stat 26:494-504.
Wright SP (1992). Adjusted p-values for simultaneous inference. Biometrics 48:1005-1013.
Maurer W, Hothorn LA, Lehmacher W (1995). Multiple comparisons in drug clinical trials and
preclinical assays: a-priori ordered hypotheses. In Vollmar J (ed.), Biometrie in der
chemisch-pharmazeutischen Industrie 6, 3-18.
Westfall PH, Krishen A (2001). Optimally weighted, fixed sequence and gatekeeper multiple
testing procedures. J Stat Plan Inference 99:25-40.
Bretz F, Maurer W, Brannath W, Posch M (2009). A graphical approach to sequentially
rejective multiple test procedures. Stat Med 28:586-604.
Bretz F, Posch M, Glimm E, Klinglmueller F, Maurer W, Rohmeyer K (2011). Graphical
approaches for multiple comparison procedures using weighted Bonferroni, Simes, or
parametric tests. Biom J 53:894-913.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trialreport.stats.multiplicity_inputs import (
    METHODS,
    alpha_level,
    check_m,
    method_key,
    p_value_list,
    transition_matrix,
    weight_vector,
)

__all__ = ["DECISIONS", "GATE_CLOSED", "METHODS", "NOT_REJECTED", "REJECTED", "adjust",
           "bonferroni", "bonferroni_graph", "fixed_sequence", "fixed_sequence_graph",
           "graphical", "hochberg", "holm", "holm_graph", "update_graph"]

REJECTED = "rejected"
NOT_REJECTED = "not rejected"
GATE_CLOSED = "not tested: gate closed"
DECISIONS = (REJECTED, NOT_REJECTED, GATE_CLOSED)



# --- graphs -------------------------------------------------------------------------------

def bonferroni_graph(m: int) -> tuple[list[float], list[list[float]]]:
    """The Bonferroni test as a graph: weights 1/m each and no edges (G = 0)."""
    check_m(m)
    return [1.0 / m] * m, [[0.0] * m for _ in range(m)]


def holm_graph(m: int) -> tuple[list[float], list[list[float]]]:
    """Holm's procedure as a graph (Bretz et al. 2009): weights 1/m each and g_ij =
    1/(m - 1) for every i != j, so a rejected hypothesis's weight is shared equally among
    those left."""
    check_m(m)
    g = 1.0 / (m - 1) if m > 1 else 0.0
    return [1.0 / m] * m, [[0.0 if i == j else g for j in range(m)] for i in range(m)]


def fixed_sequence_graph(m: int) -> tuple[list[float], list[list[float]]]:
    """The fixed-sequence (hierarchical) procedure as a graph (Bretz et al. 2009): all the
    weight on the first hypothesis, w = (1, 0, ..., 0), and g_{i,i+1} = 1, so each
    rejection passes the full level to the next hypothesis in order."""
    check_m(m)
    transitions = [[0.0] * m for _ in range(m)]
    for i in range(m - 1):
        transitions[i][i + 1] = 1.0
    return [1.0] + [0.0] * (m - 1), transitions


def update_graph(weights: Any, transitions: Any, j: int) -> tuple[np.ndarray, np.ndarray]:
    """The graph after hypothesis ``j`` (0-based) is removed: Algorithm 1 of Bretz et al.
    (2009), the update step. With I the hypotheses left after removing H_j,

        w_l  <- w_l + w_j g_jl                                   (l in I)
        g_lk <- (g_lk + g_lj g_jk) / (1 - g_lj g_jl)             (l, k in I, l != k,
                                                                  g_lj g_jl < 1)

    and 0 otherwise; H_j keeps weight 0 and no edges. The weights of the graph left after
    removing a set of hypotheses do not depend on the order of removal (Bretz et al. 2009,
    Section 3). ``weights`` (length m) and ``transitions`` (m x m) are taken as they are,
    unchecked; new arrays are returned.
    """
    w = np.array(weights, dtype=float)
    g = np.array(transitions, dtype=float)
    to_j = g[:, j].copy()    # g_lj
    from_j = g[j, :].copy()  # g_jk
    w_new = w + w[j] * from_j
    w_new[j] = 0.0
    denominator = 1.0 - to_j * from_j  # 1 - g_lj g_jl, one per row l
    open_rows = denominator > 0.0
    g_new = np.zeros_like(g)
    g_new[open_rows] = ((g[open_rows] + np.outer(to_j[open_rows], from_j))
                        / denominator[open_rows, None])
    np.fill_diagonal(g_new, 0.0)
    g_new[j, :] = 0.0
    g_new[:, j] = 0.0
    return w_new, g_new


# --- the entry point ----------------------------------------------------------------------

def adjust(
    p_values: Mapping[str, float | None],
    method: str,
    alpha: float,
    weights: Any = None,
    transitions: Any = None,
    order: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Apply a multiplicity strategy to a trial's confirmatory p-values.

    Parameters
    ----------
    p_values : mapping of str to float or None
        Each hypothesis's raw p-value; ``None`` (or NaN) when its test could not be
        computed (module docstring, *Missing p-values*).
    method : str
        One of ``METHODS``: ``bonferroni``, ``holm``, ``hochberg``, ``fixed_sequence``,
        ``graphical`` (case and ``-``/``_`` do not matter).
    alpha : float
        The overall familywise level, 0 < alpha < 1 (one- or two-sided as the p-values are).
    weights : mapping or sequence of float, optional
        Initial weights, >= 0 and summing to at most 1: required for ``graphical``, optional
        for ``bonferroni`` (weighted Bonferroni). Either ``{"H1": 0.5, ...}`` naming every
        hypothesis, or a vector in ``order``.
    transitions : mapping or matrix, optional
        ``graphical`` only: ``{"H1": {"H2": 0.5, "H3": 0.5}, ...}`` (edges left out are 0)
        or an m x m matrix in ``order``; g_ii = 0, entries >= 0, rows summing to at most 1.
    order : sequence of str, optional
        Every hypothesis once: the order of the rows returned, of a vector or matrix of
        weights and transitions, and the testing order of ``fixed_sequence``. Default: the
        order of ``p_values``.

    Returns
    -------
    list of dict
        One row per hypothesis, in ``order``: ``hypothesis``, ``p_value``, ``p_adjusted``
        (None where undefined), ``decision`` (one of ``DECISIONS``) and ``local_level``;
        see the module docstring for each and for the exact decision rules.

    Raises
    ------
    ValueError
        For an unknown method, alpha outside (0, 1), a p-value outside [0, 1], negative
        weights or weights summing above 1, a transition row above 1, a nonzero diagonal,
        a vector or matrix of the wrong size, or weights or transitions for a method that
        takes none; the message names the hypothesis, row or edge.

    References
    ----------
    Bretz F, Maurer W, Brannath W, Posch M (2009). Stat Med 28:586-604 (the graphical
    procedure, Algorithm 1). Bretz F, Posch M, Glimm E, Klinglmueller F, Maurer W,
    Rohmeyer K (2011). Biom J 53:894-913 (its adjusted p-values). Holm (1979), Hochberg
    (1988), Westfall & Krishen (2001): see the module docstring.

    Examples
    --------
    Two doses (H1, H2 primary; H3, H4 their secondary endpoints), the graph of the
    graphicalMCP vignette "shortcut-testing", one-sided alpha = 0.025:

    >>> rows = adjust({"H1": 0.018, "H2": 0.01, "H3": 0.105, "H4": 0.006}, "graphical",
    ...               0.025, weights=[0.5, 0.5, 0, 0],
    ...               transitions={"H1": {"H2": 0.5, "H3": 0.5}, "H2": {"H1": 0.5, "H4": 0.5},
    ...                            "H3": {"H2": 1}, "H4": {"H1": 1}})
    >>> [(r["hypothesis"], round(r["p_adjusted"], 4), r["decision"]) for r in rows]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('H1', 0.024, 'rejected'), ('H2', 0.02, 'rejected'), ('H3', 0.105, 'not rejected'),
     ('H4', 0.024, 'rejected')]
    >>> [r["decision"] for r in adjust({"H1": 0.01, "H2": 0.2, "H3": 0.001},
    ...                                "fixed_sequence", 0.05)]
    ['rejected', 'not rejected', 'not tested: gate closed']
    """
    key = method_key(method)
    if key == "graphical":
        return graphical(p_values, alpha, weights, transitions, order=order)
    if transitions is not None:
        raise ValueError(f"method {key!r} takes no transitions; only 'graphical' does")
    if key == "bonferroni":
        return bonferroni(p_values, alpha, weights=weights, order=order)
    if weights is not None:
        raise ValueError(
            f"method {key!r} takes no weights; for a weighted strategy use 'graphical' "
            "(or 'bonferroni' for a weighted Bonferroni test)")
    if key == "holm":
        return holm(p_values, alpha, order=order)
    if key == "hochberg":
        return hochberg(p_values, alpha, order=order)
    return fixed_sequence(p_values, alpha, order=order)


# --- the methods --------------------------------------------------------------------------

def bonferroni(p_values: Mapping[str, float | None], alpha: float, weights: Any = None,
               order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Bonferroni test: H_i rejected when p_i <= alpha / m, adjusted p = min(1, m p_i).
    With ``weights`` (w_i >= 0, sum <= 1), the weighted Bonferroni test: local level
    alpha * w_i, adjusted p = min(1, p_i / w_i); a hypothesis of weight 0 is not tested
    (adjusted p 1). No hypothesis's rejection changes another's level (Bretz et al. 2009,
    the graph with G = 0). Unweighted, it equals statsmodels' ``multipletests(method=
    'bonferroni')``, whose expressions (alpha / m, p * m) it uses."""
    names, p = p_value_list(p_values, order)
    a = alpha_level(alpha)
    m = len(names)
    w = None if weights is None else weight_vector(weights, names)
    rows = []
    for i, name in enumerate(names):
        if w is None:
            level = a / m
            adjusted = None if math.isnan(p[i]) else min(1.0, p[i] * m)
        else:
            level = a * w[i]
            adjusted = (None if math.isnan(p[i])
                        else min(1.0, p[i] / w[i]) if w[i] > 0 else 1.0)
        rows.append(_row(name, p[i], adjusted, _decision(p[i], level), level))
    return rows


def holm(p_values: Mapping[str, float | None], alpha: float,
         order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Holm's (1979) step-down procedure. With the p-values sorted, p_(1) <= ... <= p_(m),
    H_(k) is tested at alpha / (m - k + 1) and rejected if p_(k) <= alpha / (m - k + 1) and
    H_(1)..H_(k-1) were rejected; the procedure stops at the first that is not. Those left
    keep the level of the step that stopped. Adjusted p_(k) = min(1, max_{j<=k} (m - j + 1)
    p_(j)) (Wright 1992). The expressions are statsmodels' ``multipletests(method='holm')``
    (alpha / (m - k + 1), p * (m - k + 1), running maximum, then the cap at 1). Missing
    p-values sort last and count in m."""
    names, p = p_value_list(p_values, order)
    a = alpha_level(alpha)
    m = len(names)
    ranked = _ranked(p)
    rejected: dict[int, float] = {}
    for k, i in enumerate(ranked):
        level = a / (m - k)
        if not p[i] <= level:
            break
        rejected[i] = level
    final_level = a / (m - len(rejected)) if len(rejected) < m else 0.0
    adjusted: dict[int, float] = {}
    running = 0.0
    for k, i in enumerate(i for i in ranked if not math.isnan(p[i])):
        running = max(running, p[i] * (m - k))
        adjusted[i] = min(1.0, running)
    return [_row(name, p[i], adjusted.get(i),
                 REJECTED if i in rejected else _not_rejected(final_level),
                 rejected.get(i, final_level))
            for i, name in enumerate(names)]


def hochberg(p_values: Mapping[str, float | None], alpha: float,
             order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Hochberg's (1988) step-up procedure. With p_(1) <= ... <= p_(m), find the largest k
    with p_(k) <= alpha / (m - k + 1) and reject H_(1)..H_(k). Local level: for a rejected
    hypothesis, alpha / (m - k + 1) of that largest k (the step at which the procedure
    stopped); for one not rejected, its own critical value alpha / (m - j + 1), which its
    p-value exceeded. Adjusted p_(j) = min(1, min_{i>=j} (m - i + 1) p_(i)). The
    expressions are statsmodels' ``multipletests(method='simes-hochberg')``. Missing
    p-values sort last and count in m. Valid for independent or positively dependent
    tests (Sarkar 1998); not a Bonferroni-based graph."""
    names, p = p_value_list(p_values, order)
    a = alpha_level(alpha)
    m = len(names)
    ranked = _ranked(p)
    present = [i for i in ranked if not math.isnan(p[i])]
    last = -1
    for k, i in enumerate(present):
        if p[i] <= a / (m - k):
            last = k
    adjusted: dict[int, float] = {}
    running = math.inf
    for k in range(len(present) - 1, -1, -1):
        running = min(running, (m - k) * p[present[k]])
        adjusted[present[k]] = min(1.0, running)
    rows = {}
    for k, i in enumerate(ranked):
        if k <= last:
            rows[i] = (REJECTED, a / (m - last))
        else:
            rows[i] = (_not_rejected(a / (m - k)), a / (m - k))
    return [_row(name, p[i], adjusted.get(i), *rows[i]) for i, name in enumerate(names)]


def fixed_sequence(p_values: Mapping[str, float | None], alpha: float,
                   order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Fixed-sequence (hierarchical) testing (Maurer et al. 1995; Westfall & Krishen
    2001): the hypotheses in ``order`` (default: the order of ``p_values``), each at the
    full alpha while every one before it was rejected. The first that is not rejected
    closes the gate: it is ``"not rejected"`` (local level alpha) and every later one is
    ``"not tested: gate closed"`` (local level 0). Adjusted p = the running maximum of the
    raw p-values up to and including the hypothesis; undefined (``None``) from a missing
    p-value on, since no level rejects the hypotheses behind a test that could not be
    computed."""
    names, p = p_value_list(p_values, order)
    a = alpha_level(alpha)
    rows = []
    gate_open = True
    running: float | None = 0.0
    for i, name in enumerate(names):
        if running is not None:
            running = None if math.isnan(p[i]) else max(running, p[i])
        if gate_open:
            decision = _decision(p[i], a)
            gate_open = decision == REJECTED
            rows.append(_row(name, p[i], running, decision, a))
        else:
            rows.append(_row(name, p[i], running, GATE_CLOSED, 0.0))
    return rows


def graphical(p_values: Mapping[str, float | None], alpha: float, weights: Any,
              transitions: Any, order: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The graphical procedure of Bretz et al. (2009), Algorithm 1, with weighted
    Bonferroni tests, and its adjusted p-values (Bretz et al. 2011).

    Decisions (Algorithm 1): while some hypothesis left has w_j > 0 and p_j <= alpha w_j,
    reject one (the smallest p_j / w_j, the first in ``order`` on a tie; the final
    decisions do not depend on this choice) and update the graph (``update_graph``).
    A rejected hypothesis's local level is alpha w_j at its rejection; one left, alpha w_j
    in the final graph ("not tested: gate closed" where that is 0).

    Adjusted p-values (Bretz et al. 2011): with pmax = 0, repeatedly take the hypothesis
    left with the smallest p_j / w_j (w_j > 0), set its adjusted p to min(1, max(pmax,
    p_j / w_j)), raise pmax to it and remove it from the graph; equal to the closed test's
    max over intersections I containing H_i of min_{j in I} p_j / w_j(I). Hypotheses with
    a missing p-value are never removed, so those reachable only through them are left at
    weight 0 and get ``None``; a hypothesis that no weight can ever reach gets 1 (module
    docstring, *Missing p-values*).

    The sequentially rejective procedure is the closed test of the graph's weighted
    Bonferroni intersection tests, so it controls the familywise error rate strongly at
    alpha with any joint distribution of the p-values (Bretz et al. 2009, Section 3).
    """
    names, p = p_value_list(p_values, order)
    a = alpha_level(alpha)
    if weights is None or transitions is None:
        raise ValueError("method 'graphical' needs both weights (the initial weight of each "
                         "hypothesis) and transitions (the edges of the graph)")
    w = weight_vector(weights, names)
    g = transition_matrix(transitions, names)
    m = len(names)

    # Algorithm 1 at level alpha.
    levels: dict[int, float] = {}
    w_now, g_now = w.copy(), g.copy()
    while True:
        candidates = [i for i in range(m)
                      if i not in levels and w_now[i] > 0 and p[i] <= a * w_now[i]]
        if not candidates:
            break
        j = min(candidates, key=lambda i: p[i] / w_now[i])
        levels[j] = a * float(w_now[j])
        w_now, g_now = update_graph(w_now, g_now, j)

    adjusted = _graph_adjusted(p, w, g)
    rows = []
    for i, name in enumerate(names):
        if i in levels:
            rows.append(_row(name, p[i], adjusted[i], REJECTED, levels[i]))
        else:
            level = a * float(w_now[i])
            rows.append(_row(name, p[i], adjusted[i], _not_rejected(level), level))
    return rows


def _graph_adjusted(p: list[float], w: np.ndarray, g: np.ndarray) -> list[float | None]:
    m = len(p)
    adjusted: list[float | None] = [None] * m
    left = [i for i in range(m) if not math.isnan(p[i])]
    pmax = 0.0
    while left:
        ratios = [p[i] / w[i] if w[i] > 0 else math.inf for i in left]
        best = min(ratios)
        if best == math.inf:
            break
        j = left[ratios.index(best)]
        pmax = max(pmax, best)
        adjusted[j] = min(1.0, pmax)
        w, g = update_graph(w, g, j)
        left.remove(j)
    for i in left:  # weight 0 at the end: never reachable (1), or gated by a missing p (None)
        adjusted[i] = 1.0 if _weight_alone(w, g, i) == 0 else None
    return adjusted


def _weight_alone(w: np.ndarray, g: np.ndarray, i: int) -> float:
    """w_i({i}): H_i's weight once every other hypothesis is removed."""
    for k in range(len(w)):
        if k != i:
            w, g = update_graph(w, g, k)
    return float(w[i])


# --- helpers ------------------------------------------------------------------------------

def _row(name: str, p: float, adjusted: float | None, decision: str,
         level: float) -> dict[str, Any]:
    return {"hypothesis": name,
            "p_value": None if math.isnan(p) else float(p),
            "p_adjusted": None if adjusted is None else float(adjusted),
            "decision": decision,
            "local_level": float(level)}


def _decision(p: float, level: float) -> str:
    """The decision of a hypothesis held to ``level``: rejected when p <= level and the
    level is positive, else as ``_not_rejected``. A missing p (NaN) compares false, so it
    is never rejected."""
    return REJECTED if level > 0 and p <= level else _not_rejected(level)


def _not_rejected(level: float) -> str:
    """A hypothesis not rejected: tested (``not rejected``) if it was left with a positive
    level, ``not tested: gate closed`` if its level is still 0."""
    return NOT_REJECTED if level > 0 else GATE_CLOSED


def _ranked(p: list[float]) -> list[int]:
    """Indices by increasing p-value, ties in input order, missing p-values last."""
    return sorted(range(len(p)), key=lambda i: (math.isnan(p[i]), 0.0 if math.isnan(p[i])
                                                else p[i], i))
