"""Contracts: the YAML specifications, the trial's domains, warnings and exclusions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from trialreport.ingest.source import ROW_COLUMN
from trialreport.validate.contracts import (
    ColumnSpec,
    Contract,
    load_contract,
    validate_frame,
)
from trialreport.validate.domain import Domain
from trialreport.validate.rules import CONFIG_RULES, RULES, missing_baselines

from conftest import SCHEMAS, TrialCopy, reference_trial_config

DOCS = (SCHEMAS / "README.md").read_text(encoding="utf-8")


def test_every_rule_a_contract_or_config_can_name_is_explained_in_schemas_readme() -> None:
    for rule in [*RULES, *CONFIG_RULES]:
        assert f"`{rule}`" in DOCS, rule


def test_every_reading_rule_is_explained_in_schemas_readme() -> None:
    import trialreport.ingest

    folder = Path(trialreport.ingest.__file__).parent
    source = "".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.py")))
    for rule in ["file_not_found", "empty_file", "no_data_rows", "duplicated_column",
                 "blank_column_name", "field_count", "encoding", "not_parquet", "not_xpt",
                 "column_map", "unknown_format", "where_column", "where_selects_nothing"]:
        assert f'"{rule}"' in source, rule
        assert f"`{rule}`" in DOCS, rule


@pytest.mark.parametrize("name", ["subjects", "scores", "adverse_events", "exposure"])
def test_each_contract_loads_and_names_only_known_rules(name: str) -> None:
    contract = load_contract(SCHEMAS / f"{name}.yaml")
    assert contract.dataset == name
    assert set(contract.rules) <= set(RULES)
    assert all(c.description for c in contract.columns.values())


def test_trial_domains_come_from_the_config() -> None:
    domain = Domain.from_trial_config(reference_trial_config())
    assert domain.lookup("visit_names")[0] == "Baseline"
    assert domain.lookup("parameter_codes") == ["CGII", "CGIS"]
    assert domain.visit_days["Week 5"] == 36
    assert domain.visit_windows["Week 5"] == 3


def test_a_visit_can_override_the_window() -> None:
    trial = reference_trial_config()
    trial["design"]["visits"][5]["window_days"] = 7
    domain = Domain.from_trial_config(trial)
    assert (domain.visit_windows["Week 4"], domain.visit_windows["Week 5"]) == (3, 7)


def test_visit_window_rule_can_be_a_warning(trial_copy: TrialCopy) -> None:
    rows = trial_copy.path("scores").read_text(encoding="utf-8").split("\n")
    assert rows[2].startswith("NFC-1-001,CGII") and ",Week 2,2,14," in rows[2]
    rows[2] = rows[2].replace(",Week 2,2,14,", ",Week 2,2,25,")
    trial_copy.path("scores").write_text("\n".join(rows), encoding="utf-8")
    assert trial_copy.trial["validation"]["warn"] == ["ady_within_visit_window"]

    outcome = trial_copy.run()

    assert outcome.stage is None, outcome.message
    warnings = pd.read_csv(outcome.results / "validation" / "warnings.csv", dtype=str)
    assert warnings[["row", "column", "rule", "value", "severity"]].values.tolist() == [
        ["3", "AVISIT+ADY", "ady_within_visit_window", "AVISIT=Week 2; ADY=25", "warning"]]
    assert (outcome.results / "validated" / "scores.parquet").exists()


def test_only_dataset_rules_can_be_warnings(trial_copy: TrialCopy) -> None:
    trial_copy.trial["validation"]["warn"] = ["range"]
    outcome = trial_copy.run()
    assert outcome.stage == "validate"
    assert "cannot be warnings: range" in outcome.message


def test_missing_baseline_exclude_lists_the_subject_with_its_reason(
        trial_copy: TrialCopy) -> None:
    assert trial_copy.trial["validation"]["missing_baseline"] == "exclude"
    outcome = trial_copy.run()
    assert outcome.stage is None, outcome.message
    exclusions = pd.read_csv(outcome.results / "validation" / "exclusions.csv", dtype=str)
    assert exclusions[["row", "USUBJID", "PARAMCD", "rule"]].values.tolist() == [
        ["123", "NFC-1-012", "CGII", "baseline_present"]]
    assert "the baseline rating (Week 1) is empty" in exclusions["reason"].iloc[0]
    # the subject's data are kept: their week-5 rating still counts in the visit's mean
    scores = pd.read_parquet(outcome.results / "validated" / "scores.parquet")
    assert (scores["USUBJID"] == "NFC-1-012").sum() == 11


def test_missing_baselines_on_a_hand_made_frame() -> None:
    scores = pd.DataFrame({
        "USUBJID": ["A", "A", "B", "B", "C"],
        "PARAMCD": ["X"] * 5,
        "AVISITN": [0, 1, 0, 1, 1],
        "AVAL": [3.0, 2.0, None, 2.0, 4.0],
        ROW_COLUMN: [2, 3, 4, 5, 6],
    })
    got = missing_baselines(scores, {"X": {"baseline_visit": 0}}, {0: "Baseline"})
    assert got[["USUBJID", "row"]].values.tolist() == [["B", 4], ["C", 6]]
    assert "empty" in got["reason"].iloc[0] and "no baseline row" in got["reason"].iloc[1]


def test_config_schema_accepts_validation_settings_and_refuses_typos() -> None:
    import jsonschema

    schema = yaml.safe_load((SCHEMAS / "config.schema.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((SCHEMAS.parent / "config.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(config, schema)
    config["trials"]["fasoracetam_nfc1"]["validation"]["missing_baseline"] = "ignore"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, schema)


def test_rule_messages_say_what_the_config_expects(trial_copy: TrialCopy) -> None:
    rows = trial_copy.path("scores").read_text(encoding="utf-8").split("\n")
    rows[2] = rows[2].replace(",Week 2,2,14,4", ",Week 2,2,14,8")
    rows[3] = rows[3].replace(",Week 3,3,", ",Week 3,4,")
    trial_copy.path("scores").write_text("\n".join(rows), encoding="utf-8")
    outcome = trial_copy.run()
    failures = pd.read_csv(outcome.failures_csv, dtype=str).set_index("rule")
    assert failures.loc["aval_within_parameter_range", "message"].endswith(
        "(CGII ranges from 1 to 7)")
    assert failures.loc["visit_name_matches_number", "message"].endswith(
        "(Week 3 is visit number 3)")


def test_subjects_without_usubjid_do_not_flood_the_other_datasets(trial_copy: TrialCopy) -> None:
    path = trial_copy.path("subjects")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns="USUBJID")
    frame.to_csv(path, index=False)
    outcome = trial_copy.run()
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    assert failures[["file", "row", "column", "rule"]].values.tolist() == [
        ["data/fasoracetam_nfc1/subjects.csv", "1", "USUBJID", "required_column"]]


@pytest.mark.parametrize("column", ["EXSTDY", "EXENDY"])
def test_exposure_without_a_dosing_day_column_is_refused_by_name(trial_copy: TrialCopy,
                                                                  column: str) -> None:
    """The cross-dataset checks read EXSTDY and EXENDY: without one they stood down, or the
    stage stopped on a KeyError instead of naming the missing column."""
    path = trial_copy.path("exposure")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=column)
    frame.to_csv(path, index=False)
    outcome = trial_copy.run()
    assert outcome.stage == "validate" and "KeyError" not in outcome.message
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    assert ["data/fasoracetam_nfc1/exposure.csv", "1", column, "required_column"] in \
        failures[["file", "row", "column", "rule"]].values.tolist()


def test_extra_columns_are_carried_or_dropped_with_a_note(
        trial_copy: TrialCopy, caplog: pytest.LogCaptureFixture) -> None:
    # MGLURTIER (the variant tier) is not in the subjects contract
    outcome = trial_copy.run()
    kept = pd.read_parquet(outcome.results / "validated" / "subjects.parquet")
    assert "MGLURTIER" in kept.columns
    trial_copy.trial["data"]["subjects"]["extra_columns"] = "drop"
    from trialreport.validate.stage import log

    log.propagate = True
    try:
        with caplog.at_level("INFO", logger="trialreport"):
            outcome = trial_copy.run()
    finally:
        log.propagate = False
    dropped = pd.read_parquet(outcome.results / "validated" / "subjects.parquet")
    assert "MGLURTIER" not in dropped.columns
    assert "dropped column(s) the contract does not name: MGLURTIER" in caplog.text


def _typed_column(values: list[str], kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    contract = Contract(
        dataset="t", title="t", description="", key=(), rules=(),
        columns={"N": ColumnSpec("N", kind, nullable=True)})
    frame = pd.DataFrame({"N": pd.array(values, dtype="string"),
                          ROW_COLUMN: pd.array(range(2, len(values) + 2), dtype="int64")})
    domain = Domain.from_trial_config(reference_trial_config())
    return validate_frame(frame, contract, domain, "t.csv")


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e400", "2e19", "-1e19",
                                   "9223372036854775808", "-9223372036854775809",
                                   "18446744073709551616", "99999999999999999999"])
def test_integers_that_cannot_be_held_are_type_failures_not_int64_min(value: str) -> None:
    typed, failures = _typed_column(["7", value, "-9223372036854775808", "9223372036854775807"],
                                    "integer")
    assert failures[["row", "column", "rule", "value"]].values.tolist() == [
        [3, "N", "type", value]]
    assert "finite" in failures["message"][0] or "outside the range" in failures["message"][0]
    assert typed["N"].tolist()[0] == 7 and pd.isna(typed["N"].iloc[1])
    assert typed["N"].tolist()[2:] == [-(2**63), 2**63 - 1]


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e400"])
def test_non_finite_numbers_are_type_failures(value: str) -> None:
    typed, failures = _typed_column(["1.5", value], "number")
    assert failures[["row", "rule", "value"]].values.tolist() == [[3, "type", value]]
    assert "is not a finite number" in failures["message"][0]
    assert pd.isna(typed["N"].iloc[1])


def _exposure(rows: list[tuple[str, str, str, str, str]],
              periods: list[dict] | None = None) -> pd.DataFrame:
    trial = reference_trial_config()
    if periods is not None:
        trial["design"]["periods"] = periods
    domain = Domain.from_trial_config(trial)
    domain.subject_ids = sorted({r[0] for r in rows})
    frame = pd.DataFrame(rows, columns=["USUBJID", "APHASE", "EXDOSE", "EXSTDY", "EXENDY"],
                         dtype="string")
    frame[ROW_COLUMN] = pd.array(range(2, len(rows) + 2), dtype="int64")
    contract = load_contract(SCHEMAS / "exposure.yaml")
    return validate_frame(frame, contract, domain, "exposure.csv")[1]


def test_overlapping_dosing_intervals_name_every_row_involved() -> None:
    failures = _exposure([
        ("S-1", "PLACEBO", "0", "1", "7"),     # row 2: overlaps row 3
        ("S-1", "PLACEBO", "0", "7", "7"),     # row 3: overlaps rows 2 and 4 (day 7)
        ("S-1", "ACTIVE", "50", "8", "14"),    # row 4: no overlap (adjacent)
        ("S-1", "ACTIVE", "100", "20", "30"),  # row 5: overlaps row 6
        ("S-1", "ACTIVE", "200", "15", "21"),  # row 6: unsorted, overlaps row 5
        ("S-2", "PLACEBO", "0", "1", "7"),     # row 7: another subject, no overlap
        ("S-2", "ACTIVE", "50", "14", "8"),    # row 8: ends before it starts, not an overlap
    ])
    overlaps = failures[failures["rule"] == "no_overlapping_intervals"]
    assert overlaps["row"].tolist() == [2, 3, 5, 6]
    assert overlaps["column"].unique().tolist() == ["USUBJID+EXSTDY+EXENDY"]
    messages = dict(zip(overlaps["row"], overlaps["message"], strict=True))
    assert "days 7 to 7 of S-1 overlap row(s) 2" in messages[3]
    assert "days 20 to 30 of S-1 overlap row(s) 6" in messages[5]
    assert set(failures["rule"]) == {"no_overlapping_intervals", "end_not_before_start"}


def test_dosing_interval_within_its_period_and_dose_allowed_there() -> None:
    failures = _exposure([
        ("S-1", "PLACEBO", "400", "5", "30"),  # outside PLACEBO's days; not a placebo dose
        ("S-2", "ACTIVE", "0", "8", "14"),     # a dose ACTIVE does not allow
        ("S-3", "ACTIVE", "300", "8", "14"),   # not a planned dose: allowed_values only
    ])
    assert failures[["row", "rule", "value"]].values.tolist() == [
        [2, "dose_allowed_in_period", "APHASE=PLACEBO; EXDOSE=400"],
        [2, "interval_within_period", "APHASE=PLACEBO; EXSTDY=5; EXENDY=30"],
        [3, "dose_allowed_in_period", "APHASE=ACTIVE; EXDOSE=0"],
        [4, "allowed_values", "300"],
    ]
    assert "PLACEBO runs from day 1 to day 7" in failures["message"][1]
    assert "PLACEBO allows dose(s) 0" in failures["message"][0]


def test_periods_without_dose_levels_allow_any_planned_dose() -> None:
    periods = [{"name": "PLACEBO", "first_day": 1, "last_day": 7},
               {"name": "ACTIVE", "first_day": 8, "last_day": 37}]
    failures = _exposure([("S-1", "PLACEBO", "400", "1", "7"), ("S-1", "ACTIVE", "0", "8", "9")],
                         periods)
    assert failures.empty, failures.to_string()
