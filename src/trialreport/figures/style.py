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
    "font.size": 9,
    "axes.titlesize": 10,
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


def visit_axis(ax: Axes, cfg: Trial, visitns: Sequence[float]) -> None:
    visits = sorted(set(visitns))
    ax.set_xticks(visits, [cfg.design.visit_name(int(v)) for v in visits])
    if len(visits) > 6:
        ax.tick_params(axis="x", labelrotation=45)
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
