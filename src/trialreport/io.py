"""Reading trial datasets and writing outputs.

Reading is deliberately strict and explains itself: every problem raises ``InputFileError``
naming the file (and the column or row where there is one). Inputs are only ever opened for
reading. Outputs are written atomically (to a temporary file in the same folder, then renamed),
so an interrupted run never leaves a half-written file that a later run would trust.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

ROW_COLUMN = "SRCROW"
"""Column added on ingest: the row as the user sees it in their file (header is row 1)."""

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".xpt": "xpt"}


class InputFileError(Exception):
    """A data file that cannot be read as the trial's config declares it."""

    def __init__(self, path: str | Path, message: str):
        self.path = str(path)
        self.message = message
        super().__init__(f"{path}: {message}")


def detect_format(path: str | Path, declared: str | None = None) -> str:
    if declared:
        return declared.lower()
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise InputFileError(path, f"cannot tell the format from the extension {suffix!r}; "
                             "set 'format' (csv, parquet or xpt) in the trial's config")
    return FORMATS[suffix]


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file")
    with open(path, "rb") as handle:  # read-only: inputs are never modified
        return handle.read()


def _read_csv(path: Path, raw: bytes, delimiter: str, encoding: str) -> pd.DataFrame:
    if not raw.strip():
        raise InputFileError(path, "file is empty")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path,
            f"line {line}: byte {raw[exc.start:exc.start + 1]!r} at offset {exc.start} is not "
            f"text in the declared encoding {encoding!r}; set 'encoding' in the trial's config",
        ) from None
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputFileError(path, f"duplicated column(s) in the header: {', '.join(dupes)}")
    if "" in header:
        raise InputFileError(
            path, f"column {header.index('') + 1} of the header has no name"
        )
    rows = []
    row_numbers = []
    for number, record in enumerate(reader, start=2):
        if not record or all(not field.strip() for field in record):
            continue  # blank lines (e.g. trailing) carry no data
        if len(record) != len(header):
            raise InputFileError(
                path,
                f"row {number}: has {len(record)} fields but the header has {len(header)} "
                f"(delimiter {delimiter!r})",
            )
        rows.append([field.strip() for field in record])
        row_numbers.append(number)
    if not rows:
        raise InputFileError(path, "has a header but no data rows")
    frame = pd.DataFrame(rows, columns=header, dtype="string")
    frame = frame.replace({"": pd.NA})
    frame[ROW_COLUMN] = pd.array(row_numbers, dtype="int64")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise InputFileError(path, f"is not a readable Parquet file ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    frame = frame.reset_index(drop=True)
    frame[ROW_COLUMN] = pd.array(range(1, len(frame) + 1), dtype="int64")
    return frame


def _read_xpt(path: Path, encoding: str) -> pd.DataFrame:
    try:
        frame = pd.read_sas(path, format="xport", encoding=encoding)
    except Exception as exc:
        raise InputFileError(path, f"is not a readable SAS transport (XPT) file "
                             f"({type(exc).__name__}: {exc})") from None
    frame[ROW_COLUMN] = pd.array(range(1, len(frame) + 1), dtype="int64")
    return frame


def read_table(
    path: str | Path,
    fmt: str | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> pd.DataFrame:
    """Read one dataset file; adds ``SRCROW``, the row number as the user sees it.

    CSV: a byte-order mark, Windows line endings, quoted fields and blank lines are accepted;
    every value is read as text (typing is the contract's job, so a bad value is reported
    with its row rather than silently turned into a missing one). Rows of a Parquet or XPT
    file are numbered from 1.
    """
    path = Path(path)
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        raw = _read_bytes(path)
        return _read_csv(path, raw, delimiter, encoding)
    _read_bytes(path)  # existence and readability, with the same messages as CSV
    if path.stat().st_size == 0:
        raise InputFileError(path, "file is empty")
    if fmt == "parquet":
        frame = _read_parquet(path)
    elif fmt == "xpt":
        frame = _read_xpt(path, encoding)
    else:
        raise InputFileError(path, f"unknown format {fmt!r}; use csv, parquet or xpt")
    if frame.empty:
        raise InputFileError(path, "has no data rows")
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
            f"{', '.join(missing)}"
        )
    renamed = frame.rename(columns=dict(column_map))
    dupes = sorted({c for c in renamed.columns if list(renamed.columns).count(c) > 1})
    if dupes:
        raise InputFileError(path, f"the column map gives two columns the same name: "
                             f"{', '.join(dupes)}")
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


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic_target(path: Path) -> tuple[int, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = Path(path)
    fd, tmp = _atomic_target(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Deterministic CSV: UTF-8, ``\\n`` line endings, no index, floats as shortest repr."""
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())
