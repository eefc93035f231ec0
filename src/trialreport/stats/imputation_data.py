"""The data of reference-based imputation (``trialreport.stats.imputation``): one row per
subject, the visits as columns, each subject's intercurrent event (ICE) and strategy.

A separate module only to keep ``imputation`` under 600 lines; everything here is
re-exported there.

- ``prepare``: from a long table (one row per subject and visit); subject-level arm,
  baseline, covariates and factors; ICEs given (subject -> first visit affected, or
  (visit, strategy)) or derived (``imputation_model.derive_ice``: the visit after the last
  observed visit where the data end in a monotone gap; intermittent gaps are before the
  ICE and imputed under MAR).
- ``ImputationData.fit_use``: what the imputation model is fitted to (observed, and not
  after an ICE with a non-MAR strategy: rbmi excludes those values from the fit only);
  ``delta_eligible``: imputed values at or after the ICE (rbmi's delta template with
  ``missing_only = TRUE``), for subjects with an ICE whatever their strategy.
- ``delta_matrix``: rbmi's ``delta_template(delta, dlag)`` as an (n, T) array.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from trialreport.stats import imputation_model as im

STRATEGIES = im.STRATEGIES

# ---------------------------------------------------------------------------------------
# Data


@dataclass
class ImputationData:
    """One row per subject (``subject_ids`` order), visits as columns (``visits``).

    ``y`` (n, T) responses, NaN where missing; ``arm`` codes into ``arms``; ``reference``
    the reference arm's code; ``ice`` the first visit affected by the ICE (T: none);
    ``strategy`` per subject; ``columns`` the subject-level covariates (baseline,
    covariates, factors); ``names`` the long table's column names."""

    subject_ids: np.ndarray
    visits: list
    arms: list
    reference: int
    arm: np.ndarray
    y: np.ndarray
    ice: np.ndarray
    strategy: np.ndarray
    columns: dict[str, np.ndarray]
    names: dict[str, str]
    baseline: str | None = None
    covariates: tuple[str, ...] = ()
    factors: tuple[str, ...] = ()
    ice_derived: bool = False

    @property
    def n_subjects(self) -> int:
        return self.y.shape[0]

    @property
    def n_visits(self) -> int:
        return self.y.shape[1]

    @property
    def missing(self) -> np.ndarray:
        return np.isnan(self.y)

    @property
    def post_ice(self) -> np.ndarray:
        return np.arange(self.n_visits)[None, :] >= self.ice[:, None]

    @property
    def fit_use(self) -> np.ndarray:
        """Cells the imputation model is fitted to: observed, and not after an ICE with
        a non-MAR strategy."""
        non_mar = (self.strategy != "MAR")[:, None] & self.post_ice
        return ~self.missing & ~non_mar

    @property
    def delta_eligible(self) -> np.ndarray:
        """Cells a delta adjustment applies to: imputed, at or after the ICE."""
        return self.missing & self.post_ice

    def with_strategy(self, strategy: str | Mapping[Any, str]) -> ImputationData:
        """The same data with every subject that has an ICE under ``strategy`` (one name,
        or arm -> name)."""
        return replace(self, strategy=_strategies(self, strategy))


def _strategies(data: ImputationData, strategy: str | Mapping[Any, str]) -> np.ndarray:
    per_arm = ({a: strategy for a in data.arms} if isinstance(strategy, str)
               else {a: strategy.get(a, "MAR") for a in data.arms})
    for s in per_arm.values():
        if s not in STRATEGIES:
            raise ValueError(f"unknown strategy {s!r}; choose from {STRATEGIES}")
    out = np.array([per_arm[data.arms[a]] for a in data.arm], dtype=object)
    out[data.ice >= data.n_visits] = "MAR"
    return out


def prepare(data: Mapping[str, Sequence], *, response: str, subject: str, visit: str,
            arm: str, baseline: str | None = None, covariates: Sequence[str] = (),
            factors: Sequence[str] = (), levels: Mapping[str, Sequence] | None = None,
            reference: Any = None, ice: Mapping[Any, Any] | None = None,
            strategy: str | Mapping[Any, str] = "MAR") -> ImputationData:
    """The imputation data from a long table (a DataFrame or a dict of arrays): one row
    per subject and visit (missing rows are missing values; ``response`` NaN is missing).

    A subject with no row is not in the data: give a subject with no observed value one
    row with a missing response (rbmi's ``expand_locf`` makes every row).
    ``arm``, ``baseline``, ``covariates`` (numeric) and ``factors`` are subject-level: the
    same on every row of a subject. ``levels`` orders the visits, arms and factor levels
    (default sorted); ``reference`` is the reference arm (default the first). ``ice``:
    subject -> visit of the first visit affected by the ICE, or subject -> (visit,
    strategy); without it, ICEs are derived (``imputation_model.derive_ice``).
    ``strategy``: one name or arm -> name, for every subject with an ICE whose strategy
    ``ice`` does not give."""
    levels = dict(levels or {})
    cols = {k: np.asarray(data[k]) for k in
            dict.fromkeys([response, subject, visit, arm, *([baseline] if baseline else []),
                           *covariates, *factors])}
    ids, scode = np.unique(cols[subject], return_inverse=True)
    visits = list(levels.get(visit, sorted(set(cols[visit].tolist()))))
    arms = list(levels.get(arm, sorted(set(cols[arm].tolist()))))
    ref = arms[0] if reference is None else reference
    if ref not in arms:
        raise ValueError(f"reference arm {ref!r} is not among the arms {arms}")
    vindex = {v: i for i, v in enumerate(visits)}
    try:
        vcode = np.array([vindex[v] for v in cols[visit].tolist()])
    except KeyError as err:
        raise ValueError(f"{visit}: value {err.args[0]!r} is not among {visits}") from err
    n, t = len(ids), len(visits)
    y = np.full((n, t), np.nan)
    seen = np.zeros((n, t), dtype=bool)
    if np.any(np.bincount(scode * t + vcode, minlength=n * t) > 1):
        raise ValueError(f"{subject}: a subject has two rows at the same {visit}")
    seen[scode, vcode] = True
    y[scode, vcode] = cols[response].astype(float)
    first = np.zeros(n, dtype=int)
    first[scode[::-1]] = np.arange(len(scode))[::-1]
    per_subject = {}
    for name in [arm, *([baseline] if baseline else []), *covariates, *factors]:
        values = cols[name]
        numeric = name not in (arm, *factors)
        vals = values[first].astype(float) if numeric else values[first]
        if numeric and (np.any(~np.isfinite(vals))
                        or np.any(values.astype(float) != vals[scode])):
            raise ValueError(f"{name}: missing, or not the same on every row of a subject")
        if not numeric and np.any(values != vals[scode]):
            raise ValueError(f"{name}: not the same on every row of a subject")
        per_subject[name] = vals
    arm_code = np.array([arms.index(a) for a in per_subject[arm].tolist()])
    out = ImputationData(
        subject_ids=ids, visits=visits, arms=arms, reference=arms.index(ref), arm=arm_code,
        y=y, ice=np.full(n, t), strategy=np.full(n, "MAR", dtype=object),
        columns={k: v for k, v in per_subject.items() if k != arm},
        names={"response": response, "subject": subject, "visit": visit, "arm": arm},
        baseline=baseline, covariates=tuple(covariates), factors=tuple(factors),
        ice_derived=ice is None)
    if ice is None:
        out.ice = im.derive_ice(y)
        out.strategy = _strategies(out, strategy)
        return out
    out.strategy = _strategies(replace(out, ice=np.zeros(n, dtype=int)), strategy)
    pos = {s: i for i, s in enumerate(ids.tolist())}
    given = np.zeros(n, dtype=bool)
    for sid, value in ice.items():
        i = pos[sid]
        v, s = value if isinstance(value, tuple) else (value, out.strategy[i])
        out.ice[i], given[i] = vindex[v], True
        if s not in STRATEGIES:
            raise ValueError(f"unknown strategy {s!r}; choose from {STRATEGIES}")
        out.strategy[i] = s
    out.strategy[~given] = "MAR"
    out.ice[~given] = t
    return out


def delta_matrix(data: ImputationData, delta: Sequence[float], dlag: Sequence[float],
                 arms: Sequence[Any] | None = None) -> np.ndarray:
    """rbmi's ``delta_template(delta, dlag)`` as an (n, T) array: per subject with an ICE
    (in ``arms``, default all) ``imputation_model.delta_lagscale``, kept only where the
    value is imputed (rbmi's ``missing_only = TRUE``)."""
    keep = np.ones(data.n_subjects, dtype=bool) if arms is None else np.isin(
        np.array(data.arms, dtype=object)[data.arm], list(arms))
    out = np.zeros(data.y.shape)
    for i in np.flatnonzero(keep & (data.ice < data.n_visits)):
        out[i] = im.delta_lagscale(delta, dlag, int(data.ice[i]), data.n_visits)
    return np.where(data.delta_eligible, out, 0.0)
