"""The failure report of a refused run: ``failures.csv`` (every failure, with
file, row, column, rule and value) and ``summary.md``, written by the ingest and validate
stages into ``results/<trial>/validation/``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialreport.common.files import atomic_write_text
from trialreport.common.frames import write_csv


def clear_failure_report(report_dir: str | Path) -> None:
    for stale in ("failures.csv", "summary.md"):
        (Path(report_dir) / stale).unlink(missing_ok=True)


def write_failure_report(table: pd.DataFrame, report_dir: str | Path | None,
                          heading: str) -> str:
    if report_dir is None:
        return "(not written: no report folder given)"
    report_dir = Path(report_dir)
    write_csv(table, report_dir / "failures.csv")
    atomic_write_text(report_dir / "summary.md", failure_summary_markdown(table, heading))
    return str(report_dir / "failures.csv")


def failure_summary_markdown(table: pd.DataFrame, heading: str = "Validation failures") -> str:
    """A short Markdown summary: failures by rule and file, then the first 50 of them."""
    errors = table[table["severity"] == "error"]
    warnings = table[table["severity"] == "warning"]
    lines = [f"# {heading}", "",
             f"{len(errors)} failure(s) in {errors['file'].nunique()} file(s); "
             "the data were refused and nothing downstream was produced. "
             "Your files were not modified."
             + (f" Also {len(warnings)} warning(s)." if len(warnings) else ""), "",
             "| rule | failures | files |", "|---|---:|---|"]
    for rule, group in errors.groupby("rule", sort=True):
        lines.append(f"| {rule} | {len(group)} | {', '.join(sorted(group['file'].unique()))} |")
    lines += ["", "## First failures", "", "| file | row | column | rule | value | message |",
              "|---|---:|---|---|---|---|"]
    for _, f in errors.head(50).iterrows():
        cells = [f["file"], f["row"], f["column"], f["rule"], f["value"], f["message"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if len(errors) > 50:
        lines.append(f"\n... and {len(errors) - 50} more in failures.csv.")
    return "\n".join(lines) + "\n"
