"""The analysis plan (``plan:``): refused when it names what the trial lacks (naming the
key), its decisions computed independently, and a report led by it."""

from __future__ import annotations

import copy
import math
import re

import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from trialreport.analyse.plan import decision_of, decision_p, plan_rows, resolve
from trialreport.common.config import Trial
from trialreport.common.plan import PlanError, parse_analysis
from trialreport.report.contents import report_markdown
from trialreport.report.results import Results

from conftest import ROOT


@pytest.fixture(scope="module")
def config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def saga_entry(config: dict) -> dict:
    return copy.deepcopy(config["trials"]["fasoracetam_saga"])


def nfc1_entry(config: dict) -> dict:
    return copy.deepcopy(config["trials"]["fasoracetam_nfc1"])


# -- the config check -----------------------------------------------------------------


@pytest.mark.parametrize(("edit", "message"), [
    (lambda p: p["endpoints"][0].update(parameter="ADHDX"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.parameter: 'ADHDX' is not a parameter of "
     r"design\.parameters \(ADHDRS, ADHDIA, CGIS, CGII\)"),
    (lambda p: p["endpoints"][0].update(visit=9),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.visit: 9 is not a visit number"),
    (lambda p: p["endpoints"][0].update(population="ITTFL"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.population: 'ITTFL'"),
    (lambda p: p["endpoints"][0].update(main="model:nosuch"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.main: no model 'nosuch' in analyses\.models "
     r"\(ids: adhdrs_locf, adhdrs_mmrm\)"),
    (lambda p: p["endpoints"][0].update(main="ancova2"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.main: 'ancova2' is not an analysis"),
    (lambda p: p["endpoints"][0].update(sensitivity=["paired_locf", "responders_between_arms"]),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.sensitivity\[1\]: responders_between_arms "
     r"estimates responder rates"),
    (lambda p: p["endpoints"][3].update(variable="responder"),
     r"plan\.endpoints\[3\] \(cgis_change\)\.variable: 'responder' needs a responder rule "
     r"for CGIS"),
    (lambda p: p["endpoints"][2].update(variable="change", main="ancova"),
     r"plan\.endpoints\[2\] \(cgii_responders\)\.variable: 'change' needs a baseline"),
    (lambda p: p["endpoints"][0].update(main="paired"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.main: paired is a within-arm analysis"),
    (lambda p: p["endpoints"][0].update(comparison=["Nootropil"]),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.comparison: 'Nootropil' not an arm"),
    (lambda p: p["multiplicity"].update(family=["adhdrs_change", "nosuch"]),
     r"plan\.multiplicity\.family: 'nosuch' is not a hypothesis of the plan; its hypotheses "
     r"are adhdrs_change, inattention_responders"),
    (lambda p: p.update(multiplicity={"method": "graphical"}),
     r"plan\.multiplicity\.weights: a graphical procedure needs"),
    (lambda p: p["endpoints"][1].update(id="adhdrs_change"),
     r"plan\.endpoints\[1\] \(adhdrs_change\): the id 'adhdrs_change' is used by two"),
    (lambda p: p["endpoints"][0].update(sidedness="one-sided"),
     r"plan\.endpoints\[0\] \(adhdrs_change\)\.direction: a one-sided decision needs"),
    (lambda p: p["endpoints"][1].update(sidedness="one-sided", direction="higher",
                                       main={"analysis": "responders_between_arms",
                                             "test": "fisher_exact"}),
     r"plan\.endpoints\[1\] \(inattention_responders\)\.sidedness: one-sided, but "
     r"fisher_exact gives no one-sided P"),
])
def test_a_plan_naming_what_the_trial_lacks_is_refused_naming_the_key(config, edit,
                                                                       message) -> None:
    entry = saga_entry(config)
    entry["design"]["arms"] = ["Placebo", "Fasoracetam"]
    Trial.parse("saga", entry)  # as shipped: accepted
    edit(entry["plan"])
    with pytest.raises(PlanError, match=message):
        Trial.parse("saga", entry)


def test_a_test_an_analysis_does_not_give_is_refused() -> None:
    with pytest.raises(PlanError, match=r"x\.main: test 'fisher_exact' is not one ancova gives"):
        parse_analysis({"analysis": "ancova", "test": "fisher_exact"}, "x.main")
    assert parse_analysis("model:a1", "x").name == "model:a1"


def test_the_workflow_refuses_a_bad_plan_before_any_job_runs(config, tmp_path) -> None:
    """The Snakefile checks every trial's plan when it reads the config: a dry run stops,
    naming the trial and the key, with no traceback."""
    import shutil
    import subprocess
    import sys

    import yaml

    for name in ("Snakefile", "config.yaml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for name in ("workflow", "schemas", "reports", "data", "profiles"):
        shutil.copytree(ROOT / name, tmp_path / name)
    bad = copy.deepcopy(config)
    bad["trials"]["fasoracetam_saga"]["plan"]["endpoints"][0]["parameter"] = "ADHDX"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(bad, sort_keys=False))
    done = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"],
                          cwd=tmp_path, capture_output=True, text=True)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "trials.fasoracetam_saga.plan.endpoints[0] (adhdrs_change).parameter: 'ADHDX'" in out
    assert "Traceback" not in out
    assert not (tmp_path / "results").exists()


# -- decisions -------------------------------------------------------------------------


def test_fixed_sequence_closes_the_gate_after_the_failed_primary(saga_ard) -> None:
    trial, ard = saga_ard
    plan = ard[ard["analysis"] == "plan"]

    def get(endpoint: str, statistic: str) -> float:
        rows = plan[plan["method"].str.startswith(endpoint + ": ")
                    & (plan["statistic"] == statistic)]
        assert len(rows) == 1
        return float(rows["value"].iloc[0])

    primary_p = get("adhdrs_change", "p_value")
    ancova = ard[(ard["analysis"] == "ancova") & (ard["parameter"] == "ADHDRS")
                 & (ard["statistic"] == "p_value")]
    assert primary_p == float(ancova["value"].iloc[0]) > 0.05
    assert decision_of(get("adhdrs_change", "tested"),
                       get("adhdrs_change", "rejected")) == "not rejected"
    for later in ("inattention_responders", "cgii_responders"):
        assert decision_of(get(later, "tested"), get(later, "rejected")) == \
            "not tested: gate closed"
        # adjusted P of a fixed sequence: the running maximum of the raw P's
        assert get(later, "p_adjusted") == max(primary_p, get(later, "p_value"))
        assert get(later, "alpha_local") == 0
    # nominal: not in the family
    assert set(plan.loc[plan["method"] == "cgis_change: nominal", "statistic"]) == {"p_value"}


def test_holm_over_the_two_primary_endpoints_is_statsmodels_holm(nfc1_ard) -> None:
    trial, ard = nfc1_ard
    plan = ard[ard["analysis"] == "plan"]
    raw = plan[plan["statistic"] == "p_value"].set_index("method")["value"]
    adjusted = plan[plan["statistic"] == "p_adjusted"].set_index("method")["value"]
    rejected, expected, _, _ = multipletests(raw.to_numpy(float), alpha=0.05, method="holm")
    assert adjusted.to_numpy(float) == pytest.approx(expected, rel=1e-12)
    got = plan[plan["statistic"] == "rejected"]["value"].to_numpy(float)
    assert list(got) == [float(x) for x in rejected]
    # the main test is the paired t-test of each parameter
    for method, p in raw.items():
        code = "CGII" if method.startswith("cgii") else "CGIS"
        paired = ard[(ard["analysis"] == "paired") & (ard["parameter"] == code)
                     & (ard["method"] == "paired_ttest") & (ard["statistic"] == "p_value")]
        assert p == float(paired["value"].iloc[0])


@pytest.mark.parametrize(("estimate", "direction", "expected"), [
    (-2.0, "lower", 0.03), (-2.0, "higher", 0.97), (2.0, "higher", 0.03), (2.0, "lower", 0.97),
])
def test_a_one_sided_p_is_half_the_two_sided_in_the_favoured_direction(
        config, estimate, direction, expected) -> None:
    from trialreport.analyse.plan import Result

    entry = saga_entry(config)
    entry["plan"]["endpoints"][0].update(sidedness="one-sided", direction=direction)
    endpoint = Trial.parse("saga", entry).plan.endpoints[0]
    res = Result(endpoint.main, "A vs P", estimate, -1, 1, 0.06, "", "ancova_ols")
    assert decision_p(endpoint, res) == pytest.approx(expected)
    assert decision_p(endpoint, None) is None


def test_without_multiplicity_each_hypothesis_is_decided_at_its_own_level(saga_ard,
                                                                          config) -> None:
    trial, ard = saga_ard
    entry = saga_entry(config)
    entry["plan"]["multiplicity"] = {"method": "none"}
    plain = Trial.parse(trial.id, entry)
    efficacy = ard[ard["analysis"] != "plan"]
    rows = plan_rows(plain, efficacy, ["Placebo", "Fasoracetam"])
    got = {m.split(": ")[0]: v for m, s, v in zip(rows["method"], rows["statistic"],
                                                   rows["value"], strict=True)
           if s == "rejected"}
    assert got == {"adhdrs_change": 0.0, "inattention_responders": 1.0,
                   "cgii_responders": 1.0}
    # an edge: a level equal to the P rejects, one step below does not
    p = float(rows[(rows["method"].str.startswith("cgii_responders"))
                   & (rows["statistic"] == "p_value")]["value"].iloc[0])
    for alpha, rejected in ((p, 1.0), (math.nextafter(p, 0), 0.0)):
        entry["plan"]["alpha"] = alpha
        entry["plan"]["endpoints"][2]["alpha"] = alpha
        at = plan_rows(Trial.parse(trial.id, entry), efficacy, ["Placebo", "Fasoracetam"])
        value = at[(at["method"].str.startswith("cgii_responders"))
                   & (at["statistic"] == "rejected")]["value"].iloc[0]
        assert value == rejected


def test_resolve_reads_the_named_analysis_rows(saga_ard) -> None:
    trial, ard = saga_ard
    primary = trial.plan.endpoints[0]
    res = resolve(ard, primary.main, primary, "Fasoracetam", "Placebo")
    rows = ard[(ard["analysis"] == "ancova") & (ard["parameter"] == "ADHDRS")
               & (ard["group"] == "Fasoracetam vs Placebo")]
    get = dict(zip(rows["statistic"], rows["value"], strict=True))
    assert (res.estimate, res.ci_low, res.ci_high, res.p_value) == (
        get["diff"], get["diff_ci_low"], get["diff_ci_high"], get["p_value"])
    responders = trial.plan.endpoints[1]
    res = resolve(ard, responders.main, responders, "Fasoracetam", "Placebo")
    counts = ard[(ard["analysis"] == "responders_between_arms") & (ard["parameter"] == "ADHDIA")
                 & (ard["method"] == "count") & (ard["statistic"] == "percent")]
    by_arm = dict(zip(counts["group"], counts["value"], strict=True))
    assert res.estimate == pytest.approx(by_arm["Fasoracetam"] - by_arm["Placebo"], abs=1e-12)
    assert res.arms["Placebo"]["n_responders"] == 21


# -- the report led by the plan ----------------------------------------------------------


def headings(markdown: str) -> list[str]:
    return re.findall(r"^##+ (.+)$", markdown, re.MULTILINE)


def test_the_saga_report_opens_with_its_primary_endpoint(saga_report) -> None:
    text = saga_report
    found = headings(text)
    first = next(h for h in found if not h.startswith(("Fasoracetam", "Summary")))
    assert first == "Primary endpoint: Change from baseline in ADHD-RS total score at week 6"
    summary = text[text.index("## Summary"):text.index("## Primary endpoint")]
    assert re.search(r"Primary endpoint: Change from baseline in ADHD-RS total score at week "
                     r"6, Fasoracetam vs Placebo \| Difference in LS means -2\.78 \(-5\.86, "
                     r"0\.30\), P = 0\.076; not rejected", summary)
    # the within-arm paired t-tests are not in a randomized trial's summary
    assert "paired t-test" not in summary
    order = [found.index(h) for h in ("Key secondary endpoints", "Multiplicity",
                                      "Secondary and exploratory endpoints (nominal P)",
                                      "Means by visit",
                                      "Within-arm change from baseline (descriptive)",
                                      "Safety, demographics, disposition and exposure",
                                      "Published against reproduced", "Data checks",
                                      "Provenance")]
    assert order == sorted(order)
    assert text.count("not tested: gate closed") >= 4  # two results and the multiplicity table
    # a hypothesis never tested was held to no level (not "0"); the primary to the full 0.05
    rows = [line for line in text.splitlines() if line.startswith("| ") and "| key secondary |"
            in line]
    assert len(rows) == 2 and all("| none | not tested: gate closed |" in x for x in rows)
    assert "| primary | Fasoracetam vs Placebo | 0.076 | 0.076 | 0.05 | not rejected |" in text


SINGLE_ARM_WORDS = ["single-arm", "single arm", "All periods", "placebo period",
                    "highest dose reached (MAXDOSE)",
                    "dose advancement", "symptom-driven", "the primary analysis",
                    "remains the primary"]


def test_a_randomized_report_says_nothing_of_what_a_single_arm_trial_has(saga_report) -> None:
    for words in SINGLE_ARM_WORDS:
        assert words not in saga_report, words
    assert "LOCF is not requested" not in saga_report


def test_the_nfc1_report_opens_with_both_primary_endpoints(nfc1_report) -> None:
    found = headings(nfc1_report)
    assert found[found.index("Primary endpoints") + 1:][:2] == [
        "Primary endpoint: Change in CGI-I from the end of the placebo week to week 5",
        "Primary endpoint: Change in CGI-S from baseline to week 5"]
    assert "Within-arm change" not in nfc1_report  # one arm: it is the trial's comparison
    assert "Decision (Holm, alpha 0.05) | rejected" in nfc1_report.replace("\\", "")


def test_swapping_two_endpoints_roles_swaps_them_in_the_report(config, saga_results) -> None:
    entry = saga_entry(config)
    endpoints = entry["plan"]["endpoints"]
    endpoints[0]["role"], endpoints[3]["role"] = "secondary", "primary"
    endpoints[0], endpoints[3] = endpoints[3], endpoints[0]
    trial = Trial.parse("fasoracetam_saga", entry)
    r = copy.copy(saga_results)
    r.__dict__["cfg"] = trial
    r.trial = entry
    efficacy = r.ard[r.ard["analysis"] != "plan"]
    r.ard = pd.concat([efficacy, plan_rows(trial, efficacy, ["Placebo", "Fasoracetam"])],
                      ignore_index=True)
    text = report_markdown(r)
    first = [h for h in headings(text) if h.startswith("Primary endpoint")]
    assert first == ["Primary endpoint: Change from baseline in CGI-S at week 6"]
    assert "Secondary endpoint: Change from baseline in ADHD-RS total score at week 6" in text


def test_without_a_plan_nothing_is_called_primary(config, saga_results) -> None:
    entry = saga_entry(config)
    entry.pop("plan")
    r = copy.copy(saga_results)
    r.__dict__["cfg"] = Trial.parse("fasoracetam_saga", entry)
    r.ard = r.ard[r.ard["analysis"] != "plan"]
    text = report_markdown(r)
    assert "No analysis plan is declared in this trial's config" in text
    assert not re.search(r"\bprimary\b", text.replace("No analysis plan", ""), re.IGNORECASE) \
        or "is called primary" in text
    assert "Primary endpoint" not in text


# -- fixtures: the shipped trials' results, built once ------------------------------------


@pytest.fixture(scope="module")
def saga_run(tmp_path_factory, config):
    return _run(tmp_path_factory, "fasoracetam_saga", config)


@pytest.fixture(scope="module")
def nfc1_run(tmp_path_factory, config):
    return _run(tmp_path_factory, "fasoracetam_nfc1", config)


def _run(tmp_path_factory, trial_id: str, config: dict):
    """The stages from ingest to provenance for one shipped trial, in process."""
    from test_adam_delivery import run_stages

    from trialreport.common.runner import write_trial_config
    from trialreport.figures.stage import write_figures
    from trialreport.provenance import provenance

    root = tmp_path_factory.mktemp(trial_id)
    entry = copy.deepcopy(config["trials"][trial_id])
    for source in entry["data"].values():
        source["path"] = str(ROOT / source["path"])
    out = run_stages(root, trial_id, entry)
    (out / "validation" / "warnings.csv").write_bytes((out / "validation" / "w.csv")
                                                      .read_bytes())
    (out / "validation" / "exclusions.csv").write_bytes((out / "validation" / "x.csv")
                                                        .read_bytes())
    provenance(trial_id, entry, {"ard": str(out / "ard.csv")},
               {n: entry["data"][n]["path"] for n in entry["data"]},
               str(out / "provenance.json"))
    write_trial_config(entry, out / "trial_config.json")
    write_figures(entry, str(out / "ard.csv"), str(out / "derived" / "efficacy.parquet"),
                  str(out / "validated" / "subjects.parquet"), str(out / "figures"),
                  trial_id=trial_id)
    return Results.load(out, trial_id, "jupyter")


@pytest.fixture(scope="module")
def saga_results(saga_run) -> Results:
    return saga_run


@pytest.fixture(scope="module")
def saga_ard(saga_run):
    return saga_run.cfg, saga_run.ard


@pytest.fixture(scope="module")
def nfc1_ard(nfc1_run):
    return nfc1_run.cfg, nfc1_run.ard


@pytest.fixture(scope="module")
def saga_report(saga_run) -> str:
    return report_markdown(saga_run)


@pytest.fixture(scope="module")
def nfc1_report(nfc1_run) -> str:
    return report_markdown(nfc1_run)


def test_the_summary_names_a_baseline_once_and_a_baseline_at_another_visit(
        saga_report, nfc1_report) -> None:
    """"baseline (Baseline)" said the same thing twice; NFC-1's CGI-I change is measured from
    week 1 (the end of the placebo week), which the row must name."""
    saga, nfc1 = saga_report.replace("\\", ""), nfc1_report.replace("\\", "")
    saga_summary = saga[saga.index("## Summary"):]
    assert "ADHD-RS total mean, baseline -> Week 6, Placebo" in saga_summary
    assert "baseline (Baseline)" not in saga
    assert "CGI-I mean, baseline (Week 1) -> Week 5" in nfc1
    assert "CGI-S mean, baseline -> Week 5" in nfc1
    # the configured description already says "aged 12-17": the data's range is labelled
    assert re.search(r"\| 101 adolescents aged 12-17 [^|]*; observed ages 12-17 years \|",
                     saga_summary)


def test_medians_and_quartiles_by_visit_have_one_decimal_each(saga_report) -> None:
    """The by-visit table printed 18.5 [16.25, 20.75] beside 19 [16.25, 21]."""
    text = saga_report.replace("\\", "")  # Markdown escapes of [ and ]
    cells = re.findall(r"Median \[Q1, Q3\] \| ([^|]+) \| ([^|]+) \|", text)
    assert len(cells) == 27  # three scales at seven visits, CGI-I (no baseline) at six
    for cell in (c.strip() for pair in cells for c in pair):
        assert re.fullmatch(r"-?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\]", cell), cell
    # round half up, as every other number of the report: 16.25 -> 16.3
    assert "18.5 [16.3, 20.8]" in text


def test_responders_by_visit_list_the_arms_in_protocol_order(saga_report) -> None:
    """The table listed Fasoracetam before Placebo at every visit (alphabetical), against
    the protocol order every other table keeps."""
    text = saga_report[saga_report.index("## Responders"):]
    rows = re.findall(r"^\| (Week \d) \| (Placebo|Fasoracetam) \|", text, re.MULTILINE)
    assert len(rows) >= 24
    for i in range(0, len(rows), 2):
        assert rows[i][0] == rows[i + 1][0] and [rows[i][1], rows[i + 1][1]] == [
            "Placebo", "Fasoracetam"], rows[i:i + 2]
