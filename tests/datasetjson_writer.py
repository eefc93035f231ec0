"""A small CDISC Dataset-JSON v1.1 writer, for test fixtures only.

Writes every required top-level attribute, one column definition per column of the frame
(dataType from the pandas dtype) and the rows, missing values as ``null``. The bytes are
deterministic: fixed dates, keys in the order of the standard, UTF-8 without escapes, one row
per line (so a test can point at a row's line). ``datasetjson_document`` gives the object
itself, for tests that break one part of it before writing it with ``dump_datasetjson``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

CREATED = "2026-01-01T00:00:00"
"""datasetJSONCreationDateTime and dbLastModifiedDateTime: fixed, so the bytes are too."""


def data_type(series: pd.Series) -> str:
    """The Dataset-JSON dataType of a pandas column."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "string"
    raise TypeError(f"column {series.name!r}: no Dataset-JSON dataType for dtype {dtype}")


def _value(value: Any, kind: str) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if kind == "integer":
        return int(value)
    if kind == "double":
        return float(value)
    if kind == "boolean":
        return bool(value)
    if kind in ("decimal", "string") and not isinstance(value, str):
        return str(value)
    return value


def _r_text(values: list[Any], kind: str) -> list[Any]:
    """A column's values as R writes them (``format(x, nsmall = 14)`` through jsonlite):
    numbers as text with 14 decimals (whole numbers for an integer column), right-aligned
    with blanks to the column's widest value; missing values as ``"NA"``."""
    if kind in ("float", "double", "decimal", "integer"):
        text = [None if v is None else
                (str(int(v)) if kind == "integer" else f"{float(v):.14f}") for v in values]
        width = max((len(t) for t in text if t is not None), default=2)
        return ["NA" if t is None else t.rjust(width) for t in text]
    return ["NA" if v is None else v for v in values]


def datasetjson_document(frame: pd.DataFrame, name: str, label: str = "",
                         study_oid: str = "STUDY",
                         data_types: Mapping[str, str] | None = None,
                         r_style: bool = False) -> dict[str, Any]:
    """The Dataset-JSON v1.1 object for ``frame``; ``data_types`` overrides the dataType of
    named columns (e.g. ``{"BMI": "decimal"}``, written as text with targetDataType
    decimal). ``r_style`` writes values as R's datasetjson and jsonlite do: numbers as text
    padded with blanks (``" 0.50000000000000"``), every missing value (text too) as
    ``"NA"``; booleans stay ``true``/``false``."""
    kinds = {str(c): (data_types or {}).get(str(c)) or data_type(frame[c]) for c in frame}
    columns = []
    for column, kind in kinds.items():
        spec: dict[str, Any] = {"itemOID": f"IT.{name}.{column}", "name": column,
                                "label": column, "dataType": kind}
        if kind == "decimal":
            spec["targetDataType"] = "decimal"
        if kind == "string":
            lengths = frame[column].dropna().astype(str).str.len()
            spec["length"] = max(1, int(lengths.max())) if len(lengths) else 1
        columns.append(spec)
    rows = [[_value(v, kind) for v, kind in zip(record, kinds.values(), strict=True)]
            for record in frame.itertuples(index=False, name=None)]
    if r_style:
        columns_as_r = [_r_text([row[j] for row in rows], kind) if kind != "boolean"
                        else [row[j] for row in rows]
                        for j, kind in enumerate(kinds.values())]
        rows = [list(values) for values in zip(*columns_as_r, strict=True)] if rows else []
    return {
        "datasetJSONCreationDateTime": CREATED,
        "datasetJSONVersion": "1.1.0",
        "fileOID": f"{study_oid}.{name}",
        "dbLastModifiedDateTime": CREATED,
        "originator": "trialreport tests",
        "sourceSystem": {"name": "trialreport tests", "version": "1.0"},
        "studyOID": study_oid,
        "metaDataVersionOID": f"MDV.{study_oid}",
        "itemGroupOID": f"IG.{name}",
        "records": len(rows),
        "name": name,
        "label": label,
        "columns": columns,
        "rows": rows,
    }


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dump_datasetjson(document: Mapping[str, Any], ndjson: bool = False) -> bytes:
    """The bytes of ``document``, UTF-8: one JSON object (``{`` on line 1, then one
    attribute a line, ``"rows"`` last with one row a line: row ``n`` is on line
    ``len(document) + 1 + n``) or NDJSON (the metadata without rows on line 1, row ``n`` on
    line ``n + 1``)."""
    meta = {k: v for k, v in document.items() if k != "rows"}
    rows = document.get("rows", [])
    if ndjson:
        return "".join(_json(part) + "\n" for part in [meta, *rows]).encode("utf-8")
    lines = [f"  {_json(key)}: {_json(value)}," for key, value in meta.items()]
    if "rows" in document:
        body = ",\n".join(f"    {_json(row)}" for row in rows)
        lines.append('  "rows": [' + (f"\n{body}\n  " if rows else "") + "]")
    else:
        lines[-1] = lines[-1].removesuffix(",")
    return ("{\n" + "\n".join(lines) + "\n}\n").encode("utf-8")


def write_datasetjson(frame: pd.DataFrame, path: str | Path, name: str, label: str = "",
                      ndjson: bool = False, study_oid: str = "STUDY",
                      data_types: Mapping[str, str] | None = None,
                      r_style: bool = False) -> Path:
    """Write ``frame`` as Dataset-JSON v1.1 (NDJSON if ``ndjson``; as R writes it if
    ``r_style``); returns the path."""
    path = Path(path)
    document = datasetjson_document(frame, name, label, study_oid, data_types, r_style)
    path.write_bytes(dump_datasetjson(document, ndjson))
    return path
