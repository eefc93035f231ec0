"""Rendering the .qmd without Quarto: cells, parameters and a self-contained page."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from trialreport.report.jupyter import asis_as_markdown, notebook_to_html, qmd_to_notebook
from trialreport.report.render import choose_renderer

from conftest import ROOT

QMD = """---
title: "A report"
---

Some *markdown*.

```{python}
#| tags: [parameters]
trial = "default"
```

## Section

```{python}
print(trial)
```

Closing words.
"""


def test_qmd_becomes_markdown_and_code_cells_with_parameters_injected() -> None:
    nb, front = qmd_to_notebook(QMD, {"trial": "mine", "n": 3})
    assert front["title"] == "A report"
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "markdown", "code", "code", "markdown", "code", "markdown"]
    injected = nb.cells[3].source
    assert "trial = 'mine'" in injected and "n = 3" in injected
    assert nb.cells[5].source == "print(trial)"
    assert nb.cells[-1].source == "Closing words."


def test_cell_ids_are_the_same_on_every_conversion_so_the_page_is_too() -> None:
    # nbformat's own ids are random; a page that differs run to run breaks the promise of
    # byte-identical results (and the comparison of a SLURM run with a local one).
    first, _ = qmd_to_notebook(QMD, {"trial": "mine"})
    second, _ = qmd_to_notebook(QMD, {"trial": "mine"})
    ids = [cell.id for cell in first.cells]
    assert ids == [f"cell-{i}" for i in range(len(first.cells))]
    assert ids == [cell.id for cell in second.cells]
    nbformat.validate(first)
    page = notebook_to_html(first, "A report")
    assert 'id="cell-id=cell-0"' in page
    assert page == notebook_to_html(second, "A report")


def test_a_report_without_a_parameters_cell_is_refused() -> None:
    with pytest.raises(ValueError, match="parameters"):
        qmd_to_notebook("```{python}\nx = 1\n```\n", {"trial": "x"})


def test_the_shipped_report_has_a_parameters_cell_and_plain_cells_only() -> None:
    text = (ROOT / "reports" / "report.qmd").read_text(encoding="utf-8")
    nb, front = qmd_to_notebook(text, {"trial": "t", "results_dir": "r", "renderer": "x"})
    assert front["format"]["html"]["embed-resources"] is True
    assert any("Injected parameters" in c.source for c in nb.cells)
    # Quarto-only syntax (callouts, divs, shortcodes) would show as raw text on the Jupyter path.
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert ":::" not in markdown and "{{<" not in markdown


def test_what_an_asis_cell_prints_is_markdown_and_other_output_is_left_alone() -> None:
    """Quarto puts the output of ``output: asis`` into the document as it is; the Jupyter
    path makes it a Markdown output, so its headings are rendered as headings."""
    stream = nbformat.v4.new_output("stream", name="stdout", text="## A heading\n\n")
    second = nbformat.v4.new_output("stream", name="stdout", text="| a |\n|---|\n| 1 |\n")
    error = nbformat.v4.new_output("stream", name="stderr", text="a warning\n")
    asis = nbformat.v4.new_code_cell("#| output: asis\nprint(x)")
    asis.outputs = [stream, error, second]
    plain = nbformat.v4.new_code_cell("print(x)")
    plain.outputs = [nbformat.v4.new_output("stream", name="stdout", text="## not one\n")]
    nb = asis_as_markdown(nbformat.v4.new_notebook(cells=[asis, plain]))
    assert nb.cells[0].outputs[0]["data"] == {
        "text/markdown": "## A heading\n\n| a |\n|---|\n| 1 |\n"}
    assert [o["output_type"] for o in nb.cells[0].outputs] == ["display_data", "stream"]
    assert nb.cells[1].outputs[0]["output_type"] == "stream"
    page = notebook_to_html(nb, "t")
    assert re.search(r"<h2[^>]*>A heading", page) and "## not one" in page


def test_html_page_requests_nothing_from_elsewhere() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title\n\ntext")])
    page = notebook_to_html(nb, "T")
    assert "<h1" in page and "text" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page


def test_the_report_names_every_program_that_laid_it_out(monkeypatch, tmp_path) -> None:
    """Quarto's own version, its pandoc's and its Typst's (a stand-in quarto on PATH), or
    the Jupyter path's nbclient and nbconvert."""
    from importlib.metadata import version

    from trialreport.report.render import renderer_description

    fake = tmp_path / "quarto"
    fake.write_text(
        '#!/bin/sh\ncase "$1" in\n  pandoc) echo "pandoc 3.6.3"; echo x;;\n'
        '  typst) echo "typst 0.13.1 (8ace67d9)";;\n  *) echo "1.10.19";;\nesac\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert (
        renderer_description("quarto") == "Quarto 1.10.19 (pandoc 3.6.3, Typst 0.13.1 (8ace67d9))"
    )
    assert renderer_description("jupyter") == (
        f"Jupyter without Quarto (nbclient {version('nbclient')}, nbconvert {version('nbconvert')})"
    )
    fake.write_text("#!/bin/sh\nexit 3\n")
    assert (
        renderer_description("quarto")
        == "Quarto unknown version (pandoc unknown version, Typst unknown version)"
    )


def test_renderer_can_be_forced(monkeypatch) -> None:
    monkeypatch.setenv("TRIALREPORT_RENDERER", "jupyter")
    assert choose_renderer() == "jupyter"
    monkeypatch.setenv("TRIALREPORT_RENDERER", "quarto")
    assert choose_renderer() == "quarto"


def test_a_pdf_without_quarto_is_refused_with_how_to_get_it(monkeypatch, tmp_path) -> None:
    from trialreport.common.runner import StageError
    from trialreport.report.render import render_report

    monkeypatch.setenv("TRIALREPORT_RENDERER", "jupyter")
    with pytest.raises(StageError, match="pip install quarto-cli"):
        render_report(ROOT / "reports" / "report.qmd", tmp_path / "r.pdf", {"trial": "t"},
                      to="pdf")
    assert not (tmp_path / "r.pdf").exists()


@pytest.mark.parametrize(("to", "quarto_format", "suffix"),
                         [("html", "html", ".html"), ("pdf", "typst", ".pdf")])
def test_quarto_is_called_with_the_format_and_every_parameter(monkeypatch, tmp_path, to,
                                                              quarto_format, suffix) -> None:
    """A stand-in for the quarto binary records its command line and writes the output."""
    import subprocess

    from trialreport.report import render

    calls = []

    def fake_run(args, cwd=None, check=False, env=None, **kwargs):
        if args[-1:] == ["--version"]:  # asked for the log and the report's provenance
            return subprocess.CompletedProcess(
                args,
                0,
                stdout={
                    "pandoc": "pandoc 3.6.3\nFeatures: +server +lua\n",
                    "typst": "typst 0.13.1 (8ace67d9)\n",
                }.get(args[1], "1.7.32\n"),
            )
        calls.append(args)
        # Quarto is pinned to this interpreter, whatever the shell has, and papermill
        # (which Quarto's Jupyter engine needs for -P parameters) is installed there
        assert env["QUARTO_PYTHON"] == sys.executable
        assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
        # ... and so is the report's kernel, `jupyter: python3`, ahead of the user's own
        first = Path(env["JUPYTER_PATH"].split(os.pathsep)[0])
        spec = json.loads((first / "kernels" / "python3" / "kernel.json").read_text())
        assert spec["argv"][0] == sys.executable
        assert env["JUPYTER_PATH"].split(os.pathsep)[1:] == ["/home/user/other-kernels"]
        (Path(cwd) / ("report" + suffix)).write_bytes(b"rendered")
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setenv("TRIALREPORT_RENDERER", "quarto")
    monkeypatch.setenv("QUARTO_PYTHON", "/usr/bin/some-other-python")
    monkeypatch.setenv("JUPYTER_PATH", "/home/user/other-kernels")
    monkeypatch.setattr(render.subprocess, "run", fake_run)
    out = tmp_path / ("out" + suffix)
    used = render.render_report(ROOT / "reports" / "report.qmd", out,
                                {"trial": "t1", "results_dir": "/abs/results/t1"}, to=to)
    assert used == "quarto"
    assert calls == [
        [
            "quarto",
            "render",
            "report.qmd",
            "--to",
            quarto_format,
            "-P",
            "trial:t1",
            "-P",
            "results_dir:/abs/results/t1",
            "-P",
            "renderer:Quarto 1.7.32 (pandoc 3.6.3, Typst 0.13.1 (8ace67d9))",
            "-P",
            f"output_format:{to}",
        ]
    ]
    assert out.read_bytes() == b"rendered"


def test_papermill_is_installed_for_quartos_parameters() -> None:
    """Quarto's Jupyter engine needs papermill for `quarto render -P`; it is locked."""
    import importlib.util

    assert importlib.util.find_spec("papermill") is not None
    import papermill

    assert papermill.__version__


def test_the_pinned_kernel_runs_this_interpreter_over_a_users_python3_kernel(tmp_path) -> None:
    """A real kernel start through Jupyter's own lookup, as Quarto's Jupyter engine does
    it: a decoy `python3` kernel of another Python on the user's JUPYTER_PATH loses to
    the spec the render writes, and the cell reports this interpreter."""
    import subprocess

    from trialreport.report.render import quarto_environment, write_kernelspec

    decoy = tmp_path / "user" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(json.dumps(
        {"argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f",
                  "{connection_file}"], "display_name": "other", "language": "python"}))
    base = dict(os.environ, JUPYTER_PATH=str(tmp_path / "user"))
    env = quarto_environment(base, jupyter_dir=write_kernelspec(tmp_path / "pinned"))
    probe = ("import nbformat, nbclient\n"
             "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("
             "'import sys; print(sys.executable)')])\n"
             "nbclient.NotebookClient(nb, kernel_name='python3', timeout=120).execute()\n"
             "print(nb.cells[0].outputs[0]['text'].strip())\n")
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == sys.executable
    # without the pinned spec the decoy is what Jupyter would start
    done = subprocess.run([sys.executable, "-c", probe], env=base, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode != 0 and "/nonexistent/python" in done.stderr
