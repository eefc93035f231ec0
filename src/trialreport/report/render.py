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
which ``jupyter.copy_figures`` puts beside the private copy), which Quarto turns into native
HTML, Typst and Word; on the Jupyter path (``jupyter.py``) nbconvert renders the Markdown,
callouts made boxed notes first. ``pandoc_routes.render_pdf_with_pandoc_typst`` builds the
PDF by Quarto's route (Markdown -> pandoc -> Typst -> typst) without Quarto, and
``pandoc_routes.render_docx_with_pandoc`` the Word file, for tests.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trialreport.common.files import atomic_write_bytes
from trialreport.report.jupyter import copy_figures, render_with_jupyter

log = logging.getLogger("trialreport")


def choose_renderer() -> str:
    forced = os.environ.get("TRIALREPORT_RENDERER", "").strip().lower()
    if forced in ("quarto", "jupyter"):
        return forced
    return "quarto" if shutil.which("quarto") else "jupyter"


QUARTO_FORMATS = {"html": ("html", ".html"), "pdf": ("typst", ".pdf"), "docx": ("docx", ".docx")}


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


def tool_version(args: list[str], env: Mapping[str, str] | None = None) -> str:
    """The first line a tool prints of its own version (``quarto --version``, ``quarto
    pandoc --version`` ...), or "unknown version"."""
    try:
        out = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=dict(env or os.environ),
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown version"
    lines = (out.stdout or "").strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else "unknown version"


def renderer_description(renderer: str) -> str:
    """What rendered the report, with the versions of every program that laid it out: for
    Quarto its own, its pandoc's and its Typst's; for the Jupyter path nbclient's and
    nbconvert's. The report's provenance section shows it."""
    from importlib.metadata import version

    if renderer == "quarto":
        env = quarto_environment()
        quarto = tool_version(["quarto", "--version"], env)
        pandoc = tool_version(["quarto", "pandoc", "--version"], env).removeprefix("pandoc ")
        typst = tool_version(["quarto", "typst", "--version"], env).removeprefix("typst ")
        return f"Quarto {quarto} (pandoc {pandoc}, Typst {typst})"
    return (
        f"Jupyter without Quarto (nbclient {version('nbclient')}, nbconvert {version('nbconvert')})"
    )


def render_with_quarto(
    qmd: Path, output: Path, params: Mapping[str, Any], to: str = "html"
) -> None:
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
        raise StageError(
            "a PDF report needs Quarto (it renders the PDF through Typst, which "
            "it bundles): pip install quarto-cli, or install it from quarto.org. "
            "The HTML report does not need it; set report.pdf: false in the "
            "config to build only the HTML."
        )
    if to == "docx" and renderer != "quarto":
        raise StageError(
            "a Word report needs Quarto (it numbers the tables and figures and "
            "writes the .docx through its pandoc): pip install quarto-cli, or "
            "install it from quarto.org. Set report.docx: false in the config to "
            "build only the HTML."
        )
    params = dict(params) | {"renderer": renderer_description(renderer), "output_format": to}
    log.info(
        "rendering %s as %s with %s",
        qmd,
        to,
        renderer
        if renderer == "quarto"
        else "Jupyter (nbclient + nbconvert): Quarto is not installed",
    )
    log.info("renderer: %s", params["renderer"])
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
