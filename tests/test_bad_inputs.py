"""Bad-input corpus: small mutations of the reference data, each of which must be refused.

Each case copies the reference trial into a temporary folder, applies one mutation (to a
file, or to the trial's config), runs ingest and validate in-process as the workflow does,
and asserts that:
- the data are refused (the stage raises ``StageError``, i.e. the rule exits non-zero);
- the console message and ``validation/failures.csv`` name the file, row, column, rule and
  offending value, and ``validation/summary.md`` is written;
- nothing downstream exists (no validated data, no report.html);
- the input files' bytes are unchanged by the run.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from trialreport.common.runner import StageError, run_stage

from conftest import TrialCopy

# ---------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def set_field(dataset: str, row: int, column: str, value: str) -> Callable[[TrialCopy], None]:
    """Set one cell; ``row`` is the row as the user sees it (header = 1)."""

    def mutate(t: TrialCopy) -> None:
        rows = _rows(t.path(dataset))
        rows[row - 1][rows[0].index(column)] = value
        _write_rows(t.path(dataset), rows)

    return mutate


def set_fields(dataset: str, row: int, **values: str) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        for column, value in values.items():
            set_field(dataset, row, column, value)(t)

    return mutate


def duplicate_row(dataset: str, row: int) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        rows = _rows(t.path(dataset))
        _write_rows(t.path(dataset), [*rows, rows[row - 1]])

    return mutate


def delete_row(dataset: str, row: int) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        rows = _rows(t.path(dataset))
        del rows[row - 1]
        _write_rows(t.path(dataset), rows)

    return mutate


def drop_column(dataset: str, column: str) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        rows = _rows(t.path(dataset))
        i = rows[0].index(column)
        _write_rows(t.path(dataset), [r[:i] + r[i + 1:] for r in rows])

    return mutate


def rename_column(dataset: str, old: str, new: str) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        rows = _rows(t.path(dataset))
        rows[0][rows[0].index(old)] = new
        _write_rows(t.path(dataset), rows)

    return mutate


def write_bytes(dataset: str, data: bytes) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        t.path(dataset).write_bytes(data)

    return mutate


def header_only(dataset: str) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        header = t.path(dataset).read_bytes().split(b"\n", 1)[0]
        t.path(dataset).write_bytes(header + b"\n\n")

    return mutate


def delete_file(dataset: str) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        t.path(dataset).unlink()

    return mutate


def latin1_byte(dataset: str, row: int, column: str) -> Callable[[TrialCopy], None]:
    """Put 'é' as Latin-1 (byte 0xE9, not UTF-8) into one cell."""

    def mutate(t: TrialCopy) -> None:
        set_field(dataset, row, column, "caf\u00e9")(t)
        raw = t.path(dataset).read_bytes().replace("caf\u00e9".encode(), b"caf\xe9")
        t.path(dataset).write_bytes(raw)

    return mutate


def extra_field(dataset: str, row: int) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        lines = t.path(dataset).read_text(encoding="utf-8").split("\n")
        lines[row - 1] += ",surplus"
        t.path(dataset).write_text("\n".join(lines), encoding="utf-8")

    return mutate


def as_other_format(dataset: str, suffix: str) -> Callable[[TrialCopy], None]:
    """Give a CSV file a .parquet or .xpt name (and point the config at it)."""

    def mutate(t: TrialCopy) -> None:
        old = t.path(dataset)
        new = old.with_suffix(suffix)
        new.write_bytes(old.read_bytes())
        old.unlink()
        source = t.trial["data"][dataset]
        source["path"] = str(Path(source["path"]).with_suffix(suffix))

    return mutate


def configure(dataset: str | None = None, **settings: object) -> Callable[[TrialCopy], None]:
    """Change the trial's config: a data source's settings, or (no dataset) validation."""

    def mutate(t: TrialCopy) -> None:
        if dataset is None:
            t.trial.setdefault("validation", {}).update(settings)
        else:
            t.trial["data"][dataset].update(settings)

    return mutate


def both(*mutations: Callable[[TrialCopy], None]) -> Callable[[TrialCopy], None]:
    def mutate(t: TrialCopy) -> None:
        for m in mutations:
            m(t)

    return mutate


# ---------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[TrialCopy], None]
    stage: str
    file: str
    row: int | str
    column: str
    rule: str
    value: str
    extra_rules: frozenset[str] = field(default_factory=frozenset)
    """Other rules the same fault may also (correctly) break."""
    partial_value: bool = False
    """The reported value contains ``value`` (e.g. a path or bytes around a bad byte)."""


S, SC, AE, EX = "subjects.csv", "scores.csv", "adverse_events.csv", "exposure.csv"
V, I_ = "validate", "ingest"

CASES = [
    # subjects: types, nullability, allowed values, ranges, key, rules
    Case("age_below_range", set_field("subjects", 2, "AGE", "11"), V, S, 2, "AGE", "range", "11"),
    Case("age_above_range", set_field("subjects", 5, "AGE", "18"), V, S, 5, "AGE", "range", "18"),
    Case("age_not_a_number", set_field("subjects", 3, "AGE", "twelve"), V, S, 3, "AGE", "type",
         "twelve"),
    Case("age_fractional", set_field("subjects", 4, "AGE", "12.5"), V, S, 4, "AGE", "type",
         "12.5"),
    Case("sex_as_word", set_field("subjects", 6, "SEX", "Male"), V, S, 6, "SEX",
         "allowed_values", "Male"),
    Case("safety_flag_empty", set_field("subjects", 7, "SAFFL", ""), V, S, 7, "SAFFL",
         "not_null", ""),
    Case("subject_twice", duplicate_row("subjects", 9), V, S, 32, "USUBJID", "unique_key",
         "USUBJID=NFC-1-008"),
    Case("discontinued_without_reason", set_field("subjects", 2, "EOSSTAT", "DISCONTINUED"),
         V, S, 2, "EOSSTAT+DCSREAS", "discontinued_has_reason",
         "EOSSTAT=DISCONTINUED; DCSREAS="),
    # AGE and SEX are optional (only the analyses that use them need them); the arm is not.
    Case("subjects_without_arm_column", drop_column("subjects", "TRT01P"), V, S, 1, "TRT01P",
         "required_column", "TRT01P"),
    # scores: parameter codes, ranges per parameter, integers, visits, keys, window, baseline
    Case("cgi_above_7", set_field("scores", 3, "AVAL", "8"), V, SC, 3, "PARAMCD+AVAL",
         "aval_within_parameter_range", "PARAMCD=CGII; AVAL=8"),
    Case("cgi_zero", set_field("scores", 9, "AVAL", "0"), V, SC, 9, "PARAMCD+AVAL",
         "aval_within_parameter_range", "PARAMCD=CGIS; AVAL=0"),
    Case("cgi_not_integer", set_field("scores", 4, "AVAL", "2.5"), V, SC, 4, "PARAMCD+AVAL",
         "aval_integer_where_declared", "PARAMCD=CGII; AVAL=2.5"),
    Case("aval_as_text", set_field("scores", 5, "AVAL", "n/a"), V, SC, 5, "AVAL", "type", "n/a"),
    Case("unknown_parameter", set_field("scores", 6, "PARAMCD", "CGIX"), V, SC, 6, "PARAMCD",
         "allowed_values", "CGIX"),
    Case("visit_not_in_schedule", set_field("scores", 4, "AVISIT", "Week 9"), V, SC, 4,
         "AVISIT", "allowed_values", "Week 9"),
    Case("visit_name_number_disagree", set_field("scores", 3, "AVISITN", "4"), V, SC, 3,
         "AVISIT+AVISITN", "visit_name_matches_number", "AVISIT=Week 2; AVISITN=4",
         frozenset({"unique_key"})),
    Case("score_of_unknown_subject", set_field("scores", 5, "USUBJID", "NFC-1-999"), V, SC, 5,
         "USUBJID", "subject_in_subjects", "NFC-1-999"),
    Case("score_twice", duplicate_row("scores", 8), V, SC, 332, "USUBJID+PARAMCD+AVISITN",
         "unique_key", "USUBJID=NFC-1-001; PARAMCD=CGIS; AVISITN=1"),
    Case("rating_out_of_visit_window", both(configure(warn=[]),
                                            set_field("scores", 3, "ADY", "25")), V, SC, 3,
         "AVISIT+ADY", "ady_within_visit_window", "AVISIT=Week 2; ADY=25"),
    Case("missing_baseline_as_error", configure(missing_baseline="error"), V, SC, 123, "AVAL",
         "baseline_present", "USUBJID=NFC-1-012; PARAMCD=CGII; AVISITN=1; AVAL="),
    Case("baseline_row_deleted", both(configure(missing_baseline="error"),
                                      delete_row("scores", 7)), V, SC, 7, "AVAL",
         # (NFC-1-012's empty CGI-I baseline in the reference data is reported too)
         "baseline_present", "USUBJID=NFC-1-001; PARAMCD=CGIS; no row at AVISITN=0"),
    Case("baseline_not_a_number", both(configure(missing_baseline="error"),
                                       set_field("scores", 7, "AVAL", "five")), V, SC, 7,
         "AVAL", "type", "five", frozenset({"baseline_present"})),  # NFC-1-012, not row 7
    Case("unmapped_code_word", both(configure("scores", codes={"AVAL": {"Much improved": 2}}),
                                    set_field("scores", 4, "AVAL", "Very much worse")),
         V, SC, 4, "AVAL", "type", "Very much worse"),
    # adverse events: severity, seriousness, relatedness, periods, onset within the trial
    Case("severity_unknown", set_field("adverse_events", 2, "AESEV", "VERY BAD"), V, AE, 2,
         "AESEV", "allowed_values", "VERY BAD"),
    Case("seriousness_as_word", set_field("adverse_events", 3, "AESER", "Yes"), V, AE, 3,
         "AESER", "allowed_values", "Yes"),
    Case("relatedness_unknown", set_field("adverse_events", 4, "AEREL", "MAYBE"), V, AE, 4,
         "AEREL", "allowed_values", "MAYBE"),
    Case("onset_after_trial", set_field("adverse_events", 2, "ASTDY", "40"), V, AE, 2, "ASTDY",
         "range", "40", frozenset({"onset_within_period", "end_not_before_onset",
                                   "ae_onset_within_contact"})),
    Case("ends_before_onset", set_field("adverse_events", 3, "AENDY", "20"), V, AE, 3,
         "ASTDY+AENDY", "end_not_before_onset", "ASTDY=29; AENDY=20"),
    Case("onset_outside_its_period", set_field("adverse_events", 6, "APHASE", "ACTIVE"), V, AE,
         6, "APHASE+ASTDY", "onset_within_period", "APHASE=ACTIVE; ASTDY=3"),
    Case("period_unknown", set_field("adverse_events", 5, "APHASE", "WASHOUT"), V, AE, 5,
         "APHASE", "allowed_values", "WASHOUT"),
    Case("ae_of_unknown_subject", set_field("adverse_events", 2, "USUBJID", "NFC-1-000"), V, AE,
         2, "USUBJID", "subject_in_subjects", "NFC-1-000"),
    Case("ae_term_missing", set_field("adverse_events", 7, "AEDECOD", ""), V, AE, 7, "AEDECOD",
         "not_null", ""),
    # exposure: planned dose levels, intervals, key
    Case("dose_not_planned", set_field("exposure", 3, "EXDOSE", "300"), V, EX, 3, "EXDOSE",
         "allowed_values", "300"),
    Case("dose_as_word", set_field("exposure", 4, "EXDOSE", "fifty"), V, EX, 4, "EXDOSE", "type",
         "fifty"),
    Case("dosing_ends_before_start", set_fields("exposure", 3, EXSTDY="14", EXENDY="8"), V, EX,
         3, "EXSTDY+EXENDY", "end_not_before_start", "EXSTDY=14; EXENDY=8"),
    Case("dosing_interval_twice", duplicate_row("exposure", 2), V, EX, 152, "USUBJID+EXSTDY",
         "unique_key", "USUBJID=NFC-1-001; EXSTDY=1",
         frozenset({"no_overlapping_intervals"})),  # the copy overlaps the original, too
    Case("dosing_outside_its_period", set_field("exposure", 2, "EXENDY", "8"), V, EX, 2,
         "APHASE+EXSTDY+EXENDY", "interval_within_period", "APHASE=PLACEBO; EXSTDY=1; EXENDY=8",
         frozenset({"no_overlapping_intervals"})),  # day 8 is also the next interval's
    Case("dosing_intervals_overlap", set_field("exposure", 4, "EXSTDY", "12"), V, EX, 3,
         "USUBJID+EXSTDY+EXENDY", "no_overlapping_intervals",
         "USUBJID=NFC-1-001; EXSTDY=8; EXENDY=14"),
    Case("placebo_period_at_active_dose", set_field("exposure", 2, "EXDOSE", "400"), V, EX, 2,
         "APHASE+EXDOSE", "dose_allowed_in_period", "APHASE=PLACEBO; EXDOSE=400"),
    Case("active_period_at_zero_dose", set_field("exposure", 3, "EXDOSE", "0"), V, EX, 3,
         "APHASE+EXDOSE", "dose_allowed_in_period", "APHASE=ACTIVE; EXDOSE=0"),
    # reading: files that cannot be read as declared
    Case("file_missing", delete_file("exposure"), I_, EX, "", "", "file_not_found", "exposure",
         partial_value=True),
    Case("file_empty", write_bytes("adverse_events", b""), I_, AE, 1, "", "empty_file",
         "0 bytes"),
    Case("file_only_bom_and_blank_lines", write_bytes("exposure", b"\xef\xbb\xbf\r\n\r\n"), I_,
         EX, 1, "", "empty_file", "7 bytes"),
    Case("header_without_rows", header_only("subjects"), I_, S, 2, "", "no_data_rows", ""),
    Case("column_twice_in_header", rename_column("exposure", "EXTRT", "EXDOSU"), I_, EX, 1,
         "EXDOSU", "duplicated_column", "EXDOSU"),
    Case("not_utf8", latin1_byte("adverse_events", 3, "AETERM"), I_, AE, 3, "AETERM",
         "encoding", "caf", partial_value=True),
    Case("row_with_extra_field", extra_field("scores", 10), I_, SC, 10, "", "field_count",
         "surplus"),
    Case("csv_named_parquet", as_other_format("subjects", ".parquet"), I_, "subjects.parquet",
         "", "", "not_parquet", "USUBJID", partial_value=True),
    Case("csv_named_xpt", as_other_format("exposure", ".xpt"), I_, "exposure.xpt", "", "",
         "not_xpt", "USUBJID", partial_value=True),
    Case("column_map_names_absent_column", configure("subjects", columns={"GENDER": "SEX"}), I_,
         S, 1, "GENDER", "column_map", "GENDER"),
    Case("wrong_delimiter", configure("exposure", delimiter=";"), V, EX, 1, "EXDOSE",
         "required_column", "EXDOSE"),
]


def test_corpus_has_at_least_30_distinct_cases() -> None:
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({(c.file, c.rule, c.column, c.value) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_completely_and_safely(trial_copy: TrialCopy, case: Case) -> None:
    case.mutate(trial_copy)
    before = trial_copy.hashes()

    outcome = trial_copy.run()

    # refused, by the expected stage (the rule exits non-zero)
    assert outcome.stage == case.stage, outcome.message
    # the failure table has the case with file, row, column, rule and value
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    assert list(failures.columns) == ["dataset", "file", "row", "column", "rule", "value",
                                      "message", "severity"]
    match = failures[failures["file"].str.endswith(case.file)
                     & (failures["row"] == str(case.row))
                     & (failures["column"] == case.column)
                     & (failures["rule"] == case.rule)
                     & (failures["value"].str.contains(case.value, regex=False)
                        if case.partial_value else failures["value"] == case.value)]
    assert len(match) >= 1, failures.to_string()
    assert set(failures["rule"]) <= {case.rule, *case.extra_rules}, failures.to_string()
    assert (failures["message"] != "").all()
    # the console names the file, row, column, rule and value
    line = next(x for x in outcome.message.splitlines()
                if f"rule {case.rule}:" in x and case.file in x and case.value in x)
    if case.rule == "unique_key":  # every row of the key is named on the first's line
        assert f", {case.row})" in line
    elif case.row != "":
        assert f"row {case.row}," in line
    assert f"column {case.column or '-'}," in line
    assert case.value in line
    assert "Full list:" in outcome.message and str(outcome.failures_csv) in outcome.message
    assert case.rule in outcome.summary_md.read_text(encoding="utf-8")
    # nothing downstream, and the user's files are untouched
    assert not (outcome.results / "validated").exists()
    assert not (outcome.results / "report.html").exists()
    assert not (outcome.results / "validation" / "warnings.csv").exists()
    assert trial_copy.hashes() == before


def test_several_faults_in_several_files_are_all_reported_in_one_run(
        trial_copy: TrialCopy) -> None:
    faults = [c for c in CASES if c.id in {
        "age_below_range", "sex_as_word", "cgi_above_7", "visit_not_in_schedule",
        "score_of_unknown_subject", "severity_unknown", "ends_before_onset",
        "dose_not_planned", "dosing_ends_before_start"}]
    for case in faults:
        case.mutate(trial_copy)
    before = trial_copy.hashes()

    outcome = trial_copy.run()

    assert outcome.stage == "validate"
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    found = set(zip(failures["file"].str.rsplit("/", n=1).str[-1], failures["row"],
                    failures["column"], failures["rule"], strict=True))
    expected = {(c.file, str(c.row), c.column, c.rule) for c in faults}
    assert found == expected
    assert f"{len(faults)} failure(s) in 4 file(s)" in outcome.message
    assert not (outcome.results / "validated").exists()
    assert trial_copy.hashes() == before


def test_unreadable_files_are_all_reported_in_one_run(trial_copy: TrialCopy) -> None:
    faults = [c for c in CASES if c.id in {
        "header_without_rows", "not_utf8", "row_with_extra_field", "file_missing"}]
    for case in faults:
        case.mutate(trial_copy)

    outcome = trial_copy.run()

    assert outcome.stage == "ingest"
    failures = pd.read_csv(outcome.failures_csv, dtype=str, keep_default_na=False)
    assert set(zip(failures["file"].str.rsplit("/", n=1).str[-1], failures["rule"],
                   strict=True)) == {(c.file, c.rule) for c in faults}
    assert "4 failure(s) in 4 file(s)" in outcome.message
    assert not (outcome.results / "ingested").exists()


def test_a_fixed_fault_clears_the_old_failure_report(trial_copy: TrialCopy) -> None:
    original = trial_copy.path("subjects").read_bytes()
    set_field("subjects", 2, "AGE", "11")(trial_copy)
    assert trial_copy.run().stage == "validate"
    trial_copy.path("subjects").write_bytes(original)

    outcome = trial_copy.run()

    assert outcome.stage is None, outcome.message
    assert not outcome.failures_csv.exists()
    assert not outcome.summary_md.exists()


def test_stage_error_makes_the_rule_exit_non_zero(tmp_path: Path) -> None:
    def refuse() -> None:
        raise StageError("refused")

    with pytest.raises(SystemExit) as exit_info:
        run_stage("validate", refuse, tmp_path / "validate.log")
    assert exit_info.value.code == 1
    assert "refused" in (tmp_path / "validate.log").read_text(encoding="utf-8")


def test_a_baseline_that_is_not_a_number_is_reported_once(trial_copy: TrialCopy) -> None:
    configure(missing_baseline="error")(trial_copy)
    set_field("scores", 7, "AVAL", "five")(trial_copy)
    failures = pd.read_csv(trial_copy.run().failures_csv, dtype=str, keep_default_na=False)
    assert failures[failures["row"] == "7"]["rule"].tolist() == ["type"]
