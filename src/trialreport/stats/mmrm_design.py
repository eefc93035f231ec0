"""Fixed-effects design of the MMRM engine (``trialreport.stats.mmrm``).

A separate module because the model matrix is needed three times, in the same coding
rules: for the fit (reference coding), for Type 3 hypotheses (sum-to-zero coding) and for
the LS-means reference grid.

Coding follows R's ``model.matrix`` (treatment contrasts; a factor in a term gets K - 1
contrast columns when the term without that factor is also in the model, the intercept
counting as the empty term, and K indicator columns otherwise). With the reference level of
each factor set to SAS's last level, the coefficients are SAS's "Solution for Fixed
Effects" (the non-zero rows of its less-than-full-rank parameterisation). Estimable
functions (LS means, their differences, Type 3 tests) do not depend on the coding.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Term = tuple[str, ...]


def parse_term(term: str | Sequence[str]) -> Term:
    """"A:B" or ("A", "B") -> ("A", "B"); "1" or "" -> () (the intercept)."""
    if isinstance(term, str):
        term = [] if term.strip() in ("", "1") else [v.strip() for v in term.split(":")]
    return tuple(term)


def term_label(term: Term) -> str:
    return ":".join(term) if term else "(Intercept)"


def _is_missing(v) -> bool:
    if v is None or (isinstance(v, str) and not v.strip()):
        return True
    try:
        return bool(v != v)  # NaN, and pandas' NA / NaT
    except TypeError:
        return True


def factorize(values: np.ndarray) -> tuple[list, np.ndarray]:
    """Distinct non-missing values and each row's index among them (-1 where missing:
    None, NaN, pandas NA, blank text, as SAS treats a blank CLASS value)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        uniq, inv = np.unique(arr, return_inverse=True)
        return uniq.tolist(), inv.reshape(-1)
    if arr.dtype.kind in "fUS":
        uniq, inv = np.unique(arr, return_inverse=True)
        values_u = uniq.tolist()
    else:
        lookup: dict = {}
        inv = np.fromiter((lookup.setdefault(v, len(lookup)) for v in arr.tolist()),
                          dtype=np.int64, count=len(arr))
        values_u = list(lookup)
    keep = [i for i, u in enumerate(values_u) if not _is_missing(u)]
    remap = np.full(len(values_u), -1)
    remap[keep] = np.arange(len(keep))
    return [values_u[i] for i in keep], remap[inv.reshape(-1)]


@dataclass
class Design:
    """The data of one MMRM, ready to fit: response, model matrix, subjects, visits.

    Rows are the observations used (non-missing response and model variables), sorted by
    subject and visit. ``x`` is reference coded (``names`` its columns). ``variables`` maps
    each variable in the terms to its levels (categorical) or None (numeric);
    ``columns`` holds those variables' values on the rows used; ``term_columns`` the
    columns of ``x`` of each term."""

    y: np.ndarray
    x: np.ndarray
    names: list[str]
    terms: list[Term]
    term_columns: dict[Term, np.ndarray]
    subject: np.ndarray  # code per row, 0..n_subjects-1
    subject_ids: np.ndarray  # original id per code
    visit: np.ndarray  # code per row, 0..T-1
    visit_levels: list
    group: np.ndarray  # code per subject
    group_levels: list
    variables: dict[str, list | None]
    reference: dict[str, object]
    columns: dict[str, np.ndarray]
    arm: str | None = None
    visit_var: str = "AVISIT"
    n_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        return len(self.y)

    @property
    def n_subjects(self) -> int:
        return len(self.subject_ids)

    @property
    def n_visits(self) -> int:
        return len(self.visit_levels)

    def model_matrix(self, columns: Mapping[str, np.ndarray], coding: str = "reference"
                     ) -> np.ndarray:
        """The model matrix of this design's terms on other rows (same coding rules)."""
        return model_matrix(columns, self.terms, self.variables, self.reference, coding)[0]

    def covariate_means(self, over: str = "observations") -> dict[str, float]:
        """Numeric variables' means over the rows used ("observations", as SAS LSMEANS
        and R emmeans on an mmrm fit do) or over subjects (each subject's first row)."""
        if over == "observations":
            rows = slice(None)
        elif over == "subjects":
            rows = np.r_[0, np.flatnonzero(np.diff(self.subject)) + 1]
        else:
            raise ValueError("over must be 'observations' or 'subjects'")
        return {v: float(np.mean(self.columns[v][rows]))
                for v, lev in self.variables.items() if lev is None}


def model_matrix(columns: Mapping[str, np.ndarray], terms: list[Term],
                 variables: Mapping[str, list | None], reference: Mapping[str, object],
                 coding: str = "reference") -> tuple[np.ndarray, list[str], dict]:
    """Model matrix, column names and the columns of each term (module docstring)."""
    present = set(terms)
    n = len(next(iter(columns.values())))
    blocks, names, term_cols = [], [], {}
    start = 0
    for term in terms:
        mat = np.ones((n, 1))
        labels = [""]
        for var in term:
            levels = variables[var]
            values = np.asarray(columns[var])
            if levels is None:
                part = values.astype(float)[:, None]
                plabels = [var]
            else:
                codes = level_codes(values, levels, var)
                contrast = tuple(v for v in term if v != var) in present
                part, plabels = _factor_columns(codes, levels, reference.get(var, levels[0]),
                                                var, contrast, coding)
            mat = (mat[:, :, None] * part[:, None, :]).reshape(n, -1)
            labels = [f"{a}:{b}" if a else b for a in labels for b in plabels]
        if not term:
            labels = ["(Intercept)"]
        blocks.append(mat)
        names.extend(labels)
        term_cols[term] = np.arange(start, start + mat.shape[1])
        start += mat.shape[1]
    return np.hstack(blocks), names, term_cols


def level_codes(values: np.ndarray, levels: list, var: str) -> np.ndarray:
    """Index of each value in ``levels`` (an error for a value not among them)."""
    uniq, inv = factorize(values)
    lookup = {lev: i for i, lev in enumerate(levels)}
    try:
        table = np.array([lookup[u] for u in uniq], dtype=int)
    except KeyError as err:
        raise ValueError(f"{var}: value {err.args[0]!r} is not among its levels {levels}") \
            from err
    if np.any(inv < 0):
        raise ValueError(f"{var}: missing values")
    return table[inv] if len(table) else inv


def _factor_columns(codes, levels, ref, var, contrast, coding):
    k = len(levels)
    eye = np.eye(k)
    if not contrast:
        return eye[codes], [f"{var}[{lev}]" for lev in levels]
    if coding == "reference":
        keep = [i for i, lev in enumerate(levels) if lev != ref]
        return eye[codes][:, keep], [f"{var}[{levels[i]}]" for i in keep]
    if coding == "sum":
        c = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])
        return c[codes], [f"{var}[S{i + 1}]" for i in range(k - 1)]
    raise ValueError(f"unknown coding {coding!r}")


def mmrm_terms(arm: str | None, visit: str, baseline: str | None = None,
               covariates: Sequence[str] = (), factors: Sequence[str] = ()) -> list[Term]:
    """The usual MMRM: arm, visit, arm x visit, baseline, baseline x visit, then any
    further numeric covariates and categorical factors as main effects."""
    terms: list[Term] = [()]
    if arm:
        terms.append((arm,))
    terms.append((visit,))
    if arm:
        terms.append((arm, visit))
    if baseline:
        terms += [(baseline,), (baseline, visit)]
    terms += [(c,) for c in covariates] + [(f,) for f in factors]
    return terms


def build_design(data: Mapping[str, Sequence], *, response: str, subject: str, visit: str,
                 arm: str | None = None, baseline: str | None = None,
                 covariates: Sequence[str] = (), factors: Sequence[str] = (),
                 terms: Sequence[str | Sequence[str]] | None = None,
                 levels: Mapping[str, Sequence] | None = None,
                 reference: Mapping[str, object] | None = None,
                 group: str | None = None) -> Design:
    """The design of an MMRM from a long table (a pandas DataFrame or a dict of arrays).

    ``response`` at each post-baseline ``visit`` (one row per subject and visit); fixed
    effects ``terms`` ("ARM", "AVISIT", "ARM:AVISIT", ...; default ``mmrm_terms``: arm,
    visit, arm x visit, baseline, baseline x visit, ``covariates``, ``factors``), with an
    intercept. Categorical: ``arm``, ``visit`` and ``factors``; every other variable in the
    terms is numeric. ``levels`` orders categorical levels (default: sorted values seen;
    give the visit order); ``reference`` names each factor's reference level (default its
    first level; the arm's reference is also the control of LS-mean differences).
    ``group``: a subject-level variable with a separate covariance matrix per level (SAS
    ``REPEATED / GROUP=``, mmrm ``us(AVISIT | ARM / USUBJID)``).

    Rows with a missing response or a missing model variable are not used; subjects with
    no row left are not used; every remaining row is used (``dropped`` counts them)."""
    levels = dict(levels or {})
    reference = dict(reference or {})
    term_list = ([parse_term(t) for t in terms] if terms is not None
                 else mmrm_terms(arm, visit, baseline, covariates, factors))
    if () not in term_list:
        term_list.insert(0, ())
    categorical = {v for v in [arm, visit, *factors] if v}
    model_vars = sorted({v for t in term_list for v in t})
    needed = [response, subject, visit] + model_vars + ([group] if group else [])
    cols = {v: np.asarray(data[v]) for v in dict.fromkeys(needed)}
    n_read = len(cols[response])
    keep = np.isfinite(cols[response].astype(float))
    dropped = {"missing response": int(np.sum(~keep))}
    for v in [subject, visit] + model_vars + ([group] if group else []):
        if v in categorical or v in (subject, group) or cols[v].dtype.kind not in "iufb":
            miss = factorize(cols[v])[1] < 0
        else:
            miss = ~np.isfinite(cols[v].astype(float))
        dropped[f"missing {v}"] = int(np.sum(miss & keep))
        keep &= ~miss
    cols = {v: c[keep] for v, c in cols.items()}
    variables: dict[str, list | None] = {}
    for v in model_vars + [visit]:
        if v in categorical:
            variables[v] = list(levels.get(v, sorted(factorize(cols[v])[0])))
        else:
            variables[v] = None
    visit_levels = variables[visit]
    if visit not in model_vars:
        del variables[visit]
    vcode = level_codes(cols[visit], visit_levels, visit)
    sid_values, scode = np.unique(cols[subject], return_inverse=True)
    order = np.lexsort((vcode, scode))
    cols = {v: c[order] for v, c in cols.items()}
    vcode, scode = vcode[order], scode[order]
    if np.any((np.diff(scode) == 0) & (np.diff(vcode) == 0)):
        raise ValueError(f"{subject}: a subject has two rows at the same {visit}")
    x, names, term_cols = model_matrix(cols, term_list, variables, reference)
    x = np.ascontiguousarray(x)
    first = np.r_[0, np.flatnonzero(np.diff(scode)) + 1]
    if group:
        glev = list(levels.get(group, sorted(factorize(cols[group])[0])))
        gcode_rows = level_codes(cols[group], glev, group)
        gcode = gcode_rows[first]
        if np.any(gcode_rows != np.repeat(gcode, np.diff(np.r_[first, len(scode)]))):
            raise ValueError(f"group variable {group} varies within a subject")
    else:
        glev, gcode = ["all"], np.zeros(len(first), dtype=int)
    for v, lev in variables.items():
        if lev is not None:
            reference.setdefault(v, lev[0])
    return Design(
        y=cols[response].astype(float), x=x, names=names, terms=term_list,
        term_columns=term_cols, subject=scode, subject_ids=sid_values, visit=vcode,
        visit_levels=visit_levels, group=gcode, group_levels=glev, variables=variables,
        reference=reference, columns={v: cols[v] for v in model_vars}, arm=arm,
        visit_var=visit, n_read=n_read, dropped=dropped)


def reference_grid(design: Design, fixed: Mapping[str, object],
                   over: str = "observations") -> np.ndarray:
    """The LS-mean coefficient row for the factor levels in ``fixed`` (e.g. arm and
    visit): every other factor in the model averaged with equal weights over its levels,
    numeric variables at their means (``Design.covariate_means``), as SAS LSMEANS and
    R's emmeans build it."""
    means = design.covariate_means(over)
    others = [v for v, lev in design.variables.items() if lev is not None and v not in fixed]
    combos = list(itertools.product(*[design.variables[v] for v in others])) or [()]
    cols: dict[str, np.ndarray] = {}
    for v, lev in design.variables.items():
        if lev is None:
            cols[v] = np.full(len(combos), means[v])
        elif v in fixed:
            cols[v] = np.array([fixed[v]] * len(combos), dtype=object)
        else:
            i = others.index(v)
            cols[v] = np.array([c[i] for c in combos], dtype=object)
    return design.model_matrix(cols).mean(axis=0)


def sum_coding_map(design: Design) -> np.ndarray:
    """M with X_reference = X_sum M, so that L_sum beta_sum = (L_sum M) beta_reference.

    Built on a grid of every factor level combination (numeric variables at three
    pseudo-random values each) where it is small, else on the design's own rows."""
    cat = {v: lev for v, lev in design.variables.items() if lev is not None}
    num = [v for v, lev in design.variables.items() if lev is None]
    size = math.prod(len(lev) for lev in cat.values()) * 3
    if size <= 20000:
        combos = list(itertools.product(*cat.values()))
        rng = np.random.default_rng(20240601)
        cols = {v: np.array([c[i] for c in combos for _ in range(3)], dtype=object)
                for i, v in enumerate(cat)}
        for v in num:
            cols[v] = rng.normal(size=len(combos) * 3)
    else:
        cols = design.columns
    xr = design.model_matrix(cols, "reference")
    xs = design.model_matrix(cols, "sum")
    m, *_ = np.linalg.lstsq(xs, xr, rcond=None)
    return m
