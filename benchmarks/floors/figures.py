"""The figures stage's floor: the same files drawn from the same ARD rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .common import isin

# ---------------------------------------------------------------------------------------
# figures: the four figures of a one-arm trial, PNG (150 dpi) and SVG, plain matplotlib
# ---------------------------------------------------------------------------------------


def figures_floor(trial: dict[str, Any], ard_path: Any, efficacy_path: Any,
                  subjects_path: Any, outdir: Any) -> dict[str, Any]:
    """The figures stage's four figures of a one-arm trial drawn with plain matplotlib calls
    (same sizes, same panels, the same data and texts: titles, axis and tick labels, the
    percents in the bars, the forest plot's numbers), each saved as PNG at 150 dpi and SVG
    the plain way (``savefig`` per format, a constrained layout each time). Means and CIs
    from ard.csv; the counts per rating category and the trajectories from the efficacy
    set's records. Returns ``{name: Figure}``; the artists that show data carry a gid:
    ``mean-<code>``, ``bar-<code>-<category>``, ``est-<code>-<group>``."""
    from pathlib import Path

    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    design = trial["design"]
    params = design["parameters"]
    visit_name = {v["number"]: v["name"] for v in design["visits"]}
    level = f"{100 * trial['analyses']['paired'].get('confidence', 0.95):g}%"
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    eff = pd.read_parquet(efficacy_path, columns=["USUBJID", "PARAMCD", "AVISITN", "AVAL"])
    sub = pd.read_parquet(subjects_path, columns=["USUBJID", "EFFFL"])
    eff = eff[isin(eff["USUBJID"], sub.loc[sub["EFFFL"] == "Y", "USUBJID"])]
    eff = eff[eff["AVAL"].notna()].astype({"AVAL": float, "AVISITN": float})
    means = ard[(ard["analysis"] == "by_visit")].pivot_table(
        index=["parameter", "visitn"], columns="statistic", values="value")
    figs: dict[str, Any] = {}

    def new(name: str, w: float, h: float, title: str) -> Any:
        fig = Figure(figsize=(w, h), layout="constrained")
        fig.suptitle(title, fontweight="bold")
        figs[name] = fig
        return fig

    def visits_axis(ax: Any, x: np.ndarray) -> None:
        ax.set_xticks(x, [visit_name[int(v)] for v in x])
        ax.set_xlabel("Visit")

    fig = new("means_by_visit", 9.2, 3.4, f"Mean by visit ({level} CI), observed cases")
    for ax, code in zip(fig.subplots(1, 2), params, strict=True):
        m = means.loc[code]
        x = m.index.to_numpy(float)
        ok = m["ci_low"].notna().to_numpy()
        ax.errorbar(x[ok], m["mean"][ok], yerr=[(m["mean"] - m["ci_low"])[ok],
                                                (m["ci_high"] - m["mean"])[ok]],
                    fmt="none", capsize=3)
        ax.plot(x, m["mean"], marker="o", gid=f"mean-{code}")
        visits_axis(ax, x)
        ax.set_title(f"{params[code]['label']}: {params[code]['name']}")
        ax.set_ylabel(f"Mean {params[code]['label']} ({level} CI)")
        ax.grid(axis="y", alpha=0.3)

    fig = new("rating_distribution", 5.9, 3.3 * len(params),
              "Ratings by visit, percent of subjects rated (observed cases)")
    for ax, code in zip(fig.subplots(len(params), 1), params, strict=True):
        p = params[code]
        at = eff[eff["PARAMCD"] == code]
        counts = pd.crosstab(at["AVISITN"], at["AVAL"]).reindex(
            columns=np.arange(p["min"], p["max"] + 1, dtype=float), fill_value=0)
        n = counts.sum(axis=1).to_numpy()
        pct = 100.0 * counts.to_numpy() / n[:, None]
        x = np.arange(len(counts))
        bottom = np.zeros(len(x))
        for k, category in enumerate(counts.columns):
            ax.bar(x, pct[:, k], bottom=bottom, width=0.72, label=f"{category:g}",
                   gid=f"bar-{code}-{category:g}")
            for xi, b, s in zip(x, bottom, pct[:, k], strict=True):
                if s >= 8:
                    ax.text(xi, b + s / 2, f"{s:.0f}", ha="center", va="center", fontsize=7)
            bottom += pct[:, k]
        ax.set_xticks(x, [f"{visit_name[int(v)]}\nn = {k}" for v, k in
                          zip(counts.index, n, strict=True)])
        ax.set_ylim(0, 100)
        ax.set_title(f"{p['label']}: {p['name']}")
        ax.set_ylabel("Percent of subjects rated")
        ax.legend(title=f"{p['label']}\nrating", loc="upper left", bbox_to_anchor=(1.01, 1))

    fig = new("trajectories", 8.8, 3.4,
              "Individual trajectories (grey) and mean (coloured), observed cases")
    for ax, code in zip(fig.subplots(1, 2), params, strict=True):
        at = eff[eff["PARAMCD"] == code].sort_values(["USUBJID", "AVISITN"])
        ids = np.sort(at["USUBJID"].unique().astype(object))
        shown = ids
        if len(ids) > 200:
            shown = np.sort(np.random.default_rng(20180104).choice(ids, 200, replace=False))
        at = at[isin(at["USUBJID"], shown)]
        xy = at[["AVISITN", "AVAL"]].to_numpy(float)
        starts = np.flatnonzero(np.r_[True, at["USUBJID"].to_numpy()[1:]
                                      != at["USUBJID"].to_numpy()[:-1]])
        ax.add_collection(LineCollection(np.split(xy, starts[1:]), colors="grey",
                                         linewidths=0.7, alpha=0.35))
        m = means.loc[code]
        ax.plot(m.index.to_numpy(float), m["mean"], lw=2.4, marker="o", gid=f"mean-{code}")
        visits_axis(ax, m.index.to_numpy(float))
        ax.set_ylim(params[code]["min"] - 0.24, params[code]["max"] + 0.24)
        ax.set_title(f"{params[code]['label']} ({len(shown)} of {len(ids)} subjects)")
        ax.set_ylabel(params[code]["label"])

    est = ard[ard["analysis"].isin(["paired", "subgroup"])
              & ard["statistic"].isin(["change_mean", "change_ci_low", "change_ci_high",
                                       "n_pairs"])].pivot_table(
        index=["parameter", "analysis", "group"], columns="statistic", values="value")
    codes = [c for c in params if (c, "subgroup") in est.index.droplevel(2)]
    heights = [0.27 * (len(est.loc[c]) + 2) + 1.1 for c in codes]
    fig = new("subgroup_forest", 8.2, sum(heights) + 0.4,
              f"Mean change in subgroups ({level} CI), complete pairs")
    for ax, code in zip(fig.subplots(len(codes), 1, height_ratios=heights), codes, strict=True):
        rows = est.loc[code].reset_index()
        y = np.arange(len(rows), 0, -1)
        ax.hlines(y, rows["change_ci_low"], rows["change_ci_high"])
        for yi, r in zip(y, rows.itertuples(), strict=True):
            ax.plot([r.change_mean], [yi], "o", gid=f"est-{code}-{r.group}")
            ax.text(1.02, yi, f"{r.change_mean:.2f} ({r.change_ci_low:.2f}, "
                    f"{r.change_ci_high:.2f})   {r.n_pairs:g}",
                    transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, rows["group"])
        ax.set_title(params[code]["label"], loc="left")
        ax.set_xlabel(f"Mean change in {params[code]['label']} ({level} CI)")

    # a one-arm trial has no MMRM: its figure is the placeholder's message
    fig = new("mmrm_lsmeans", 6.4, 2.0, "MMRM LS means by visit")
    fig.text(0.5, 0.45, "No MMRM LS means in ard.csv", ha="center", va="center", fontsize=11)

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, fig in figs.items():
        fig.savefig(outdir / f"{name}.png", dpi=150)
        fig.savefig(outdir / f"{name}.svg")
    return figs
