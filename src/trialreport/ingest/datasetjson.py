"""Reading CDISC Dataset-JSON v1.1, as a ``.json`` document or in its NDJSON form.

A Dataset-JSON file is one JSON object: metadata at the top level (``datasetJSONVersion``,
``itemGroupOID``, ``name``, ``label``, ``records``, ``columns``, ...) and ``rows``, a list of
arrays whose values are in the order of ``columns``. In the NDJSON form (``.ndjson``) the first
line is that metadata object without ``rows`` and every further non-empty line is one row.

Reading is as strict as for the other formats and explains itself: a file that is not
Dataset-JSON v1.1 raises ``InputFileError`` with the rule ``not_datasetjson`` and a message
naming what is wrong and where (line and column of a JSON syntax error; row and column of a
value of the wrong type). Like a Parquet or XPT file, the values come typed: text as pandas
``string``, numbers as float64 (the contracts type them), ``true``/``false`` as pandas
``boolean``, dates and times as the ISO 8601 text they are in the file. As real writers
write it, numbers written as text (blanks around them or not) and missing-value tokens
(``NA``, ``.``) are read too, each counted per column (``LENIENCIES``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.ingest.source import ROW_COLUMN, InputFileError, read_bytes

RULE = "not_datasetjson"

VERSION = re.compile(r"1\.1(\.(0|[1-9][0-9]*))?")
"""The versions read: 1.1 and 1.1.x (the pattern of the v1.1 JSON Schema)."""

TEXT_TYPES = ("string", "date", "datetime", "time", "URI")
NUMBER_TYPES = ("integer", "float", "double", "decimal")
DATA_TYPES = (*TEXT_TYPES, *NUMBER_TYPES, "boolean")

EXACT_INTEGERS = 2**53
"""Integers up to this size (either sign) are exact as float64; larger ones are read as text."""

_DECIMAL = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A decimal written as text: ``.`` separates the decimals, ``,`` may group thousands."""


class _Constant(str):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python's json reads them, JSON has no such value.

    Kept as a marker so that the value is refused with its row and column."""


_DECODER = json.JSONDecoder(parse_constant=_Constant)


DEFAULT_MISSING = ("", "NA", ".")
"""Text read as a missing value in number, date, datetime and time columns by default."""

LENIENCIES = "leniencies"
"""Key of ``DataFrame.attrs`` listing what was read leniently: one dict per column and kind
(``column``, ``kind``, ``n``, ``first_row``, ``criterion``)."""


def read_datasetjson(path: str | Path, raw: bytes | None = None,
                     encoding: str = "utf-8",
                     missing_values: tuple[str, ...] = DEFAULT_MISSING,
                     text_missing_values: tuple[str, ...] = ("",)) -> pd.DataFrame:
    """Read a Dataset-JSON v1.1 file (NDJSON if its name ends in ``.ndjson``).

    ``raw`` is the file's content if it has been read already. Returns the columns named by
    ``columns[].name``, in that order, then ``SRCROW``: the row's 1-based number among the data
    rows, i.e. its position in ``rows``; in an NDJSON file that is the line number minus 1
    (the metadata is line 1; blank lines, which carry no row, are not counted).

    Values: ``string``, ``date``, ``datetime``, ``time`` and ``URI`` as text (pandas
    ``string``; ``""`` is a missing value, as an empty cell of a CSV file); ``integer``,
    ``float``, ``double`` and ``decimal`` (a number written as text, as with
    ``targetDataType: decimal``) as float64, except an ``integer`` column holding a value
    beyond +/-2**53, which float64 cannot hold exactly: it is read as text; ``boolean`` as
    pandas ``boolean``. ``null`` is a missing value.

    As real writers write it (R's datasetjson writes numbers as text padded with blanks,
    ``" 0.00000000000000"``, and missing numbers as ``"NA"``): in a number column, text that
    spells a number once its surrounding blanks are removed is read as that number; in a
    number, date, datetime or time column, text that is one of ``missing_values`` (blanks
    removed) is a missing value; in a ``string`` column, text that is one of
    ``text_missing_values`` is. Each such reading is listed, per column, in
    ``frame.attrs["leniencies"]`` (the ingest stage writes them to ``selection.csv``). Any
    other text in a number column (``" 1.2x"``) is still refused, naming row, column and
    value.
    """
    path = Path(path)
    if raw is None:
        raw = read_bytes(path)
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        raise InputFileError(path, "file is empty (no metadata, no rows)", rule="empty_file",
                             row=1, value=f"{len(raw)} bytes")
    ndjson = path.suffix.lower() == ".ndjson"
    text = _decode(path, raw, encoding, ndjson)
    if ndjson:
        meta, rows, lines = _parse_ndjson(path, text)
    else:
        meta = _loads(path, text, ndjson_hint=True)
        _require_object(path, meta)
        rows, lines = meta.get("rows"), None
    _version(path, meta)
    names, types = _columns(path, meta)
    records = _records(path, meta)
    if rows is None:
        rows = []
    elif not isinstance(rows, list):
        _refuse(path, f"'rows' is {_kind(rows)}, not an array of rows",
                value=_show(rows)[:80])
    if not rows:
        raise InputFileError(path, f"has no data rows ('records' is {records})",
                             rule="no_data_rows", row=1, value="")
    cases = _row_shape_cases(rows, len(names), lines)
    if records != len(rows):
        cases.append(_case(None, "records", str(records),
                           f"'records' says {records} rows but the file has {len(rows)} "
                           "(a truncated or edited file?)"))
    good = [i for i, row in enumerate(rows) if isinstance(row, list) and len(row) == len(names)]
    data, leniencies = {}, []
    for position, (name, data_type) in enumerate(zip(names, types, strict=True)):
        values = values_as_read = [rows[i][position] for i in good]
        values, found = _lenient(values, data_type, missing_values, text_missing_values)
        for kind, where in found.items():
            leniencies.append({"column": name, "kind": kind, "n": len(where),
                               "first_row": good[where[0]] + 1,
                               "criterion": _leniency_text(name, data_type, kind, sorted(
                                   {_show(values_as_read[i].strip()) for i in where}))})
        bad = [(i, "is not JSON (NaN and Infinity are not JSON values; null is a missing "
                   "value)") for i, v in enumerate(values) if isinstance(v, _Constant)]
        if bad:
            values = [None if isinstance(v, _Constant) else v for v in values]
        column, wrong = _COLUMN_READERS[data_type](values)
        for i, why in sorted(bad + wrong):
            number = good[i] + 1
            shown = _show(rows[good[i]][position])
            cases.append(_case(number, name, shown,
                               f"{_where(number, lines)}, column {name}: {shown} {why}"))
        data[name] = column
    if cases:
        cases.sort(key=lambda c: (c["row"] is not None, c["row"] or 0))
        first = cases[0]["message"]
        more = f" (and {len(cases) - 1} more problem(s))" if len(cases) > 1 else ""
        raise InputFileError(path, f"is not valid Dataset-JSON v1.1: {first}{more}",
                             cases=cases)
    frame = pd.DataFrame(data)
    frame[ROW_COLUMN] = pd.array(range(1, len(rows) + 1), dtype="int64")
    frame.attrs[LENIENCIES] = leniencies
    return frame


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _lenient(values: list, data_type: str, missing: tuple[str, ...],
             text_missing: tuple[str, ...]) -> tuple[list, dict[str, list[int]]]:
    """Values as real writers write them, made standard; which cells, by kind.

    Kinds: ``number_text`` (a number written as text in an integer, float or double
    column), ``padded`` (a number as text with surrounding blanks, any number column),
    ``missing_token`` (text read as a missing value)."""
    found: dict[str, list[int]] = {}
    if data_type == "boolean":
        return values, found
    number = data_type in NUMBER_TYPES
    tokens = {t.strip() for t in (text_missing if data_type == "string" else missing)}
    if not number and tokens <= {""}:  # text columns: "" is missing anyway, nothing to do
        return values, found
    out = list(values)
    for i, v in enumerate(values):
        if type(v) is not str:
            continue
        text = v.strip()
        if text in tokens and (number or text != ""):  # blanks: the contracts strip text
            out[i] = None
            found.setdefault("missing_token", []).append(i)
        elif number and text and (
                _PLAIN_NUMBER.fullmatch(text)
                or (data_type == "decimal" and _DECIMAL.fullmatch(text))):
            if data_type == "decimal":
                out[i] = text
            else:
                out[i] = _integer_text(text) if data_type == "integer" else float(text)
                found.setdefault("number_text", []).append(i)
            if text != v:
                found.setdefault("padded", []).append(i)
    return out, found


def _integer_text(text: str) -> int | float:
    """A whole number written as text, exactly (``"7"``, ``" 7.0"``); a fraction as a float
    (then refused by the integer reader as not whole)."""
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(text)


def _leniency_text(column: str, data_type: str, kind: str, tokens: list[str]) -> str:
    if kind == "number_text":
        return (f"{column}: number(s) written as text in a column of dataType {data_type} "
                "(JSON numbers by the standard), read as numbers")
    if kind == "padded":
        return (f"{column}: number(s) written as text with surrounding blanks (as R's "
                "datasetjson writes them), read without the blanks")
    where = "text_missing_values" if data_type == "string" else "missing_values"
    return (f"{column}: text {', '.join(tokens)} read as a missing value (dataType "
            f"{data_type}; config "
            f"data.<dataset>.{where})")


# ---------------------------------------------------------------------------------------
# Text and JSON
# ---------------------------------------------------------------------------------------


def _decode(path: Path, raw: bytes, encoding: str, ndjson: bool) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        lines = raw[:exc.start].split(b"\n")  # the last is the start of the bad byte's line
        line = len(lines)
        row = None
        if ndjson and line > 1:  # the data rows up to this line, which has a byte: a row
            row = sum(1 for chunk in lines[1:-1] if chunk.strip()) + 1
        raise InputFileError(
            path, f"line {line}: byte {raw[exc.start:exc.start + 1]!r} at offset {exc.start} "
            f"is not text in the declared encoding {encoding!r} (Dataset-JSON is UTF-8)",
            rule="encoding", row=row,
            value=raw[max(0, exc.start - 8):exc.start + 4].decode(encoding, "replace"),
        ) from None


def _loads(path: Path, text: str, line_offset: int = 0, ndjson_hint: bool = False,
           row: int | None = None) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        line = exc.lineno + line_offset
        hint = ""
        if ndjson_hint and exc.msg == "Extra data":
            hint = " (one row per line is NDJSON: name the file .ndjson)"
        _refuse(path, f"is not JSON: {exc.msg} at line {line}, column {exc.colno}{hint}",
                row=row, value=_excerpt(exc.doc, exc.pos))
    except (ValueError, RecursionError) as exc:  # e.g. an integer of over 4300 digits
        _refuse(path, f"is not JSON that can be read: {exc}", row=row)


def _excerpt(doc: str, pos: int) -> str:
    return doc[max(0, pos - 20):pos + 20].replace("\n", "\\n")


def _parse_ndjson(path: Path, text: str) -> tuple[dict, list, list[int]]:
    lines = text.split("\n")
    if not lines[0].strip():
        _refuse(path, "line 1 is empty; in NDJSON it holds the metadata object")
    meta = _loads(path, lines[0])
    _require_object(path, meta, "line 1")
    if "rows" in meta:
        _refuse(path, "line 1 (the metadata) has 'rows'; in NDJSON every row is a line of "
                "its own (a single JSON object is a .json file)", value="rows")
    numbers = [n for n, line in enumerate(lines[1:], start=2) if line.strip()]
    # Line by line (not as one "[...]"), so that a row broken over two lines is refused.
    rows = [_loads(path, lines[n - 1], n - 1, row=i) for i, n in enumerate(numbers, start=1)]
    return meta, rows, numbers


def _require_object(path: Path, meta: Any, where: str = "the top level") -> None:
    if not isinstance(meta, dict):
        _refuse(path, f"{where} is {_kind(meta)}, not a JSON object holding the dataset's "
                "metadata", value=_show(meta)[:80])


# ---------------------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------------------


def _version(path: Path, meta: dict) -> None:
    version = meta.get("datasetJSONVersion")
    if not (isinstance(version, str) and VERSION.fullmatch(version)):
        found = "absent" if version is None else _show(version)
        _refuse(path, f"datasetJSONVersion is {found}; only Dataset-JSON 1.1 (1.1 or 1.1.x) "
                "is read", column="datasetJSONVersion", value=found)


def _columns(path: Path, meta: dict) -> tuple[list[str], list[str]]:
    columns = meta.get("columns")
    if not isinstance(columns, list) or not columns:
        found = "absent" if columns is None else f"{_kind(columns)} {_show(columns)[:40]}"
        _refuse(path, f"has no columns: 'columns' must be a non-empty array of column "
                f"definitions, found {found}", column="columns")
    names, types = [], []
    for number, column in enumerate(columns, start=1):
        if not isinstance(column, dict):
            _refuse(path, f"column {number} of 'columns' is {_kind(column)}, not an object",
                    column=f"field {number}", value=_show(column)[:80])
        name = column.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputFileError(path, f"column {number} of 'columns' has no name",
                                 rule="blank_column_name", column=f"field {number}",
                                 value=_show(name))
        data_type = column.get("dataType")
        if data_type not in DATA_TYPES:
            found = "absent" if data_type is None else _show(data_type)
            _refuse(path, f"column {name}: dataType is {found}, not one of "
                    f"{', '.join(DATA_TYPES)}", column=name, value=found)
        names.append(name)
        types.append(data_type)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputFileError(path, f"duplicated column(s) in 'columns': {', '.join(dupes)}",
                             cases=[{"rule": "duplicated_column", "row": None, "column": d,
                                     "value": d, "message": f"'columns' names column {d!r} "
                                     f"{names.count(d)} times"} for d in dupes])
    return names, types


def _records(path: Path, meta: dict) -> int:
    records = meta.get("records")
    if type(records) is not int or records < 0:
        found = "absent" if records is None else _show(records)
        _refuse(path, f"'records' (the number of rows, required) is {found}, not a whole "
                "number of 0 or more", column="records", value=found)
    return records


# ---------------------------------------------------------------------------------------
# Rows and values
# ---------------------------------------------------------------------------------------


def _row_shape_cases(rows: list, width: int, lines: list[int] | None) -> list[dict]:
    cases = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            cases.append(_case(number, "", _show(row)[:80],
                               f"{_where(number, lines)} is {_kind(row)}, not an array of "
                               "values"))
        elif len(row) != width:
            cases.append(_case(number, "", _show(row)[:80],
                               f"{_where(number, lines)} has {len(row)} values but 'columns' "
                               f"has {width}"))
    return cases


def _text(values: list) -> tuple[Any, list[tuple[int, str]]]:
    if not set(map(type, values)) <= {str, type(None)}:
        return None, [(i, f"is {_kind(v)}, but the column's dataType is text")
                      for i, v in enumerate(values) if not (v is None or type(v) is str)]
    return pd.array([v if v else None for v in values], dtype="string"), []


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _integer(values: list) -> tuple[Any, list[tuple[int, str]]]:
    bad = [(i, f"is {_kind(v)}, but the column's dataType is integer") for i, v in
           enumerate(values) if not (v is None or _number(v))]
    bad += [(i, "is not a whole number, but the column's dataType is integer")
            for i, v in enumerate(values) if type(v) is float and not v.is_integer()]
    if bad:
        return None, sorted(bad)
    whole = [None if v is None else int(v) for v in values]
    if any(v is not None and abs(v) > EXACT_INTEGERS for v in whole):
        return pd.array([None if v is None else str(v) for v in whole], dtype="string"), []
    return np.array([np.nan if v is None else v for v in whole], dtype="float64"), []


def _floating(values: list) -> tuple[Any, list[tuple[int, str]]]:
    bad = [(i, f"is {_kind(v)}, but the column's dataType is a number") for i, v in
           enumerate(values) if not (v is None or _number(v))]
    return _as_floats(values, bad)


def _decimal(values: list) -> tuple[Any, list[tuple[int, str]]]:
    bad = [(i, "is not a decimal number written as text ('.' before the decimals, ',' "
               "only between thousands)") if type(v) is str else
           (i, f"is {_kind(v)}, but the column's dataType is decimal")
           for i, v in enumerate(values)
           if not (v is None or _number(v) or (type(v) is str and _is_decimal(v)))]
    return _as_floats([v.replace(",", "") if type(v) is str else v for v in values], bad)


def _is_decimal(text: str) -> bool:
    return not text or _DECIMAL.fullmatch(text) is not None


def _as_floats(values: list, bad: list[tuple[int, str]]) -> tuple[Any, list[tuple[int, str]]]:
    out = np.full(len(values), np.nan)
    skip = {i for i, _ in bad}
    for i, v in enumerate(values):
        if v is None or v == "" or i in skip:
            continue
        try:
            out[i] = float(v)
        except OverflowError:
            bad.append((i, "is too large for a number"))
    return (None, sorted(bad)) if bad else (out, [])


def _boolean(values: list) -> tuple[Any, list[tuple[int, str]]]:
    bad = [(i, f"is {_kind(v)}, but the column's dataType is boolean (true or false)")
           for i, v in enumerate(values) if not (v is None or type(v) is bool)]
    return (None, bad) if bad else (pd.array(values, dtype="boolean"), [])


_COLUMN_READERS: dict[str, Callable[[list], tuple[Any, list[tuple[int, str]]]]] = {
    **dict.fromkeys(TEXT_TYPES, _text), "integer": _integer, "float": _floating,
    "double": _floating, "decimal": _decimal, "boolean": _boolean,
}


# ---------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if isinstance(value, _Constant):
        return "not JSON"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {str: "text", int: "a number", float: "a number", list: "an array",
            dict: "an object"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    """The value as written in JSON (so text "12" and the number 12 differ)."""
    if isinstance(value, _Constant):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _where(number: int, lines: list[int] | None) -> str:
    return f"row {number}" + (f" (line {lines[number - 1]})" if lines else "")


def _case(row: int | None, column: str, value: str, message: str) -> dict:
    return {"rule": RULE, "row": row, "column": column, "value": value, "message": message}


def _refuse(path: Path, message: str, row: int | None = None, column: str = "",
            value: object = "") -> None:
    raise InputFileError(path, message, rule=RULE, row=row, column=column, value=value)
