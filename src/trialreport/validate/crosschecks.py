"""Checks across datasets, and the records the pipeline completes by a stated rule.

Cross-dataset consistency (in the style of CDISC conformance rules; each a warning, or a
failure with ``validation: consistency: refuse``):

- ``ae_discontinuation_has_ae``: a subject discontinued for an adverse event (``DCSREAS``
  ADVERSE EVENT) has an adverse event with action ``AEACN = DRUG WITHDRAWN``; where the
  trial does not collect AEACN (absent, or empty for every event), at least an adverse
  event record.
- ``ae_onset_within_contact``: an adverse event does not start after the subject's last
  contact, the latest study day of its ratings (``ADY``) and dosing records (``EXSTDY``,
  ``EXENDY``); an onset on that day passes, one day later does not. Subjects with no such
  day are not checked.
- ``death_has_fatal_ae``: a subject whose reason for discontinuation is DEATH has an
  adverse event with outcome FATAL (``AEOUT``) or ``AESDTH = Y``; where the adverse events
  carry neither column, at least an adverse event record.
- ``exposure_within_treatment``: a dosing record does not end after the subject's own
  treatment end (``treatment_end_days``); a record ending on that day passes.

Records completed by a rule, each listed (severity ``note``) so that no count rests on
an assumption the user cannot see:

- ``open_exposure``: an exposure record with no end day (``EXENDY``) ends the day before
  the subject's next record starts, or on the subject's treatment end from the subjects
  data, whichever comes first. A record neither closes is counted to the last day of its
  period (``validation: open_exposure: flag``, the default) or refused (``refuse``).
- ``onset_missing_counted_emergent``: an adverse event with no onset day (``ASTDY``) and no
  delivered ``TRTEMFL`` is counted as treatment-emergent (the conservative reading, as
  ADaM imputes a partial onset date to the worst case).

Every finding is a row of the validate stage's failures/warnings table (``FAILURE_COLUMNS``):
the file and row of the record, the rule, the subject in ``value`` and the reason in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from trialreport.common.config import Period
from trialreport.ingest.source import ROW_COLUMN

FINDING_COLUMNS = ["dataset", "file", "row", "column", "rule", "value", "message", "severity"]
CONSISTENCY_RULES = ("ae_discontinuation_has_ae", "ae_onset_within_contact",
                     "death_has_fatal_ae", "exposure_within_treatment")
NOTE_RULES = ("open_exposure", "onset_missing_counted_emergent")
NOTE = "note"
DURATION_COLUMNS = ("TRTDURD", "TRTDUR")
SAS_EPOCH = pd.Timestamp("1960-01-01")


def _days(values: pd.Series) -> pd.Series:
    """Study days as floats (NaN where missing or not a number)."""
    text = values.astype("string").str.strip()
    return pd.to_numeric(text, errors="coerce").astype(float)


def _date_number(values: pd.Series) -> pd.Series:
    """Dates as days since 1960-01-01 (SAS date numbers): numbers are taken as SAS dates,
    text as ISO 8601 dates; NaN where neither."""
    number = _days(values)
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text.where(number.isna()), errors="coerce", format="ISO8601")
    from_text = (parsed - SAS_EPOCH).dt.days.astype(float)
    return number.where(number.notna(), from_text)


def treatment_end_days(subjects: pd.DataFrame, exposure: pd.DataFrame) -> pd.DataFrame:
    """Per subject with exposure records and a delivered treatment duration: the study day
    of its last dose, ``first EXSTDY + duration - 1``, the duration being ``TRTDURD`` (or
    ``TRTDUR``) in days, else ``TRTEDT - TRTSDT + 1`` (dates as ISO 8601 text or SAS date
    numbers). Columns USUBJID, end, source (the column(s) it comes from)."""
    columns = ["USUBJID", "end", "source"]
    if exposure.empty or "USUBJID" not in subjects.columns:
        return pd.DataFrame(columns=columns)
    duration, source = None, ""
    for name in DURATION_COLUMNS:
        if name in subjects.columns and _days(subjects[name]).notna().any():
            duration, source = _days(subjects[name]), name
            break
    if duration is None and {"TRTSDT", "TRTEDT"} <= set(subjects.columns):
        duration = _date_number(subjects["TRTEDT"]) - _date_number(subjects["TRTSDT"]) + 1
        source = "TRTEDT - TRTSDT + 1"
    if duration is None:
        return pd.DataFrame(columns=columns)
    first = _days(exposure["EXSTDY"]).groupby(exposure["USUBJID"].astype(object)).min()
    ids = subjects["USUBJID"].astype(object)
    end = ids.map(first).astype(float) + duration.to_numpy() - 1
    out = pd.DataFrame({"USUBJID": ids, "end": end, "source": source})
    # a subject listed twice is a unique_key failure already; its first row is used here
    out = out[out["end"].notna()].drop_duplicates("USUBJID")
    return out.reset_index(drop=True)


def _finding(dataset: str, file: str, row: object, column: str, rule: str, value: str,
             message: str, severity: str) -> dict[str, object]:
    return {"dataset": dataset, "file": file, "row": row, "column": column, "rule": rule,
            "value": value, "message": message, "severity": severity}


def _show(day: float) -> str:
    return str(int(day)) if isinstance(day, float) and day.is_integer() else str(day)


def close_open_exposure(exposure: pd.DataFrame, subjects: pd.DataFrame,
                        periods: Sequence[Period], mode: str, file: str,
                        subjects_file: str) -> tuple[pd.DataFrame, list[dict[str, object]]]:
    """Close the open exposure records the data can close (see the module's docstring);
    returns the exposure with those EXENDY filled, and one finding per open record (a note
    where closed or counted to its period's end; an error with ``mode == "refuse"`` where
    the data cannot close it)."""
    if exposure.empty or "EXENDY" not in exposure.columns:
        return exposure, []
    start = _days(exposure["EXSTDY"])
    end = _days(exposure["EXENDY"])
    open_rows = exposure.index[end.isna() & start.notna()]
    if not len(open_rows):
        return exposure, []
    ends = treatment_end_days(subjects, exposure).set_index("USUBJID")
    last_day = {p.name: p.last_day for p in periods if math.isfinite(p.last_day)}
    subject = exposure["USUBJID"].astype(object)
    # the next start of the same subject after each record's start (one sort, no search)
    order = pd.DataFrame({"s": subject, "d": start}).dropna().sort_values(["s", "d"])
    order = order.drop_duplicates()
    order["next"] = order.groupby("s")["d"].shift(-1)
    next_start = pd.Series(order["next"].to_numpy(),
                           index=pd.MultiIndex.from_frame(order[["s", "d"]]))
    out = exposure.copy()
    findings = []
    for index in open_rows:
        usubjid, first = subject[index], start[index]
        later = next_start.get((usubjid, first), np.nan)
        candidates = []
        if not np.isnan(later):
            candidates.append((later - 1, f"the day before the subject's next dosing "
                                          f"record starts (day {_show(later)})"))
        if usubjid in ends.index:
            te = float(ends.loc[usubjid, "end"])
            candidates.append((te, f"the subject's last dose day ({ends.loc[usubjid, 'source']} "
                                   f"in {subjects_file})"))
        value = f"USUBJID={usubjid}; EXSTDY={_show(first)}; EXENDY="
        row = exposure.at[index, ROW_COLUMN] if ROW_COLUMN in exposure.columns else ""
        unclosed = "the data give no treatment end for the subject"
        if candidates:
            day, why = min(candidates, key=lambda c: c[0])
            unclosed = f"it starts after {why}, day {_show(day)}"
            if day >= first:
                out.at[index, "EXENDY"] = int(day)
                findings.append(_finding(
                    "exposure", file, row, "EXENDY", "open_exposure", value,
                    f"no end day: closed at day {_show(day)}, {why}", NOTE))
                continue
        phase = out.at[index, "APHASE"] if "APHASE" in out.columns else None
        period_end = last_day.get(phase) if isinstance(phase, str) else None
        if mode == "refuse":
            findings.append(_finding(
                "exposure", file, row, "EXENDY", "open_exposure", value,
                f"no end day, and {unclosed}; neither a later record of the subject nor its "
                f"treatment end (TRTDURD, TRTDUR, or TRTSDT and TRTEDT in {subjects_file}) "
                "closes it within the subject's treatment; deliver EXENDY or the treatment "
                "end, or set "
                "validation: open_exposure: flag to count it to the last day of its period",
                "error"))
        elif period_end is not None:
            findings.append(_finding(
                "exposure", file, row, "EXENDY", "open_exposure", value,
                f"no end day, and {unclosed}: counted to "
                f"day {_show(float(period_end))}, the last day of period {phase} (deliver "
                "EXENDY or TRTDURD; validation: open_exposure: refuse refuses such records)",
                NOTE))
        else:
            findings.append(_finding(
                "exposure", file, row, "EXENDY", "open_exposure", value,
                "no end day, and neither the data nor the config (design.study_days) give "
                "one: its days on dose are not collected", NOTE))
    return out, findings


def onset_missing_notes(adverse_events: pd.DataFrame, file: str, has_exposure: bool,
                        subjects: pd.DataFrame | None = None) -> list[dict[str, object]]:
    """One note per adverse event counted as treatment-emergent only because its onset
    day is missing (no ASTDY, no delivered TRTEMFL), of the safety population (SAFFL = Y in
    ``subjects``, where given): the events of other subjects are not counted at all."""
    if adverse_events.empty or "ASTDY" not in adverse_events.columns or not has_exposure:
        return []
    no_day = _days(adverse_events["ASTDY"]).isna()
    if "TRTEMFL" in adverse_events.columns:
        no_day &= adverse_events["TRTEMFL"].astype("string").isna().to_numpy()
    if subjects is not None and "SAFFL" in subjects.columns:
        safe = set(subjects.loc[subjects["SAFFL"] == "Y", "USUBJID"].astype(object))
        no_day &= adverse_events["USUBJID"].astype(object).isin(safe).to_numpy()
    out = []
    for index in adverse_events.index[no_day]:
        ae = adverse_events.loc[index]
        out.append(_finding(
            "adverse_events", file, ae.get(ROW_COLUMN, ""), "ASTDY",
            "onset_missing_counted_emergent",
            f"USUBJID={ae['USUBJID']}; AEDECOD={ae.get('AEDECOD', '')}; ASTDY=",
            "no onset day and no TRTEMFL: counted as treatment-emergent (the conservative "
            "reading); deliver ASTDY or TRTEMFL to decide", NOTE))
    return out


def missing_value_notes(adverse_events: pd.DataFrame, file: str,
                        subjects: pd.DataFrame | None = None) -> list[dict[str, object]]:
    """One note per adverse event of the safety population (SAFFL = Y in ``subjects``,
    where given; events flagged TRTEMFL = N aside) that a count reads by a convention
    because a value is missing: an empty ``AEREL`` counts as related (the conservative
    convention of the relationship rows), and an empty ``AEACN``, where other events have
    one, counts as not leading to discontinuation. (Where no event has an AEACN the row is
    "not collected" instead, and no event is listed.)"""
    if adverse_events.empty:
        return []
    keep = pd.Series(True, index=adverse_events.index)
    if "TRTEMFL" in adverse_events.columns:
        keep &= _text(adverse_events, "TRTEMFL").fillna("") != "N"
    if subjects is not None and "SAFFL" in subjects.columns:
        safe = set(subjects.loc[subjects["SAFFL"] == "Y", "USUBJID"].astype(object))
        keep &= adverse_events["USUBJID"].astype(object).isin(safe)
    rules = []
    if "AEREL" in adverse_events.columns:
        rules.append(("AEREL", "aerel_missing_counted_related",
                      "no AEREL: counted as related to study drug (the conservative "
                      "convention); deliver AEREL to decide"))
    if aeacn_collected(adverse_events):
        rules.append(("AEACN", "aeacn_missing_counted_not_withdrawn",
                      "no AEACN while other events have one: counted as not leading to "
                      "discontinuation; deliver AEACN to decide"))
    out = []
    for column, rule, message in rules:
        empty = _text(adverse_events, column).fillna("") == ""
        for index in adverse_events.index[(keep & empty).to_numpy()]:
            ae = adverse_events.loc[index]
            out.append(_finding(
                "adverse_events", file, ae.get(ROW_COLUMN, ""), column, rule,
                f"USUBJID={ae['USUBJID']}; AEDECOD={ae.get('AEDECOD', '')}; {column}=",
                message, NOTE))
    return out


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().str.upper()


def aeacn_collected(adverse_events: pd.DataFrame) -> bool:
    """Whether the trial collects the action taken with study drug: an AEACN column with a
    value in at least one event."""
    if "AEACN" not in adverse_events.columns:
        return False
    text = adverse_events["AEACN"].astype("string").str.strip()
    return bool((text.notna() & (text != "")).any())


def last_contact_days(scores: pd.DataFrame, exposure: pd.DataFrame) -> pd.Series:
    """Per subject, the latest study day of its ratings (ADY) and dosing records."""
    parts = []
    for frame, columns in ((scores, ("ADY",)), (exposure, ("EXSTDY", "EXENDY"))):
        for column in columns:
            if column in frame.columns and len(frame):
                parts.append(pd.DataFrame({"USUBJID": frame["USUBJID"].astype(object),
                                           "day": _days(frame[column])}))
    if not parts:
        return pd.Series(dtype=float)
    days = pd.concat(parts, ignore_index=True).dropna()
    return days.groupby("USUBJID")["day"].max()


def consistency_findings(subjects: pd.DataFrame, adverse_events: pd.DataFrame,
                         exposure: pd.DataFrame, scores: pd.DataFrame,
                         files: Mapping[str, str], severity: str,
                         delivered: Mapping[str, bool]) -> list[dict[str, object]]:
    """The cross-dataset checks of the module's docstring, each failing record a finding of
    ``severity`` ("warning" or "error"). ``delivered`` says which datasets the trial
    delivers; a check that needs an undelivered dataset is not run."""
    out: list[dict[str, object]] = []
    how = ("; set validation: consistency: warn to report this without refusing the data"
           if severity == "error" else "")
    ae = adverse_events
    ae_ids = ae["USUBJID"].astype(object) if len(ae) else pd.Series(dtype=object)
    reason = _text(subjects, "DCSREAS")
    status = _text(subjects, "EOSSTAT")
    row_of = (subjects[ROW_COLUMN] if ROW_COLUMN in subjects.columns
              else pd.Series("", index=subjects.index))
    if delivered.get("adverse_events"):
        withdrawn = set(ae_ids[_text(ae, "AEACN") == "DRUG WITHDRAWN"])
        collected = aeacn_collected(ae)
        with_ae = set(ae_ids)
        disc = (reason == "ADVERSE EVENT") & status.ne("COMPLETED").fillna(True)
        for index in subjects.index[disc.fillna(False).to_numpy(dtype=bool)]:
            usubjid = subjects.at[index, "USUBJID"]
            if collected and usubjid in withdrawn:
                continue
            if not collected and usubjid in with_ae:
                continue
            if collected:
                what = ("no adverse event with action DRUG WITHDRAWN (AEACN)"
                        + ("" if usubjid in with_ae else ", nor any adverse event record"))
            else:
                what = ("no adverse event record (AEACN is not collected, so only the "
                        "presence of an event is checked)")
            out.append(_finding(
                "subjects", files["subjects"], row_of[index], "DCSREAS",
                "ae_discontinuation_has_ae", f"USUBJID={usubjid}; DCSREAS=ADVERSE EVENT",
                f"discontinued for an adverse event, but {files['adverse_events']} has "
                f"{what} for the subject{how}", severity))
        fatal_cols = [c for c in ("AEOUT", "AESDTH") if c in ae.columns]
        fatal = set(ae_ids[(_text(ae, "AEOUT") == "FATAL").fillna(False).to_numpy(bool)
                           | (_text(ae, "AESDTH") == "Y").fillna(False).to_numpy(bool)])
        for index in subjects.index[(reason == "DEATH").fillna(False).to_numpy(dtype=bool)]:
            usubjid = subjects.at[index, "USUBJID"]
            ok = usubjid in fatal if fatal_cols else usubjid in with_ae
            if ok:
                continue
            what = ("no adverse event with outcome FATAL (AEOUT) or AESDTH = Y" if fatal_cols
                    else "no adverse event record (it has no AEOUT or AESDTH column, so "
                         "only the presence of an event is checked)")
            out.append(_finding(
                "subjects", files["subjects"], row_of[index], "DCSREAS", "death_has_fatal_ae",
                f"USUBJID={usubjid}; DCSREAS=DEATH",
                f"died, but {files['adverse_events']} has {what} for the subject{how}",
                severity))
        contact = last_contact_days(scores, exposure)
        if len(ae) and "ASTDY" in ae.columns and len(contact):
            onset = _days(ae["ASTDY"])
            last = ae_ids.map(contact).astype(float)
            late = (onset > last).fillna(False).to_numpy(dtype=bool)
            for index in ae.index[late]:
                usubjid = ae.at[index, "USUBJID"]
                out.append(_finding(
                    "adverse_events", files["adverse_events"],
                    ae.at[index, ROW_COLUMN] if ROW_COLUMN in ae.columns else "", "ASTDY",
                    "ae_onset_within_contact",
                    f"USUBJID={usubjid}; ASTDY={_show(onset[index])}",
                    f"onset on day {_show(onset[index])}, after the subject's last contact "
                    f"(day {_show(last[index])}, its latest rating or dosing day){how}",
                    severity))
    if delivered.get("exposure") and len(exposure):
        ends = treatment_end_days(subjects, exposure).set_index("USUBJID")
        if len(ends):
            subject = exposure["USUBJID"].astype(object)
            te = subject.map(ends["end"]).astype(float)
            end = _days(exposure["EXENDY"])
            past = (end > te).fillna(False).to_numpy(dtype=bool)
            for index in exposure.index[past]:
                usubjid = subject[index]
                out.append(_finding(
                    "exposure", files["exposure"],
                    exposure.at[index, ROW_COLUMN] if ROW_COLUMN in exposure.columns else "",
                    "EXENDY", "exposure_within_treatment",
                    f"USUBJID={usubjid}; EXENDY={_show(end[index])}",
                    f"dosing ends on day {_show(end[index])}, after the subject's last dose "
                    f"day {_show(te[index])} ({ends.loc[usubjid, 'source']} in "
                    f"{files['subjects']}){how}", severity))
    return out


def findings_frame(findings: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    frame["row"] = frame["row"].map(
        lambda r: "" if r is None or r is pd.NA or not str(r).strip()
        or (isinstance(r, float) and np.isnan(r)) else int(r))
    return frame
