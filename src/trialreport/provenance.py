"""The provenance stage: what the results rest on, in provenance.json.

The standard library only (with the package's config parser): hashing files and reading
package versions need no pandas, and this stage runs once per trial.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from trialreport.common.config import Trial, as_trial
from trialreport.common.files import atomic_write_text, sha256

PROVENANCE_PACKAGES = ("trialreport", "pandas", "numpy", "scipy", "pingouin", "pandera",
                       "statsmodels", "snakemake", "matplotlib", "nbclient", "nbconvert")


def provenance(trial_id: str, trial: Trial | Mapping[str, Any], inputs: Mapping[str, str],
               data_files: Mapping[str, str], output: str) -> None:
    """What the results rest on: input files with their SHA-256, the trial's config and the
    versions of the software. No time stamps, so the same inputs give the same file. (The
    trial's config as it was used is ``trial_config.json``, written by the workflow.)"""
    trial = as_trial(trial, trial_id)
    record = {
        "trial": trial_id,
        "data": {name: {"path": trial.data[name].path, "sha256": sha256(path),
                        "bytes": Path(path).stat().st_size}
                 for name, path in data_files.items()},
        "results": {name: {"path": str(path), "sha256": sha256(path)}
                    for name, path in inputs.items()},
        "config_sha256": hashlib.sha256(
            json.dumps(dict(trial.raw), sort_keys=True).encode("utf-8")).hexdigest(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PROVENANCE_PACKAGES},
    }
    atomic_write_text(output, json.dumps(record, indent=2, sort_keys=True) + "\n")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
