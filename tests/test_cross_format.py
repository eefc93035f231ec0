"""Values compared by what they mean across file formats (rule ``matches_subjects``): ADSL
variables repeated in another dataset agree when they hold the same value, whether one
file is SAS transport (dates as SAS numbers, numbers as numbers) and the other
Dataset-JSON or CSV (ISO 8601 dates, numbers written as text); and they still disagree,
row by row, when the values truly differ. Every file is written by the project's writers
and read by the ingest readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from datasetjson_writer import write_datasetjson
from xpt_writer import write_xpt

from trialreport.common.frames import write_csv
from trialreport.ingest.reading import read_table
from trialreport.ingest.records import as_dates, subject_copy_failures

# 2014-01-02 is SAS day 19725; 2014-01-02T10:30:00 is SAS second 19725 * 86400 + 37800
ADSL = pd.DataFrame({"USUBJID": ["01-001", "01-002"],
                     "TRTSDT": [19725.0, 19726.0],
                     "TRTSDTM": [19725 * 86400 + 37800.0, 19726 * 86400.0],
                     "AGE": [63.0, 71.0]})
AE_SAME = pd.DataFrame({"USUBJID": ["01-001", "01-001", "01-002"],
                        "AETERM": ["HEADACHE", "NAUSEA", "RASH"],
                        "TRTSDT": ["2014-01-02", "2014-01-02", "2014-01-03"],
                        "TRTSDTM": ["2014-01-02T10:30:00", "2014-01-02T10:30",
                                    "2014-01-03T00:00:00"],
                        "AGE": ["63", " 63.0", "71"]})


def test_sas_numbers_and_iso_text_of_the_same_day_reproduce_the_hand_count() -> None:
    assert as_dates(pd.Series([19725.0]), "date").tolist() == ["2014-01-02"]
    assert as_dates(pd.Series([0.0, -1.0]), "date").tolist() == ["1960-01-01", "1959-12-31"]
    assert as_dates(pd.Series([19725 * 86400 + 37800.0]), "datetime").tolist() == [
        "2014-01-02T10:30:00"]
    assert as_dates(pd.Series(["2014-01-02T23:59:59"]), "date").tolist() == ["2014-01-02"]
    assert as_dates(pd.Series([37800.0, "10:30"]), "time").tolist() == ["10:30:00",
                                                                         "10:30:00"]


def _read(tmp_path: Path, adsl_as: str, ae_as: str,
          ae: pd.DataFrame = AE_SAME) -> tuple[pd.DataFrame, pd.DataFrame]:
    paths = {}
    for name, frame, fmt in (("adsl", ADSL, adsl_as), ("adae", ae, ae_as)):
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "xpt":
            write_xpt(frame, path, name.upper())
        elif fmt == "json":
            write_datasetjson(frame, path, name.upper(), r_style=True,
                              data_types={c: t for c, t in (("TRTSDT", "date"),
                                                            ("TRTSDTM", "datetime"))
                                          if frame[c].dtype == object})
        else:
            write_csv(frame, path)
        paths[name] = path
    return read_table(paths["adsl"]), read_table(paths["adae"])


@pytest.mark.parametrize("ae_as", ["json", "csv"])
def test_same_values_in_xpt_and_text_formats_agree(tmp_path: Path, ae_as: str) -> None:
    adsl, adae = _read(tmp_path, "xpt", ae_as)
    assert pd.api.types.is_float_dtype(adsl["TRTSDT"])  # a SAS number, as XPT holds it
    assert adae["TRTSDT"].tolist()[0] == "2014-01-02"   # ISO text
    copies, fails = subject_copy_failures(adae, adsl, "adverse_events", "adae", "adsl",
                                          ["USUBJID", "AETERM"])
    assert copies == ["TRTSDT", "TRTSDTM", "AGE"]
    assert fails.empty, fails.to_dict("records")


def test_values_that_truly_differ_are_named_with_their_row_and_meaning(
        tmp_path: Path) -> None:
    ae = AE_SAME.copy()
    ae.loc[1, "TRTSDT"] = "2014-01-03"          # one day later than ADSL's 19725
    ae.loc[2, "TRTSDTM"] = "2014-01-03T00:00:01"  # one second later
    ae.loc[0, "AGE"] = "64"                      # text 64 against the number 63
    adsl, adae = _read(tmp_path, "xpt", "csv", ae)
    _, fails = subject_copy_failures(adae, adsl, "adverse_events", "adae.csv", "adsl.xpt",
                                     ["USUBJID", "AETERM"])
    got = {(int(r.row), r.column, r.value) for r in fails.itertuples()}
    # CSV rows: header is row 1, so the data rows are 2, 3, 4
    assert got == {(2, "AGE", "64"), (3, "TRTSDT", "2014-01-03"),
                   (4, "TRTSDTM", "2014-01-03T00:00:01")}
    message = fails.loc[fails["column"] == "TRTSDT", "message"].iloc[0]
    assert "the date 2014-01-02; here the date 2014-01-03" in message


def test_a_number_as_text_against_a_number_compares_as_a_number(tmp_path: Path) -> None:
    # ADSL as R writes it (AGE " 63.00000000000000" text read as 63) against ADAE in CSV
    # ("63", " 63.0"): text against text would call "63" and "63.0" different
    adsl, adae = _read(tmp_path, "json", "csv")
    assert adsl["AGE"].tolist() == [63.0, 71.0]
    _, fails = subject_copy_failures(adae, adsl, "adverse_events", "adae.csv", "adsl.json",
                                     ["USUBJID", "AETERM"])
    assert fails.empty, fails.to_dict("records")
    adae.loc[2, "AGE"] = "71.5"
    _, fails = subject_copy_failures(adae, adsl, "adverse_events", "adae.csv", "adsl.json",
                                     ["USUBJID", "AETERM"])
    assert fails[["column", "value"]].values.tolist() == [["AGE", "71.5"]]


def test_text_that_is_no_date_never_matches_a_date() -> None:
    adsl = pd.DataFrame({"USUBJID": ["A"], "TRTSDT": [19725.0], "SRCROW": [1]})
    adae = pd.DataFrame({"USUBJID": ["A", "A"], "TRTSDT": ["02JAN2014", ""],
                         "SRCROW": [2, 3]})
    _, fails = subject_copy_failures(adae, adsl, "adverse_events", "adae.csv", "adsl.xpt",
                                     ["USUBJID"])
    assert fails["row"].tolist() == [2, 3]
