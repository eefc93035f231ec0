"""Display tables from the ARD: cells, order and CSV files against hand-written answers;
the qualitative period-incidence target of the reproduction table."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import safety_fixture as fx

from trialreport.analyse.ard import format_ard, read_ard
from trialreport.analyse.safety import build_safety_ard
from trialreport.common.frames import write_csv
from trialreport.reproduce.targets import TargetError, reproduce
from trialreport.tables.display import (
    TABLES,
    build_tables,
    fmt_n_pct,
    read_display_table,
    write_tables,
)

HEAD = ["Arm A (N = 3)", "Arm B (N = 2)", "Arm C (N = 4)", "Total (N = 9)"]


def _roundtrip(ard: pd.DataFrame) -> pd.DataFrame:
    """Through ard.csv as the workflow writes and reads it."""
    buffer = io.StringIO()
    format_ard(ard).to_csv(buffer, index=False, lineterminator="\n")
    buffer.seek(0)
    return read_ard(buffer)


@pytest.fixture(scope="module")
def ard() -> pd.DataFrame:
    return _roundtrip(build_safety_ard("fixture", fx.TRIAL, fx.subjects(),
                                       fx.adverse_events(), fx.exposure(), fx.efficacy()))


@pytest.fixture(scope="module")
def tables(ard) -> dict[str, pd.DataFrame]:
    return build_tables(ard, fx.TRIAL)


def cells(table: pd.DataFrame, **where: str) -> list[str]:
    rows = table
    for column, wanted in where.items():
        rows = rows[rows[column.replace("_", " ")] == wanted]
    assert len(rows) == 1, where
    return rows.iloc[0][HEAD].tolist()


def test_n_pct_rounds_half_up_and_shows_zero_alone():
    assert fmt_n_pct(1, 100 / 8) == "1 (12.5)"
    assert fmt_n_pct(1, 0.05) == "1 (0.1)"  # half up, not to even
    assert fmt_n_pct(2, 200 / 3) == "2 (66.7)"
    assert fmt_n_pct(0, 0.0) == "0"


def test_overview_cells(tables):
    t = tables["ae_overview"]
    assert t.columns.tolist() == ["Category", *HEAD]
    assert cells(t, Category="Subjects with at least one TEAE") == [
        "2 (66.7) [5]", "2 (100.0) [4]", "3 (75.0) [5]", "7 (77.8) [14]"]
    # Arm C is placebo only: related there is to placebo, so the row names the study
    # treatment, not the study drug
    assert cells(t, Category="  related to study treatment (placebo or study drug)") == [
        "2 (66.7) [2]", "1 (50.0) [2]", "1 (25.0) [1]", "4 (44.4) [5]"]
    assert cells(t, Category="  leading to discontinuation of study treatment") == [
        "1 (33.3) [1]", "0 [0]", "0 [0]", "1 (11.1) [1]"]


def test_soc_pt_order_descending_total_ties_by_name(tables):
    t = tables["ae_soc_pt"]
    order = list(zip(t["System organ class"], t["Preferred term"], strict=True))
    assert order == [
        ("Any TEAE", ""),
        (fx.GI, ""), (fx.GI, "Nausea"), (fx.GI, "Vomiting"),  # GI 4 ties NS 4: by name
        (fx.NS, ""), (fx.NS, "Dizziness"), (fx.NS, "Headache"),  # 2 and 2: by name
        (fx.SK, ""), (fx.SK, "Rash"),
        (fx.CA, ""), (fx.CA, "Palpitations"),  # 1 subject: last, though first by name
    ]


def test_soc_pt_cells(tables):
    t = tables["ae_soc_pt"]
    assert cells(t, System_organ_class=fx.NS, Preferred_term="Headache") == [
        "1 (33.3) [3]", "0 [0]", "1 (25.0) [1]", "2 (22.2) [4]"]
    assert cells(t, System_organ_class=fx.NS, Preferred_term="Dizziness") == [
        "0 [0]", "2 (100.0) [2]", "0 [0]", "2 (22.2) [2]"]
    assert cells(t, System_organ_class=fx.NS, Preferred_term="") == [
        "1 (33.3) [3]", "2 (100.0) [2]", "1 (25.0) [1]", "4 (44.4) [6]"]


def test_severity_cells_with_missing_row(tables):
    t = tables["ae_severity"]
    t = t.rename(columns={"Maximum severity": "Level"})
    assert cells(t, System_organ_class=fx.GI, Preferred_term="Nausea", Level="Missing") == [
        "1 (33.3)", "0", "0", "1 (11.1)"]
    assert cells(t, System_organ_class=fx.GI, Preferred_term="Nausea", Level="Severe") == [
        "1 (33.3)", "0", "0", "1 (11.1)"]
    assert cells(t, System_organ_class="Any TEAE", Preferred_term="", Level="Moderate") == [
        "1 (33.3)", "1 (50.0)", "1 (25.0)", "3 (33.3)"]
    assert t["Level"].drop_duplicates().tolist() == ["Mild", "Moderate", "Severe", "Missing"]


def test_relationship_cells(tables):
    t = tables["ae_relationship"].rename(columns={"Relationship to study treatment": "Rel"})
    assert cells(t, System_organ_class=fx.SK, Preferred_term="Rash",
                 Rel="Related") == ["0", "1 (50.0)", "1 (25.0)", "2 (22.2)"]
    assert cells(t, System_organ_class="Any TEAE", Preferred_term="",
                 Rel="Not related") == ["0", "1 (50.0)", "2 (50.0)", "3 (33.3)"]


def test_demographics_cells():
    # the safety population, named in the config (default: every randomized subject)
    trial = dict(fx.TRIAL, tables={"demographics_population": "safety"})
    t = build_tables(_roundtrip(build_safety_ard("fixture", trial, fx.subjects(),
                                                 fx.adverse_events(), fx.exposure(),
                                                 fx.efficacy())), trial)["demographics"]
    rows = [(c, st, *vals) for c, st, vals in zip(t["Characteristic"], t["Statistic"],
                                                   t[HEAD].values.tolist(), strict=True)]
    assert rows[:4] == [
        ("Age (years)", "n", "3", "2", "4", "9"),
        ("", "Mean (SD)", "40.0 (10.00)", "22.5 (3.54)", "37.5 (6.45)", "35.0 (9.68)"),
        ("", "Median", "40.0", "22.5", "37.5", "35.0"),
        ("", "Min, max", "30, 50", "20, 25", "30, 45", "20, 50"),
    ]
    assert rows[4:9] == [
        ("Sex", "Female, n (%)", "2 (66.7)", "0", "3 (75.0)", "5 (55.6)"),
        ("", "Male, n (%)", "1 (33.3)", "2 (100.0)", "1 (25.0)", "4 (44.4)"),
        ("Race", "Asian, n (%)", "1 (33.3)", "0", "1 (25.0)", "2 (22.2)"),
        ("", "White, n (%)", "2 (66.7)", "1 (50.0)", "3 (75.0)", "6 (66.7)"),
        ("", "Missing, n (%)", "0", "1 (50.0)", "0", "1 (11.1)"),
    ]
    # baseline scores: A 4, 6; B 5, 7; C 2, 3, 4, 5 (SD of 4 and 6 is sqrt(2) = 1.414)
    assert rows[9:11] == [
        ("Score at baseline", "n", "2", "2", "4", "8"),
        ("", "Mean (SD)", "5.00 (1.414)", "6.00 (1.414)", "3.50 (1.291)", "4.50 (1.604)"),
    ]


def test_disposition_cells(tables):
    t = tables["disposition"]
    head = ["Arm A (N = 3)", "Arm B (N = 3)", "Arm C (N = 4)", "Total (N = 10)"]
    assert t.columns.tolist() == ["Status", *head]
    rows = dict(zip(t["Status"], t[head].values.tolist(), strict=True))
    assert rows["Treated"] == ["3 (100.0)", "2 (66.7)", "4 (100.0)", "9 (90.0)"]
    assert rows["Discontinued"] == ["1 (33.3)", "2 (66.7)", "1 (25.0)", "4 (40.0)"]
    assert rows["  Withdrawal by subject"] == ["0", "1 (33.3)", "0", "1 (10.0)"]


def test_exposure_cells(tables):
    t = tables["exposure"]
    rows = dict(zip(t["Statistic"] + "|" + t["Characteristic"], t[HEAD].values.tolist(),
                    strict=True))
    assert rows["10 mg, n (%)|"] == ["2 (66.7)", "0", "0", "2 (22.2)"]
    assert rows["0 (placebo), n (%)|Highest dose reached, by level"] == [
        "0", "0", "4 (100.0)", "4 (44.4)"]
    subject_days = t.loc[t["Statistic"] == "Total subject-days", HEAD].values.tolist()
    assert subject_days == [["0", "0", "112", "112"], ["68", "0", "0", "68"],
                            ["14", "35", "0", "49"], ["0", "21", "0", "21"]]


def test_single_arm_table_leaves_out_the_redundant_total():
    subjects = fx.subjects()
    subjects["TRT01P"] = "Drug"
    ard = _roundtrip(build_safety_ard("one", fx.TRIAL, subjects, fx.adverse_events(),
                                      fx.exposure()))
    t = build_tables(ard, fx.TRIAL)["ae_overview"]
    assert t.columns.tolist() == ["Category", "Drug (N = 9)"]


def test_tables_written_as_csv_and_read_back_unchanged(ard, tables, tmp_path):
    paths = write_tables(ard, fx.TRIAL, tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{s.name}.csv" for s in TABLES)
    for spec in TABLES:
        assert read_display_table(tmp_path, spec.name).equals(tables[spec.name].astype(str))


def test_ard_and_tables_are_byte_identical_across_runs(tmp_path):
    def run(folder):
        ard = build_safety_ard("fixture", fx.TRIAL, fx.subjects(), fx.adverse_events(),
                               fx.exposure(), fx.efficacy())
        write_csv(format_ard(ard), folder / "ard.csv")
        write_tables(read_ard(folder / "ard.csv"), fx.TRIAL, folder / "tables")
        return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run(tmp_path / "a") == run(tmp_path / "b")


# -- the qualitative reproduction target ----------------------------------------------------


def _period_ard(p_value: float) -> pd.DataFrame:
    rows = [
        {"analysis": "ae_periods", "parameter": "TEAE", "group": "ACTIVE vs PLACEBO",
         "method": "exact_conditional_poisson", "statistic": "p_value", "value": p_value},
        {"analysis": "ae_periods", "parameter": "TEAE", "group": "ACTIVE vs PLACEBO",
         "method": "exact_conditional_poisson", "statistic": "rate_ratio", "value": 1.25},
        {"analysis": "enrolment", "parameter": "", "group": "X", "method": "",
         "statistic": "n_subjects", "value": 30.0},
    ]
    ard = pd.DataFrame(rows)
    for column in ("trial", "analysis_set", "visit"):
        ard[column] = ""
    ard["visitn"] = float("nan")
    return ard


def _trial(published: str, alpha: float | None = None) -> dict:
    target = {"id": "ae_incidence_periods", "description": "AE incidence",
              "statistic": "ae_incidence_periods", "published": published}
    if alpha is not None:
        target["alpha"] = alpha
    return {"design": {"visits": [], "parameters": {}},
            "reproduction": {"targets": [target]}}


@pytest.mark.parametrize(("p_value", "published", "alpha", "status"), [
    (1.0, "no difference", None, "match"),
    (0.05, "no difference", None, "match"),  # P >= 0.05: no difference
    (0.049, "no difference", None, "mismatch"),
    (0.049, "difference", None, "match"),
    (0.03, "no difference", 0.01, "match"),
])
def test_incidence_target_matches_when_p_at_least_alpha(p_value, published, alpha, status):
    row = reproduce(_period_ard(p_value), _trial(published, alpha)).iloc[0]
    assert row["status"] == status
    assert "rule: 'no difference' when P >=" in row["source"]
    assert row["reproduced"].startswith("no difference" if p_value >= (alpha or 0.05)
                                        else "difference")


def test_incidence_target_refuses_other_wording():
    with pytest.raises(TargetError):
        reproduce(_period_ard(0.5), _trial("similar"))


def test_config_target_and_covariates_pass_the_config_schema():
    from pathlib import Path

    import yaml
    from snakemake.utils import validate

    root = Path(__file__).resolve().parents[1]
    config = yaml.safe_load((root / "config.yaml").read_text())
    validate(config, str(root / "schemas" / "config.schema.yaml"))
    targets = config["trials"]["fasoracetam_nfc1"]["reproduction"]["targets"]
    assert {"id": "ae_incidence_periods", "description":
            "AE incidence, placebo week vs active weeks", "statistic": "ae_incidence_periods",
            "alpha": 0.05, "published": "no difference"} in targets


def test_workflow_lists_every_table():
    import ast
    import re
    from pathlib import Path

    common = (Path(__file__).resolve().parents[1] / "workflow" / "rules" / "common.smk")
    listed = re.search(r"^TABLE_NAMES = (\[.*?\])", common.read_text(), re.M | re.S)
    assert ast.literal_eval(listed.group(1)) == [spec.name for spec in TABLES]
