"""Reading delimited text (CSV, TSV, semicolon or pipe separated).

A regular file goes through Arrow's CSV reader (in parallel); a file it cannot take as it is
(quoted line breaks, ragged rows, unusual whitespace) goes to the careful reader. Either way
blank lines are skipped with the row numbers of the other records kept as the user sees them
in their file, and values keep pandas' text types."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.ingest.source import ROW_COLUMN, InputFileError


def _record_number(before: bytes, encoding: str, delimiter: str) -> int:
    """The row (as ``ROW_COLUMN`` counts it) of the record that goes on after ``before``."""
    text = before.decode(encoding, "replace").removeprefix("\ufeff") + "X"
    try:
        return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        return before.count(b"\n") + 1


_BLANK_FILE = re.compile(rb"(?:\xef\xbb\xbf)?\s*\Z")
"""A file with nothing but a byte-order mark and whitespace (that ``bytes.strip`` strips)."""


def read_delimited(path: Path, raw: bytes, delimiter: str, encoding: str,
              fast: bool = True) -> pd.DataFrame:
    if _BLANK_FILE.match(raw):  # (raw.strip() would copy the whole file)
        raise InputFileError(path, "file is empty (no header, no rows)", rule="empty_file",
                             row=1, value=f"{len(raw)} bytes")
    if fast:  # a regular file needs neither the whole text decoded nor Python's csv module
        header = _plain_header(raw, delimiter, encoding)
        plain = _read_plain_csv(raw, header, delimiter, encoding) if header else None
        if plain is not None:
            return plain
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _record_number(raw[: exc.start], encoding, delimiter)
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        field = raw[line_start:exc.start].count(delimiter.encode("ascii", "replace")) + 1
        header = raw.split(b"\n", 1)[0].decode(encoding, "replace").lstrip("\ufeff")
        names = next(csv.reader([header.strip()], delimiter=delimiter), [])
        column = names[field - 1].strip() if line > 1 and field <= len(names) else f"field {field}"
        raise InputFileError(
            path,
            f"row {line}, column {column}: byte {raw[exc.start:exc.start + 1]!r} at offset "
            f"{exc.start} is not text in the declared encoding {encoding!r}; set 'encoding' "
            "in the trial's config or re-save the file in that encoding",
            rule="encoding", row=line, column=column,
            value=raw[max(line_start, exc.start - 8):exc.start + 4].decode(encoding, "replace"),
        ) from None
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputFileError(path, f"duplicated column(s) in the header: {', '.join(dupes)}",
                             cases=[{"rule": "duplicated_column", "row": 1, "column": d,
                                     "value": d, "message": f"the header names column {d!r} "
                                     f"{header.count(d)} times"} for d in dupes])
    if "" in header:
        raise InputFileError(
            path, f"column {header.index('') + 1} of the header has no name",
            rule="blank_column_name", row=1, column=f"field {header.index('') + 1}", value="",
        )
    rows = []
    row_numbers = []
    ragged = []
    for number, record in enumerate(reader, start=2):  # the row a spreadsheet shows
        if not record or all(not field.strip() for field in record):
            continue  # blank lines (e.g. trailing) carry no data
        if len(record) != len(header):
            ragged.append({
                "rule": "field_count", "row": number, "column": "",
                "value": (delimiter.join(record[len(header):]) if len(record) > len(header)
                          else delimiter.join(record))[:80],
                "message": f"has {len(record)} fields but the header has {len(header)} "
                           f"(delimiter {delimiter!r}; set 'delimiter' in the trial's config "
                           "if the file uses another)"})
            continue
        rows.append([field.strip() for field in record])
        row_numbers.append(number)
    if ragged:
        raise InputFileError(path, f"{len(ragged)} row(s) do not have {len(header)} fields",
                             cases=ragged)
    if not rows:
        raise InputFileError(path, "has a header but no data rows", rule="no_data_rows",
                             row=2, value="")
    frame = pd.DataFrame(rows, columns=header, dtype="string")
    frame = frame.replace({"": pd.NA})
    frame[ROW_COLUMN] = pd.array(row_numbers, dtype="int64")
    return frame


_OTHER_WHITESPACE_BYTES = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
_OTHER_WHITESPACE = re.compile(r"[^\S \t\r\n]")
"""Whitespace that ``str.strip`` strips besides space, tab and line breaks (no-break space,
form feed, ...): the careful reader strips it from values, so files with it go there."""

ASCII_COMPATIBLE = {"utf8", "utf8sig", "ascii", "usascii", "latin1", "iso88591", "cp1252",
                    "windows1252"}


def _plain_header(raw: bytes, delimiter: str, encoding: str) -> list[str] | None:
    """The header of a file the fast path may read (its first line, split at the delimiter,
    names stripped, as the careful reader reads a header without quotes); None where the
    careful reader must look (a quote, a name missing or given twice, a line it cannot
    decode), so that it explains the problem."""
    end = raw.find(b"\n")
    first = raw[: end if end >= 0 else len(raw)].removesuffix(b"\r")
    if b'"' in first:
        return None
    try:
        text = first.decode(encoding).removeprefix("\ufeff")
    except (UnicodeDecodeError, LookupError):
        return None
    header = [name.strip() for name in text.split(delimiter)]
    if "" in header or len(set(header)) != len(header):
        return None
    return header


def _is_filler(text: str, delimiter: str) -> bool:
    """A line with no value: only delimiters, spaces, tabs and line-break characters."""
    return not text.replace(delimiter, "").strip(" \t\r\n")


def _data_line_numbers(raw: bytes, delimiter: str) -> np.ndarray:
    """The line numbers (header = 1) of the lines after the header that have a value: lines
    with only delimiters, spaces, tabs and line breaks (blank lines) are left out."""
    data = np.frombuffer(raw, dtype=np.uint8)
    breaks = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    starts = starts[starts < data.size]  # no empty "line" after a final line break
    filler = np.isin(data, np.array([ord(delimiter), ord(" "), ord("\t"), ord("\r"),
                                     ord("\n")], dtype=np.uint8))
    # A line has a value if any byte from its start up to the next line's start is not
    # filler (the line break itself is filler): one OR per line, no running count of
    # every byte (an int64 per byte: 8 times the file's size).
    has_value = np.logical_or.reduceat(~filler, starts)
    numbers = np.arange(1, starts.size + 1)
    return numbers[has_value & (numbers > 1)]


def _read_plain_csv(raw: bytes, header: list[str], delimiter: str,
                    encoding: str) -> pd.DataFrame | None:
    """The fast path for the common, regular file; ``None`` sends the file to the careful
    reader above, which gives the same frame and explains every irregularity.

    Regular means: an ASCII-compatible encoding, no quote character at all (so every record
    is one physical line and the row numbers are line numbers), no whitespace other than
    space, tab and line breaks (the careful reader strips every kind ``str.strip`` strips,
    e.g. a no-break space), no carriage return outside a ``\\r\\n`` line break, and every
    line that has a value with the header's number of fields. Lines with no value at all
    (empty, or only delimiters, spaces and tabs such as ``,,,,`` from a spreadsheet) are
    skipped, as the careful reader skips them. Such a file is parsed by Arrow's CSV reader
    (every column as text, in parallel); a line of the wrong length stops it, unless the
    line is blank. Row numbers are the line numbers: counted from the line breaks alone
    when every line after the header is a row, else from a vectorised scan of the lines.
    """
    if (encoding.lower().replace("-", "").replace("_", "") not in ASCII_COMPATIBLE
            or len(delimiter.encode("ascii", "replace")) != 1 or b'"' in raw):
        return None
    if len(header) < 2:
        return None  # one column: a line of spaces could be a value; let the reader decide
    if any(space in raw for space in _OTHER_WHITESPACE_BYTES) or (
            b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n")):
        return None  # whitespace the fast path does not strip, or a lone \r line break
    utf8 = raw
    if not raw.isascii():  # e.g. \xa0 (latin-1) or \xc2\xa0 (UTF-8): no-break space
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            return None
        if _OTHER_WHITESPACE.search(text):
            return None
        if encoding.lower().replace("-", "").replace("_", "") not in ("utf8", "utf8sig"):
            utf8 = text.encode("utf-8")  # Arrow reads UTF-8
        del text
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    text = pa.large_string()  # what pandas' string columns hold: no conversion

    def blank_or_refuse(row: Any) -> str:  # a line of the wrong length
        return "skip" if _is_filler(row.text, delimiter) else "error"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(utf8),
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False,
                                              ignore_empty_lines=True,
                                              invalid_row_handler=blank_or_refuse),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, text), null_values=[""],
                strings_can_be_null=True))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # ragged rows: the careful reader explains them
    del utf8
    # Spaces or tabs at either end of a value: values need stripping (empty ones are
    # missing, like the empty values Arrow reads as missing).
    columns = []
    for column in table.columns:
        stripped = pc.utf8_trim(column, characters=" \t")
        if (pc.sum(pc.binary_length(stripped)).as_py()
                != pc.sum(pc.binary_length(column)).as_py()):
            column = pc.if_else(pc.equal(stripped, ""), pa.scalar(None, text), stripped)
        columns.append(column)
        del stripped
    table = pa.table(columns, names=header)
    blank = None
    if min(column.null_count for column in columns) > 0:  # rows with no value at all
        blank = pc.and_kleene(*[pc.is_null(c) for c in columns[:2]])
        for column in columns[2:]:
            blank = pc.and_kleene(blank, pc.is_null(column))
        if not pc.any(blank).as_py():
            blank = None
    lines = raw.count(b"\n") + (not raw.endswith(b"\n"))
    if blank is None and lines == table.num_rows + 1:
        rows = np.arange(2, table.num_rows + 2)
    else:  # blank lines: skipped by Arrow, or read as rows with no value
        if blank is not None:
            table = table.filter(pc.invert(blank))
        rows = _data_line_numbers(raw, delimiter)
        if rows.size != table.num_rows:
            return None
    if table.num_rows == 0:
        return None  # no data rows: the careful reader says so
    frame = _in_chunks(table, _pandas_chunk_rows(len(header))).to_pandas(
        types_mapper={text: pd.StringDtype()}.get)
    frame[ROW_COLUMN] = pd.array(rows, dtype="int64")
    return frame


def _pandas_chunk_rows(width: int) -> int:
    """The rows per chunk of the text columns pandas' C parser makes for a file of
    ``width`` columns: the largest power of two below half of 2**20 / width."""
    heuristic, rows = 2**20 // width, 1
    while rows * 2 < heuristic:
        rows *= 2
    return rows


def _in_chunks(table: Any, rows: int) -> Any:
    """The table's columns cut into chunks of ``rows`` rows (the last one shorter).

    Where a column's dictionary outgrows its page, the Parquet writer falls back to plain
    encoding at a point that depends on the chunks it is given; cut as pandas' parser cuts
    them, the ingested Parquet files are byte for byte those pandas' reader gave."""
    import pyarrow as pa

    if all(column.num_chunks == 1 and len(column) <= rows for column in table.columns):
        return table
    columns = []
    for column in table.columns:
        whole = column.combine_chunks()
        columns.append(pa.chunked_array(
            [whole.slice(start, rows) for start in range(0, len(whole), rows)] or [whole],
            type=column.type))
        del whole
    return pa.table(columns, names=table.column_names)
