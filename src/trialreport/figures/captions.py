"""Every figure's caption and alt text, and the sentence shown instead of a figure
that has nothing to draw, with the numbers the alt text reads out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialreport.common.config import Trial, as_trial
from trialreport.figures.data import (
    FIGURE_NAMES,
    MAX_CATEGORIES,
    arms,
    by_visit,
    change_estimates,
    confidence_label,
    rated_parameters,
)
from trialreport.figures.forest import forest_rows
from trialreport.figures.mmrm import NO_MMRM, lsmeans_by_visit, mmrm_models
from trialreport.figures.style import fmt_number
from trialreport.figures.trajectories import MAX_TRAJECTORIES


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
        "mmrm_lsmeans": (
            f"LS mean by visit with its {level} confidence interval from each MMRM of the "
            "trial's config (analyses.models, kind: mmrm), one line per arm, arms drawn "
            "side by side; the dotted line marks zero. Values from ard.csv (analysis mmrm: "
            "lsmean, ci_low, ci_high).",
            "Line chart, one panel per MMRM: the LS mean of each arm at each visit with "
            f"vertical bars for its {level} confidence interval, one line per arm."),
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
    texts = _caption_texts(confidence_label(cfg), str(subgroups.min_n) if subgroups else "min_n")
    if subgroups is None:
        texts["subgroup_forest"] = ("Subgroups: none, the trial's config names no subgroup "
                                    "variables (analyses.subgroups).",
                                    "An empty figure saying that the trial's config has no "
                                    "subgroups.")
    if not rated_parameters(cfg):
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
    rated = rated_parameters(cfg)
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
    if not mmrm_models(cfg, ard):
        why["mmrm_lsmeans"] = NO_MMRM
    return {name: why[name] for name in FIGURE_NAMES if name in why}


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
                             f"{fmt_number(first['mean'])} at {first['visit']} (n = "
                             f"{first['n']:g}), {fmt_number(last['mean'])} at {last['visit']} "
                             f"(n = {last['n']:g})")
    elif name == "rating_distribution":
        rated = rated_parameters(cfg)
        if rated:
            parts.append("Parameters: " + ", ".join(
                f"{p.label} (categories {p.min:g} to {p.max:g})" for p in rated.values()))
    elif name == "subgroup_forest" and cfg.analyses.subgroups:
        # in the order the rows are drawn
        for code, p in cfg.design.parameters.items():
            est = change_estimates(ard, code)
            if not (est["analysis"] == "subgroup").any():
                continue
            for row in forest_rows(est, groups, list(cfg.analyses.subgroups.variables)):
                if row["kind"] == "header":
                    continue
                r = row["data"]
                who = ("all subjects" if r["analysis"] == "paired"
                       else f"{r['variable']} = {r['level']}")
                parts.append(f"{p.label}, {who}{', ' + r['arm'] if several else ''}: "
                             f"{fmt_number(r['change_mean'])} ({fmt_number(r['change_ci_low'])} to "
                             f"{fmt_number(r['change_ci_high'])}), n = {r['n_pairs']:g}"
                             + ("" if r["tested"] == 1 else ", descriptive only"))
    elif name == "mmrm_lsmeans":
        for spec, rows in mmrm_models(cfg, ard):
            for arm in groups:
                wide = lsmeans_by_visit(rows, arm)
                if len(wide):
                    last = wide.iloc[-1]
                    parts.append(f"{spec.id}, {arm}: LS mean {fmt_number(last['lsmean'])} "
                                 f"({fmt_number(last['ci_low'])} to "
                                 f"{fmt_number(last['ci_high'])}) at {last['visit']}")
    return (" " + "; ".join(parts) + ".") if parts else ""
