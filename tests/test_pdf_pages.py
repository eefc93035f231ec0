"""Every page of the PDF reports, as a reviewer looks at them: nothing runs into the bottom
margin, no heading stands alone at the foot of a page, no header cell breaks inside
"(N = n)", tables and figures are numbered in order, figures are vector drawings, and no page
is left mostly empty before what follows. For the two shipped trials and the three-arm ADaM
fixture, built the way Quarto builds the PDF (pandoc_routes.render_pdf_with_pandoc_typst).

Each check is also shown to catch its defect on a small Typst document that has it
(``test_*_check_sees_*``): a check that could not fail would prove nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pdf_pages as P
import pytest

from conftest import ROOT

pytestmark = pytest.mark.e2e

TRIALS = ["fasoracetam_nfc1", "fasoracetam_saga", "cdiscpilot_like"]


def _tools() -> None:
    if shutil.which("pdftohtml") is None:
        pytest.skip(
            "pdftohtml is not installed (Debian package poppler-utils; .ci/run "
            "installs it): the PDF cannot be read back"
        )
    pytest.importorskip("pypandoc", reason="pypandoc-binary (dev group) is not installed")
    pytest.importorskip("typst", reason="typst (dev group) is not installed")


def _three_arm_results(root: Path) -> Path:
    """The three-arm ADaM fixture through the stages, with its figures and provenance."""
    import adam_fixtures as fx
    from test_adam_delivery import run_stages
    from test_several_arms import _independent, three_arm_trial

    from trialreport.common.runner import write_trial_config
    from trialreport.figures.stage import write_figures
    from trialreport.provenance import provenance

    fx.write_three_arm(root / "adam")
    trial = three_arm_trial(_independent())
    out = run_stages(root, fx.THREE_ARM_ID, trial)
    for short, name in (("w", "warnings"), ("x", "exclusions")):
        (out / "validation" / f"{name}.csv").write_bytes(
            (out / "validation" / f"{short}.csv").read_bytes()
        )
    provenance(
        fx.THREE_ARM_ID,
        trial,
        {"ard": str(out / "ard.csv")},
        {n: str(root / trial["data"][n]["path"]) for n in trial["data"]},
        str(out / "provenance.json"),
    )
    write_trial_config(trial, out / "trial_config.json")
    write_figures(
        trial,
        str(out / "ard.csv"),
        str(out / "derived" / "efficacy.parquet"),
        str(out / "validated" / "subjects.parquet"),
        str(out / "figures"),
        trial_id=fx.THREE_ARM_ID,
    )
    return out


@pytest.fixture(scope="module")
def reports(reference_run, tmp_path_factory) -> dict[str, Path]:
    """Each report's PDF, by trial."""
    _tools()
    from trialreport.report.pandoc_routes import render_pdf_with_pandoc_typst

    results = {t: reference_run / "results" / t for t in TRIALS[:2]}
    results[TRIALS[2]] = _three_arm_results(tmp_path_factory.mktemp("three_arm"))
    out = {}
    for trial, folder in results.items():
        pdf = tmp_path_factory.mktemp(trial) / "report.pdf"
        render_pdf_with_pandoc_typst(
            ROOT / "reports" / "report.qmd",
            pdf,
            {"trial": trial, "results_dir": str(folder)},
            workdir=ROOT,
        )
        out[trial] = pdf
    return out


@pytest.fixture(scope="module")
def pages(reports) -> dict[str, list[P.Page]]:
    return {trial: P.read_pages(pdf) for trial, pdf in reports.items()}


@pytest.mark.parametrize("trial", TRIALS)
def test_no_text_runs_into_the_bottom_margin(pages, trial) -> None:
    found = [(p.number, t.text) for p in pages[trial] for t in P.below_margin(p)]
    assert found == []


@pytest.mark.parametrize("trial", TRIALS)
def test_no_heading_is_the_last_line_of_a_page(pages, trial) -> None:
    found = [(p.number, h.text) for p in pages[trial] if (h := P.heading_at_foot(p))]
    assert found == []


@pytest.mark.parametrize("trial", TRIALS)
def test_no_header_cell_breaks_inside_n(pages, trial) -> None:
    found = [(p.number, t.text) for p in pages[trial] for t in P.split_n(p)]
    assert found == []
    assert any("(N" in t.text for p in pages[trial] for t in p.texts)  # there are such cells


@pytest.mark.parametrize("trial", TRIALS)
def test_tables_and_figures_are_numbered_in_order(pages, trial) -> None:
    tables, figures = P.numbers(pages[trial], "Table"), P.numbers(pages[trial], "Figure")
    assert len(tables) >= 15 and len(figures) >= 2
    assert tables == list(range(1, len(tables) + 1))
    assert figures == list(range(1, len(figures) + 1))


@pytest.mark.parametrize("trial", TRIALS)
def test_figures_are_vector_drawings(reports, trial) -> None:
    """The figures are the SVG files (vectors) in the PDF, not PNG images."""
    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages (poppler-utils) is not installed")
    listing = subprocess.run(
        ["pdfimages", "-list", str(reports[trial])], capture_output=True, text=True, check=True
    ).stdout
    assert [line for line in listing.splitlines()[2:] if " image " in line] == []


@pytest.mark.parametrize("trial", TRIALS)
def test_no_page_is_left_mostly_empty(pages, trial) -> None:
    """Below the last line of a page at most 45% of its text area is empty (the last page
    aside): a table or figure that does not fit is not left to push the rest away."""
    shares = {p.number: round(P.blank_share(p), 2) for p in pages[trial][:-1]}
    assert {n: s for n, s in shares.items() if s > 0.45} == {}


# -- each check catches its defect ---------------------------------------------------------


def _compile(tmp_path: Path, source: str) -> list[P.Page]:
    _tools()
    import typst

    page = (
        '#set page(paper: "a4", margin: (x: 2cm, y: 2.5cm), numbering: "1")\n'
        "#set text(size: 10pt)\n"
    )
    (tmp_path / "doc.typ").write_text(page + source, encoding="utf-8")
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(typst.compile(str(tmp_path / "doc.typ")))
    return P.read_pages(pdf)


def test_the_heading_check_sees_a_heading_left_at_the_foot(tmp_path) -> None:
    body = "Text.\n#v(19cm)\n= A heading\n\n#block(height: 12cm, breakable: false)[#lorem(40)]\n"
    # (Typst keeps headings with what follows by default; the defect is made by hand)
    alone = _compile(tmp_path, "#show heading: set block(sticky: false)\n" + body)
    assert [h.text for p in alone if (h := P.heading_at_foot(p))] == ["A heading"]
    kept = _compile(tmp_path, "#show heading: set block(sticky: true)\n" + body)
    assert [h for p in kept if (h := P.heading_at_foot(p))] == []


def test_the_margin_check_sees_text_in_the_bottom_margin(tmp_path) -> None:
    over = _compile(tmp_path, "Text.\n#place(bottom, dy: 1.2cm)[A caption run too far]\n")
    assert [t.text for p in over for t in P.below_margin(p)] == ["A caption run too far"]
    inside = _compile(tmp_path, "Text.\n#place(bottom)[A caption in place]\n")
    assert [t for p in inside for t in P.below_margin(p)] == []


def test_the_header_check_sees_n_broken_across_lines(tmp_path) -> None:
    broken = _compile(tmp_path, "#table(columns: (2.4cm, 2cm), [Placebo (N = 52)], [x])\n")
    assert [t.text.strip() for p in broken for t in P.split_n(p)] != []
    whole = _compile(tmp_path, "#table(columns: (2.4cm, 2cm), [Placebo (N~=~52)], [x])\n")
    assert [t for p in whole for t in P.split_n(p)] == []


def test_the_numbering_check_sees_a_number_out_of_order(tmp_path) -> None:
    doc = _compile(tmp_path, "Table 1: a\n\nTable 3: b\n\nFigure 1: c\n")
    assert P.numbers(doc, "Table") == [1, 3] != [1, 2]
    assert P.numbers(doc, "Figure") == [1]


def test_the_blank_check_sees_a_page_left_half_empty(tmp_path) -> None:
    doc = _compile(tmp_path, "#lorem(200)\n\n#block(height: 18cm, breakable: false)[x]\n")
    assert P.blank_share(doc[0]) > 0.45
    assert P.blank_share(_compile(tmp_path, "#lorem(900)\n")[0]) < 0.1
