"""Real-world deliveries by config alone, run in-process through every stage
(tests/delivery_fixtures.py writes them; tests/test_deliveries_e2e.py runs the same through
snakemake): a non-ADaM efficacy delivery whose population flags, visit names and parameter
come from the config, and R-written Dataset-JSON mixed with SAS transport. The answers are
counted here from the fixtures' own frames."""

from __future__ import annotations

from pathlib import Path

import delivery_fixtures as fx
import pandas as pd
import pytest
import yaml
from test_adam_delivery import run_stages

from trialreport.analyse.ard import read_ard
from trialreport.common.runner import StageError


def _entry(config: str, **changes) -> dict:
    entry = yaml.safe_load(config)
    for path, value in changes.items():
        node = entry
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return entry


def _run(root: Path, trial_id: str, entry: dict, through: str = "tables") -> Path:
    write = fx.write_plain if trial_id == fx.PLAIN_ID else fx.write_r_mixed
    write(root / trial_id)
    return run_stages(root, trial_id, entry, through)


def _refusal(root: Path, trial_id: str, entry: dict) -> tuple[str, pd.DataFrame]:
    with pytest.raises(StageError) as info:
        _run(root, trial_id, entry, "validate")
    failures = root / "results" / trial_id / "validation" / "failures.csv"
    return str(info.value), pd.read_csv(failures, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("plain")
    return _run(root, fx.PLAIN_ID, _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID)))


def _week6(out: Path, arm: str, statistic: str) -> float:
    ard = read_ard(out / "ard.csv")
    row = ard[(ard["analysis"] == "by_visit") & (ard["visitn"] == 6)
              & (ard["group"] == arm) & (ard["statistic"] == statistic)]
    assert len(row) == 1
    return float(row["value"].iloc[0])


def test_plain_delivery_forms_its_populations_and_says_how(plain: Path) -> None:
    sel = pd.read_csv(plain / "ingested" / "selection.csv")
    formed = sel[sel["records"] == "formed"].set_index("criterion")["n"]
    _, ratings = fx.plain_frames()
    with_base = ratings.loc[ratings["VisitNo"] == 0, "Subject"].nunique()  # 11 of 12
    assert formed[formed.index.str.startswith("EFFFL = Y: randomized")].tolist() == [
        with_base]
    assert formed["EFFFL = N: the other subjects"] == 12 - with_base == 1
    assert formed[formed.index.str.startswith("SAFFL = Y")].tolist() == [12]
    assert formed[formed.index.str.startswith("AVISIT from AVISITN")].tolist() == [
        len(ratings)]
    assert formed[formed.index.str.startswith("PARAMCD = ADHDRS")].tolist() == [len(ratings)]
    subjects = pd.read_parquet(plain / "validated" / "subjects.parquet")
    assert subjects.set_index("USUBJID")["EFFFL"].to_dict() == {
        s: "N" if s == "A06" else "Y" for s in subjects["USUBJID"]}
    scores = pd.read_parquet(plain / "validated" / "scores.parquet")
    assert sorted(scores["AVISIT"].unique()) == ["Baseline", "Week 2", "Week 4", "Week 6"]
    assert (scores.groupby("AVISITN")["AVISIT"].nunique() == 1).all()


def test_plain_delivery_analyses_the_efficacy_population_by_hand_count(plain: Path) -> None:
    _, ratings = fx.plain_frames()
    week6 = ratings[(ratings["VisitNo"] == 6) & (ratings["Subject"] != "A06")]
    for arm, prefix in (("Placebo", "P"), ("Active", "A")):
        scores = week6.loc[week6["Subject"].str.startswith(prefix), "Score"]
        assert _week6(plain, arm, "n") == len(scores)
        assert _week6(plain, arm, "mean") == pytest.approx(scores.mean(), abs=1e-12)


def test_the_population_rule_decides_who_is_analysed(tmp_path: Path) -> None:
    """One step back from the rule (EFFFL: randomized, no baseline condition): A06, who
    has a week-6 rating but no baseline, is analysed at week 6."""
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID), design__populations__EFFFL="randomized")
    out = _run(tmp_path, fx.PLAIN_ID, entry)
    assert _week6(out, "Active", "n") == 6


def test_without_declared_populations_each_missing_column_names_its_config_key(
        tmp_path: Path) -> None:
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID), design__populations=None)
    entry["data"]["scores"]["columns"].pop("VisitNo")
    entry["design"]["parameters"]["OTHER"] = dict(entry["design"]["parameters"]["ADHDRS"])
    message, failures = _refusal(tmp_path, fx.PLAIN_ID, entry)
    missing = failures[failures["rule"] == "required_column"].set_index("column")["message"]
    assert sorted(missing.index) == ["AVISIT", "AVISITN", "EFFFL", "PARAMCD", "SAFFL"]
    assert "the config can derive it: design.populations.SAFFL" in missing["SAFFL"]
    assert "the config can derive it: design.populations.EFFFL" in missing["EFFFL"]
    assert "design.visits, from AVISITN" in missing["AVISIT"]
    assert "design.parameters when it names one parameter" in missing["PARAMCD"]
    assert "required_column 5" in message


def test_a_flag_in_the_file_and_in_the_config_is_refused(tmp_path: Path) -> None:
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID))
    entry["data"]["subjects"]["columns"]["Sex"] = "SAFFL"  # a column named as the flag
    _, failures = _refusal(tmp_path, fx.PLAIN_ID, entry)
    [row] = failures.to_dict("records")
    assert (row["rule"], row["column"]) == ("population_declared_twice", "SAFFL")
    assert "design.populations.SAFFL" in row["message"]


@pytest.mark.parametrize(("rule", "words"), [
    ({"has_baseline": ["CGII"]}, "has_baseline names 'CGII', which is not a parameter"),
    ({"where": {"ITTFL": "Y"}}, "where names column 'ITTFL', which is not in the subjects"),
])
def test_a_rule_naming_what_the_trial_lacks_is_refused_naming_its_key(
        tmp_path: Path, rule: dict, words: str) -> None:
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID), design__populations__EFFFL=rule)
    _, failures = _refusal(tmp_path, fx.PLAIN_ID, entry)
    assert failures["rule"].tolist() == ["population_rule"]
    assert f"design.populations.EFFFL.{words.split(' ')[0]}" in failures["message"][0]
    assert words in failures["message"][0]


def test_a_where_rule_on_subjects_columns_forms_the_flag(tmp_path: Path) -> None:
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID),
                   design__populations__EFFFL={"where": {"SEX": "F"}, "has_baseline": True})
    out = _run(tmp_path, fx.PLAIN_ID, entry, "validate")
    subjects, ratings = fx.plain_frames()
    women = set(subjects.loc[subjects["Sex"] == "F", "Subject"]) - {"A06"}
    flags = pd.read_parquet(out / "validated" / "subjects.parquet").set_index("USUBJID")
    assert set(flags.index[flags["EFFFL"] == "Y"]) == women


# ---------------------------------------------------------------------------------------
# R-written Dataset-JSON with SAS transport
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def r_mixed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rmixed")
    return _run(root, fx.R_MIXED_ID, _entry(fx.R_MIXED_CONFIG(fx.R_MIXED_ID)))


def test_every_leniency_is_listed_with_the_count_of_cells_it_touched(r_mixed: Path) -> None:
    f = fx.r_frames()
    sel = pd.read_csv(r_mixed / "ingested" / "selection.csv")
    lines = sel[sel["records"] == "read as"]

    def n(dataset: str, start: str) -> list[int]:
        rows = lines[(lines["dataset"] == dataset) & lines["criterion"].str.startswith(start)]
        return rows["n"].tolist()

    adsl, adae = f["adsl"], f["adae"]
    assert n("subjects", 'DCSREAS: text "NA"') == [int(adsl["DCSREAS"].isna().sum())]
    assert n("subjects", 'HEIGHT: text "NA"') == [int(adsl["HEIGHT"].isna().sum())]
    widths = adsl["WEIGHT"].map(lambda v: len(f"{v:.14f}"))
    assert n("subjects", "WEIGHT: number(s) written as text with surrounding") == [
        int((widths < widths.max()).sum())]
    assert n("adverse_events", 'TRTEMFL: text "NA"') == [int(adae["TRTEMFL"].isna().sum())]
    assert n("adverse_events", "TRTEMFL: empty read as N") == [
        int(adae["TRTEMFL"].isna().sum())]
    assert n("adverse_events", "ASTDY: number(s) written as text in a column") == [len(adae)]


def test_the_mixed_delivery_counts_treatment_emergent_events_by_hand(r_mixed: Path) -> None:
    f = fx.r_frames()
    arm = f["adsl"].set_index("USUBJID")["TRT01P"]
    teae = f["adae"][f["adae"]["TRTEMFL"] == "Y"]
    ard = read_ard(r_mixed / "ard.csv")
    overview = ard[(ard["analysis"] == "ae_overview") & (ard["parameter"] == "ANY")]
    for group in ("Placebo", "Active"):
        mine = teae[teae["USUBJID"].map(arm) == group]
        got = overview[overview["group"] == group].set_index("statistic")["value"]
        assert (float(got["n_subjects"]), float(got["n_events"])) == (
            mine["USUBJID"].nunique(), len(mine))


def test_the_mixed_delivery_takes_sas_dates_and_iso_dates_as_the_same(r_mixed: Path) -> None:
    warnings = pd.read_csv(r_mixed / "validation" / "w.csv")
    assert warnings.empty
    scores = pd.read_parquet(r_mixed / "validated" / "scores.parquet")
    assert "TRTSDT" not in scores.columns  # the copy, checked against ADSL, is dropped


# ---------------------------------------------------------------------------------------
# Each completion at its edge
# ---------------------------------------------------------------------------------------


def _design():
    from trialreport.common.config import Trial

    return Trial.parse(fx.PLAIN_ID, _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID))).design


def test_a_baseline_is_a_rating_at_the_baseline_visit_or_a_delivered_base() -> None:
    from trialreport.ingest.populations import form_populations

    subjects = pd.DataFrame({"USUBJID": ["a", "b", "c", "d"],
                             "TRT01P": ["Placebo", "Active", "Active", "Placebo"]})
    scores = pd.DataFrame({
        "USUBJID": ["a", "b", "b", "c", "d"], "PARAMCD": ["ADHDRS"] * 5,
        "AVISITN": ["0", "2", "0", "0", "6"],
        "AVAL": ["30", "28", "", "31", "20"],   # b's baseline rating is empty
        "BASE": ["", "", "", "", "25"]})        # d: no baseline record, BASE delivered
    out, _ = form_populations(subjects, scores, _design(), "subjects.csv")
    assert out.set_index("USUBJID")["EFFFL"].to_dict() == {"a": "Y", "b": "N", "c": "Y",
                                                          "d": "Y"}


def test_a_subject_without_an_arm_is_not_randomized() -> None:
    from trialreport.ingest.populations import form_populations

    subjects = pd.DataFrame({"USUBJID": ["a", "b"], "TRT01P": ["Placebo", " "]})
    out, lines = form_populations(subjects, pd.DataFrame(columns=["USUBJID"]), _design(),
                                  "subjects.csv")
    assert out["SAFFL"].tolist() == ["Y", "N"]
    assert lines.set_index("criterion")["n"].filter(like="SAFFL").tolist() == [1, 1]


def test_a_visit_number_not_in_design_visits_gets_no_name() -> None:
    from trialreport.common.config import Source
    from trialreport.ingest.populations import fill_visit_names

    frame = pd.DataFrame({"AVISITN": ["0", "6", "3", "6.0", ""]})
    out, lines = fill_visit_names(frame, Source("scores", "r.csv"), _design())
    assert out["AVISIT"].tolist() == ["Baseline", "Week 6", pd.NA, "Week 6", pd.NA]
    assert lines["n"].tolist() == [3]


def test_subjects_without_an_identifier_are_refused_by_the_contract_not_a_traceback(
        tmp_path: Path) -> None:
    entry = _entry(fx.PLAIN_CONFIG(fx.PLAIN_ID))
    entry["data"]["subjects"]["columns"] = {"Group": "TRT01P", "Sex": "SEX"}
    _, failures = _refusal(tmp_path, fx.PLAIN_ID, entry)
    missing = failures[failures["rule"] == "required_column"]
    assert set(missing["column"]) >= {"USUBJID", "SAFFL", "EFFFL"}
