"""Words of the display tables: coded values as words (``as_words``, with the config's
``tables.labels``), what a parameter's value at its baseline visit is (``baseline_label``)
and the demographics population in words (``population_words``). Text only: nothing here
reads the ARD."""

from __future__ import annotations

from collections.abc import Mapping

from trialreport.common.config import Trial


def as_words(value: str, labels: Mapping[str, str] | None = None) -> str:
    """A coded value in words: its label in ``labels`` (config ``tables.labels.<column>``),
    else, for a code written in capitals (``LACK OF EFFICACY``), sentence case (``Lack of
    efficacy``); anything else (mixed case, numbers, Missing) as it is."""
    if labels and value in labels:
        return labels[value]
    if any(c.isalpha() for c in value) and value == value.upper():
        return value[:1].upper() + value[1:].lower()
    return value


CT_LABELS = {
    "RACE": {"AMERICAN INDIAN OR ALASKA NATIVE": "American Indian or Alaska Native",
             "BLACK OR AFRICAN AMERICAN": "Black or African American",
             "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER":
                 "Native Hawaiian or Other Pacific Islander"},
    "ETHNIC": {"HISPANIC OR LATINO": "Hispanic or Latino",
               "NOT HISPANIC OR LATINO": "Not Hispanic or Latino"},
}
"""CDISC controlled terms whose words keep proper names in capitals (sentence case would
print "Black or african american")."""


def level_labels(trial: Trial, column: str,
                 defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """Words for the codes of a subject column: the CDISC terms of ``CT_LABELS``,
    ``defaults`` (e.g. SEX), then the config's ``tables.labels.<column>`` over them."""
    return {**CT_LABELS.get(column, {}), **(defaults or {}),
            **trial.tables.labels.get(column, {})}


def baseline_label(trial: Trial, code: str) -> str:
    """What a parameter's value at its baseline visit is: ``"<label> at baseline"`` for a
    rating of a state at the trial's first visit; otherwise the visit named, and, where the
    rating is of change (``rates_change``) or the visit is not the first, ``(baseline of the
    change)``: the week-1 CGI-I of a trial with a placebo week is a rating of change after
    that week, the baseline of the change analysed, not a baseline state."""
    design = trial.design
    if code not in design.parameters:
        return f"{code} at baseline"
    p = design.parameters[code]
    first = min(v.number for v in design.visits)
    if p.baseline_visit is None or (p.baseline_visit == first and not p.rates_change):
        return f"{p.label} at baseline"
    return f"{p.label} at {design.visit_name(p.baseline_visit)} (baseline of the change)"


def population_words(population: str, single_arm: bool = False) -> str:
    """The demographics population (config ``tables.demographics_population``) in words;
    in a single-arm trial nobody is randomized, and ``randomized`` is every subject given
    the arm."""
    if population == "randomized":
        return ("all enrolled subjects (single arm, none randomized)" if single_arm
                else "all randomized subjects")
    return {"safety": "safety population (SAFFL = Y)",
            "enrolled": "all enrolled subjects"}.get(population,
                                                     f"subjects with {population} = Y")
