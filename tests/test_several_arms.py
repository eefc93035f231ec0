"""A randomized three-arm trial's CSR analyses (issue 9), on the ADaM fixture of
tests/adam_fixtures.py: arms in TRT01PN order, a rating of change without baseline
(CIBIC+), prespecified between-arm models, and published per-arm and contrast targets
matched against values computed independently here with statsmodels' formula API on the
same records.
"""

from __future__ import annotations

import adam_fixtures as fx
import pandas as pd
import pytest
import statsmodels.formula.api as smf
import yaml
from test_adam_delivery import run_stages

from trialreport.analyse.ard import read_ard
from trialreport.common.formatting import round_half_up
from trialreport.common.runner import StageError
from trialreport.reproduce.stage import reproduce_targets

P, L, H = fx.P, fx.L, fx.H
ARM = "C(TRT01P, Treatment('Placebo'))"


def _records(parameter: str) -> pd.DataFrame:
    """The records the trial's models use, taken from the fixture frames directly:
    observed (DTYPE empty), flagged for analysis, at week 24, efficacy population, with
    the subject's arm, TRT01PN and SITEGR1 from ADSL."""
    frames = fx.three_arm_adam()
    q, s = frames["adqs"], frames["adsl"]
    q = q[(q["PARAMCD"] == parameter) & (q["AVISITN"] == 24) & (q["DTYPE"] == "")
          & (q["ANL01FL"] == "Y")]
    s = s.loc[s["EFFFL"] == "Y", ["USUBJID", "TRT01P", "TRT01PN", "SITEGR1"]]
    return q[["USUBJID", "AVAL", "BASE", "CHG"]].merge(s, on="USUBJID")


def _lsmeans(fit, data: pd.DataFrame, covariate: str | None) -> dict[str, float]:
    """LS means as emmeans computes them: the fit's prediction for each arm at every
    SITEGR1 level (at the mean covariate), averaged with equal weight over the levels."""
    out = {}
    for arm in (P, L, H):
        grid = pd.DataFrame({"TRT01P": arm, "SITEGR1": sorted(data["SITEGR1"].unique())})
        if covariate:
            grid[covariate] = data[covariate].mean()
        out[arm] = float(fit.predict(grid).mean())
    return out


def _independent() -> dict[str, float]:
    actot, cibic = _records("ACTOT"), _records("CIBIC")
    f_a = smf.ols(f"CHG ~ {ARM} + BASE + C(SITEGR1)", data=actot).fit()
    f_c = smf.ols(f"AVAL ~ {ARM} + C(SITEGR1)", data=cibic).fit()
    dose_a = smf.ols("CHG ~ TRT01PN + BASE + C(SITEGR1)", data=actot).fit()
    dose_c = smf.ols("AVAL ~ TRT01PN + C(SITEGR1)", data=cibic).fit()
    ls_a, ls_c = _lsmeans(f_a, actot, "BASE"), _lsmeans(f_c, cibic, None)
    high = f"{ARM}[T.{H}]"
    low = f"{ARM}[T.{L}]"
    return {
        "actot_ls_placebo": ls_a[P], "actot_ls_low": ls_a[L], "actot_ls_high": ls_a[H],
        "actot_diff_high": f_a.params[high], "actot_p_high": f_a.pvalues[high],
        "actot_p_low": f_a.pvalues[low], "actot_dose_p": dose_a.pvalues["TRT01PN"],
        "cibic_ls_placebo": ls_c[P], "cibic_ls_high": ls_c[H],
        "cibic_diff_high": f_c.params[high], "cibic_p_high": f_c.pvalues[high],
        "cibic_dose_p": dose_c.pvalues["TRT01PN"],
    }


TARGETS = [
    # id, model, group, statistic, decimals
    ("actot_ls_placebo", "actot_w24", P, "lsmean", 3),
    ("actot_ls_low", "actot_w24", L, "lsmean", 3),
    ("actot_ls_high", "actot_w24", H, "lsmean", 3),
    ("actot_diff_high", "actot_w24", f"{H} vs {P}", "diff", 3),
    ("actot_p_high", "actot_w24", f"{H} vs {P}", "p_value", 4),
    ("actot_p_low", "actot_w24", f"{L} vs {P}", "p_value", 4),
    ("actot_dose_p", "actot_w24", "dose-response", "p_value", 4),
    ("cibic_ls_placebo", "cibic_w24", P, "lsmean", 3),
    ("cibic_ls_high", "cibic_w24", H, "lsmean", 3),
    ("cibic_diff_high", "cibic_w24", f"{H} vs {P}", "diff", 3),
    ("cibic_p_high", "cibic_w24", f"{H} vs {P}", "p_value", 4),
    ("cibic_dose_p", "cibic_w24", "dose-response", "p_value", 4),
]


HYPOTHESES = ["actot_change:High Dose", "actot_change:Low Dose", "cibic_value:High Dose",
              "cibic_value:Low Dose"]
PLAN = {
    "source": "a test plan: each dose on ADAS-Cog first, CIBIC+ after it (graphical)",
    "multiplicity": {
        "method": "graphical",
        "weights": {"actot_change:High Dose": 0.5, "actot_change:Low Dose": 0.5},
        "transitions": {"actot_change:High Dose": {"cibic_value:High Dose": 1},
                        "actot_change:Low Dose": {"cibic_value:Low Dose": 1},
                        "cibic_value:High Dose": {"actot_change:Low Dose": 1},
                        "cibic_value:Low Dose": {"actot_change:High Dose": 1}}},
    "endpoints": [
        {"id": "actot_change", "role": "primary", "parameter": "ACTOT",
         "label": "Change from baseline in ADAS-Cog(11) at week 24",
         "main": "model:actot_w24"},
        {"id": "cibic_value", "role": "key secondary", "parameter": "CIBIC",
         "variable": "value", "label": "CIBIC+ at week 24", "main": "model:cibic_w24"},
    ],
}


def three_arm_trial(expected: dict[str, float]) -> dict:
    trial = yaml.safe_load(fx.THREE_ARM_CONFIG("adam"))
    trial["data"]["scores"]["where"] = {"ANL01FL": "Y"}  # both parameters
    trial["design"]["parameters"]["CIBIC"] = {
        "label": "CIBIC+", "min": 1, "max": 7, "integer": True, "comparison_visit": 24,
        "no_change": 4}  # a rating of change: no baseline_visit
    trial["analyses"]["models"] = [
        {"id": "actot_w24", "parameter": "ACTOT", "response": "CHG", "covariates": ["BASE"],
         "factors": ["SITEGR1"], "dose": "TRT01PN"},
        {"id": "cibic_w24", "parameter": "CIBIC", "response": "AVAL",
         "factors": ["SITEGR1"], "dose": "TRT01PN"},
        # an MMRM over weeks 8, 16 and 24, each dose against placebo at every visit
        {"id": "actot_mmrm", "kind": "mmrm", "parameter": "ACTOT", "covariates": ["BASE"],
         "factors": ["SITEGR1"], "structure": "US", "fallback": ["CS"]},
    ]
    trial["plan"] = PLAN
    targets = trial["reproduction"]["targets"]
    for tid, model, group, statistic, decimals in TARGETS:
        targets.append({"id": tid, "description": tid, "analysis": "model",
                        "method": model, "group": group, "statistic": statistic,
                        "published": round_half_up(expected[tid], decimals)})
    # a per-arm safety figure, as a CSR prints it: "Placebo: 3 subjects with a TEAE"
    targets.append({"id": "placebo_teae", "description": "Placebo: subjects with a TEAE",
                    "analysis": "ae_overview", "parameter": "ANY", "group": P,
                    "statistic": "n_subjects", "published": "3"})
    return trial


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("several_arms")
    fx.write_three_arm(root / "adam")
    expected = _independent()
    trial = three_arm_trial(expected)
    return root, trial, expected, run_stages(root, fx.THREE_ARM_ID, trial)


def test_every_model_and_per_arm_target_matches_the_independent_values(run):
    _, _, _, out = run
    table = pd.read_csv(out / "reproduction.csv", dtype=str, keep_default_na=False)
    assert len(table) == len(TARGETS) + 2
    assert set(table["status"]) == {"match"}, table[["id", "published", "reproduced"]]


@pytest.mark.parametrize(("tid", "model", "group", "statistic", "decimals"), TARGETS)
def test_model_rows_equal_statsmodels_to_1e9(run, tid, model, group, statistic, decimals):
    _, _, expected, out = run
    ard = read_ard(out / "ard.csv")
    rows = ard[(ard["analysis"] == "model") & ard["method"].str.startswith(model)
               & (ard["group"] == group) & (ard["statistic"] == statistic)]
    assert len(rows) == 1
    assert float(rows["value"].iloc[0]) == pytest.approx(expected[tid], rel=1e-9, abs=1e-12)


def test_model_rows_are_in_protocol_arm_order(run):
    _, _, _, out = run
    ard = read_ard(out / "ard.csv")
    ls = ard[(ard["analysis"] == "model") & (ard["statistic"] == "lsmean")
             & ard["method"].str.startswith("actot_w24")]
    assert ls["group"].tolist() == [P, L, H]


def test_a_rating_of_change_has_no_baseline_and_no_paired_comparison(run):
    _, _, _, out = run
    ard = read_ard(out / "ard.csv")
    cibic = ard[ard["parameter"] == "CIBIC"]
    assert set(cibic["analysis"]) == {"by_visit", "model", "plan"}
    excl = pd.read_csv(out / "validation" / "x.csv")
    assert "CIBIC" not in set(excl["PARAMCD"])  # never "missing its baseline"


def test_an_ambiguous_target_is_refused_naming_what_tells_rows_apart(run, tmp_path):
    root, trial, _, out = run
    bad = {**trial, "reproduction": {"targets": [
        {"id": "x", "description": "x", "analysis": "model", "statistic": "lsmean",
         "group": P, "published": "1.0"}]}}
    with pytest.raises(StageError, match="found 2.*actot_w24.*cibic_w24"):
        reproduce_targets(bad, str(out / "ard.csv"), str(tmp_path / "r.csv"),
                                   trial_id=fx.THREE_ARM_ID)


def test_a_model_on_a_missing_column_is_refused_naming_the_key(tmp_path):
    fx.write_three_arm(tmp_path / "adam")
    trial = three_arm_trial(_independent())
    trial["analyses"]["models"][0]["factors"] = ["REGION"]
    with pytest.raises(StageError, match=r"analyses\.models \(actot_w24\).*REGION"):
        run_stages(tmp_path, fx.THREE_ARM_ID, trial)


def test_one_sample_test_of_a_rating_of_change_in_a_single_arm_trial(tmp_path):
    """Single arm: CIBIC+ at week 24 against its no-change value 4, by the one-sample
    t-test (scipy) on the High Dose arm's records alone."""
    from scipy import stats

    frames = fx.three_arm_adam()
    high = set(frames["adsl"].loc[frames["adsl"]["TRT01P"] == H, "USUBJID"])
    for name in frames:
        frames[name] = frames[name][frames[name]["USUBJID"].isin(high)]
    fx.write_datasets(frames, tmp_path / "adam")
    trial = three_arm_trial(_independent())
    trial["analyses"].pop("models")
    trial["analyses"].pop("parallel")
    trial.pop("plan")
    trial["reproduction"]["targets"] = trial["reproduction"]["targets"][:1]
    trial["reproduction"]["targets"][0]["published"] = "8"
    out = run_stages(tmp_path, fx.THREE_ARM_ID, trial)
    ard = read_ard(out / "ard.csv")
    one = ard[(ard["analysis"] == "one_sample") & (ard["parameter"] == "CIBIC")]
    values = _records("CIBIC").query("TRT01P == @H")["AVAL"].astype(float)
    expected = stats.ttest_1samp(values, 4.0)
    got = dict(zip(one["method"] + ":" + one["statistic"], one["value"], strict=True))
    assert got["descriptive:n"] == len(values)
    assert got["one_sample_ttest:t"] == pytest.approx(expected.statistic, rel=1e-9)
    assert got["one_sample_ttest:p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.e2e
def test_the_report_renders_for_three_arms_with_models(run):
    """The report of the three-arm trial (Jupyter path): the summary adapts to the arms,
    the model tables are there in CSR layout, arms in protocol order."""
    import html
    import re
    from pathlib import Path

    from trialreport.common.runner import write_trial_config
    from trialreport.provenance import provenance
    from trialreport.report.render import render_report

    root, trial, _, out = run
    provenance(fx.THREE_ARM_ID, trial, {"ard": str(out / "ard.csv")},
               {n: str(root / trial["data"][n]["path"]) for n in trial["data"]},
               str(out / "provenance.json"))
    write_trial_config(trial, out / "trial_config.json")
    (out / "validation" / "warnings.csv").write_bytes((out / "validation" / "w.csv")
                                                      .read_bytes())
    (out / "validation" / "exclusions.csv").write_bytes((out / "validation" / "x.csv")
                                                        .read_bytes())
    repo = Path(__file__).resolve().parents[1]
    render_report(repo / "reports" / "report.qmd", out / "report.html",
                  {"trial": fx.THREE_ARM_ID, "results_dir": str(out)}, workdir=repo)
    page = (out / "report.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    first = re.search(
        r"Primary endpoint: Change from baseline in ADAS-Cog\(11\) at week 24\W*"
        r"Table 2: Estimand",
        text,
    )
    assert first and text.index("Primary endpoint: Change") < text.index("Means by visit")
    assert "Key secondary endpoint: CIBIC+ at week 24" in text
    assert "graphical procedure (Bretz et al. 2009)" in text
    for words in ("single-arm", "All periods", "placebo period", "dose advancement"):
        assert words not in text, words
    assert "Prespecified between-arm models" in text
    assert "model actot_w24: CHG ~ ARM + BASE + SITEGR1" in text
    assert "Dose-response trend" in text
    assert re.search(r"Statistic Placebo Low Dose High Dose", text)
    assert "ADAS-Cog(11) mean, baseline -> Week 24, Placebo" in text
    assert "Primary endpoint: Change from baseline in ADAS-Cog(11) at week 24, High Dose vs " \
        "Placebo Difference in LS means" in text
    assert "CIBIC+ mean, Week 24, High Dose" in text
    assert "Mixed model for repeated measures (MMRM)" in text
    assert re.search(r"Visit Placebo \(N = \d+\): LS mean \(SE\); n Low Dose", text)
    assert "Traceback" not in page and "Error" not in text.replace("SE)", "")


def test_locf_is_compared_only_for_parameters_the_sponsor_carried_forward(run):
    _, _, _, out = run
    checks = pd.read_csv(out / "derived" / "checks.csv")
    assert checks.empty  # CIBIC has no sponsor LOCF records: not compared


def test_short_form_targets_take_a_group_in_a_multi_arm_trial(run, tmp_path):
    """"Placebo: ADAS-Cog mean at week 24 27.29" (191/7, counted by hand in the fixture);
    without the group the target is refused, naming the groups to choose from."""
    _, trial, _, out = run
    target = {"id": "m", "description": "m", "statistic": "mean", "parameter": "ACTOT",
              "visit": "comparison", "published": "27.29"}
    ok = {**trial, "reproduction": {"targets": [target | {"group": P}]}}
    reproduce_targets(ok, str(out / "ard.csv"), str(tmp_path / "r.csv"),
                               trial_id=fx.THREE_ARM_ID)
    row = pd.read_csv(tmp_path / "r.csv", dtype=str).iloc[0]
    assert (row["reproduced"], row["status"], row["n"]) == ("27.29", "match", "7")
    bad = {**trial, "reproduction": {"targets": [target]}}
    with pytest.raises(StageError, match="groups Placebo, Low Dose, High Dose"):
        reproduce_targets(bad, str(out / "ard.csv"), str(tmp_path / "r2.csv"),
                                   trial_id=fx.THREE_ARM_ID)


def test_the_plans_graphical_decisions_rest_on_the_models_p_values(run):
    """The plan's rows: each hypothesis's P is its model contrast's P (statsmodels, above),
    and the decisions and adjusted P are the graphical procedure's on those P."""
    from trialreport.stats.multiplicity_strategy import graphical

    _, _, expected, out = run
    ard = read_ard(out / "ard.csv")
    plan = ard[ard["analysis"] == "plan"]
    names = {f"{m.split(': ')[0]}:{g.split(' vs ')[0]}": (m, g)
             for m, g in zip(plan["method"], plan["group"], strict=True)}
    assert sorted(names) == sorted(HYPOTHESES)

    def get(h: str, statistic: str) -> float:
        m, g = names[h]
        row = plan[(plan["method"] == m) & (plan["group"] == g) & (plan["statistic"] == statistic)]
        return float(row["value"].iloc[0])

    assert get("actot_change:High Dose", "p_value") == pytest.approx(expected["actot_p_high"],
                                                                     rel=1e-9)
    assert get("actot_change:Low Dose", "p_value") == pytest.approx(expected["actot_p_low"],
                                                                    rel=1e-9)
    assert get("cibic_value:High Dose", "p_value") == pytest.approx(expected["cibic_p_high"],
                                                                    rel=1e-9)
    weights = {h: PLAN["multiplicity"]["weights"].get(h, 0) for h in HYPOTHESES}
    rows = graphical({h: get(h, "p_value") for h in HYPOTHESES}, 0.05, weights,
                     PLAN["multiplicity"]["transitions"], order=HYPOTHESES)
    for row in rows:
        h = row["hypothesis"]
        assert get(h, "p_adjusted") == pytest.approx(row["p_adjusted"], rel=1e-12)
        assert get(h, "rejected") == float(row["decision"] == "rejected")
        assert get(h, "tested") == float(row["decision"] != "not tested: gate closed")


def test_the_mmrm_of_three_arms_equals_a_direct_fit_of_the_fixture_records(run):
    """The config's MMRM (weeks 8, 16, 24; arm, visit, arm x visit, BASE, BASE x visit,
    SITEGR1; unstructured) against ``trialreport.stats.mmrm`` on the fixture's own frames:
    observed ACTOT records (DTYPE empty) flagged ANL01FL = Y of the efficacy population."""
    from trialreport.stats.mmrm import build_design, fit_mmrm

    _, _, _, out = run
    ard = read_ard(out / "ard.csv")
    frames = fx.three_arm_adam()
    q, s = frames["adqs"], frames["adsl"]
    q = q[(q["PARAMCD"] == "ACTOT") & q["AVISITN"].isin([8, 16, 24]) & (q["DTYPE"] == "")
          & (q["ANL01FL"] == "Y")]
    q = q[["USUBJID", "AVISITN", "BASE", "CHG"]].merge(
        s.loc[s["EFFFL"] == "Y", ["USUBJID", "TRT01P", "SITEGR1"]], on="USUBJID")
    weeks = ["Week 8", "Week 16", "Week 24"]
    data = {"USUBJID": q["USUBJID"].to_numpy(object), "ARM": q["TRT01P"].to_numpy(object),
            "AVISIT": q["AVISITN"].map({8: weeks[0], 16: weeks[1], 24: weeks[2]})
            .to_numpy(object), "BASE": q["BASE"].to_numpy(float),
            "CHG": q["CHG"].to_numpy(float), "SITEGR1": q["SITEGR1"].to_numpy(object)}
    design = build_design(data, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                          factors=["SITEGR1"], terms=["ARM", "AVISIT", "ARM:AVISIT", "BASE",
                                                      "BASE:AVISIT", "SITEGR1"],
                          levels={"AVISIT": weeks, "ARM": [P, L, H]}, reference={"ARM": P})
    fit = fit_mmrm(design, "US", ddfm="KR", fallback=("US", "CS"))
    rows = ard[ard["analysis"] == "mmrm"]

    def got(group, statistic, visit):
        sel = rows[(rows["group"] == group) & (rows["statistic"] == statistic)
                   & (rows["visit"] == visit)]
        assert len(sel) == 1, (group, statistic, visit)
        return float(sel["value"].iloc[0])

    used = rows[rows["group"].str.startswith("covariance attempt")
                & (rows["statistic"] == "used") & (rows["value"] == 1)]
    assert used["group"].str.split(": ").str[1].tolist() == [fit.structure]
    diffs = fit.diffs()
    assert {d["arm"] for d in diffs} == {L, H} and len(diffs) == 6
    for d in diffs:
        group = f"{d['arm']} vs {P}"
        assert got(group, "diff", d["visit"]) == pytest.approx(d["estimate"], rel=1e-9)
        assert got(group, "diff_se", d["visit"]) == pytest.approx(d["se"], rel=1e-9)
        assert got(group, "p_value", d["visit"]) == pytest.approx(d["p"], rel=1e-9)
    for m in fit.lsmeans():
        assert got(m["arm"], "lsmean", m["visit"]) == pytest.approx(m["estimate"], rel=1e-9)
    for c in fit.counts:
        if c["visit"] is not None:
            assert got(c["arm"], "n", c["visit"]) == c["subjects"]
