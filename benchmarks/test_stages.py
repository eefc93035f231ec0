"""Each stage on a large trial, as ratios against a floor measured in the same run."""

from __future__ import annotations

import pandas as pd
from scipy import stats as sps

from trialreport import contracts, io
from trialreport.analysis import build_ard
from trialreport.config import Trial
from trialreport.derive import derive_efficacy
from trialreport.safety import build_safety_ard

from conftest import ROOT, compare


def test_reading_a_large_csv(scaled) -> None:
    path = scaled["paths"]["scores"]
    frame = compare(
        "read scores.csv",
        ours=lambda: io.read_table(path),
        floor=lambda: pd.read_csv(path, dtype=str, keep_default_na=False),
        max_time_ratio=4, max_memory_ratio=6,
    )
    assert len(frame) == len(scaled["dataset"].scores)


def test_validating_a_large_scores_file(scaled) -> None:

    raw = io.read_table(scaled["paths"]["scores"])
    contract = contracts.load_contract(ROOT / "schemas" / "scores.yaml")
    domain = contracts.Domain.from_trial_config(scaled["trial"])
    domain.subject_ids = sorted(scaled["dataset"].subjects["USUBJID"])
    visits = list(domain.visits)

    def floor() -> int:
        # The irreducible checks: typing, allowed values and the key, in plain pandas.
        typed = raw.assign(AVISITN=pd.to_numeric(raw["AVISITN"]),
                           AVAL=pd.to_numeric(raw["AVAL"]), ADY=pd.to_numeric(raw["ADY"]))
        bad = (~typed["AVISIT"].isin(visits)).sum() + (~typed["USUBJID"].isin(
            domain.subject_ids)).sum()
        return int(bad + typed.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).sum())

    _, failures = compare(
        "validate scores",
        ours=lambda: contracts.validate_frame(raw, contract, domain, "scores.csv"),
        floor=floor, max_time_ratio=25, max_memory_ratio=10, repeat=2,
    )
    assert failures.empty


def test_deriving_baseline_and_change(scaled) -> None:
    scores = scaled["dataset"].scores.astype({"AVAL": "Float64"})
    visits = Trial.parse("scaled", scaled["trial"]).design.baseline_visits

    def floor() -> pd.DataFrame:
        base = scores[scores["AVISITN"] == scores["PARAMCD"].map(visits)]
        merged = scores.merge(base[["USUBJID", "PARAMCD", "AVAL"]].rename(
            columns={"AVAL": "BASE"}), on=["USUBJID", "PARAMCD"], how="left")
        return merged.assign(CHG=merged["AVAL"] - merged["BASE"])

    out = compare("derive BASE/CHG", ours=lambda: derive_efficacy(scores, visits),
                  floor=floor, max_time_ratio=6, max_memory_ratio=6)
    assert out["CHG"].notna().sum() > 0


def test_analysing_a_large_trial(scaled) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy = derive_efficacy(ds.scores.astype({"AVAL": "Float64"}),
                               Trial.parse("scaled", trial).design.baseline_visits)
    parameters = trial["design"]["parameters"]

    def floor() -> None:
        # The core of the efficacy analysis in plain pandas and scipy: by-visit descriptives
        # and, per parameter, the paired t-test and Wilcoxon test on complete pairs.
        efficacy.groupby(["PARAMCD", "AVISITN"])["AVAL"].agg(
            ["count", "mean", "std", "median", "min", "max"])
        for code, p in parameters.items():
            wide = efficacy[efficacy["PARAMCD"] == code].pivot(
                index="USUBJID", columns="AVISITN", values="AVAL").astype(float)
            pairs = wide[[p["baseline_visit"], p["comparison_visit"]]].dropna()
            b, c = pairs.iloc[:, 0].to_numpy(), pairs.iloc[:, 1].to_numpy()
            sps.ttest_rel(c, b)
            sps.wilcoxon(c - b, method="asymptotic", correction=True)

    # Ours does much more than the floor: Hodges-Lehmann and Cohen's d_z with their CIs,
    # LOCF, responders, McNemar and subgroups; the bound allows for that.
    ard = compare(
        "analyse efficacy (ARD)",
        ours=lambda: build_ard("scale", trial, ds.subjects, efficacy, ds.exposure),
        floor=floor, max_time_ratio=40, max_memory_ratio=30, repeat=2,
    )
    assert (ard["analysis"] == "paired").any()


def test_safety_tables_of_a_large_trial(scaled) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    ae = ds.adverse_events

    def floor() -> None:
        # Subjects and events by organ class and term, by severity and by period.
        ae.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].agg(["nunique", "size"])
        ae.groupby("AEBODSYS")["USUBJID"].nunique()
        ae.groupby(["USUBJID"])["AESEV"].max().value_counts()
        ae.groupby("APHASE")["USUBJID"].agg(["nunique", "size"])

    ard = compare(
        "safety, demographics, disposition, exposure (ARD)",
        ours=lambda: build_safety_ard("scale", trial, subjects=ds.subjects,
                                      adverse_events=ae, exposure=ds.exposure, efficacy=None),
        floor=floor, max_time_ratio=60, max_memory_ratio=30, repeat=2,
    )
    assert (ard["analysis"] == "ae_soc_pt").any()
