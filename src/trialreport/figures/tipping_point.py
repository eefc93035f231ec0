"""Figure ``tipping_point``: the tipping-point analyses of ``analyses.missing_data`` (ARD
analysis ``missing_data``, method ``<id>: tipping point, <assumption>``), drawn from the
ARD's rows, never recomputed.

Per tipping-point analysis and comparison, two panels one above the other, sharing the
delta axis in the grid's order: the difference in LS means with its confidence interval
at each delta (a line at no difference), and the P value at each delta on a log scale with
a dashed line at the level (1 - confidence); a dotted vertical line at the tipping delta
(the first grid delta whose conclusion differs from delta 0) where there is one. A trial
without a tipping point gets a figure that says so, so the workflow's outputs are fixed.

Written by its own rule (``figure_tipping_point`` in workflow/rules/figures.smk) to
``results/<trial>/figures/tipping_point.{png,svg}``, with the conventions of
``trialreport.figures.stage`` (``save_figure``: byte-identical files; page width, text
no smaller than the body's).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trialreport.common.config import Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.figure import Figure

NAME = "tipping_point"
TITLE = "Tipping point"


def tipping_panels(ard: pd.DataFrame) -> list[dict[str, Any]]:
    """One entry per tipping-point analysis and comparison, in the ARD's order: ``method``,
    ``contrast``, ``parameter``, ``grid`` (a frame: delta, diff, diff_ci_low,
    diff_ci_high, p_value, significant, in the grid's order) and ``summary`` (the
    statistics of the comparison's own group: tipping_delta, ...)."""
    rows = ard[(ard["analysis"] == "missing_data")
               & ard["method"].str.contains(": tipping point, ", regex=False)]
    out = []
    for method in dict.fromkeys(rows["method"]):
        own = rows[rows["method"] == method]
        contrasts = [g for g in dict.fromkeys(own["group"]) if "; delta " not in g]
        for contrast in contrasts:
            summary = own[own["group"] == contrast]
            grid_rows = own[own["group"].str.startswith(f"{contrast}; delta ")]
            wide = grid_rows.pivot_table(index="group", columns="statistic", values="value",
                                         sort=False, dropna=False)
            wide = wide.loc[list(dict.fromkeys(grid_rows["group"]))].reset_index(drop=True)
            out.append({"method": method, "contrast": contrast,
                        "parameter": str(summary["parameter"].iloc[0]),
                        "visit": str(summary["visit"].iloc[0]),
                        "arms_text": str(summary["analysis_set"].iloc[0]).rsplit("; ", 1)[-1],
                        "grid": wide,
                        "summary": dict(zip(summary["statistic"],
                                            summary["value"].astype(float), strict=True))})
    return out


def tipping_point_figure(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                         trial_id: str = "") -> Figure:
    """The figure (module docstring). Artists: ``artist_id("diff", method, contrast)``
    (the estimates), ``"ci"`` (the band), ``"p"`` (the P values), ``"tip"`` (the line at
    the tipping delta)."""
    from trialreport.figures.style import (
        ARM_COLOURS,
        FIGURE_WIDTH,
        artist_id,
        draw_placeholder,
        figure_style,
        page_figure,
    )

    cfg = as_trial(trial, trial_id)
    panels = tipping_panels(ard)
    with figure_style():
        if not panels:
            return draw_placeholder("No tipping-point analysis in this trial's config "
                                    "(analyses.missing_data)", TITLE)
        alpha = 1 - cfg.analyses.confidence
        level = f"{100 * cfg.analyses.confidence:g}%"
        fig = page_figure(2 * len(panels), 1.9, extra=0.9, width=FIGURE_WIDTH)
        axes = fig.subplots(2 * len(panels), 1, squeeze=False).ravel()
        for k, panel in enumerate(panels):
            top, bottom = axes[2 * k], axes[2 * k + 1]
            bottom.sharex(top)
            g = panel["grid"]
            x = g["delta"].to_numpy(float)
            colour = ARM_COLOURS[1]
            label = cfg.design.parameters[panel["parameter"]].label \
                if panel["parameter"] in cfg.design.parameters else panel["parameter"]
            top.fill_between(x, g["diff_ci_low"], g["diff_ci_high"], color=colour,
                             alpha=0.2, linewidth=0,
                             gid=artist_id("ci", panel["method"], panel["contrast"]))
            top.plot(x, g["diff"], color=colour, marker="o", markersize=4,
                     gid=artist_id("diff", panel["method"], panel["contrast"]))
            top.axhline(0, color="#333333", linewidth=0.8)
            top.set_ylabel(f"Difference ({level} CI)")
            assumption = panel["method"].split(": tipping point, ", 1)[1]
            top.set_title(f"{label}, {panel['visit']}: {panel['contrast']} "
                          f"({assumption} + delta)", loc="left")
            p = g["p_value"].to_numpy(float)
            bottom.plot(x, p, color=ARM_COLOURS[0], marker="s", markersize=4,
                        gid=artist_id("p", panel["method"], panel["contrast"]))
            bottom.axhline(alpha, color="#333333", linewidth=0.8, linestyle="--")
            bottom.set_yscale("log")
            bottom.set_ylabel("P value")
            arms_words = panel["arms_text"].replace("delta added in ", "")
            bottom.set_xlabel(f"Delta added to the imputed values of {arms_words}")
            bottom.text(x[0], alpha, f" level {alpha:g}", va="bottom", ha="left",
                        fontsize=10, color="#333333")
            tip = panel["summary"].get("tipping_delta", math.nan)
            if tip == tip:
                for ax in (top, bottom):
                    ax.axvline(tip, color="#333333", linestyle=":", linewidth=1.2,
                               gid=artist_id("tip", panel["method"], panel["contrast"]))
            if x[-1] < x[0]:  # a grid that walks down: drawn from delta 0 rightwards
                top.invert_xaxis()
            top.tick_params(labelbottom=False)
        return fig


def caption(trial: Trial | Mapping[str, Any], ard: pd.DataFrame,
            trial_id: str = "") -> tuple[str, str]:
    """The figure's caption and alt text (with the tipping deltas it shows)."""
    cfg = as_trial(trial, trial_id)
    level = f"{100 * cfg.analyses.confidence:g}%"
    panels = tipping_panels(ard)
    if not panels:
        return ("Tipping point: none, the trial's config names no tipping-point analysis "
                "(analyses.missing_data).",
                "An empty figure saying that the trial has no tipping-point analysis.")
    text = (f"Tipping-point analysis: the difference in LS means of the change from "
            f"baseline with its {level} confidence interval (top) and its P value (bottom, "
            f"log scale; dashed line: the level {1 - cfg.analyses.confidence:g}) when delta "
            "is added to every value imputed at or after a subject's intercurrent event in "
            "the arms named on the axis; dotted line: the first delta of the grid at which "
            "the conclusion changes. Values from ard.csv (analysis missing_data, method "
            "'<id>: tipping point, <assumption>').")
    alt = []
    for panel in panels:
        tip = panel["summary"].get("tipping_delta", math.nan)
        g = panel["grid"]
        where = (f"the conclusion changes at delta {tip:g}" if tip == tip else
                 "the conclusion does not change in the grid")
        alt.append(f"{panel['contrast']}: deltas from {g['delta'].iloc[0]:g} to "
                   f"{g['delta'].iloc[-1]:g}; {where}.")
    return text, ("Two line charts per analysis, the difference with a shaded confidence "
                  "band above and the P value below, against the delta. " + " ".join(alt))


def write_tipping_point_figure(trial: Trial | Mapping[str, Any], ard_path: str | Path,
                               outdir: str | Path, trial_id: str = "") -> list[Path]:
    """The figure as ``<outdir>/tipping_point.png`` and ``.svg`` (``save_figure``)."""
    from trialreport.analyse.ard import read_ard
    from trialreport.figures.stage import save_figure

    cfg = as_trial(trial, trial_id)
    ard = read_ard(ard_path)
    text, alt = caption(cfg, ard)
    return save_figure(tipping_point_figure(ard, cfg), Path(outdir) / NAME, text, alt)
