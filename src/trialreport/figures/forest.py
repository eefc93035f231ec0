"""Figure ``subgroup_forest``: mean change (CI) and n_pairs per subgroup level
(ARD ``subgroup``), the all-subjects estimate on top, a reference line at 0; levels with
fewer than ``min_n`` pairs drawn open and labelled "descriptive only"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.common.config import Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from trialreport.figures.data import arms, change_estimates, confidence_label
from trialreport.figures.style import (
    FIGURE_WIDTH,
    MAX_HEIGHT,
    MIN_FONT_PT,
    OKABE_ITO,
    arm_style,
    artist_id,
    draw_placeholder,
    figure_style,
    fmt_number,
    new_figure,
)


def _level_key(level: str) -> tuple[int, float, str]:
    try:
        return (0, float(level), level)
    except ValueError:
        return (1, 0.0, level)


def _variable_label(cfg: Trial, variable: str) -> str:
    labels = {c.name: c.label for c in cfg.design.covariates}
    if variable == "MAXDOSE":
        unit = f", {cfg.design.dose_unit}" if cfg.design.dose_unit else ""
        return f"Highest dose reached{unit} (MAXDOSE)"
    return f"{labels[variable]} ({variable})" if variable in labels else variable


def subgroup_forest_figure(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                           trial_id: str = "") -> Figure:
    """Forest plot, a panel per parameter with subgroup results: mean change (CI) of the
    complete pairs in all subjects (``paired``) then per level of each subgroup variable
    (``subgroup``), n_pairs written at the right, a line at 0; levels not tested
    (``tested`` = 0) open and dashed, labelled "descriptive only". Artists per row
    (``artist_id(kind, parameter, group)``): ``est`` (the point, x = change_mean), ``ci``
    (the line from change_ci_low to change_ci_high), ``label`` (the text at the right)."""
    from matplotlib.ticker import MaxNLocator
    from matplotlib.transforms import blended_transform_factory

    cfg = as_trial(trial, trial_id)
    title = "Mean change in subgroups"
    with figure_style():
        subgroups = cfg.analyses.subgroups
        if subgroups is None or not subgroups.variables:
            return draw_placeholder("No subgroups in this trial's config", title)
        groups = arms(ard)
        variables = list(subgroups.variables)
        panels = []
        for code, p in cfg.design.parameters.items():
            est = change_estimates(ard, code)
            sub = est[est["analysis"] == "subgroup"]
            if len(sub):
                panels.append((code, p, est))
        if not panels:
            return draw_placeholder("No subgroup results in ard.csv (no parameter with a "
                                "baseline to change from)", title)
        layouts = [forest_rows(est, groups, variables) for _, _, est in panels]
        heights = [0.3 * len(rows) + 1.2 for rows in layouts]
        fig = new_figure(FIGURE_WIDTH, min(sum(heights) + 0.5, MAX_HEIGHT))
        # the plot on the left, the numbers in a column of their own on the right (an axes
        # without frame), so the layout gives both their room
        grid = fig.subplots(len(panels), 2, squeeze=False, height_ratios=heights,
                            width_ratios=[1.0, 0.75], sharey="row")
        axes, columns = grid[:, 0], grid[:, 1]
        fig.suptitle(f"{title} ({confidence_label(cfg)} CI), complete pairs", fontweight="bold")
        for ax, column, (code, p, est), rows in zip(axes, columns, panels, layouts,
                                                    strict=True):
            column.axis("off")
            to_text = blended_transform_factory(column.transAxes, column.transData)
            ticks, labels, bold = [], [], []
            for y, row in zip(range(len(rows), 0, -1), rows, strict=True):
                if row["kind"] == "header":  # spans the row: no marks are drawn there
                    ax.text(0.0, y, _variable_label(cfg, row["label"]), fontweight="bold",
                            va="center", ha="left",
                            transform=blended_transform_factory(ax.transAxes, ax.transData))
                    continue
                ticks.append(y)
                labels.append(row["label"])
                bold.append(row["kind"] != "level")
                r = row["data"]
                i = groups.index(r["arm"]) if r["arm"] in groups else 0
                colour = (arm_style(i)["color"] if len(groups) > 1 else
                          OKABE_ITO["black"] if r["analysis"] == "paired" else OKABE_ITO["blue"])
                tested = r["tested"] == 1
                ax.plot([r["change_ci_low"], r["change_ci_high"]], [y, y], color=colour,
                        lw=1.6, ls="-" if tested else (0, (3, 2)),
                        gid=artist_id("ci", code, r["group"]))
                marker = "D" if r["analysis"] == "paired" else arm_style(i)["marker"]
                ax.plot([r["change_mean"]], [y], ls="none", marker=marker, ms=6,
                        color=colour, markerfacecolor=colour if tested else "white",
                        markeredgewidth=1.4, zorder=3, gid=artist_id("est", code, r["group"]))
                text = (f"{fmt_number(r['change_mean'])} ({fmt_number(r['change_ci_low'])}, "
                        f"{fmt_number(r['change_ci_high'])})   {r['n_pairs']:g}"
                        + ("" if tested else f" {DESCRIPTIVE_MARK}"))
                column.text(0.02, y, text, transform=to_text, va="center", fontsize=MIN_FONT_PT,
                        color="black" if tested else "#444444",
                        style="normal" if tested else "italic",
                        gid=artist_id("label", code, r["group"]))
            ax.axvline(0, color="black", lw=0.8, zorder=1, gid=artist_id("reference", code))
            ax.set_yticks(ticks, labels)
            for tick, is_bold in zip(ax.get_yticklabels(), bold, strict=True):
                if is_bold:
                    tick.set_fontweight("bold")
            ax.tick_params(axis="y", length=0)
            ax.set_ylim(0.4, len(rows) + 1.1)
            low = np.nanmin([0.0, *est["change_ci_low"], *est["change_mean"]])
            high = np.nanmax([0.0, *est["change_ci_high"], *est["change_mean"]])
            margin = 0.08 * (high - low or 1.0)
            ax.set_xlim(low - margin, high + margin)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
            ax.spines["left"].set_visible(False)
            ax.grid(axis="x", alpha=0.3)
            column.text(0.02, len(rows) + 0.75, f"Mean ({confidence_label(cfg)} CI)   n pairs",
                    transform=to_text, va="center", fontsize=MIN_FONT_PT, fontweight="bold")
            span = (f"{cfg.design.visit_name(p.baseline_visit)} to "
                    f"{cfg.design.visit_name(p.comparison_visit)}" if p.has_baseline else "")
            ax.set_title(f"{p.label}" + (f", {span}" if span else ""), loc="left")
            ax.set_xlabel(f"Mean change in {p.label} ({confidence_label(cfg)} CI)")
        if len(groups) > 1:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], color=arm_style(i)["color"],
                              marker=arm_style(i)["marker"], label=a)
                       for i, a in enumerate(groups)]
            fig.legend(handles=handles, loc="outside lower center", ncols=len(groups))
        if any(row.get("data", {}).get("tested", 1) != 1 for rows in layouts
               for row in rows if row["kind"] != "header"):
            fig.supxlabel(f"{DESCRIPTIVE_MARK}, open marker, dashed interval: fewer than "
                          f"{subgroups.min_n} pairs, descriptive only (not tested)",
                          fontsize=MIN_FONT_PT)
    return fig


DESCRIPTIVE_MARK = "(descr.)"
"""After the n of a subgroup with fewer pairs than ``min_n``: descriptive only, not tested
(the caption and the figure's note say so in full)."""


def forest_rows(est: pd.DataFrame, groups: list[str],
                 variables: list[str]) -> list[dict[str, Any]]:
    """The rows of a forest panel, top to bottom: all subjects (per arm), then per subgroup
    variable a header and its levels (numeric levels by value), arms in protocol order."""
    rank = {a: i for i, a in enumerate(groups)}
    several = len(groups) > 1
    rows: list[dict[str, Any]] = []
    overall = est[est["analysis"] == "paired"].sort_values(
        "arm", key=lambda s: s.map(lambda a: rank.get(a, len(rank))), kind="stable")
    for _, r in overall.iterrows():
        rows.append({"kind": "overall", "data": r,
                     "label": "All subjects" + (f", {r['arm']}" if several else "")})
    sub = est[est["analysis"] == "subgroup"]
    seen = list(dict.fromkeys(sub["variable"]))
    for variable in [v for v in variables if v in seen] + [v for v in seen
                                                          if v not in variables]:
        at = sub[sub["variable"] == variable]
        rows.append({"kind": "header", "label": variable, "variable": variable})
        order = sorted(at.itertuples(index=False),
                       key=lambda r: (_level_key(r.level), rank.get(r.arm, len(rank))))
        for r in order:
            rows.append({"kind": "level", "data": pd.Series(r._asdict()),
                         "label": f"{r.level}" + (f", {r.arm}" if several else "")})
    return rows
