"""Taking sponsor data as delivered: which records are used, where subject-level copies
come from, and which period a record belongs to.

Real ADaM is not one row per key: a BDS dataset holds observed and derived records (DTYPE)
and flags the ones to analyse (ANLzzFL); ADSL variables are repeated in every dataset; a
parallel-group trial has no period column. These functions, each frame in and frame out,
make such data fit the contracts without editing a value:

- ``select_records``: the config's ``where`` (e.g. ``ANL01FL = Y``) and, for BDS data, the
  derived records other than LOCF, set aside and counted;
- ``subject_copy_failures``: copies of subject-level variables checked against the
  subjects dataset (rule ``matches_subjects``), then dropped so they never collide;
- ``derive_period``: APHASE from the study day where the data have none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialreport.common.config import LOCF_DTYPE, Period, Source
from trialreport.ingest.source import ROW_COLUMN, InputFileError

SELECTION_COLUMNS = ["dataset", "file", "records", "criterion", "n"]
MATCHES_SUBJECTS = "matches_subjects"


def _parts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values as (text, number): text stripped with empty as missing, and the number the
    text spells (NaN if none), so that ``"14"``, ``"14.0"`` and 14.0 compare equal."""
    text = values.astype("string").str.strip().replace({"": pd.NA})
    number = pd.to_numeric(text, errors="coerce").astype(float)
    return text, number


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Elementwise: both empty, or equal numbers, or (neither a number) equal text."""
    (ta, na), (tb, nb) = _parts(a), _parts(b)
    numbers = (na == nb).to_numpy(dtype=bool)
    texts = (na.isna().to_numpy() & nb.isna().to_numpy()
             & (ta == tb).fillna(False).to_numpy(dtype=bool))
    empty = ta.isna().to_numpy() & tb.isna().to_numpy()
    return pd.Series(numbers | texts | empty, index=a.index)


SAS_EPOCH = pd.Timestamp("1960-01-01")
"""Day 0 of SAS dates (days) and datetimes (seconds), as XPT files hold them."""

_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?")


def date_kind(column: str) -> str | None:
    """``date``, ``datetime`` or ``time`` for a column named as ADaM names them (``*DT``,
    ``*DTM``, ``*TM``: numbers in SAS files, ISO 8601 text elsewhere); None otherwise."""
    if column.endswith("DTM"):
        return "datetime"
    if column.endswith("DT"):
        return "date"
    if column.endswith("TM"):
        return "time"
    return None


def _iso(value: object, kind: str) -> object:
    """One value as ISO 8601 text of its kind (a SAS number or ISO text, dates of a
    datetime as their date); missing stays missing; text that is neither stays as it is,
    so that it differs from a real date."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return pd.NA
    text = str(value).strip()
    if not text:
        return pd.NA
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None and abs(number) < 1e11:  # beyond: no date (and not finite)
        if kind == "date":
            return (SAS_EPOCH + pd.Timedelta(days=number)).strftime("%Y-%m-%d")
        if kind == "datetime":
            return (SAS_EPOCH + pd.Timedelta(seconds=number)).isoformat()
        return (pd.Timestamp(0) + pd.Timedelta(seconds=number)).strftime("%H:%M:%S")
    if kind == "time":
        match = re.fullmatch(r"(\d{2}:\d{2})(?::(\d{2}))?", text)
        return f"{match[1]}:{match[2] or '00'}" if match else text
    match = _ISO.fullmatch(text)
    if match is None:
        return text
    if kind == "date" or match[2] is None:
        return match[1] if kind == "date" else f"{match[1]}T00:00:00"
    try:
        return pd.Timestamp(f"{match[1]}T{match[2]}").isoformat()
    except ValueError:
        return text


def as_dates(values: pd.Series, kind: str) -> pd.Series:
    """``values`` as ISO 8601 text (``_iso``), whatever the file held."""
    return pd.Series([_iso(v, kind) for v in values], index=values.index, dtype="string")


def _same_text(a: pd.Series, b: pd.Series) -> pd.Series:
    """Elementwise: both empty, or the same text (stripped)."""
    ta = a.astype("string").str.strip().replace({"": pd.NA})
    tb = b.astype("string").str.strip().replace({"": pd.NA})
    return ((ta == tb).fillna(False) | (ta.isna() & tb.isna())).astype(bool)


def _matches(cells: pd.Series, values: Sequence[Any]) -> pd.Series:
    """Whether each cell is one of the config's ``values`` (None or "": an empty cell). A
    number in the config matches by value (``1`` matches ``"1"`` and ``1.0``); text
    matches as text (``"0701"`` matches only ``"0701"``)."""
    ok = pd.Series(False, index=cells.index)
    text = cells.astype("string").str.strip().replace({"": pd.NA})
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            ok |= text.isna()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ok |= (pd.to_numeric(text, errors="coerce") == float(value)).fillna(False)
        else:
            ok |= (text == str(value).strip()).fillna(False)
    return ok.astype(bool)


def _describe_where(column: str, values: Sequence[Any]) -> str:
    shown = ["(empty)" if v is None or (isinstance(v, str) and not v.strip()) else str(v)
             for v in values]
    return f"{column} = {shown[0]}" if len(shown) == 1 else f"{column} in {', '.join(shown)}"


def select_records(frame: pd.DataFrame, source: Source,
                   derived_records: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The records to use, and a count of every record read, set aside and used.

    A row is kept when it satisfies every condition of ``source.where`` (values compared
    as text, numbers by value, e.g. ``1`` matches ``"1"`` and ``1.0``). With
    ``derived_records`` (BDS datasets), a row with a DTYPE other than LOCF (WOCF, AVERAGE,
    ...) is set aside as well: observed records (no DTYPE) and the sponsor's LOCF records
    go on. Returns the kept rows (row numbers ``SRCROW`` unchanged) and the counts, columns
    ``SELECTION_COLUMNS``. A ``where`` column that is not in the file raises
    ``InputFileError`` (rule ``where_column``) naming the config key.
    """
    missing = [c for c in source.where if c not in frame.columns]
    if missing:
        present = ", ".join(str(c) for c in frame.columns if c != ROW_COLUMN)
        raise InputFileError(source.path, "record selection names column(s) not in the file",
                             cases=[{"rule": "where_column", "row": 1, "column": c, "value": c,
                                     "message": f"{source.config_key}.where names column "
                                     f"{c!r}, which is not in the file (after the column "
                                     f"map); columns: {present}"} for c in missing])
    counts = [(source.dataset, source.path, "read", "all records in the file", len(frame))]
    keep = pd.Series(True, index=frame.index)
    for column, values in source.where.items():
        ok = _matches(frame[column], values)
        n_out = int((keep & ~ok).sum())
        counts.append((source.dataset, source.path, "set aside",
                       f"not {_describe_where(column, values)} (config "
                       f"{source.config_key}.where)", n_out))
        keep &= ok
    if not keep.any() and source.where:
        present = "; ".join(
            f"{c}: " + ", ".join(map(str, frame[c].dropna().astype(str).str.strip()
                                     .drop_duplicates().sort_values().head(8)))
            for c in source.where)
        raise InputFileError(source.path, "record selection keeps no record", cases=[{
            "rule": "where_selects_nothing", "row": 1, "column": "+".join(source.where),
            "value": "; ".join(_describe_where(c, v) for c, v in source.where.items()),
            "message": f"{source.config_key}.where keeps none of the {len(frame)} records "
                       f"(values are compared exactly, case included); values in the file: "
                       f"{present}"}])
    if derived_records and "DTYPE" in frame.columns:
        dtype = frame["DTYPE"].astype("string").str.strip().str.upper().replace({"": pd.NA})
        frame = frame.assign(DTYPE=dtype)  # DTYPE values in one spelling (LOCF)
        other = dtype.notna() & (dtype != LOCF_DTYPE)
        for value in sorted(dtype[keep & other].dropna().unique()):
            n_out = int((keep & (dtype == value)).sum())
            counts.append((source.dataset, source.path, "set aside",
                           f"DTYPE = {value} (derived records other than LOCF)", n_out))
        keep &= ~other.fillna(False).astype(bool)
        n_locf = int((keep & (dtype == LOCF_DTYPE).fillna(False)).sum())
        counts.append((source.dataset, source.path, "used", "observed records (DTYPE empty)",
                       int(keep.sum()) - n_locf))
        if n_locf:
            counts.append((source.dataset, source.path, "used",
                           "sponsor's LOCF records (DTYPE = LOCF)", n_locf))
    else:
        counts.append((source.dataset, source.path, "used", "records used", int(keep.sum())))
    table = pd.DataFrame(counts, columns=SELECTION_COLUMNS)
    return frame[keep.to_numpy()].reset_index(drop=True), table


def subject_copy_failures(frame: pd.DataFrame, subjects: pd.DataFrame, dataset: str,
                          file: str, subjects_file: str,
                          own_columns: Sequence[str]) -> tuple[list[str], pd.DataFrame]:
    """Subject-level variables repeated in another dataset, and where they disagree.

    A copy is a column of ``frame`` that the subjects dataset also has (USUBJID aside) and
    that is not one of ``own_columns`` (the dataset's contract). ADaM repeats ADSL variables
    in every dataset; the subjects dataset is their source, so each copy must equal it, row
    by row (rule ``matches_subjects``; both empty is equal; numbers are compared by value).
    Rows of a subject not in the subjects dataset are left to ``subject_in_subjects``.
    Numbers are compared by value only where one side is a numeric column (an XPT
    number against text "63" agrees); text against text is compared as text. Dates,
    datetimes and times (columns named ``*DT``, ``*DTM``, ``*TM``, as ADaM names them) are
    compared as what they mean: a SAS date or datetime number (days or seconds from
    1960-01-01, as XPT holds them) and ISO 8601 text (as CSV and Dataset-JSON hold them)
    agree when they are the same day; a datetime's date in a ``*DT`` column is that day.
    Returns the copy columns and the failures (columns of
    ``trialreport.validate.contracts.FAILURE_COLUMNS``).
    """
    from trialreport.validate.contracts import FAILURE_COLUMNS

    copies = [c for c in frame.columns if c in subjects.columns
              and c not in ("USUBJID", ROW_COLUMN) and c not in own_columns]
    rows = []
    if not copies or "USUBJID" not in frame.columns or "USUBJID" not in subjects.columns:
        return copies, pd.DataFrame(rows, columns=FAILURE_COLUMNS)
    subject_ids = subjects["USUBJID"].astype("string").str.strip()
    first = ~subject_ids.duplicated()
    ids = frame["USUBJID"].astype("string").str.strip()
    known = ids.isin(set(subject_ids[first].dropna())).fillna(False).astype(bool)
    for column in copies:
        truth = pd.Series(subjects.loc[first, column].astype("string").to_numpy(),
                          index=subject_ids[first].to_numpy())
        expected = pd.Series(ids.map(truth).to_numpy(), index=frame.index, dtype="string")
        numeric = (pd.api.types.is_numeric_dtype(frame[column])
                   or pd.api.types.is_numeric_dtype(subjects[column]))
        kind = date_kind(str(column))
        if kind is not None:
            truth_as_date = pd.Series(as_dates(subjects.loc[first, column], kind).to_numpy(),
                                      index=subject_ids[first].to_numpy())
            mine = as_dates(frame[column], kind)
            expected = pd.Series(ids.map(truth_as_date).to_numpy(), index=frame.index,
                                 dtype="string")
            same = _same_text(mine, expected)
        else:
            same = (_same(frame[column], expected) if numeric
                    else _same_text(frame[column], expected))
        for idx in frame.index[known & ~same]:
            shown = "" if pd.isna(frame.at[idx, column]) else str(frame.at[idx, column])
            wanted = subjects.loc[first & (subject_ids == ids[idx]), column].iloc[0]
            wanted = "(empty)" if pd.isna(wanted) else str(wanted)
            if kind is not None:
                wanted += f", the {kind} {expected[idx]}; here the {kind} {mine[idx]}"
            rows.append({
                "dataset": dataset, "file": file, "row": int(frame.at[idx, ROW_COLUMN]),
                "column": column, "rule": MATCHES_SUBJECTS, "value": shown,
                "message": f"differs from {column} of subject {ids[idx]} in the subjects "
                           f"dataset ({subjects_file}: {wanted}); a subject-level variable "
                           "is taken from the subjects dataset, so its copies must agree",
                "severity": "error"})
    return copies, pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def derive_period(frame: pd.DataFrame, day_column: str,
                  periods: Sequence[Period]) -> pd.DataFrame:
    """``APHASE``, where the data have none: the period whose first and last day hold the
    record's ``day_column`` (both days included), the first such period in config order;
    a record without a day (a partial date) belongs to the only period when there is one
    (the whole study), and to none when there are several; empty also where the day is in
    no period (e.g. before the first dose). Data that carry APHASE are returned as they
    are."""
    if "APHASE" in frame.columns or day_column not in frame.columns:
        return frame
    out = frame.copy()
    day = pd.to_numeric(out[day_column].astype("string").str.strip(), errors="coerce")
    day = day.to_numpy(dtype=float, na_value=np.nan)
    if len(periods) == 1:
        day = np.where(np.isnan(day), periods[0].first_day, day)
    phase = np.full(len(out), None, dtype=object)
    for period in reversed(periods):  # the first period listed wins where two overlap
        inside = (day >= period.first_day) & (day <= period.last_day)
        phase[inside] = period.name
    out["APHASE"] = pd.array(phase, dtype="string")
    return out


def selection_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The per-dataset counts in one table, datasets in the order given."""
    frames = [t for t in tables.values() if len(t)]
    if not frames:
        return pd.DataFrame(columns=SELECTION_COLUMNS)
    return pd.concat(frames, ignore_index=True)
