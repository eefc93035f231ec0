"""The report in Word (config report.docx), built here the way Quarto builds it (the
notebook's outputs as Markdown, captions numbered as Quarto's cross-references number them,
pandoc to docx: pandoc_routes.render_docx_with_pandoc), from the shipped trials' results, and read
back from the .docx's own XML."""

from __future__ import annotations

import re
import zipfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.e2e

TRIALS = ["fasoracetam_nfc1", "fasoracetam_saga"]


@pytest.fixture(scope="module")
def documents(reference_run, tmp_path_factory) -> dict[str, dict]:
    pytest.importorskip("pypandoc", reason="pypandoc-binary (dev group) is not installed")
    from trialreport.report.pandoc_routes import render_docx_with_pandoc

    out = {}
    for trial in TRIALS:
        docx = tmp_path_factory.mktemp(trial) / "report.docx"
        results = reference_run / "results" / trial
        render_docx_with_pandoc(
            ROOT / "reports" / "report.qmd",
            docx,
            {"trial": trial, "results_dir": str(results)},
            workdir=ROOT,
        )
        with zipfile.ZipFile(docx) as z:
            xml = z.read("word/document.xml").decode("utf-8")
            media = [n for n in z.namelist() if n.startswith("word/media/")]
        paragraphs = [
            re.sub(r"<[^>]+>", "", p).strip()
            for p in re.findall(  # (not <w:p />)
                r"<w:p(?:\s[^>]*[^/])?>(.*?)</w:p>", xml, re.DOTALL
            )
        ]
        out[trial] = {"xml": xml, "media": media, "paragraphs": paragraphs, "results": results}
    return out


@pytest.mark.parametrize("trial", TRIALS)
def test_tables_and_figures_are_numbered_in_order(documents, trial) -> None:
    text = "\n".join(documents[trial]["paragraphs"])
    tables = [int(n) for n in re.findall(r"^Table (\d+): ", text, re.MULTILINE)]
    figures = [int(n) for n in re.findall(r"^Figure (\d+): ", text, re.MULTILINE)]
    assert len(tables) >= 15 and tables == list(range(1, len(tables) + 1))
    assert len(figures) >= 3 and figures == list(range(1, len(figures) + 1))
    assert "{#tbl-" not in text and "{#fig-" not in text
    # every captioned table is a Word table (a long one continues in further tables)
    assert documents[trial]["xml"].count("<w:tbl>") >= len(tables)


@pytest.mark.parametrize("trial", TRIALS)
def test_every_drawn_figure_is_its_png(documents, trial) -> None:
    drawn = sorted((documents[trial]["results"] / "figures").glob("*.png"))
    text = "\n".join(documents[trial]["paragraphs"])
    shown = len(re.findall(r"^Figure \d+: ", text, re.MULTILINE))
    assert len(documents[trial]["media"]) == shown <= len(drawn)
    assert all(name.endswith(".png") for name in documents[trial]["media"])


def test_the_primary_endpoint_leads_and_nothing_is_left_as_markup(documents) -> None:
    text = "\n".join(documents["fasoracetam_saga"]["paragraphs"])
    assert text.index("Primary endpoint: Change from baseline in ADHD-RS total score") < text.index(
        "Means by visit"
    )
    for markup in (":::", "{.callout", "**", "\\|", "<IPython"):
        assert markup not in text, markup
    assert "Synthetic data." in text
