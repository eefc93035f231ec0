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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trialreport.common.config import Trial, as_trial
from trialreport.figures.data import FORMATS

if TYPE_CHECKING:
    from matplotlib.figure import Figure
from trialreport.figures.captions import captions
from trialreport.figures.data import EFFICACY_COLUMNS, SUBJECT_COLUMNS, efficacy_set
from trialreport.figures.forest import subgroup_forest_figure
from trialreport.figures.means import means_by_visit_figure
from trialreport.figures.mmrm import mmrm_lsmeans_figure
from trialreport.figures.ratings import rating_distribution_figure
from trialreport.figures.style import PNG_DPI, figure_style
from trialreport.figures.trajectories import trajectories_figure


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
        "mmrm_lsmeans": mmrm_lsmeans_figure(ard, cfg),
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
    with figure_style():
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
    from trialreport.common.files import atomic_write_bytes

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

    from trialreport.analyse.ard import read_ard

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
