"""Robust reading: files a statistician's tools really write are read as the config declares."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from trialreport.common import files
from trialreport.ingest.reading import apply_code_maps, read_table
from trialreport.ingest.source import ROW_COLUMN, InputFileError

from conftest import TrialCopy

HEADER = "USUBJID,AGE,SEX\n"


def write(tmp_path: Path, data: bytes, name: str = "subjects.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_bom_crlf_quotes_and_trailing_blank_lines_are_read(tmp_path: Path) -> None:
    data = ('\ufeffUSUBJID,TERM,AGE\r\n"S-1","headache, mild",12\r\n'
            '"S-2","said ""tired""",13\r\n\r\n\r\n').encode()
    frame = read_table(write(tmp_path, data))
    assert list(frame.columns) == ["USUBJID", "TERM", "AGE", ROW_COLUMN]
    assert frame["TERM"].tolist() == ["headache, mild", 'said "tired"']
    assert frame["AGE"].tolist() == ["12", "13"]  # text: typing is the contract's job
    assert frame[ROW_COLUMN].tolist() == [2, 3]


def test_row_numbers_are_those_the_user_sees_despite_blank_lines_and_quoted_newlines(
        tmp_path: Path) -> None:
    # As a spreadsheet shows the file: S-1 on row 2 (its value in one cell), an empty row 3,
    # S-2 on row 4; a line break inside a quoted value does not start a new row.
    data = b'USUBJID,TERM\nS-1,"two\nlines"\n\nS-2,x\n'
    frame = read_table(write(tmp_path, data))
    assert frame[ROW_COLUMN].tolist() == [2, 4]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_record_with_quoted_newlines_is_numbered_as_one_spreadsheet_row(
        tmp_path: Path, newline: str) -> None:
    data = f'A,B,C{newline}1,"x{newline}y{newline}z",9{newline}2,w,8{newline}'.encode()
    frame = read_table(write(tmp_path, data))
    assert frame[ROW_COLUMN].tolist() == [2, 3]
    assert frame["B"].tolist() == [f"x{newline}y{newline}z", "w"]


def test_a_bad_byte_after_a_quoted_newline_is_named_by_its_spreadsheet_row(
        tmp_path: Path) -> None:
    data = b'A,B,C\n1,"x\ny",9\n2,caf\xe9,8\n'
    with pytest.raises(InputFileError) as error:
        read_table(write(tmp_path, data))
    assert error.value.cases[0]["rule"] == "encoding"
    assert error.value.cases[0]["row"] == 3
    assert error.value.cases[0]["column"] == "B"


def test_a_ragged_row_after_a_quoted_newline_is_named_by_its_spreadsheet_row(
        tmp_path: Path) -> None:
    data = b'A,B,C\n1,"x\ny",9\n2,z\n'
    with pytest.raises(InputFileError) as error:
        read_table(write(tmp_path, data))
    assert [c["row"] for c in error.value.cases] == [3]


def test_configured_delimiter_and_encoding(tmp_path: Path) -> None:
    data = "USUBJID;TERM\nS-1;caf\u00e9\n".encode("latin-1")
    frame = read_table(write(tmp_path, data), delimiter=";", encoding="latin-1")
    assert frame["TERM"].tolist() == ["caf\u00e9"]


def test_code_words_are_mapped_ignoring_case_and_spaces() -> None:
    frame = pd.DataFrame({"AVAL": ["Much improved", " much IMPROVED ", "3", None]})
    out = apply_code_maps(frame, {"AVAL": {"Much improved": 2}})
    assert out["AVAL"].tolist()[:3] == [2, 2, "3"]
    assert pd.isna(out["AVAL"].iloc[3])


@pytest.mark.parametrize(("data", "rule"), [
    (b"", "empty_file"),
    (b"\xef\xbb\xbf\n\n", "empty_file"),
    (HEADER.encode(), "no_data_rows"),
    (b"USUBJID,AGE,AGE\nS-1,12,12\n", "duplicated_column"),
    (b"USUBJID,,SEX\nS-1,12,M\n", "blank_column_name"),
    (b"USUBJID,AGE,SEX\nS-1,12\nS-2,13,M,extra\n", "field_count"),
    (b"USUBJID,AGE,SEX\nS-1,12,\xff\n", "encoding"),
])
def test_unreadable_csv_names_its_rule(tmp_path: Path, data: bytes, rule: str) -> None:
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, data))
    assert {c["rule"] for c in info.value.cases} == {rule}
    assert "subjects.csv" in str(info.value)


def test_every_ragged_row_is_reported_not_only_the_first(tmp_path: Path) -> None:
    data = b"USUBJID,AGE,SEX\nS-1,12\nS-2,13,M\nS-3,14,M,x\n"
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, data))
    assert [c["row"] for c in info.value.cases] == [2, 4]


def test_bad_encoding_names_row_and_column(tmp_path: Path) -> None:
    data = b"USUBJID,AGE,SEX\nS-1,12,M\nS-2,13,\xe9\n"
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, data))
    case = info.value.cases[0]
    assert (case["row"], case["column"]) == (3, "SEX")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as info:
        read_table(tmp_path / "absent.csv")
    assert info.value.cases[0]["rule"] == "file_not_found"


@pytest.mark.parametrize(("name", "rule"), [("x.parquet", "not_parquet"), ("x.xpt", "not_xpt")])
def test_file_not_of_its_declared_binary_format(tmp_path: Path, name: str, rule: str) -> None:
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, b"USUBJID,AGE\nS-1,12\n", name))
    assert info.value.cases[0]["rule"] == rule


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "subjects.parquet"
    pd.DataFrame({"USUBJID": ["S-1", "S-2"], "AGE": [12, 13]}).to_parquet(path)
    frame = read_table(path)
    assert frame[ROW_COLUMN].tolist() == [1, 2]
    assert frame["AGE"].tolist() == [12, 13]


def test_reading_does_not_change_the_file_or_its_timestamp(tmp_path: Path) -> None:
    path = write(tmp_path, b"USUBJID,AGE,SEX\r\nS-1,12,M\r\n")
    os.chmod(path, 0o444)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    read_table(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    files.atomic_write_text(target, "old\n")

    def fail(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_text(target, "new and longer\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left


def test_pipeline_reads_variant_files_to_the_same_validated_data(trial_copy: TrialCopy) -> None:
    """BOM, CRLF, ';' delimiter, quoted fields, numbers as '3.0', CGI-I as words, extra
    columns dropped: the validated scores equal those of the reference files."""
    reference = trial_copy.run()
    assert reference.stage is None, reference.message
    expected = pd.read_parquet(reference.results / "validated" / "scores.parquet")

    scores = trial_copy.path("scores")
    frame = pd.read_csv(scores, dtype=str, keep_default_na=False)
    words = {"2": "Much improved", "1": "Very much improved"}
    is_cgii = frame["PARAMCD"] == "CGII"
    frame.loc[is_cgii, "AVAL"] = frame.loc[is_cgii, "AVAL"].map(lambda v: words.get(v, v))
    frame["AVISITN"] = frame["AVISITN"] + ".0"
    frame["SITE"] = "site; 1"
    text = frame.to_csv(index=False, sep=";", lineterminator="\r\n", quoting=1)
    scores.write_bytes(b"\xef\xbb\xbf" + text.encode() + b"\r\n\r\n")
    trial_copy.trial["data"]["scores"].update(
        delimiter=";", extra_columns="drop",
        codes={"AVAL": {"Much improved": 2, "Very much improved": 1}})

    outcome = trial_copy.run()

    assert outcome.stage is None, outcome.message
    got = pd.read_parquet(outcome.results / "validated" / "scores.parquet")
    assert "SITE" not in got.columns
    pd.testing.assert_frame_equal(got.drop(columns=[ROW_COLUMN]),
                                  expected.drop(columns=[ROW_COLUMN]))


def test_pipeline_reads_sas_transport_files_like_the_csv_files(trial_copy: TrialCopy) -> None:
    from xpt_writer import write_xpt

    reference = trial_copy.run()
    assert reference.stage is None, reference.message
    for name, source in trial_copy.trial["data"].items():
        csv_path = trial_copy.path(name)
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            numbers = pd.to_numeric(frame[column].replace("", None), errors="coerce")
            if numbers.notna().sum() == (frame[column] != "").sum():
                frame[column] = numbers
        long_names = {c: c[:8] for c in frame.columns if len(c) > 8}  # XPT v5: 8 characters
        write_xpt(frame.rename(columns=long_names), csv_path.with_suffix(".xpt"), name[:8])
        source["path"] = source["path"].replace(".csv", ".xpt")
        if long_names:
            source["columns"] = {v: k for k, v in long_names.items()}

    outcome = trial_copy.run()

    assert outcome.stage is None, outcome.message
    for name in ["subjects", "scores", "adverse_events", "exposure"]:
        want = pd.read_parquet(reference.results / "validated" / f"{name}.parquet")
        got = pd.read_parquet(outcome.results / "validated" / f"{name}.parquet")
        assert got[ROW_COLUMN].tolist() == list(range(1, len(want) + 1))
        shared = [c for c in want.columns if c not in (ROW_COLUMN, "MGLURTIER")]
        pd.testing.assert_frame_equal(got[shared], want[shared])


def test_xpt_zero_is_read_as_zero_not_16_to_the_minus_65(tmp_path: Path) -> None:
    from xpt_writer import write_xpt

    path = tmp_path / "scores.xpt"
    write_xpt(pd.DataFrame({"USUBJID": ["S-1", "S-1"], "AVISITN": [0.0, 1.0],
                            "AVAL": [-0.0, None]}), path)
    frame = read_table(path)
    assert frame["AVISITN"].tolist() == [0.0, 1.0]
    assert frame["AVAL"].iloc[0] == 0.0 and pd.isna(frame["AVAL"].iloc[1])
    assert frame["USUBJID"].tolist() == ["S-1", "S-1"]
