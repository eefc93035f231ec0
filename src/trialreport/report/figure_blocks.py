"""Figures in the report: each figure file the figures step wrote, as Quarto Markdown with
its caption and alt text, or the sentence that says why it is not drawn."""

from __future__ import annotations

from trialreport.report.markdown import markdown_text
from trialreport.report.results import Results

FIGURE_TITLES = {
    "means_by_visit": "Mean rating by visit",
    "rating_distribution": "Distribution of ratings by visit",
    "trajectories": "Individual trajectories",
    "subgroup_forest": "Forest plot of the subgroups",
    "mmrm_lsmeans": "MMRM LS means by visit",
}
"""A short name of each figure of ``FIGURE_NAMES``, for the sentence that says why
a figure is not drawn."""


def figure_label(name: str) -> str:
    """The cross-reference label of a figure: ``fig-`` and its name, ``_`` as ``-``."""
    return "fig-" + name.replace("_", "-")


def figure_markdown(r: Results, name: str) -> str:
    """Figure ``name`` of ``FIGURE_NAMES`` as Quarto Markdown,
    ``![caption](figures/<name>.png){#fig-<name> fig-alt="..."}``: the PNG (in the PDF the
    SVG, drawn as vectors) the figures
    step wrote, which the renderer copies beside the report (``jupyter.copy_figures``),
    with the caption and alt text it wrote into the file (``captions``). Where
    the figure has nothing to show, or its file is missing, a sentence saying why."""
    from trialreport.figures.captions import captions, unavailable

    title = FIGURE_TITLES[name]
    why = unavailable(r.cfg, r.ard).get(name)
    ext = "svg" if r.output_format == "pdf" else "png"  # vector in print
    path = r.results_dir / "figures" / f"{name}.{ext}" if r.results_dir else None
    if why is None and (path is None or not path.exists()):
        why = f"the figures step did not write figures/{name}.{ext}"
    if why is not None:
        why = markdown_text(why[0].upper() + why[1:])
        return f"**{markdown_text(title)}: not drawn.** {why}."
    caption, alt = captions(r.cfg, r.ard)[name]
    alt = " ".join(alt.split()).replace("\\", "\\\\").replace('"', '\\"')
    return (
        f"![{markdown_text(caption)}](figures/{name}.{ext})"
        f'{{#{figure_label(name)} fig-alt="{alt}"}}'
    )


def figures_markdown(r: Results, names: list[str]) -> str:
    return "\n\n".join(figure_markdown(r, name) for name in names)
