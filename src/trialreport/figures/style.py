"""The figures' shared look: Okabe-Ito colours (colour-blind safe), markers per
arm, fonts and sizes, and the helpers that make a new figure, its grid and its axes in that
style. matplotlib is imported inside the functions, so importing this module stays cheap."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from trialreport.common.config import Trial

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
PNG_DPI = 150
FIGURE_WIDTH = 6.5
"""Inches: every figure is drawn at the width it is shown at, the text width of an A4 page
with 2 cm margins (17 cm = 6.69 in; reports/_quarto.yml), so it is not scaled down."""
MAX_HEIGHT = 8.0
"""Inches: the tallest figure that fits the page's text height (24.7 cm = 9.7 in) with its
caption and the heading above it."""
MIN_FONT_PT = 10
"""No text of a figure is smaller than the body text (10 pt in the PDF; on screen the PNG,
150 dpi, is shown at up to its own width, which keeps 10 pt at 20 px)."""

# Okabe & Ito (2008), "Color Universal Design": distinguishable with any colour vision.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
ARM_COLOURS = tuple(OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green",
                                            "reddish_purple", "orange", "sky_blue", "black"))
ARM_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
# Categories 1..7 of an ordinal rating: blue (low) through yellow (middle) to vermillion and
# purple (high); beyond seven categories the colours repeat, hatched.
CATEGORY_COLOURS = tuple(OKABE_ITO[c] for c in ("blue", "sky_blue", "bluish_green", "yellow",
                                                 "orange", "vermillion", "reddish_purple"))
SUBJECT_GREY = "#5F5F5F"

STYLE = {
    "svg.hashsalt": "trialreport",  # fixed ids in the SVG, so the file is the same each run
    "svg.fonttype": "path",         # text as paths: the SVG looks the same without the font
    "font.family": "DejaVu Sans",   # shipped with matplotlib: the same glyphs everywhere
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.title_fontsize": 10,
    "figure.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    # Titles sit at the top of their axes (nothing is drawn above an axes: no top ticks or
    # labels). Given, not found: matplotlib otherwise measures every axis's tick labels at
    # each drawing to place the titles above them, a third of the drawing's text layout.
    "axes.titley": 1.0,
}


# ---------------------------------------------------------------------------------------
# drawing
# ---------------------------------------------------------------------------------------


def artist_id(kind: str, *keys: Any) -> str:
    """The gid of a plotted artist (also its id in the SVG): ``kind`` and the keys it shows
    (parameter, group, category, visit number), as an XML name, e.g.
    ``artist_id("mean", "CGIS", "Fasoracetam") == "mean-CGIS-Fasoracetam"``."""
    parts = [kind, *(f"{k:g}" if isinstance(k, float) else str(k) for k in keys)]
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", part).strip("_") for part in parts)


@contextmanager
def figure_style() -> Iterator[None]:
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas, outside pyplot (no global state, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def page_figure(rows: int, panel_height: float, extra: float = 0.9,
                width: float = FIGURE_WIDTH) -> Figure:
    """A figure as wide as the page's text and tall enough for ``rows`` rows of panels
    ``panel_height`` inches high (plus ``extra`` for the title and legend), but never
    taller than ``MAX_HEIGHT``: the panels then share that height."""
    return new_figure(width, min(rows * panel_height + extra, MAX_HEIGHT))


def smallest_text(fig: Figure, shown_width: float = FIGURE_WIDTH) -> tuple[float, str]:
    """The smallest text of a drawn figure as it is shown (points, with the figure scaled
    to ``shown_width`` inches when it is wider), and that text."""
    fig.canvas.draw()
    scale = min(1.0, shown_width / fig.get_figwidth())
    sizes = [(t.get_fontsize() * scale, t.get_text()) for t in fig.findobj(
        lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
        if t.get_visible() and t.get_text().strip()]
    return min(sizes) if sizes else (math.inf, "")


def add_grid(fig: Figure, n: int, ncols: int, **kwargs: Any) -> list[Axes]:
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def draw_placeholder(message: str, title: str) -> Figure:
    fig = new_figure(6.4, 2.0)
    fig.suptitle(title, fontweight="bold")
    fig.text(0.5, 0.45, message, ha="center", va="center", fontsize=11, color="#333333",
             gid="placeholder")
    return fig


def arm_style(index: int) -> dict[str, str]:
    return {"color": ARM_COLOURS[index % len(ARM_COLOURS)],
            "marker": ARM_MARKERS[index % len(ARM_MARKERS)]}


def visit_axis(ax: Axes, cfg: Trial, visitns: Sequence[float], width: float | None = None,
               ) -> None:
    """Visits as x ticks, named; turned 45 degrees when their names would not fit side by
    side in the panel's ``width`` (inches; a 10 pt character is about 0.085 in)."""
    visits = sorted(set(visitns))
    names = [cfg.design.visit_name(int(v)) for v in visits]
    ax.set_xticks(visits, names)
    longest = max((len(n) for n in names), default=0)
    if width is None or len(visits) * (longest + 1) * 0.085 > 0.8 * width:
        ax.tick_params(axis="x", labelrotation=45)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_xlabel("Visit")


def fmt_number(value: float, decimals: int = 2) -> str:
    from trialreport.common.formatting import round_half_up

    return "NA" if value != value else round_half_up(value, decimals)


def text_colour(hex_colour: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG luminance)."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"
