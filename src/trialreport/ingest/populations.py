"""Columns a non-ADaM delivery lacks, completed from the trial's config on reading, each
with its line in ``ingested/selection.csv`` (records ``formed``) so the report says how:

- ``form_populations``: analysis-population flags (SAFFL, EFFFL, ...) declared under
  ``design.populations`` (every randomized subject, or a rule on other columns and on
  the baseline scores);
- ``fill_visit_names``: AVISIT from AVISITN through ``design.visits``;
- ``fill_parameter``: PARAMCD where the scores file has no parameter column and
  ``design.parameters`` names exactly one parameter.

A column the file does carry is never replaced: declaring it as well is an error, so that
one value has one source.
"""

from __future__ import annotations

import pandas as pd

from trialreport.common.config import Design, PopulationRule, Source
from trialreport.ingest.records import SELECTION_COLUMNS, _describe_where, _matches
from trialreport.ingest.source import ROW_COLUMN, InputFileError

FORMED = "formed"
"""The ``records`` value of a completed column's line in ``selection.csv``."""


def _lines(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def fill_visit_names(frame: pd.DataFrame, source: Source,
                     design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AVISIT from AVISITN where the file has AVISITN and no AVISIT. A number that is not
    in ``design.visits`` gets no name (the contract then names the number)."""
    if "AVISIT" in frame.columns or "AVISITN" not in frame.columns:
        return frame, _lines([])
    number = pd.to_numeric(frame["AVISITN"].astype("string").str.strip(), errors="coerce")
    names = design.visit_names
    visit = pd.Series([names.get(int(n)) if pd.notna(n) and float(n).is_integer() else None
                       for n in number], index=frame.index, dtype="string")
    out = frame.assign(AVISIT=visit)
    shown = ", ".join(f"{k} {v}" for k, v in names.items())
    return out, _lines([(source.dataset, source.path, FORMED,
                         f"AVISIT from AVISITN through design.visits ({shown})",
                         int(visit.notna().sum()))])


def fill_parameter(frame: pd.DataFrame, source: Source,
                   design: Design) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PARAMCD for every record where the file has none and ``design.parameters`` names
    exactly one parameter (a file of one scale)."""
    if "PARAMCD" in frame.columns or len(design.parameters) != 1:
        return frame, _lines([])
    [code] = design.parameters
    out = frame.assign(PARAMCD=pd.Series(code, index=frame.index, dtype="string"))
    return out, _lines([(source.dataset, source.path, FORMED,
                         f"PARAMCD = {code} on every record: the file has no parameter "
                         "column and design.parameters names one parameter", len(out))])


def form_populations(subjects: pd.DataFrame, scores: pd.DataFrame, design: Design,
                     subjects_file: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flags of ``design.populations``, Y or N per subject, added to ``subjects``;
    with a ``formed`` line per flag and value saying how."""
    rows, out = [], subjects
    if "USUBJID" not in subjects.columns:  # the contract names it; nothing to form on
        return out, _lines(rows)
    for flag, rule in design.populations.items():
        if flag in subjects.columns:
            raise InputFileError(subjects_file, f"{flag} is in the file and declared in "
                                 f"{rule.config_key}", cases=[{
                                     "rule": "population_declared_twice", "row": 1,
                                     "column": flag, "value": flag,
                                     "message": f"the subjects file has {flag} and the "
                                     f"config declares it too ({rule.config_key}); one "
                                     "flag, one source: remove the declaration to use "
                                     "the file's flag"}])
        member, words = _members(subjects, scores, design, rule, subjects_file)
        out = out.assign(**{flag: pd.Series(member.map({True: "Y", False: "N"}),
                                            index=out.index, dtype="string")})
        n_yes = int(member.sum())
        rows.append(("subjects", subjects_file, FORMED,
                     f"{flag} = Y: {words} (config {rule.config_key})", n_yes))
        rows.append(("subjects", subjects_file, FORMED,
                     f"{flag} = N: the other subjects", len(member) - n_yes))
    return out, _lines(rows)


def _members(subjects: pd.DataFrame, scores: pd.DataFrame, design: Design,
             rule: PopulationRule, subjects_file: str) -> tuple[pd.Series, str]:
    def refuse(column: str, value: str, message: str) -> None:
        raise InputFileError(subjects_file, message, cases=[{
            "rule": "population_rule", "row": 1, "column": column, "value": value,
            "message": message}])

    member = pd.Series(True, index=subjects.index)
    words = []
    if rule.randomized:
        if "TRT01P" not in subjects.columns:
            refuse("TRT01P", "TRT01P", f"{rule.config_key} counts randomized subjects, "
                   "those with an arm (TRT01P), but the subjects file has no TRT01P; map "
                   "the file's arm column in data.subjects.columns")
        arm = subjects["TRT01P"].astype("string").str.strip().replace({"": pd.NA})
        member &= arm.notna().to_numpy()
        words.append("randomized (an arm, TRT01P, not empty)")
    for column, values in rule.where.items():
        if column not in subjects.columns:
            present = ", ".join(str(c) for c in subjects.columns if c != ROW_COLUMN)
            refuse(column, column, f"{rule.config_key}.where names column {column!r}, "
                   f"which is not in the subjects file; columns: {present}")
        member &= _matches(subjects[column], values).to_numpy()
        words.append(_describe_where(column, values))
    for code in rule.has_baseline:
        parameter = design.parameters.get(code)
        if parameter is None or parameter.baseline_visit is None:
            why = ("is not a parameter of design.parameters" if parameter is None
                   else "has no baseline_visit (a rating of change has no baseline)")
            refuse(code, code, f"{rule.config_key}.has_baseline names {code!r}, which "
                   f"{why}; parameters with a baseline: "
                   f"{', '.join(design.baseline_visits) or 'none'}")
        have = _with_baseline(scores, code, parameter.baseline_visit)
        ids = subjects["USUBJID"].astype("string").str.strip()
        member &= ids.isin(have).fillna(False).to_numpy(dtype=bool)
        words.append(f"a baseline {code} (AVAL at visit {parameter.baseline_visit} or a "
                     "delivered BASE, in the records used)")
    return member.astype(bool), " and ".join(words) or "every subject"


def _with_baseline(scores: pd.DataFrame, code: str, visit: int) -> set[str]:
    """Subjects with a non-empty AVAL at the parameter's baseline visit, or a non-empty
    BASE on any of its records."""
    if "PARAMCD" not in scores.columns or "USUBJID" not in scores.columns:
        return set()
    rows = scores[scores["PARAMCD"].astype("string").str.strip() == code]

    def number(column: str) -> pd.Series:
        if column not in rows.columns:
            return pd.Series(float("nan"), index=rows.index)
        return pd.to_numeric(rows[column].astype("string").str.strip(), errors="coerce")

    at_baseline = (number("AVISITN") == visit) & number("AVAL").notna()
    has = at_baseline | number("BASE").notna()
    return set(rows.loc[has.fillna(False).astype(bool), "USUBJID"].astype("string")
               .str.strip().dropna())
