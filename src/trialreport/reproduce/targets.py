"""Compare published figures (targets in the trial's config) with the analysis results.

A target is written as printed in the publication:

- a value, ``"3.79"``: the reproduced number is rounded half up to the printed decimals
  and must then read the same;
- a range, ``"12-17"``: the reproduced minimum and maximum must read the same;
- a bound, ``"P < 0.001"``: the reproduced number must satisfy it.

For a published mean of an integer-valued score, the GRIM test (Brown & Heathers, 2017)
lists the sample sizes n for which some whole-number total divided by n rounds to the
published mean; a reproduction whose n is not among them cannot be right.

A target may also state the assumptions under which whole-number data must give it
(``trialreport.reproduce.consistency``): a percentage's ``denominator``, or for a p comparing two
proportions the two ``proportions`` (percentage and denominator) and the test (``method``).
Status is then, in this order: ``inconsistent`` if no whole-number counts could give it
under those assumptions, whatever the data give (when the data reproduce the figure all the
same, the reason says with which values); else ``match`` if the data reproduce the figure;
else ``mismatch``. The ``reason`` column states the rounding rule, denominators and test, and
what the check found. Only ``mismatch`` fails the workflow (``on_mismatch``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from trialreport.common.config import Design, Target, Trial, as_trial
from trialreport.common.formatting import format_value
from trialreport.reproduce.consistency import (
    ARD_METHODS,
    ConsistencyError,
    Finding,
    check_percentage,
    check_proportions_p,
    test_of,
)

if TYPE_CHECKING:
    import pandas as pd
from trialreport.common.formatting import decimals_of, round_half_up
from trialreport.reproduce.grim import grim_sizes

# A row of the analysis-results table: its columns by name, `value` and `visitn` as floats
# (NaN where empty), the others as text ('' where empty), as `read_ard` reads them. The
# stage works on such rows with the standard library, so its job imports no pandas.
Row = dict[str, Any]

REPRODUCTION_COLUMNS = [
    "id", "description", "published", "reproduced", "status", "reproduced_value", "n",
    "grim_sizes", "grim_consistent", "source", "reason",
]
STATUSES = ("match", "inconsistent", "mismatch")
BOUND = re.compile(r"^\s*(?:[A-Za-z]+\s*)?(<=|>=|<|>|=)\s*([0-9.eE+-]+)\s*$")
RANGE = re.compile(r"^\s*(-?[0-9.]+)\s*(?:-|–|to)\s*(-?[0-9.]+)\s*$")


def _satisfies(value: float, op: str, bound: float) -> bool:
    return {"<": value < bound, "<=": value <= bound, ">": value > bound,
            ">=": value >= bound, "=": value == bound}[op]


class TargetError(ValueError):
    """A target that names a statistic the analysis results do not hold."""


def _select(rows: Iterable[Row], **where: Any) -> list[Row]:
    """The rows whose columns equal the given values."""
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def _lookup(ard: Sequence[Row], where: Mapping[str, Any], target_id: str) -> Row:
    rows = list(ard)
    for column, value in where.items():
        if column == "method_prefix":
            rows = [r for r in rows if r["method"].startswith(value)]
        else:
            rows = _select(rows, **{column: value})
    if len(rows) != 1:
        shown = ", ".join(f"{k}={v}" for k, v in where.items())
        groups = list(dict.fromkeys(r["group"] for r in rows))
        hint = (f" (groups {', '.join(groups)}: add group to the target to choose one)"
                if len(groups) > 1 else "")
        raise TargetError(f"target {target_id!r}: expected one analysis result with {shown}, "
                          f"found {len(rows)}{hint}")
    return rows[0]


def _source(row: Row) -> str:
    parts = [row["analysis"], row["parameter"], row["visit"], row["method"], row["statistic"]]
    return "/".join(str(p) for p in parts if isinstance(p, str) and p)


def reproduce(ard: pd.DataFrame | Sequence[Row],
              trial: Trial | Mapping[str, Any]) -> pd.DataFrame:
    """One row per published target: published, reproduced at its precision, and status
    (``reproduce_rows`` as a data frame, for an ARD given as a data frame or as rows)."""
    import pandas as pd

    records = ard.to_dict("records") if hasattr(ard, "to_dict") else list(ard)
    return pd.DataFrame(reproduce_rows(records, trial), columns=REPRODUCTION_COLUMNS)


def reproduce_rows(ard: Sequence[Row], trial: Trial | Mapping[str, Any]) -> list[Row]:
    """One row per published target: published, reproduced at its precision, and status."""
    trial = as_trial(trial)
    n_total = int(_sum(r["value"] for r in _select(ard, analysis="enrolment",
                                                    statistic="n_subjects")))
    rows, errors = [], []
    for target in trial.reproduction.targets:
        try:
            finding = consistency_finding(target)  # first: a bad assumption is a config error
            row = _reproduce_one(ard, target, trial.design, n_total)
        except TargetError as exc:  # every bad target is named in one run
            errors.append(str(exc))
            continue
        row["reason"] = finding.reason if finding else ""
        if finding and not finding.consistent:
            # the target's own assumptions cannot all hold: inconsistent, whatever the data
            # give; if the data do reproduce the printed figure, say with which values
            if row["status"] == "match":
                row["reason"] += (
                    f"; the data reproduce the printed {target.published} "
                    f"(reproduced {row['reproduced']} from "
                    f"{row['reproduced_value']}, n = {row['n'] or 'NA'}), "
                    "under other counts than the stated ones"
                )
            row["status"] = "inconsistent"
        rows.append({c: row.get(c, "") for c in REPRODUCTION_COLUMNS})
    if len(errors) == 1:
        raise TargetError(errors[0])
    if errors:
        raise TargetError(f"{len(errors)} targets cannot be reproduced:\n"
                          + "\n".join(f"- {e}" for e in errors))
    return rows


def _sum(values: Iterable[float]) -> float:
    """The sum of the non-missing values (0 when there are none)."""
    return math.fsum(v for v in values if not math.isnan(v))


def _extreme(values: Iterable[float], pick: Any) -> float:
    """min or max of the non-missing values, NaN when there are none."""
    return pick((v for v in values if not math.isnan(v)), default=math.nan)


def consistency_finding(target: Target) -> Finding | None:
    """The whole-number check of a target that states its assumptions: ``proportions``
    (with the test in ``method``) for a p, else ``denominator`` for a percentage; None for a
    target with neither."""
    try:
        if target.proportions:
            return check_proportions_p([(p.published, p.denominator)
                                        for p in target.proportions],
                                       test_of(target.method), target.published)
        if target.denominator is not None:
            return check_percentage(target.published, target.denominator)
    except ConsistencyError as exc:
        raise TargetError(f"target {target.id!r}: {exc}") from exc
    return None


NEEDS = {
    "age_range": ("baseline", "AGE", "an AGE column in the subjects dataset"),
    "max_dose": ("dose_exposure", "MAXDOSE", "exposure data (data.exposure)"),
    "ae_incidence_periods": ("ae_periods", None,
                             "adverse events and exposure data (data.adverse_events, "
                             "data.exposure)"),
}
"""Targets that rest on data a trial may not deliver: the analysis (and parameter) they
read, and what the data must have for it."""


def _reproduce_one(ard: Sequence[Row], target: Target, design: Design,
                   n_total: int) -> dict[str, Any]:
    tid, statistic, published = target.id, target.statistic, target.published
    out: dict[str, Any] = {"id": tid, "description": target.description,
                           "published": published, "n": "", "grim_sizes": "",
                           "grim_consistent": ""}
    if target.analysis:
        row = _lookup_row(ard, target, design)
        value, out["source"] = float(row["value"]), _source(row) + f" [{row['group']}]"
        n_rows = _select(ard, analysis=row["analysis"], parameter=row["parameter"],
                         visit=row["visit"], group=row["group"], method=row["method"],
                         statistic="n")
        if len(n_rows) == 1 and not math.isnan(float(n_rows[0]["value"])):
            out["n"] = int(n_rows[0]["value"])
        if math.isnan(value) and str(row["method"]).startswith("not collected"):
            # the trial does not deliver the column (ard.NOT_COLLECTED): nothing to compare
            return out | {"reproduced": row["method"], "reproduced_value": "",
                          "status": "mismatch"}
        if published.strip().lower() in QUALITATIVE:
            return out | _qualitative(value, published, target.alpha, out["source"])
        return out | _compare(value, published)
    if statistic in NEEDS:
        analysis, parameter, needs = NEEDS[statistic]
        rows = _select(ard, analysis=analysis)
        if parameter is not None:
            rows = _select(rows, parameter=parameter)
        if not rows and statistic == "ae_incidence_periods" and _select(ard, analysis="ae_rates"):
            # adverse events and exposure are there: what the trial lacks is periods
            needs = ("periods to compare (design.periods, a single-arm trial with more than "
                     "one); this trial's AE rates are compared between arms, analysis ae_rates")
        if not rows:
            return out | {"reproduced": f"not computed (needs {needs})",
                          "reproduced_value": "", "status": "mismatch",
                          "source": f"{analysis}/{parameter or ''} (absent)".replace("/ ", " ")}
    if statistic == "n_subjects":
        rows = _select(ard, analysis="enrolment", statistic="n_subjects")
        value = _sum(r["value"] for r in rows)
        out["source"] = "enrolment/n_subjects"
    elif statistic == "age_range":
        rows = _select(ard, analysis="baseline", parameter="AGE", group="Total")
        lo = _extreme((r["value"] for r in _select(rows, statistic="min")), min)
        hi = _extreme((r["value"] for r in _select(rows, statistic="max")), max)
        reproduced = f"{format_value(lo)}-{format_value(hi)}"
        match = RANGE.match(published)
        ok = bool(match) and (float(match.group(1)), float(match.group(2))) == (lo, hi)
        return out | {"reproduced": reproduced, "reproduced_value": reproduced,
                      "status": "match" if ok else "mismatch",
                      "source": "baseline/AGE/Total/min,max"}
    elif statistic == "ae_incidence_periods":
        return out | _reproduce_incidence(ard, target)
    elif statistic == "max_dose":
        row = _lookup(ard, {"analysis": "dose_exposure", "parameter": "MAXDOSE",
                            "group": "Total", "statistic": "max"}, tid)
        value, out["source"] = float(row["value"]), _source(row)
    else:
        if target.parameter not in design.parameters:
            raise TargetError(f"target {tid!r}: parameter {target.parameter!r} is not one of "
                              f"design.parameters ({', '.join(design.parameters)})")
        pcfg = design.parameters[target.parameter]
        if statistic == "mean":
            visitn = (pcfg.baseline_visit if target.visit == "baseline"
                      else pcfg.comparison_visit)
            if visitn is None:
                raise TargetError(f"target {tid!r}: parameter {target.parameter!r} has no "
                                  "baseline visit (design.parameters)")
            arm = {"group": target.group} if target.group else {}
            row = _lookup(ard, {"analysis": "by_visit", "parameter": target.parameter,
                                "visitn": float(visitn), "statistic": "mean"} | arm, tid)
            n_row = _lookup(ard, {"analysis": "by_visit", "parameter": target.parameter,
                                  "visitn": float(visitn), "statistic": "n"} | arm, tid)
            out["n"] = int(n_row["value"])
            if pcfg.integer and not BOUND.match(published):
                sizes = grim_sizes(published, n_total)
                out["grim_sizes"] = " ".join(str(s) for s in sizes)
                out["grim_consistent"] = "yes" if out["n"] in sizes else "no"
        else:  # p_value
            arm = {"group": target.group} if target.group else {}
            n_row = _lookup(ard, {"analysis": "paired", "parameter": target.parameter,
                                  "statistic": "n_pairs"} | arm, tid)
            out["n"] = int(n_row["value"])
            method = target.method
            where = {"analysis": "paired", "parameter": target.parameter,
                     "method_prefix": method, "statistic": "p_value"} | arm
            found = [r for r in _select(ard, analysis="paired", parameter=target.parameter,
                                        statistic="p_value", **arm)
                     if r["method"].startswith(method)]
            if not found:
                # The test was not computed (too few pairs, or constant changes): nothing
                # can match a published P, so the target is a mismatch that says why.
                return out | {
                    "reproduced": f"not computed ({method}: fewer than 2 pairs or no "
                                  "variation in the changes)",
                    "reproduced_value": "", "status": "mismatch",
                    "source": f"paired/{target.parameter}/{method}/p_value (absent)"}
            row = _lookup(ard, where, tid)
        value, out["source"] = float(row["value"]), _source(row)

    return out | _compare(value, published)


QUALITATIVE = {"no difference": False, "not met": False, "not significant": False,
               "difference": True, "met": True, "significant": True}
"""Published words for a test's outcome, and whether each says P < alpha."""


def _qualitative(p: float, published: str, alpha: float, source: str) -> dict[str, Any]:
    """A test's outcome as published in words (``not met``, ``no difference`` ...), for a
    target that addresses a p value: matched when P < alpha is what the words say. The
    rule is written into the row's ``source``."""
    word = published.strip().lower()
    says_significant = QUALITATIVE[word]
    found = p < alpha
    shown = "P < 0.001" if p < 0.001 else f"P = {round_half_up(p, 3)}"
    if says_significant == found:
        reproduced = f"{word} ({shown})"
    else:
        pairs = {"no difference": "difference", "not met": "met",
                 "not significant": "significant"}
        opposite = pairs.get(word) or {v: k for k, v in pairs.items()}[word]
        reproduced = f"{opposite} ({shown})"
    rule = (f"'{word}' when P {'<' if says_significant else '>='} {format_value(alpha)}")
    return {"reproduced": reproduced, "reproduced_value": format_value(p),
            "status": "match" if says_significant == found else "mismatch",
            "source": f"{source}; rule: {rule}"}


def _compare(value: float, published: str) -> dict[str, Any]:
    """The reproduced text at the published precision (or the bound), and the status."""
    out: dict[str, Any] = {"reproduced_value": format_value(value)}
    bound = BOUND.match(published)
    if bound and bound.group(1) == "=":  # "p = 0.0155": a value at its printed precision
        out["reproduced"] = round_half_up(value, decimals_of(bound.group(2)))
        ok = out["reproduced"] == bound.group(2)
        out["reproduced"] = (published.strip().split("=")[0].strip() + " = "
                             + out["reproduced"]).strip()
    elif bound:
        op, limit = bound.group(1), float(bound.group(2))
        ok = _satisfies(value, op, limit)
        prefix = published.strip().split(op)[0].strip()
        shown = round_half_up(value, max(decimals_of(bound.group(2)), 3))
        out["reproduced"] = (f"{prefix} {op} {bound.group(2)}" if ok
                             else f"{prefix} = {shown}").strip()
    elif published.strip().endswith("%"):  # a percentage: the value is in percent
        number = published.strip()[:-1].strip()
        out["reproduced"] = round_half_up(value, decimals_of(number)) + "%"
        ok = out["reproduced"] == number + "%"
    else:
        out["reproduced"] = round_half_up(value, decimals_of(published))
        ok = out["reproduced"] == published.strip()
    out["status"] = "match" if ok else "mismatch"
    return out


def _lookup_row(ard: Sequence[Row], target: Target, design: Design) -> Row:
    """The one ARD row a target with ``analysis`` addresses: its analysis, and where given
    its parameter, visit (``baseline``/``comparison`` of the parameter, a visit number or a
    visit name), group, method (a prefix of the row's method) and statistic."""
    rows = _narrow(ard, target, "analysis", target.analysis, "ard.csv",
                   lambda r: r["analysis"] == target.analysis)
    rows = _narrow(rows, target, "statistic", target.statistic,
                   f"analysis {target.analysis!r}",
                   lambda r: r["statistic"] == target.statistic)
    where = f"analysis {target.analysis!r}, statistic {target.statistic!r}"
    if target.parameter:
        rows = _narrow(rows, target, "parameter", target.parameter, where,
                       lambda r: r["parameter"] == target.parameter)
        where += f", parameter {target.parameter!r}"
    visit = target.visit
    if visit in ("baseline", "comparison") and target.parameter in design.parameters:
        p = design.parameters[target.parameter]
        visit = p.baseline_visit if visit == "baseline" else p.comparison_visit
    if visit is not None and (isinstance(visit, int) or str(visit).strip().isdigit()):
        rows = _narrow(rows, target, "visit", target.visit, where,
                       lambda r: r["visitn"] == float(visit))
    elif visit is not None:
        rows = _narrow(rows, target, "visit", target.visit, where,
                       lambda r: r["visit"] == str(visit))
    if target.visit is not None:
        where += f", visit {target.visit!r}"
    if target.group:
        rows = _narrow(rows, target, "group", target.group, where,
                       lambda r: r["group"] == target.group)
        where += f", group {target.group!r}"
    if target.method and not any(
            r["method"].startswith(target.method)
            or r["method"].startswith(ARD_METHODS.get(target.method, target.method))
            for r in rows):
        _narrow(rows, target, "method", target.method, where, lambda r: False)
    if target.method:
        # a method named in full wins over longer names it prefixes (chisq, chisq_yates)
        method = target.method
        if method in ARD_METHODS and not any(r["method"].startswith(method) for r in rows):
            method = ARD_METHODS[method]  # chisq -> chi_square_pearson ...
        exact = _select(rows, method=method)
        rows = exact if exact else [r for r in rows if r["method"].startswith(method)]
    if len(rows) != 1:
        shown = "; ".join(sorted({f"{r['parameter']}/{r['visit']}/{r['group']}/{r['method']}"
                                  for r in rows})[:6])
        raise TargetError(f"target {target.id!r}: expected one row of analysis "
                          f"{target.analysis!r} with statistic {target.statistic!r}"
                          + "".join(f", {k} {v!r}" for k, v in (
                              ("parameter", target.parameter), ("visit", target.visit),
                              ("group", target.group), ("method", target.method)) if v)
                          + f"; found {len(rows)}" + (f" ({shown}): add parameter, visit, "
                                                       "group or method to tell them apart"
                                                       if len(rows) else ""))
    return rows[0]


def _narrow(rows: Sequence[Row], target: Target, field: str, wanted: Any, where: str,
            keep: Any) -> list[Row]:
    """The rows ``keep`` accepts; none: a TargetError naming the target's field, its value,
    and the values that field has among ``rows`` (the rows the earlier fields select)."""
    kept = [r for r in rows if keep(r)]
    if kept or not rows:
        return kept
    column = "method" if field == "method" else field
    if field == "visit":
        values = sorted({f"{r['visit']} ({format_value(r['visitn'])})" for r in rows
                         if r["visit"]})
    else:
        values = sorted({str(r[column]) for r in rows if r[column] != ""})
    shown = ", ".join(values[:40]) + (f" ... ({len(values)} in all)"
                                       if len(values) > 40 else "")
    how = " (a prefix)" if field == "method" else ""
    raise TargetError(f"target {target.id!r}: {field} {wanted!r} is not in the rows of "
                      f"{where}; {field}{how} may be: {shown or '(none)'}")


def _reproduce_incidence(ard: Sequence[Row], target: Target) -> dict[str, Any]:
    """A qualitative target on AE incidence between periods: ``"no difference"`` matches
    when the period test (analysis ``ae_periods``, exact conditional Poisson test of events
    per subject-week) gives P >= alpha; ``"difference"`` when P < alpha. The rule is written
    into the row's ``source``."""
    alpha = target.alpha
    rows = _select(ard, analysis="ae_periods", statistic="p_value")
    if len(rows) != 1:
        raise TargetError(f"target {target.id!r}: the AE incidence test compares periods "
                          "(two or more in design.periods, with exposure data); expected "
                          "one period comparison "
                          f"(ae_periods p_value), found {len(rows)}")
    row = rows[0]
    p = float(row["value"])
    published = target.published.strip().lower()
    if published not in ("no difference", "difference"):
        raise TargetError(f"target {target.id!r}: published must be 'no difference' or "
                          f"'difference', not {target.published!r}")
    found = "no difference" if p >= alpha else "difference"
    shown = "P < 0.001" if p < 0.001 else f"P = {round_half_up(p, 3)}"
    ratio = [r["value"] for r in _select(ard, analysis="ae_periods", statistic="rate_ratio",
                                         group=row["group"])]
    ratio_text = f", rate ratio {round_half_up(float(ratio[0]), 2)}" if ratio else ""
    return {
        "reproduced": f"{found} ({row['group']}: {shown}{ratio_text})",
        "reproduced_value": format_value(p),
        "status": "match" if found == published else "mismatch",
        "source": (f"{_source(row)} [{row['group']}]; rule: 'no difference' when "
                   f"P >= {format_value(alpha)}"),
    }


def mismatch_message(table: pd.DataFrame | Sequence[Row], status: str = "mismatch") -> str:
    """The targets of ``status`` (``mismatch``: not reproduced; ``inconsistent``: no
    whole-number data could give them), one line each."""
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    bad = [r for r in rows if r["status"] == status]
    what = ("not reproduced" if status == "mismatch"
            else "that no whole-number data could give (inconsistent)")
    lines = [f"{len(bad)} published target(s) {what}:"]
    for r in bad:
        reason = f"; {r['reason']}" if r.get("reason", "") else ""
        lines.append(f"  {r['id']} ({r['description']}): published {r['published']}, "
                     f"reproduced {r['reproduced']} (from {r['source']}){reason}")
    return "\n".join(lines)
