"""config.yaml and its JSON Schema: the shipped config passes, mistakes are refused."""

from __future__ import annotations

import copy

import pytest
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from conftest import REFERENCE_TRIAL, ROOT

SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


def test_shipped_config_is_valid(config: dict) -> None:
    validate(copy.deepcopy(config), SCHEMA)


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda t: t["design"].pop("visits"), "visits"),
        (lambda t: t["data"].pop("scores"), "scores"),
        (lambda t: t["data"]["scores"].update(fromat="csv"), "fromat"),
        (lambda t: t["reproduction"].update(on_mismatch="ignore"), "ignore"),
        (lambda t: t["reproduction"]["targets"][0].update(statistic="median_age"),
         "median_age"),
        (lambda t: t["design"]["parameters"]["CGIS"].pop("comparison_visit"), "comparison_visit"),
    ],
    ids=["no-visits", "no-scores-source", "misspelt-key", "bad-on-mismatch",
         "unknown-statistic", "no-comparison-visit"],
)
def test_config_mistakes_are_refused_naming_the_problem(config: dict, mutate,
                                                         fragment: str) -> None:
    broken = copy.deepcopy(config)
    mutate(broken["trials"][REFERENCE_TRIAL])
    with pytest.raises(WorkflowError, match=fragment):
        validate(broken, SCHEMA)
