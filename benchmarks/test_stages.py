"""Each stage on a large trial, as ratios against a floor measured in the same run."""

from __future__ import annotations

import pandas as pd

from trialreport import contracts, io
from trialreport.analysis import build_ard
from trialreport.derive import derive_efficacy
from trialreport.pipeline import baseline_visits

from conftest import ROOT, compare


def test_reading_a_large_csv(scaled) -> None:
    path = scaled["paths"]["scores"]
    frame = compare(
        "read scores.csv",
        ours=lambda: io.read_table(path),
        floor=lambda: pd.read_csv(path, dtype=str, keep_default_na=False),
        max_time_ratio=8, max_memory_ratio=6,
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
    visits = baseline_visits(scaled["trial"])

    def floor() -> pd.DataFrame:
        base = scores[scores["AVISITN"] == scores["PARAMCD"].map(visits)]
        merged = scores.merge(base[["USUBJID", "PARAMCD", "AVAL"]].rename(
            columns={"AVAL": "BASE"}), on=["USUBJID", "PARAMCD"], how="left")
        return merged.assign(CHG=merged["AVAL"] - merged["BASE"])

    out = compare("derive BASE/CHG", ours=lambda: derive_efficacy(scores, visits),
                  floor=floor, max_time_ratio=6, max_memory_ratio=6)
    assert out["CHG"].notna().sum() > 0


def test_analysing_a_large_trial(scaled) -> None:
    ds = scaled["dataset"]
    efficacy = derive_efficacy(ds.scores.astype({"AVAL": "Float64"}),
                               baseline_visits(scaled["trial"]))

    def floor() -> pd.DataFrame:
        return efficacy.groupby(["PARAMCD", "AVISITN"])["AVAL"].agg(["count", "mean", "std"])

    ard = compare(
        "analyse (ARD)",
        ours=lambda: build_ard("scale", scaled["trial"], ds.subjects, efficacy, ds.exposure),
        floor=floor, max_time_ratio=60, max_memory_ratio=30, repeat=2,
    )
    assert (ard["analysis"] == "paired").any()
