"""Cross-dataset checks, open exposure records and values not collected, each rule at its
edge and one step past (trialreport.validate.crosschecks, analyse.subjects.add_disposition,
analyse.safety.add_ae_overview, tables.display)."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from trialreport.analyse.ard import NOT_COLLECTED, ArdBuilder
from trialreport.analyse.safety import (
    add_ae_overview,
    derive_var_relfl,
    safety_columns,
    teae_frame,
)
from trialreport.analyse.subjects import add_disposition
from trialreport.common.config import Period
from trialreport.derive.derivations import derive_exposure_days
from trialreport.validate import crosschecks as cc

FILES = {"subjects": "adsl.csv", "adverse_events": "adae.csv", "exposure": "adex.csv",
         "scores": "adqs.csv"}
ALL = {"subjects": True, "adverse_events": True, "exposure": True, "scores": True}
STUDY = (Period("STUDY", "Whole study", 1, 60),)


def _subjects(**columns) -> pd.DataFrame:
    base = {"USUBJID": ["S1", "S2", "S3"], "TRT01P": "A", "SAFFL": "Y",
            "EOSSTAT": ["COMPLETED", "DISCONTINUED", "DISCONTINUED"],
            "DCSREAS": [None, "ADVERSE EVENT", "DEATH"], "SRCROW": [2, 3, 4]}
    return pd.DataFrame(base | columns)


def _ae(rows: list[tuple], **extra) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "AEDECOD", "ASTDY", "AEACN"])
    frame["SRCROW"] = range(2, 2 + len(frame))
    for name, values in extra.items():
        frame[name] = values
    return frame


def _ex(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["USUBJID", "EXDOSE", "EXSTDY", "EXENDY"])
    frame["EXENDY"] = frame["EXENDY"].astype("Int64")
    frame["APHASE"] = "STUDY"
    frame["SRCROW"] = range(2, 2 + len(frame))
    return frame


def _scores(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["USUBJID", "ADY"])


def _check(subjects, ae, ex, scores, severity="warning", delivered=ALL) -> pd.DataFrame:
    return cc.findings_frame(cc.consistency_findings(subjects, ae, ex, scores, FILES,
                                                     severity, delivered))


# --- discontinued for an adverse event ---------------------------------------------------


def test_discontinued_for_ae_needs_an_ae_with_drug_withdrawn():
    s = _subjects()
    ex = _ex([("S1", 10, 1, 30), ("S2", 10, 1, 20), ("S3", 10, 1, 20)])
    fatal = ("S3", "SYNCOPE", 5, "DRUG WITHDRAWN")
    ok = _ae([("S2", "NAUSEA", 5, "DRUG WITHDRAWN"), fatal], AEOUT=[None, "FATAL"])
    assert _check(s, ok, ex, _scores([])).empty
    # the same event with another action: S2 fails, named with its row and reason
    bad = _ae([("S2", "NAUSEA", 5, "DOSE NOT CHANGED"), fatal], AEOUT=[None, "FATAL"])
    found = _check(s, bad, ex, _scores([]))
    assert found["rule"].tolist() == ["ae_discontinuation_has_ae"]
    assert found["value"].tolist() == ["USUBJID=S2; DCSREAS=ADVERSE EVENT"]
    assert found["row"].tolist() == [3] and found["file"].tolist() == ["adsl.csv"]
    assert "no adverse event with action DRUG WITHDRAWN" in found["message"].iloc[0]
    assert "nor any adverse event record" not in found["message"].iloc[0]
    assert found["severity"].tolist() == ["warning"]
    # no event at all: said so
    none = _check(s, _ae([fatal], AEOUT=["FATAL"]), ex, _scores([]))
    assert "nor any adverse event record" in none["message"].iloc[0]


def test_without_aeacn_only_the_presence_of_an_event_is_checked():
    s = _subjects()
    ex = _ex([("S2", 10, 1, 20), ("S3", 10, 1, 20)])
    empty = _ae([("S2", "NAUSEA", 5, None), ("S3", "SYNCOPE", 5, None)], AEOUT=[None, "FATAL"])
    assert _check(s, empty, ex, _scores([])).empty
    found = _check(s, empty[empty["USUBJID"] == "S3"], ex, _scores([]))
    assert found["rule"].tolist() == ["ae_discontinuation_has_ae"]
    assert "AEACN is not collected" in found["message"].iloc[0]


def test_refuse_makes_every_finding_an_error_naming_the_key():
    s = _subjects()
    found = _check(s, _ae([("S3", "SYNCOPE", 5, "DRUG WITHDRAWN")]),
                   _ex([("S2", 10, 1, 20)]), _scores([]), severity="error")
    assert set(found["severity"]) == {"error"} and len(found) == 1
    assert "validation: consistency: warn" in found["message"].iloc[0]


# --- death ---------------------------------------------------------------------------------


def test_death_needs_a_fatal_ae_by_outcome_or_aesdth():
    s = _subjects()
    ex = _ex([("S2", 10, 1, 20), ("S3", 10, 1, 20)])
    rows = [("S2", "NAUSEA", 5, "DRUG WITHDRAWN"), ("S3", "SYNCOPE", 5, "DRUG WITHDRAWN")]
    assert _check(s, _ae(rows, AESDTH=["N", "Y"]), ex, _scores([])).empty
    found = _check(s, _ae(rows, AEOUT=["RECOVERED", "RECOVERED"]), ex, _scores([]))
    assert found["rule"].tolist() == ["death_has_fatal_ae"]
    assert found["value"].tolist() == ["USUBJID=S3; DCSREAS=DEATH"]
    # neither AEOUT nor AESDTH delivered: an event is enough, none is not
    assert _check(s, _ae(rows), ex, _scores([])).empty
    only_s2 = _check(s, _ae(rows[:1]), ex, _scores([]))
    assert only_s2["rule"].tolist() == ["death_has_fatal_ae"]
    assert "no AEOUT or AESDTH column" in only_s2["message"].iloc[0]


# --- onset after the last contact --------------------------------------------------------


@pytest.mark.parametrize(("onset", "flagged"), [(30, False), (31, True)])
def test_onset_on_the_last_contact_day_passes_one_day_later_does_not(onset, flagged):
    s = _subjects(DCSREAS=[None, None, None], EOSSTAT="COMPLETED")
    ex = _ex([("S1", 10, 1, 25)])
    scores = _scores([("S1", 1), ("S1", 30)])  # last contact: the rating on day 30
    found = _check(s, _ae([("S1", "NAUSEA", onset, None)]), ex, scores)
    assert len(found) == int(flagged)
    if flagged:
        assert found["rule"].tolist() == ["ae_onset_within_contact"]
        assert found["value"].tolist() == ["USUBJID=S1; ASTDY=31"]
        assert "last contact (day 30" in found["message"].iloc[0]


def test_last_contact_is_the_latest_rating_or_dosing_day():
    ex = _ex([("S1", 10, 1, 40), ("S2", 10, 1, None)])
    contact = cc.last_contact_days(_scores([("S1", 30), ("S2", 8), ("S2", 15)]), ex)
    assert contact.to_dict() == {"S1": 40.0, "S2": 15.0}


# --- exposure and the subject's own treatment end ------------------------------------------


@pytest.mark.parametrize(("end", "flagged"), [(43, False), (44, True)])
def test_dosing_may_end_on_the_last_dose_day_not_one_day_past(end, flagged):
    s = _subjects(DCSREAS=[None, None, None], EOSSTAT="COMPLETED", TRTDURD=[43, None, None])
    ex = _ex([("S1", 10, 1, end)])
    found = _check(s, _ae([]), ex, _scores([]))
    assert found["rule"].tolist() == (["exposure_within_treatment"] if flagged else [])
    if flagged:
        assert "after the subject's last dose day 43 (TRTDURD" in found["message"].iloc[0]


def test_treatment_end_from_dates_as_iso_text_or_sas_numbers():
    # 2020-01-01 to 2020-02-12 is 43 days; the SAS date number of 2020-01-01 is counted here
    sas_start = (date(2020, 1, 1) - date(1960, 1, 1)).days
    s = _subjects(TRTSDT=["2020-01-01", sas_start, "2020-01-01"],
                  TRTEDT=["2020-02-12", "2020-02-12", None])
    ex = _ex([("S1", 10, 1, None), ("S2", 10, 3, None), ("S3", 10, 1, None)])
    ends = cc.treatment_end_days(s, ex).set_index("USUBJID")
    # counted from each subject's first dosing day; S3 has no end date
    assert ends["end"].to_dict() == {"S1": 43.0, "S2": 45.0}
    assert set(ends["source"]) == {"TRTEDT - TRTSDT + 1"}


# --- open exposure records -----------------------------------------------------------------


def test_open_record_closes_at_the_treatment_end_and_is_listed():
    s = _subjects(TRTDURD=[1, 20, None])
    ex = _ex([("S1", 10, 1, None), ("S2", 10, 1, None), ("S2", 20, 15, 30)])
    closed, notes = cc.close_open_exposure(ex, s, STUDY, "flag", "adex.csv", "adsl.csv")
    # S1: one day of treatment, so day 1 (not the period's day 60); S2: the day before its
    # next record, which comes before its treatment end (day 20)
    assert closed["EXENDY"].tolist() == [1, 14, 30]
    assert [n["rule"] for n in notes] == ["open_exposure", "open_exposure"]
    assert {n["severity"] for n in notes} == {"note"}
    assert "closed at day 1, the subject's last dose day (TRTDURD in adsl.csv)" \
        in notes[0]["message"]
    assert "closed at day 14, the day before the subject's next dosing record" \
        in notes[1]["message"]
    assert ex["EXENDY"].isna().sum() == 2  # the input frame is not modified
    days = derive_exposure_days(closed, STUDY)
    assert days["EXDUR"].tolist() == [1.0, 14.0, 16.0]


def test_open_record_without_an_end_is_flagged_or_refused():
    s = _subjects()
    ex = _ex([("S1", 10, 5, None)])
    closed, notes = cc.close_open_exposure(ex, s, STUDY, "flag", "adex.csv", "adsl.csv")
    assert closed["EXENDY"].isna().all()  # left to the period's end, and said so
    assert notes[0]["severity"] == "note"
    assert "counted to day 60, the last day of period STUDY" in notes[0]["message"]
    assert derive_exposure_days(closed, STUDY)["EXDUR"].tolist() == [56.0]
    _, refused = cc.close_open_exposure(ex, s, STUDY, "refuse", "adex.csv", "adsl.csv")
    assert refused[0]["severity"] == "error" and refused[0]["row"] == 2
    assert "validation: open_exposure: flag" in refused[0]["message"]
    # a treatment end before the record starts closes nothing: said so, never a negative span
    early = _subjects(TRTDURD=[5, None, None])  # first dose day 1: last dose day 5
    two = _ex([("S1", 10, 1, 3), ("S1", 10, 10, None)])
    kept, notes = cc.close_open_exposure(two, early, STUDY, "flag", "adex.csv", "adsl.csv")
    assert kept["EXENDY"].tolist()[0] == 3 and kept["EXENDY"].isna().tolist() == [False, True]
    assert "it starts after the subject's last dose day (TRTDURD in adsl.csv), day 5: " \
        "counted to day 60" in notes[0]["message"]
    unbounded = (Period("STUDY", "Whole study", -math.inf, math.inf),)
    _, notes = cc.close_open_exposure(ex, s, unbounded, "flag", "adex.csv", "adsl.csv")
    assert "days on dose are not collected" in notes[0]["message"]


# --- events with no onset day ----------------------------------------------------------------


def test_event_without_onset_counted_emergent_is_named():
    ae = _ae([("S1", "RASH", None, None), ("S2", "RASH", None, None), ("S3", "RASH", 4, None)],
             TRTEMFL=[None, "Y", None])
    notes = cc.onset_missing_notes(ae, "adae.csv", has_exposure=True)
    assert [n["value"] for n in notes] == ["USUBJID=S1; AEDECOD=RASH; ASTDY="]
    assert notes[0]["row"] == 2 and notes[0]["rule"] == "onset_missing_counted_emergent"
    # a subject outside the safety population has no event counted, so no note
    assert cc.onset_missing_notes(ae, "adae.csv", True, _subjects(SAFFL=["Y", "Y", "Y"]))
    assert not cc.onset_missing_notes(ae, "adae.csv", True, _subjects(SAFFL=["N", "Y", "Y"]))
    assert not cc.onset_missing_notes(ae, "adae.csv", has_exposure=False)
    # the analysis does count it as emergent: the note describes what is done
    ex = _ex([("S1", 10, 1, 30)])
    subjects = _subjects()
    assert "S1" in set(teae_frame(ae.assign(AESEV="MILD", AESER="N", AEREL="NOT RELATED",
                                            AEBODSYS="SKIN", APHASE="STUDY"),
                                  ex, subjects)["USUBJID"])


def test_a_missing_relationship_or_action_read_by_a_convention_is_listed():
    """An empty AEREL counts as related and an empty AEACN (where other events have one) as
    not leading to discontinuation: each such event is named, so the counts show their
    assumption; a delivered value, a subject outside the safety population, a pre-treatment
    event, or an AEACN no event has (the row is then "not collected") gives no note."""
    ae = _ae([("S1", "RASH", 3, "DRUG WITHDRAWN"), ("S2", "NAUSEA", 4, None),
              ("S3", "COUGH", 5, "DOSE NOT CHANGED"), ("S3", "FEVER", -2, None)],
             AEREL=["RELATED", None, " ", "NOT RELATED"], TRTEMFL=["Y", "Y", "Y", "N"])
    notes = cc.missing_value_notes(ae, "adae.csv", _subjects())
    assert [(n["rule"], n["value"]) for n in notes] == [
        ("aerel_missing_counted_related", "USUBJID=S2; AEDECOD=NAUSEA; AEREL="),
        ("aerel_missing_counted_related", "USUBJID=S3; AEDECOD=COUGH; AEREL="),
        ("aeacn_missing_counted_not_withdrawn", "USUBJID=S2; AEDECOD=NAUSEA; AEACN=")]
    assert [n["row"] for n in notes] == [3, 4, 3] and {n["severity"] for n in notes} == {"note"}
    # outside the safety population: its events are not counted, so nothing is read for it
    outside = cc.missing_value_notes(ae, "adae.csv", _subjects(SAFFL=["Y", "N", "Y"]))
    assert [n["value"] for n in outside] == ["USUBJID=S3; AEDECOD=COUGH; AEREL="]
    # no event has an AEACN: not collected (a row of its own), not one note per event
    none = ae.assign(AEACN=None, AEREL="RELATED")
    assert cc.missing_value_notes(none, "adae.csv", _subjects()) == []
    # the relationship as the analysis reads it: empty and blank AEREL count as related
    assert derive_var_relfl(ae)["RELFL"].tolist() == ["Y", "Y", "Y", "N"]


# --- not collected, never 0 -----------------------------------------------------------------


def _disposition(subjects: pd.DataFrame) -> pd.DataFrame:
    ard = ArdBuilder("t", ["A"])
    add_disposition(ard, subjects, None, ["A"])
    return pd.DataFrame(ard.rows)


def test_disposition_without_eosstat_is_not_collected():
    rows = _disposition(_subjects().drop(columns=["EOSSTAT"]))
    for parameter in ("COMPLETED", "DISCONTINUED"):
        mine = rows[rows["parameter"] == parameter]
        assert len(mine) == 4 and mine["value"].isna().all()
        assert set(mine["method"]) == {"not collected: no EOSSTAT in the subjects data"}
    assert rows.loc[rows["parameter"] == "ENROLLED", "value"].tolist() == [3, 100, 3, 100]
    # empty for every subject is the same as absent
    blank = _disposition(_subjects(EOSSTAT=[" ", None, ""]))
    assert blank.loc[blank["parameter"] == "COMPLETED", "value"].isna().all()
    # delivered: a real 0 stays 0
    none_done = _disposition(_subjects(EOSSTAT="DISCONTINUED"))
    done = none_done[(none_done["parameter"] == "COMPLETED") & (none_done["statistic"] == "n")]
    assert done["value"].tolist() == [0, 0] and set(done["method"]) == {"count"}


def _overview(ae: pd.DataFrame, collected: bool | None = None) -> pd.DataFrame:
    subjects = _subjects()
    ex = _ex([("S1", 10, 1, 30), ("S2", 10, 1, 30), ("S3", 10, 1, 30)])
    ae = ae.assign(AESEV="MILD", AESER="N", AEREL="NOT RELATED", AEBODSYS="GI",
                   APHASE="STUDY")
    columns = safety_columns(subjects, ex, arms=["A"])
    ard = ArdBuilder("t", ["A"])
    add_ae_overview(ard, teae_frame(ae, ex, subjects), columns, collected)
    rows = pd.DataFrame(ard.rows)
    return rows[rows["parameter"] == "DISCONTINUATION"]


def test_ae_overview_discontinuation_without_aeacn_is_not_collected():
    rows = _overview(_ae([("S1", "NAUSEA", 3, None), ("S2", "NAUSEA", 4, None)]))
    assert len(rows) == 6 and rows["value"].isna().all()  # n, %, events; arm and Total
    assert set(rows["method"]) == {"not collected: no AEACN in the adverse events data"}
    # AEACN delivered, none withdrawn: a real 0
    real = _overview(_ae([("S1", "NAUSEA", 3, "DOSE NOT CHANGED")]))
    assert real["value"].tolist() == [0, 0, 0, 0, 0, 0] and set(real["method"]) == {"count"}
    one = _overview(_ae([("S1", "NAUSEA", 3, "DRUG WITHDRAWN")]))
    assert one.loc[one["statistic"] == "n_subjects", "value"].tolist() == [1, 1]


def test_tables_show_not_collected_and_data_checks_name_the_column():
    from types import SimpleNamespace

    from trialreport.report.sections.checks import not_collected_rows
    from trialreport.tables.display import disposition_table

    rows = _disposition(_subjects().drop(columns=["EOSSTAT"])).assign(
        trial="t", visit="", visitn=math.nan)
    table = disposition_table(rows, SimpleNamespace(design=SimpleNamespace(
        period_labels={}), tables=SimpleNamespace(labels={})))
    shown = table.set_index("Status")
    assert shown.loc["Completed"].tolist() == [NOT_COLLECTED]
    assert shown.loc["Enrolled"].tolist() == ["3 (100.0)"]
    lines = not_collected_rows(SimpleNamespace(ard=rows))
    assert lines == ['Disposition, COMPLETED, DISCONTINUED: no EOSSTAT in the subjects data, '
                     'so the table shows "not collected" (never 0); the ARD\'s value is empty, '
                     'its method "not collected: no EOSSTAT in the subjects data".']


# --- the shipped SAGA data -------------------------------------------------------------------


def test_shipped_saga_data_pass_every_cross_dataset_check():
    """The subjects, adverse events, exposure and ratings of data/fasoracetam_saga as
    shipped (9 subjects discontinued for an adverse event, each with an event whose action is
    DRUG WITHDRAWN), and the check does fail when one such action is taken away."""
    from conftest import ROOT

    data = ROOT / "data" / "fasoracetam_saga"
    read = {name: pd.read_csv(data / f"{name}.csv", dtype={"DCSREAS": "string",
                                                          "AEACN": "string"})
            for name in ("subjects", "adverse_events", "exposure", "scores")}
    files = {name: f"{name}.csv" for name in read}
    args = (read["subjects"], read["adverse_events"], read["exposure"], read["scores"])
    assert cc.consistency_findings(*args, files, "warning", ALL) == []
    ae = read["adverse_events"].copy()
    first = ae.index[ae["AEACN"] == "DRUG WITHDRAWN"][0]
    ae.loc[first, "AEACN"] = "DOSE NOT CHANGED"
    found = cc.consistency_findings(read["subjects"], ae, read["exposure"], read["scores"],
                                    files, "warning", ALL)
    assert [f["rule"] for f in found] == ["ae_discontinuation_has_ae"]
    assert found[0]["value"] == f"USUBJID={ae.loc[first, 'USUBJID']}; DCSREAS=ADVERSE EVENT"


def test_a_target_on_a_row_not_collected_says_so_instead_of_a_number(config):
    """SAGA's 'Completed' targets against a disposition without EOSSTAT: a mismatch whose
    reproduced text names the missing column, not 0 or 'nan'."""
    import copy

    from trialreport.reproduce.targets import reproduce

    trial = copy.deepcopy(config["trials"]["fasoracetam_saga"])
    trial["reproduction"]["targets"] = [t for t in trial["reproduction"]["targets"]
                                        if t["id"] in ("completed_nfc1", "enrolled")]
    subjects = _subjects(TRT01P=["Fasoracetam", "Placebo", "Fasoracetam"]).drop(
        columns=["EOSSTAT"])
    ard = ArdBuilder("t", ["Placebo", "Fasoracetam"])
    add_disposition(ard, subjects, None, ["Placebo", "Fasoracetam"])
    ard.add("enrolment", "n_subjects", 3, group="Total")
    table = reproduce(pd.DataFrame(ard.rows), trial).set_index("id")
    row = table.loc["completed_nfc1"]
    assert row["status"] == "mismatch" and row["reproduced_value"] == ""
    assert row["reproduced"] == "not collected: no EOSSTAT in the subjects data"
    assert table.loc["enrolled", "reproduced"] == "3"  # the rest is compared as before


@pytest.mark.parametrize("key", ["consistency", "open_exposure"])
def test_config_keys_default_and_refuse_an_unknown_value(config, key):
    import copy

    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    from trialreport.common.config import as_trial

    from conftest import ROOT

    trial = copy.deepcopy(config["trials"]["fasoracetam_saga"])
    parsed = as_trial(trial, "fasoracetam_saga").validation
    assert (parsed.consistency, parsed.open_exposure) == ("warn", "flag")
    trial["validation"][key] = "refuse"
    assert getattr(as_trial(trial, "fasoracetam_saga").validation, key) == "refuse"
    broken = copy.deepcopy(config)
    broken["trials"]["fasoracetam_saga"]["validation"][key] = "sometimes"
    with pytest.raises(WorkflowError, match="sometimes"):
        validate(broken, str(ROOT / "schemas" / "config.schema.yaml"))
