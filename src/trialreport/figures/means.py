"""Figure ``means_by_visit``: mean and confidence interval by visit, one panel per
parameter and one line per arm (ARD ``by_visit``: mean, ci_low, ci_high)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from trialreport.figures.data import arms, by_visit, confidence_label
from trialreport.figures.style import (
    FIGURE_WIDTH,
    add_grid,
    arm_style,
    artist_id,
    draw_placeholder,
    figure_style,
    page_figure,
    visit_axis,
)

DODGE = 0.25
"""Arms are drawn side by side at each visit, this share of the visits' spacing apart, so
their intervals (caps ``CAPSIZE`` points either side) do not overlap at the page's width."""
CAPSIZE = 2.0


def draw_arm(ax: Any, rows: pd.DataFrame, estimate: str, place: tuple[int, int, float],
             arm: str, key: str) -> None:
    """One arm's line of ``rows[estimate]`` by ``visitn`` with its intervals (``ci_low``,
    ``ci_high``; none where they are not finite), the arm ``place = (index, number of arms,
    visit spacing)`` shifted by ``DODGE`` so the arms' intervals stand apart. Artists:
    ``artist_id(estimate, key, arm)`` (the line) and ``artist_id("ci", key, arm)``."""
    index, n_arms, spacing = place
    x = rows["visitn"].to_numpy(float) + (index - (n_arms - 1) / 2) * DODGE * spacing
    style = arm_style(index)
    mean, low, high = (rows[s].to_numpy(float) for s in (estimate, "ci_low", "ci_high"))
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(mean)
    if ok.any():
        bars = ax.errorbar(x[ok], mean[ok], yerr=[mean[ok] - low[ok], high[ok] - mean[ok]],
                           fmt="none", ecolor=style["color"], elinewidth=1.2, capsize=CAPSIZE)
        bars.lines[2][0].set_gid(artist_id("ci", key, arm))
    ax.plot(x, mean, color=style["color"], marker=style["marker"], lw=1.8, ms=5, label=arm,
            gid=artist_id(estimate, key, arm))


def means_by_visit_figure(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                          trial_id: str = "") -> Figure:
    """Mean (CI) by visit from the ARD's ``by_visit`` rows: a panel per parameter, a line
    per arm. Artists (``artist_id``), per parameter and arm: the line ``mean`` (x = visitn,
    shifted by a constant per arm when there are several, so the intervals do not overlap)
    and the intervals ``ci`` (a LineCollection of (x, ci_low)-(x, ci_high) segments; a visit
    whose CI is not available, n < 2, has none)."""
    cfg = as_trial(trial, trial_id)
    level = confidence_label(cfg)
    with figure_style():
        groups = arms(ard)
        params = [(c, p) for c, p in cfg.design.parameters.items()
                  if ((ard["analysis"] == "by_visit") & (ard["parameter"] == c)).any()]
        if not params:
            return draw_placeholder("No by-visit results in ard.csv", "Mean by visit")
        ncols = min(len(params), 2)
        fig = page_figure(math.ceil(len(params) / ncols), 3.0 if ncols == 2 else 3.6)
        fig.suptitle(f"Mean by visit ({level} CI), observed cases", fontweight="bold")
        for ax, (code, p) in zip(add_grid(fig, len(params), ncols), params, strict=True):
            visits = sorted(ard.loc[(ard["analysis"] == "by_visit")
                                    & (ard["parameter"] == code), "visitn"].unique())
            spacing = float(np.min(np.diff(visits))) if len(visits) > 1 else 1.0
            for i, arm in enumerate(groups):
                rows = by_visit(ard, code, arm)
                if len(rows):
                    draw_arm(ax, rows, "mean", (i, len(groups), spacing), arm, code)
            visit_axis(ax, cfg, visits, FIGURE_WIDTH / ncols)
            ax.set_title(f"{p.label}: {p.name}" if ncols == 1 and len(p.name) < 45
                         else p.label)
            ax.set_ylabel(f"Mean ({level} CI)")
            ax.grid(axis="y", alpha=0.3)
        if len(groups) > 1:
            handles, labels = fig.axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside lower center", ncols=len(groups))
    return fig
