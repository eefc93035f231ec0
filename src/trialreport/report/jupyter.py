"""The report rendered without Quarto: the same .qmd turned into a notebook (markdown and
``{python}`` cells; parameters injected after the cell tagged ``parameters``, as Quarto and
papermill do), executed by nbclient, and written as one self-contained HTML page by
nbconvert, with what Quarto would add: callouts as boxed notes, figures and tables numbered
with their captions, the output of ``output: asis`` cells read as Markdown, and a contents
list."""

from __future__ import annotations

import base64
import copy
import html
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

from trialreport.common.files import atomic_write_bytes

CELL = re.compile(r"^```\{python[^}]*\}[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


def qmd_to_notebook(text: str, params: Mapping[str, Any]) -> tuple[nbformat.NotebookNode, dict]:
    """Split a .qmd into notebook cells; inject ``params`` after the parameters cell."""
    front = {}
    match = FRONT_MATTER.match(text)
    if match:
        front = yaml.safe_load(match.group(1)) or {}
        text = text[match.end() :]
    cells = []
    title = front.get("title")
    if title:  # the page title (the PDF route takes it from the front matter instead)
        cells.append(nbformat.v4.new_markdown_cell(f"# {title}", metadata={"trialreport": "title"}))
    position = 0
    saw_parameters = False
    for cell in CELL.finditer(text):
        markdown = text[position : cell.start()].strip()
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
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook, front


CALLOUT = re.compile(
    r"^:::+[ \t]*\{\.callout-(\w+)([^}\n]*)\}[ \t]*\n(.*?)^:::+[ \t]*$", re.MULTILINE | re.DOTALL
)


def callouts_to_html(markdown: str) -> str:
    """Quarto callouts (``::: {.callout-warning} ... :::``) as HTML blocks for nbconvert,
    which knows no fenced divs: a ``div`` of class ``callout callout-<type>`` (styled by
    report.css) whose content stays Markdown."""

    def block(match: re.Match) -> str:
        kind, attributes, body = match.groups()
        title = re.search(r'title="([^"]*)"', attributes)
        head = f'<p class="callout-title">{html.escape(title.group(1))}</p>\n\n' if title else ""
        return f'<div class="callout callout-{kind}">\n\n{head}{body.strip()}\n\n</div>'

    return CALLOUT.sub(block, markdown)


FIGURE = re.compile(
    r"^!\[((?:[^\]\\]|\\.)*)\]\(([^)\s]+\.png)\)"
    r'\{#([\w-]+)(?:\s+fig-alt="((?:[^"\\]|\\.)*)")?\}[ \t]*$',
    re.MULTILINE,
)


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
        return (
            f'<figure id="{html.escape(label)}" class="figure">'
            f'<img src="data:image/png;base64,{data}" alt="{alt_text}">'
            f"<figcaption>Figure {number}: {html.escape(_unescape(caption))}"
            "</figcaption></figure>"
        )

    return FIGURE.sub(block, markdown)


def copy_figures(params: Mapping[str, Any], dest: Path) -> None:
    """The figures the workflow's figures step wrote (``<results_dir>/figures/*.png``),
    copied to ``dest/figures`` beside the private copy of the report, where its Markdown
    (``figures/<name>.png``) finds them."""
    source = Path(str(params.get("results_dir", ""))) / "figures"
    if not params.get("results_dir") or not source.is_dir():
        return
    (dest / "figures").mkdir(parents=True, exist_ok=True)
    for image in sorted([*source.glob("*.png"), *source.glob("*.svg")]):
        shutil.copy2(image, dest / "figures" / image.name)


def execute_qmd(
    qmd: Path, params: Mapping[str, Any], workdir: Path, timeout: int = 600
) -> tuple[nbformat.NotebookNode, dict]:
    """The .qmd as a notebook, executed by nbclient in ``workdir``; and its front matter."""
    from nbclient import NotebookClient

    notebook, front = qmd_to_notebook(qmd.read_text(encoding="utf-8"), params)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return asis_as_markdown(notebook), front


def asis_as_markdown(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a cell with ``#| output: asis`` printed, as one Markdown output: Quarto puts such
    output into the document as it is, so its headings are the document's own; nbconvert
    and the PDF route then render it as Markdown too. Other outputs stay as they are."""
    for cell in notebook.cells:
        if cell.cell_type != "code" or cell_options(cell.source).get("output") != "asis":
            continue
        printed = "".join(
            o.get("text", "")
            for o in cell.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )
        rest = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stdout")
        ]
        if printed:
            rest.insert(0, nbformat.v4.new_output("display_data", data={"text/markdown": printed}))
        cell.outputs = rest
    return notebook


def notebook_to_html(
    notebook: nbformat.NotebookNode, title: str, css: str = "", folder: Path | None = None
) -> str:
    """One self-contained page: no script, stylesheet, font or image is fetched from
    elsewhere.

    ``css`` is inlined: the report's own stylesheet (``reports/report.css``, which Quarto
    embeds on its path too). Figures (``figures_to_html``) are embedded from ``folder``
    (the private copy of the report's folder; the working directory if not given).
    """
    from nbconvert import HTMLExporter

    folder = Path(folder) if folder is not None else Path.cwd()
    numbers: dict[str, int] = {}
    tables: dict[str, int] = {}
    notebook = copy.deepcopy(notebook)

    def convert(markdown: str) -> str:
        return tables_to_html(figures_to_html(callouts_to_html(markdown), folder, numbers), tables)

    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = convert(cell.source)
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                output["data"]["text/markdown"] = convert(output["data"]["text/markdown"])
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(notebook)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{css}</style>\n</head>\n"
        f'<body class="tr-page">\n{with_contents_list(body)}\n</body>\n</html>\n'
    )


TABLE_CAPTION = re.compile(
    r"((?:^\|[^\n]*\|[ \t]*\n)+)\n: (.+?)(?: \{#(tbl-[\w-]+)\})?[ \t]*$", re.MULTILINE
)


def tables_to_html(markdown: str, numbers: dict[str, int]) -> str:
    """Table captions (a pipe table, then ``: caption {#tbl-n}``, as Quarto and pandoc read
    them) for nbconvert, which knows none: the caption as a paragraph above its table,
    numbered as Quarto numbers it ("Table 1: ..."). ``numbers`` maps the labels seen so far
    to their numbers, and is updated."""

    def block(match: re.Match) -> str:
        table, caption, label = match.groups()
        label = label or f"tbl-{len(numbers) + 1}"
        number = numbers.setdefault(label, len(numbers) + 1)
        return (
            f'<p class="table-caption" id="{html.escape(label)}">Table {number}: '
            f"{html.escape(_unescape(caption))}</p>\n\n{table}"
        )

    return TABLE_CAPTION.sub(block, markdown)


HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)


def with_contents_list(body: str) -> str:
    """``body`` with its contents list after the page's title (before it if none)."""
    toc = contents_list(body)
    return body.replace("</h1>", "</h1>\n" + toc, 1) if "</h1>" in body else toc + body


def contents_list(body: str) -> str:
    """The page's contents list, as Quarto's ``toc: true`` gives one: a link to every
    section (h2) and subsection (h3) heading, in order."""
    items = []
    for level, anchor, inner in HEADING.findall(body):
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("\u00b6", "").strip()
        items.append(
            f'<li class="toc-h{level}"><a href="#{html.escape(anchor)}">'
            f"{html.escape(text)}</a></li>"
        )
    if not items:
        return ""
    return (
        '<nav id="TOC" role="doc-toc"><h2 id="toc-title">Contents</h2>\n<ul>\n'
        + "\n".join(items)
        + "\n</ul></nav>\n"
    )


def render_with_jupyter(
    qmd: Path, output: Path, params: Mapping[str, Any], workdir: Path, timeout: int = 600
) -> None:
    notebook, front = execute_qmd(qmd, params, workdir, timeout)
    stylesheet = qmd.parent / "report.css"
    css = stylesheet.read_text(encoding="utf-8") if stylesheet.exists() else ""
    page = notebook_to_html(notebook, str(front.get("title", qmd.stem)), css, qmd.parent)
    atomic_write_bytes(output, page.encode("utf-8"))


# -- The PDF route without Quarto: Markdown -> pandoc -> Typst -> typst ---------------------
# Quarto makes its PDF by executing the notebook, writing the outputs as Markdown (images
# as files), converting that with pandoc to Typst and compiling it with typst. The same
# route, with pandoc from pypandoc-binary and the typst package (both in the dev group),
# lets the PDF be built, looked at and tested where Quarto is not installed. The workflow
# itself still needs Quarto for report.pdf.

FENCE_OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*)$")


def cell_options(source: str) -> dict[str, str]:
    options = {}
    for line in source.splitlines():
        match = FENCE_OPTION.match(line)
        if match:
            options[match.group(1)] = yaml.safe_load(match.group(2))
    return options
