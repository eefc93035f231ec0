"""Figure ``mmrm_lsmeans``: the LS means of each MMRM of ``analyses.models`` by visit, one
line per arm with its confidence interval, arms drawn side by side (ARD ``mmrm``: lsmean,
ci_low, ci_high per arm and visit)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Trial, as_trial
from trialreport.figures.data import arms, confidence_label
from trialreport.figures.means import draw_arm
from trialreport.figures.style import (
    FIGURE_WIDTH,
    add_grid,
    draw_placeholder,
    figure_style,
    page_figure,
    visit_axis,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NO_MMRM = ("no MMRM is configured (analyses.models with kind: mmrm), or none gave LS "
           "means in ard.csv (analysis mmrm)")


def mmrm_models(cfg: Trial, ard: pd.DataFrame) -> list[tuple[Any, pd.DataFrame]]:
    """Each MMRM spec of the config with LS-mean rows in the ARD, and those rows."""
    out = []
    rows = ard[ard["analysis"] == "mmrm"]
    for spec in cfg.analyses.models:
        if spec.kind != "mmrm":
            continue
        own = rows[rows["method"].str.startswith(f"{spec.id}: ")
                   & (rows["statistic"] == "lsmean")]
        if len(own):
            out.append((spec, rows[rows["method"].str.startswith(f"{spec.id}: ")]))
    return out


def lsmeans_by_visit(rows: pd.DataFrame, arm: str) -> pd.DataFrame:
    """One arm's LS means, a row per visit (sorted): visitn, visit, lsmean, ci_low,
    ci_high, n."""
    own = rows[(rows["group"] == arm) & rows["visitn"].notna()
               & rows["statistic"].isin(["lsmean", "ci_low", "ci_high", "n"])]
    if not len(own):
        return pd.DataFrame(columns=["visitn", "visit", "lsmean", "ci_low", "ci_high", "n"])
    wide = own.pivot(index="visitn", columns="statistic", values="value")
    wide.insert(0, "visit", own.drop_duplicates("visitn").set_index("visitn")["visit"]
                .reindex(wide.index))
    return wide.sort_index().reset_index().rename_axis(columns=None)


def mmrm_lsmeans_figure(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                        trial_id: str = "") -> Figure:
    """A panel per MMRM, a line per arm: LS mean by visit with its CI. Artists
    (``artist_id``), per model id and arm: ``lsmean`` (the line, x = visitn shifted by a
    constant per arm) and ``ci`` (the intervals)."""
    cfg = as_trial(trial, trial_id)
    level = confidence_label(cfg)
    with figure_style():
        models = mmrm_models(cfg, ard)
        if not models:
            return draw_placeholder("No MMRM LS means in ard.csv", "MMRM LS means by visit")
        groups = arms(ard)
        ncols = min(len(models), 2)
        fig = page_figure(math.ceil(len(models) / ncols), 3.0 if ncols == 2 else 3.6)
        fig.suptitle(f"MMRM LS mean by visit ({level} CI)", fontweight="bold")
        for ax, (spec, rows) in zip(add_grid(fig, len(models), ncols), models, strict=True):
            visits = sorted(rows["visitn"].dropna().unique())
            spacing = float(np.min(np.diff(visits))) if len(visits) > 1 else 1.0
            for i, arm in enumerate(groups):
                wide = lsmeans_by_visit(rows, arm)
                if len(wide):
                    draw_arm(ax, wide, "lsmean", (i, len(groups), spacing), arm, spec.id)
            ax.axhline(0, color="#777777", lw=0.8, ls=":")
            visit_axis(ax, cfg, visits, FIGURE_WIDTH / ncols)
            label = cfg.design.parameters[spec.parameter].label
            ax.set_title(f"{label}: {spec.response} ({spec.id})")
            ax.set_ylabel(f"LS mean ({level} CI)")
            ax.grid(axis="y", alpha=0.3)
        handles, labels = fig.axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=len(groups))
    return fig
