"""Responder rules at their edges, on a small two-arm trial built to sit on them:

- a percent change exactly at the threshold (-30%) responds under ``<=`` and not under
  ``<``;
- a percent change from a zero baseline is not evaluable: never infinite, never a response
  (a rating that rises from 0 to 3 would be +inf %, which ``>= 30`` would call a response);
- with ``missing: non_responder`` a subject of the efficacy population without a rating
  counts as a non-response, and a subject outside it counts not at all, even with a rating
  that would respond.

Each case runs through the workflow's stages on files (ingest to analyse); one case runs
through Snakemake itself."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml

from trialreport.analyse.ard import read_ard

from conftest import copy_repository, run_snakemake

TRIAL = "responder_edges"
# subject: (arm, EFFFL, baseline, week-2 rating or None)
SUBJECTS = {
    "A1": ("Drug", "Y", 10, 7),      # -30% exactly
    "A2": ("Drug", "Y", 10, 8),      # -20%
    "A3": ("Drug", "Y", 0, 3),       # from 0: not evaluable (would be +inf %)
    "A4": ("Drug", "Y", 10, None),   # in the population, no week-2 rating
    "A5": ("Drug", "N", 10, None),   # outside the population, no week-2 rating
    "P1": ("Placebo", "Y", 10, 10),  # 0%
    "P2": ("Placebo", "Y", 10, 6),   # -40%
    "P3": ("Placebo", "N", 10, 5),   # outside the population: -50%, never counted
}


def write_trial(root, rule: dict) -> dict:
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"USUBJID": s, "TRT01P": arm, "SAFFL": "Y", "EFFFL": eff}
                  for s, (arm, eff, _, _) in SUBJECTS.items()]).to_csv(
        data / "subjects.csv", index=False)
    rows = []
    for s, (_, _, base, week2) in SUBJECTS.items():
        rows.append({"USUBJID": s, "PARAMCD": "S", "AVISIT": "Baseline", "AVISITN": 0,
                     "AVAL": base})
        rows.append({"USUBJID": s, "PARAMCD": "S", "AVISIT": "Week 2", "AVISITN": 2,
                     "AVAL": week2})
    pd.DataFrame(rows).to_csv(data / "scores.csv", index=False)
    return {
        "title": "Responder edges", "synthetic": True,
        "data": {"subjects": {"path": str(data / "subjects.csv")},
                 "scores": {"path": str(data / "scores.csv")}},
        "design": {"description": "two arms", "arms": ["Placebo", "Drug"],
                   "visits": [{"name": "Baseline", "number": 0},
                              {"name": "Week 2", "number": 2}],
                   "parameters": {"S": {"label": "Score", "min": 0, "max": 20,
                                        "integer": True, "baseline_visit": 0,
                                        "comparison_visit": 2}}},
        "analyses": {"responders": {"S": rule}, "parallel": {"reference_arm": "Placebo"}},
        "plan": {"endpoints": [{"id": "responders", "role": "primary", "parameter": "S",
                                "variable": "responder",
                                "main": {"analysis": "responders_between_arms",
                                         "test": "fisher_exact"}}]},
        "reproduction": {"targets": []},
    }


def run(root, rule: dict) -> pd.DataFrame:
    from test_adam_delivery import run_stages

    trial = write_trial(root, rule)
    out = run_stages(root, TRIAL, trial, through="tables")
    return read_ard(out / "ard.csv")


def between(ard: pd.DataFrame) -> dict[tuple[str, str], float]:
    rows = ard[(ard["analysis"] == "responders_between_arms") & (ard["method"] == "count")]
    return {(g, s): v for g, s, v in zip(rows["group"], rows["statistic"], rows["value"],
                                         strict=True)}


RULE = {"variable": "PCHG", "operator": "<=", "threshold": -30, "missing": "non_responder"}


def test_a_change_exactly_at_the_threshold_responds_under_at_most(tmp_path) -> None:
    got = between(run(tmp_path, RULE))
    assert got[("Drug", "n_responders")] == 1  # A1 at -30% exactly
    assert got[("Placebo", "n_responders")] == 1  # P2


def test_a_change_exactly_at_the_threshold_does_not_respond_under_less_than(tmp_path) -> None:
    got = between(run(tmp_path, RULE | {"operator": "<"}))
    assert got[("Drug", "n_responders")] == 0
    assert got[("Placebo", "n_responders")] == 1


def test_missing_counts_as_non_response_only_inside_the_population(tmp_path) -> None:
    ard = run(tmp_path, RULE)
    got = between(ard)
    # Drug: A1..A4 (A3 not evaluable and A4 without a rating count as non-responses);
    # A5 is outside the efficacy population. Placebo: P1, P2; P3 is outside.
    assert (got[("Drug", "n")], got[("Drug", "n_missing")]) == (4, 2)
    assert (got[("Placebo", "n")], got[("Placebo", "n_missing")]) == (2, 0)
    assert got[("Drug", "percent")] == 25.0 and got[("Placebo", "percent")] == 50.0
    diff = ard[(ard["method"] == "newcombe_hybrid_score") & (ard["statistic"] == "diff")]
    assert float(diff["value"].iloc[0]) == pytest.approx(25.0 - 50.0)


def test_left_out_when_missing_is_excluded(tmp_path) -> None:
    got = between(run(tmp_path, RULE | {"missing": "exclude"}))
    assert (got[("Drug", "n")], got[("Drug", "n_responders")]) == (2, 1)  # A1, A2


def test_percent_change_from_a_zero_baseline_is_never_infinite_nor_a_response(tmp_path) -> None:
    """A3 rises from 0 to 3: +inf % if divided; under 'PCHG >= 30' (worsening by at least
    30%) it would then respond. It is not evaluable: A2's -20% and P1's 0% do not respond
    either, so no one responds."""
    ard = run(tmp_path, {"variable": "PCHG", "operator": ">=", "threshold": 30,
                         "missing": "exclude"})
    got = between(ard)
    assert got[("Drug", "n_responders")] == 0
    assert got[("Drug", "n")] == 2  # A1, A2: A3 is not evaluable, A4 has no rating
    # (a Hodges-Lehmann limit is -inf or inf when the Wilcoxon test rejects no shift, as
    # with these arms of two to four subjects: an unbounded interval, not a division)
    unbounded = ard["statistic"].isin(["hl_ci_low", "hl_ci_high"])
    assert all(math.isfinite(v) or math.isnan(v) for v in ard.loc[~unbounded, "value"])
    derived = pd.read_parquet(tmp_path / "results" / TRIAL / "derived" / "efficacy.parquet")
    a3 = derived[(derived["USUBJID"] == "A3") & (derived["AVISITN"] == 2)]
    assert pd.isna(a3["PCHG"].iloc[0])


@pytest.mark.e2e
def test_the_edges_hold_through_snakemake(tmp_path) -> None:
    repo = copy_repository(tmp_path / "repo")
    trial = write_trial(tmp_path, RULE)
    (repo / "config.yaml").write_text(yaml.safe_dump({"trials": {TRIAL: trial}}),
                                      encoding="utf-8")
    done = run_snakemake(repo, f"results/{TRIAL}/ard.csv")
    assert done.returncode == 0, done.stderr[-3000:]
    ard = read_ard(repo / "results" / TRIAL / "ard.csv")
    got = between(ard)
    assert (got[("Drug", "n")], got[("Drug", "n_responders")]) == (4, 1)
    assert (got[("Placebo", "n")], got[("Placebo", "n_responders")]) == (2, 1)
    plan = ard[(ard["analysis"] == "plan") & (ard["statistic"] == "p_value")]
    fisher = ard[(ard["method"] == "fisher_exact") & (ard["statistic"] == "p_value")]
    assert float(plan["value"].iloc[0]) == float(fisher["value"].iloc[0])
