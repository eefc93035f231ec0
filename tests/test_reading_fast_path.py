"""The fast CSV path gives exactly what the careful reader gives, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trialreport.ingest.delimited import _pandas_chunk_rows, _read_plain_csv, read_delimited
from trialreport.ingest.source import ROW_COLUMN

from conftest import ROOT

DATA = ROOT / "data" / "fasoracetam_nfc1"


def both(path: Path, raw: bytes, delimiter: str = ",",
         encoding: str = "utf-8") -> tuple[pd.DataFrame, pd.DataFrame]:
    return (read_delimited(path, raw, delimiter, encoding, fast=True),
            read_delimited(path, raw, delimiter, encoding, fast=False))


def _empty_line(b: bytes, cell: bytes = b"", last: bytes = b"") -> bytes:
    """A line with the header's number of fields, all of them empty (or only whitespace)."""
    width = b.split(b"\n", 1)[0].count(b",") + 1
    return b",".join([cell] * width) + last


def _insert_lines(b: bytes, line: bytes, after: tuple[int, ...] = (1, 3, 4)) -> bytes:
    lines = b.split(b"\n")
    for n in sorted(after, reverse=True):
        lines.insert(n, line)
    return b"\n".join(lines) + b"\n" + line + b"\n"


@pytest.mark.parametrize("name", ["subjects", "scores", "adverse_events", "exposure"])
@pytest.mark.parametrize(
    "variant",
    [
        lambda b: b,
        lambda b: b.replace(b"\n", b"\r\n"),
        lambda b: b"\xef\xbb\xbf" + b + b"\n\n\r\n",
        lambda b: b.replace(b",", b" , "),
        lambda b: b.replace(b"\n", b"\n\n", 3),
        lambda b: b.rstrip(b"\n"),
        lambda b: _insert_lines(b, _empty_line(b)),
        lambda b: _insert_lines(b, _empty_line(b, b" ", b"\t")),
        lambda b: _insert_lines(b.replace(b"\n", b"\r\n"), _empty_line(b, b"\t") + b"\r"),
        lambda b: _insert_lines(b, b" , ,\t"),
        lambda b: _insert_lines(b, b",,"),
    ],
    ids=["as-is", "crlf", "bom-trailing-blank-lines", "spaces-around-fields",
         "blank-lines-inside", "no-final-newline", "excel-empty-rows", "spaces-only-rows",
         "crlf-tab-only-rows", "short-whitespace-rows", "short-empty-rows"],
)
def test_fast_path_equals_careful_reader(name: str, variant) -> None:
    path = DATA / f"{name}.csv"
    raw = variant(path.read_bytes())
    fast, careful = both(path, raw)
    assert _read_plain_csv(raw, list(fast.columns[:-1]), ",", "utf-8") is not None
    pd.testing.assert_frame_equal(fast, careful)


@pytest.mark.parametrize(
    "raw",
    [b'A,B\n1,"x, y"\n', b"A,B\n1,2,3\n4,5\n", b"A,B\n1\n", b"A,B\n1,2\r3,4\n"],
    ids=["quoted-field", "ragged-rows", "short-row", "lone-carriage-return"],
)
def test_irregular_files_take_the_careful_path(raw: bytes, tmp_path: Path) -> None:
    assert _read_plain_csv(raw, ["A", "B"], ",", "utf-8") is None


WHITESPACE = {  # whitespace str.strip() strips besides space and tab, as bytes in the encoding
    "nbsp-utf8": (b"\xc2\xa0", "utf-8"),
    "nbsp-latin1": (b"\xa0", "latin-1"),
    "nel-utf8": (b"\xc2\x85", "utf-8"),
    "nel-latin1": (b"\x85", "latin-1"),
    "ideographic-space": (b"\xe3\x80\x80", "utf-8"),
    "vertical-tab": (b"\x0b", "utf-8"),
    "form-feed": (b"\x0c", "utf-8"),
    "file-separator": (b"\x1c", "utf-8"),
    "unit-separator": (b"\x1f", "utf-8"),
}


@pytest.mark.parametrize("name", ["subjects", "exposure"])
@pytest.mark.parametrize("where", ["around-fields", "empty-rows"])
@pytest.mark.parametrize("space", list(WHITESPACE), ids=list(WHITESPACE))
def test_other_whitespace_reads_as_in_the_careful_reader(name: str, where: str,
                                                         space: str) -> None:
    path = DATA / f"{name}.csv"
    original = path.read_bytes()
    ws, encoding = WHITESPACE[space]
    if where == "around-fields":
        raw = original.replace(b",", ws + b"," + ws)
    else:
        raw = _insert_lines(original, _empty_line(original, ws))
    fast, careful = both(path, raw, encoding=encoding)
    assert _read_plain_csv(raw, list(fast.columns[:-1]), ",", encoding) is None
    pd.testing.assert_frame_equal(fast, careful)
    assert len(careful) == len(both(path, original)[1])


def test_rows_of_empty_fields_are_skipped_keeping_row_numbers(tmp_path: Path) -> None:
    raw = b"A,B,C\n1,2,3\n,,\n , ,\t\n4,5,6\r\n,,\r\n"
    fast, careful = both(tmp_path / "x.csv", raw)
    pd.testing.assert_frame_equal(fast, careful)
    assert fast[ROW_COLUMN].tolist() == [2, 5]
    assert fast["A"].tolist() == ["1", "4"]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "cp1252"])
@pytest.mark.parametrize("name", ["scores", "adverse_events"])
def test_letters_beyond_ascii_take_the_fast_path(name: str, encoding: str) -> None:
    """Arrow reads UTF-8: a file in another ASCII-compatible encoding is decoded first."""
    path = DATA / f"{name}.csv"
    original = path.read_bytes()
    raw = original.replace(b"e,", "é,".encode(encoding)).replace(b"a", "ä".encode(encoding))
    assert raw != original
    fast, careful = both(path, raw, encoding=encoding)
    assert _read_plain_csv(raw, list(fast.columns[:-1]), ",", encoding) is not None
    pd.testing.assert_frame_equal(fast, careful)
    assert fast.map(lambda v: "é" in str(v) or "ä" in str(v)).any().any()


def test_text_columns_come_in_the_chunks_pandas_parser_makes() -> None:
    """Where a column's dictionary outgrows its page, the Parquet file depends on the
    chunks: cut as pandas cuts them, the ingested files stay what pandas' reader gave (only
    the files' bytes are at stake: the values are the same however they are cut)."""
    import io as stdio

    for width in (2, 7, 12, 40):
        names = ",".join(f"c{i}" for i in range(width))
        raw = (names + "\n" + ("ab," * (width - 1) + "ab\n") * 70_000).encode()
        frame = pd.read_csv(stdio.BytesIO(raw), dtype=str)
        chunks = frame["c0"].array.__arrow_array__().chunks  # pandas' hook to Arrow
        assert len(chunks[0]) == min(70_000, _pandas_chunk_rows(width))
        ours = _read_plain_csv(raw, names.split(","), ",", "utf-8")
        assert ([len(c) for c in ours["c0"].array.__arrow_array__().chunks]
                == [len(c) for c in chunks])


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
@pytest.mark.parametrize("name", ["subjects", "scores"])
def test_other_delimiters_take_the_fast_path(name: str, delimiter: str) -> None:
    original = (DATA / f"{name}.csv").read_bytes().replace(b",", delimiter.encode())
    for raw in (original, original.replace(b"\n", b"\n\n", 5),
                original + delimiter.encode() * 5 + b"\n"):
        fast = read_delimited(DATA / "x.csv", raw, delimiter, "utf-8", fast=True)
        careful = read_delimited(DATA / "x.csv", raw, delimiter, "utf-8", fast=False)
        assert _read_plain_csv(raw, list(fast.columns[:-1]), delimiter, "utf-8") is not None
        pd.testing.assert_frame_equal(fast, careful)
