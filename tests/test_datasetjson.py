"""CDISC Dataset-JSON v1.1 (``.json`` and ``.ndjson``) is read like the other formats:
typed values, ``SRCROW``, and every file that is not Dataset-JSON v1.1 refused with the rule
``not_datasetjson`` and the row and column where that applies."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from datasetjson_writer import datasetjson_document, dump_datasetjson, write_datasetjson

from trialreport.common.frames import write_csv
from trialreport.ingest.reading import detect_format, read_table
from trialreport.ingest.source import ROW_COLUMN, InputFileError

from conftest import REFERENCE_TRIAL, SCHEMAS, TrialCopy

FRAME = pd.DataFrame({
    "USUBJID": ["S-1", "S-2", "Zoë-试", "S-4"],
    "AGE": np.array([12, 14, 9, 17], dtype="int64"),
    "VISITS": pd.array([3, None, 0, -2], dtype="Int64"),
    "WEIGHT": [41.5, np.nan, 0.1, 1e-7],
    "TERM": ["headache, mild", None, 'said "tired"', "ünïcödé ☃"],
})


def read_error(path: Path) -> InputFileError:
    with pytest.raises(InputFileError) as info:
        read_table(path)
    return info.value


def only_case(error: InputFileError) -> dict[str, Any]:
    assert len(error.cases) == 1, error.cases
    return error.cases[0]


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_a_round_trip_equals_the_same_frame_read_from_csv_cell_for_cell(
        tmp_path: Path, suffix: str) -> None:
    path = write_datasetjson(FRAME, tmp_path / f"dm{suffix}", "DM", ndjson=suffix == ".ndjson")
    write_csv(FRAME, tmp_path / "dm.csv")

    got = read_table(path)
    via_csv = read_table(tmp_path / "dm.csv")

    assert list(got.columns) == list(via_csv.columns) == [*FRAME.columns, ROW_COLUMN]
    assert {c: str(got[c].dtype) for c in FRAME} == {
        "USUBJID": "string", "AGE": "float64", "VISITS": "float64", "WEIGHT": "float64",
        "TERM": "string"}
    for column in FRAME:
        for row, (mine, theirs) in enumerate(zip(got[column], via_csv[column], strict=True)):
            if pd.isna(theirs):
                assert pd.isna(mine), (column, row, mine)
            elif got[column].dtype == "float64":
                assert mine == float(theirs), (column, row, mine, theirs)
            else:
                assert mine == theirs, (column, row, mine, theirs)
    # rows numbered from 1 (the CSV's first row is row 2: its header is row 1)
    assert got[ROW_COLUMN].tolist() == [1, 2, 3, 4]
    assert via_csv[ROW_COLUMN].tolist() == [2, 3, 4, 5]
    assert got["TERM"].tolist()[3] == "ünïcödé ☃" and got["USUBJID"].tolist()[2] == "Zoë-试"


def test_the_writer_is_deterministic_and_writes_the_required_attributes(tmp_path: Path) -> None:
    first = write_datasetjson(FRAME, tmp_path / "a.json", "DM", label="Demographics")
    second = write_datasetjson(FRAME, tmp_path / "b.json", "DM", label="Demographics")
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_bytes())
    assert {"datasetJSONCreationDateTime", "datasetJSONVersion", "fileOID",
            "dbLastModifiedDateTime", "originator", "sourceSystem", "studyOID",
            "metaDataVersionOID", "itemGroupOID", "records", "name", "label", "columns",
            "rows"} <= set(document)
    assert document["itemGroupOID"] == "IG.DM" and document["records"] == 4
    assert [(c["itemOID"], c["dataType"]) for c in document["columns"]] == [
        ("IT.DM.USUBJID", "string"), ("IT.DM.AGE", "integer"), ("IT.DM.VISITS", "integer"),
        ("IT.DM.WEIGHT", "double"), ("IT.DM.TERM", "string")]
    assert document["rows"][1] == ["S-2", 14, None, None, None]


# Written out by hand, not by the writer, so that the writer and the reader cannot share a
# mistake: every dataType, nulls, a decimal as text with a thousands separator, a date to be
# converted to a number (targetDataType integer) that stays text, and non-ASCII text.
LITERAL_META = """{"datasetJSONCreationDateTime": "2025-03-04T05:06:07",
 "datasetJSONVersion": "1.1",
 "itemGroupOID": "IG.ADSL", "name": "ADSL", "label": "Subject-Level Analysis Dataset",
 "records": 3,
 "columns": [
  {"itemOID": "IT.ADSL.USUBJID", "name": "USUBJID", "label": "Subject", "dataType": "string",
   "length": 8, "keySequence": 1},
  {"itemOID": "IT.ADSL.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
  {"itemOID": "IT.ADSL.HEIGHT", "name": "HEIGHT", "label": "Height", "dataType": "float"},
  {"itemOID": "IT.ADSL.WEIGHT", "name": "WEIGHT", "label": "Weight", "dataType": "double"},
  {"itemOID": "IT.ADSL.BMI", "name": "BMI", "label": "BMI", "dataType": "decimal",
   "targetDataType": "decimal", "length": 16},
  {"itemOID": "IT.ADSL.SAFE", "name": "SAFE", "label": "Safety", "dataType": "boolean"},
  {"itemOID": "IT.ADSL.TRTSDT", "name": "TRTSDT", "label": "Start", "dataType": "date",
   "targetDataType": "integer", "displayFormat": "E8601DA."},
  {"itemOID": "IT.ADSL.TRTSDTM", "name": "TRTSDTM", "label": "Start", "dataType": "datetime"},
  {"itemOID": "IT.ADSL.TRTSTM", "name": "TRTSTM", "label": "Start", "dataType": "time"},
  {"itemOID": "IT.ADSL.LINK", "name": "LINK", "label": "Link", "dataType": "URI"}
 ]"""
LITERAL_ROWS = [
    '["01-701", 63, 160.5, 70, "1,234.50", true, "2014-01-02", "2014-01-02T08:30:00",'
    ' "08:30", "https://example.org/a"]',
    '["01-702", null, null, null, null, null, null, null, null, null]',
    '["01-703", -4, 2e2, 55.25, "-0.5", false, "2014-02", "2014-02-03T09:00", "23:59:59",'
    ' ""]',
]
LITERAL_JSON = LITERAL_META + ',\n "rows": [\n  ' + ",\n  ".join(LITERAL_ROWS) + "\n ]\n}\n"
LITERAL_NDJSON = " ".join(LITERAL_META.split("\n")) + "}\n" + "\n".join(LITERAL_ROWS) + "\n"
LITERAL_EXPECTED = pd.DataFrame({
    "USUBJID": pd.array(["01-701", "01-702", "01-703"], dtype="string"),
    "AGE": [63.0, np.nan, -4.0],
    "HEIGHT": [160.5, np.nan, 200.0],
    "WEIGHT": [70.0, np.nan, 55.25],
    "BMI": [1234.5, np.nan, -0.5],
    "SAFE": pd.array([True, None, False], dtype="boolean"),
    "TRTSDT": pd.array(["2014-01-02", None, "2014-02"], dtype="string"),
    "TRTSDTM": pd.array(["2014-01-02T08:30:00", None, "2014-02-03T09:00"], dtype="string"),
    "TRTSTM": pd.array(["08:30", None, "23:59:59"], dtype="string"),
    "LINK": pd.array(["https://example.org/a", None, None], dtype="string"),
    ROW_COLUMN: pd.array([1, 2, 3], dtype="int64"),
})


@pytest.mark.parametrize(("name", "text"), [("adsl.json", LITERAL_JSON),
                                            ("adsl.ndjson", LITERAL_NDJSON),
                                            ("ADSL.NDJSON", LITERAL_NDJSON)])
def test_a_hand_written_file_is_read_as_pinned(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    pd.testing.assert_frame_equal(read_table(path), LITERAL_EXPECTED)


def test_ndjson_rows_are_numbered_among_data_rows_and_blank_lines_are_skipped(
        tmp_path: Path) -> None:
    lines = LITERAL_NDJSON.splitlines()
    path = tmp_path / "adsl.ndjson"
    path.write_text("\r\n".join([*lines[:2], "", *lines[2:], "", ""]), encoding="utf-8")
    frame = read_table(path)
    assert frame["USUBJID"].tolist() == ["01-701", "01-702", "01-703"]
    assert frame[ROW_COLUMN].tolist() == [1, 2, 3]


def test_an_integer_beyond_2_to_the_53_is_read_exactly(tmp_path: Path) -> None:
    big = 2**53 + 1
    document = datasetjson_document(pd.DataFrame({"ID": [1, 2, 3]}), "X")
    document["rows"] = [[big], [-big], [None]]
    path = tmp_path / "x.json"
    path.write_bytes(dump_datasetjson(document))
    assert str(big) in path.read_text()  # the file holds the exact number
    frame = read_table(path)
    assert frame["ID"].tolist()[:2] == ["9007199254740993", "-9007199254740993"]
    assert pd.isna(frame["ID"].iloc[2])
    assert float(big) == float(big - 1)  # why: as float64 it would have become 2**53


def test_integers_up_to_2_to_the_53_stay_numbers(tmp_path: Path) -> None:
    path = write_datasetjson(pd.DataFrame({"ID": [2**53, -(2**53)]}), tmp_path / "x.json", "X")
    frame = read_table(path)
    assert frame["ID"].dtype == "float64"
    assert frame["ID"].tolist() == [2.0**53, -(2.0**53)]


def test_the_format_is_told_from_the_extension_and_can_be_declared(tmp_path: Path) -> None:
    assert detect_format("a/b.JSON") == detect_format("b.ndjson") == "datasetjson"
    path = tmp_path / "dm.txt"  # .txt would be CSV; the config declares the format
    path.write_bytes(dump_datasetjson(datasetjson_document(FRAME, "DM")))
    assert read_table(path, "datasetjson")["USUBJID"].tolist()[0] == "S-1"
    with pytest.raises(InputFileError) as info:
        detect_format("dm.dat")
    assert "datasetjson" in info.value.message
    with pytest.raises(InputFileError) as info:
        read_table(path, "dataset-json")
    assert info.value.cases[0]["rule"] == "unknown_format"
    assert "datasetjson" in info.value.message


# ---------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------


def document() -> dict[str, Any]:
    frame = pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-3"], "AGE": [12, 13, 14],
                          "WEIGHT": [40.5, 41.0, 39.5], "SAFE": [True, False, True]})
    return copy.deepcopy(datasetjson_document(frame, "DM", "Demographics"))


def write(tmp_path: Path, doc: dict[str, Any], name: str = "dm.json") -> Path:
    path = tmp_path / name
    path.write_bytes(dump_datasetjson(doc, ndjson=name.endswith(".ndjson")))
    return path


def test_a_file_that_is_not_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "dm.json"
    text = dump_datasetjson(document()).decode()
    # the writer puts row 2 on line len(document) + 1 + 2
    lines = text.split("\n")
    row_line = len(document()) + 3
    assert lines[row_line - 1] == '    ["S-2", 13, 41.0, false],'
    lines[row_line - 1] = '    ["S-2", 13, 41.0,, false],'
    path.write_text("\n".join(lines), encoding="utf-8")
    case = only_case(read_error(path))
    assert case["rule"] == "not_datasetjson"
    assert f"line {row_line}, column 22" in case["message"]
    assert "not JSON" in case["message"]


def test_an_ndjson_line_that_is_not_json_names_its_line_and_row(tmp_path: Path) -> None:
    path = write(tmp_path, document(), "dm.ndjson")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[3] = '["S-3", 14, 39.5 true]'  # line 4: row 3
    path.write_text("\n".join(lines), encoding="utf-8")
    case = only_case(read_error(path))
    assert (case["rule"], case["row"]) == ("not_datasetjson", 3)
    assert "line 4, column 18" in case["message"]  # the "t" of true


def test_ndjson_in_a_json_file_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "dm.json"
    path.write_bytes(dump_datasetjson(document(), ndjson=True))
    case = only_case(read_error(path))
    assert case["rule"] == "not_datasetjson"
    assert "line 2, column 1" in case["message"] and ".ndjson" in case["message"]


@pytest.mark.parametrize(("text", "found"), [("[1, 2]", "an array"), ('"DM"', "text"),
                                             ("null", "null")])
def test_a_top_level_that_is_not_an_object_is_refused(tmp_path: Path, text: str,
                                                      found: str) -> None:
    path = tmp_path / "dm.json"
    path.write_text(text, encoding="utf-8")
    case = only_case(read_error(path))
    assert case["rule"] == "not_datasetjson"
    assert f"the top level is {found}, not a JSON object" in case["message"]


@pytest.mark.parametrize("columns", [None, [], {"USUBJID": "string"}])
def test_a_file_without_columns_is_refused(tmp_path: Path, columns: object) -> None:
    doc = document()
    if columns is None:
        del doc["columns"]
    else:
        doc["columns"] = columns
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"]) == ("not_datasetjson", "columns")
    assert "has no columns" in case["message"]


@pytest.mark.parametrize("name", ["dm.json", "dm.ndjson"])
def test_every_row_of_the_wrong_length_is_named(tmp_path: Path, name: str) -> None:
    doc = document()
    doc["rows"][1].append("surplus")
    doc["rows"][2].pop()
    error = read_error(write(tmp_path, doc, name))
    assert [(c["rule"], c["row"], c["column"]) for c in error.cases] == [
        ("not_datasetjson", 2, ""), ("not_datasetjson", 3, "")]
    assert "has 5 values but 'columns' has 4" in error.cases[0]["message"]
    assert "surplus" in error.cases[0]["value"]
    assert "has 3 values" in error.cases[1]["message"]
    if name.endswith(".ndjson"):
        assert "row 2 (line 3)" in error.cases[0]["message"]


@pytest.mark.parametrize("records", [2, 4])
def test_records_that_disagree_with_the_rows_are_refused(tmp_path: Path, records: int) -> None:
    doc = document()
    doc["records"] = records
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"], case["value"]) == ("not_datasetjson", "records",
                                                             str(records))
    assert f"'records' says {records} rows but the file has 3" in case["message"]


def test_a_truncated_ndjson_file_is_caught_by_its_records(tmp_path: Path) -> None:
    path = write(tmp_path, document(), "dm.ndjson")
    path.write_text("\n".join(path.read_text(encoding="utf-8").split("\n")[:3]) + "\n",
                    encoding="utf-8")
    case = only_case(read_error(path))
    assert case["rule"] == "not_datasetjson"
    assert "'records' says 3 rows but the file has 2" in case["message"]


@pytest.mark.parametrize("records", [None, "3", -1, True])
def test_records_must_be_a_count(tmp_path: Path, records: object) -> None:
    doc = document()
    if records is None:
        del doc["records"]
    else:
        doc["records"] = records
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"]) == ("not_datasetjson", "records")


@pytest.mark.parametrize(("column", "value", "data_type", "why"), [
    ("AGE", "12 y", "integer", '"12 y" is text'),  # "12" is read (test_real_writers.py)
    ("AGE", 12.5, "integer", "12.5 is not a whole number"),
    ("AGE", True, "integer", "true is a boolean"),
    ("WEIGHT", "40,5", "double", '"40,5" is text'),
    ("WEIGHT", [40.5], "double", "[40.5] is an array"),
    ("USUBJID", 2, "string", "2 is a number"),
    ("USUBJID", {"id": "S-2"}, "string", 'is an object'),
    ("SAFE", "N", "boolean", '"N" is text'),
    ("SAFE", 0, "boolean", "0 is a number"),
])
def test_a_value_of_the_wrong_json_type_names_its_row_and_column(
        tmp_path: Path, column: str, value: object, data_type: str, why: str) -> None:
    doc = document()
    position = [c["name"] for c in doc["columns"]].index(column)
    assert doc["columns"][position]["dataType"] == data_type
    doc["rows"][1][position] = value
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["row"], case["column"]) == ("not_datasetjson", 2, column)
    assert case["value"] == json.dumps(value)
    assert f"row 2, column {column}: " in case["message"] and why in case["message"]


def test_every_wrong_value_is_named_not_only_the_first(tmp_path: Path) -> None:
    doc = document()
    doc["rows"][0][1] = "twelve"
    doc["rows"][2][2] = "heavy"
    doc["rows"][2][1] = "14 y"
    error = read_error(write(tmp_path, doc, "dm.ndjson"))
    assert [(c["row"], c["column"], c["value"]) for c in error.cases] == [
        (1, "AGE", '"twelve"'), (3, "AGE", '"14 y"'), (3, "WEIGHT", '"heavy"')]
    assert "row 3 (line 4), column AGE" in error.cases[1]["message"]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_which_are_not_json_are_refused_where_they_are(
        tmp_path: Path, token: str) -> None:
    path = write(tmp_path, document())
    path.write_text(path.read_text(encoding="utf-8").replace("41.0", token), encoding="utf-8")
    case = only_case(read_error(path))
    assert (case["rule"], case["row"], case["column"], case["value"]) == (
        "not_datasetjson", 2, "WEIGHT", token)
    assert f"{token} is not JSON (NaN and Infinity are not JSON values" in case["message"]


@pytest.mark.parametrize(("value", "ok"), [("1,234.5", True), ("-.5", True), ("1e-3", True),
                                           ("", True), ("1,5", False), ("12,34.5", False),
                                           ("abc", False), ("nan", False), (" 1.5 ", True),
                                           ("1.5 x", False)])
def test_a_decimal_is_a_number_written_as_text(tmp_path: Path, value: str, ok: bool) -> None:
    doc = document()
    doc["columns"][2].update(dataType="decimal", targetDataType="decimal")
    doc["rows"][1][2] = value
    path = write(tmp_path, doc)
    if ok:
        got = read_table(path)["WEIGHT"].iloc[1]
        assert (pd.isna(got) if value == "" else got == float(value.replace(",", "")))
    else:
        case = only_case(read_error(path))
        assert (case["rule"], case["row"], case["column"]) == ("not_datasetjson", 2, "WEIGHT")


@pytest.mark.parametrize(("version", "accepted"), [
    ("1.1", True), ("1.1.0", True), ("1.1.3", True), ("1.0.0", False), ("1.2.0", False),
    ("1.10", False), ("2.0", False), (1.1, False), (None, False)])
def test_only_dataset_json_1_1_is_read(tmp_path: Path, version: object,
                                       accepted: bool) -> None:
    doc = document()
    if version is None:
        del doc["datasetJSONVersion"]
    else:
        doc["datasetJSONVersion"] = version
    path = write(tmp_path, doc)
    if accepted:
        assert len(read_table(path)) == 3
        return
    case = only_case(read_error(path))
    assert (case["rule"], case["column"]) == ("not_datasetjson", "datasetJSONVersion")
    found = "absent" if version is None else json.dumps(version)
    assert f"datasetJSONVersion is {found}" in case["message"]


def test_an_unknown_data_type_is_refused(tmp_path: Path) -> None:
    doc = document()
    doc["columns"][1]["dataType"] = "int"
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"], case["value"]) == ("not_datasetjson", "AGE", '"int"')


@pytest.mark.parametrize(("data", "name"), [(b"", "dm.json"), (b" \n\r\n", "dm.ndjson"),
                                            (b"\xef\xbb\xbf\n", "dm.json")])
def test_an_empty_file_is_refused_as_empty(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert only_case(read_error(path))["rule"] == "empty_file"


@pytest.mark.parametrize("name", ["dm.json", "dm.ndjson"])
def test_a_file_without_rows_has_no_data_rows(tmp_path: Path, name: str) -> None:
    doc = document()
    doc["rows"], doc["records"] = [], 0
    assert only_case(read_error(write(tmp_path, doc, name)))["rule"] == "no_data_rows"
    del doc["rows"]  # "rows" is optional in v1.1: metadata only
    assert only_case(read_error(write(tmp_path, doc, name)))["rule"] == "no_data_rows"


def test_two_columns_of_one_name_are_refused(tmp_path: Path) -> None:
    doc = document()
    doc["columns"][2]["name"] = "AGE"
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"]) == ("duplicated_column", "AGE")


def test_a_column_without_a_name_is_refused(tmp_path: Path) -> None:
    doc = document()
    doc["columns"][1]["name"] = " "
    case = only_case(read_error(write(tmp_path, doc)))
    assert (case["rule"], case["column"]) == ("blank_column_name", "field 2")


def test_bytes_that_are_not_text_in_the_encoding_name_the_row(tmp_path: Path) -> None:
    path = write(tmp_path, document(), "dm.ndjson")
    path.write_bytes(path.read_bytes().replace(b"S-3", b"S-\xe9"))
    case = only_case(read_error(path))
    assert (case["rule"], case["row"]) == ("encoding", 3)
    assert "line 4" in case["message"]


def test_the_rule_is_explained_in_schemas_readme() -> None:
    docs = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    assert "| `not_datasetjson` |" in docs


# ---------------------------------------------------------------------------------------
# Through the pipeline
# ---------------------------------------------------------------------------------------


def as_datasetjson(trial_copy: TrialCopy, name: str, suffix: str) -> Path:
    """Rewrite one dataset of the trial as Dataset-JSON, numbers as numbers."""
    csv_path = trial_copy.path(name)
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    for column in frame.columns:
        numbers = pd.to_numeric(frame[column].replace("", None), errors="coerce")
        if numbers.notna().sum() == (frame[column] != "").sum():
            frame[column] = numbers
    frame = frame.replace("", None)
    path = write_datasetjson(frame, csv_path.with_suffix(suffix), name.upper(),
                             ndjson=suffix == ".ndjson")
    csv_path.unlink()
    source = trial_copy.trial["data"][name]
    source["path"] = str(Path(source["path"]).with_suffix(suffix))
    return path


def test_the_pipeline_reads_dataset_json_like_the_csv_files(trial_copy: TrialCopy) -> None:
    reference = trial_copy.run()
    assert reference.stage is None, reference.message
    for name, suffix in [("subjects", ".json"), ("scores", ".json"),
                         ("adverse_events", ".ndjson"), ("exposure", ".ndjson")]:
        as_datasetjson(trial_copy, name, suffix)

    outcome = trial_copy.run()

    assert outcome.stage is None, outcome.message
    for name in ["subjects", "scores", "adverse_events", "exposure"]:
        want = pd.read_parquet(reference.results / "validated" / f"{name}.parquet")
        got = pd.read_parquet(outcome.results / "validated" / f"{name}.parquet")
        assert got[ROW_COLUMN].tolist() == list(range(1, len(want) + 1))
        pd.testing.assert_frame_equal(got.drop(columns=ROW_COLUMN),
                                      want.drop(columns=ROW_COLUMN))


def test_the_pipeline_reports_a_bad_dataset_json_value_with_its_row_and_column(
        trial_copy: TrialCopy) -> None:
    path = as_datasetjson(trial_copy, "scores", ".json")
    doc = json.loads(path.read_bytes())
    aval = [c["name"] for c in doc["columns"]].index("AVAL")
    doc["rows"][4][aval] = "five"
    path.write_bytes(dump_datasetjson(doc))
    before = trial_copy.hashes()

    outcome = trial_copy.run()

    assert outcome.stage == "ingest"
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    assert failures[["file", "row", "column", "rule", "value"]].values.tolist() == [
        [trial_copy.trial["data"]["scores"]["path"], "5", "AVAL", "not_datasetjson",
         '"five"']]
    assert "not_datasetjson" in outcome.message and "scores.json" in outcome.message
    assert not (outcome.results / "ingested").exists()
    assert trial_copy.hashes() == before


def test_the_config_schema_accepts_format_datasetjson(config: dict) -> None:
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    schema = str(SCHEMAS / "config.schema.yaml")
    declared = copy.deepcopy(config)
    declared["trials"][REFERENCE_TRIAL]["data"]["scores"]["format"] = "datasetjson"
    validate(declared, schema)
    declared["trials"][REFERENCE_TRIAL]["data"]["scores"]["format"] = "dsjson"
    with pytest.raises(WorkflowError, match="dsjson"):
        validate(declared, schema)


def test_an_ndjson_row_broken_over_two_lines_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, document(), "dm.ndjson")
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2:3] = ['["S-2", 13,', "41.0, false]"]  # row 2 over lines 3 and 4
    path.write_text("\n".join(lines), encoding="utf-8")
    case = only_case(read_error(path))
    assert (case["rule"], case["row"]) == ("not_datasetjson", 2)
    assert "line 3, column" in case["message"]


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    assert only_case(read_error(tmp_path / "absent.ndjson"))["rule"] == "file_not_found"
