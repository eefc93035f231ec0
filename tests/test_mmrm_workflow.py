"""The MMRM of ``analyses.models`` (``kind: mmrm``) through the pipeline: the config refuses
what the trial cannot have, naming the key; SAGA's ARD rows equal a direct fit of
``trialreport.stats.mmrm`` on a design built here from the CSV files; on complete balanced
data the per-visit differences equal per-visit OLS ANCOVAs (statsmodels); a model that does
not converge says so; the report shows the ARD's numbers; the plan's decision can rest on
the MMRM. The engine itself is checked in tests/test_mmrm.py and test_mmrm_reference.py."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from test_adam_delivery import run_stages

from trialreport.analyse import mmrm as analyse_mmrm
from trialreport.analyse.ard import ArdBuilder, read_ard
from trialreport.analyse.plan import plan_rows
from trialreport.common.config import AnalysisConfigError, Trial
from trialreport.common.formatting import round_half_up
from trialreport.common.mmrm_spec import STRUCTURES
from trialreport.common.plan import PlanError
from trialreport.report.results import Results
from trialreport.report.sections.mmrm import mmrm_section
from trialreport.stats import mmrm_covariance
from trialreport.stats.mmrm import build_design, fit_mmrm

ROOT = Path(__file__).resolve().parents[1]
SAGA = "fasoracetam_saga"
WEEKS = [f"Week {i}" for i in range(1, 7)]


def saga_entry() -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    entry = copy.deepcopy(config["trials"][SAGA])
    for source in entry["data"].values():
        source["path"] = str(ROOT / source["path"])
    return entry


def mmrm_index(entry: dict) -> int:
    return next(i for i, m in enumerate(entry["analyses"]["models"]) if m.get("kind") == "mmrm")


# --- config -----------------------------------------------------------------------------


def test_config_structures_are_the_engines() -> None:
    assert STRUCTURES == mmrm_covariance.STRUCTURES


def test_saga_declares_the_mmrm_as_the_primary_endpoints_sensitivity_analysis() -> None:
    trial = Trial.parse(SAGA, saga_entry())
    spec = next(m for m in trial.analyses.models if m.kind == "mmrm")
    assert (spec.parameter, spec.response, spec.visits) == ("ADHDRS", "CHG", (1, 2, 3, 4, 5, 6))
    assert (spec.structure, spec.method, spec.df, spec.covariates) == (
        "US", "REML", "kenward-roger", ("BASE",))
    assert spec.formula == "CHG ~ ARM + AVISIT + ARM:AVISIT + BASE + BASE:AVISIT"
    primary = trial.plan.primary[0]
    refs = {s.model: s.test for s in primary.sensitivity if s.kind == "model"}
    assert refs == {"adhdrs_locf": "ols", "adhdrs_mmrm": "mmrm"}


KEY = r"analyses\.models\[1\] \(adhdrs_mmrm\)"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("parameter", "ADHDXX", KEY + r"\.parameter: 'ADHDXX' is not a parameter"),
    ("visits", [1, 7], KEY + r"\.visits\[1\]: 7 is not a visit number"),
    ("visits", [0, 6], KEY + r"\.visits\[0\]: visit 0 is not after ADHDRS's baseline"),
    ("visits", [6, 6], KEY + r"\.visits: give each post-baseline visit once"),
    ("structure", "UNSTRUCTURED", KEY + r"\.structure: 'UNSTRUCTURED' is not a covariance"),
    ("fallback", ["TOEPH", "AR2"], KEY + r"\.fallback\[1\]: 'AR2'"),
    ("df", "containment", KEY + r"\.df: 'containment'"),
    ("method", "MIVQUE0", KEY + r"\.method: 'MIVQUE0'"),
    ("covariates", ["BASE", "ARM"], KEY + r"\.covariates\[1\]: 'ARM' is already in the model"),
    ("records", "locf", KEY + r"\.records: an mmrm model takes no 'records'"),
    ("response", "RANK", KEY + r"\.response: 'RANK'"),
])
def test_a_bad_mmrm_entry_is_refused_naming_the_key(key, value, message) -> None:
    entry = saga_entry()
    entry["analyses"]["models"][mmrm_index(entry)][key] = value
    with pytest.raises(PlanError, match=message):
        Trial.parse(SAGA, entry)


@pytest.mark.parametrize("visits", [[1], [6], [1, 2, 3, 4, 5, 6]])
def test_visits_at_the_edges_are_accepted(visits) -> None:
    entry = saga_entry()
    entry["analyses"]["models"][mmrm_index(entry)]["visits"] = visits
    entry["plan"]["endpoints"][0]["sensitivity"] = ["model:adhdrs_locf"]
    spec = Trial.parse(SAGA, entry).analyses.models[mmrm_index(entry)]
    assert spec.visits == tuple(visits)


def test_an_ols_model_with_an_mmrm_key_is_refused() -> None:
    entry = saga_entry()
    entry["analyses"]["models"][0]["structure"] = "CS"
    with pytest.raises(PlanError, match=r"models\[0\] \(adhdrs_locf\)\.structure: 'structure'"
                                        r" is a key of an MMRM"):
        Trial.parse(SAGA, entry)


def test_the_plan_refuses_an_mmrm_without_the_endpoints_visit_or_with_another_test() -> None:
    entry = saga_entry()
    entry["analyses"]["models"][mmrm_index(entry)]["visits"] = [1, 2, 3]
    with pytest.raises(PlanError, match=r"sensitivity\[1\]: model 'adhdrs_mmrm' is CHG of "
                                        r"ADHDRS at visits 1, 2, 3; the endpoint is change "
                                        r"of ADHDRS at visit 6"):
        Trial.parse(SAGA, entry)
    entry = saga_entry()
    entry["plan"]["endpoints"][0]["sensitivity"][1] = {"analysis": "model:adhdrs_mmrm",
                                                       "test": "ols"}
    with pytest.raises(PlanError, match=r"sensitivity\[1\]: test 'ols'; model 'adhdrs_mmrm' "
                                        r"is kind mmrm"):
        Trial.parse(SAGA, entry)


def test_the_schema_refuses_an_unknown_structure() -> None:
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    validate(copy.deepcopy(config), str(ROOT / "schemas" / "config.schema.yaml"))
    config["trials"][SAGA]["analyses"]["models"][1]["structure"] = "UN"
    with pytest.raises(WorkflowError, match="structure"):
        validate(config, str(ROOT / "schemas" / "config.schema.yaml"))


# --- SAGA through the stages -------------------------------------------------------------


@pytest.fixture(scope="module")
def saga(tmp_path_factory):
    root = tmp_path_factory.mktemp("saga_mmrm")
    entry = saga_entry()
    out = run_stages(root, SAGA, entry)
    return entry, out, read_ard(out / "ard.csv")


def direct_fit():
    """SAGA's MMRM built here from the CSV files: the ADHD-RS total records at weeks 1-6 of
    the efficacy population, CHG = AVAL minus the week-0 AVAL, the model written out."""
    scores = pd.read_csv(ROOT / "data" / SAGA / "scores.csv")
    subjects = pd.read_csv(ROOT / "data" / SAGA / "subjects.csv", keep_default_na=False)
    s = scores[scores["PARAMCD"] == "ADHDRS"]
    base = s[s["AVISITN"] == 0].set_index("USUBJID")["AVAL"].astype(float)
    post = s[s["AVISITN"].between(1, 6)].copy()
    post["BASE"] = post["USUBJID"].map(base)
    post["CHG"] = post["AVAL"] - post["BASE"]
    efficacy = subjects.loc[subjects["EFFFL"] == "Y", ["USUBJID", "TRT01P"]]
    post = post.merge(efficacy, on="USUBJID")
    data = {"USUBJID": post["USUBJID"].to_numpy(object),
            "ARM": post["TRT01P"].to_numpy(object),
            "AVISIT": post["AVISIT"].to_numpy(object),
            "BASE": post["BASE"].to_numpy(float), "CHG": post["CHG"].to_numpy(float)}
    design = build_design(data, response="CHG", subject="USUBJID", visit="AVISIT", arm="ARM",
                          terms=["ARM", "AVISIT", "ARM:AVISIT", "BASE", "BASE:AVISIT"],
                          levels={"AVISIT": WEEKS, "ARM": ["Placebo", "Fasoracetam"]},
                          reference={"ARM": "Placebo"})
    return fit_mmrm(design, "US", ddfm="KR", fallback=("US", "TOEPH", "ARH1", "CS"))


def mmrm_value(ard: pd.DataFrame, group: str, statistic: str, visit: str | None = None
               ) -> float:
    rows = ard[(ard["analysis"] == "mmrm") & (ard["group"] == group)
               & (ard["statistic"] == statistic)]
    rows = rows[rows["visit"] == visit] if visit else rows[rows["visitn"].isna()]
    assert len(rows) == 1, (group, statistic, visit, len(rows))
    return float(rows["value"].iloc[0])


def test_saga_mmrm_rows_equal_a_direct_fit_of_the_csv_records(saga) -> None:
    _, _, ard = saga
    fit = direct_fit()
    assert fit.converged and fit.structure == "US"
    close = {"rel": 1e-9, "abs": 1e-12}
    for row in fit.lsmeans():
        for stat, key in (("lsmean", "estimate"), ("se", "se"), ("df", "df"),
                          ("ci_low", "lower"), ("ci_high", "upper")):
            assert mmrm_value(ard, row["arm"], stat, row["visit"]) == pytest.approx(
                row[key], **close), (row["arm"], row["visit"], stat)
    for row in fit.diffs():
        group = f"{row['arm']} vs Placebo"
        for stat, key in (("diff", "estimate"), ("diff_se", "se"), ("diff_df", "df"),
                          ("diff_ci_low", "lower"), ("diff_ci_high", "upper"), ("t", "t"),
                          ("p_value", "p")):
            assert mmrm_value(ard, group, stat, row["visit"]) == pytest.approx(
                row[key], **close), (row["visit"], stat)
    for row in fit.type3():
        group = f"type 3: {row['effect']}"
        for stat, key in (("f", "F"), ("df_num", "num_df"), ("df_den", "den_df"),
                          ("p_value", "p")):
            assert mmrm_value(ard, group, stat) == pytest.approx(row[key], **close)
    for i, visit in enumerate(WEEKS):
        for j, other in enumerate(WEEKS):
            assert mmrm_value(ard, f"covariance with {other}", "covariance", visit) == \
                pytest.approx(fit.sigma[0][i, j], **close)
    for c in fit.counts:
        if c["visit"] is None:
            assert mmrm_value(ard, c["arm"], "n_obs") == c["observations"]
            assert mmrm_value(ard, c["arm"], "n_subjects") == c["subjects"]
        else:
            assert mmrm_value(ard, c["arm"], "n", c["visit"]) == c["subjects"]
    assert mmrm_value(ard, "fit", "n_subjects") == 96  # the modified ITT, all with ratings
    assert mmrm_value(ard, "fit", "n_obs") == fit.n_obs
    assert mmrm_value(ard, "fit", "converged") == 1
    assert mmrm_value(ard, "fit", "structure_us") == 1
    assert mmrm_value(ard, "fit", "df_kenward_roger") == 1
    assert mmrm_value(ard, "fit", "method_reml") == 1
    assert mmrm_value(ard, "fit", "neg2_loglik") == pytest.approx(fit.neg2loglik, **close)
    attempt = "covariance attempt 1: US: converged"
    assert mmrm_value(ard, attempt, "used") == 1


def test_saga_week6_counts_are_the_ancovas_and_more_subjects_enter_the_mmrm(saga) -> None:
    """At week 6 the MMRM has the ANCOVA's observed subjects; over the visits it has every
    subject of the modified ITT with a rating after baseline (the ANCOVA leaves out those
    without a week-6 rating)."""
    _, _, ard = saga
    for arm in ("Placebo", "Fasoracetam"):
        anc = ard[(ard["analysis"] == "ancova") & (ard["parameter"] == "ADHDRS")
                  & (ard["group"] == arm) & (ard["statistic"] == "n")]
        assert mmrm_value(ard, arm, "n", "Week 6") == float(anc["value"].iloc[0])
    anc_n = ard[(ard["analysis"] == "ancova") & (ard["parameter"] == "ADHDRS")
                & (ard["statistic"] == "n")]["value"].sum()
    assert anc_n == 76 and mmrm_value(ard, "fit", "n_subjects") == 96


def test_the_ard_is_the_same_when_recomputed(saga, tmp_path) -> None:
    entry, out, _ = saga
    again = run_stages(tmp_path, SAGA, entry)
    first = (out / "ard.csv").read_bytes()
    assert first == (again / "ard.csv").read_bytes()
    assert b",mmrm," in first


def test_the_report_section_shows_the_ard_numbers(saga) -> None:
    entry, _, ard = saga
    r = Results(SAGA, entry, ard, pd.DataFrame(), pd.DataFrame(), {})
    text = mmrm_section(r)

    def two(x: float) -> str:
        return round_half_up(x, 2)

    for visit in WEEKS:
        line = next(x for x in text.splitlines() if x.startswith(f"| {visit} |"))
        cells = [c.strip() for c in line.strip("|").split("|")]
        for k, arm in enumerate(("Placebo", "Fasoracetam"), start=1):
            n = mmrm_value(ard, arm, "n", visit)
            assert cells[k] == (f"{two(mmrm_value(ard, arm, 'lsmean', visit))} "
                                f"({two(mmrm_value(ard, arm, 'se', visit))}); n = {n:.0f}")
        c = "Fasoracetam vs Placebo"
        assert cells[3] == (f"{two(mmrm_value(ard, c, 'diff', visit))} "
                            f"({two(mmrm_value(ard, c, 'diff_ci_low', visit))}, "
                            f"{two(mmrm_value(ard, c, 'diff_ci_high', visit))})")
        p = mmrm_value(ard, c, "p_value", visit)
        assert cells[4] == ("< 0.001" if p < 0.001 else round_half_up(p, 3))
    assert "unstructured (US) covariance" in text and "REML" in text
    assert "Kenward-Roger degrees of freedom" in text
    # each arm's N is the subjects the model used (its own rows), not the efficacy count
    used = ard[(ard["analysis"] == "mmrm") & (ard["statistic"] == "n_subjects")
               & ard["visitn"].isna() & (ard["group"] == "Placebo")]["value"].astype(float)
    assert (f"| Visit | Placebo (N = {used.iloc[0]:.0f}): LS mean (SE); n |"
            in text.replace("\u00a0", " "))  # non-breaking spaces keep "(N = n)" whole
    shifted = ard.copy()  # a model on another population: its own count, whatever n_efficacy
    mask = (shifted["analysis"] == "mmrm") & (shifted["statistic"] == "n_subjects") & \
        shifted["visitn"].isna() & (shifted["group"] == "Placebo")
    shifted.loc[mask, "value"] = 41.0
    other = mmrm_section(Results(SAGA, entry, shifted, pd.DataFrame(), pd.DataFrame(), {}))
    assert "| Visit | Placebo (N = 41): LS mean (SE); n |" in other.replace("\u00a0", " ")
    assert "ARM + AVISIT + ARM x AVISIT + BASE + BASE x AVISIT" in text
    f = mmrm_value(ard, "type 3: ARM:AVISIT", "f")
    assert f"| ARM x AVISIT | {two(f)} | 5 |" in text
    assert "sensitivity analysis of Change from baseline in ADHD-RS total" in text
    assert "mmrm_lsmeans" in text or "MMRM LS means by visit" in text


def test_the_plans_decision_can_rest_on_the_mmrm(saga) -> None:
    entry, _, ard = saga
    entry = copy.deepcopy(entry)
    entry["plan"]["endpoints"][0]["main"] = "model:adhdrs_mmrm"
    entry["plan"]["endpoints"][0]["sensitivity"] = ["ancova"]
    trial = Trial.parse(SAGA, entry)
    assert trial.plan.primary[0].main.test == "mmrm"
    rows = plan_rows(trial, ard[ard["analysis"] != "plan"], ["Placebo", "Fasoracetam"])
    got = rows[(rows["method"] == "adhdrs_change: fixed_sequence")
               & (rows["statistic"] == "p_value")]
    assert float(got["value"].iloc[0]) == mmrm_value(ard, "Fasoracetam vs Placebo", "p_value",
                                                     "Week 6")
    assert "model:adhdrs_mmrm (mmrm)" in got["analysis_set"].iloc[0]


def test_a_covariate_the_subjects_lack_is_refused_naming_the_key(saga) -> None:
    entry, out, _ = saga
    entry = copy.deepcopy(entry)
    entry["analyses"]["models"][mmrm_index(entry)]["covariates"] = ["BASE", "WEIGHT"]
    trial = Trial.parse(SAGA, entry)
    spec = trial.analyses.models[mmrm_index(entry)]
    subjects = pd.read_parquet(out / "validated" / "subjects.parquet")
    efficacy = pd.read_parquet(out / "derived" / "efficacy.parquet")
    with pytest.raises(AnalysisConfigError, match=KEY + r"\.covariates: 'WEIGHT' is neither"):
        analyse_mmrm.add_mmrm(ArdBuilder(SAGA), spec, 1, efficacy, subjects, trial.design,
                              0.95, ["Placebo", "Fasoracetam"])


# --- complete balanced data: the MMRM is the per-visit ANCOVA ----------------------------


def balanced(n: int = 24, seed: int = 5):
    """Two arms of ``n`` subjects, rated at visits 0 (baseline) to 3, none missing; and one
    more subject, outside the efficacy population (EFFFL = N), whom no analysis uses."""
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(2 * n + 1) % 2 == 0, "Placebo", "Drug")
    base = rng.normal(30, 5, 2 * n + 1)
    cov = np.array([[9, 6, 4], [6, 12, 8], [4, 8, 16]], float)
    chg = (rng.multivariate_normal(np.zeros(3), cov, 2 * n + 1) + (arm == "Drug")[:, None]
           * np.array([-1.0, -2.0, -3.0]) + 0.2 * (base[:, None] - 30))
    chg[-1] += 50.0  # far off: were the subject used, no number below would hold
    ids = [f"S{i:03d}" for i in range(2 * n + 1)]
    subjects = pd.DataFrame({"USUBJID": ids, "TRT01P": arm,
                             "EFFFL": ["Y"] * (2 * n) + ["N"]})
    rows = []
    for i, sid in enumerate(ids):
        rows.append({"USUBJID": sid, "PARAMCD": "X", "AVISITN": 0, "AVAL": base[i],
                     "BASE": base[i], "CHG": 0.0})
        for v in range(3):
            rows.append({"USUBJID": sid, "PARAMCD": "X", "AVISITN": v + 1,
                         "AVAL": base[i] + chg[i, v], "BASE": base[i], "CHG": chg[i, v]})
    entry = {"design": {
        "visits": [{"name": "Baseline", "number": 0}] + [
            {"name": f"Week {v}", "number": v} for v in (1, 2, 3)],
        "parameters": {"X": {"label": "X", "baseline_visit": 0, "comparison_visit": 3}}},
        "analyses": {"models": [{"id": "x_mmrm", "kind": "mmrm", "parameter": "X",
                                 "covariates": ["BASE"], "fallback": ["CS"]}]}}
    return Trial.parse("t", entry), subjects, pd.DataFrame(rows)


def test_complete_balanced_mmrm_differences_equal_per_visit_ols_ancova() -> None:
    trial, subjects, efficacy = balanced()
    ard = ArdBuilder("t", ["Placebo", "Drug"])
    analyse_mmrm.add_mmrm(ard, trial.analyses.models[0], 0, efficacy, subjects,
                          trial.design, 0.95, ["Placebo", "Drug"])
    frame = ard.frame()
    for v in (1, 2, 3):
        at = efficacy[efficacy["AVISITN"] == v].merge(subjects, on="USUBJID")
        at = at[at["EFFFL"] == "Y"]
        x = np.column_stack([np.ones(len(at)), (at["TRT01P"] == "Drug").to_numpy(float),
                             at["BASE"].to_numpy(float)])
        ols = sm.OLS(at["CHG"].to_numpy(float), x).fit()
        lo, hi = ols.conf_int()[1]
        got = frame[(frame["visitn"] == v) & (frame["group"] == "Drug vs Placebo")]
        got = dict(zip(got["statistic"], got["value"], strict=True))
        assert got["diff"] == pytest.approx(ols.params[1], rel=1e-8)
        assert got["diff_se"] == pytest.approx(ols.bse[1], rel=1e-6)
        assert got["diff_df"] == pytest.approx(ols.df_resid, abs=1e-4)
        assert got["p_value"] == pytest.approx(ols.pvalues[1], rel=1e-5)
        assert (got["diff_ci_low"], got["diff_ci_high"]) == (pytest.approx(lo, rel=1e-6),
                                                             pytest.approx(hi, rel=1e-6))


def test_a_model_that_does_not_converge_is_reported_with_its_reasons(monkeypatch) -> None:
    trial, subjects, efficacy = balanced()
    spec = trial.analyses.models[0]

    def one_step(spec, design):
        return fit_mmrm(design, spec.structure, fallback=spec.fallback, max_iter=1)

    monkeypatch.setattr(analyse_mmrm, "fit_spec", one_step)
    ard = ArdBuilder("t", ["Placebo", "Drug"])
    analyse_mmrm.add_mmrm(ard, spec, 0, efficacy, subjects, trial.design, 0.95,
                          ["Placebo", "Drug"])
    frame = ard.frame()
    assert not frame["statistic"].isin(["lsmean", "diff", "p_value"]).any()
    fit = frame[frame["group"] == "fit"]
    assert dict(zip(fit["statistic"], fit["value"], strict=True))["converged"] == 0
    attempts = [g for g in dict.fromkeys(frame["group"]) if g.startswith("covariance attempt")]
    assert [a.split(": ")[1] for a in attempts] == ["US", "CS"]
    assert all("iteration limit reached (max_iter=1)" in a for a in attempts)
    # the counts are still there: 24 subjects per arm at every visit
    n = frame[(frame["statistic"] == "n") & (frame["group"] == "Drug")]
    assert n["value"].tolist() == [24.0, 24.0, 24.0]
    r = Results("t", {"design": trial.raw["design"], "analyses": trial.raw["analyses"]},
                frame.assign(trial="t"), pd.DataFrame(), pd.DataFrame(), {})
    r.ard = pd.concat([r.ard, pd.DataFrame([{"analysis": "enrolment", "group": g,
                                             "statistic": "n_subjects", "value": 24.0}
                                            for g in ("Placebo", "Drug")])])
    text = mmrm_section(r)
    assert "did not converge" in text and "iteration limit reached" in text
    assert "US: " in text and "CS: " in text


# --- the figure ----------------------------------------------------------------------------


def test_the_figure_draws_the_ard_lsmeans_with_arms_apart_and_readable_text(saga) -> None:
    from trialreport.figures.mmrm import mmrm_lsmeans_figure
    from trialreport.figures.style import FIGURE_WIDTH, MIN_FONT_PT, artist_id, smallest_text

    entry, _, ard = saga
    fig = mmrm_lsmeans_figure(ard, Trial.parse(SAGA, entry))
    xs = {}
    for arm in ("Placebo", "Fasoracetam"):
        (line,) = fig.findobj(lambda a, arm=arm: a.get_gid() == artist_id("lsmean",
                                                                           "adhdrs_mmrm", arm))
        assert list(line.get_ydata()) == [mmrm_value(ard, arm, "lsmean", w) for w in WEEKS]
        (bars,) = fig.findobj(lambda a, arm=arm: a.get_gid() == artist_id("ci", "adhdrs_mmrm",
                                                                          arm))
        ends = [(seg[0][1], seg[1][1]) for seg in bars.get_segments()]
        assert ends == [(pytest.approx(mmrm_value(ard, arm, "ci_low", w)),
                         pytest.approx(mmrm_value(ard, arm, "ci_high", w))) for w in WEEKS]
        xs[arm] = np.asarray(line.get_xdata(), float)
    gap = xs["Fasoracetam"] - xs["Placebo"]
    assert np.all(gap > 0.2) and np.allclose(gap, gap[0])  # dodged by the same amount
    assert fig.get_figwidth() <= FIGURE_WIDTH + 1e-9
    size, text = smallest_text(fig)
    assert size >= MIN_FONT_PT, (size, text)


def test_a_trial_without_an_mmrm_gets_a_figure_saying_so(saga) -> None:
    from trialreport.figures.captions import unavailable
    from trialreport.figures.mmrm import mmrm_lsmeans_figure

    entry, _, ard = saga
    entry = copy.deepcopy(entry)
    entry["analyses"]["models"] = entry["analyses"]["models"][:1]
    entry["plan"]["endpoints"][0]["sensitivity"] = ["model:adhdrs_locf"]
    trial = Trial.parse(SAGA, entry)
    fig = mmrm_lsmeans_figure(ard[ard["analysis"] != "mmrm"], trial)
    assert fig.findobj(lambda a: a.get_gid() == "placeholder")
    assert "kind: mmrm" in unavailable(trial, ard[ard["analysis"] != "mmrm"])["mmrm_lsmeans"]
    assert "mmrm_lsmeans" not in unavailable(Trial.parse(SAGA, saga_entry()), ard)


@pytest.mark.parametrize(("options", "engine"), [
    ({"per_arm_covariance": True}, {"group": "ARM"}),
    ({"df": "satterthwaite", "method": "ML"}, {"ddfm": "Satterthwaite", "method": "ML"}),
    ({"response": "PCHG", "structure": "TOEPH"}, {"response": "PCHG", "structure": "TOEPH"}),
])
def test_each_option_reaches_the_engine(options, engine) -> None:
    """Per-arm covariance, Satterthwaite df with ML, PCHG with another structure: the ARD
    rows equal the engine's fit with those options on a design built here."""
    trial, subjects, efficacy = balanced()
    entry = copy.deepcopy(trial.raw)
    entry["analyses"]["models"][0] |= options
    trial = Trial.parse("t", entry)
    ard = ArdBuilder("t", ["Placebo", "Drug"])
    analyse_mmrm.add_mmrm(ard, trial.analyses.models[0], 0, efficacy, subjects,
                          trial.design, 0.95, ["Placebo", "Drug"])
    frame = ard.frame()
    post = efficacy[efficacy["AVISITN"] > 0].merge(subjects, on="USUBJID")
    post = post[post["EFFFL"] == "Y"]
    data = {"USUBJID": post["USUBJID"].to_numpy(object), "ARM": post["TRT01P"].to_numpy(object),
            "AVISIT": post["AVISITN"].map(lambda v: f"Week {v}").to_numpy(object),
            "BASE": post["BASE"].to_numpy(float), "CHG": post["CHG"].to_numpy(float),
            "PCHG": (100 * post["CHG"] / post["BASE"]).to_numpy(float)}
    response = engine.get("response", "CHG")
    design = build_design(data, response=response, subject="USUBJID", visit="AVISIT",
                          arm="ARM", terms=["ARM", "AVISIT", "ARM:AVISIT", "BASE",
                                            "BASE:AVISIT"],
                          levels={"AVISIT": ["Week 1", "Week 2", "Week 3"],
                                  "ARM": ["Placebo", "Drug"]},
                          reference={"ARM": "Placebo"}, group=engine.get("group"))
    fit = fit_mmrm(design, engine.get("structure", "US"), method=engine.get("method", "REML"),
                   ddfm=engine.get("ddfm", "KR"))
    assert fit.converged
    for d in fit.diffs():
        got = frame[(frame["visit"] == d["visit"]) & (frame["group"] == "Drug vs Placebo")]
        got = dict(zip(got["statistic"], got["value"], strict=True))
        assert got["diff"] == pytest.approx(d["estimate"], rel=1e-9)
        assert got["diff_df"] == pytest.approx(d["df"], rel=1e-9)
        assert got["p_value"] == pytest.approx(d["p"], rel=1e-9)
    cov = frame[frame["statistic"] == "covariance"]
    if engine.get("group"):
        assert set(cov["group"].str.split("; ").str[0]) == {"Placebo", "Drug"}
        drug = cov[cov["group"] == "Drug; covariance with Week 2"]
        k = fit.group_levels.index("Drug")
        assert drug["value"].tolist() == pytest.approx(list(fit.sigma[k][:, 1]), rel=1e-9)
        assert not np.allclose(fit.sigma[0], fit.sigma[1], rtol=0.05)  # two matrices
    else:
        assert len(cov) == 9
    flags = set(frame.loc[frame["group"] == "fit", "statistic"])
    assert f"df_{options.get('df', 'kenward-roger').replace('-', '_')}" in flags
    assert f"method_{options.get('method', 'REML').lower()}" in flags
    assert f"structure_{options.get('structure', 'US').lower()}" in flags
