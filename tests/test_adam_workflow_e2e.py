"""The two ADaM deliveries (tests/adam_fixtures.py) added to a fresh copy of the repository
by a config file alone, as README.md's "Adding your trial" says, and run by the real
snakemake to their reports: a three-arm trial with every sponsor quirk, and an
efficacy-only trial (subjects and scores only, baseline only as BASE, no AGE)."""

from __future__ import annotations

import re

import adam_fixtures as fx
import pandas as pd
import pytest

from conftest import copy_repository, run_snakemake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def adam_run(tmp_path_factory):
    repo = copy_repository(tmp_path_factory.mktemp("clone") / "repo")
    fx.write_three_arm(repo / "adam3")
    fx.write_efficacy_only(repo / "adam2")
    indent = lambda text: "\n".join("    " + line for line in text.splitlines())  # noqa: E731
    # the three-arm trial also runs an MMRM over weeks 8-24 (config: analyses.models)
    three = fx.THREE_ARM_CONFIG("adam3").replace(
        "analyses:\n", "analyses:\n  models:\n    - {id: actot_mmrm, kind: mmrm, parameter: "
        "ACTOT, covariates: [BASE], fallback: [CS]}\n", 1)
    (repo / "mytrials.yaml").write_text(
        f"trials:\n  {fx.THREE_ARM_ID}:\n{indent(three)}\n"
        f"  {fx.EFFICACY_ONLY_ID}:\n{indent(fx.EFFICACY_ONLY_CONFIG('adam2'))}\n",
        encoding="utf-8")
    proc = run_snakemake(repo, f"results/{fx.THREE_ARM_ID}/report.html",
                         f"results/{fx.EFFICACY_ONLY_ID}/report.html",
                         "--configfile", "mytrials.yaml", timeout=1200)
    return repo, proc


def test_both_deliveries_get_their_reports(adam_run):
    repo, proc = adam_run
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr
    for trial in (fx.THREE_ARM_ID, fx.EFFICACY_ONLY_ID):
        page = (repo / "results" / trial / "report.html").read_text(encoding="utf-8")
        assert "Synthetic data." in page
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_three_arm_report_lists_records_used_and_set_aside(adam_run):
    repo, _ = adam_run
    page = (repo / "results" / fx.THREE_ARM_ID / "report.html").read_text(encoding="utf-8")
    assert "Records read, set aside and used" in page
    assert "not ANL01FL = Y (config data.scores.where)" in page
    assert "sponsor&#x27;s LOCF records (DTYPE = LOCF)" in page or \
        "sponsor's LOCF records (DTYPE = LOCF)" in page
    table = pd.read_csv(repo / "results" / fx.THREE_ARM_ID / "tables" / "ae_overview.csv",
                        dtype=str)
    # hand counts (tests/adam_fixtures.py), arms in TRT01PN order: Placebo 3 of 8 [3
    # events], Low Dose 5 of 8 [6], High Dose 5 of 7 [6], Total 13 of 23 [15]
    assert table.iloc[0, 1:].tolist() == ["3 (37.5) [3]", "5 (62.5) [6]", "5 (71.4) [6]",
                                          "13 (56.5) [15]"]


def test_efficacy_only_report_says_which_sections_are_absent_and_why(adam_run):
    repo, _ = adam_run
    page = (repo / "results" / fx.EFFICACY_ONLY_ID / "report.html").read_text(
        encoding="utf-8")
    assert "names no adverse-events dataset (data.adverse_events)" in page
    assert "names no exposure dataset (data.exposure)" in page
    assert "the subjects dataset has no AGE column" in page


def test_a_figure_that_cannot_be_drawn_is_replaced_by_its_reason(adam_run):
    """Neither trial has subgroups, nor a parameter on few enough categories for the
    rating distribution: the report says so in place of those two figures, and shows the
    other two (means and trajectories) as images."""
    repo, _ = adam_run
    for trial in (fx.THREE_ARM_ID, fx.EFFICACY_ONLY_ID):
        page = (repo / "results" / trial / "report.html").read_text(encoding="utf-8")
        # no subgroups: the section says so in one line, naming the config key
        assert "No subgroups in this trial&#x27;s config (<code>analyses.subgroups</code>)." \
            in page.replace("'", "&#x27;")
        assert "Forest plot of the subgroups" not in page
        assert "Distribution of ratings by visit: not drawn.</strong> No parameter of the " \
            "trial&#x27;s config is declared integer with at most 10 categories" in \
            page.replace("'", "&#x27;")
        # the MMRM's figure only where an MMRM is configured (the three-arm trial here)
        assert re.findall(r'<figure class="figure" id="(fig-[\w-]+)"', page) == [
            "fig-means-by-visit", "fig-trajectories",
            *(["fig-mmrm-lsmeans"] if trial == fx.THREE_ARM_ID else [])]


def test_three_arm_report_shows_the_mmrm_of_each_dose(adam_run):
    repo, _ = adam_run
    out = repo / "results" / fx.THREE_ARM_ID
    ard = pd.read_csv(out / "ard.csv", dtype=str, keep_default_na=False)
    mm = ard[ard["analysis"] == "mmrm"]
    fit = mm[mm["group"] == "fit"].set_index("statistic")["value"]
    assert fit["converged"] == "1"
    contrasts = set(mm.loc[mm["statistic"] == "diff", "group"])
    assert contrasts == {"Low Dose vs Placebo", "High Dose vs Placebo"}
    assert set(mm.loc[mm["statistic"] == "diff", "visit"]) == {"Week 8", "Week 16", "Week 24"}
    page = (out / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Mixed model for repeated measures (MMRM)" in text
    assert "ADAS-Cog(11): MMRM actot_mmrm" in text
    assert (out / "figures" / "mmrm_lsmeans.svg").stat().st_size > 0
