"""Figure ``rating_distribution``: stacked bars of the percent of subjects rated at
each visit in each category, per parameter declared ``integer`` with at most
``MAX_CATEGORIES`` categories (counts from the participant-level data)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Parameter, Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
from trialreport.figures.data import (
    MAX_CATEGORIES,
    arms,
    check_counts_against_ard,
    efficacy_set,
    rated_parameters,
    rating_counts,
)
from trialreport.figures.style import (
    CATEGORY_COLOURS,
    MIN_FONT_PT,
    artist_id,
    draw_placeholder,
    figure_style,
    fmt_number,
    page_figure,
    text_colour,
)


def rating_distribution_figure(efficacy: pd.DataFrame, subjects: pd.DataFrame,
                               ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                               trial_id: str = "",
                               records: pd.DataFrame | None = None) -> Figure:
    """Stacked bars, a panel per parameter (rated on at most ``MAX_CATEGORIES``
    categories) and arm: at each visit the percent of the subjects rated there in each
    category (``rating_counts``, participant-level; the n are checked against the ARD).
    Artists (``artist_id``): a bar ``bars`` per parameter, arm, category and visitn
    (height = percent)."""
    cfg = as_trial(trial, trial_id)
    with figure_style():
        rated = rated_parameters(cfg)
        if not rated:
            return draw_placeholder(f"No parameter rated on {MAX_CATEGORIES} categories or fewer",
                                "Distribution of ratings by visit")
        if records is None:
            records = efficacy_set(efficacy, subjects)
        check_counts_against_ard(records, ard, "rating_distribution")
        counts = rating_counts(efficacy, subjects, cfg, records=records)
        groups = arms(ard)
        panels = [(code, arm) for code in rated for arm in groups
                  if ((counts["parameter"] == code) & (counts["group"] == arm)).any()]
        if not panels:
            return draw_placeholder("No ratings in the efficacy set",
                                "Distribution of ratings by visit")
        # A row per parameter (its own legend at the right: categories differ between
        # parameters), a column per arm.
        codes = list(dict.fromkeys(code for code, _ in panels))
        ncols = len(groups)
        fig = page_figure(len(codes), 3.3)
        fig.suptitle("Ratings by visit: percent of subjects rated, n above each bar",
                     fontweight="bold")
        axes = fig.subplots(len(codes), ncols, squeeze=False)
        for row, code in enumerate(codes):
            p = rated[code]
            shown = [arm for arm in groups if (code, arm) in panels]
            for col, arm in enumerate(groups):
                ax = axes[row, col]
                if arm not in shown:
                    ax.set_visible(False)
                    continue
                _stacked_bars(ax, counts, code, arm, p, cfg)
                ax.set_title(f"{p.label}: {p.name}" if len(groups) == 1 and len(p.name) < 50
                             else f"{p.label}, {arm}" if len(groups) > 1 else p.label)
                if arm == shown[-1]:
                    handles, labels = ax.get_legend_handles_labels()
                    ax.legend(handles[::-1], labels[::-1], title=p.label, loc="upper left",
                              bbox_to_anchor=(1.01, 1.0), handlelength=1.0)
    return fig


def _stacked_bars(ax: Axes, counts: pd.DataFrame, code: str, arm: str, p: Parameter,
                  cfg: Trial) -> None:
    at = counts[(counts["parameter"] == code) & (counts["group"] == arm)]
    visits = sorted(at["visitn"].unique())
    x = np.arange(len(visits))
    bottom = np.zeros(len(visits))
    for k, category in enumerate(range(int(p.min), int(p.max) + 1)):
        share = (at[at["category"] == category].set_index("visitn")["percent"]
                 .reindex(visits).to_numpy(float))
        colour = CATEGORY_COLOURS[k % len(CATEGORY_COLOURS)]
        bars = ax.bar(x, share, bottom=bottom, width=0.72, color=colour, edgecolor="white",
                      linewidth=0.6, hatch="///" if k >= len(CATEGORY_COLOURS) else None,
                      label=str(category))
        for patch, visitn in zip(bars.patches, visits, strict=True):
            patch.set_gid(artist_id("bars", code, arm, category, visitn))
        for xi, b, s in zip(x, bottom, share, strict=True):
            if s >= 12:  # a label that fits its segment at 10 pt
                ax.text(xi, b + s / 2, fmt_number(s, 0), ha="center", va="center",
                        fontsize=MIN_FONT_PT, color=text_colour(colour))
        bottom = bottom + share
    n = at.drop_duplicates("visitn").set_index("visitn")["n"].reindex(visits)
    for xi, (visitn, k) in zip(x, n.items(), strict=True):  # n rated, above its bar
        ax.text(xi, 101, f"{int(k)}", ha="center", va="bottom", fontsize=MIN_FONT_PT,
                gid=artist_id("n", code, arm, visitn))
    ax.set_xticks(x, [cfg.design.visit_name(int(v)) for v in visits])
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")
    ax.set_ylim(0, 110)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_ylabel("Percent of subjects rated")
