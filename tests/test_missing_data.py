"""Missing-data sensitivity analyses (``analyses.missing_data``): the config refused naming
the key, the intercurrent-event rules at their edges, SAGA's rows against a direct call of
``trialreport.stats.imputation`` on records built here from the CSVs, determinism, the
tipping point against its grid (and the grid's estimates against least squares written out
here), the report's section and the figure."""

from __future__ import annotations

import copy
import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from trialreport.analyse.ard import format_ard
from trialreport.analyse.missing_data import (
    ice_from_days,
    imputation_records,
    missing_data_ard,
    prepare_data,
)
from trialreport.common.config import AnalysisConfigError, Trial, check_trials
from trialreport.common.missing_data import MAX_GRID, MissingDataConfigError, MixedAssumption, grid
from trialreport.common.plan import PlanError
from trialreport.stats import imputation as imp

from conftest import ROOT

TRIAL = "fasoracetam_saga"
SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")
ARMS = ["Placebo", "Fasoracetam"]
VISITS = [1, 2, 3, 4, 5, 6]
ENGINE = {"MAR": "MAR", "J2R": "JR", "CR": "CR", "CIR": "CIR"}


@pytest.fixture(scope="module")
def config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def saga(config: dict) -> dict:
    return copy.deepcopy(config["trials"][TRIAL])


def entry(t: dict) -> dict:
    return t["analyses"]["missing_data"][0]


# -- the records of SAGA, built here from the CSVs, without the package's derive stage --


@pytest.fixture(scope="module")
def csv_records() -> dict:
    return saga_csv_records()


def saga_csv_records() -> dict:
    """SAGA's subjects, its ADHD-RS records with BASE and CHG, and the long table of a
    direct call (every mITT subject at visits 1-6), from the CSVs with pandas alone."""
    subjects = pd.read_csv(ROOT / "data" / TRIAL / "subjects.csv", dtype=str,
                           keep_default_na=False)
    scores = pd.read_csv(ROOT / "data" / TRIAL / "scores.csv")
    adhd = scores[scores["PARAMCD"] == "ADHDRS"]
    base = adhd[adhd["AVISITN"] == 0].set_index("USUBJID")["AVAL"].astype(float)
    post = adhd[adhd["AVISITN"] > 0].copy()
    post["BASE"] = post["USUBJID"].map(base)
    post["CHG"] = post["AVAL"] - post["BASE"]
    base_rows = adhd[adhd["AVISITN"] == 0].assign(BASE=lambda f: f["AVAL"], CHG=0.0)
    efficacy = pd.concat([base_rows, post])[["USUBJID", "PARAMCD", "AVISITN", "AVAL", "BASE",
                                             "CHG"]]
    mitt = subjects[subjects["EFFFL"] == "Y"].sort_values("USUBJID")
    # the long table of the direct call: every mITT subject at every visit, CHG or missing
    chg = post.set_index(["USUBJID", "AVISITN"])["CHG"]
    long = {"USUBJID": [], "AVISITN": [], "ARM": [], "CHG": [], "BASE": []}
    for _, s in mitt.iterrows():
        for v in VISITS:
            long["USUBJID"].append(s["USUBJID"])
            long["AVISITN"].append(v)
            long["ARM"].append(s["TRT01P"])
            long["CHG"].append(float(chg.get((s["USUBJID"], v), np.nan)))
            long["BASE"].append(base[s["USUBJID"]])
    return {"subjects": subjects, "efficacy": efficacy, "long": long, "mitt": mitt}


def direct(long: dict, strategy: str, **kwargs) -> imp.ImputationResult:
    data = imp.prepare(long, response="CHG", subject="USUBJID", visit="AVISITN", arm="ARM",
                       baseline="BASE", levels={"AVISITN": VISITS, "ARM": ARMS},
                       reference="Placebo")
    data = data.with_strategy({"Placebo": "MAR", "Fasoracetam": ENGINE[strategy]})
    return imp.condmean_jackknife(data, **kwargs)


def rows_of(ard: pd.DataFrame, method: str, group: str) -> dict[str, float]:
    own = ard[(ard["analysis"] == "missing_data") & (ard["method"] == method)
              & (ard["group"] == group)]
    return dict(zip(own["statistic"], own["value"].astype(float), strict=True))


# -- the config ----------------------------------------------------------------------------

KEY = r"analyses\.missing_data\[0\] \(adhdrs_mnar\)"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m.update(strategies=["MAR", "JR"]),
     KEY + r"\.strategies\[1\]: 'JR' is not an assumption; use MAR, J2R, CR, CIR, LMCF"),
    (lambda m: m.update(strategies=["MAR", "MAR"]), KEY + r"\.strategies: .* named twice"),
    (lambda m: m.update(parameter="ADHDX"), KEY + r"\.parameter: 'ADHDX' is not a parameter"),
    (lambda m: m.update(parameter="CGII"), KEY + r"\.parameter: CGII has no baseline"),
    (lambda m: m.update(visit=0), KEY + r"\.visit: 0 is not a visit after ADHDRS's baseline"),
    (lambda m: m.update(visit=7), KEY + r"\.visit: 7 is not a visit after"),
    (lambda m: m.update(reference_arm="Nootropil"), KEY + r"\.reference_arm: 'Nootropil'"),
    (lambda m: m.update(covariance="UN"), KEY + r"\.covariance: 'UN'"),
    (lambda m: m.update(covariates=["BASE"]), KEY + r"\.covariates: the baseline"),
    (lambda m: m.update(intercurrent_event={"rule": "day_column"}),
     KEY + r"\.intercurrent_event\.column: rule day_column needs"),
    (lambda m: m.update(intercurrent_event={"rule": "last_rating", "column": "TRTEDY"}),
     KEY + r"\.intercurrent_event\.column: only with rule day_column"),
    (lambda m: m.update(intercurrent_event={"rule": "first_gap"}),
     KEY + r"\.intercurrent_event\.rule: 'first_gap'"),
    (lambda m: m.update(inference={"method": "mi_bootstrap", "imputations": 50}),
     KEY + r"\.inference\.seed: multiple imputation needs"),
    (lambda m: m.update(inference={"method": "mi_bootstrap", "seed": 1}),
     KEY + r"\.inference\.imputations: multiple imputation needs"),
    (lambda m: m.update(inference={"method": "mi_bootstrap", "imputations": 1, "seed": 1}),
     KEY + r"\.inference\.imputations: 1; at least 2"),
    (lambda m: m.update(inference={"method": "condmean_jackknife", "seed": 1}),
     KEY + r"\.inference\.seed: only with method mi_bootstrap"),
    (lambda m: m.update(inference={"method": "bootstrap"}), KEY + r"\.inference\.method"),
    (lambda m: m["tipping_point"].update(strategy="LMCF"),
     KEY + r"\.tipping_point\.strategy: 'LMCF' is not one of this entry's strategies"),
    (lambda m: m.update(strategies=["J2R"]),  # the tipping point's default is gone
     KEY + r"\.tipping_point\.strategy: 'MAR'"),
    (lambda m: m["tipping_point"].update(arms=["Nootropil"]),
     KEY + r"\.tipping_point\.arms: 'Nootropil' is not an arm"),
    (lambda m: m["tipping_point"].update(deltas=[0, 2, 1]),
     KEY + r"\.tipping_point\.deltas: the deltas must be distinct and in increasing"),
    (lambda m: m["tipping_point"].update(deltas={"from": 0, "to": 0, "step": 1}),
     KEY + r"\.tipping_point\.deltas: step must be > 0 and to differ"),
    (lambda m: m["tipping_point"].update(deltas={"from": 0, "step": 1}),
     KEY + r"\.tipping_point\.deltas\.to: a grid given as a range needs"),
    (lambda m: m["tipping_point"].pop("deltas"), KEY + r"\.tipping_point\.deltas: required"),
    (lambda m: m.update(imputations=3), KEY + r"\.imputations: not a key"),
    (lambda m: m["strategies"][4]["by_value"].update({"ADVERSE EVENT": "JR"}),
     KEY + r"\.strategies\[4\]\.by_value\.ADVERSE EVENT: 'JR' is not an assumption"),
    (lambda m: m["strategies"][4].update(otherwise="X"),
     KEY + r"\.strategies\[4\]\.otherwise: 'X' is not an assumption"),
    (lambda m: m["strategies"][4].update(id="J2R"),
     KEY + r"\.strategies\[4\]\.id: 'J2R'; a mixed assumption's id"),
    (lambda m: m["strategies"][4].pop("column"),
     KEY + r"\.strategies\[4\]\.column: a mixed assumption needs"),
    (lambda m: m["strategies"][4].update(when="x"),
     KEY + r"\.strategies\[4\]\.when: not a key of a mixed assumption"),
])
def test_a_bad_entry_is_refused_naming_its_key(config, edit, message) -> None:
    t = saga(config)
    edit(entry(t))
    with pytest.raises(MissingDataConfigError, match=message):
        Trial.parse(TRIAL, t)
    # the workflow's own check, before any job, prefixes the trial
    with pytest.raises(PlanError, match=r"trials\.fasoracetam_saga\." + KEY):
        check_trials({TRIAL: t})


def test_two_entries_with_one_id_are_refused(config) -> None:
    t = saga(config)
    t["analyses"]["missing_data"].append(copy.deepcopy(entry(t)))
    with pytest.raises(MissingDataConfigError,
                       match=r"analyses\.missing_data\[1\] \(adhdrs_mnar\)\.id: 'adhdrs_mnar' "
                             r"is used by two entries"):
        Trial.parse(TRIAL, t)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t["plan"]["endpoints"][0].update(sensitivity=["missing_data:nosuch"]),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.sensitivity\[0\]: no entry 'nosuch' in "
     r"analyses\.missing_data \(ids: adhdrs_mnar\)"),
    (lambda t: t["plan"]["endpoints"][3].update(sensitivity=["missing_data:adhdrs_mnar"]),
     r"plan\.endpoints\[3\] \(cgis_change\)\.sensitivity\[0\]: missing_data 'adhdrs_mnar' is "
     r"the change of ADHDRS at visit 6; the endpoint is change of CGIS at visit 6"),
    (lambda t: t["plan"]["endpoints"][0].update(sensitivity=["missing_data"]),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.sensitivity\[0\]: 'missing_data' is not an "
     r"analysis"),
])
def test_the_plan_names_an_entry_that_fits_its_endpoint(config, edit, message) -> None:
    t = saga(config)
    edit(t)
    with pytest.raises(PlanError, match=message):
        Trial.parse(TRIAL, t)


def test_the_schema_takes_the_shipped_entry_and_refuses_an_unknown_assumption(config) -> None:
    validate(copy.deepcopy(config), SCHEMA)
    broken = copy.deepcopy(config)
    entry(broken["trials"][TRIAL])["strategies"] = ["MAR", "JR"]
    with pytest.raises(WorkflowError, match="JR"):
        validate(broken, SCHEMA)
    broken = copy.deepcopy(config)
    broken["trials"][TRIAL]["plan"]["endpoints"][0]["sensitivity"] = ["missing_data:"]
    with pytest.raises(WorkflowError):
        validate(broken, SCHEMA)


def test_the_shipped_entry_parses_to_what_the_config_says(config) -> None:
    spec = Trial.parse(TRIAL, saga(config)).analyses.missing_data[0]
    assert (spec.parameter, spec.visit, spec.strategies) == (
        "ADHDRS", 6, ("MAR", "J2R", "CR", "CIR", "j2r_ae_loe"))
    mixed = spec.mixed["j2r_ae_loe"]
    assert (mixed.column, mixed.otherwise) == ("DCSREAS", "MAR")
    assert [mixed.strategy(v) for v in ("ADVERSE EVENT", "LACK OF EFFICACY",
                                        "PHYSICIAN DECISION", "", None)] == [
        "J2R", "J2R", "MAR", "MAR", "MAR"]
    # values as a person reads them: case and blanks around ignored, 1.0 read as 1; another
    # value still falls to otherwise
    assert [mixed.strategy(v) for v in ("Adverse Event", " ADVERSE EVENT ",
                                        "ADVERSE EVENTS")] == ["J2R", "J2R", "MAR"]
    coded = MixedAssumption("DCREASCD", (("1", "J2R"),), "MAR")
    assert [coded.strategy(v) for v in (1.0, 1, "1", 2.0, 1.5)] == [
        "J2R", "J2R", "J2R", "MAR", "MAR"]
    assert (spec.method, spec.covariance, spec.ice_rule) == ("condmean_jackknife", "US",
                                                             "last_rating")
    assert spec.tipping_point.deltas == tuple(float(-d) for d in range(16))
    assert spec.tipping_point.arms == ("Fasoracetam",)
    plan = Trial.parse(TRIAL, saga(config)).plan
    assert [s.name for s in plan.endpoints[0].sensitivity] == [
        "model:adhdrs_locf", "model:adhdrs_mmrm", "missing_data:adhdrs_mnar"]


def test_a_grid_range_walks_from_its_start_and_stops_at_its_end() -> None:
    assert grid({"from": 0, "to": 1, "step": 0.3}, "g") == (0.0, 0.3, 0.6, 0.9)
    assert grid({"from": 0, "to": 0.9, "step": 0.3}, "g") == (0.0, 0.3, 0.6, 0.9)
    assert grid({"from": 2, "to": -1, "step": 1}, "g") == (2.0, 1.0, 0.0, -1.0)
    assert len(grid({"from": 0, "to": MAX_GRID - 1, "step": 1}, "g")) == MAX_GRID
    with pytest.raises(MissingDataConfigError, match=f"g: {MAX_GRID + 1} deltas; at most"):
        grid({"from": 0, "to": MAX_GRID, "step": 1}, "g")
    assert len(grid(list(range(MAX_GRID)), "g")) == MAX_GRID
    with pytest.raises(MissingDataConfigError, match="at most"):
        grid(list(range(MAX_GRID + 1)), "g")


# -- intercurrent events at their edges ----------------------------------------------------


def small_trial(config: dict, **ice) -> tuple[Trial, pd.DataFrame, pd.DataFrame]:
    """Five subjects per arm; the first five (placebo) with the patterns under test."""
    t = saga(config)
    if ice:
        entry(t)["intercurrent_event"] = ice
    cfg = Trial.parse(TRIAL, t)
    observed = {  # visits 1..6 observed (1) or missing (0)
        "S1": "111111",  # complete: no event
        "S2": "111110",  # only the last visit missing: a monotone gap of one visit
        "S3": "101111",  # an intermittent gap, rated at the last visit: no event
        "S4": "101000",  # an intermittent gap, then ratings stop after visit 3
        "S5": "000000",  # no rating after baseline: the event affects the first visit
    }
    subjects, rows = [], []
    for k in range(10):
        sid = f"S{k + 1}"
        arm = "Placebo" if k < 5 else "Fasoracetam"
        subjects.append({"USUBJID": sid, "TRT01P": arm, "EFFFL": "Y", "DCSREAS": "",
                         "TRTEDY": ["", "14", "15", "43", "abc"][k % 5]})
        rows.append({"USUBJID": sid, "PARAMCD": "ADHDRS", "AVISITN": 0, "AVAL": 30.0,
                     "BASE": 30.0, "CHG": 0.0})
        for j, v in enumerate(VISITS):
            if observed.get(sid, "111111")[j] == "1":
                rows.append({"USUBJID": sid, "PARAMCD": "ADHDRS", "AVISITN": v,
                             "AVAL": 30.0 - v, "BASE": 30.0, "CHG": -float(v)})
    return cfg, pd.DataFrame(subjects), pd.DataFrame(rows)


def test_the_last_rating_rule_places_the_event_after_a_monotone_gap_only(config) -> None:
    cfg, subjects, efficacy = small_trial(config)
    spec = cfg.analyses.missing_data[0]
    data = prepare_data(cfg, spec, subjects, efficacy, ARMS)
    ice = dict(zip(data.subject_ids.tolist(), data.ice.tolist(), strict=True))
    t = len(VISITS)
    # the index of the first visit affected; t: none
    assert [ice[s] for s in ("S1", "S2", "S3", "S4", "S5")] == [t, 5, t, 3, 0]
    assert data.ice_derived
    # S3's intermittent gap is imputed under MAR whatever the assumption; S4's gap before
    # its event too, and its visits from the event on take the assumption
    jr = data.with_strategy({"Placebo": "JR", "Fasoracetam": "JR"})
    strategy = dict(zip(jr.subject_ids.tolist(), jr.strategy.tolist(), strict=True))
    assert strategy["S3"] == "MAR" and strategy["S1"] == "MAR"
    assert strategy["S4"] == strategy["S2"] == strategy["S5"] == "JR"
    s3 = data.subject_ids.tolist().index("S3")
    assert not data.post_ice[s3].any() and data.missing[s3, 1]


def test_the_records_are_every_subject_at_every_visit_with_missing_change(config) -> None:
    cfg, subjects, efficacy = small_trial(config)
    frame, ice = imputation_records(cfg, cfg.analyses.missing_data[0], subjects, efficacy,
                                    ARMS)
    assert ice is None and len(frame) == 10 * len(VISITS)
    s5 = frame[frame["USUBJID"] == "S5"]
    assert s5["CHG"].isna().all() and (s5["BASE"] == 30.0).all()
    assert frame["CHG"].notna().sum() == 5 * 6 + 6 + 5 + 5 + 2


def test_a_delivered_event_day_affects_the_visits_planned_after_it() -> None:
    days = pd.Series({"A": "", "B": "14", "C": "15", "D": "43", "E": "42", "F": None,
                      "G": "-3"})
    planned = [8, 15, 22, 29, 36, 43]
    got = ice_from_days(days, planned, "analyses.missing_data[0] (x)", "TRTEDY")
    # a visit on the day of the event is before it; a day after the last visit: no event
    assert got == {"B": 1, "C": 2, "E": 5, "G": 0}
    with pytest.raises(AnalysisConfigError,
                       match=r"analyses\.missing_data\[0\] \(x\)\.intercurrent_event\.column: "
                             r"subjects column TRTEDY, subject Z: 'abc' is not a study day"):
        ice_from_days(pd.Series({"Z": "abc"}), planned, "analyses.missing_data[0] (x)",
                      "TRTEDY")


def test_the_day_column_rule_goes_into_the_imputation_data(config) -> None:
    cfg, subjects, efficacy = small_trial(config, rule="day_column", column="TRTEDY")
    subjects = subjects.assign(TRTEDY=["", "14", "15", "43", "1"] * 2)
    data = prepare_data(cfg, cfg.analyses.missing_data[0], subjects, efficacy, ARMS)
    ice = dict(zip(data.subject_ids.tolist(), data.ice.tolist(), strict=True))
    assert [ice[f"S{k}"] for k in range(1, 6)] == [6, 1, 2, 6, 0]
    assert not data.ice_derived
    with pytest.raises(AnalysisConfigError, match=r"\.intercurrent_event\.column: 'NOSUCH' is "
                                                  r"not a subjects column"):
        cfg2, s2, e2 = small_trial(config, rule="day_column", column="NOSUCH")
        prepare_data(cfg2, cfg2.analyses.missing_data[0], s2, e2, ARMS)


# -- SAGA: the ARD rows against a direct call, the tipping point, determinism -------------


@pytest.fixture(scope="module")
def saga_ard(config, csv_records) -> pd.DataFrame:
    cfg = Trial.parse(TRIAL, saga(config))
    return missing_data_ard(TRIAL, cfg, csv_records["subjects"], csv_records["efficacy"],
                            ARMS, workers=2)


@pytest.fixture(scope="module")
def direct_results(csv_records) -> dict[str, imp.ImputationResult]:
    return {s: direct(csv_records["long"], s) for s in ("MAR", "J2R", "CR", "CIR")}


def test_saga_rows_are_a_direct_call_of_the_engine(saga_ard, csv_records,
                                                   direct_results) -> None:
    assert_rows_are_the_engines(saga_ard, direct_results)
    # the counts, from the CSVs: mITT per arm and the week-6 ratings missing
    long = pd.DataFrame(csv_records["long"])
    week6 = long[long["AVISITN"] == 6]
    for arm in ARMS:
        own = rows_of(saga_ard, "adhdrs_mnar: J2R", arm)
        assert own["n"] == (week6["ARM"] == arm).sum()
        assert own["n_imputed"] == week6.loc[week6["ARM"] == arm, "CHG"].isna().sum()
        # SAGA's gaps are all monotone: every missing week 6 is an event
        assert own["n_ice"] == own["n_imputed"]
    assert rows_of(saga_ard, "adhdrs_mnar: MAR", "Placebo")["n"] == 50
    assert rows_of(saga_ard, "adhdrs_mnar: MAR", "Fasoracetam")["n_imputed"] == 9


def assert_rows_are_the_engines(ard: pd.DataFrame,
                                results: dict[str, imp.ImputationResult]) -> None:
    """Each assumption's rows of ``ard`` are the engine's week-6 rows of ``results``."""
    contrast = "Fasoracetam vs Placebo"
    for strategy, res in results.items():
        want = next(r for r in res.rows if r["kind"] == "difference" and r["visit"] == 6)
        got = rows_of(ard, f"adhdrs_mnar: {strategy}", contrast)
        for ours, theirs in [("diff", "estimate"), ("diff_se", "se"),
                             ("diff_ci_low", "lower"), ("diff_ci_high", "upper"),
                             ("p_value", "p")]:
            assert got[ours] == pytest.approx(want[theirs], rel=1e-12, abs=1e-12), \
                (strategy, ours)
        assert math.isinf(got["diff_df"])  # the jackknife's CI and P are normal
        for arm in ARMS:
            ls = next(r for r in res.rows if r["kind"] == "lsmean" and r["visit"] == 6
                      and r["arm"] == arm)
            own = rows_of(ard, f"adhdrs_mnar: {strategy}", arm)
            assert own["lsmean"] == pytest.approx(ls["estimate"], rel=1e-12)


def test_a_mixed_assumption_is_a_direct_call_with_each_subjects_strategy(
        saga_ard, csv_records) -> None:
    """J2R for the fasoracetam subjects who stopped for an adverse event or lack of
    efficacy (DCSREAS), MAR for the rest: the strategies set here, subject by subject."""
    from dataclasses import replace

    data = imp.prepare(csv_records["long"], response="CHG", subject="USUBJID",
                       visit="AVISITN", arm="ARM", baseline="BASE",
                       levels={"AVISITN": VISITS, "ARM": ARMS}, reference="Placebo")
    reason = csv_records["mitt"].set_index("USUBJID")["DCSREAS"]
    arm = csv_records["mitt"].set_index("USUBJID")["TRT01P"]
    strategy = np.array(["JR" if arm[s] == "Fasoracetam" and data.ice[i] < 6
                         and reason[s] in ("ADVERSE EVENT", "LACK OF EFFICACY") else "MAR"
                         for i, s in enumerate(data.subject_ids.tolist())], dtype=object)
    assert (strategy == "JR").sum() == 6  # 4 adverse events, 2 lack of efficacy
    res = imp.condmean_jackknife(replace(data, strategy=strategy))
    assert_rows_are_the_engines(saga_ard, {"j2r_ae_loe": res})
    diff = {s: rows_of(saga_ard, f"adhdrs_mnar: {s}", "Fasoracetam vs Placebo")["diff"]
            for s in ("MAR", "J2R", "j2r_ae_loe")}
    assert len(set(diff.values())) == 3


def test_a_mixed_assumptions_column_must_be_a_subjects_column(config, csv_records) -> None:
    t = saga(config)
    entry(t)["strategies"][4]["column"] = "NOSUCH"
    cfg = Trial.parse(TRIAL, t)
    with pytest.raises(AnalysisConfigError,
                       match=KEY + r"\.strategies\[4\]\.column: 'NOSUCH' is not a subjects "
                                   r"column"):
        missing_data_ard(TRIAL, cfg, csv_records["subjects"], csv_records["efficacy"], ARMS)


def test_the_report_says_what_a_mixed_assumption_assumes(config) -> None:
    from trialreport.report.sections.missing_data import assumes

    spec = Trial.parse(TRIAL, saga(config)).analyses.missing_data[0]
    assert assumes(spec, "j2r_ae_loe") == (
        "Mixed, by the subject's DCSREAS: jump to reference (J2R) where DCSREAS is ADVERSE "
        "EVENT or LACK OF EFFICACY; missing at random (MAR) for any other value.")
    assert assumes(spec, "CIR").startswith("Copy increments in reference: ")


def test_the_assumptions_differ_where_they_should(saga_ard) -> None:
    """Under MAR the placebo subjects and the fasoracetam ones are imputed alike; J2R pulls
    the fasoracetam imputations to placebo's mean, so its difference is nearer 0."""
    diff = {s: rows_of(saga_ard, f"adhdrs_mnar: {s}", "Fasoracetam vs Placebo")["diff"]
            for s in ("MAR", "J2R", "CR", "CIR")}
    assert diff["MAR"] < 0 and abs(diff["J2R"]) < abs(diff["CIR"]) < abs(diff["MAR"])
    assert len(set(diff.values())) == 4


def test_the_tipping_point_is_the_first_grid_delta_whose_conclusion_changes(
        saga_ard, direct_results) -> None:
    method = "adhdrs_mnar: tipping point, MAR"
    contrast = "Fasoracetam vs Placebo"
    summary = rows_of(saga_ard, method, contrast)
    groups = [g for g in dict.fromkeys(saga_ard.loc[saga_ard["method"] == method, "group"])
              if g != contrast]
    grid_rows = [rows_of(saga_ard, method, g) for g in groups]
    deltas = [r["delta"] for r in grid_rows]
    assert deltas == [float(-d) for d in range(16)]
    for r in grid_rows:
        assert r["significant"] == float(r["p_value"] < 0.05)
    at_zero = grid_rows[0]
    assert summary["significant_at_zero"] == at_zero["significant"] == 0.0
    first = next(r["delta"] for r in grid_rows if r["significant"] != at_zero["significant"])
    assert summary["tipping_delta"] == first and summary["tipping_reached"] == 1.0
    before = deltas[deltas.index(first) - 1]
    assert first <= summary["tipping_delta_refined"] <= before
    # P at the refined delta is the level: recomputed from the engine directly
    at = direct_results["MAR"].at({"Fasoracetam": summary["tipping_delta_refined"]})
    p = next(r["p"] for r in at if r["kind"] == "difference" and r["visit"] == 6)
    assert p == pytest.approx(0.05, abs=1e-9)
    # the MAR rows at delta 0 are the MAR analysis
    assert at_zero["diff"] == rows_of(saga_ard, "adhdrs_mnar: MAR", contrast)["diff"]


def test_the_grid_estimates_move_as_least_squares_says(saga_ard, csv_records) -> None:
    """Adding delta to the imputed week-6 changes of the fasoracetam subjects moves the
    ANCOVA's arm coefficient by delta times the arm coefficient of the OLS of the indicator
    of those subjects on (1, arm, BASE): numpy, written out here."""
    long = pd.DataFrame(csv_records["long"])
    w6 = long[long["AVISITN"] == 6].sort_values("USUBJID")
    x = np.column_stack([np.ones(len(w6)), (w6["ARM"] == "Fasoracetam").astype(float),
                         w6["BASE"].astype(float)])
    u = ((w6["ARM"] == "Fasoracetam") & w6["CHG"].isna()).astype(float).to_numpy()
    slope = np.linalg.lstsq(x, u, rcond=None)[0][1]
    method = "adhdrs_mnar: tipping point, MAR"
    zero = rows_of(saga_ard, method, "Fasoracetam vs Placebo; delta 0")["diff"]
    for d in (-1, -7, -15):
        got = rows_of(saga_ard, method, f"Fasoracetam vs Placebo; delta {d}")["diff"]
        assert got == pytest.approx(zero + d * slope, rel=1e-10)


def test_a_grid_the_conclusion_never_changes_on_says_not_reached(config, csv_records) -> None:
    t = saga(config)
    entry(t).update(strategies=["J2R"], tipping_point={"deltas": [0, 1, 2]})
    cfg = Trial.parse(TRIAL, t)
    ard = missing_data_ard(TRIAL, cfg, csv_records["subjects"], csv_records["efficacy"],
                           ARMS)
    summary = rows_of(ard, "adhdrs_mnar: tipping point, J2R", "Fasoracetam vs Placebo")
    assert summary["tipping_reached"] == 0.0
    assert math.isnan(summary["tipping_delta"]) and math.isnan(summary["tipping_delta_refined"])
    from trialreport.report.sections.missing_data import tipping_sentence

    r = SimpleNamespace(ard=ard, cfg=cfg)
    text = tipping_sentence(r, "adhdrs_mnar: tipping point, J2R", "Fasoracetam vs Placebo")
    assert "not reached in the grid (deltas 0.00 to 2.00)" in text


def test_two_runs_give_byte_identical_rows_whatever_the_workers(config, csv_records,
                                                                saga_ard) -> None:
    cfg = Trial.parse(TRIAL, saga(config))
    again = missing_data_ard(TRIAL, cfg, csv_records["subjects"], csv_records["efficacy"],
                             ARMS, workers=1)
    assert format_ard(again).to_csv(index=False) == format_ard(saga_ard).to_csv(index=False)


def test_multiple_imputation_is_seeded_and_reports_its_monte_carlo_error(config,
                                                                         csv_records) -> None:
    t = saga(config)
    entry(t).update(strategies=["J2R"], tipping_point={"deltas": [0, -5]},
                    inference={"method": "mi_bootstrap", "imputations": 5, "seed": 11})
    cfg = Trial.parse(TRIAL, t)
    runs = [missing_data_ard(TRIAL, cfg, csv_records["subjects"], csv_records["efficacy"],
                             ARMS, workers=w) for w in (1, 2)]
    assert format_ard(runs[0]).to_csv(index=False) == format_ard(runs[1]).to_csv(index=False)
    got = rows_of(runs[0], "adhdrs_mnar: J2R", "Fasoracetam vs Placebo")
    assert (got["imputations"], got["seed"]) == (5, 11)
    assert got["mcse_diff"] > 0 and math.isfinite(got["diff_df"])
    # the pooled estimate and its Monte Carlo error are Rubin's, from the engine directly
    data = imp.prepare(csv_records["long"], response="CHG", subject="USUBJID",
                       visit="AVISITN", arm="ARM", baseline="BASE",
                       levels={"AVISITN": VISITS, "ARM": ARMS}, reference="Placebo")
    res = imp.mi_bootstrap(data.with_strategy({"Placebo": "MAR", "Fasoracetam": "JR"}),
                           m=5, seed=11)
    want = next(r for r in res.rows if r["kind"] == "difference" and r["visit"] == 6)
    assert got["diff"] == pytest.approx(want["estimate"], rel=1e-12)
    assert got["mcse_diff"] == pytest.approx(math.sqrt(want["b"] / 5), rel=1e-12)
    # the report gives the Monte Carlo error beside each assumption's estimate
    from trialreport.common.plan import AnalysisRef
    from trialreport.report.sections.missing_data import assumption_table

    r = SimpleNamespace(ard=runs[0], cfg=cfg)
    table = assumption_table(r, cfg.plan.endpoints[0],
                             AnalysisRef("missing_data", "imputation", "adhdrs_mnar"),
                             "Fasoracetam", "Placebo")
    assert table["Monte Carlo error (estimate; P)"].tolist() == [
        f"{got['mcse_diff']:.3f}; {got['mcse_p']:.3f}"]
    other = copy.deepcopy(t)
    entry(other)["inference"]["seed"] = 12
    changed = missing_data_ard(TRIAL, Trial.parse(TRIAL, other), csv_records["subjects"],
                               csv_records["efficacy"], ARMS)
    assert rows_of(changed, "adhdrs_mnar: J2R", "Fasoracetam vs Placebo")["diff"] != got["diff"]


# -- the figure ---------------------------------------------------------------------------


def test_the_figure_draws_the_ard_rows_and_fits_the_page(config, saga_ard, tmp_path) -> None:
    from trialreport.figures.stage import figures_bytes
    from trialreport.figures.style import FIGURE_WIDTH, MAX_HEIGHT, MIN_FONT_PT, smallest_text
    from trialreport.figures.tipping_point import caption, tipping_point_figure

    cfg = Trial.parse(TRIAL, saga(config))
    fig = tipping_point_figure(saga_ard, cfg)
    assert fig.get_figwidth() <= FIGURE_WIDTH + 1e-9
    assert fig.get_figheight() <= MAX_HEIGHT + 1e-9
    size, text = smallest_text(fig)
    assert size >= MIN_FONT_PT, (size, text)
    method = "adhdrs_mnar: tipping point, MAR"
    line = next(a for a in fig.findobj() if (a.get_gid() or "").startswith("diff-"))
    ps = next(a for a in fig.findobj() if (a.get_gid() or "").startswith("p-"))
    tips = [a for a in fig.findobj() if (a.get_gid() or "").startswith("tip-")]
    grid_rows = [rows_of(saga_ard, method, f"Fasoracetam vs Placebo; delta {-d}")
                 for d in range(16)]
    assert list(line.get_xdata()) == [r["delta"] for r in grid_rows]
    assert list(line.get_ydata()) == [r["diff"] for r in grid_rows]
    assert list(ps.get_ydata()) == [r["p_value"] for r in grid_rows]
    tip = rows_of(saga_ard, method, "Fasoracetam vs Placebo")["tipping_delta"]
    assert len(tips) == 2 and all(t.get_xdata()[0] == tip for t in tips)
    text, alt = caption(cfg, saga_ard)
    assert f"the conclusion changes at delta {tip:g}" in alt
    first = figures_bytes(tipping_point_figure(saga_ard, cfg), text, alt)
    second = figures_bytes(tipping_point_figure(saga_ard, cfg), text, alt)
    assert first == second


def test_a_trial_without_a_tipping_point_gets_a_figure_saying_so(config) -> None:
    from trialreport.figures.tipping_point import caption, tipping_point_figure

    cfg = Trial.parse("fasoracetam_nfc1", copy.deepcopy(config["trials"]["fasoracetam_nfc1"]))
    empty = pd.DataFrame(columns=["analysis", "method", "group", "statistic", "value"])
    fig = tipping_point_figure(empty, cfg)
    assert any(a.get_gid() == "placeholder" for a in fig.findobj())
    assert re.search(r"none, the trial's config names no tipping-point", caption(cfg, empty)[0])


def test_the_plan_takes_missing_data_as_a_sensitivity_analysis_only(config) -> None:
    """As main analysis its rows came after the plan's decisions were made, so the endpoint
    had neither P nor decision: refused, naming the key."""
    t = saga(config)
    primary = t["plan"]["endpoints"][0]
    primary["main"] = "missing_data:adhdrs_mnar"
    with pytest.raises(PlanError, match=r"endpoints\[0\] \(adhdrs_change\)\.main: "
                                        r"missing_data:adhdrs_mnar is a sensitivity analysis"):
        Trial.parse(TRIAL, t)


def test_the_plan_refuses_an_entry_imputing_against_another_reference_arm(config) -> None:
    """Its rows are "<arm> vs <its reference>"; the plan looks up "<arm> vs <the plan's
    reference>", which would be "not computed" everywhere."""
    t = saga(config)
    entry(t)["reference_arm"] = "Fasoracetam"
    entry(t)["tipping_point"]["arms"] = ["Placebo"]
    with pytest.raises(PlanError, match=r"sensitivity\[2\]: missing_data 'adhdrs_mnar' imputes "
                                        r"against reference arm 'Fasoracetam'.*'Placebo'"):
        Trial.parse(TRIAL, t)
    entry(t)["reference_arm"] = "Placebo"  # the plan's: accepted
    entry(t)["tipping_point"]["arms"] = ["Fasoracetam"]
    assert Trial.parse(TRIAL, t).analyses.missing_data[0].reference_arm == "Placebo"


def test_a_mixed_assumption_counts_the_subjects_each_strategy_took(saga_ard, csv_records,
                                                                   config) -> None:
    """Counted here from the CSVs alone: the fasoracetam mITT subjects whose ADHD-RS ratings
    stop before week 6, split by their reason for discontinuation (J2R for an adverse event
    or lack of efficacy, MAR for any other)."""
    subjects, long = csv_records["subjects"], pd.DataFrame(csv_records["long"])
    rated = long.dropna(subset=["CHG"]).groupby("USUBJID")["AVISITN"].max()
    arm = subjects.set_index("USUBJID")["TRT01P"]
    reason = subjects.set_index("USUBJID")["DCSREAS"].str.strip().str.upper()
    stopped = [s for s in long["USUBJID"].unique()
               if arm[s] == "Fasoracetam" and rated.get(s, 0) < 6]
    j2r = sum(reason[s] in ("ADVERSE EVENT", "LACK OF EFFICACY") for s in stopped)
    got = rows_of(saga_ard, "adhdrs_mnar: j2r_ae_loe", "Fasoracetam")
    assert (got["n_J2R"], got["n_MAR"]) == (j2r, len(stopped) - j2r)
    assert got["n_J2R"] + got["n_MAR"] == got["n_ice"]
    assert 0 < j2r < len(stopped)  # both branches taken: the split is tested
    # a plain assumption has no such rows, nor has the reference arm
    assert "n_J2R" not in rows_of(saga_ard, "adhdrs_mnar: J2R", "Fasoracetam")
    assert "n_J2R" not in rows_of(saga_ard, "adhdrs_mnar: j2r_ae_loe", "Placebo")
    # and the report says it beside the assumption
    from trialreport.report.results import Results
    from trialreport.report.sections.missing_data import assumption_table

    r = Results(TRIAL, saga(config), saga_ard, pd.DataFrame(), pd.DataFrame(), {})
    e = r.cfg.plan.endpoints[0]
    ref = next(s for s in e.sensitivity if s.kind == "missing_data")
    table = assumption_table(r, e, ref, "Fasoracetam", "Placebo").set_index("Assumption")
    assert table.loc["j2r_ae_loe", "What it assumes"].endswith(
        f" Fasoracetam's subjects with an event: J2R {j2r}; MAR {len(stopped) - j2r}.")
    assert "subjects with an event" not in table.loc["J2R", "What it assumes"]
