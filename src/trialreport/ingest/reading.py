"""Reading a trial's dataset in any supported format, then applying its column map and codes.

``read_table`` finds the format (from the config or the file's extension) and hands the file
to that format's reader: ``delimited`` (CSV and other delimited text), Parquet (here),
``xpt`` (SAS transport) or ``datasetjson`` (CDISC Dataset-JSON); none of them imports this
module back. Reading is deliberately strict and explains itself: every problem raises
``InputFileError`` naming the file (and the column or row where there is one). Inputs are
only ever opened for reading.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from trialreport.ingest.delimited import read_delimited
from trialreport.ingest.source import ROW_COLUMN, InputFileError, read_bytes
from trialreport.ingest.xpt import file_head, read_xpt

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".xpt": "xpt",
           ".json": "datasetjson", ".ndjson": "datasetjson"}


def detect_format(path: str | Path, declared: str | None = None) -> str:
    if declared:
        return declared.lower()
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(path, f"cannot tell the format from the extension {suffix!r}; "
                             "set 'format' (csv, parquet, xpt or datasetjson) in the trial's "
                             "config",
                             rule="unknown_format", value=suffix)
    return FORMATS[suffix]


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise InputFileError(path, f"is not a readable Parquet file ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})",
                             rule="not_parquet", value=file_head(path)) from None
    frame = frame.reset_index(drop=True)
    frame[ROW_COLUMN] = pd.array(range(1, len(frame) + 1), dtype="int64")
    return frame


def _read_datasetjson(path: Path, raw_or_path: bytes | Path, encoding: str,
                      missing: Mapping[str, tuple[str, ...]] | None = None) -> pd.DataFrame:
    """CDISC Dataset-JSON v1.1, ``.json`` or ``.ndjson``: see ``trialreport.ingest.datasetjson``
    (imported here, when such a file is read, as it imports this module)."""
    from trialreport.ingest.datasetjson import read_datasetjson

    raw = raw_or_path if isinstance(raw_or_path, bytes) else read_bytes(Path(raw_or_path))
    return read_datasetjson(path, raw, encoding, **(missing or {}))


def read_table(
    path: str | Path,
    fmt: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    missing: Mapping[str, tuple[str, ...]] | None = None,
) -> pd.DataFrame:
    """Read one dataset file; adds ``SRCROW``, the row number as the user sees it.

    CSV: a byte-order mark, Windows line endings, quoted fields and blank lines are accepted;
    every value is read as text (typing is the contract's job, so a bad value is reported
    with its row rather than silently turned into a missing one). Rows of a Parquet or XPT
    file are numbered from 1.

    CDISC Dataset-JSON v1.1 (``.json``, or ``.ndjson`` with one row per line): the values
    come typed by the columns' dataType; rows are numbered from 1 (in an NDJSON file, the
    line number minus 1). ``missing`` (``missing_values``, ``text_missing_values``) says
    which text is a missing value there (see ``datasetjson.read_datasetjson``).
    """
    path = Path(path)
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        raw = read_bytes(path)
        return read_delimited(path, raw, delimiter, encoding)
    if fmt == "datasetjson":
        return _read_datasetjson(path, read_bytes(path), encoding, missing)
    read_bytes(path)  # existence and readability, with the same messages as CSV
    if path.stat().st_size == 0:
        raise InputFileError(path, "file is empty", rule="empty_file", row=1, value="0 bytes")
    if fmt == "parquet":
        frame = _read_parquet(path)
    elif fmt == "xpt":
        frame = read_xpt(path, encoding)
    else:
        raise InputFileError(path, f"unknown format {fmt!r}; use csv, parquet, xpt or "
                             "datasetjson",
                             rule="unknown_format", value=fmt)
    if frame.empty:
        raise InputFileError(path, "has no data rows", rule="no_data_rows", row=1, value="")
    dupes = sorted({str(c) for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise InputFileError(path, f"duplicated column(s): {', '.join(dupes)}",
                             rule="duplicated_column", column=dupes[0], value=dupes[0])
    return frame


def apply_column_map(
    frame: pd.DataFrame, path: str | Path, column_map: Mapping[str, str] | None
) -> pd.DataFrame:
    """Rename source columns to canonical names; a mapped column that is absent is an error."""
    if not column_map:
        return frame
    missing = [src for src in column_map if src not in frame.columns]
    if missing:
        raise InputFileError(
            path, f"column(s) named in the config's column map are not in the file: "
            f"{', '.join(missing)}",
            cases=[{"rule": "column_map", "row": 1, "column": m, "value": m,
                    "message": f"the config's column map names {m!r}, which is not in the "
                               "file's header"} for m in missing],
        )
    renamed = frame.rename(columns=dict(column_map))
    dupes = sorted({c for c in renamed.columns if list(renamed.columns).count(c) > 1})
    if dupes:
        raise InputFileError(path, f"the column map gives two columns the same name: "
                             f"{', '.join(dupes)}", rule="duplicated_column", row=1,
                             column=dupes[0], value=dupes[0])
    return renamed


def apply_code_maps(
    frame: pd.DataFrame, codes: Mapping[str, Mapping[str, object]] | None
) -> pd.DataFrame:
    """Replace words by codes as configured (e.g. ``"Much improved" -> 2``).

    Matching ignores case and surrounding spaces. Values not in the map are left as they are,
    so the contract reports them with their row.
    """
    if not codes:
        return frame
    frame = frame.copy()
    for column, mapping in codes.items():
        if column not in frame.columns:
            continue
        lookup = {str(k).strip().casefold(): v for k, v in mapping.items()}
        original = frame[column]

        def recode(value: object, lookup: dict = lookup) -> object:
            if pd.isna(value):
                return value
            return lookup.get(str(value).strip().casefold(), value)

        frame[column] = original.map(recode).astype("object")
    return frame


def require_columns(frame: pd.DataFrame, path: str | Path, required: Iterable[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputFileError(
            path,
            f"required column(s) missing: {', '.join(missing)} "
            f"(columns present: {', '.join(c for c in frame.columns if c != ROW_COLUMN)})",
        )
