"""Dataset-JSON as real writers write it (R's datasetjson through jsonlite): numbers as
text padded with blanks, missing values as ``"NA"``, and ADaM's Y/null flags. Each
leniency is read, counted in ``ingested/selection.csv``, and pinned at its edge: what is
one step past it is still refused, naming file, row, column and value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from datasetjson_writer import datasetjson_document, dump_datasetjson, write_datasetjson

from trialreport.analyse.safety import derive_var_trtemfl
from trialreport.common.config import AnalysisConfigError, Source
from trialreport.ingest.leniency import READ_AS, null_flags_as_n, read_as, unknown_onsets
from trialreport.ingest.reading import read_table
from trialreport.ingest.source import ROW_COLUMN, InputFileError
from trialreport.validate.contracts import load_contract

from conftest import SCHEMAS

FRAME = pd.DataFrame({
    "USUBJID": ["S-1", "S-2", "S-3", "S-4"],
    "AGE": pd.array([12, None, 0, 17], dtype="Int64"),
    "WEIGHT": [41.5, np.nan, 0.0, -1e-3],
    "TRTSDT": ["2014-01-02", None, "2014-02-01", "2014-03-01"],
    "TERM": ["headache", None, "NA", "tired"],
})
BOTH = {"missing_values": ("", "NA", "."), "text_missing_values": ("", "NA")}


def r_file(tmp_path: Path, frame: pd.DataFrame = FRAME, **types: str) -> Path:
    return write_datasetjson(frame, tmp_path / "adsl.json", "ADSL", r_style=True,
                             data_types={"TRTSDT": "date", **types})


def test_the_r_writer_writes_padded_text_and_na(tmp_path: Path) -> None:
    doc = json.loads(r_file(tmp_path).read_text())
    weights = [row[2] for row in doc["rows"]]
    assert weights == ["41.50000000000000", "NA", " 0.00000000000000",
                       "-0.00100000000000"]
    assert [row[1] for row in doc["rows"]] == ["12", "NA", " 0", "17"]
    assert doc["rows"][1][3] == "NA" and doc["rows"][1][4] == "NA"


def test_r_written_values_read_as_the_frame_they_were_written_from(tmp_path: Path) -> None:
    got = read_table(r_file(tmp_path), missing=BOTH)
    assert got["AGE"].tolist()[0] == 12 and np.isnan(got["AGE"][1]) and got["AGE"][2] == 0
    np.testing.assert_array_equal(got["WEIGHT"].to_numpy(), FRAME["WEIGHT"].to_numpy())
    assert got["TRTSDT"].tolist() == ["2014-01-02", pd.NA, "2014-02-01", "2014-03-01"]
    # "NA" in a text column is missing when text_missing_values lists it (the subject
    # whose TERM was the text "NA" cannot be told from a missing one: R wrote both alike)
    assert got["TERM"].isna().tolist() == [False, True, True, False]


def test_each_leniency_is_counted_per_column_with_its_first_row(tmp_path: Path) -> None:
    got = read_table(r_file(tmp_path), missing=BOTH)
    table = read_as(got, Source("subjects", "adsl.json"))
    assert set(table["records"]) == {READ_AS}
    def counted(words: str) -> dict[str, int]:
        rows = table[table["criterion"].str.contains(words, regex=False)]
        return dict(zip(rows["criterion"].str.split(":").str[0], rows["n"], strict=True))

    # three numbers each, as text; "NA" once each; padded to the widest value: " 0" in
    # AGE, " 0.00000000000000" in WEIGHT; TRTSDT's "NA" once; TERM's "NA" twice
    assert counted("written as text in a column") == {"AGE": 3, "WEIGHT": 3}
    assert counted("surrounding blanks") == {"AGE": 1, "WEIGHT": 1}
    assert counted('text "NA" read as a missing value') == {"AGE": 1, "WEIGHT": 1,
                                                           "TRTSDT": 1, "TERM": 2}
    assert table["criterion"].str.contains("first at row").all()
    assert "data.subjects.missing_values" in " ".join(table["criterion"])


def test_a_number_without_blanks_is_not_listed_as_padded(tmp_path: Path) -> None:
    doc = datasetjson_document(FRAME[["USUBJID", "WEIGHT"]], "ADSL")
    doc["rows"][0][1] = "41.5"
    path = tmp_path / "x.json"
    path.write_bytes(dump_datasetjson(doc))
    got = read_table(path)
    table = read_as(got, Source("subjects", "x.json"))
    assert got["WEIGHT"][0] == 41.5
    assert list(table["n"]) == [1] and "written as text in a column" in table["criterion"][0]


@pytest.mark.parametrize(("cell", "column", "why"), [
    (" 1.2x", "WEIGHT", "is text, but the column's dataType is a number"),
    ("  ", "TERM", None),  # blanks in text: a value the contract strips (not an error)
    (" N/A", "WEIGHT", "is text, but the column's dataType is a number"),
    (" 7.5", "AGE", "is not a whole number"),
    ("1 2", "WEIGHT", "is text, but the column's dataType is a number"),
])
def test_past_the_edge_text_that_is_no_number_is_refused_naming_the_cell(
        tmp_path: Path, cell: str, column: str, why: str | None) -> None:
    doc = datasetjson_document(FRAME, "ADSL", data_types={"TRTSDT": "date"})
    position = list(FRAME.columns).index(column)
    doc["rows"][2][position] = cell
    path = tmp_path / "adsl.json"
    path.write_bytes(dump_datasetjson(doc))
    if why is None:
        assert read_table(path)[column][2] == cell
        return
    with pytest.raises(InputFileError) as info:
        read_table(path)
    [case] = info.value.cases
    assert info.value.path == str(path)
    assert (case["row"], case["column"], case["value"]) == (3, column, json.dumps(cell))
    assert why in case["message"]


def test_a_token_is_missing_only_where_configured(tmp_path: Path) -> None:
    doc = datasetjson_document(FRAME, "ADSL", data_types={"TRTSDT": "date"})
    doc["rows"][0][2] = "N/A"
    path = tmp_path / "adsl.json"
    path.write_bytes(dump_datasetjson(doc))
    with pytest.raises(InputFileError):
        read_table(path)  # not in the default list
    got = read_table(path, missing={"missing_values": ("N/A",), "text_missing_values": ("",)})
    assert np.isnan(got["WEIGHT"][0])
    # with the default list, "NA" in a string column stays the text "NA"
    r_path = r_file(tmp_path)
    assert read_table(r_path)["TERM"].tolist()[1:3] == ["NA", "NA"]


def test_the_default_list_reads_na_and_dot_in_numbers_and_dates(tmp_path: Path) -> None:
    doc = datasetjson_document(FRAME, "ADSL", data_types={"TRTSDT": "date"})
    doc["rows"][0][2], doc["rows"][1][2], doc["rows"][0][3] = ".", " NA ", "NA"
    path = tmp_path / "adsl.json"
    path.write_bytes(dump_datasetjson(doc))
    got = read_table(path)
    assert got["WEIGHT"].isna().tolist() == [True, True, False, False]
    assert got["TRTSDT"].isna().tolist() == [True, True, False, False]


# ---------------------------------------------------------------------------------------
# ADaM's Y/null flags
# ---------------------------------------------------------------------------------------

AE = load_contract(SCHEMAS / "adverse_events.yaml")
SCORES = load_contract(SCHEMAS / "scores.yaml")


def _flags(values: list) -> pd.DataFrame:
    return pd.DataFrame({"TRTEMFL": pd.array(values, dtype="string"),
                         ROW_COLUMN: range(1, len(values) + 1)})


def test_a_y_null_flag_reads_null_as_n_and_says_so() -> None:
    out, lines = null_flags_as_n(_flags(["Y", None, " ", "Y"]), Source("adverse_events",
                                                                      "adae.json"), AE)
    assert out["TRTEMFL"].tolist() == ["Y", "N", "N", "Y"]
    assert lines["n"].tolist() == [2] and lines["records"].tolist() == [READ_AS]
    assert "TRTEMFL: empty read as N" in lines["criterion"][0]
    assert "first at row 2" in lines["criterion"][0]


@pytest.mark.parametrize("values", [["Y", "N", None], [None, None], ["Y", "Y"]])
def test_a_flag_with_n_or_without_y_or_without_empties_is_left_as_delivered(values) -> None:
    frame = _flags(values)
    out, lines = null_flags_as_n(frame, Source("adverse_events", "adae.json"), AE)
    assert out is frame and lines.empty


def test_a_flag_whose_contract_allows_only_y_keeps_its_empties() -> None:
    frame = pd.DataFrame({"ABLFL": pd.array(["Y", None], dtype="string"), ROW_COLUMN: [1, 2]})
    out, lines = null_flags_as_n(frame, Source("scores", "adqs.json"), SCORES)
    assert out["ABLFL"].isna().tolist() == [False, True] and lines.empty


def test_trtemfl_empty_beside_n_without_exposure_names_rows_and_the_real_fix() -> None:
    ae = pd.DataFrame({"USUBJID": ["A", "B", "C"], "ASTDY": [1, 2, 3],
                       "TRTEMFL": pd.array(["Y", "N", None], dtype="string"),
                       ROW_COLUMN: [2, 3, 4]})
    with pytest.raises(AnalysisConfigError) as info:
        derive_var_trtemfl(ae, pd.DataFrame())
    message = str(info.value)
    assert "rows 4" in message and "while others have N" in message
    assert "columns maps it" not in message
    without = ae.drop(columns="TRTEMFL")
    with pytest.raises(AnalysisConfigError, match="no TRTEMFL column"):
        derive_var_trtemfl(without, pd.DataFrame())


def test_a_population_flag_is_never_read_by_the_y_null_convention() -> None:
    """SAFFL is Y or N in ADaM: an empty one stays empty (and the contract refuses it)."""
    subjects = load_contract(SCHEMAS / "subjects.yaml")
    frame = pd.DataFrame({"SAFFL": pd.array(["Y", None], dtype="string"), ROW_COLUMN: [2, 3]})
    out, lines = null_flags_as_n(frame, Source("subjects", "adsl.json"), subjects)
    assert out["SAFFL"].isna().tolist() == [False, True] and lines.empty


def _events(days: list, flags: list | None) -> pd.DataFrame:
    frame = pd.DataFrame({"ASTDY": pd.array(days, dtype="string"),
                          ROW_COLUMN: range(2, len(days) + 2)})
    if flags is not None:
        frame["TRTEMFL"] = pd.array(flags, dtype="string")
    return frame


def test_an_event_without_onset_day_counted_as_emergent_is_named_by_row() -> None:
    source = Source("adverse_events", "ae.csv")
    [line] = unknown_onsets(_events(["3", "", " ", "-2"], None), source, True).to_dict(
        "records")
    assert (line["records"], line["n"]) == (READ_AS, 2)
    assert "(rows 3, 4)" in line["criterion"]
    # the analyses agree: those two, and only those, are treatment-emergent by default
    exposure = pd.DataFrame({"USUBJID": ["A"], "EXSTDY": [1]})
    events = _events(["3", "", " ", "-2"], None).assign(USUBJID="A")
    events["ASTDY"] = pd.to_numeric(events["ASTDY"].str.strip(), errors="coerce")
    assert derive_var_trtemfl(events, exposure)["TRTEMFL"].tolist() == ["Y", "Y", "Y", "N"]


@pytest.mark.parametrize(("days", "flags", "exposure"), [
    (["", "5"], ["N", "Y"], True),     # the sponsor's TRTEMFL decides
    (["1", "5"], None, True),          # every onset day known
    (["", "5"], None, False),          # no exposure: the derivation refuses instead
])
def test_no_line_where_nothing_rests_on_the_assumption(days, flags, exposure) -> None:
    lines = unknown_onsets(_events(days, flags), Source("adverse_events", "ae.csv"), exposure)
    assert lines.empty
