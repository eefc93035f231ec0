"""The run record: after a run, ``snakemake --report run-record.zip`` packs every output
the rules mark with ``report()`` (each trial's report, reproduction table, provenance,
display tables and figures), under its category, with its caption from workflow/report/."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from conftest import REFERENCE_TRIAL, run_snakemake

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def listed(name: str) -> list[str]:
    """A list of names in workflow/rules/common.smk (TABLE_NAMES, FIGURE_NAMES ...)."""
    import ast

    common = (ROOT / "workflow" / "rules" / "common.smk").read_text(encoding="utf-8")
    return ast.literal_eval(re.search(rf"^{name} = (\[.*?\])", common, re.M | re.S).group(1))


@pytest.fixture(scope="module")
def record(reference_run: Path) -> dict:
    zip_path = reference_run / "results" / "run-record.zip"
    proc = run_snakemake(reference_run, "--report", str(zip_path), timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        page = archive.read("run-record/report.html").decode("utf-8")
    return {"names": names, "page": page, "results": reference_run / "results"}


def test_the_record_holds_every_output_marked_for_it(record) -> None:
    """Every trial's marked outputs, each once and byte for byte (the record's folders are
    hashes, so files are matched by name and content over all trials)."""
    trials = sorted(p.parent.name for p in record["results"].glob("*/report.html"))
    assert REFERENCE_TRIAL in trials and len(trials) >= 2  # the shipped config runs both
    expected: list[tuple[str, bytes]] = []
    for trial in trials:
        results = record["results"] / trial
        files = [results / "report.html", results / "reproduction.csv",
                 results / "provenance.json"]
        files += [results / "tables" / f"{t}.csv" for t in listed("TABLE_NAMES")]
        files += [results / "figures" / f"{f}.{fmt}"
                  for f in listed("FIGURE_NAMES") for fmt in listed("FIGURE_FORMATS")]
        # the tipping-point figure has its own rule (a placeholder where none is configured)
        files += [results / "figures" / f"tipping_point.{fmt}"
                  for fmt in listed("FIGURE_FORMATS")]
        # 5 figures (the MMRM's a placeholder without one) and the tipping point's 2 files
        assert len(files) == 3 + 8 + 10 + 2
        expected += [(f.name, f.read_bytes()) for f in files]
    data = [n for n in record["names"] if n.startswith("run-record/data/raw/")]
    with zipfile.ZipFile(record["results"] / "run-record.zip") as archive:
        held = [(Path(n).name, archive.read(n)) for n in data]  # the files, not stand-ins
    assert sorted(held) == sorted(expected)


def test_the_record_has_its_categories_and_captions(record) -> None:
    page = record["page"]
    for category in ("Report", "Reproduction", "Tables", "Figures", "Provenance"):
        assert f'"{category}"' in page, category
    for caption in sorted((ROOT / "workflow" / "report").glob("*.rst")):
        first = re.split(r"[`*]", caption.read_text(encoding="utf-8"))[0].split("\n")[0]
        assert len(first.strip()) >= 15 and first.strip() in page, caption.name
    assert "{{ snakemake" not in page  # the captions' Jinja was filled in
    assert f"<tt class=\\\"docutils literal\\\">{REFERENCE_TRIAL}</tt>" in page
