"""Sponsor ADaM as delivered, by config alone (issue 8).

The three-arm fixture (tests/adam_fixtures.py) has every quirk a sponsor delivery has:
derived LOCF records beside observed ones, ANL01FL, an unscheduled visit and an
out-of-window duplicate, ADSL variables repeated in ADQS and ADAE, no APHASE, missing and
negative onset days with TRTEMFL, sponsor AEREL words and an open exposure record. It is
written as SAS transport files and as Dataset-JSON, configured with the YAML a user writes
from the README, and run through every stage in-process; the answers are the ones counted
by hand in the fixture module.
"""

from __future__ import annotations

import copy
from pathlib import Path

import adam_fixtures as fx
import pandas as pd
import pytest
import yaml

from trialreport.analyse.ard import read_ard
from trialreport.analyse.stage import analyse
from trialreport.common.config import DATASETS
from trialreport.common.runner import StageError, run_stage
from trialreport.derive.stage import derive
from trialreport.ingest.stage import ingest
from trialreport.reproduce.stage import reproduce_targets
from trialreport.tables.display import build_tables
from trialreport.tables.stage import write_display_tables
from trialreport.validate.stage import validate

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
P, L, H, T = fx.P, fx.L, fx.H, fx.T


def run_stages(root: Path, trial_id: str, trial: dict, through: str = "tables") -> Path:
    """ingest, validate, derive, analyse, reproduce, tables: the workflow's stages, as the
    Snakemake scripts call them; returns the trial's results folder."""
    out = root / "results" / trial_id
    d = {n: str(out / "ingested" / f"{n}.parquet") for n in DATASETS}
    v = {n: str(out / "validated" / f"{n}.parquet") for n in DATASETS}
    ingest(trial, SCHEMAS, {**d, "selection": str(out / "ingested" / "selection.csv")},
                    base_dir=root, report_dir=out / "validation", trial_id=trial_id)
    validate(trial, SCHEMAS, d, {**v, "warnings": str(out / "validation" / "w.csv"),
                                          "exclusions": str(out / "validation" / "x.csv")},
                      out / "validation", trial_id=trial_id)
    if through == "validate":
        return out
    derived = {k: str(out / "derived" / f"{k}.{ext}")
               for k, ext in (("efficacy", "parquet"), ("locf", "parquet"), ("checks", "csv"))}
    derive(trial, {"scores": v["scores"]}, derived, trial_id=trial_id)
    analyse(trial_id, trial, {**{k: v[k] for k in ("subjects", "exposure",
                                                             "adverse_events")},
                                       "efficacy": derived["efficacy"],
                                       "locf": derived["locf"]}, str(out / "ard.csv"))
    reproduce_targets(trial, str(out / "ard.csv"), str(out / "reproduction.csv"),
                               trial_id=trial_id)
    write_display_tables(trial, str(out / "ard.csv"), str(out / "tables"),
                                  trial_id=trial_id)
    return out


def three_arm(root: Path, fmt: str = "xpt") -> dict:
    fx.write_three_arm(root / "adam", fmt)
    text = fx.THREE_ARM_CONFIG("adam")
    if fmt != "xpt":
        text = text.replace(".xpt", f".{fmt}")
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def three_arm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("three_arm")
    trial = three_arm(root)
    return root, trial, run_stages(root, fx.THREE_ARM_ID, trial)


def _ard(out: Path) -> pd.DataFrame:
    return read_ard(out / "ard.csv")


def _value(ard: pd.DataFrame, **where) -> float:
    rows = ard
    for column, wanted in where.items():
        rows = rows[rows[column] == wanted]
    assert len(rows) == 1, (where, rows)
    return float(rows["value"].iloc[0])


# --- the AE tables per arm equal the counts written by hand ----------------------------


@pytest.mark.parametrize("arm", [P, L, H, T])
def test_ae_overview_per_arm_equals_hand_counts(three_arm_run, arm):
    _, _, out = three_arm_run
    ard = _ard(out)
    e = fx.EXPECTED_THREE_ARM
    got = {
        "N": _value(ard, analysis="ae_overview", statistic="N", group=arm),
        "teae_subjects": _value(ard, analysis="ae_overview", parameter="ANY", group=arm,
                                statistic="n_subjects"),
        "teae_events": _value(ard, analysis="ae_overview", parameter="ANY", group=arm,
                              statistic="n_events"),
        "related_subjects": _value(ard, analysis="ae_overview", parameter="RELATED",
                                   group=arm, statistic="n_subjects"),
        "related_events": _value(ard, analysis="ae_overview", parameter="RELATED",
                                 group=arm, statistic="n_events"),
        "severe_subjects": _value(ard, analysis="ae_overview", parameter="SEVERE",
                                  group=arm, statistic="n_subjects"),
        "serious_subjects": _value(ard, analysis="ae_overview", parameter="SERIOUS",
                                   group=arm, statistic="n_subjects"),
    }
    assert got == {k: e[k][arm] for k in got}


def test_ae_terms_per_arm_equal_hand_counts(three_arm_run):
    _, _, out = three_arm_run
    ard = _ard(out)
    soc = ard[ard["analysis"] == "ae_soc_pt"]
    expected = fx.EXPECTED_THREE_ARM["soc_pt"]
    assert set(soc.loc[soc["statistic"] == "n_subjects", "parameter"]) == set(expected)
    for term, per_arm in expected.items():
        for arm, (subjects, events) in per_arm.items():
            assert (_value(soc, parameter=term, group=arm, statistic="n_subjects"),
                    _value(soc, parameter=term, group=arm, statistic="n_events")) == \
                (subjects, events), (term, arm)


def test_pre_treatment_events_are_kept_and_shown_as_not_emergent(three_arm_run):
    _, _, out = three_arm_run
    ard = _ard(out)
    assert _value(ard, analysis="ae_overview", parameter="NOT_TEAE", group=T,
                  statistic="n_events") == fx.EXPECTED_THREE_ARM["non_teae_events"]
    overview = pd.read_csv(out / "tables" / "ae_overview.csv", dtype=str)
    assert overview["Category"].str.contains("not treatment-emergent").any()


def test_arm_columns_are_in_trt01pn_order_not_name_order(three_arm_run):
    _, _, out = three_arm_run
    table = pd.read_csv(out / "tables" / "ae_overview.csv", dtype=str)
    # TRT01PN: Placebo 0, Low Dose 1, High Dose 2 (by name: High, Low, Placebo)
    assert list(table.columns) == ["Category", "Placebo (N = 8)", "Low Dose (N = 8)",
                                   "High Dose (N = 7)", "Total (N = 23)"]
    enrolment = _ard(out)
    enrolment = enrolment[(enrolment["analysis"] == "enrolment")
                          & (enrolment["statistic"] == "n_subjects")]
    assert enrolment["group"].tolist() == [P, L, H]


# --- records used and set aside ---------------------------------------------------------


def test_selection_counts_records_read_set_aside_and_used(three_arm_run):
    _, _, out = three_arm_run
    sel = pd.read_csv(out / "ingested" / "selection.csv")
    scores = sel[sel["dataset"] == "scores"]
    e = fx.EXPECTED_THREE_ARM
    assert scores.loc[scores["records"] == "read", "n"].sum() == e["adqs_read"]
    assert scores.loc[scores["records"] == "set aside", "n"].sum() == e["adqs_set_aside"]
    assert scores.loc[scores["records"] == "used", "n"].sum() == e["adqs_selected"]
    locf = scores[scores["criterion"].str.contains("LOCF")]
    assert locf["n"].tolist() == [e["sponsor_locf"]]
    # each condition of `where` is its own line, naming the config key
    assert scores["criterion"].str.contains(r"data\.scores\.where").sum() == 2


def test_duplicate_records_are_refused_without_the_selection(tmp_path):
    trial = three_arm(tmp_path)
    trial["data"]["scores"]["where"] = {"PARAMCD": ["ACTOT"]}  # ANL01FL dropped
    with pytest.raises(StageError, match="unique_key"):
        run_stages(tmp_path, fx.THREE_ARM_ID, trial, through="validate")
    failures = pd.read_csv(tmp_path / "results" / fx.THREE_ARM_ID / "validation" /
                           "failures.csv", dtype=str)
    assert set(failures["rule"]) >= {"unique_key", "allowed_values"}  # dup; Unscheduled


# --- LOCF as delivered and the pipeline's own ---------------------------------------------


def _week24(ard, analysis, arm, stat):
    return _value(ard, analysis=analysis, parameter="ACTOT", group=arm, statistic=stat)


@pytest.mark.parametrize("arm", [P, L, H])
def test_week24_means_observed_and_locf_as_delivered(three_arm_run, arm):
    _, _, out = three_arm_run
    ard = _ard(out)
    e = fx.EXPECTED_THREE_ARM
    obs = ard[(ard["analysis"] == "by_visit") & (ard["visitn"] == 24)]
    assert _value(obs, parameter="ACTOT", group=arm, statistic="n") == \
        e["week24_observed_n"][arm]
    assert _value(obs, parameter="ACTOT", group=arm, statistic="mean") == pytest.approx(
        float(e["week24_observed_mean"][arm]), abs=1e-12)
    # the LOCF comparison (pairs baseline-week 24): its comparison mean is the LOCF mean
    assert _week24(ard, "paired_locf", arm, "comparison_mean") == pytest.approx(
        float(e["week24_locf_mean"][arm]), abs=1e-12)
    assert _week24(ard, "paired_locf", arm, "n_pairs") == e["week24_locf_n"][arm]


def test_sponsor_locf_agrees_with_the_pipelines_so_no_difference_is_listed(three_arm_run):
    _, _, out = three_arm_run
    checks = pd.read_csv(out / "derived" / "checks.csv", dtype=str)
    assert (checks["check"] == "LOCF").sum() == fx.EXPECTED_THREE_ARM["locf_differences"]
    assert checks.empty  # BASE, CHG and ABLFL as delivered agree with the derivation too


def test_a_sponsor_locf_value_that_differs_is_listed(tmp_path):
    frames = fx.three_arm_adam()
    adqs = frames["adqs"]
    hit = ((adqs["USUBJID"].str.endswith("1006")) & (adqs["DTYPE"] == "LOCF")
           & (adqs["AVISITN"] == 24))
    assert hit.sum() == 1
    adqs.loc[hit, "AVAL"] = 40.0  # the pipeline carries 38 (Week 16) forward
    adqs.loc[hit, "CHG"] = adqs.loc[hit, "AVAL"] - adqs.loc[hit, "BASE"]
    fx.write_datasets(frames, tmp_path / "adam")
    trial = yaml.safe_load(fx.THREE_ARM_CONFIG("adam"))
    out = run_stages(tmp_path, fx.THREE_ARM_ID, trial)
    checks = pd.read_csv(out / "derived" / "checks.csv")
    locf = checks[checks["check"] == "LOCF"]
    assert locf[["USUBJID", "AVISITN", "delivered", "derived"]].values.tolist() == [
        [adqs.loc[hit, "USUBJID"].iloc[0], 24, 40.0, 38.0]]
    # delivered is what the LOCF analysis uses: Placebo (229 - 38 + 40) / 8
    assert _week24(_ard(out), "paired_locf", P, "comparison_mean") == pytest.approx(
        (229 - 38 + 40) / 8, abs=1e-12)


def test_delivered_base_that_differs_from_the_baseline_record_is_listed_and_used(tmp_path):
    frames = fx.three_arm_adam()
    adqs = frames["adqs"]
    subject = adqs.loc[adqs["USUBJID"].str.endswith("1001"), "USUBJID"].iloc[0]
    post = (adqs["USUBJID"] == subject) & (adqs["PARAMCD"] == "ACTOT") & (adqs["AVISITN"] > 0)
    adqs.loc[post, "BASE"] = 25.0  # the baseline record says 20
    fx.write_datasets(frames, tmp_path / "adam")
    out = run_stages(tmp_path, fx.THREE_ARM_ID, yaml.safe_load(fx.THREE_ARM_CONFIG("adam")))
    checks = pd.read_csv(out / "derived" / "checks.csv")
    base = checks[checks["check"] == "BASE"]
    assert set(base["USUBJID"]) == {subject}
    assert set(base["delivered"]) == {25.0} and set(base["derived"]) == {20.0}
    # CHG as delivered (AVAL - 20) no longer equals AVAL - BASE (AVAL - 25): listed too
    assert set(checks.loc[checks["check"] == "CHG", "USUBJID"]) == {subject}


# --- subject-level copies -----------------------------------------------------------------


def test_subject_level_copy_that_disagrees_with_adsl_is_a_contract_failure(tmp_path):
    frames = fx.three_arm_adam()
    adae = frames["adae"]
    row = adae.index[adae["USUBJID"].str.endswith("2004")][0]
    adae.loc[row, "SEX"] = "M" if adae.loc[row, "SEX"] == "F" else "F"
    fx.write_datasets(frames, tmp_path / "adam")
    with pytest.raises(StageError, match="matches_subjects"):
        run_stages(tmp_path, fx.THREE_ARM_ID, yaml.safe_load(fx.THREE_ARM_CONFIG("adam")),
                   through="validate")
    failures = pd.read_csv(tmp_path / "results" / fx.THREE_ARM_ID / "validation" /
                           "failures.csv", dtype=str)
    assert failures[["file", "row", "column", "rule"]].values.tolist() == [
        ["adam/adae.xpt", str(row + 1), "SEX", "matches_subjects"]]
    assert adae.loc[row, "USUBJID"] in failures["message"].iloc[0]


def test_copies_are_dropped_so_the_subjects_dataset_is_their_one_source(three_arm_run):
    _, _, out = three_arm_run
    for name in ("scores", "adverse_events"):
        columns = set(pd.read_parquet(out / "validated" / f"{name}.parquet").columns)
        assert not columns & {"AGE", "SEX", "EFFFL", "SAFFL", "SITEGR1", "STUDYID"}, name


# --- periods, days and the open exposure record --------------------------------------------


def test_period_is_derived_from_the_study_day_where_the_data_have_none(three_arm_run):
    _, _, out = three_arm_run
    ae = pd.read_parquet(out / "validated" / "adverse_events.parquet")
    negative = ae["ASTDY"] < 0
    assert negative.sum() == 2 and ae.loc[negative, "APHASE"].isna().all()
    assert (ae.loc[ae["ASTDY"] >= 1, "APHASE"] == "STUDY").all()
    ex = pd.read_parquet(out / "validated" / "exposure.parquet")
    assert (ex["APHASE"] == "STUDY").all()


def test_open_exposure_record_counts_to_the_last_study_day(three_arm_run):
    _, _, out = three_arm_run
    ard = _ard(out)
    ex = fx.three_arm_adam()["adex"]
    open_ = ex[ex["EXENDY"].isna()]
    assert len(open_) == 1
    # the High Dose subject-days at 100 mg: closed records as recorded, the open one to
    # day 168 (the study's last day, the end of the one whole-study period)
    high = ex[ex["EXDOSE"] == 100]
    expected = float((high["EXENDY"].fillna(168) - high["EXSTDY"] + 1).sum())
    assert _value(ard, analysis="dose_exposure", parameter="DAYS_AT_DOSE 100", group=H,
                  statistic="subject_days") == expected
    # ADSL gives no treatment end (no TRTDURD, TRTDUR, TRTSDT/TRTEDT): the record is listed
    # as counted to the period's end (validation: open_exposure: flag, the default)
    w = pd.read_csv(out / "validation" / "w.csv", dtype=str, keep_default_na=False)
    noted = w[w["rule"] == "open_exposure"]
    assert noted["value"].tolist() == [f"USUBJID={open_['USUBJID'].iloc[0]}; EXSTDY=1; EXENDY="]
    assert noted["severity"].tolist() == ["note"]
    assert "counted to day 168, the last day of period STUDY" in noted["message"].iloc[0]


# --- the same trial as Dataset-JSON ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_the_same_trial_as_dataset_json_gives_a_byte_identical_ard(three_arm_run, tmp_path,
                                                                 fmt):
    _, _, xpt_out = three_arm_run
    out = run_stages(tmp_path, fx.THREE_ARM_ID, three_arm(tmp_path, fmt))
    assert (out / "ard.csv").read_bytes() == (xpt_out / "ard.csv").read_bytes()
    for name in ("ae_overview", "ae_soc_pt", "demographics"):
        assert (out / "tables" / f"{name}.csv").read_bytes() == \
            (xpt_out / "tables" / f"{name}.csv").read_bytes()


# --- an efficacy-only delivery ---------------------------------------------------------------


@pytest.fixture(scope="module")
def efficacy_only_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("efficacy_only")
    fx.write_efficacy_only(root / "adam")
    trial = yaml.safe_load(fx.EFFICACY_ONLY_CONFIG("adam"))
    return root, trial, run_stages(root, fx.EFFICACY_ONLY_ID, trial)


@pytest.mark.parametrize("arm", ["Placebo", "Active"])
def test_efficacy_only_change_from_base_as_delivered(efficacy_only_run, arm):
    _, _, out = efficacy_only_run
    ard = _ard(out)
    e = fx.EXPECTED_EFFICACY_ONLY
    paired = ard[(ard["analysis"] == "paired") & (ard["parameter"] == "HAMD")
                 & (ard["group"] == arm)]
    assert _value(paired, statistic="n_pairs") == e["week6_n"][arm]
    assert _value(paired, statistic="change_mean") == pytest.approx(
        float(e["week6_chg_mean"][arm]), abs=1e-12)
    assert _value(paired, statistic="baseline_mean") == pytest.approx(
        float(e["week6_base_mean"][arm]), abs=1e-12)


def test_efficacy_only_ancova_uses_change_and_base_as_delivered(efficacy_only_run):
    """ANCOVA of CHG on arm and BASE at week 6, against statsmodels' formula API fitted on
    the fixture's own records (BASE and CHG as the fixture made them)."""
    import statsmodels.formula.api as smf

    _, _, out = efficacy_only_run
    ancova = _ard(out)
    ancova = ancova[ancova["analysis"] == "ancova"]
    adqs = fx.efficacy_only_adam()["adqs"]
    week6 = adqs[adqs["AVISITN"] == 6].rename(columns={"TRTP": "ARM"})
    fit = smf.ols("CHG ~ C(ARM, Treatment('Placebo')) + BASE", data=week6).fit()
    term = "C(ARM, Treatment('Placebo'))[T.Active]"
    assert _value(ancova, group="Active", statistic="n") == 9
    assert _value(ancova, group="Active vs Placebo", statistic="diff") == pytest.approx(
        fit.params[term], abs=1e-9)
    assert _value(ancova, group="Active vs Placebo", statistic="p_value") == pytest.approx(
        fit.pvalues[term], rel=1e-9)
    low, high = fit.conf_int().loc[term]
    assert _value(ancova, group="Active vs Placebo", statistic="diff_ci_low") == \
        pytest.approx(low, abs=1e-9)
    assert _value(ancova, group="Active vs Placebo", statistic="diff_ci_high") == \
        pytest.approx(high, abs=1e-9)


def test_efficacy_only_tables_say_what_is_not_delivered(efficacy_only_run):
    _, trial, out = efficacy_only_run
    tables = build_tables(_ard(out), trial)
    for name in ("exposure", "ae_overview", "ae_soc_pt", "ae_periods"):
        assert list(tables[name].columns) == ["Not available"], name
        assert "data." in tables[name].iloc[0, 0]
    demographics = tables["demographics"]
    assert not demographics["Characteristic"].str.contains("Age").any()
    disposition = pd.read_csv(out / "tables" / "disposition.csv", dtype=str)
    assert "Treated" not in disposition["Status"].tolist()


def test_a_target_that_needs_data_the_trial_lacks_is_reported_not_crashed(tmp_path):
    fx.write_efficacy_only(tmp_path / "adam")
    trial = yaml.safe_load(fx.EFFICACY_ONLY_CONFIG("adam"))
    trial["reproduction"]["targets"] += [
        {"id": "age", "description": "Age range", "statistic": "age_range",
         "published": "12-17"},
        {"id": "ae", "description": "AE incidence", "statistic": "ae_incidence_periods",
         "published": "no difference"}]
    out = run_stages(tmp_path, fx.EFFICACY_ONLY_ID, trial)
    table = pd.read_csv(out / "reproduction.csv", dtype=str).set_index("id")
    assert table.loc["age", "status"] == "mismatch"
    assert table.loc["age", "reproduced"] == "not computed (needs an AGE column in the " \
                                             "subjects dataset)"
    assert "data.adverse_events" in table.loc["ae", "reproduced"]


def test_trial_without_exposure_and_without_trtemfl_is_refused_naming_the_key(tmp_path):
    trial = three_arm(tmp_path)
    del trial["data"]["exposure"]
    frames = fx.three_arm_adam()
    frames["adae"] = frames["adae"].drop(columns="TRTEMFL")
    fx.write_datasets(frames, tmp_path / "adam")
    with pytest.raises(StageError, match=r"data\.exposure") as info:
        run_stages(tmp_path, fx.THREE_ARM_ID, copy.deepcopy(trial))
    assert "TRTEMFL" in str(info.value)


# --- no traceback reaches the user ------------------------------------------------------


def test_an_unforeseen_error_is_one_paragraph_and_the_traceback_goes_to_the_log(
        tmp_path, capsys):
    def stage(trial_id: str) -> None:
        raise KeyError("EFFFL")

    log_file = tmp_path / "analyse.log"
    with pytest.raises(SystemExit) as exit_info:
        run_stage("analyse", stage, log_file, trial_id="mytrial")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "stage analyse of trial 'mytrial'" in err and "KeyError: 'EFFFL'" in err
    assert "Traceback" not in err
    assert "Traceback (most recent call last)" in log_file.read_text(encoding="utf-8")


def test_the_readme_adam_example_is_the_tested_config_and_passes_the_schema():
    """README.md's ADaM walk-through shows the entry these tests run (less the synthetic
    notice), and it passes the config's JSON Schema as it stands."""
    import re

    from snakemake.utils import validate

    readme = (SCHEMAS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### An ADaM delivery, step by step", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    shown = yaml.safe_load(block)
    validate(copy.deepcopy(shown), str(SCHEMAS / "config.schema.yaml"))
    tested = yaml.safe_load(fx.THREE_ARM_CONFIG("adam"))
    for key in ("synthetic", "data_notice"):
        tested.pop(key)
    assert shown["trials"][fx.THREE_ARM_ID] == tested
