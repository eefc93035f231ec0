"""The sponsor-style ADaM fixtures themselves (tests/adam_fixtures.py), not the pipeline.

Three things are checked: the XPT files read back equal the frames; every quirk the
fixtures promise is really in the data; and each hand-counted answer in ``EXPECTED_*``
agrees with a plain pandas count of the frames (a cross-check of the hand counts, which
stay literals in the fixture module).
"""

from __future__ import annotations

from fractions import Fraction

import adam_fixtures as fx
import numpy as np
import pandas as pd
import pytest
import yaml

E = fx.EXPECTED_THREE_ARM
ARMS = ["Placebo", "Low Dose", "High Dose"]
IBM_ZERO_AS_READ = 16.0**-65  # pandas reads SAS's zero (eight zero bytes) as 16**-65


@pytest.fixture(scope="module")
def adam() -> dict[str, pd.DataFrame]:
    return fx.three_arm_adam()


@pytest.fixture(scope="module")
def eff() -> dict[str, pd.DataFrame]:
    return fx.efficacy_only_adam()


def subjid(frame: pd.DataFrame) -> pd.Series:
    return frame["USUBJID"].str[-4:]


# -- writing and reading back -----------------------------------------------------------------


def assert_read_back_equal(path, frame: pd.DataFrame) -> None:
    back = pd.read_sas(path, format="xport", encoding="utf-8")
    assert back.columns.tolist() == frame.columns.tolist()
    assert len(back) == len(frame)
    for column in frame.columns:
        want, got = frame[column], back[column]
        if pd.api.types.is_numeric_dtype(want):
            assert pd.api.types.is_float_dtype(got), column
            got = got.mask(got.abs() == IBM_ZERO_AS_READ, 0.0)
            np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(dtype=float),
                                          err_msg=column)
        else:
            assert got.tolist() == want.tolist(), column


@pytest.mark.parametrize(("make", "write", "names"), [
    (fx.three_arm_adam, fx.write_three_arm, ["adsl", "adqs", "adae", "adex"]),
    (fx.efficacy_only_adam, fx.write_efficacy_only, ["adsl", "adqs"]),
])
def test_xpt_files_read_back_equal_to_the_frames(tmp_path, make, write, names):
    paths = write(tmp_path)
    assert sorted(paths) == sorted(names)
    frames = make()
    for name in names:
        assert paths[name] == tmp_path / f"{name}.xpt"
        assert_read_back_equal(paths[name], frames[name])


def test_fixtures_are_deterministic():
    for make in (fx.three_arm_adam, fx.efficacy_only_adam):
        first, second = make(), make()
        for name in first:
            pd.testing.assert_frame_equal(first[name], second[name])


def test_every_column_name_fits_sas_transport(adam, eff):
    for frames in (adam, eff):
        for name, frame in frames.items():
            assert max(len(c) for c in frame.columns) <= 8, name


def test_writer_refuses_long_names_and_other_formats(tmp_path):
    with pytest.raises(ValueError, match="TOOLONGNAME"):
        fx.write_datasets({"x": pd.DataFrame({"TOOLONGNAME": [1]})}, tmp_path)
    for fmt in ("csv", "parquet"):
        with pytest.raises(NotImplementedError):
            fx.write_three_arm(tmp_path, fmt=fmt)
        with pytest.raises(NotImplementedError):
            fx.write_efficacy_only(tmp_path, fmt=fmt)


def test_pandas_xpt_reader_loses_a_short_last_row_with_blanks(tmp_path):
    """Why write_datasets reads every file back: with records shorter than 80 bytes pandas
    counts all-blank 8-byte words of the last card as padding, even inside the data."""
    frame = pd.DataFrame({"A": ["x", "", "yy"], "B": [0.0, -3.0, np.nan], "C": ["", "", ""]})
    with pytest.raises(RuntimeError, match="reads 2 rows of 3"):
        fx.write_datasets({"short": frame}, tmp_path)


# -- the config entries -----------------------------------------------------------------------


def test_three_arm_config_is_the_entry_a_user_would_write(tmp_path):
    entry = yaml.safe_load(fx.THREE_ARM_CONFIG(tmp_path / "adam"))
    d = (tmp_path / "adam").as_posix()
    assert entry["synthetic"] is True and entry["title"] and entry["data_notice"]
    data = entry["data"]
    assert data["subjects"] == {"path": f"{d}/adsl.xpt", "columns": {"EOSSTT": "EOSSTAT"}}
    assert data["scores"] == {"path": f"{d}/adqs.xpt",
                              "where": {"ANL01FL": "Y", "PARAMCD": ["ACTOT"]}}
    assert data["adverse_events"] == {"path": f"{d}/adae.xpt", "codes": {"AEREL": {
        "NONE": "NOT RELATED", "REMOTE": "UNLIKELY RELATED", "POSSIBLE": "POSSIBLY RELATED",
        "PROBABLE": "PROBABLY RELATED"}}}
    assert data["exposure"] == {"path": f"{d}/adex.xpt"}
    design = entry["design"]
    assert "periods" not in design
    assert design["dose_levels"] == [0, 50, 100]
    assert design["study_days"] == [1, 168]
    assert design["visits"] == [
        {"name": "Baseline", "number": 0, "day": 1}, {"name": "Week 8", "number": 8, "day": 56},
        {"name": "Week 16", "number": 16, "day": 112},
        {"name": "Week 24", "number": 24, "day": 168}]
    actot = design["parameters"]["ACTOT"]
    assert (actot["min"], actot["max"], actot["integer"]) == (0, 70, True)
    assert (actot["baseline_visit"], actot["comparison_visit"]) == (0, 24)
    assert list(design["parameters"]) == ["ACTOT"]
    assert entry["validation"] == {"missing_baseline": "exclude"}
    assert entry["analyses"] == {"locf": "delivered",
                                 "parallel": {"reference_arm": "Placebo", "strata": ["SITEGR1"]}}
    assert entry["reproduction"] == {"on_mismatch": "report", "targets": [
        {"id": "participants", "description": "Participants", "statistic": "n_subjects",
         "published": "24"}]}


def test_three_arm_config_fits_the_data(adam):
    entry = yaml.safe_load(fx.THREE_ARM_CONFIG("data"))
    lo, hi = entry["design"]["age_range"]
    assert adam["adsl"]["AGE"].between(lo, hi).all()
    assert set(adam["adex"]["EXDOSE"]) == set(entry["design"]["dose_levels"])
    first, last = entry["design"]["study_days"]
    days = pd.concat([adam["adex"]["EXSTDY"], adam["adex"]["EXENDY"],
                      adam["adqs"]["ADY"]]).dropna()
    assert days.between(first, last).all()


def test_efficacy_only_config(tmp_path):
    entry = yaml.safe_load(fx.EFFICACY_ONLY_CONFIG(tmp_path))
    d = tmp_path.as_posix()
    assert entry["data"] == {"subjects": {"path": f"{d}/adsl.xpt"},
                             "scores": {"path": f"{d}/adqs.xpt"}}
    design = entry["design"]
    for absent in ("age_range", "dose_levels", "study_days", "periods"):
        assert absent not in design
    assert {v["number"] for v in design["visits"]} == {0, 2, 4, 6}
    hamd = design["parameters"]["HAMD"]
    assert (hamd["min"], hamd["max"], hamd["integer"]) == (0, 52, True)
    assert (hamd["baseline_visit"], hamd["comparison_visit"]) == (0, 6)
    assert entry["analyses"] == {"parallel": {"reference_arm": "Placebo"}}


# -- ADSL quirks ------------------------------------------------------------------------------


def test_adsl_three_arms_of_eight_sorted_names_differ_from_trt01pn_order(adam):
    adsl = adam["adsl"]
    assert adsl["STUDYID"].eq("CDISCPILOT-LIKE").all()
    assert adsl["USUBJID"].is_unique and len(adsl) == 24
    assert adsl.groupby("TRT01P")["TRT01PN"].unique().map(list).to_dict() == {
        "Placebo": [0], "Low Dose": [1], "High Dose": [2]}
    assert adsl["TRT01P"].value_counts().to_dict() == {a: 8 for a in ARMS}
    by_code = adsl.drop_duplicates("TRT01P").sort_values("TRT01PN")["TRT01P"].tolist()
    assert by_code == ARMS and sorted(by_code) != by_code
    assert adsl["SITEGR1"].nunique() == 3
    assert set(adsl["SEX"]) == {"M", "F"}
    assert pd.api.types.is_numeric_dtype(adsl["AGE"])
    for column in ("SUBJID", "SITEID", "AGEGR1", "RACE", "ITTFL"):
        assert column in adsl.columns
    assert "EOSSTAT" not in adsl.columns  # named as in CDISC; the config maps it


def test_adsl_one_not_in_safety_one_not_in_efficacy_with_scores(adam):
    adsl, adqs = adam["adsl"], adam["adqs"]
    assert subjid(adsl[adsl["SAFFL"] == "N"]).tolist() == ["3008"]
    no_eff = set(subjid(adsl[adsl["EFFFL"] == "N"]))
    assert no_eff == {"2007", "3008"}
    scored = set(subjid(adqs))
    assert "2007" in scored and "3008" not in scored  # 2007: EFFFL N yet rated throughout


def test_adsl_discontinued_subjects_have_a_reason(adam):
    adsl = adam["adsl"]
    assert set(adsl["EOSSTT"]) == {"COMPLETED", "DISCONTINUED"}
    stopped = adsl["EOSSTT"] == "DISCONTINUED"
    assert (adsl.loc[stopped, "DCSREAS"] != "").all()
    assert (adsl.loc[~stopped, "DCSREAS"] == "").all()
    assert sorted(subjid(adsl[stopped])) == ["1006", "2005", "3006", "3007", "3008"]


# -- ADQS quirks ------------------------------------------------------------------------------


def selected(adqs: pd.DataFrame) -> pd.DataFrame:
    """The config's record selection: ANL01FL = Y and PARAMCD in [ACTOT]."""
    return adqs[(adqs["ANL01FL"] == "Y") & adqs["PARAMCD"].isin(["ACTOT"])]


KEY = ["USUBJID", "PARAMCD", "AVISITN"]


def test_adqs_duplicate_keys_before_selection_none_after(adam):
    adqs = adam["adqs"]
    dup = adqs[adqs.duplicated(KEY, keep=False)]
    assert set(subjid(dup)) == {"2002"} and set(dup["AVISIT"]) == {"Week 8"}
    assert sorted(dup["AVAL"]) == [31, 36] and sorted(dup["ANL01FL"]) == ["", "Y"]
    assert not selected(adqs).duplicated(KEY).any()


def test_adqs_unscheduled_record_not_for_analysis(adam):
    adqs = adam["adqs"]
    unscheduled = adqs[adqs["AVISIT"] == "Unscheduled"]
    assert len(unscheduled) == 1
    row = unscheduled.iloc[0]
    assert (row["AVISITN"], row["ANL01FL"], row["USUBJID"][-4:]) == (901, "", "1003")


def test_adqs_two_parameters_cibic_without_baseline(adam):
    adqs = adam["adqs"]
    assert set(adqs["PARAMCD"]) == {"ACTOT", "CIBIC"}
    assert adqs.groupby("PARAMCD")["PARAM"].unique().map(list).to_dict() == {
        "ACTOT": ["ADAS-Cog(11) Total Score"], "CIBIC": ["CIBIC+ Score"]}
    cibic = adqs[adqs["PARAMCD"] == "CIBIC"]
    assert (cibic["AVISITN"] > 0).all() and cibic["AVAL"].between(1, 7).all()
    assert cibic["BASE"].isna().all() and cibic["CHG"].isna().all()
    assert (cibic["ABLFL"] == "").all() and (cibic["ANL01FL"] == "Y").all()


def test_adqs_actot_base_chg_ablfl(adam):
    adqs = adam["adqs"]
    actot = adqs[adqs["PARAMCD"] == "ACTOT"]
    assert actot["AVAL"].between(0, 70).all()
    assert (actot["AVAL"] == actot["AVAL"].round()).all()
    baseline = actot[actot["AVISITN"] == 0]
    assert (baseline["ABLFL"] == "Y").all() and (actot["ABLFL"] == "Y").sum() == len(baseline)
    assert (baseline["BASE"] == baseline["AVAL"]).all() and baseline["CHG"].isna().all()
    assert baseline["USUBJID"].is_unique
    post = actot[actot["AVISITN"] > 0]
    assert post["BASE"].notna().all()
    assert (post["CHG"] == post["AVAL"] - post["BASE"]).all()
    assert (post["BASE"] == post["USUBJID"].map(baseline.set_index("USUBJID")["AVAL"])).all()
    days = {0: 1, 8: 56, 16: 112, 24: 168}
    on_time = actot[(actot["DTYPE"] == "") & (actot["ANL01FL"] == "Y")]
    assert (on_time["ADY"] - on_time["AVISITN"].map(days)).abs().max() <= 2


def test_adqs_sponsor_locf_carries_the_last_observed_value(adam):
    adqs = adam["adqs"]
    assert set(adqs["DTYPE"]) == {"", "LOCF"}
    locf = adqs[adqs["DTYPE"] == "LOCF"]
    assert (locf["PARAMCD"] == "ACTOT").all() and (locf["ANL01FL"] == "Y").all()
    assert locf["ADY"].isna().all()
    observed = adqs[(adqs["PARAMCD"] == "ACTOT") & (adqs["DTYPE"] == "")
                    & (adqs["ANL01FL"] == "Y")]
    for row in locf.itertuples():
        earlier = observed[(observed["USUBJID"] == row.USUBJID)
                           & (observed["AVISITN"] < row.AVISITN)]
        last = earlier.sort_values("AVISITN")["AVAL"].iloc[-1]
        assert last == row.AVAL, row.USUBJID
        same_visit = observed[(observed["USUBJID"] == row.USUBJID)
                              & (observed["AVISITN"] == row.AVISITN)]
        assert same_visit.empty  # only for a visit the subject missed
    carried = {(r.USUBJID[-4:], r.AVISITN) for r in locf.itertuples()}
    assert carried == {("1006", 24), ("2005", 16), ("2005", 24), ("3004", 16), ("3006", 24),
                       ("3007", 8), ("3007", 16), ("3007", 24)}
    # 3007's are the baseline value carried forward
    assert (locf.loc[subjid(locf) == "3007", "CHG"] == 0).all()


@pytest.mark.parametrize(("dataset", "pairs"), [
    ("adqs", {"TRTP": "TRT01P", "TRTPN": "TRT01PN", "AGE": "AGE", "SEX": "SEX",
              "EFFFL": "EFFFL", "SITEGR1": "SITEGR1"}),
    ("adae", {"TRTA": "TRT01P", "TRTAN": "TRT01PN", "AGE": "AGE", "SEX": "SEX",
              "SAFFL": "SAFFL", "SITEGR1": "SITEGR1"}),
    ("adex", {"TRTA": "TRT01P", "TRTAN": "TRT01PN"}),
])
def test_adsl_variables_repeated_agree_with_adsl(adam, dataset, pairs):
    frame = adam[dataset]
    merged = frame.merge(adam["adsl"], on="USUBJID", how="left", suffixes=("", "_ADSL"),
                         validate="many_to_one", indicator=True)
    assert (merged["_merge"] == "both").all()
    for here, there in pairs.items():
        there = f"{there}_ADSL" if there in frame.columns else there
        assert (merged[here] == merged[there]).all(), (dataset, here)


# -- ADAE quirks ------------------------------------------------------------------------------


def test_adae_sponsor_relationship_terms_and_a_missing_one(adam):
    adae = adam["adae"]
    assert set(adae["AEREL"]) == {"NONE", "REMOTE", "POSSIBLE", "PROBABLE", ""}
    assert subjid(adae[adae["AEREL"] == ""]).tolist() == ["2004"]


def test_adae_pre_treatment_events_negative_day_not_emergent(adam):
    adae = adam["adae"]
    before = adae[adae["ASTDY"] < 0]
    assert len(before) == 2 and (before["TRTEMFL"] == "N").all()
    assert (adae.loc[adae["TRTEMFL"] == "N", "ASTDY"] < 0).all()
    assert set(adae["TRTEMFL"]) == {"Y", "N"}


def test_adae_partial_onset_dates(adam):
    adae = adam["adae"]
    partial = adae[adae["ASTDY"].isna()]
    assert sorted(partial["ASTDTF"]) == ["D", "M"]
    assert (partial["TRTEMFL"] == "Y").all()
    assert (adae.loc[adae["ASTDY"].notna(), "ASTDTF"] == "").all()
    assert adae["AENDY"].isna().sum() >= 2


def test_adae_shape_of_the_events(adam):
    adae = adam["adae"]
    assert "APHASE" not in adae.columns
    assert subjid(adae[adae["SAFFL"] == "N"]).tolist() == ["3008"]
    twice = adae.groupby(["USUBJID", "AEDECOD"]).size()
    assert (twice == 2).sum() == 1 and twice.max() == 2
    assert adae["AEBODSYS"].nunique() >= 2
    assert (adae["AESEV"] == "SEVERE").sum() == 1
    assert (adae["AESER"] == "Y").sum() == 1
    assert (adae["AESEV"] == "").sum() == 1
    assert set(adae["AESEV"]) == {"MILD", "MODERATE", "SEVERE", ""}


# -- ADEX quirks ------------------------------------------------------------------------------


def test_adex_doses_open_record_and_boundary_days(adam):
    adex, adsl = adam["adex"], adam["adsl"]
    assert "APHASE" not in adex.columns
    arm = adex["USUBJID"].map(adsl.set_index("USUBJID")["TRT01P"])
    assert (adex["EXDOSE"] == arm.map({"Placebo": 0, "Low Dose": 50, "High Dose": 100})).all()
    assert (adex["EXDOSU"] == "mg").all()
    assert subjid(adex[adex["EXENDY"].isna()]).tolist() == ["3005"]
    assert (adex["EXSTDY"] == 1).any() and adex["EXSTDY"].min() == 1
    assert (adex["EXENDY"] == 168).any() and adex["EXENDY"].max() == 168
    assert set(subjid(adex)) == set(subjid(adsl[adsl["SAFFL"] == "Y"]))


# -- the hand counts against plain pandas counts ----------------------------------------------


def by_arm(values: pd.Series, arm: pd.Series, total) -> dict:
    out = {a: values[arm == a] for a in ARMS}
    return {**{a: total(v) for a, v in out.items()}, "Total": total(values)}


@pytest.fixture(scope="module")
def teae(adam) -> pd.DataFrame:
    adsl, adae = adam["adsl"], adam["adae"]
    ae = adae.merge(adsl[["USUBJID", "TRT01P", "SAFFL"]], on="USUBJID",
                    suffixes=("_AE", ""))
    return ae[(ae["SAFFL"] == "Y") & (ae["TRTEMFL"] == "Y")]


def count(ae: pd.DataFrame) -> dict:
    subjects = by_arm(ae["USUBJID"], ae["TRT01P"], lambda v: v.nunique())
    events = by_arm(ae["USUBJID"], ae["TRT01P"], len)
    return subjects, events


def test_hand_counts_safety_population(adam):
    adsl = adam["adsl"]
    saf = adsl[adsl["SAFFL"] == "Y"]
    assert by_arm(saf["USUBJID"], saf["TRT01P"], len) == E["N"]
    assert by_arm(adsl["USUBJID"], adsl["TRT01P"], len) == E["enrolled"]


def test_hand_counts_ae_overview(teae):
    assert count(teae) == (E["teae_subjects"], E["teae_events"])
    related = teae[teae["AEREL"].isin(["POSSIBLE", "PROBABLE", ""])]
    assert count(related) == (E["related_subjects"], E["related_events"])
    assert count(teae[teae["AESEV"] == "SEVERE"]) == (E["severe_subjects"], E["severe_events"])
    assert count(teae[teae["AESER"] == "Y"]) == (E["serious_subjects"], E["serious_events"])


def test_hand_counts_soc_pt(teae):
    want = {}
    for label, rows in [("ANY", teae), *teae.groupby("AEBODSYS"),
                        *((f"{s} / {t}", g) for (s, t), g
                          in teae.groupby(["AEBODSYS", "AEDECOD"]))]:
        subjects, events = count(rows)
        want[label] = {a: (subjects[a], events[a]) for a in subjects}
    assert want == E["soc_pt"]


def test_hand_counts_non_emergent_events(adam):
    assert (adam["adae"]["TRTEMFL"] == "N").sum() == E["non_teae_events"]


def test_hand_counts_adqs_selection(adam):
    adqs = adam["adqs"]
    chosen = selected(adqs)
    assert len(adqs) == E["adqs_read"]
    assert len(chosen) == E["adqs_selected"]
    assert len(adqs) - len(chosen) == E["adqs_set_aside"]
    assert (chosen["DTYPE"] == "LOCF").sum() == E["sponsor_locf"]


def week24_means(adam, *, locf: bool, efffl: bool = True):
    adqs = selected(adam["adqs"])
    rows = adqs[(adqs["AVISITN"] == 24)
                & (adqs["DTYPE"].isin(["", "LOCF"] if locf else [""]))]
    if efffl:
        rows = rows[rows["EFFFL"] == "Y"]
    n = rows.groupby("TRTP")["AVAL"].size().to_dict()
    mean = {a: Fraction(int(g.sum()), len(g)) for a, g in rows.groupby("TRTP")["AVAL"]}
    return n, mean


def test_hand_counts_week24_means(adam):
    assert week24_means(adam, locf=False) == (E["week24_observed_n"],
                                              E["week24_observed_mean"])
    assert week24_means(adam, locf=True) == (E["week24_locf_n"], E["week24_locf_mean"])
    _, observed = week24_means(adam, locf=False, efffl=False)
    _, with_locf = week24_means(adam, locf=True, efffl=False)
    assert {"observed": observed["Low Dose"], "locf": with_locf["Low Dose"]} == E[
        "week24_low_dose_without_efffl"]
    # the EFFFL filter changes only Low Dose (2007)
    assert observed["Placebo"] == E["week24_observed_mean"]["Placebo"]


def test_hand_counts_sponsor_locf_equals_a_locf_from_the_baseline_on(adam):
    """What the pipeline's own LOCF (carrying from the baseline visit on into each missed
    visit 8, 16, 24) would give, to compare with the sponsor's records: no difference."""
    adqs = selected(adam["adqs"])
    observed = adqs[adqs["DTYPE"] == ""].pivot(index="USUBJID", columns="AVISITN",
                                               values="AVAL")
    derived = observed.ffill(axis=1)
    derived = derived.where(observed.isna()).stack().dropna()
    derived = derived.rename("AVAL").reset_index()
    sponsor = adqs.loc[adqs["DTYPE"] == "LOCF", ["USUBJID", "AVISITN", "AVAL"]]
    merged = derived.merge(sponsor, on=["USUBJID", "AVISITN"], how="outer",
                           suffixes=("_OURS", "_SPONSOR"))
    differ = merged["AVAL_OURS"].ne(merged["AVAL_SPONSOR"])
    assert len(merged) == E["sponsor_locf"]
    assert int(differ.sum()) == E["locf_differences"]


# -- the efficacy-only trial ------------------------------------------------------------------


def test_efficacy_only_shape(eff):
    adsl, adqs = eff["adsl"], eff["adqs"]
    assert set(eff) == {"adsl", "adqs"}
    assert adsl.columns.tolist() == ["USUBJID", "STUDYID", "TRT01P", "TRT01PN", "SAFFL",
                                     "EFFFL"]
    assert adsl.drop_duplicates("TRT01P").set_index("TRT01P")["TRT01PN"].to_dict() == {
        "Placebo": 0, "Active": 1}
    assert adsl["TRT01P"].value_counts().to_dict() == {"Placebo": 10, "Active": 10}
    assert set(adqs["PARAMCD"]) == {"HAMD"}
    assert set(adqs["AVISITN"]) == {2, 4, 6}  # no baseline record
    assert "ABLFL" not in adqs.columns and "DTYPE" not in adqs.columns
    assert adqs["AVAL"].between(0, 52).all() and adqs["BASE"].between(0, 52).all()
    assert (adqs["CHG"] == adqs["AVAL"] - adqs["BASE"]).all()
    assert (adqs.groupby("USUBJID")["BASE"].nunique() == 1).all()
    assert not adqs.duplicated(KEY).any()


def test_efficacy_only_hand_counts(eff):
    adsl, adqs = eff["adsl"], eff["adqs"]
    X = fx.EXPECTED_EFFICACY_ONLY
    assert {**adsl["TRT01P"].value_counts().to_dict(), "Total": len(adsl)} == X["enrolled"]
    assert len(adqs) == X["adqs_read"]
    week6 = adqs[adqs["AVISITN"] == 6]
    assert week6.groupby("TRTP").size().to_dict() == X["week6_n"]
    for column, key in (("CHG", "week6_chg_mean"), ("BASE", "week6_base_mean")):
        got = {a: Fraction(int(g.sum()), len(g)) for a, g in week6.groupby("TRTP")[column]}
        assert got == X[key], column
