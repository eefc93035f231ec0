"""The report's PDF, built here the way Quarto builds it (the notebook's outputs as
Markdown, pandoc to Typst, typst to PDF: pandoc_routes.render_pdf_with_pandoc_typst), from the
reference trial's results, and read back with poppler's pdftotext.

What a real Quarto printed before the report's tables became Markdown: raw HTML objects as
``<IPython.core.display.HTML object>``, wide tables with their columns on top of each
other, a reproduction table wrapped into one-word lines. Each test below would have
failed on that PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from conftest import REFERENCE_TRIAL, copy_repository, run_snakemake

pytestmark = pytest.mark.e2e

PUBLISHED = ["3.79", "2.33", "4.83", "3.86", "P < 0.001", "30", "12-17", "400"]
# What a PDF shows when an output is not Markdown or a value is missing or unescaped.
PLACEHOLDERS = [r"<IPython\.core\.display", r"<Figure size", r"Traceback", r"\bnan\b",
                r"\bNaN\b", r"\bNone\b", r"&nbsp;", r"\\[_|*\[\]<>]", r":::", r"\*\*",
                r"\{\.callout", r"[{}]"]
MARGIN_X = 2 / 2.54 * 72  # reports/_quarto.yml: typst margin x = 2cm, in points


def normalise(text: str) -> str:
    """Typst's typography back to the characters of the source: minus signs, quotes,
    ellipses; whitespace collapsed."""
    for typeset, plain in (("\u2212", "-"), ("\u2018", "'"), ("\u2019", "'"),
                           ("\u201c", '"'), ("\u201d", '"'), ("\u2026", "..."),
                           ("\u00a0", " "), ("\u2060", "")):
        text = text.replace(typeset, plain)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words, split at whitespace and after / and - (where Typst may break a line)."""
    return [t for t in re.split(r"\s+|(?<=[/-])", normalise(text)) if t]


def pipe_tables(markdown: str) -> list[list[list[str]]]:
    """The pipe tables of the intermediate Markdown: per table, its rows of cell texts
    (header first), unescaped as the reader sees them."""
    tables, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            if not all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in cells):
                current.append([normalise(re.sub(r"\\(.)", r"\1", c.replace("&nbsp;", " "))
                                          .replace("**", "")) for c in cells])
        elif current:
            tables.append(current)
            current = []
    return tables


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The reference trial's results (the workflow, up to the report) and its PDF."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian package poppler-utils; .ci/run "
                    "installs it): the PDF cannot be read back")
    pytest.importorskip("pypandoc", reason="pypandoc-binary (dev group) is not installed")
    pytest.importorskip("typst", reason="typst (dev group) is not installed")
    from trialreport.figures.data import FIGURE_NAMES
    from trialreport.report.pandoc_routes import render_pdf_with_pandoc_typst
    from trialreport.tables.display import TABLES

    repo = copy_repository(tmp_path_factory.mktemp("clone") / "repo")
    results = repo / "results" / REFERENCE_TRIAL
    targets = [
        f"results/{REFERENCE_TRIAL}/{name}"
        for name in (
            "provenance.json",
            "reproduction.csv",
            *(f"tables/{spec.name}.csv" for spec in TABLES),
            *(f"figures/{name}.{fmt}" for name in FIGURE_NAMES for fmt in ("png", "svg")),
        )
    ]
    proc = run_snakemake(repo, *targets)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (results / "trial_config.json").exists()  # written as the trial's jobs are built
    build = tmp_path_factory.mktemp("pdf")
    pdf = build / "report.pdf"
    render_pdf_with_pandoc_typst(repo / "reports" / "report.qmd", pdf,
                                 {"trial": REFERENCE_TRIAL, "results_dir": str(results)},
                                 workdir=repo, keep=build / "sources")

    def pdftotext(*args: str) -> str:
        return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout

    return {"results": results, "pdf": pdf, "sources": build / "sources",
            "markdown": (build / "sources" / "report.md").read_text(encoding="utf-8"),
            "layout": pdftotext("-layout"), "raw": pdftotext("-raw"),
            "bbox": pdftotext("-bbox")}


def test_every_published_figure_is_in_the_pdf(built) -> None:
    text = normalise(built["layout"])
    for figure in PUBLISHED:
        assert re.search(rf"(?<![\w.]){re.escape(figure)}(?![\w.])", text), figure


def test_every_row_of_the_reproduction_table_is_in_the_pdf_cell_by_cell(built) -> None:
    """Each row's cells in order (pdftotext -raw reads a table cell by cell): the figure,
    published, reproduced, status and n; the GRIM sizes of every published mean."""
    raw = normalise(built["raw"])
    table = pd.read_csv(built["results"] / "reproduction.csv", dtype=str,
                        keep_default_na=False)
    for row in table.itertuples():
        cells = [row.description, row.published, row.reproduced, row.status, row.n]
        assert normalise(" ".join(c for c in cells if c)) in raw, row.id
        if row.grim_sizes:
            assert normalise(f"{row.description} {row.published} {row.n} "
                             f"{row.grim_sizes} {row.grim_consistent}") in raw, row.id
    n = len(table)
    assert f"{n} of {n} published figures reproduced." in raw


def test_the_reproduction_table_keeps_a_short_row_on_one_line(built) -> None:
    """A row of short cells stands on one line of the page, its cells apart (not wrapped
    into one-word lines)."""
    lines = [normalise(line) for line in built["layout"].splitlines()]
    table = pd.read_csv(built["results"] / "reproduction.csv", dtype=str,
                        keep_default_na=False)
    short = table[table["grim_sizes"] != ""]
    assert len(short) >= 4
    for row in short.itertuples():
        cells = [row.description, row.published, row.reproduced, row.status, row.n]
        assert any(" ".join(cells) in line for line in lines), row.id


def test_no_raw_html_object_and_no_placeholder_text(built) -> None:
    text = normalise(built["layout"])
    for pattern in PLACEHOLDERS:
        found = re.search(pattern, text)
        assert not found, f"{pattern!r}: ...{text[max(0, found.start() - 80):found.end() + 80]}"
    assert "Synthetic data." in text  # the callout, rendered as a box with its text


def test_every_table_is_a_real_table_with_its_header_cells_in_order(built) -> None:
    tables = pipe_tables(built["markdown"])
    assert len(tables) >= 20
    raw = normalise(built["raw"])
    for table in tables:
        assert len(table[0]) <= 6, table[0]  # CSR layout: narrow enough for a portrait page
        assert " ".join(c for c in table[0] if c) in raw, table[0]


def test_each_column_header_stands_as_its_own_words(built) -> None:
    """Every word of every header cell is a word of the page, and no word of the page
    holds a word of one header cell run into a word of the next (as the 13-column paired
    table printed "ExcludedBaselineComparison" and "MedianHodges-")."""
    words = set(tokens(built["layout"]))
    for table in pipe_tables(built["markdown"]):
        header = table[0]
        for cell in header:
            for word in tokens(cell):
                assert word in words, (word, header)
        for left, right in zip(header, header[1:], strict=False):
            # a wrapped cell's words stand beside any word of the next cell's lines
            for end in tokens(left):
                for start in tokens(right):
                    if len(end) >= 3 and len(start) >= 3:  # "n" + "n" is in many words
                        joined = end + start
                        assert not [w for w in words if joined in w], (joined, header)


def test_no_two_words_overlap_and_none_leaves_the_text_area(built) -> None:
    """From the position of every word (pdftotext -bbox): on each page no two words'
    boxes overlap (columns printed on top of each other), and every word lies between the
    page's side margins (a table cut off or running off the page)."""
    pages = re.findall(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', built["bbox"],
                       re.DOTALL)
    assert pages
    box = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                     r'yMax="([\d.]+)">(.*?)</word>')
    for number, (width, body) in enumerate(pages, start=1):
        words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in
                 box.findall(body)]
        for x0, _, x1, _, w in words:
            assert x0 >= MARGIN_X - 2 and x1 <= float(width) - MARGIN_X + 2, (number, w)
        words.sort(key=lambda b: b[1])
        for i, (x0, y0, x1, y1, w) in enumerate(words):
            for a0, b0, a1, b1, v in words[i + 1:]:
                if b0 >= y1 - 1:  # sorted by top: no later word reaches this line
                    break
                overlap_x = min(x1, a1) - max(x0, a0)
                overlap_y = min(y1, b1) - max(y0, b0)
                assert overlap_x <= 0.5 or overlap_y <= 1, (number, w, v)


def test_the_intermediate_markdown_is_what_quarto_would_convert(built) -> None:
    """Outputs as Markdown (tables, callout), the figures as Quarto figures of the SVG
    files the figures step wrote (vectors in print), copied beside the report: no raw
    HTML."""
    md = built["markdown"]
    assert "::: {.callout-warning" in md
    assert "<table" not in md and "<div" not in md
    assert Path(built["pdf"]).read_bytes().startswith(b"%PDF")
    shown = re.findall(
        r'^!\[(.+)\]\(figures/(\w+)\.svg\)\{#fig-([\w-]+) fig-alt="(.+)"\}$', md, re.MULTILINE
    )
    names = ["means_by_visit", "rating_distribution", "trajectories", "subgroup_forest"]
    assert [name for _, name, _, _ in shown] == names
    for caption, name, label, alt in shown:
        assert label == name.replace("_", "-")
        assert len(caption) > 60 and len(alt) > 60, name
        assert (built["sources"] / "figures" / f"{name}.svg").read_bytes() == (
            built["results"] / "figures" / f"{name}.svg"
        ).read_bytes()


def test_every_figure_is_in_the_pdf_with_its_numbered_caption(built) -> None:
    """The four figures on the pages, each under its caption, numbered as Quarto numbers
    them; drawn as vectors, so no figure is a raster image (pdfimages, poppler's)."""
    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages (poppler-utils) is not installed")
    listing = subprocess.run(
        ["pdfimages", "-list", str(built["pdf"])], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert [line for line in listing if line.split()[2] == "image"] == []
    text = normalise(built["layout"])
    for number, start in enumerate(["Mean rating by visit", "Distribution of ratings by visit",
                                    "Individual trajectories", "Mean change from baseline"],
                                   start=1):
        assert f"Figure {number}: {start}" in text, start
