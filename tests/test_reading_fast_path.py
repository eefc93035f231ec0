"""The fast CSV path gives exactly what the careful reader gives, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trialreport import io

from conftest import ROOT

DATA = ROOT / "data" / "fasoracetam_nfc1"


def both(path: Path, raw: bytes, delimiter: str = ",") -> tuple[pd.DataFrame, pd.DataFrame]:
    return (io._read_csv(path, raw, delimiter, "utf-8", fast=True),
            io._read_csv(path, raw, delimiter, "utf-8", fast=False))


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
    ],
    ids=["as-is", "crlf", "bom-trailing-blank-lines", "spaces-around-fields",
         "blank-lines-inside", "no-final-newline"],
)
def test_fast_path_equals_careful_reader(name: str, variant) -> None:
    path = DATA / f"{name}.csv"
    raw = variant(path.read_bytes())
    fast, careful = both(path, raw)
    assert io._read_plain_csv(raw, list(fast.columns[:-1]), ",", "utf-8") is not None
    pd.testing.assert_frame_equal(fast, careful)


@pytest.mark.parametrize(
    "raw",
    [b'A,B\n1,"x, y"\n', b"A,B\n1,2,3\n4,5\n", b"A,B\n1,2\n   \n3,4\n", b"A,B\n1\n"],
    ids=["quoted-field", "ragged-rows", "line-of-spaces", "short-row"],
)
def test_irregular_files_take_the_careful_path(raw: bytes, tmp_path: Path) -> None:
    assert io._read_plain_csv(raw, ["A", "B"], ",", "utf-8") is None
