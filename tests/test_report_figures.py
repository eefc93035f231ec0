"""The report shows the figures the figures step wrote (results/<trial>/figures/*.png), one
source of truth: as Quarto figures (``![caption](figures/x.png){#fig-x fig-alt="..."}``)
with the caption and alt text of ``captions``, the files copied beside the private
copy of the report on both render paths; on the Jupyter path embedded as <figure> with a
data: URI. A figure with nothing to show is replaced by the reason
(``unavailable``), which names exactly the figures drawn as placeholders."""

from __future__ import annotations

import base64
import copy
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from test_adam_delivery import run_stages, three_arm

from trialreport.analyse.ard import read_ard
from trialreport.figures.captions import captions, unavailable
from trialreport.figures.data import FIGURE_NAMES, MAX_CATEGORIES
from trialreport.figures.means import means_by_visit_figure
from trialreport.figures.stage import build_figures, write_figures
from trialreport.report import figure_blocks
from trialreport.report.figure_blocks import figure_label, figure_markdown, figures_markdown
from trialreport.report.jupyter import copy_figures, figures_to_html, notebook_to_html
from trialreport.report.markdown import markdown_text
from trialreport.report.results import Results

from conftest import REFERENCE, REFERENCE_TRIAL, ROOT, reference_trial_config

SHOWN = re.compile(r'^!\[(.+)\]\(figures/(\w+)\.png\)'
                   r'\{#(fig-[\w-]+) fig-alt="((?:[^"\\]|\\.)*)"\}$')


class Trial:
    """A trial through every stage up to the tables, and its figures written."""

    def __init__(self, root: Path, trial_id: str, trial: dict):
        self.trial_id, self.trial = trial_id, trial
        self.out = run_stages(root, trial_id, trial)
        self.ard = read_ard(self.out / "ard.csv")
        self.efficacy = pd.read_parquet(self.out / "derived" / "efficacy.parquet")
        self.subjects = pd.read_parquet(self.out / "validated" / "subjects.parquet")

    def write_figures(self, trial: dict | None = None) -> None:
        write_figures(trial or self.trial, self.out / "ard.csv",
                              self.out / "derived" / "efficacy.parquet",
                              self.out / "validated" / "subjects.parquet",
                              self.out / "figures", trial_id=self.trial_id)

    def report(self, trial: dict | None = None, ard: pd.DataFrame | None = None) -> Results:
        return Results(self.trial_id, trial or self.trial,
                          self.ard if ard is None else ard, reproduction=pd.DataFrame(),
                          warnings=pd.DataFrame(), provenance={}, results_dir=self.out)

    def placeholders(self, trial: dict | None = None,
                     ard: pd.DataFrame | None = None) -> set[str]:
        """The figures built as a placeholder (a centred message, gid "placeholder")."""
        built = build_figures(self.ard if ard is None else ard, self.efficacy,
                                      self.subjects, trial or self.trial, self.trial_id)
        return {name for name, fig in built.items()
                if fig.findobj(lambda a: a.get_gid() == "placeholder")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Trial:
    import shutil

    root = tmp_path_factory.mktemp("reference")
    shutil.copytree(REFERENCE, root / "data" / REFERENCE_TRIAL)
    run = Trial(root, REFERENCE_TRIAL, reference_trial_config())
    run.write_figures()
    return run


@pytest.fixture(scope="module")
def several_arms(tmp_path_factory) -> Trial:
    """Three arms, ADAS-Cog 0-70 (too many categories for a rating distribution), no
    subgroups."""
    root = tmp_path_factory.mktemp("three_arm")
    trial = three_arm(root)
    trial["analyses"].pop("subgroups", None)
    return Trial(root, "three_arm", trial)


def without_subgroups(trial: dict) -> dict:
    trial = copy.deepcopy(trial)
    del trial["analyses"]["subgroups"]
    return trial


# ---------------------------------------------------------------------------------------
# unavailable: the reason for exactly the figures drawn as placeholders
# ---------------------------------------------------------------------------------------


NO_MMRM = {"mmrm_lsmeans"}
"""The MMRM's figure: a placeholder in these trials, whose configs have no MMRM (its own
tests are in tests/test_mmrm_workflow.py)."""
DRAWN = [name for name in FIGURE_NAMES if name not in NO_MMRM]


def test_the_reference_trial_draws_every_figure(reference) -> None:
    assert set(unavailable(reference.trial, reference.ard)) == NO_MMRM
    assert reference.placeholders() == NO_MMRM


def test_no_subgroups_in_the_config_is_the_reason_for_the_forest_plot(reference) -> None:
    trial = without_subgroups(reference.trial)
    why = unavailable(trial, reference.ard)
    assert set(why) == reference.placeholders(trial) == {"subgroup_forest", *NO_MMRM}
    assert "analyses.subgroups" in why["subgroup_forest"]


def test_no_subgroup_results_in_the_ard_is_the_reason(reference) -> None:
    ard = reference.ard[reference.ard["analysis"] != "subgroup"]
    why = unavailable(reference.trial, ard)
    assert set(why) == reference.placeholders(ard=ard) == {"subgroup_forest", *NO_MMRM}
    assert "no subgroup results" in why["subgroup_forest"]
    # one parameter's subgroup rows left: the forest plot is drawn
    ard = reference.ard[(reference.ard["analysis"] != "subgroup")
                        | (reference.ard["parameter"] == "CGIS")]
    assert set(unavailable(reference.trial, ard)) == NO_MMRM
    assert reference.placeholders(ard=ard) == NO_MMRM


def test_no_by_visit_results_leave_no_means_to_draw(reference) -> None:
    ard = reference.ard[reference.ard["analysis"] != "by_visit"]
    why = unavailable(reference.trial, ard)
    assert {"means_by_visit", "trajectories", "rating_distribution"} <= set(why)
    assert means_by_visit_figure(ard, reference.trial).findobj(
        lambda a: a.get_gid() == "placeholder")


def test_too_many_categories_is_the_reason_for_the_rating_distribution(several_arms) -> None:
    why = unavailable(several_arms.trial, several_arms.ard)
    assert set(why) == several_arms.placeholders() == {"rating_distribution",
                                                       "subgroup_forest", *NO_MMRM}
    assert f"at most {MAX_CATEGORIES} categories" in why["rating_distribution"]


# ---------------------------------------------------------------------------------------
# figure_blocks.figure_markdown: the files, their captions and alt texts, or the reason
# ---------------------------------------------------------------------------------------


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_each_figure_is_its_file_with_the_caption_and_alt_text_written_into_it(
        reference) -> None:
    texts = captions(reference.trial, reference.ard, REFERENCE_TRIAL)
    report = reference.report()
    assert "MMRM LS means by visit: not drawn." in figure_markdown(report, "mmrm_lsmeans")
    for name in DRAWN:
        shown = SHOWN.match(figure_markdown(report, name))
        assert shown, figure_markdown(report, name)
        caption, file, label, alt = shown.groups()
        assert (file, label) == (name, figure_label(name))
        assert unescape(caption) == texts[name][0]
        assert unescape(alt) == " ".join(texts[name][1].split())
        assert (reference.out / "figures" / f"{name}.png").exists()
    both = figures_markdown(report, ["rating_distribution", "trajectories"]).split("\n\n")
    assert [SHOWN.match(b).group(2) for b in both] == ["rating_distribution", "trajectories"]


def test_a_figure_that_cannot_be_drawn_is_replaced_by_its_reason(reference) -> None:
    trial = without_subgroups(reference.trial)
    text = figure_markdown(reference.report(trial), "subgroup_forest")
    assert not SHOWN.match(text) and "figures/" not in text
    assert text == ("**Forest plot of the subgroups: not drawn.** The trial's config names no "
                    "subgroup variables (analyses.subgroups).")
    assert SHOWN.match(figure_markdown(reference.report(trial), "means_by_visit"))


def test_a_missing_figure_file_is_said_not_shown(reference, tmp_path) -> None:
    report = reference.report()
    report.results_dir = tmp_path
    text = figure_markdown(report, "trajectories")
    assert "not drawn" in text and "did not write figures/trajectories.png" in text


def test_the_report_shows_every_figure_from_the_files_not_drawn_by_itself() -> None:
    sections = sorted((ROOT / "src" / "trialreport" / "report" / "sections").glob("*.py"))
    source = "".join(p.read_text(encoding="utf-8") for p in sections)
    called = re.findall(r"figures?_markdown\(r, (\[[^\]]*\]|\"\w+\")\)", source)
    names = re.findall(r"\"(\w+)\"", " ".join(called))
    assert sorted(names) == sorted(FIGURE_NAMES)
    qmd = (ROOT / "reports" / "report.qmd").read_text(encoding="utf-8")
    for text in (qmd, source):
        assert "matplotlib" not in text and "_figure(" not in text
    assert not hasattr(figure_blocks, "means_by_visit_figure")


# ---------------------------------------------------------------------------------------
# the Jupyter path: <figure> with a data: URI; both paths: the files beside the report
# ---------------------------------------------------------------------------------------


class Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []
        self._caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self.found.append({"id": attrs.get("id")})
        elif tag == "img":
            self.found[-1] |= {"src": attrs["src"], "alt": attrs["alt"]}
        elif tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self.found[-1]["caption"] = "".join(self._caption)
            self._caption = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)


def test_the_jupyter_page_embeds_each_figure_with_alt_text_and_numbered_caption(
        reference, tmp_path) -> None:
    copy_figures({"results_dir": str(reference.out)}, tmp_path)
    report = reference.report()
    texts = captions(reference.trial, reference.ard, REFERENCE_TRIAL)
    cell = nbformat.v4.new_code_cell("show()", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": figures_markdown(report,
            DRAWN), "text/plain": "<Markdown>"})])
    page = notebook_to_html(nbformat.v4.new_notebook(cells=[cell]), "t", folder=tmp_path)
    parsed = Figures()
    parsed.feed(page)
    assert len(parsed.found) == len(DRAWN)
    for number, (name, shown) in enumerate(zip(DRAWN, parsed.found,
                                               strict=True), start=1):
        assert shown["id"] == figure_label(name)
        assert shown["alt"] == " ".join(texts[name][1].split())
        assert shown["caption"] == f"Figure {number}: {texts[name][0]}"
        kind, data = shown["src"].split(",", 1)
        assert kind == "data:image/png;base64"
        assert base64.b64decode(data) == (reference.out / "figures" / f"{name}.png").read_bytes()
    assert "figures/" not in page.replace('id="fig-', "")  # no path to a file left


def test_markup_in_a_caption_or_alt_text_is_shown_as_text(tmp_path) -> None:
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "x.png").write_bytes(b"\x89PNG fake")
    caption = 'A *starred* [bracketed] <b>not bold</b> & "quoted" caption_with_underscores'
    alt = 'Alt with "quotes" and a back\\slash'
    escaped_alt = alt.replace("\\", "\\\\").replace('"', '\\"')
    md = f'![{markdown_text(caption)}](figures/x.png){{#fig-x fig-alt="{escaped_alt}"}}'
    parsed = Figures()
    parsed.feed(figures_to_html(md, tmp_path, {}))
    assert parsed.found == [{"id": "fig-x", "src": "data:image/png;base64,"
                             + base64.b64encode(b"\x89PNG fake").decode(),
                             "alt": alt, "caption": f"Figure 1: {caption}"}]


def test_a_figure_whose_file_is_missing_stops_the_page(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="figures/gone.png"):
        figures_to_html("![c](figures/gone.png){#fig-gone fig-alt=\"a\"}", tmp_path, {})


def test_quarto_renders_with_the_figures_beside_the_report(
    reference, monkeypatch, tmp_path
) -> None:
    """The private folder quarto render runs in holds figures/<name>.png and .svg, the
    files of the figures step, where the report's Markdown points (PNG in HTML and Word,
    SVG in the PDF)."""
    from trialreport.report import render

    seen = {}

    def fake_run(args, cwd=None, check=False, env=None, **kwargs):
        if args[-1:] == ["--version"]:
            return subprocess.CompletedProcess(args, 0, stdout="1.7.32\n")
        seen.update({p.name: p.read_bytes() for p in (Path(cwd) / "figures").glob("*")})
        (Path(cwd) / "report.html").write_bytes(b"rendered")
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setenv("TRIALREPORT_RENDERER", "quarto")
    monkeypatch.setattr(render.subprocess, "run", fake_run)
    render.render_report(
        ROOT / "reports" / "report.qmd",
        tmp_path / "r.html",
        {"trial": REFERENCE_TRIAL, "results_dir": str(reference.out)},
    )
    assert seen == {
        f"{name}.{fmt}": (reference.out / "figures" / f"{name}.{fmt}").read_bytes()
        for name in FIGURE_NAMES
        for fmt in ("png", "svg")
    }
