"""Each workflow stage imports only what it uses.

Every stage is its own Python process, so whatever a stage imports it pays for on every
run: pingouin alone pulls statsmodels, scikit-learn and seaborn, which once made each stage
take seconds before doing anything. Here each stage's real script (workflow/scripts/) runs
on the reference trial in a fresh interpreter, with the rule's inputs and outputs,
and the third-party packages loaded at its end (top-level names in ``sys.modules``, the
standard library left out) must lie within the stage's budget below. A package that is
added to the budget should be one the stage calls, imported where it is called.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trialreport.common.runner import write_trial_config

ROOT = Path(__file__).resolve().parents[1]
TRIAL = "fasoracetam_nfc1"
DATASETS = ["subjects", "scores", "adverse_events", "exposure"]
TABLES = ["demographics", "disposition", "exposure", "ae_overview", "ae_soc_pt",
          "ae_severity", "ae_relationship", "ae_periods"]
FIGURES = ["means_by_visit", "rating_distribution", "trajectories", "subgroup_forest"]

# What pandas itself brings (pyarrow: pandas' string type and the Parquet files).
CORE = {"trialreport", "numpy", "pandas", "pyarrow", "dateutil", "cloudpickle",
        "cython_runtime", "yaml"}
# pandera imports hypothesis (for its data synthesis) where it is installed, as in the
# development environment.
PANDERA = {"pandera", "typeguard", "typing_inspect", "mypy_extensions", "pydantic",
           "pydantic_core", "annotated_types", "typing_extensions", "typing_inspection",
           "packaging", "multimethod", "hypothesis", "sortedcontainers"}
# scipy.special only (trialreport.stats.distributions); scipy.stats, scipy.optimize and
# statsmodels are imported only where a trial's config asks for a test that needs them
# (between-arm responder tests, models), which the reference trial does not.
# scipy.special reaches numpy.f2py, which imports charset_normalizer.
SCIPY = {"scipy", "charset_normalizer"}
NOT_IN_ANALYSE = ("scipy.stats", "scipy.optimize", "statsmodels")
MATPLOTLIB = {"matplotlib", "PIL", "kiwisolver", "pyparsing", "cycler", "packaging",
              "contourpy", "fontTools", "mpl_toolkits"}
NOTEBOOK = {"nbformat", "fastjsonschema", "jsonschema", "jsonschema_specifications",
            "referencing", "rpds", "attr", "attrs", "traitlets", "typing_extensions", "idna"}

BUDGETS = {
    "ingest": CORE,
    "validate": CORE | PANDERA,
    "derive": CORE,
    "analyse": CORE | SCIPY,
    "reproduce": {"trialreport"},  # the standard library only
    "tables": CORE,
    "figures": CORE | MATPLOTLIB,
    "provenance": {"trialreport"},  # the standard library only
    "report": CORE | NOTEBOOK,  # imported only: rendering starts a Jupyter kernel
}
# Never in any stage: each of these pulls in seconds of imports for what scipy/numpy do.
NEVER = {"pingouin", "sklearn", "seaborn", "xarray", "pandas_flavor"}

# The per-stage rule files as the scripts see them (workflow/rules/*.smk), paths relative
# to the results folder R of the trial.
_VALIDATED = {d: f"validated/{d}.parquet" for d in DATASETS}
_DATA_INPUTS = "data"  # the trial's data files, from its config entry
STAGES: dict[str, dict] = {
    "ingest": {
        "input": {_DATA_INPUTS: True},
        "output": {**{d: f"ingested/{d}.parquet" for d in DATASETS},
                   "selection": "ingested/selection.csv"},
    },
    "validate": {
        "input": {d: f"ingested/{d}.parquet" for d in DATASETS},
        "output": {**_VALIDATED, "warnings": "validation/warnings.csv",
                   "exclusions": "validation/exclusions.csv"},
    },
    "derive": {
        "input": {"scores": _VALIDATED["scores"]},
        "output": {"efficacy": "derived/efficacy.parquet", "locf": "derived/locf.parquet",
                   "checks": "derived/checks.csv"},
    },
    "analyse": {
        "input": {**{d: _VALIDATED[d] for d in ("subjects", "exposure", "adverse_events")},
                  "efficacy": "derived/efficacy.parquet", "locf": "derived/locf.parquet"},
        "output": {"ard": "ard.csv"},
    },
    "reproduce": {"input": {"ard": "ard.csv"}, "output": {"reproduction": "reproduction.csv"}},
    "tables": {"input": {"ard": "ard.csv"},
               "output": {t: f"tables/{t}.csv" for t in TABLES}},
    "figures": {
        "input": {"ard": "ard.csv", "efficacy": "derived/efficacy.parquet",
                  "subjects": _VALIDATED["subjects"]},
        "output": {f"{n}_{f}": f"figures/{n}.{f}" for n in FIGURES for f in ("png", "svg")},
    },
    "provenance": {
        "input": {_DATA_INPUTS: True, "ard": "ard.csv", "reproduction": "reproduction.csv"},
        "output": {"provenance": "provenance.json"},
    },
}

# Runs workflow/scripts/<stage>.py as Snakemake would, with a stand-in for the `snakemake`
# object (named lists of paths), then writes the top-level names of the modules loaded.
DRIVER = r"""
import json, runpy, sys

class Named(list):
    def __init__(self, named):
        super().__init__(named.values())
        self._named = dict(named)
        self.__dict__.update(named)
    def __getitem__(self, key):
        return self._named[key] if isinstance(key, str) else list.__getitem__(self, key)

class Snakemake:
    pass

spec = json.load(open(sys.argv[1], encoding="utf-8"))
sm = Snakemake()
for part in ("input", "output", "wildcards"):
    setattr(sm, part, Named(spec[part]))
sm.log = Named({"log": spec["log"]})
sm.threads = 1  # what Snakemake gives a rule that declares no threads
sm.rule = spec["rule"]
loaded = {"before": sorted(sys.modules)}
if spec["run"]:
    runpy.run_path(spec["script"], init_globals={"snakemake": sm}, run_name="__main__")
else:
    for line in open(spec["script"], encoding="utf-8"):
        if line.startswith(("from trialreport", "import trialreport")):
            exec(line)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(sorted(sys.modules), out)
"""


def third_party(modules: list[str]) -> set[str]:
    tops = {m.split(".")[0] for m in modules}
    return {t for t in tops if t not in sys.stdlib_module_names and not t.startswith("_")}


def run_stage(stage: str, results: Path, trial: dict, run: bool = True) -> list[str]:
    rule = STAGES.get(stage, {"input": {}, "output": {}})
    data = {d: trial["data"][d]["path"] for d in DATASETS if d in trial["data"]}
    inputs: dict = {"trial_config": str(results / "trial_config.json")}
    for key, path in rule["input"].items():
        inputs.update(data if key == _DATA_INPUTS else {key: str(results / path)})
    if stage in ("ingest", "validate"):
        inputs["contracts"] = [f"schemas/{d}.yaml" for d in DATASETS]
    spec = {"script": str(ROOT / "workflow" / "scripts" / f"{stage}.py"), "run": run,
            "input": inputs, "output": {k: str(results / p) for k, p in rule["output"].items()},
            "wildcards": {"trial": TRIAL}, "rule": stage,
            "log": str(results / "logs" / f"{stage}.log")}
    spec_file = results / f"{stage}.spec.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    modules_file = results / f"{stage}.modules.json"
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(spec_file), str(modules_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stage {stage} failed:\n{proc.stderr[-3000:]}"
    return json.loads(modules_file.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict[str, set[str]]:
    """The packages each stage loaded, the stages run in the workflow's order."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    trial = config["trials"][TRIAL]
    results = tmp_path_factory.mktemp("budget") / TRIAL
    results.mkdir()
    write_trial_config(trial, results / "trial_config.json")  # as the workflow does
    out = {stage: run_stage(stage, results, trial) for stage in STAGES}
    assert (results / "provenance.json").exists()
    out["report"] = run_stage("report", results, trial, run=False)
    return out


@pytest.mark.parametrize("stage", list(BUDGETS))
def test_stage_imports_stay_within_budget(loaded, stage) -> None:
    over = sorted(third_party(loaded[stage]) - BUDGETS[stage])
    assert not over, (f"stage {stage} now imports {over}, beyond its budget in "
                      f"tests/test_import_budget.py; import such a package inside the "
                      f"function that uses it, or not at all")
    assert not third_party(loaded[stage]) & NEVER


def test_budgets_cover_every_workflow_script() -> None:
    scripts = {p.stem for p in (ROOT / "workflow" / "scripts").glob("*.py")}
    assert scripts == set(BUDGETS)


def test_the_budgets_bite(loaded) -> None:
    """Each heavy package is in the budget of the one stage that uses it, and that stage
    does load it (so the stages really ran the code that imports late)."""
    owners = {"pandera": "validate", "scipy": "analyse", "matplotlib": "figures",
              "nbformat": "report"}
    for package, stage in owners.items():
        assert {s for s, budget in BUDGETS.items() if package in budget} == {stage}, package
        assert package in third_party(loaded[stage]), (package, stage)
    for budget in BUDGETS.values():
        assert not budget & NEVER


def test_the_reference_analysis_imports_scipy_special_only(loaded) -> None:
    """The analyses of the reference trial come from scipy.special
    (trialreport.stats.distributions): scipy.stats alone would cost the job half a second."""
    heavy = [m for m in loaded["analyse"] if m.startswith(NOT_IN_ANALYSE)]
    assert not heavy, f"analyse imports {heavy[:5]}"
    assert "scipy.special" in loaded["analyse"]


def test_workflow_scripts_import_only_the_package() -> None:
    """The scripts are thin: they import trialreport (and the standard library) only."""
    for script in sorted((ROOT / "workflow" / "scripts").glob("*.py")):
        for line in script.read_text(encoding="utf-8").splitlines():
            if line.startswith(("import ", "from ")):
                top = line.split()[1].split(".")[0]
                assert top == "trialreport" or top in sys.stdlib_module_names, (script, line)
