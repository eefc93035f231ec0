"""Running a workflow stage: logging, refusals without tracebacks, and the trial's config.

The standard library only, so that a stage pays for no package it does not use (the
provenance and reproduce stages import no third-party package), and a Snakemake run with
nothing to do imports no pandas (see ``write_trial_config``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from trialreport.common.files import atomic_write_text

log = logging.getLogger("trialreport")


class StageError(Exception):
    """The stage refuses its input; the message says why, for the user."""


def setup_logging(log_file: str | Path | None) -> None:
    """Messages at INFO and above to the console and the log file; DEBUG (tracebacks of
    unexpected errors) to the log file only."""
    log.handlers.clear()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    fmt = logging.Formatter("%(levelname)s %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.INFO)
    log.addHandler(console)
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file, mode="w", encoding="utf-8")
        handler.setFormatter(fmt)
        log.addHandler(handler)


def run_stage(name: str, func: Callable[..., Any], log_file: str | Path | None,
              **kwargs: Any) -> None:
    """Run a stage; on ``StageError`` print its message and exit with status 1.

    Any other exception is a shape of data or config the stage did not foresee: the user
    sees one paragraph naming the trial, the stage and the error, and where the traceback
    is (the rule's log file), never the traceback itself; the exit status is 1 as well."""
    setup_logging(log_file)
    log.info("stage %s started", name)
    try:
        func(**kwargs)
    except StageError as exc:
        log.error("stage %s refused its input:\n%s", name, exc)
        sys.exit(1)
    except Exception as exc:
        import traceback

        trial = (kwargs.get("trial_id") or getattr(kwargs.get("trial"), "id", "")
                 or (kwargs.get("params") or {}).get("trial") or "?")
        log.error("stage %s of trial %r stopped on input it does not expect: %s: %s\n"
                  "Nothing downstream was produced. Check the trial's config entry and the "
                  "data against README.md (Adding your trial) and schemas/; this is also a "
                  "defect of trialreport, which should have named the file, column and "
                  "config key: please report it with the log %s.", name, trial,
                  type(exc).__name__, exc, log_file or "(no log file)")
        log.debug("traceback:\n%s", traceback.format_exc())
        sys.exit(1)
    log.info("stage %s finished", name)


# ---------------------------------------------------------------------------------------
# The trial's config entry as a file
# ---------------------------------------------------------------------------------------


def trial_config_text(entry: Mapping[str, Any]) -> str:
    """A trial's config entry as the JSON text of ``results/<trial>/trial_config.json``:
    keys in the config's order (the order of parameters, visits and arms means something),
    indented, one newline at the end (values YAML reads as dates become their ISO text)."""
    return json.dumps(dict(entry), indent=2, default=str) + "\n"


def write_trial_config(entry: Mapping[str, Any], path: str | Path) -> bool:
    """Write a trial's config entry to ``path`` unless the file already holds exactly that
    text; returns whether it wrote.

    The workflow writes this file whenever it builds the jobs of a trial (the input
    function ``trial_config_file`` of workflow/rules/common.smk) and every stage reads the
    entry from it, as an input. A file rewritten only when its trial's entry changed gives
    Snakemake what rule parameters would (the jobs of exactly the trials whose entry changed
    run again) without the cost of parameters: to compare them between runs, Snakemake
    imports pandas in its own process, 0.3 s on every call, a no-op included. Two
    differences from parameters: any run that builds the trial's jobs writes the file, a
    dry run too; and an edit undone after such a run rewrites the file again, so the trial
    reruns once more (parameters would compare equal). The stages get the entry through
    JSON: a date becomes its ISO text and a mapping key its text, which is how the stages
    use them (code maps compare keys as text)."""
    path = Path(path)
    text = trial_config_text(entry)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True


def read_trial_config(path: str | Path) -> dict[str, Any]:
    """The trial's config entry as the workflow wrote it (``write_trial_config``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
