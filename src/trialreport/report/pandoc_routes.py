"""Quarto's PDF and Word routes without Quarto, for tests: the executed notebook as one
Markdown document (as Quarto writes it before pandoc), then pandoc to Typst and typst to PDF,
or pandoc to docx with the captions numbered as Quarto's cross-references number them. Both
pandoc (pypandoc-binary) and typst are in the dev group, so the PDF and the Word file can be
built, looked at and tested where Quarto is not installed; the workflow itself still needs
Quarto for report.pdf and report.docx."""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
import yaml

from trialreport.common.files import atomic_write_bytes
from trialreport.report.jupyter import FRONT_MATTER, cell_options, copy_figures, execute_qmd

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


def markdown_of_notebook(
    notebook: nbformat.NotebookNode,
    front: Mapping[str, Any],
    media: Path,
    metadata: Mapping[str, Any] | None = None,
) -> str:
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
        options = cell_options(cell.source)
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                parts.append("```\n" + output.get("text", "").rstrip("\n") + "\n```")
            elif kind == "error":
                raise RuntimeError(
                    f"a cell of the report failed: {output.get('ename')}: {output.get('evalue')}"
                )
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
                    parts.append(
                        f"![{options.get('fig-cap', '')}]({media.name}/{name})" + attributes
                    )
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


def render_pdf_with_pandoc_typst(
    qmd: str | Path,
    output: str | Path,
    params: Mapping[str, Any],
    workdir: str | Path = ".",
    timeout: int = 600,
    keep: str | Path | None = None,
) -> None:
    """Render ``qmd`` to a PDF the way Quarto does, without Quarto: execute (nbclient),
    ``markdown_of_notebook``, pandoc (pypandoc-binary) to Typst, typst to PDF.
    ``keep``: a folder to keep the intermediate Markdown, Typst and images in."""
    import pypandoc
    import typst

    qmd, output, workdir = Path(qmd), Path(output), Path(workdir).resolve()
    from importlib.metadata import version

    params = dict(params) | {
        "renderer": f"pandoc {pypandoc.get_pandoc_version()} and Typst "
        f"(typst {version('typst')}), Quarto's PDF route",
        "output_format": "pdf",
    }
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
        metadata = {
            k: v
            for k, v in options.items()
            if k
            in (
                "papersize",
                "margin",
                "fontsize",
                "mainfont",
                "lang",
                "section-numbering",
                "columns",
            )
        }
        markdown = markdown_of_notebook(notebook, front, folder / "report_files", metadata)
        (folder / "report.md").write_text(markdown, encoding="utf-8")
        (folder / "callouts.lua").write_text(CALLOUT_FILTER, encoding="utf-8")
        args = ["--standalone", "--lua-filter", str(folder / "callouts.lua")]
        includes = options.get("include-in-header") or []
        for n, include in enumerate(includes if isinstance(includes, list) else [includes]):
            header = folder / f"header-{n}.typ"
            header.write_text(
                include["text"]
                if isinstance(include, dict)
                else (folder / str(include)).read_text(encoding="utf-8"),
                encoding="utf-8",
            )
            args += ["--include-in-header", str(header)]
        if options.get("toc"):
            args += ["--toc", f"--toc-depth={options.get('toc-depth', 3)}"]
        pypandoc.convert_file(
            str(folder / "report.md"),
            "typst",
            format="markdown",
            outputfile=str(folder / "report.typ"),
            extra_args=args,
        )
        pdf = typst.compile(str(folder / "report.typ"), root=str(folder))
        atomic_write_bytes(output, pdf)


# -- The Word route without Quarto: Markdown -> pandoc -> docx, as Quarto's docx format ------

CROSSREF = re.compile(
    r"^(!\[)(.*?)(\]\([^)]*\)\{#(fig-[\w-]+)[^}]*\})|"
    r"^(: )(.+?)( \{#(tbl-[\w-]+)\})[ \t]*$",
    re.MULTILINE,
)


def numbered_captions(markdown: str) -> str:
    """Captions numbered as Quarto's cross-references number them ("Figure 1: ...",
    "Table 1: ..."), written into the Markdown for pandoc, which numbers neither."""
    count = {"fig": 0, "tbl": 0}

    def number(match: re.Match) -> str:
        if match.group(1):
            count["fig"] += 1
            return f"{match.group(1)}Figure {count['fig']}: {match.group(2)}{match.group(3)}"
        count["tbl"] += 1
        return f"{match.group(5)}Table {count['tbl']}: {match.group(6)}{match.group(7)}"

    return CROSSREF.sub(number, markdown)


def render_docx_with_pandoc(
    qmd: str | Path,
    output: str | Path,
    params: Mapping[str, Any],
    workdir: str | Path = ".",
    timeout: int = 600,
) -> None:
    """Render ``qmd`` to Word (docx) the way Quarto does, without Quarto, for tests: execute
    (nbclient), ``markdown_of_notebook`` with the figures as PNG, captions numbered as
    Quarto's cross-references number them, pandoc (pypandoc-binary) to docx."""
    import pypandoc

    qmd, output, workdir = Path(qmd), Path(output), Path(workdir).resolve()
    params = dict(params) | {
        "renderer": f"pandoc {pypandoc.get_pandoc_version()} (Quarto's Word route)",
        "output_format": "docx",
    }
    with tempfile.TemporaryDirectory(prefix="trialreport-docx-") as tmp:
        folder = Path(tmp)
        for source in qmd.parent.iterdir():
            if source.is_file():
                shutil.copy2(source, folder / source.name)
        copy_figures(params, folder)
        notebook, front = execute_qmd(folder / qmd.name, params, workdir, timeout)
        markdown = numbered_captions(markdown_of_notebook(notebook, front, folder / "report_files"))
        (folder / "report.md").write_text(markdown, encoding="utf-8")
        (folder / "callouts.lua").write_text(DOCX_CALLOUTS, encoding="utf-8")
        pypandoc.convert_file(
            str(folder / "report.md"),
            "docx",
            format="markdown",
            outputfile=str(folder / "report.docx"),
            extra_args=[
                "--toc",
                "--resource-path",
                str(folder),
                "--lua-filter",
                str(folder / "callouts.lua"),
            ],
        )
        atomic_write_bytes(output, (folder / "report.docx").read_bytes())


DOCX_CALLOUTS = r"""
function Div(el)
  for _, class in ipairs(el.classes) do
    if class:match("^callout%-") then return el.content end
  end
end
"""
