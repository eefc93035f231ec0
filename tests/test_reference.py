"""Names you can find: README's reference of ``analyses.models`` and of the ``ard.csv``
vocabulary is generated from the code (``trialreport reference``) and this test fails when
it is stale; a reproduction target that addresses no row says, for every bad target in one
run, which field is wrong and which values it may take."""

from __future__ import annotations

import math
from pathlib import Path

import delivery_fixtures as fx
import pytest
import yaml

from trialreport import cli, reference
from trialreport.reproduce.targets import TargetError, reproduce_rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def generated() -> str:
    return reference.reference_text(ROOT)


def _section(text: str) -> str:
    return text[text.index(reference.START):text.index(reference.END) + len(reference.END)]


def test_readme_holds_the_generated_reference(generated: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _section(readme) == generated, (
        "README.md's reference is stale: run `trialreport reference --write README.md`")


def test_the_reference_names_what_the_code_writes(generated: str) -> None:
    vocabulary = generated.split("The vocabulary of `ard.csv`")[1]
    for name in ("`dose-response`", "`all arms`", "`ANY`", "`SERIOUS`", "`lsmean`",
                 "`<arm> vs <reference arm>`", "`<model id>: ols trend CHG ~ TRT01PN + BASE`"):
        assert name in vocabulary
    schema = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())
    keys = schema["$defs"]["trial"]["properties"]["analyses"]["properties"]["models"][
        "items"]["properties"]
    models = generated.split("#### The vocabulary")[0]
    assert [line.split("`")[1] for line in models.splitlines()
            if line.startswith("| `")] == list(keys)


def test_check_fails_on_a_stale_readme_and_write_mends_it(
        tmp_path: Path, generated: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setattr(reference, "reference_text", lambda root: generated)
    readme = tmp_path / "README.md"
    stale = generated.replace("`all arms`, ", "")
    assert stale != generated
    readme.write_text(f"# Title\n\n{stale}\n\nAfter.\n", encoding="utf-8")
    assert cli.main(["reference", "--check", str(readme), "--root", str(ROOT)]) == 1
    assert "is stale" in capsys.readouterr().err
    assert cli.main(["reference", "--write", str(readme), "--root", str(ROOT)]) == 0
    assert readme.read_text(encoding="utf-8") == f"# Title\n\n{generated}\n\nAfter.\n"
    assert cli.main(["reference", "--check", str(readme), "--root", str(ROOT)]) == 0
    readme.write_text("# No markers\n", encoding="utf-8")
    assert cli.main(["reference", "--write", str(readme), "--root", str(ROOT)]) == 2
    assert "no reference markers" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------
# Target addresses
# ---------------------------------------------------------------------------------------


def _row(analysis, statistic, value, parameter="ADHDRS", visit="Week 6", visitn=6.0,
         group="Active vs Placebo", method="ancova_ols: CHG ~ ARM + BASE"):
    return {"trial": "t", "analysis": analysis, "analysis_set": "", "method": method,
            "parameter": parameter, "visit": visit, "visitn": visitn, "group": group,
            "statistic": statistic, "value": value}


ARD = [
    _row("enrolment", "n_subjects", 12.0, parameter="", visit="", visitn=math.nan,
         group="Placebo", method=""),
    _row("ancova", "diff", -3.25),
    _row("ancova", "p_value", 0.01),
    _row("ancova", "lsmean", 28.0, group="Placebo"),
    _row("ae_overview", "n_subjects", 2.0, parameter="SERIOUS", visit="", visitn=math.nan,
         group="Total", method="count"),
]


def _trial(*targets: dict) -> dict:
    entry = yaml.safe_load(fx.PLAIN_CONFIG("plain"))
    entry["reproduction"]["targets"] = [
        {"description": t["id"], "published": "1", **t} for t in targets]
    return entry


def test_a_good_address_reproduces() -> None:
    [row] = reproduce_rows(ARD, _trial({"id": "d", "analysis": "ancova", "statistic": "diff",
                                        "group": "Active vs Placebo", "published": "-3.25"}))
    assert row["status"] == "match"


def test_every_bad_target_is_named_in_one_run_with_the_valid_values() -> None:
    trial = _trial(
        {"id": "typo_analysis", "analysis": "ancova_", "statistic": "diff"},
        {"id": "typo_statistic", "analysis": "ancova", "statistic": "difference"},
        {"id": "typo_group", "analysis": "ancova", "statistic": "diff",
         "group": "Active - Placebo"},
        {"id": "typo_visit", "analysis": "ancova", "statistic": "diff", "visit": 5},
        {"id": "typo_parameter", "analysis": "ae_overview", "statistic": "n_subjects",
         "parameter": "SERIOUS AE"},
        {"id": "typo_method", "analysis": "ancova", "statistic": "diff", "method": "mmrm"},
        {"id": "fine", "analysis": "ancova", "statistic": "diff", "published": "-3.25"},
    )
    with pytest.raises(TargetError) as info:
        reproduce_rows(ARD, trial)
    lines = str(info.value).splitlines()
    assert lines[0] == "6 targets cannot be reproduced:"
    by_id = {line.split("'")[1]: line for line in lines[1:]}
    assert sorted(by_id) == ["typo_analysis", "typo_group", "typo_method", "typo_parameter",
                             "typo_statistic", "typo_visit"]
    assert "analysis 'ancova_' is not in the rows of ard.csv; analysis may be: " \
           "ae_overview, ancova, enrolment" in by_id["typo_analysis"]
    assert "statistic may be: diff, lsmean, p_value" in by_id["typo_statistic"]
    assert "group may be: Active vs Placebo" in by_id["typo_group"]
    assert "visit may be: Week 6 (6)" in by_id["typo_visit"]
    assert "parameter may be: SERIOUS" in by_id["typo_parameter"]
    assert "method (a prefix) may be: ancova_ols: CHG ~ ARM + BASE" in by_id["typo_method"]


def test_one_bad_target_is_one_line() -> None:
    with pytest.raises(TargetError) as info:
        reproduce_rows(ARD, _trial({"id": "x", "analysis": "ancova", "statistic": "lsmeans"}))
    assert "\n" not in str(info.value) and "statistic may be: diff, lsmean" in str(info.value)


def test_a_models_parts_are_named_by_placeholders_not_by_one_trials_visits(
        tmp_path: Path) -> None:
    """An MMRM's covariance rows, fallback attempts, Type 3 effects and fit flags carry the
    trial's visit and structure names; the reference gives their general form."""
    names = {"Placebo": "<reference arm>", "Active": "<arm>"}
    assert reference._general("covariance with Week 3", names) == "covariance with <visit>"
    assert (reference._general("Active; covariance with Week 3", names)
            == "<arm>; covariance with <visit>")
    assert (reference._general("covariance attempt 2: TOEPH: did not converge", names)
            == "covariance attempt <k>: <structure>: <reason>")
    assert reference._general("type 3: ARM:AVISIT", names) == "type 3: <effect>"
    # a missing-data entry's assumptions and its tipping point's grid
    names["adhdrs_mnar"] = "<missing-data id>"
    assert reference._general("adhdrs_mnar: J2R", names) == "<missing-data id>: <assumption>"
    assert (reference._general("adhdrs_mnar: tipping point, MAR", names)
            == "<missing-data id>: tipping point, <assumption>")
    assert (reference._general("Active vs Placebo; delta -6.5", names)
            == "<arm> vs <reference arm>; delta <d>")
    assert reference._statistic("mmrm", "structure_toeph") == "structure_<structure>"
    assert reference._statistic("mmrm", "df_satterthwaite") == (
        "df_<kenward_roger|satterthwaite>")
    assert reference._statistic("mmrm", "df_den") == "df_den"  # a statistic, not a flag
    assert reference._statistic("missing_data", "n_J2R") == "n_<strategy>"
    assert reference._statistic("missing_data", "n_ice") == "n_ice"
    schema = {"$defs": {"trial": {"properties": {"analyses": {"properties": {"models": {
        "description": "Models", "items": {"properties": {
            "fallback": {"type": "array", "items": {"enum": ["US", "CS"]}}}}}}}}}}}
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(schema), encoding="utf-8")
    assert "| `fallback` |  | list of `US`, `CS` |" in reference.models_reference(path)


def test_a_period_target_on_a_trial_without_periods_says_periods_are_missing() -> None:
    """A randomized trial has adverse events and exposure (its AE rates are compared between
    arms, ae_rates): the period target must not ask for data the trial already delivers."""
    target = {"id": "ae", "statistic": "ae_incidence_periods", "published": "no difference"}
    [row] = reproduce_rows(ARD, _trial(target))
    assert "data.adverse_events" in row["reproduced"]  # no AE analysis at all: AE data
    rates = [_row("ae_rates", "rate_ratio", 0.74, parameter="TEAE", visit="",
                  visitn=math.nan, group="Active vs Placebo", method="exact_conditional_poisson")]
    [row] = reproduce_rows(ARD + rates, _trial(target))
    assert row["status"] == "mismatch"
    assert row["reproduced"].startswith("not computed (needs periods to compare")
    assert "data.adverse_events" not in row["reproduced"]
