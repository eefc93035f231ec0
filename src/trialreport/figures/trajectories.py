"""Figure ``trajectories``: each subject's observed ratings as a thin grey line,
the ARD's mean on top (at most ``MAX_TRAJECTORIES`` subjects per panel, a seeded sample
beyond)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from trialreport.figures.data import arms, by_visit, check_counts_against_ard, efficacy_set
from trialreport.figures.style import (
    FIGURE_WIDTH,
    OKABE_ITO,
    SUBJECT_GREY,
    add_grid,
    arm_style,
    artist_id,
    draw_placeholder,
    figure_style,
    page_figure,
    visit_axis,
)

MAX_TRAJECTORIES = 200
"""At most this many subjects per panel of ``trajectories``; above it, a random sample with
a fixed seed (``TRAJECTORY_SEED``), said in the panel's title."""
TRAJECTORY_SEED = 20180104


def trajectories_figure(efficacy: pd.DataFrame, subjects: pd.DataFrame, ard: pd.DataFrame,
                        trial: Trial | Mapping[str, Any], trial_id: str = "",
                        records: pd.DataFrame | None = None) -> Figure:
    """Individual trajectories, a panel per parameter and arm: each subject's observed
    ratings (participant-level, efficacy set; checked against the ARD's n) as a thin grey
    line, the ARD's mean by visit on top. Artists (``artist_id``), per parameter and arm:
    ``subjects`` (a LineCollection, one polyline per subject rated more than once,
    subjects sorted by USUBJID), ``single`` (points of subjects rated once), ``mean``."""
    from matplotlib import patheffects
    from matplotlib.collections import LineCollection

    cfg = as_trial(trial, trial_id)
    with figure_style():
        if records is None:
            records = efficacy_set(efficacy, subjects)
        check_counts_against_ard(records, ard, "trajectories")
        groups = arms(ard)
        params = [(c, p) for c, p in cfg.design.parameters.items()
                  if (records["PARAMCD"] == c).any()]
        if not params:
            return draw_placeholder("No ratings in the efficacy set", "Individual trajectories")
        ncols = len(groups) if len(groups) > 1 else min(len(params), 2)
        panels = [(c, p, a) for c, p in params for a in groups]
        fig = page_figure(math.ceil(len(panels) / ncols), 2.9)
        fig.suptitle("Individual trajectories (grey) and mean (coloured), observed cases",
                     fontweight="bold")
        axes = add_grid(fig, len(panels), ncols, sharey=False)
        for ax, (code, p, arm) in zip(axes, panels, strict=True):
            i = groups.index(arm)
            rows = records[(records["PARAMCD"] == code) & (records["TRT01P"] == arm)]
            ids = sorted(rows["USUBJID"].unique())
            shown = ids
            if len(ids) > MAX_TRAJECTORIES:
                rng = np.random.default_rng(TRAJECTORY_SEED)
                shown = sorted(rng.choice(ids, MAX_TRAJECTORIES, replace=False).tolist())
            rows = rows[rows["USUBJID"].isin(set(shown))]
            lines, singles = [], []
            for _, one in rows.groupby("USUBJID", sort=True):
                xy = one[["AVISITN", "AVAL"]].to_numpy(float)
                (lines if len(xy) > 1 else singles).append(xy)
            ax.add_collection(LineCollection(lines, colors=SUBJECT_GREY, linewidths=0.7,
                                             alpha=0.35, gid=artist_id("subjects", code, arm)))
            if singles:
                pts = np.vstack(singles)
                ax.plot(pts[:, 0], pts[:, 1], ls="none", marker=".", color=SUBJECT_GREY,
                        alpha=0.5, gid=artist_id("single", code, arm))
            mean = by_visit(ard, code, arm)
            style = arm_style(i)
            ax.plot(mean["visitn"].to_numpy(float), mean["mean"].to_numpy(float),
                    color=style["color"] if len(groups) > 1 else OKABE_ITO["blue"],
                    marker=style["marker"], lw=2.4, ms=5, zorder=3, label="mean",
                    gid=artist_id("mean", code, arm),
                    path_effects=[patheffects.withStroke(linewidth=4.2, foreground="white")])
            visit_axis(ax, cfg, rows["AVISITN"].tolist() + mean["visitn"].tolist(),
                       FIGURE_WIDTH / ncols)
            pad = 0.04 * (p.max - p.min)
            ax.set_ylim(p.min - pad, p.max + pad)
            count = (f"{len(ids)} subjects" if len(shown) == len(ids)
                     else f"{len(shown)} of {len(ids)} subjects, drawn at random")
            ax.set_title(f"{p.label}" + (f", {arm}" if len(groups) > 1 else "")
                         + f"\n({count})")
            ax.set_ylabel(p.label)
            ax.grid(axis="y", alpha=0.3)
    return fig
