"""Render the parameterised Quarto report, with Quarto or, where it is missing, with Jupyter.

With Quarto on the PATH (quarto.org, or ``pip install quarto-cli``) the report is rendered by
``quarto render <qmd> -P name:value ...``. Without it, the same .qmd is turned into a
notebook (markdown and ``{python}`` cells; parameters injected after the cell tagged
``parameters``, as Quarto and papermill do), executed by nbclient and written as one
self-contained HTML page by nbconvert. Either way the sources are copied to a private
temporary folder first, so several trials can render at once.

The renderer used is logged, and passed to the report as the parameter ``renderer``.
``TRIALREPORT_RENDERER=jupyter`` or ``=quarto`` forces a path.

The report shows everything as Markdown (pipe tables, Quarto callouts, figures as
``![caption](figures/x.png){#fig-x fig-alt="..."}`` of the PNG files the figures step wrote,
which ``copy_figures`` puts beside the private copy), which Quarto turns into native HTML
and Typst; on the Jupyter path nbconvert renders the Markdown, callouts
made boxed notes first (``callouts_to_html``). ``render_pdf_with_pandoc_typst`` builds the
PDF by Quarto's route (Markdown -> pandoc -> Typst -> typst) without Quarto, for tests.
"""

from __future__ import annotations

import base64
import copy
import html
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

from trialreport.common.files import atomic_write_bytes

log = logging.getLogger("trialreport")

CELL = re.compile(r"^```\{python[^}]*\}[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def choose_renderer() -> str:
    forced = os.environ.get("TRIALREPORT_RENDERER", "").strip().lower()
    if forced in ("quarto", "jupyter"):
        return forced
    return "quarto" if shutil.which("quarto") else "jupyter"


def qmd_to_notebook(text: str, params: Mapping[str, Any]) -> tuple[nbformat.NotebookNode, dict]:
    """Split a .qmd into notebook cells; inject ``params`` after the parameters cell."""
    front = {}
    match = FRONT_MATTER.match(text)
    if match:
        front = yaml.safe_load(match.group(1)) or {}
        text = text[match.end():]
    cells = []
    title = front.get("title")
    if title:  # the page title (the PDF route takes it from the front matter instead)
        cells.append(nbformat.v4.new_markdown_cell(f"# {title}",
                                                   metadata={"trialreport": "title"}))
    position = 0
    saw_parameters = False
    for cell in CELL.finditer(text):
        markdown = text[position:cell.start()].strip()
        if markdown:
            cells.append(nbformat.v4.new_markdown_cell(markdown))
        source = cell.group(1).rstrip("\n")
        options = [line for line in source.splitlines() if line.startswith("#|")]
        cells.append(nbformat.v4.new_code_cell(source))
        if any("parameters" in line and "tags" in line for line in options):
            saw_parameters = True
            assignments = "\n".join(f"{k} = {v!r}" for k, v in params.items())
            cells.append(nbformat.v4.new_code_cell("# Injected parameters\n" + assignments))
        position = cell.end()
    tail = text[position:].strip()
    if tail:
        cells.append(nbformat.v4.new_markdown_cell(tail))
    if params and not saw_parameters:
        raise ValueError("the report has no code cell tagged 'parameters'")
    for number, made in enumerate(cells):
        # nbformat gives each new cell a random id, which nbconvert writes into the page;
        # numbered ids keep the same report byte-identical from one run to the next.
        made["id"] = f"cell-{number}"
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook, front


CALLOUT = re.compile(r"^:::+[ \t]*\{\.callout-(\w+)([^}\n]*)\}[ \t]*\n(.*?)^:::+[ \t]*$",
                     re.MULTILINE | re.DOTALL)


def callouts_to_html(markdown: str) -> str:
    """Quarto callouts (``::: {.callout-warning} ... :::``) as HTML blocks for nbconvert,
    which knows no fenced divs: a ``div`` of class ``callout callout-<type>`` (styled by
    report.css) whose content stays Markdown."""
    def block(match: re.Match) -> str:
        kind, attributes, body = match.groups()
        title = re.search(r'title="([^"]*)"', attributes)
        head = (f'<p class="callout-title">{html.escape(title.group(1))}</p>\n\n'
                if title else "")
        return (f'<div class="callout callout-{kind}">\n\n{head}{body.strip()}\n\n'
                "</div>")

    return CALLOUT.sub(block, markdown)


FIGURE = re.compile(r'^!\[((?:[^\]\\]|\\.)*)\]\(([^)\s]+\.png)\)'
                    r'\{#([\w-]+)(?:\s+fig-alt="((?:[^"\\]|\\.)*)")?\}[ \t]*$', re.MULTILINE)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def figures_to_html(markdown: str, folder: Path, numbers: dict[str, int]) -> str:
    """Quarto figures (``![caption](figures/x.png){#fig-x fig-alt="..."}``, as
    ``figure_blocks.figure_markdown`` writes them) as HTML for nbconvert, which knows no
    attributes: ``<figure id="fig-x">`` holding the PNG as a ``data:`` URI (so the page
    stays self-contained), its alt text, and the caption numbered as Quarto numbers it
    ("Figure 1: ..."). ``folder`` is where the image paths lead from; ``numbers`` maps the
    labels seen so far to their numbers, and is updated."""
    def block(match: re.Match) -> str:
        caption, src, label, alt = match.groups()
        image = folder / src
        if not image.is_file():
            raise FileNotFoundError(f"the report shows figure {src}, but {image} is missing")
        number = numbers.setdefault(label, len(numbers) + 1)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        alt_text = html.escape(_unescape(alt or ""), quote=True)
        return (f'<figure id="{html.escape(label)}" class="figure">'
                f'<img src="data:image/png;base64,{data}" alt="{alt_text}">'
                f"<figcaption>Figure {number}: {html.escape(_unescape(caption))}"
                "</figcaption></figure>")

    return FIGURE.sub(block, markdown)


def copy_figures(params: Mapping[str, Any], dest: Path) -> None:
    """The figures the workflow's figures step wrote (``<results_dir>/figures/*.png``),
    copied to ``dest/figures`` beside the private copy of the report, where its Markdown
    (``figures/<name>.png``) finds them."""
    source = Path(str(params.get("results_dir", ""))) / "figures"
    if not params.get("results_dir") or not source.is_dir():
        return
    (dest / "figures").mkdir(parents=True, exist_ok=True)
    for image in sorted(source.glob("*.png")):
        shutil.copy2(image, dest / "figures" / image.name)


def execute_qmd(qmd: Path, params: Mapping[str, Any], workdir: Path,
                timeout: int = 600) -> tuple[nbformat.NotebookNode, dict]:
    """The .qmd as a notebook, executed by nbclient in ``workdir``; and its front matter."""
    from nbclient import NotebookClient

    notebook, front = qmd_to_notebook(qmd.read_text(encoding="utf-8"), params)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return asis_as_markdown(notebook), front


def asis_as_markdown(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a cell with ``#| output: asis`` printed, as one Markdown output: Quarto puts such
    output into the document as it is, so its headings are the document's own; nbconvert
    and the PDF route then render it as Markdown too. Other outputs stay as they are."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or _cell_options(cell.source).get("output") != "asis":
            continue
        printed = "".join(o.get("text", "") for o in cell.get("outputs", [])
                          if o.get("output_type") == "stream" and o.get("name") == "stdout")
        rest = [o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stdout")]
        if printed:
            rest.insert(0, nbformat.v4.new_output("display_data",
                                                  data={"text/markdown": printed}))
        cell.outputs = rest
    return notebook


def notebook_to_html(notebook: nbformat.NotebookNode, title: str, css: str = "",
                     folder: Path | None = None) -> str:
    """One self-contained page: no script, stylesheet, font or image is fetched from
    elsewhere.

    ``css`` is inlined: the report's own stylesheet (``reports/report.css``, which Quarto
    embeds on its path too). Figures (``figures_to_html``) are embedded from ``folder``
    (the private copy of the report's folder; the working directory if not given).
    """
    from nbconvert import HTMLExporter

    folder = Path(folder) if folder is not None else Path.cwd()
    numbers: dict[str, int] = {}
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = figures_to_html(callouts_to_html(cell.source), folder, numbers)
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                output["data"]["text/markdown"] = figures_to_html(callouts_to_html(
                    output["data"]["text/markdown"]), folder, numbers)
    exporter = HTMLExporter(template_name="basic", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>\n{css}</style>\n</head>\n"
            f"<body class=\"tr-page\">\n{body}\n</body>\n</html>\n")


def render_with_jupyter(qmd: Path, output: Path, params: Mapping[str, Any],
                        workdir: Path, timeout: int = 600) -> None:
    notebook, front = execute_qmd(qmd, params, workdir, timeout)
    stylesheet = qmd.parent / "report.css"
    css = stylesheet.read_text(encoding="utf-8") if stylesheet.exists() else ""
    page = notebook_to_html(notebook, str(front.get("title", qmd.stem)), css, qmd.parent)
    atomic_write_bytes(output, page.encode("utf-8"))


QUARTO_FORMATS = {"html": ("html", ".html"), "pdf": ("typst", ".pdf")}


KERNEL_NAME = "python3"  # the report's `jupyter: python3`


def write_kernelspec(folder: Path) -> Path:
    """A Jupyter kernel spec named ``python3`` under ``folder/kernels`` that starts this
    interpreter by its absolute path; ``folder`` is then put first on ``JUPYTER_PATH``, so
    Quarto runs the report in this environment even where the user has a ``python3``
    kernel of another Python (``~/.local/share/jupyter/kernels``, a conda base ...)."""
    import json

    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {sys.version.split()[0]} (trialreport, {sys.prefix})",
        "language": "python",
    }, indent=1), encoding="utf-8")
    return folder


def quarto_environment(base: Mapping[str, str] | None = None,
                       jupyter_dir: Path | None = None) -> dict[str, str]:
    """The environment ``quarto render`` runs in: pinned to the interpreter running the
    workflow, whatever the user's shell has. ``QUARTO_PYTHON`` is this interpreter
    (``sys.executable``), so Quarto's Jupyter engine, papermill (which it needs for ``-P``
    parameters) and ``trialreport`` are this environment's; its folder goes first on
    ``PATH``; and ``jupyter_dir`` (from ``write_kernelspec``), first on ``JUPYTER_PATH``,
    makes the ``python3`` kernel this interpreter too."""
    env = dict(os.environ if base is None else base)
    env["QUARTO_PYTHON"] = sys.executable
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if jupyter_dir is not None:
        rest = env.get("JUPYTER_PATH", "")
        env["JUPYTER_PATH"] = str(jupyter_dir) + (os.pathsep + rest if rest else "")
    return env


def quarto_version(env: Mapping[str, str] | None = None) -> str:
    """``quarto --version`` and where that quarto is, for the log."""
    found = shutil.which("quarto", path=(env or os.environ).get("PATH"))
    try:
        version = subprocess.check_output(["quarto", "--version"], text=True,
                                          env=dict(env or os.environ), timeout=60).strip()
    except (OSError, subprocess.SubprocessError):
        version = "unknown version"
    return f"{version} ({found or 'quarto not found on PATH'})"


def render_with_quarto(qmd: Path, output: Path, params: Mapping[str, Any],
                       to: str = "html") -> None:
    """``quarto render`` in the private folder, in ``quarto_environment()``; ``to="pdf"``
    goes through Typst. The log says which Quarto and which Python rendered."""
    from trialreport.common.runner import StageError

    quarto_format, suffix = QUARTO_FORMATS[to]
    args = ["quarto", "render", qmd.name, "--to", quarto_format]
    for key, value in params.items():
        args += ["-P", f"{key}:{value}"]
    with tempfile.TemporaryDirectory(prefix="trialreport-kernel-") as jupyter_dir:
        env = quarto_environment(jupyter_dir=write_kernelspec(Path(jupyter_dir)))
        log.info("quarto: %s; QUARTO_PYTHON: %s (Python %s); kernel %s: %s",
                 quarto_version(env), env["QUARTO_PYTHON"], sys.version.split()[0],
                 KERNEL_NAME, sys.executable)
        done = subprocess.run(args, cwd=qmd.parent, check=False, env=env)
    produced = qmd.with_suffix(suffix)
    if done.returncode != 0 or not produced.exists():
        raise StageError(f"quarto render failed (exit status {done.returncode}); its "
                         "messages are above")
    atomic_write_bytes(output, produced.read_bytes())


def render_report(qmd: str | Path, output: str | Path, params: Mapping[str, Any],
                  workdir: str | Path = ".", to: str = "html") -> str:
    """Render ``qmd`` to ``output`` as ``to`` (``html``, or ``pdf`` which needs Quarto);
    returns the renderer used (``quarto`` or ``jupyter``)."""
    from trialreport.common.runner import StageError

    qmd, output, workdir = Path(qmd), Path(output), Path(workdir).resolve()
    renderer = choose_renderer()
    if to == "pdf" and renderer != "quarto":
        raise StageError("a PDF report needs Quarto (it renders the PDF through Typst, which "
                         "it bundles): pip install quarto-cli, or install it from quarto.org. "
                         "The HTML report does not need it; set report.pdf: false in the "
                         "config to build only the HTML.")
    params = dict(params) | {"renderer": renderer}
    log.info("rendering %s as %s with %s", qmd, to, renderer if renderer == "quarto"
             else "Jupyter (nbclient + nbconvert): Quarto is not installed")
    with tempfile.TemporaryDirectory(prefix="trialreport-render-") as tmp:
        for source in qmd.parent.iterdir():
            if source.is_file():
                shutil.copy2(source, Path(tmp) / source.name)
        copy_figures(params, Path(tmp))
        private = Path(tmp) / qmd.name
        if renderer == "quarto":
            render_with_quarto(private, output, params, to)
        else:
            render_with_jupyter(private, output, params, workdir)
    return renderer


# -- The PDF route without Quarto: Markdown -> pandoc -> Typst -> typst ---------------------
# Quarto makes its PDF by executing the notebook, writing the outputs as Markdown (images
# as files), converting that with pandoc to Typst and compiling it with typst. The same
# route, with pandoc from pypandoc-binary and the typst package (both in the dev group),
# lets the PDF be built, looked at and tested where Quarto is not installed. The workflow
# itself still needs Quarto for report.pdf.

FENCE_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*)$")

# Callouts as Quarto's Typst output shows them: a box with a coloured border.
CALLOUT_FILTER = r"""
local colours = {warning = "#d9480f", important = "#c92a2a", caution = "#e67700",
                 note = "#1971c2", tip = "#2b8a3e"}
function Div(el)
  for _, class in ipairs(el.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind then
      local colour = colours[kind] or "#495057"
      local blocks = {pandoc.RawBlock("typst", string.format(
        '#block(width: 100%%, inset: 8pt, radius: 2pt, fill: rgb("%s").lighten(90%%), '
        .. 'stroke: (left: 3pt + rgb("%s"), rest: 0.5pt + rgb("%s")))[', colour, colour,
        colour))}
      if el.attributes.title then
        table.insert(blocks, pandoc.Para({pandoc.Strong(pandoc.Str(el.attributes.title))}))
      end
      for _, block in ipairs(el.content) do table.insert(blocks, block) end
      table.insert(blocks, pandoc.RawBlock("typst", "]"))
      return blocks
    end
  end
end
"""


def _cell_options(source: str) -> dict[str, str]:
    options = {}
    for line in source.splitlines():
        match = FENCE_OPTION.match(line)
        if match:
            options[match.group(1)] = yaml.safe_load(match.group(2))
    return options


def markdown_of_notebook(notebook: nbformat.NotebookNode, front: Mapping[str, Any],
                         media: Path, metadata: Mapping[str, Any] | None = None) -> str:
    """An executed notebook as one Markdown document, as Quarto writes it before pandoc:
    a YAML block (the title and ``metadata``), the Markdown cells, and each output as
    Markdown: ``text/markdown`` as it is, PNG images as files in ``media`` (with the
    cell's ``fig-cap`` and ``label``), anything else as its plain text in a code block
    (so a raw HTML object shows as Quarto shows it in a PDF: its repr)."""
    media.mkdir(parents=True, exist_ok=True)
    head = dict(metadata or {})
    if front.get("title"):
        head["title"] = front["title"]
    parts = ["---\n" + yaml.safe_dump(head, sort_keys=False, allow_unicode=True) + "---"]
    figures = 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            if cell.metadata.get("trialreport") != "title":
                parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        options = _cell_options(cell.source)
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                parts.append("```\n" + output.get("text", "").rstrip("\n") + "\n```")
            elif kind == "error":
                raise RuntimeError(f"a cell of the report failed: {output.get('ename')}: "
                                   f"{output.get('evalue')}")
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if "text/markdown" in data:
                    parts.append(data["text/markdown"])
                elif "image/png" in data:
                    figures += 1
                    name = f"figure-{figures}.png"
                    (media / name).write_bytes(base64.b64decode(data["image/png"]))
                    label = options.get("label")
                    attributes = f"{{#{label}}}" if label else ""
                    parts.append(f"![{options.get('fig-cap', '')}]({media.name}/{name})"
                                 + attributes)
                elif "text/plain" in data:
                    parts.append("```\n" + data["text/plain"].rstrip("\n") + "\n```")
    return "\n\n".join(part.strip("\n") for part in parts if part.strip()) + "\n"


def typst_options(qmd: Path) -> dict[str, Any]:
    """The Typst format's options for the page (paper, margins, font size, table of
    contents) from ``_quarto.yml`` beside the report, overridden by its front matter:
    the ones Quarto uses."""
    options: dict[str, Any] = {}
    project = qmd.parent / "_quarto.yml"
    sources = [yaml.safe_load(project.read_text(encoding="utf-8")) if project.exists() else {}]
    match = FRONT_MATTER.match(qmd.read_text(encoding="utf-8"))
    sources.append(yaml.safe_load(match.group(1)) if match else {})
    for source in sources:
        typst = ((source or {}).get("format") or {}).get("typst") or {}
        if isinstance(typst, dict):
            options |= typst
    return options


def render_pdf_with_pandoc_typst(qmd: str | Path, output: str | Path,
                                 params: Mapping[str, Any], workdir: str | Path = ".",
                                 timeout: int = 600, keep: str | Path | None = None) -> None:
    """Render ``qmd`` to a PDF the way Quarto does, without Quarto: execute (nbclient),
    ``markdown_of_notebook``, pandoc (pypandoc-binary) to Typst, typst to PDF.
    ``keep``: a folder to keep the intermediate Markdown, Typst and images in."""
    import pypandoc
    import typst

    qmd, output, workdir = Path(qmd), Path(output), Path(workdir).resolve()
    params = dict(params) | {"renderer": "pandoc + typst (Quarto's PDF route)"}
    with tempfile.TemporaryDirectory(prefix="trialreport-pdf-") as tmp:
        folder = Path(keep) if keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for source in qmd.parent.iterdir():
            if source.is_file():
                shutil.copy2(source, folder / source.name)
        copy_figures(params, folder)
        private = folder / qmd.name
        notebook, front = execute_qmd(private, params, workdir, timeout)
        options = typst_options(private)
        metadata = {k: v for k, v in options.items()
                    if k in ("papersize", "margin", "fontsize", "mainfont", "lang",
                             "section-numbering", "columns")}
        markdown = markdown_of_notebook(notebook, front, folder / "report_files", metadata)
        (folder / "report.md").write_text(markdown, encoding="utf-8")
        (folder / "callouts.lua").write_text(CALLOUT_FILTER, encoding="utf-8")
        args = ["--standalone", "--lua-filter", str(folder / "callouts.lua")]
        includes = options.get("include-in-header") or []
        for n, include in enumerate(includes if isinstance(includes, list) else [includes]):
            header = folder / f"header-{n}.typ"
            header.write_text(include["text"] if isinstance(include, dict) else
                              (folder / str(include)).read_text(encoding="utf-8"),
                              encoding="utf-8")
            args += ["--include-in-header", str(header)]
        if options.get("toc"):
            args += ["--toc", f"--toc-depth={options.get('toc-depth', 3)}"]
        pypandoc.convert_file(str(folder / "report.md"), "typst", format="markdown",
                              outputfile=str(folder / "report.typ"), extra_args=args)
        pdf = typst.compile(str(folder / "report.typ"), root=str(folder))
        atomic_write_bytes(output, pdf)
