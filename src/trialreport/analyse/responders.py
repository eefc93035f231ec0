"""Responders: the config's responder rule applied to each subject's rating
(``responder_flags``, with the rule in words by ``rule_text``), and the within-arm responder
rows of the ARD (``responders``: n, n_responders, proportion and Clopper-Pearson CI per
visit; ``responders_paired``: exact McNemar, baseline against the comparison visit)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analyse.ard import ArdBuilder
from trialreport.common.config import (
    Parameter,
    ResponderRule,
)
from trialreport.common.formatting import format_value
from trialreport.stats.paired import mcnemar_exact
from trialreport.stats.proportions import clopper_pearson

OPERATORS = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater,
             "==": np.equal}


def _rule(rule: ResponderRule | Mapping[str, Any]) -> ResponderRule:
    if isinstance(rule, ResponderRule):
        return rule
    from trialreport.common.config import responder_rule

    return responder_rule(rule)


def rule_text(rule: ResponderRule | Mapping[str, Any]) -> str:
    """A responder rule as text, e.g. ``AVAL <= 2``."""
    rule = _rule(rule)
    if rule.operator == "in":
        values = ", ".join(format_value(float(v)) for v in rule.values)
        return f"{rule.variable} in {{{values}}}"
    return f"{rule.variable} {rule.operator} {format_value(float(rule.threshold))}"


def responder_flags(scores: pd.DataFrame, rule: ResponderRule | Mapping[str, Any],
                    baseline_visit: int) -> pd.Series:
    """1.0/0.0 per record by the config's rule on AVAL, CHG or PCHG; NaN where not
    evaluable.

    For a rule on CHG the change is AVAL - BASE after the baseline visit; at and before
    the baseline visit it is not evaluable (NaN): there is no baseline responder status.
    PCHG is the percent change, 100 * CHG / BASE (as
    ``trialreport.derive.derivations.derive_var_pchg``), not
    evaluable where BASE is 0. Operator ``in``: the value is one of the rule's values."""
    rule = _rule(rule)
    if rule.variable == "AVAL":
        x = scores["AVAL"].astype(float)
    elif rule.variable in ("CHG", "PCHG"):
        base = scores["BASE"].astype(float)
        x = scores["AVAL"].astype(float) - base
        if rule.variable == "PCHG":
            x = (x * 100.0 / base).where(base != 0)
        x = x.where(scores["AVISITN"] > baseline_visit)
    else:
        raise ValueError(f"responder rule variable must be AVAL, CHG or PCHG, not "
                         f"{rule.variable}")
    values = x.to_numpy(float, na_value=math.nan)
    if rule.operator == "in":
        hit = np.isin(values, np.asarray(rule.values, dtype=float))
    else:
        hit = OPERATORS[rule.operator](values, float(rule.threshold))
    flags = pd.Series(hit, index=scores.index).astype(float)
    return flags.where(x.notna())


def add_responders(ard: ArdBuilder, scores: pd.DataFrame, paramcd: str,
                    pcfg: Parameter, rule: ResponderRule, arm: str,
                    visit_names: Mapping[int, str], confidence: float) -> None:
    base_n, comp_n = pcfg.baseline_visit, pcfg.comparison_visit
    text = rule_text(rule)
    flagged = scores.assign(RESP=responder_flags(scores, rule, base_n))
    for visitn, at_visit in flagged.groupby("AVISITN", sort=True):
        r = at_visit["RESP"].dropna()
        if r.empty:
            continue
        cp = clopper_pearson(int(r.sum()), int(r.size), confidence)
        ard.add_many("responders", {"n": cp["n"], "n_responders": cp["k"],
                                    "proportion": cp["proportion"], "ci_low": cp["ci_low"],
                                    "ci_high": cp["ci_high"]},
                     method="clopper_pearson", parameter=paramcd,
                     visit=visit_names.get(int(visitn), str(visitn)), visitn=float(visitn),
                     group=arm, analysis_set=f"observed at visit; responder: {text}")
    if rule.variable != "AVAL" or base_n is None:
        # A rule on the change from baseline has no responder status at baseline (the
        # change is not defined there), so baseline against comparison is no comparison:
        # McNemar would test only improvement and could not fail in the other direction.
        return
    wide = flagged.pivot_table(index="USUBJID", columns="AVISITN", values="RESP",
                               aggfunc="first", dropna=False)
    wide = wide.reindex(columns=sorted(set(wide.columns) | {base_n, comp_n}))
    # Two-sided whatever the paired tests' sidedness: whether a lower score means more
    # responders depends on the rule, so a one-sided alternative would be ambiguous here.
    mc = mcnemar_exact(wide[base_n].to_numpy(float), wide[comp_n].to_numpy(float))
    ard.add_many("responders_paired", mc, method="mcnemar_exact_two_sided", parameter=paramcd,
                 visit=visit_names.get(comp_n, str(comp_n)), visitn=float(comp_n), group=arm,
                 analysis_set=f"complete pairs: {visit_names.get(base_n)} and "
                              f"{visit_names.get(comp_n)} (observed case); responder: {text}")
