"""The trial's figures, for the report and as files (PNG and SVG), built from the results.

Every number plotted is read from the analysis-results table (``ard.csv``), never recomputed,
except in two figures drawn from the participant-level data (``derived/efficacy.parquet``,
restricted to the efficacy set, EFFFL = Y, of ``validated/subjects.parquet``, as the ARD's
efficacy analyses are), which their captions say:

- ``rating_distribution``: the percent of subjects in each category of a rating by visit
  needs counts per category, which the ARD does not hold;
- ``trajectories``: each subject's ratings (the mean line on top is the ARD's).

Both check that the subjects they count at each visit are as many as the ARD's ``by_visit``
``n``, so the participant-level figures rest on the records the tables rest on.

The figures (``FIGURE_NAMES``):

- ``means_by_visit``: mean and confidence interval by visit, one panel per parameter and one
  line per arm (``by_visit``: mean, ci_low, ci_high);
- ``rating_distribution``: stacked bars of the percent of subjects rated at the visit in each
  category, per parameter declared ``integer`` with at most ``MAX_CATEGORIES`` categories;
- ``trajectories``: each subject's observed ratings as a thin grey line, the mean on top;
- ``subgroup_forest``: mean change (CI) and n_pairs per subgroup level (``subgroup``), the
  all-subjects estimate (``paired``) on top, a reference line at 0, levels with fewer than
  ``min_n`` pairs drawn open and labelled "descriptive only" (``tested`` = 0).

A figure with nothing to show (no subgroups configured, no parameter with few enough
categories) is still built, with a centred message, so the workflow's outputs are fixed.

Colours are Okabe-Ito's (colour-blind safe); arms also differ by marker. matplotlib is
imported inside the functions, so importing this module stays cheap; the figures are
``matplotlib.figure.Figure`` objects on an Agg canvas, never registered with pyplot, so
building them changes no global state and needs no display. ``save_figure`` writes
byte-identical files for the same results: a fixed SVG hash salt, and no date or software
version in the files' metadata (which hold the caption as title and the alt text as
description instead).
"""

from __future__ import annotations

import io as _bytesio
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trialreport.config import Parameter, Trial, as_trial

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FIGURE_NAMES = ("means_by_visit", "rating_distribution", "trajectories", "subgroup_forest")
FORMATS = ("png", "svg")
PNG_DPI = 150
MAX_CATEGORIES = 10
"""A parameter declared ``integer`` with at most this many categories (max - min + 1) gets
a panel in ``rating_distribution``."""
MAX_TRAJECTORIES = 200
"""At most this many subjects per panel of ``trajectories``; above it, a random sample with
a fixed seed (``TRAJECTORY_SEED``), said in the panel's title."""
TRAJECTORY_SEED = 20180104

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


def _caption_texts(level: str, min_n: str) -> dict[str, tuple[str, str]]:
    return {
        "means_by_visit": (
            f"Mean rating by visit with its {level} confidence interval (t-based), observed "
            "cases in the efficacy set; one panel per parameter, one line per arm. Values "
            "from ard.csv (analysis by_visit: mean, ci_low, ci_high).",
            f"Line chart, one panel per parameter: the mean rating at each visit with "
            f"vertical bars for its {level} confidence interval, one line per arm."),
        "rating_distribution": (
            "Distribution of ratings by visit: percent of the subjects rated at the visit "
            "(observed cases, efficacy set) in each category, for each parameter rated on "
            f"at most {MAX_CATEGORIES} categories; one panel per parameter and arm, n under "
            "each visit is the number of subjects rated. The analysis-results table holds no "
            "counts per category, so these are counted from the participant-level data "
            "(derived/efficacy.parquet); the n agree with ard.csv (by_visit n).",
            "Stacked bar chart: for each visit, a bar of height 100 percent divided into "
            "the shares of subjects rated in each category, the lowest category at the "
            "bottom, with the percent written in the larger segments."),
        "trajectories": (
            "Individual trajectories: each thin grey line is one subject's observed ratings "
            "(efficacy set, from the participant-level data derived/efficacy.parquet); lines "
            "overlap where subjects share ratings, so darker grey means more subjects. The "
            "coloured line is the mean by visit from ard.csv (by_visit). A panel with more "
            f"than {MAX_TRAJECTORIES} subjects shows {MAX_TRAJECTORIES} drawn at random with "
            "a fixed seed.",
            "Line chart, one panel per parameter and arm: a faint grey line per subject "
            "across the visits, with the mean rating by visit drawn on top as a thick "
            "coloured line."),
        "subgroup_forest": (
            f"Mean change from baseline to the comparison visit with its {level} confidence "
            "interval (t-based), complete pairs (observed case), in all subjects (top) and "
            "per level of each subgroup variable of the trial's config; n = complete pairs. "
            f"Open markers and dashed intervals: fewer than {min_n} pairs, descriptive only "
            "(no tests). The vertical line marks no change. Values from ard.csv (analyses "
            "paired and subgroup: change_mean, change_ci_low, change_ci_high, n_pairs, "
            "tested).",
            "Forest plot, one panel per parameter: a row per subgroup level with a point at "
            "the mean change and a horizontal line for its confidence interval, a vertical "
            "line at zero, and the mean, interval and number of pairs written at the right."),
    }


CAPTIONS: dict[str, tuple[str, str]] = _caption_texts("95%", "the config's min_n")
"""``{name: (caption, alt text)}`` for each figure, at the default 95% confidence; see
``captions`` for a trial's own (its confidence level and min_n, and alt texts that give its
numbers)."""


def captions(trial: Trial | Mapping[str, Any] | None = None,
             ard: pd.DataFrame | None = None, trial_id: str = "") -> dict[str, tuple[str, str]]:
    """``{name: (caption, alt text)}``: with ``trial``, at its confidence level and min_n;
    with ``ard`` too, alt texts that also state the numbers the figures show (from ard.csv)."""
    if trial is None:
        return dict(CAPTIONS)
    cfg = as_trial(trial, trial_id)
    subgroups = cfg.analyses.subgroups
    texts = _caption_texts(_level(cfg), str(subgroups.min_n) if subgroups else "min_n")
    if subgroups is None:
        texts["subgroup_forest"] = ("Subgroups: none, the trial's config names no subgroup "
                                    "variables (analyses.subgroups).",
                                    "An empty figure saying that the trial's config has no "
                                    "subgroups.")
    if not _rated_parameters(cfg):
        texts["rating_distribution"] = (
            f"Distribution of ratings: none, no parameter of the trial's config is declared "
            f"integer with at most {MAX_CATEGORIES} categories.",
            "An empty figure saying that no parameter has few enough categories.")
    if ard is None:
        return texts
    return {name: (caption, alt + _alt_numbers(name, cfg, ard))
            for name, (caption, alt) in texts.items()}


def unavailable(trial: Trial | Mapping[str, Any], ard: pd.DataFrame,
                trial_id: str = "") -> dict[str, str]:
    """``{name: why}`` for each figure of ``FIGURE_NAMES`` that has nothing to show (and is
    written as a placeholder with a centred message): the reason as a sentence a reader of
    the report understands, naming the config key or the results it comes from. The
    conditions are the figures' own (``*_figure`` draws a placeholder in exactly these
    cases: tests/test_report_figures.py), from the config and ard.csv alone."""
    cfg = as_trial(trial, trial_id)
    by_visit_rows = ard[ard["analysis"] == "by_visit"]
    measured = [c for c in cfg.design.parameters if (by_visit_rows["parameter"] == c).any()]
    no_ratings = ("ard.csv has no by-visit results (analysis by_visit) for the parameters "
                  "of the trial's config: no subject of the efficacy set was rated")
    why: dict[str, str] = {}
    if not measured:
        why["means_by_visit"] = no_ratings
        why["trajectories"] = no_ratings
    rated = _rated_parameters(cfg)
    if not rated:
        why["rating_distribution"] = (
            f"no parameter of the trial's config is declared integer with at most "
            f"{MAX_CATEGORIES} categories (design.parameters: integer, min, max), so there "
            "are no rating categories to count")
    elif not any(code in measured for code in rated):
        why["rating_distribution"] = no_ratings
    subgroups = cfg.analyses.subgroups
    if subgroups is None or not subgroups.variables:
        why["subgroup_forest"] = ("the trial's config names no subgroup variables "
                                  "(analyses.subgroups)")
    elif not ((ard["analysis"] == "subgroup")
              & ard["parameter"].isin(list(cfg.design.parameters))).any():
        why["subgroup_forest"] = ("ard.csv has no subgroup results (analysis subgroup): no "
                                  "parameter has a baseline to change from")
    return {name: why[name] for name in FIGURE_NAMES if name in why}


# ---------------------------------------------------------------------------------------
# reading the results
# ---------------------------------------------------------------------------------------


def _level(cfg: Trial) -> str:
    return f"{100 * cfg.analyses.confidence:g}%"


def arms(ard: pd.DataFrame) -> list[str]:
    """The arms in protocol order: the order of the ARD's enrolment rows."""
    rows = ard[(ard["analysis"] == "enrolment") & (ard["statistic"] == "n_subjects")]
    if not len(rows):
        rows = ard[ard["analysis"] == "by_visit"]
    return list(dict.fromkeys(rows["group"]))


def by_visit(ard: pd.DataFrame, parameter: str, arm: str) -> pd.DataFrame:
    """The ``by_visit`` rows of a parameter and arm, a row per visit (sorted by visitn):
    visitn, visit, and a column per statistic (n, mean, ci_low, ci_high ...)."""
    rows = ard[(ard["analysis"] == "by_visit") & (ard["parameter"] == parameter)
               & (ard["group"] == arm)]
    if not len(rows):
        return pd.DataFrame(columns=["visitn", "visit", "n", "mean", "ci_low", "ci_high"])
    wide = rows.pivot(index="visitn", columns="statistic", values="value")
    names = rows.drop_duplicates("visitn").set_index("visitn")["visit"]
    wide.insert(0, "visit", names.reindex(wide.index))
    return wide.sort_index().reset_index().rename_axis(columns=None)


def change_estimates(ard: pd.DataFrame, parameter: str) -> pd.DataFrame:
    """Per group of the ``paired`` (all subjects) and ``subgroup`` analyses of a parameter:
    analysis, group, arm, variable, level, analysis_set, change_mean, change_ci_low,
    change_ci_high, n_pairs, tested; from ard.csv as they are."""
    wanted = ["change_mean", "change_ci_low", "change_ci_high", "n_pairs", "tested"]
    rows = ard[ard["analysis"].isin(["paired", "subgroup"]) & (ard["parameter"] == parameter)
               & ard["statistic"].isin(wanted)]
    if not len(rows):
        return pd.DataFrame(columns=["analysis", "group", "arm", "variable", "level",
                                     "analysis_set", *wanted])
    wide = rows.pivot(index=["analysis", "group"], columns="statistic", values="value")
    wide = wide.reindex(columns=wanted).reset_index().rename_axis(columns=None)
    sets = rows.drop_duplicates(["analysis", "group"]).set_index(["analysis", "group"])
    wide["analysis_set"] = [sets.loc[(a, g), "analysis_set"]
                            for a, g in zip(wide["analysis"], wide["group"], strict=True)]
    parts = [_split_group(g) for g in wide["group"]]
    wide["arm"] = [p[0] for p in parts]
    wide["variable"] = [p[1] for p in parts]
    wide["level"] = [p[2] for p in parts]
    return wide[["analysis", "group", "arm", "variable", "level", "analysis_set", *wanted]]


def _split_group(group: str) -> tuple[str, str, str]:
    """``"<arm>; <VAR> = <level>"`` -> (arm, VAR, level); an arm alone -> (arm, "", "")."""
    arm, _, rest = group.partition("; ")
    variable, _, level = rest.partition(" = ")
    return arm, variable, level


def _rated_parameters(cfg: Trial) -> dict[str, Parameter]:
    return {code: p for code, p in cfg.design.parameters.items()
            if p.integer and 1 <= p.max - p.min + 1 <= MAX_CATEGORIES}


EFFICACY_COLUMNS = ("USUBJID", "PARAMCD", "AVISITN", "AVAL")
SUBJECT_COLUMNS = ("USUBJID", "TRT01P", "EFFFL")
"""The columns of the derived efficacy data and of the subjects that the figures read."""


def efficacy_set(efficacy: pd.DataFrame, subjects: pd.DataFrame) -> pd.DataFrame:
    """The observed ratings of the efficacy set (EFFFL = Y) with their arm (TRT01P), as the
    ARD's efficacy analyses take them: USUBJID, TRT01P, PARAMCD, AVISITN, AVAL (floats),
    records without a value left out."""
    # only the columns used, and the records kept, before any conversion to text
    eff = efficacy[list(EFFICACY_COLUMNS)].merge(subjects[list(SUBJECT_COLUMNS)],
                                                 on="USUBJID", how="left")
    eff = eff[(eff["EFFFL"] == "Y").to_numpy(bool, na_value=False)]
    visitn = pd.to_numeric(eff["AVISITN"]).to_numpy(float, na_value=math.nan)
    aval = pd.to_numeric(eff["AVAL"]).to_numpy(float, na_value=math.nan)
    keep = ~np.isnan(aval) & ~np.isnan(visitn)
    eff = eff[keep]
    text, ranks = {}, {}
    for column in ("USUBJID", "TRT01P", "PARAMCD"):
        # each distinct value converted to text once (a large trial has 10^6 records and
        # 10^5 subjects), and ranked once for the sort below
        codes, uniques = pd.factorize(eff[column], use_na_sentinel=False)
        labels = pd.Series(uniques, dtype=eff[column].dtype).astype(str).to_numpy(object)
        text[column] = labels[codes]
        ranks[column] = np.argsort(np.argsort(labels, kind="stable"), kind="stable")[codes]
    out = pd.DataFrame({"USUBJID": text["USUBJID"], "TRT01P": text["TRT01P"],
                        "PARAMCD": text["PARAMCD"], "AVISITN": visitn[keep],
                        "AVAL": aval[keep]})
    # sorted by PARAMCD, TRT01P, USUBJID, AVISITN (stable: np.lexsort's last key first)
    order = np.lexsort((out["AVISITN"].to_numpy(), ranks["USUBJID"], ranks["TRT01P"],
                        ranks["PARAMCD"]))
    return out.iloc[order].reset_index(drop=True)


def check_counts_against_ard(records: pd.DataFrame, ard: pd.DataFrame, figure: str) -> None:
    """Raise ValueError unless the subjects rated per parameter, arm and visit in
    ``records`` (from ``efficacy_set``) are as many as the ARD's ``by_visit`` n."""
    counted = records.groupby(["PARAMCD", "TRT01P", "AVISITN"]).size()
    rows = ard[(ard["analysis"] == "by_visit") & (ard["statistic"] == "n")]
    listed = pd.Series(rows["value"].to_numpy(float),
                       index=pd.MultiIndex.from_arrays(
                           [rows["parameter"], rows["group"], rows["visitn"]],
                           names=["PARAMCD", "TRT01P", "AVISITN"]))
    keys = counted.index.union(listed.index)
    counted = counted.reindex(keys, fill_value=0).astype(float)
    listed = listed.reindex(keys, fill_value=0.0)
    differ = counted[counted != listed]
    if len(differ):
        (code, arm, visitn), n = next(iter(differ.items()))
        raise ValueError(f"figure {figure}: the participant-level data have {n:g} subject(s) "
                         f"rated on {code} at visit {visitn:g} in arm {arm!r}, ard.csv "
                         f"(by_visit n) has {listed[(code, arm, visitn)]:g}: the figure "
                         f"would not rest on the records the tables rest on")


def rating_counts(efficacy: pd.DataFrame, subjects: pd.DataFrame,
                  trial: Trial | Mapping[str, Any], trial_id: str = "",
                  records: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per parameter rated on at most ``MAX_CATEGORIES`` categories, arm, visit and
    category: the subjects rated in the category (``count``), those rated at the visit
    (``n``) and ``percent`` = 100 * count / n; from the participant-level data (efficacy
    set, observed cases). Every category from the parameter's min to max has a row."""
    cfg = as_trial(trial, trial_id)
    if records is None:
        records = efficacy_set(efficacy, subjects)
    out = []
    for code, p in _rated_parameters(cfg).items():
        categories = np.arange(int(p.min), int(p.max) + 1, dtype=float)
        for (arm, visitn), at in records[records["PARAMCD"] == code].groupby(
                ["TRT01P", "AVISITN"], sort=True):
            values = at["AVAL"].to_numpy()
            counts = np.array([(values == c).sum() for c in categories])
            if counts.sum() != len(values):
                odd = sorted(set(values) - set(categories))
                raise ValueError(f"{code}: rating(s) {odd} at visit {visitn:g} are not "
                                 f"among the categories {int(p.min)}..{int(p.max)}")
            out.append(pd.DataFrame({
                "parameter": code, "group": arm, "visitn": visitn, "category": categories,
                "count": counts, "n": len(values), "percent": 100.0 * counts / len(values)}))
    columns = ["parameter", "group", "visitn", "category", "count", "n", "percent"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)


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
def _style() -> Iterator[None]:
    import matplotlib as mpl

    with mpl.rc_context(STYLE):
        yield


def _new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas, outside pyplot (no global state, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _grid(fig: Figure, n: int, ncols: int, **kwargs: Any) -> list[Axes]:
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return axes[:n]


def _placeholder(message: str, title: str) -> Figure:
    fig = _new_figure(6.4, 2.0)
    fig.suptitle(title, fontweight="bold")
    fig.text(0.5, 0.45, message, ha="center", va="center", fontsize=11, color="#333333",
             gid="placeholder")
    return fig


def _arm_style(index: int) -> dict[str, str]:
    return {"color": ARM_COLOURS[index % len(ARM_COLOURS)],
            "marker": ARM_MARKERS[index % len(ARM_MARKERS)]}


def _visit_axis(ax: Axes, cfg: Trial, visitns: Sequence[float]) -> None:
    visits = sorted(set(visitns))
    ax.set_xticks(visits, [cfg.design.visit_name(int(v)) for v in visits])
    if len(visits) > 6:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel("Visit")


def _fmt(value: float, decimals: int = 2) -> str:
    from trialreport.reproduce import round_half_up

    return "NA" if value != value else round_half_up(value, decimals)


def means_by_visit_figure(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                          trial_id: str = "") -> Figure:
    """Mean (CI) by visit from the ARD's ``by_visit`` rows: a panel per parameter, a line
    per arm. Artists (``artist_id``), per parameter and arm: the line ``mean`` (x = visitn,
    shifted by a constant per arm when there are several, so the intervals do not overlap)
    and the intervals ``ci`` (a LineCollection of (x, ci_low)-(x, ci_high) segments; a visit
    whose CI is not available, n < 2, has none)."""
    cfg = as_trial(trial, trial_id)
    level = _level(cfg)
    with _style():
        groups = arms(ard)
        params = [(c, p) for c, p in cfg.design.parameters.items()
                  if ((ard["analysis"] == "by_visit") & (ard["parameter"] == c)).any()]
        if not params:
            return _placeholder("No by-visit results in ard.csv", "Mean by visit")
        ncols = min(len(params), 2)
        fig = _new_figure(4.6 * ncols + (1.6 if len(groups) > 1 else 0),
                          3.4 * math.ceil(len(params) / ncols))
        fig.suptitle(f"Mean by visit ({level} CI), observed cases", fontweight="bold")
        for ax, (code, p) in zip(_grid(fig, len(params), ncols), params, strict=True):
            visits = sorted(ard.loc[(ard["analysis"] == "by_visit")
                                    & (ard["parameter"] == code), "visitn"].unique())
            spacing = float(np.min(np.diff(visits))) if len(visits) > 1 else 1.0
            for i, arm in enumerate(groups):
                rows = by_visit(ard, code, arm)
                if not len(rows):
                    continue
                x = rows["visitn"].to_numpy(float)
                x = x + (i - (len(groups) - 1) / 2) * 0.07 * spacing
                style = _arm_style(i)
                mean, low, high = (rows[s].to_numpy(float) for s in ("mean", "ci_low",
                                                                     "ci_high"))
                ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(mean)
                if ok.any():
                    bars = ax.errorbar(x[ok], mean[ok],
                                       yerr=[mean[ok] - low[ok], high[ok] - mean[ok]],
                                       fmt="none", ecolor=style["color"], elinewidth=1.2,
                                       capsize=3)
                    bars.lines[2][0].set_gid(artist_id("ci", code, arm))
                ax.plot(x, mean, color=style["color"], marker=style["marker"], lw=1.8, ms=5,
                        label=arm, gid=artist_id("mean", code, arm))
            _visit_axis(ax, cfg, visits)
            ax.set_title(f"{p.label}: {p.name}" if len(p.name) < 45 else p.label)
            ax.set_ylabel(f"Mean {p.label} ({level} CI)")
            ax.grid(axis="y", alpha=0.3)
        if len(groups) > 1:
            handles, labels = fig.axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="outside right upper", title="Arm")
    return fig


def _text_colour(hex_colour: str) -> str:
    """Black or white, whichever contrasts more with the background (WCAG luminance)."""
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


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
    with _style():
        rated = _rated_parameters(cfg)
        if not rated:
            return _placeholder(f"No parameter rated on {MAX_CATEGORIES} categories or fewer",
                                "Distribution of ratings by visit")
        if records is None:
            records = efficacy_set(efficacy, subjects)
        check_counts_against_ard(records, ard, "rating_distribution")
        counts = rating_counts(efficacy, subjects, cfg, records=records)
        groups = arms(ard)
        panels = [(code, arm) for code in rated for arm in groups
                  if ((counts["parameter"] == code) & (counts["group"] == arm)).any()]
        if not panels:
            return _placeholder("No ratings in the efficacy set",
                                "Distribution of ratings by visit")
        # A row per parameter (its own legend at the right: categories differ between
        # parameters), a column per arm.
        codes = list(dict.fromkeys(code for code, _ in panels))
        ncols = len(groups)
        fig = _new_figure(4.6 * ncols + 1.3, 3.3 * len(codes))
        fig.suptitle("Ratings by visit, percent of subjects rated (observed cases)",
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
                    ax.legend(handles[::-1], labels[::-1], title=f"{p.label}\nrating",
                              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
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
            if s >= 8:
                ax.text(xi, b + s / 2, _fmt(s, 0), ha="center", va="center", fontsize=7,
                        color=_text_colour(colour))
        bottom = bottom + share
    n = at.drop_duplicates("visitn").set_index("visitn")["n"].reindex(visits)
    ax.set_xticks(x, [f"{cfg.design.visit_name(int(v))}\nn = {int(k)}" for v, k in n.items()])
    ax.set_ylim(0, 100)
    ax.set_ylabel("Percent of subjects rated")


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
    with _style():
        if records is None:
            records = efficacy_set(efficacy, subjects)
        check_counts_against_ard(records, ard, "trajectories")
        groups = arms(ard)
        params = [(c, p) for c, p in cfg.design.parameters.items()
                  if (records["PARAMCD"] == c).any()]
        if not params:
            return _placeholder("No ratings in the efficacy set", "Individual trajectories")
        ncols = len(groups) if len(groups) > 1 else min(len(params), 2)
        panels = [(c, p, a) for c, p in params for a in groups]
        fig = _new_figure(4.4 * ncols, 3.4 * math.ceil(len(panels) / ncols))
        fig.suptitle("Individual trajectories (grey) and mean (coloured), observed cases",
                     fontweight="bold")
        axes = _grid(fig, len(panels), ncols, sharey=False)
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
            style = _arm_style(i)
            ax.plot(mean["visitn"].to_numpy(float), mean["mean"].to_numpy(float),
                    color=style["color"] if len(groups) > 1 else OKABE_ITO["blue"],
                    marker=style["marker"], lw=2.4, ms=5, zorder=3, label="mean",
                    gid=artist_id("mean", code, arm),
                    path_effects=[patheffects.withStroke(linewidth=4.2, foreground="white")])
            _visit_axis(ax, cfg, rows["AVISITN"].tolist() + mean["visitn"].tolist())
            pad = 0.04 * (p.max - p.min)
            ax.set_ylim(p.min - pad, p.max + pad)
            count = (f"{len(ids)} subjects" if len(shown) == len(ids)
                     else f"{len(shown)} of {len(ids)} subjects, drawn at random")
            ax.set_title(f"{p.label}" + (f", {arm}" if len(groups) > 1 else "")
                         + f" ({count})")
            ax.set_ylabel(p.label)
            ax.grid(axis="y", alpha=0.3)
    return fig


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
    with _style():
        subgroups = cfg.analyses.subgroups
        if subgroups is None or not subgroups.variables:
            return _placeholder("No subgroups in this trial's config", title)
        groups = arms(ard)
        variables = list(subgroups.variables)
        panels = []
        for code, p in cfg.design.parameters.items():
            est = change_estimates(ard, code)
            sub = est[est["analysis"] == "subgroup"]
            if len(sub):
                panels.append((code, p, est))
        if not panels:
            return _placeholder("No subgroup results in ard.csv (no parameter with a "
                                "baseline to change from)", title)
        layouts = [_forest_rows(est, groups, variables) for _, _, est in panels]
        heights = [len(rows) for rows in layouts]
        fig = _new_figure(8.2, sum(0.27 * h + 1.1 for h in heights) + 0.4)
        axes = fig.subplots(len(panels), 1, squeeze=False,
                            height_ratios=[0.27 * h + 1.1 for h in heights]).ravel()
        fig.suptitle(f"{title} ({_level(cfg)} CI), complete pairs", fontweight="bold")
        for ax, (code, p, est), rows in zip(axes, panels, layouts, strict=True):
            to_text = blended_transform_factory(ax.transAxes, ax.transData)
            ticks, labels, bold = [], [], []
            for y, row in zip(range(len(rows), 0, -1), rows, strict=True):
                ticks.append(y)
                labels.append(_variable_label(cfg, row["label"]) if row["kind"] == "header"
                              else row["label"])
                bold.append(row["kind"] != "level")
                if row["kind"] == "header":
                    continue
                r = row["data"]
                i = groups.index(r["arm"]) if r["arm"] in groups else 0
                colour = (_arm_style(i)["color"] if len(groups) > 1 else
                          OKABE_ITO["black"] if r["analysis"] == "paired" else OKABE_ITO["blue"])
                tested = r["tested"] == 1
                ax.plot([r["change_ci_low"], r["change_ci_high"]], [y, y], color=colour,
                        lw=1.6, ls="-" if tested else (0, (3, 2)),
                        gid=artist_id("ci", code, r["group"]))
                marker = "D" if r["analysis"] == "paired" else _arm_style(i)["marker"]
                ax.plot([r["change_mean"]], [y], ls="none", marker=marker, ms=6,
                        color=colour, markerfacecolor=colour if tested else "white",
                        markeredgewidth=1.4, zorder=3, gid=artist_id("est", code, r["group"]))
                text = (f"{_fmt(r['change_mean'])} ({_fmt(r['change_ci_low'])}, "
                        f"{_fmt(r['change_ci_high'])})   {r['n_pairs']:g}"
                        + ("" if tested else " (descriptive only)"))
                ax.text(1.02, y, text, transform=to_text, va="center", fontsize=8,
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
            ax.text(1.02, len(rows) + 0.75, f"Mean ({_level(cfg)} CI)   n pairs",
                    transform=to_text, va="center", fontsize=8, fontweight="bold")
            sets = est.loc[est["analysis"] == "paired", "analysis_set"]
            span = sets.iloc[0] if len(sets) else ""
            ax.set_title(f"{p.label}" + (f": {span}" if span else ""), loc="left")
            ax.set_xlabel(f"Mean change in {p.label} ({_level(cfg)} CI)")
        if len(groups) > 1:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], color=_arm_style(i)["color"],
                              marker=_arm_style(i)["marker"], label=a)
                       for i, a in enumerate(groups)]
            fig.legend(handles=handles, loc="outside lower center", ncols=len(groups))
    return fig


def _forest_rows(est: pd.DataFrame, groups: list[str],
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


def build_figures(ard: pd.DataFrame, efficacy: pd.DataFrame, subjects: pd.DataFrame,
                  trial: Trial | Mapping[str, Any], trial_id: str = "") -> dict[str, Figure]:
    """Every figure, ``{name: Figure}`` in the order of ``FIGURE_NAMES``."""
    cfg = as_trial(trial, trial_id)
    records = efficacy_set(efficacy, subjects)  # once, for both participant-level figures
    figures = {
        "means_by_visit": means_by_visit_figure(ard, cfg),
        "rating_distribution": rating_distribution_figure(efficacy, subjects, ard, cfg,
                                                          records=records),
        "trajectories": trajectories_figure(efficacy, subjects, ard, cfg, records=records),
        "subgroup_forest": subgroup_forest_figure(ard, cfg),
    }
    return figures


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


def figure_bytes(fig: Figure, fmt: str, caption: str = "", alt: str = "") -> bytes:
    """The figure as PNG (``PNG_DPI``) or SVG, the same bytes for the same figure: no date,
    no software version; the caption as the file's title and the alt text as its
    description (SVG <title> and Dublin Core description; PNG text chunks)."""
    # None drops a key matplotlib would otherwise fill (a date, its version).
    metadata: dict[str, Any] = {"Title": caption, "Description": alt} if caption else {}
    if fmt == "svg":
        metadata |= {"Date": None, "Creator": None}
    elif fmt == "png":
        metadata |= {"Date": None, "Software": None}
    else:
        raise ValueError(f"format {fmt!r}: figures are written as {', '.join(FORMATS)}")
    buffer = _bytesio.BytesIO()
    with _style():
        fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def figures_bytes(fig: Figure, caption: str = "", alt: str = "") -> dict[str, bytes]:
    """The figure in every format of ``FORMATS`` (``figure_bytes``), laid out once: the
    constrained layout is computed when the PNG is drawn and kept for the SVG, instead of
    being computed again (the text layout of every tick label and title) for each format.
    The SVG has the PNG's layout, computed at ``PNG_DPI``; the figure's layout engine is
    restored afterwards."""
    engine = fig.get_layout_engine()
    out = {}
    try:
        for fmt in FORMATS:
            out[fmt] = figure_bytes(fig, fmt, caption, alt)
            if engine is not None:
                fig.set_layout_engine("none")  # keep the positions just computed
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    return out


def save_figure(fig: Figure, stem: str | Path, caption: str = "",
                alt: str = "") -> list[Path]:
    """Write ``<stem>.png`` and ``<stem>.svg`` (atomically; laid out once, see
    ``figures_bytes``); returns their paths."""
    from trialreport.files import atomic_write_bytes

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt, data in figures_bytes(fig, caption, alt).items():
        path = stem.with_name(f"{stem.name}.{fmt}")
        atomic_write_bytes(path, data)
        paths.append(path)
    return paths


def write_figures(trial: Trial | Mapping[str, Any], ard_path: str | Path,
                  efficacy_path: str | Path, subjects_path: str | Path,
                  outdir: str | Path, trial_id: str = "") -> list[Path]:
    """The workflow's figures stage: every figure of ``FIGURE_NAMES`` as
    ``<outdir>/<name>.png`` and ``.svg``, from ard.csv (and, for the two participant-level
    figures, the derived efficacy data and the subjects' arms and efficacy flags)."""
    import logging

    from trialreport.pipeline import read_ard

    log = logging.getLogger("trialreport")
    cfg = as_trial(trial, trial_id)
    ard = read_ard(ard_path)
    figures = build_figures(ard, pd.read_parquet(efficacy_path, columns=list(EFFICACY_COLUMNS)),
                            pd.read_parquet(subjects_path, columns=list(SUBJECT_COLUMNS)), cfg)
    texts = captions(cfg, ard)
    paths = []
    for name, fig in figures.items():
        caption, alt = texts[name]
        for path in save_figure(fig, Path(outdir) / name, caption, alt):
            log.info("wrote %s", path)
            paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------
# alt texts with the numbers
# ---------------------------------------------------------------------------------------


def _alt_numbers(name: str, cfg: Trial, ard: pd.DataFrame) -> str:
    groups = arms(ard)
    several = len(groups) > 1
    parts = []
    if name in ("means_by_visit", "trajectories"):
        for code, p in cfg.design.parameters.items():
            for arm in groups:
                rows = by_visit(ard, code, arm).dropna(subset=["mean"])
                if len(rows) < 1:
                    continue
                first, last = rows.iloc[0], rows.iloc[-1]
                parts.append(f"{p.label}{', ' + arm if several else ''}: mean "
                             f"{_fmt(first['mean'])} at {first['visit']} (n = "
                             f"{first['n']:g}), {_fmt(last['mean'])} at {last['visit']} "
                             f"(n = {last['n']:g})")
    elif name == "rating_distribution":
        rated = _rated_parameters(cfg)
        if rated:
            parts.append("Parameters: " + ", ".join(
                f"{p.label} (categories {p.min:g} to {p.max:g})" for p in rated.values()))
    elif name == "subgroup_forest" and cfg.analyses.subgroups:
        # in the order the rows are drawn
        for code, p in cfg.design.parameters.items():
            est = change_estimates(ard, code)
            if not (est["analysis"] == "subgroup").any():
                continue
            for row in _forest_rows(est, groups, list(cfg.analyses.subgroups.variables)):
                if row["kind"] == "header":
                    continue
                r = row["data"]
                who = ("all subjects" if r["analysis"] == "paired"
                       else f"{r['variable']} = {r['level']}")
                parts.append(f"{p.label}, {who}{', ' + r['arm'] if several else ''}: "
                             f"{_fmt(r['change_mean'])} ({_fmt(r['change_ci_low'])} to "
                             f"{_fmt(r['change_ci_high'])}), n = {r['n_pairs']:g}"
                             + ("" if r["tested"] == 1 else ", descriptive only"))
    return (" " + "; ".join(parts) + ".") if parts else ""
