"""Each stage on a large trial, as ratios against a floor measured in the same run.

The floors (benchmarks/floors.py) do the same work as their stage: the same numbers for
derive and analyse, the same files and failures for ingest and validate;
tests/test_benchmark_floors.py checks that on a small trial, and the tests here check it
again at full size (except derive's)."""

from __future__ import annotations

import copy
import json

import floors
import pandas as pd
import pytest
import yaml

from trialreport.analyse.ard import format_ard
from trialreport.analyse.efficacy import build_ard
from trialreport.analyse.safety import build_safety_ard
from trialreport.common.config import Trial
from trialreport.common.frames import write_csv, write_parquet
from trialreport.derive.derivations import (
    attach_base,
    derive_efficacy_as_delivered,
    derive_locf_records,
)
from trialreport.ingest.stage import ingest
from trialreport.validate.stage import validate

from conftest import ROOT, compare

DATASETS = ["subjects", "scores", "adverse_events", "exposure"]


def _outputs(folder, *extra: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: str(folder / f"{name}.parquet") for name in DATASETS} | {
        name: str(folder / f"{name}.csv") for name in extra}


@pytest.fixture(scope="module")
def ingested(scaled) -> dict[str, str]:
    """The scaled trial's ingested Parquet files, as the ingest stage writes them."""
    outputs = _outputs(scaled["folder"] / "ingested", "selection")
    ingest(scaled["trial"], ROOT / "schemas", outputs,
                    report_dir=scaled["folder"] / "validation")
    return outputs


def _same_tables(ours: dict[str, str], floor: dict[str, str]) -> None:
    for name in DATASETS:
        pd.testing.assert_frame_equal(pd.read_parquet(ours[name]), pd.read_parquet(floor[name]),
                                      check_dtype=False)


def test_reading_a_large_trial(scaled, ingested) -> None:
    # The whole ingest stage (ingest, as the workflow runs it): the four CSVs read
    # as text with their checks (encoding, header, field counts, blank lines, stripping),
    # the config's selection, the ingested Parquet files and the selection counts; the
    # floor does the same reading, checks and writing in a few Arrow calls.
    folder = scaled["folder"]
    ours, floor = (_outputs(folder / "ingest-stage", "selection"),
                   _outputs(folder / "ingest-floor"))
    compare(
        "ingest: read, check and write the four datasets",
        ours=lambda: ingest(scaled["trial"], ROOT / "schemas", ours,
                                     report_dir=folder / "ingest-report"),
        floor=lambda: floors.ingest_floor(scaled["paths"], floor),
        max_time_ratio=3, max_memory_ratio=3,
    )
    _same_tables(ours, floor)  # the floor did the same work
    _same_tables(ours, ingested)
    assert len(pd.read_parquet(ours["scores"])) == len(scaled["dataset"].scores)


def test_validating_a_large_trial(scaled, ingested) -> None:
    # The whole validate stage (validate): the four datasets against their
    # contracts with pandera, the cross-dataset checks, the typed Parquet files; the floor
    # makes every check of the contracts in plain pandas and NumPy (floors.validate_floor).
    import pandera.pandas  # noqa: F401  (imported here, once: what a stage's process
    # costs before its work is measured by test_startup.py; here, the work)

    folder = scaled["folder"]
    ours = _outputs(folder / "validate-stage", "warnings", "exclusions")
    floor = _outputs(folder / "validate-floor", "warnings", "exclusions")
    contracts = {name: yaml.safe_load((ROOT / "schemas" / f"{name}.yaml").read_text(
        encoding="utf-8")) for name in DATASETS}
    compare(
        "validate: the four datasets against their contracts",
        ours=lambda: validate(scaled["trial"], ROOT / "schemas", ingested, ours,
                                       report_dir=folder / "validate-report"),
        floor=lambda: floors.validate_floor(scaled["trial"], contracts, ingested, floor),
        max_time_ratio=3, max_memory_ratio=3, repeat=2,
    )
    failures, exclusions = floors.validate_floor(scaled["trial"], contracts, ingested, floor)
    assert failures.empty and exclusions.empty
    assert pd.read_csv(ours["warnings"]).empty and pd.read_csv(ours["exclusions"]).empty
    _same_tables(ours, floor)


def _design(scaled):
    return Trial.parse("scaled", scaled["trial"]).design


def _derive(scores, design):
    """What the derive stage computes (``derive``): ABLFL, BASE, CHG, then the
    LOCF records with BASE."""
    efficacy, _ = derive_efficacy_as_delivered(scores, design.baseline_visits)
    locf = derive_locf_records(efficacy, sorted(design.visit_names), design.visit_names,
                               baseline_visits=design.locf_from)
    return efficacy, attach_base(locf, efficacy)


@pytest.fixture(scope="module")
def derived(scaled):
    scores = scaled["dataset"].scores.astype({"AVAL": "Float64"})
    return _derive(scores, _design(scaled))


def test_deriving_baseline_change_and_locf(scaled) -> None:
    scores = scaled["dataset"].scores.astype({"AVAL": "Float64"})
    design = _design(scaled)
    efficacy, _ = compare(
        "derive: BASE, CHG, LOCF",
        ours=lambda: _derive(scores, design),
        floor=lambda: floors.derive_floor(scores, dict(design.baseline_visits),
                                          dict(design.locf_from), sorted(design.visit_names)),
        max_time_ratio=3, max_memory_ratio=3)
    assert efficacy["CHG"].notna().sum() > 0


def test_analysing_a_large_trial(scaled, derived) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy, locf = derived
    # The floor computes every number of the efficacy ARD (tests/test_benchmark_floors.py):
    # by-visit descriptives, paired t and Wilcoxon, Hodges-Lehmann and d_z with their CIs,
    # rank-biserial, Holm, the same on LOCF data, responders and McNemar, subgroups.
    floor = floors.efficacy_floor(trial, ds.subjects, efficacy, locf, ds.exposure)
    assert floor.attrs["skipped"] == 0  # nothing left out at this size
    ard = compare(
        "analyse: efficacy ARD",
        ours=lambda: build_ard("scale", trial, ds.subjects, efficacy, ds.exposure, locf),
        floor=lambda: floors.efficacy_floor(trial, ds.subjects, efficacy, locf, ds.exposure),
        max_time_ratio=3, max_memory_ratio=3)
    assert floors.without_plan_rows(floors.match_ard(floor, ard)).empty


def test_safety_tables_of_a_large_trial(scaled, derived) -> None:
    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy, _ = derived
    args = (ds.subjects, ds.adverse_events, ds.exposure, efficacy)
    ard = compare(
        "analyse: safety, demographics, disposition, exposure ARD",
        ours=lambda: build_safety_ard("scale", trial, *args),
        floor=lambda: floors.safety_floor(trial, *args),
        max_time_ratio=3, max_memory_ratio=3)
    assert floors.match_ard(floors.safety_floor(trial, *args), ard).empty


# ---------------------------------------------------------------------------------------
# models, reproduce, tables, figures, provenance
# ---------------------------------------------------------------------------------------

MODEL = {"id": "ancova_cgis", "parameter": "CGIS", "visit": 5, "response": "CHG",
         "covariates": ["BASE"], "factors": ["MGLURTIER"], "dose": "TRT01PN"}
"""The between-arm model the benchmark adds to the trial's config (analyses.models): the
reference config runs none (its trial has one arm), so the benchmark randomises the
scaled trial's subjects to two arms (``floors.two_arm_subjects``) and fits this ANCOVA
with a dose-response trend."""


def test_between_arm_model_of_a_large_trial(scaled, derived) -> None:
    from trialreport.analyse.ard import ArdBuilder, arm_order
    from trialreport.analyse.between_arms import add_model
    from trialreport.analyse.efficacy import _analysis_columns

    efficacy, locf = derived
    trial = copy.deepcopy(scaled["trial"])
    trial["analyses"]["models"] = [MODEL]
    cfg = Trial.parse("scale", trial)
    subjects = floors.two_arm_subjects(scaled["dataset"].subjects)
    arms = arm_order(subjects, cfg)
    assert arms == ["Placebo", "Fasoracetam"]
    # the records as build_ard hands them to the model: efficacy set, with the arm
    eff = _analysis_columns(efficacy).merge(
        subjects[["USUBJID", "TRT01P", "EFFFL"]], on="USUBJID", how="left")
    eff = eff[eff["EFFFL"] == "Y"]
    import statsmodels.api  # noqa: F401 - imported by the stage; not counted in its time

    def ours() -> pd.DataFrame:
        ard = ArdBuilder("scale", arms)
        for spec in cfg.analyses.models:
            add_model(ard, spec, eff, locf, subjects, cfg.design,
                                cfg.analyses.confidence, arms)
        return ard.frame()

    ard = compare("analyse: between-arm model (ANCOVA and dose trend)", ours=ours,
                  floor=lambda: floors.model_floor(MODEL, eff, subjects, arms),
                  max_time_ratio=3, max_memory_ratio=3)
    assert floors.match_ard(floors.model_floor(MODEL, eff, subjects, arms), ard,
                            rtol=1e-9).empty
    assert len(ard) == 35


@pytest.fixture(scope="module")
def stage_files(scaled, derived):
    """What the stages after analyse read: ard.csv (as the analyse stage writes it), the
    derived efficacy data and the subjects (parquet), reproduction.csv."""
    from trialreport.analyse.ard import read_ard
    from trialreport.reproduce.targets import reproduce

    ds, trial = scaled["dataset"], scaled["trial"]
    efficacy, locf = derived
    folder = scaled["folder"] / "stages"
    ard = pd.concat([build_ard("scale", trial, ds.subjects, efficacy, ds.exposure, locf),
                     build_safety_ard("scale", trial, ds.subjects, ds.adverse_events,
                                      ds.exposure, efficacy)], ignore_index=True)
    paths = {"ard": folder / "ard.csv", "efficacy": folder / "efficacy.parquet",
             "subjects": folder / "subjects.parquet",
             "reproduction": folder / "reproduction.csv"}
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(format_ard(ard), paths["ard"])
    write_csv(reproduce(read_ard(paths["ard"]), trial), paths["reproduction"])
    write_parquet(efficacy, paths["efficacy"])
    write_parquet(ds.subjects, paths["subjects"])
    return paths


def test_reproducing_the_published_targets(scaled, stage_files) -> None:
    # The reference trial's targets (enrolled, age range, highest dose, four means with
    # their GRIM sizes up to the number of subjects, two P bounds, AE incidence) on the
    # large trial's ard.csv: mismatches, as the published figures are the small trial's,
    # but the work is the same.
    # The stage as it runs (pipeline's reproduce_targets): ard.csv's rows, read and
    # compared with the standard library.
    from trialreport.reproduce.stage import read_ard_rows
    from trialreport.reproduce.targets import reproduce_rows

    trial, path = scaled["trial"], stage_files["ard"]
    rows = compare("reproduce: published targets",
                   ours=lambda: reproduce_rows(read_ard_rows(path), trial),
                   floor=lambda: floors.reproduce_floor(path, trial),
                   max_time_ratio=3, max_memory_ratio=3)
    table = pd.DataFrame(rows)
    floor = floors.reproduce_floor(path, trial)
    columns = ["id", "reproduced", "status", "n", "grim_sizes", "grim_consistent"]
    assert table[columns].astype(str).equals(floor[columns].astype(str))
    assert (table["grim_sizes"] != "").sum() == 4


def test_display_tables_of_a_large_trial(scaled, stage_files, tmp_path) -> None:
    from trialreport.analyse.ard import read_ard
    from trialreport.tables.display import write_tables

    trial, path = scaled["trial"], stage_files["ard"]
    compare("tables: eight display tables (CSV)",
            ours=lambda: write_tables(read_ard(path), trial, tmp_path / "ours"),
            floor=lambda: floors.tables_floor(path, trial, tmp_path / "floor"),
            max_time_ratio=3, max_memory_ratio=3)
    for name in floors.TABLE_NAMES:
        assert (tmp_path / "ours" / f"{name}.csv").read_bytes() == \
            (tmp_path / "floor" / f"{name}.csv").read_bytes(), name


def test_figures_of_a_large_trial(scaled, stage_files, tmp_path) -> None:
    # matplotlib imported before the runs fork, for the stage and the floor alike
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.backends.backend_svg  # noqa: F401
    import matplotlib.figure  # noqa: F401

    from trialreport.figures.stage import write_figures

    trial, files = scaled["trial"], stage_files
    args = (files["ard"], files["efficacy"], files["subjects"])
    paths = compare("figures: four figures, PNG and SVG",
                    ours=lambda: write_figures(trial, *args, tmp_path / "ours",
                                               trial_id="scale"),
                    floor=lambda: floors.figures_floor(trial, *args, tmp_path / "floor"),
                    max_time_ratio=3, max_memory_ratio=3)
    assert sorted(p.name for p in paths) == sorted(
        p.name for p in (tmp_path / "floor").iterdir())


def test_provenance_of_a_large_trial(scaled, stage_files, tmp_path) -> None:
    from trialreport.provenance import provenance

    data = {name: str(path) for name, path in scaled["paths"].items()}
    results = {"ard": str(stage_files["ard"]),
               "reproduction": str(stage_files["reproduction"])}
    out = tmp_path / "provenance.json"
    compare("provenance: SHA-256 of data and results, versions",
            ours=lambda: provenance("scale", scaled["trial"], results, data, str(out)),
            floor=lambda: floors.provenance_floor(data | results),
            max_time_ratio=3, max_memory_ratio=3)
    record = json.loads(out.read_text(encoding="utf-8"))
    hashes = {name: entry["sha256"] for part in ("data", "results")
              for name, entry in record[part].items()}
    assert hashes == floors.provenance_floor(data | results)
