"""The benchmark floors (benchmarks/floors.py) do the same work as the stages they are held
against, on a small scaled trial: the same numbers (derive, analyse), the same files and
the same failures (ingest, validate); otherwise a ratio to them would mean nothing."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from trialreport.analyse.efficacy import build_ard
from trialreport.analyse.safety import build_safety_ard
from trialreport.common.config import Trial
from trialreport.common.runner import StageError
from trialreport.derive.derivations import attach_base, derive_efficacy, derive_locf_records
from trialreport.ingest.stage import ingest
from trialreport.synthetic.dataset import write_dataset
from trialreport.synthetic.scaled import make_scaled_dataset
from trialreport.validate.stage import validate

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import floors  # noqa: E402

N = 300


@pytest.fixture(scope="module")
def trial() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))[
        "trials"]["fasoracetam_nfc1"]


@pytest.fixture(scope="module")
def data(trial: dict) -> dict:
    ds = make_scaled_dataset(N)
    design = Trial.parse("scaled", trial).design
    scores = ds.scores.astype({"AVAL": "Float64"})
    efficacy = derive_efficacy(scores, design.baseline_visits)
    locf = attach_base(derive_locf_records(efficacy, sorted(design.visit_names),
                                           design.visit_names,
                                           baseline_visits=design.locf_from), efficacy)
    return {"ds": ds, "design": design, "scores": scores, "efficacy": efficacy, "locf": locf}


def test_derive_floor_gives_the_stages_base_change_and_locf(data: dict) -> None:
    design = data["design"]
    eff, locf = floors.derive_floor(data["scores"], dict(design.baseline_visits),
                                    dict(design.locf_from), sorted(design.visit_names))
    key = ["USUBJID", "PARAMCD", "AVISITN"]
    stage = data["efficacy"].sort_values(key, ignore_index=True)
    assert len(eff) == len(stage)
    for col in ("BASE", "CHG"):
        np.testing.assert_array_equal(eff[col].to_numpy(float, na_value=np.nan),
                                      stage[col].to_numpy(float, na_value=np.nan))
    assert (eff["ABLFL"].fillna("") == stage["ABLFL"].fillna("")).all()
    theirs = data["locf"].sort_values(key, ignore_index=True)
    ours = locf.sort_values(key, ignore_index=True)
    assert len(ours) == len(theirs) and (ours["DTYPE"] == "LOCF").sum() > 0
    assert (ours["USUBJID"].astype(object) == theirs["USUBJID"].astype(object)).all()
    for col in ("AVISITN", "AVAL", "BASE"):
        np.testing.assert_array_equal(ours[col].to_numpy(float, na_value=np.nan),
                                      theirs[col].to_numpy(float, na_value=np.nan))
    assert (ours["DTYPE"].fillna("") == theirs["DTYPE"].fillna("")).all()


def test_efficacy_floor_gives_every_number_of_the_stage(data: dict, trial: dict) -> None:
    ds = data["ds"]
    ard = build_ard("scaled", trial, ds.subjects, data["efficacy"], ds.exposure, data["locf"])
    floor = floors.efficacy_floor(trial, ds.subjects, data["efficacy"], data["locf"],
                                  ds.exposure)
    diff = floors.match_ard(floor, ard)
    # The floor leaves out the small-sample variants (exact Wilcoxon below 50 non-zero
    # differences): those rows, and only those, are on the stage's side alone.
    small = diff[(diff["_merge"] == "left_only") & diff["method"].str.startswith("wilcoxon")]
    # The analysis plan's rows (two P values through Holm) cost nothing at any size and
    # repeat the paired t-tests' P, which are compared: the floor leaves them out.
    plan = diff[(diff["_merge"] == "left_only") & (diff["analysis"] == "plan")]
    assert set(plan["statistic"]) == floors.PLAN_STATISTICS
    rest = floors.without_plan_rows(diff.drop(small.index))
    assert rest.empty, rest.to_string()
    assert len(small) <= 3 * floor.attrs["skipped"]
    assert len(ard) - len(small) > 600  # nearly every row is compared
    assert set(ard["analysis"]) >= {"by_visit", "paired", "paired_locf", "responders",
                                    "responders_paired", "subgroup"}


@pytest.fixture(scope="module")
def safety(data: dict, trial: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The safety stage's ARD and its floor's rows, on the same data."""
    ds = data["ds"]
    ard = build_safety_ard("scaled", trial, subjects=ds.subjects,
                           adverse_events=ds.adverse_events, exposure=ds.exposure,
                           efficacy=data["efficacy"])
    floor = floors.safety_floor(trial, ds.subjects, ds.adverse_events, ds.exposure,
                                data["efficacy"])
    return ard, floor


def test_safety_floor_gives_every_number_of_the_stage(safety) -> None:
    ard, floor = safety
    diff = floors.match_ard(floor, ard)
    assert diff.empty, diff.to_string()
    assert len(ard) > 1000


def test_match_ard_finds_a_changed_number_and_a_missing_row(safety) -> None:
    ard, floor = safety
    changed = floor.copy()
    changed.loc[changed["statistic"] == "n_subjects", "value"] += 1
    assert not floors.match_ard(changed, ard).empty
    assert not floors.match_ard(floor.iloc[1:], ard).empty
    assert floors.match_ard(pd.concat([floor]), ard).empty


# ---------------------------------------------------------------------------------------
# models, reproduce, tables, figures, provenance: on the stages' files of the small trial
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(data: dict, trial: dict, tmp_path_factory) -> dict:
    """ard.csv as the analyse stage writes it, the efficacy data and subjects as parquet,
    reproduction.csv, and the data CSVs, of the small trial."""
    from trialreport.analyse.ard import format_ard, read_ard
    from trialreport.common.frames import write_csv, write_parquet
    from trialreport.reproduce.targets import reproduce

    folder = tmp_path_factory.mktemp("stages")
    ds = data["ds"]
    ard = pd.concat([build_ard("scaled", trial, ds.subjects, data["efficacy"], ds.exposure,
                               data["locf"]),
                     build_safety_ard("scaled", trial, ds.subjects, ds.adverse_events,
                                      ds.exposure, data["efficacy"])], ignore_index=True)
    paths = {"ard": folder / "ard.csv", "efficacy": folder / "efficacy.parquet",
             "subjects": folder / "subjects.parquet",
             "reproduction": folder / "reproduction.csv"}
    write_csv(format_ard(ard), paths["ard"])
    write_parquet(data["efficacy"], paths["efficacy"])
    write_parquet(ds.subjects, paths["subjects"])
    write_csv(reproduce(read_ard(paths["ard"]), trial), paths["reproduction"])
    paths["data"] = {name: str(folder / f"{name}.csv") for name in ds.tables()}
    for name, frame in ds.tables().items():
        write_csv(frame, paths["data"][name])
    return paths


def test_model_floor_gives_every_number_of_the_between_arm_model(data: dict,
                                                                  trial: dict) -> None:
    from trialreport.analyse.ard import ArdBuilder, arm_order
    from trialreport.analyse.between_arms import add_model
    from trialreport.analyse.efficacy import _analysis_columns

    spec = {"id": "ancova_cgis", "parameter": "CGIS", "visit": 5, "response": "CHG",
            "covariates": ["BASE"], "factors": ["MGLURTIER"], "dose": "TRT01PN"}
    cfg = Trial.parse("scaled", {**trial, "analyses": {**trial["analyses"], "models": [spec]}})
    subjects = floors.two_arm_subjects(data["ds"].subjects)
    arms = arm_order(subjects, cfg)
    eff = _analysis_columns(data["efficacy"]).merge(
        subjects[["USUBJID", "TRT01P", "EFFFL"]], on="USUBJID", how="left")
    eff = eff[eff["EFFFL"] == "Y"]
    ard = ArdBuilder("scaled", arms)
    add_model(ard, cfg.analyses.models[0], eff, None, subjects, cfg.design,
                        cfg.analyses.confidence, arms)
    stage = ard.frame()
    floor = floors.model_floor(spec, eff, subjects, arms)
    # least squares by NumPy and by statsmodels differ in the last bits only
    diff = floors.match_ard(floor, stage, rtol=1e-9)
    assert diff.empty, diff.to_string()
    assert len(stage) == 35 and set(stage["group"]) == {
        "Placebo", "Fasoracetam", "Fasoracetam vs Placebo", "all arms", "dose-response"}
    changed = floor.assign(value=floor["value"].where(floor["statistic"] != "lsmean",
                                                      floor["value"] * (1 + 1e-6)))
    assert len(floors.match_ard(changed, stage, rtol=1e-9)) == 2  # the two LS means


def test_reproduce_floor_gives_the_stages_reproduction(files: dict, trial: dict) -> None:
    table = pd.read_csv(files["reproduction"], dtype=str, keep_default_na=False)
    floor = floors.reproduce_floor(files["ard"], trial)
    columns = ["id", "reproduced", "status", "n", "grim_sizes", "grim_consistent"]
    assert table[columns].equals(floor[columns].astype(str))
    assert len(table) == len(trial["reproduction"]["targets"])
    assert (table["grim_sizes"] != "").sum() == 4


def test_tables_floor_writes_the_stages_tables(files: dict, trial: dict, tmp_path) -> None:
    from trialreport.analyse.ard import read_ard
    from trialreport.tables.display import write_tables

    written = write_tables(read_ard(files["ard"]), trial, tmp_path / "stage")
    floors.tables_floor(files["ard"], trial, tmp_path / "floor")
    assert sorted(p.stem for p in written) == sorted(floors.TABLE_NAMES)
    for name in floors.TABLE_NAMES:
        stage = (tmp_path / "stage" / f"{name}.csv").read_bytes()
        assert stage == (tmp_path / "floor" / f"{name}.csv").read_bytes(), name
        assert stage.count(b"\n") > 1, name  # a table with rows, not "Not available"


def test_figures_floor_draws_the_stages_figures_and_data(files: dict, trial: dict,
                                                         tmp_path) -> None:
    from trialreport.analyse.ard import read_ard
    from trialreport.figures.data import by_visit, change_estimates, rating_counts
    from trialreport.figures.stage import write_figures

    args = (files["ard"], files["efficacy"], files["subjects"])
    written = write_figures(trial, *args, tmp_path / "stage", trial_id="scaled")
    drawn = floors.figures_floor(trial, *args, tmp_path / "floor")
    assert sorted(p.name for p in written) == sorted(
        p.name for p in (tmp_path / "floor").iterdir())
    assert len(written) == 10 and {p.suffix for p in written} == {".png", ".svg"}

    def artist(fig, gid):
        found = fig.findobj(lambda a: a.get_gid() == gid)
        assert len(found) == 1, gid
        return found[0]

    ard = read_ard(files["ard"])
    for code in trial["design"]["parameters"]:
        rows = by_visit(ard, code, "Fasoracetam")
        for name in ("means_by_visit", "trajectories"):
            line = artist(drawn[name], f"mean-{code}")
            np.testing.assert_array_equal(line.get_xdata(), rows["visitn"].to_numpy(float))
            np.testing.assert_array_equal(line.get_ydata(), rows["mean"].to_numpy(float))
        counts = rating_counts(pd.read_parquet(files["efficacy"]),
                                       pd.read_parquet(files["subjects"]), trial)
        for category, at in counts[counts["parameter"] == code].groupby("category"):
            bars = drawn["rating_distribution"].findobj(  # a bar per visit, in visit order
                lambda a, gid=f"bar-{code}-{category:g}": a.get_gid() == gid)
            # (a stacked bar's height is stored as its top minus its bottom: last bits)
            np.testing.assert_allclose([p.get_height() for p in bars],
                                       at.sort_values("visitn")["percent"].to_numpy(),
                                       rtol=1e-13)
        est = change_estimates(ard, code)
        for r in est.itertuples():
            point = artist(drawn["subgroup_forest"], f"est-{code}-{r.group}")
            assert list(point.get_xdata()) == [r.change_mean]
        assert len(est) > 3


def test_provenance_floor_gives_the_stages_hashes(files: dict, trial: dict,
                                                  tmp_path) -> None:
    import json

    from trialreport.provenance import provenance

    data = files["data"]
    results = {"ard": str(files["ard"]), "reproduction": str(files["reproduction"])}
    provenance("scaled", {**trial, "data": {n: {"path": p} for n, p in data.items()}},
               results, data, str(tmp_path / "provenance.json"))
    record = json.loads((tmp_path / "provenance.json").read_text(encoding="utf-8"))
    hashes = {name: entry["sha256"] for part in ("data", "results")
              for name, entry in record[part].items()}
    assert hashes == floors.provenance_floor(data | results)
    assert len(set(hashes.values())) == 6

# ingest and validate: the same files, the same failures
# ---------------------------------------------------------------------------------------

DATASETS = ["subjects", "scores", "adverse_events", "exposure"]


def _outputs(folder: Path, *extra: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: str(folder / f"{name}.parquet") for name in DATASETS} | {
        name: str(folder / f"{name}.csv") for name in extra}


def _trial_on(trial: dict, folder: Path) -> dict:
    return copy.deepcopy(trial) | {"data": {name: {"path": str(folder / f"{name}.csv")}
                                            for name in DATASETS}}


@pytest.fixture(scope="module")
def contracts() -> dict:
    return {name: yaml.safe_load((ROOT / "schemas" / f"{name}.yaml").read_text(
        encoding="utf-8")) for name in DATASETS}


def _same_tables(ours: dict[str, str], floor: dict[str, str]) -> None:
    for name in DATASETS:
        pd.testing.assert_frame_equal(pd.read_parquet(ours[name]), pd.read_parquet(floor[name]),
                                      check_dtype=False)


@pytest.mark.parametrize("padded", [False, True], ids=["as-written", "padded-and-empty-rows"])
def test_ingest_floor_writes_the_stages_tables(data: dict, trial: dict, tmp_path: Path,
                                               padded: bool) -> None:
    paths = write_dataset(data["ds"], tmp_path / "data")
    if padded:  # values with spaces around them, and rows of nothing but delimiters
        for path in paths:
            lines = path.read_bytes().split(b"\n")
            empty = b"," * lines[0].count(b",")
            lines = [line.replace(b",", b" ,\t") if n % 3 else line
                     for n, line in enumerate(lines)]
            lines[5:5] = [empty, b" " + empty]
            path.write_bytes(b"\n".join(lines))
    ours, floor = _outputs(tmp_path / "stage", "selection"), _outputs(tmp_path / "floor")
    ingest(_trial_on(trial, tmp_path / "data"), ROOT / "schemas", ours)
    counts = floors.ingest_floor({p.stem: p for p in paths}, floor)
    _same_tables(ours, floor)
    used = pd.read_csv(ours["selection"]).query("records == 'used'").set_index("dataset")["n"]
    assert counts == used.to_dict()
    assert counts["scores"] == len(data["ds"].scores)
    if padded:
        assert pd.read_parquet(floor["scores"])["SRCROW"].iloc[4] == 8  # two rows skipped


@pytest.fixture(scope="module")
def ingested(data: dict, trial: dict, tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("ingested")
    write_dataset(data["ds"], folder / "data")
    outputs = _outputs(folder / "out", "selection")
    ingest(_trial_on(trial, folder / "data"), ROOT / "schemas", outputs)
    return outputs


def _validate_both(trial: dict, contracts: dict, inputs: dict[str, str], folder: Path
                   ) -> tuple[pd.DataFrame | None, pd.DataFrame, pd.DataFrame,
                              pd.DataFrame, dict[str, str], dict[str, str]]:
    """The stage's failures (failures.csv; None when it accepted the data) and exclusions,
    the floor's failures and exclusions, and both sets of outputs."""
    ours = _outputs(folder / "stage", "warnings", "exclusions")
    floor = _outputs(folder / "floor", "warnings", "exclusions")
    report = folder / "report"
    report.mkdir(parents=True, exist_ok=True)
    try:
        validate(trial, ROOT / "schemas", inputs, ours, report_dir=report)
        stage = None
        excluded = pd.read_csv(ours["exclusions"])[["USUBJID", "PARAMCD"]]
    except StageError:
        stage = pd.read_csv(report / "failures.csv")
        excluded = None
    failures, exclusions = floors.validate_floor(trial, contracts, inputs, floor)
    return stage, excluded, failures, exclusions, ours, floor


FAILURE_KEY = ["dataset", "row", "column", "rule", "severity"]


def test_validate_floor_accepts_and_types_as_the_stage(trial: dict, contracts: dict,
                                                       ingested: dict, tmp_path: Path) -> None:
    stage, excluded, failures, exclusions, ours, floor = _validate_both(
        trial, contracts, ingested, tmp_path)
    assert stage is None and failures.empty
    assert excluded.empty and exclusions.empty
    _same_tables(ours, floor)
    for name in DATASETS:  # typed alike: Int64, Float64 and text where the contract says
        assert (pd.read_parquet(ours[name]).dtypes == pd.read_parquet(floor[name]).dtypes).all()


def _inject(frames: dict[str, pd.DataFrame]) -> None:
    """One or more failures of every check the contracts make (as text, as a sponsor's
    file would hold them)."""
    s, sc, ae, ex = (frames[n] for n in DATASETS)
    s.loc[0, "AGE"] = "25"                      # range (age_range)
    s.loc[1, "SEX"] = "X"                       # allowed_values
    s.loc[2, "EOSSTAT"], s.loc[2, "DCSREAS"] = "DISCONTINUED", pd.NA  # discontinued_has_reason
    s.loc[3, "EFFFL"] = pd.NA                   # not_null
    s.loc[4, "AGE"] = "fourteen"                # type
    sc.loc[0, "AVAL"] = "x"                     # type
    sc.loc[1, "AVISITN"] = "1.5"                # type (not a whole number)
    sc.loc[2, "USUBJID"] = "S-NOBODY"           # subject_in_subjects
    sc.loc[3, "AVISIT"] = "Week 9"              # allowed_values
    sc.loc[4, "ADY"] = "99"                     # range (study_days)
    sc.loc[5, "AVAL"] = "9"                     # aval_within_parameter_range
    sc.loc[6, "AVAL"] = "2.5"                   # aval_integer_where_declared
    sc.loc[7, "AVISIT"] = "Week 2"              # visit_name_matches_number (AVISITN 0)
    sc.loc[8, "PARAMCD"] = pd.NA                # not_null
    sc.loc[9, "AVAL"] = "inf"                   # type (not finite)
    late = sc.index[(sc["AVISITN"] == "1")][0]
    sc.loc[late, "ADY"] = "20"                  # ady_within_visit_window (a warning)
    frames["scores"] = pd.concat([sc, sc.iloc[[20]]], ignore_index=True)  # unique_key
    ae.loc[0, "AENDY"], ae.loc[0, "ASTDY"] = "3", "5"    # end_not_before_onset
    ae.loc[1, "APHASE"], ae.loc[1, "ASTDY"] = "PLACEBO", "20"  # onset_within_period
    ae.loc[2, "AESEV"] = "HUGE"                 # allowed_values
    ae.loc[3, "ASTDY"] = "40"                   # range (onset_days)
    ex.loc[0, "EXENDY"] = "0"                   # end_not_before_start, range
    ex.loc[1, "EXDOSE"] = "75"                  # allowed_values (dose_levels)
    ex.loc[2, "EXDOSE"] = "50"                  # dose_allowed_in_period (PLACEBO)
    ex.loc[3, "EXENDY"] = "30"                  # interval_within_period, overlapping
    ex.loc[4, "APHASE"] = "RUN-IN"              # allowed_values (periods)
    # cross-dataset checks (warnings): a death with no adverse event at all; a discontinuation
    # for an adverse event whose subject's every action is DOSE NOT CHANGED; ae row 3's onset
    # on day 40 is also after its subject's last contact
    quiet = s.index[~s["USUBJID"].isin(set(ae["USUBJID"]))][-1]
    s.loc[quiet, "EOSSTAT"], s.loc[quiet, "DCSREAS"] = "DISCONTINUED", "DEATH"
    withdrawn = ae.loc[ae["AEACN"] == "DRUG WITHDRAWN", "USUBJID"].iloc[-1]
    ae.loc[ae["USUBJID"] == withdrawn, "AEACN"] = "DOSE NOT CHANGED"
    s.loc[s["USUBJID"] == withdrawn, ["EOSSTAT", "DCSREAS"]] = "DISCONTINUED", "ADVERSE EVENT"


def test_validate_floor_finds_the_stages_failures(trial: dict, contracts: dict,
                                                  ingested: dict, tmp_path: Path) -> None:
    frames = {name: pd.read_parquet(ingested[name]) for name in DATASETS}
    _inject(frames)
    inputs = _outputs(tmp_path / "bad")
    for name, frame in frames.items():
        frame.to_parquet(inputs[name], index=False)
    stage, _, failures, _, _, floor = _validate_both(trial, contracts, inputs, tmp_path)
    assert stage is not None, "the stage accepted data with injected failures"
    theirs = stage[FAILURE_KEY].drop_duplicates().sort_values(FAILURE_KEY, ignore_index=True)
    mine = failures[FAILURE_KEY].sort_values(FAILURE_KEY, ignore_index=True)
    both = theirs.merge(mine, how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"].to_string()
    rules = set(mine["rule"])  # every column check and every dataset-level rule
    assert rules >= {"death_has_fatal_ae", "ae_discontinuation_has_ae",
                     "ae_onset_within_contact"}
    assert rules >= {"type", "not_null", "allowed_values", "range", "subject_in_subjects",
                     "unique_key"}
    assert rules >= set().union(*(c.get("rules", []) for c in contracts.values()))
    assert len(mine) >= 35
    assert "warning" in set(mine["severity"])
    assert not any(Path(floor[name]).exists() for name in DATASETS)  # refused, as the stage


def test_validate_floor_excludes_the_stages_subjects(trial: dict, contracts: dict,
                                                     ingested: dict, tmp_path: Path) -> None:
    frames = {name: pd.read_parquet(ingested[name]) for name in DATASETS}
    sc = frames["scores"]
    first = sc["USUBJID"].iloc[0]
    frames["scores"] = sc[~((sc["USUBJID"] == first) & (sc["AVISITN"] == "0"))]  # no baseline
    inputs = _outputs(tmp_path / "in")
    for name, frame in frames.items():
        frame.to_parquet(inputs[name], index=False)
    stage, excluded, failures, exclusions, ours, floor = _validate_both(
        trial, contracts, inputs, tmp_path)
    assert stage is None and failures.empty
    assert excluded.values.tolist() == exclusions.values.tolist() == [[first, "CGIS"]]
    _same_tables(ours, floor)


def test_matches_subjects_in_both(trial: dict, contracts: dict, ingested: dict,
                                  tmp_path: Path) -> None:
    """A subject-level column repeated in the scores (as ADaM repeats ADSL's) must agree."""
    frames = {name: pd.read_parquet(ingested[name]) for name in DATASETS}
    sex = frames["subjects"].set_index("USUBJID")["SEX"]
    sc = frames["scores"]
    sc["SEX"] = sc["USUBJID"].map(sex).astype("string")
    sc.loc[3, "SEX"] = "U" if sc.loc[3, "SEX"] != "U" else "M"
    inputs = _outputs(tmp_path / "in")
    for name, frame in frames.items():
        frame.to_parquet(inputs[name], index=False)
    stage, _, failures, _, _, _ = _validate_both(trial, contracts, inputs, tmp_path)
    assert stage[FAILURE_KEY].values.tolist() == failures[FAILURE_KEY].values.tolist() == [
        ["scores", int(sc.loc[3, "SRCROW"]), "SEX", "matches_subjects", "error"]]
