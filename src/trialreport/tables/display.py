"""Display tables of safety, demographics, disposition and exposure, from the ARD only.

Each builder takes the analysis-results table (``ard.csv`` read back by
``trialreport.analyse.ard.read_ard``) and the trial's config and returns a frame of text cells;
it formats numbers and orders rows, and computes nothing else. ``write_tables`` writes every
table as CSV to ``results/<trial>/tables/``; the report shows those same files.

Columns are the table's groups in ARD order, each headed with its denominator,
``"<group> (N = n)"``: the arms, then Total (left out in a single-arm trial, where it
equals the arm's). The AE tables of a single-arm trial with periods have instead the
periods, headed with their labels, then All periods: a column named for the drug would
also count the events of a placebo period. There, a row about relationship says "study
treatment (placebo or study drug)" where a period gives placebo only (dose_levels [0]),
and so it does where an arm is given placebo only. The incidence per subject-week has a row
per period there, and a row per arm, with rate ratios against the reference arm, in any
other trial (analysis ``ae_rates``): arms are never pooled into one whole-study row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.analyse.ard import (
    ALL_PERIODS,
    ANY,
    MISSING,
    NO_PERIOD,
    NOT_COLLECTED,
    TERM_SEP,
    TOTAL,
)
from trialreport.analyse.safety import SEVERITIES
from trialreport.common.config import Trial, as_trial
from trialreport.common.formatting import format_value, round_half_up
from trialreport.tables.cells import Ard, fmt_int, fmt_n_pct, fmt_num
from trialreport.tables.labels import as_words, baseline_label, level_labels, population_words


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    note: str
    build: Callable[[pd.DataFrame, Trial], pd.DataFrame]
    periods_note: str = ""
    """Added to the note where the columns are periods (a single-arm trial with periods)."""
    arms_note: str = ""
    """Replaces the note where the rows or columns are arms, when the two differ."""
    arms_title: str = ""
    """Replaces the title where the rows or columns are arms, when the two differ."""
    title_of: Callable[[Trial, bool], str] | None = None
    """The title in words true of the trial (e.g. its population), where it depends on it."""

    def note_for(self, with_periods: bool) -> str:
        if not with_periods and self.arms_note:
            return self.arms_note
        return self.note + (self.periods_note if with_periods else "")

    def title_for(self, with_periods: bool, trial: Trial | None = None,
                  single_arm: bool = False) -> str:
        if self.title_of is not None and trial is not None:
            return self.title_of(trial, single_arm)
        return self.arms_title if not with_periods and self.arms_title else self.title


def _period_labels(trial: Trial) -> dict[str, str]:
    return trial.design.period_labels


def _header(a: Ard, group: str, trial: Trial) -> str:
    label = _period_labels(trial).get(group, group)
    return f"{label} (N = {fmt_int(a.denominator(group))})"


STUDY_DRUG = "study drug"
STUDY_TREATMENT = "study treatment (placebo or study drug)"


def placebo_periods(trial: Trial) -> list[str]:
    """Periods that give placebo only: every dose level the config allows there is 0."""
    return [p.name for p in trial.design.periods
            if p.dose_levels and all(float(d) == 0 for d in p.dose_levels)]


def placebo_arms(ard: pd.DataFrame | None, groups: list[str]) -> list[str]:
    """Arms among ``groups`` that received placebo only: every subject's highest dose is 0
    (``dose_exposure`` MAXDOSE ``pct_0`` = 100), or, where the trial delivers no exposure,
    an arm whose name says placebo."""
    if ard is not None and (ard["analysis"] == "dose_exposure").any():
        dose = Ard(ard, "dose_exposure")
        return [g for g in groups if g not in (TOTAL, ALL_PERIODS)
                and dose.get("MAXDOSE", g, "pct_0") == 100]
    return [g for g in groups if "placebo" in g.lower()]


def related_to(a: Ard, trial: Trial, ard: pd.DataFrame | None = None) -> str:
    """What "related" refers to in a table: the study drug, or, where a column is a placebo
    period or spans one (All periods), or is an arm given placebo only (or spans one:
    Total), the study treatment (placebo or study drug)."""
    groups = set(a.groups())
    placebo = set(placebo_periods(trial))
    if groups & placebo or (ALL_PERIODS in groups and placebo):
        return STUDY_TREATMENT
    if placebo_arms(ard, a.groups()):
        return STUDY_TREATMENT
    return STUDY_DRUG


# ---------------------------------------------------------------------------------------
# adverse events
# ---------------------------------------------------------------------------------------

OVERVIEW_LABELS = {
    ANY: "Subjects with at least one TEAE",
    "RELATED": "  related to study drug",  # or to study treatment: see related_to
    "SEVERE": "  severe",
    "SERIOUS": "  serious",
    "DISCONTINUATION": "  leading to discontinuation of study drug",
    "NOT_TEAE": "Subjects with an AE that is not treatment-emergent (TRTEMFL = N, e.g. "
                "before the first dose; not counted above)",
    NO_PERIOD: "  in no period (no onset day; counted under All periods only)",
}


def _n_pct_events(a: Ard, parameter: str, group: str) -> str:
    """``n (%) [events]``; empty where the ARD has no such row (e.g. a period column of a
    row counted only over all periods)."""
    if not a.has(parameter, group, "n_subjects"):
        return ""
    if (parameter, group) in a.not_collected:
        return NOT_COLLECTED
    n = a.get(parameter, group, "n_subjects")
    return (f"{fmt_n_pct(n, a.get(parameter, group, 'pct_subjects'))} "
            f"[{fmt_int(a.get(parameter, group, 'n_events'))}]")


def ae_overview_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    a = Ard(ard, "ae_overview")
    labels = dict(OVERVIEW_LABELS)
    if related_to(a, trial, ard) == STUDY_TREATMENT:
        labels["RELATED"] = f"  related to {STUDY_TREATMENT}"
        labels["DISCONTINUATION"] = "  leading to discontinuation of study treatment"
    rows = []
    for parameter in a.parameters():
        row = {"Category": labels.get(parameter, parameter)}
        for group in a.groups():
            row[_header(a, group, trial)] = _n_pct_events(a, parameter, group)
        rows.append(row)
    return pd.DataFrame(rows)


def ordered_terms(a: Ard) -> list[tuple[str, str, str]]:
    """(parameter, class, term) in table order: any event; classes by descending Total
    subjects, ties by name; within a class its terms the same way."""
    params = a.parameters()
    total = TOTAL if a.has(ANY, TOTAL, "n_subjects") else a.groups()[-1]

    def key(p: str) -> tuple[float, str]:
        return (-a.get(p, total, "n_subjects"), p)

    socs = sorted((p for p in params if p != ANY and TERM_SEP not in p), key=key)
    out = [(ANY, "", "")]
    for soc in socs:
        out.append((soc, soc, ""))
        pts = [p for p in params if p.startswith(soc + TERM_SEP)]
        for pt in sorted(pts, key=lambda p: (-a.get(p, total, "n_subjects"),
                                             p.split(TERM_SEP, 1)[1])):
            out.append((pt, soc, pt.split(TERM_SEP, 1)[1]))
    return out


def ae_soc_pt_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    a = Ard(ard, "ae_soc_pt")
    rows = []
    for parameter, soc, pt in ordered_terms(a):
        row = {"System organ class": soc or "Any TEAE", "Preferred term": pt}
        for group in a.groups():
            row[_header(a, group, trial)] = _n_pct_events(a, parameter, group)
        rows.append(row)
    return pd.DataFrame(rows)


def _category_table(ard: pd.DataFrame, trial: Trial, analysis: str,
                    levels: Mapping[str, str], category_header: str) -> pd.DataFrame:
    a = Ard(ard, analysis)
    order = ordered_terms(Ard(ard, "ae_soc_pt"))
    shown = [lvl for lvl in levels if lvl != MISSING
             or any(a.get(p, g, f"n_{lvl}") > 0 for p, _, _ in order for g in a.groups())]
    rows = []
    for parameter, soc, pt in order:
        for level in shown:
            row = {"System organ class": soc or "Any TEAE", "Preferred term": pt,
                   category_header: levels[level]}
            for group in a.groups():
                row[_header(a, group, trial)] = fmt_n_pct(a.get(parameter, group, f"n_{level}"),
                                                          a.get(parameter, group,
                                                                f"pct_{level}"))
            rows.append(row)
    return pd.DataFrame(rows)


def ae_severity_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    levels = {s: s.capitalize() for s in SEVERITIES} | {MISSING: "Missing"}
    return _category_table(ard, trial, "ae_severity", levels, "Maximum severity")


def ae_relationship_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    what = related_to(Ard(ard, "ae_relationship"), trial, ard)
    header = "Relationship" if what == STUDY_DRUG else "Relationship to study treatment"
    return _category_table(ard, trial, "ae_relationship",
                           {"RELATED": "Related", "NOT_RELATED": "Not related"}, header)


def _known(a: Ard, group: str, statistic: str, decimals: int) -> str:
    """A rate's cell: the number, or "not collected" where the ARD marks it so."""
    if (a.rows.loc[(a.rows["group"] == group) & (a.rows["statistic"] == statistic), "method"]
            .astype(str).str.startswith(NOT_COLLECTED).any()):
        return NOT_COLLECTED
    return fmt_num(a.get("TEAE", group, statistic), decimals)


def _rate_comparison(a: Ard, test: str) -> tuple[str, str]:
    """A rate ratio's cells: ``ratio [low, high]`` (NE where not estimable, ∞ for an
    unbounded limit) and its exact conditional P (empty where there is none)."""
    p = a.get("TEAE", test, "p_value")
    ratio = (f"{fmt_num(a.get('TEAE', test, 'rate_ratio'), 2) or 'NE'} "
             f"[{fmt_num(a.get('TEAE', test, 'ci_low'), 2)}, "
             f"{fmt_num(a.get('TEAE', test, 'ci_high'), 2)}]")
    return ratio, ("" if math.isnan(p) else "< 0.001" if p < 0.001 else round_half_up(p, 3))


def ae_rates_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    """Incidence per subject-week by arm (analysis ``ae_rates``): each arm's rate, and its
    rate ratio against the reference arm (the row that says ``reference``)."""
    a = Ard(ard, "ae_rates")
    arms = [g for g in a.groups() if g != TOTAL]
    tests = a.rows[a.rows["statistic"] == "p_value"]["group"].tolist()
    reference = tests[0].split(" vs ", 1)[1] if tests else None
    level = f"{100 * trial.analyses.confidence:g}% CI"
    ratio_header = (f"Rate ratio vs {reference} [{level}]" if reference
                    else f"Rate ratio [{level}]")
    rows = []
    for arm in arms:
        test = f"{arm} vs {reference}"
        row = {
            "Arm": arm,
            "Subjects (N)": fmt_int(a.get("TEAE", arm, "N")),
            "Subjects with a TEAE, n (%)": fmt_n_pct(a.get("TEAE", arm, "n_subjects"),
                                                     a.get("TEAE", arm, "pct_subjects")),
            "Events": fmt_int(a.get("TEAE", arm, "n_events")),
            # an arm with a dosing record of unknown end has no known exposure time
            "Subject-weeks of exposure": _known(a, arm, "subject_weeks", 1),
            "Events per subject-week": _known(a, arm, "events_per_subject_week", 3),
            ratio_header: "reference" if arm == reference else "",
            "P (exact conditional)": "",
        }
        if test in tests:
            row[ratio_header], row["P (exact conditional)"] = _rate_comparison(a, test)
        rows.append(row)
    table = pd.DataFrame(rows)
    # nothing compared (one arm, or no exposure time known): no empty comparison columns
    return table if tests else table.drop(columns=[ratio_header, "P (exact conditional)"])


def ae_periods_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    """Incidence per subject-week by period (single-arm trial with periods), or by arm
    where the trial's AE columns are arms (``ae_rates_table``)."""
    if (ard["analysis"] == "ae_rates").any():
        return ae_rates_table(ard, trial)
    a = Ard(ard, "ae_periods")
    labels = _period_labels(trial)
    tests = a.rows[a.rows["statistic"] == "p_value"]["group"].tolist()
    ratio = f"Rate ratio [{100 * trial.analyses.confidence:g}% CI]"
    rows = []
    for period in a.groups():
        test = next((t for t in tests if t.startswith(period + " vs ")), None)
        row = {
            "Period": labels.get(period, period),
            "Subjects exposed": fmt_int(a.get("TEAE", period, "N")),
            "Subjects with a TEAE, n (%)": fmt_n_pct(a.get("TEAE", period, "n_subjects"),
                                                     a.get("TEAE", period, "pct_subjects")),
            "Events": fmt_int(a.get("TEAE", period, "n_events")),
            "Subject-weeks of exposure": fmt_num(a.get("TEAE", period, "subject_weeks"), 1),
            "Events per subject-week": fmt_num(a.get("TEAE", period,
                                                     "events_per_subject_week"), 3),
            ratio: "reference" if tests and period == a.groups()[0] else "",
            "P (exact conditional)": "",
        }
        if test is not None:
            row[ratio], row["P (exact conditional)"] = _rate_comparison(a, test)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# demographics, disposition, exposure
# ---------------------------------------------------------------------------------------


def _continuous_rows(a: Ard, parameter: str, label: str, groups: list[str],
                     headers: list[str], decimals: int = 1) -> list[dict[str, str]]:
    def mean_sd(g: str) -> str:
        mean, sd = a.get(parameter, g, "mean"), a.get(parameter, g, "sd")
        if math.isnan(mean):
            return ""
        return f"{fmt_num(mean, decimals)} ({'-' if math.isnan(sd) else fmt_num(sd, decimals + 1)})"

    def min_max(g: str) -> str:
        lo, hi = a.get(parameter, g, "min"), a.get(parameter, g, "max")
        return "" if math.isnan(lo) else f"{format_value(lo)}, {format_value(hi)}"

    specs = [
        ("n", lambda g: fmt_int(a.get(parameter, g, "n"))),
        ("Mean (SD)", mean_sd),
        ("Median", lambda g: fmt_num(a.get(parameter, g, "median"), decimals)),
        ("Min, max", min_max),
    ]
    rows = []
    for i, (stat, cell) in enumerate(specs):
        row = {"Characteristic": label if i == 0 else "", "Statistic": stat}
        row.update({h: cell(g) for g, h in zip(groups, headers, strict=True)})
        rows.append(row)
    return rows


def _levels_of(a: Ard, parameter: str, prefix: str = "n_") -> list[str]:
    stats = a.rows[(a.rows["parameter"] == parameter)
                   & a.rows["statistic"].str.startswith(prefix)]["statistic"]
    return list(dict.fromkeys(s.removeprefix(prefix) for s in stats))


def _categorical_rows(a: Ard, parameter: str, label: str, groups: list[str],
                      headers: list[str], level_labels: Mapping[str, str] | None = None,
                      prefix: str = "n_") -> list[dict[str, str]]:
    stats = a.rows[(a.rows["parameter"] == parameter)
                   & a.rows["statistic"].str.startswith(prefix)]["statistic"]
    levels = list(dict.fromkeys(s.removeprefix(prefix) for s in stats))
    rows = []
    for i, level in enumerate(levels):
        row = {"Characteristic": label if i == 0 else "",
               "Statistic": (level_labels or {}).get(level, level) + ", n (%)"}
        row.update({h: fmt_n_pct(a.get(parameter, g, f"n_{level}"),
                                 a.get(parameter, g, f"pct_{level}"))
                    for g, h in zip(groups, headers, strict=True)})
        rows.append(row)
    return rows


SEX_LABELS = {"F": "Female", "M": "Male", "U": "Unknown"}


def demographics_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    a = Ard(ard, "baseline")
    groups = a.groups()
    headers = [_header(a, g, trial) for g in groups]
    design = trial.design
    covs = {c.name: c for c in design.covariates}
    rows: list[dict[str, str]] = []
    for parameter in a.parameters():
        if parameter == "AGE":
            rows += _continuous_rows(a, "AGE", "Age (years)", groups, headers)
        elif parameter.startswith("BASE_"):
            rows += _continuous_rows(a, parameter,
                                     baseline_label(trial, parameter.removeprefix("BASE_")),
                                     groups, headers, decimals=2)
        elif parameter in covs and covs[parameter].type == "continuous":
            rows += _continuous_rows(a, parameter, covs[parameter].label,
                                     groups, headers)
        else:
            label = {"SEX": "Sex", "RACE": "Race", "ETHNIC": "Ethnicity"}.get(
                parameter, covs[parameter].label if parameter in covs else parameter)
            words = level_labels(trial, parameter, SEX_LABELS if parameter == "SEX" else None)
            rows += _categorical_rows(a, parameter, label, groups, headers,
                                      {lvl: as_words(lvl, words)
                                       for lvl in _levels_of(a, parameter)})
    return pd.DataFrame(rows)


DISPOSITION_LABELS = {"ENROLLED": "Enrolled", "TREATED": "Treated", "COMPLETED": "Completed",
                      "DISCONTINUED": "Discontinued", "ONGOING": "Ongoing"}


def disposition_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    a = Ard(ard, "disposition")
    reasons = level_labels(trial, "DCSREAS")
    rows = []
    for parameter in a.parameters():
        label = (f"  {as_words(parameter.split(TERM_SEP, 1)[1], reasons)}"
                 if TERM_SEP in parameter else DISPOSITION_LABELS.get(parameter, parameter))
        row = {"Status": label}
        for group in a.groups():
            row[_header(a, group, trial)] = (
                NOT_COLLECTED if (parameter, group) in a.not_collected
                else fmt_n_pct(a.get(parameter, group, "n"), a.get(parameter, group, "pct")))
        rows.append(row)
    return pd.DataFrame(rows)


def _dose_label(dose: str, unit: str) -> str:
    return "0 (placebo)" if float(dose) == 0 else f"{dose} {unit}".strip()


def exposure_table(ard: pd.DataFrame, trial: Trial) -> pd.DataFrame:
    a = Ard(ard, "dose_exposure")
    groups = a.groups()
    headers = [_header(a, g, trial) for g in groups]
    unit = trial.design.dose_unit
    rows = _continuous_rows(a, "MAXDOSE", f"Highest dose reached ({unit})".replace(" ()", "")
                            + ", subjects on active treatment", groups, headers)
    rows += _categorical_rows(a, "MAXDOSE", "Highest dose reached, by level", groups, headers,
                              prefix="n_", level_labels=None)
    for row in rows:
        if row["Statistic"].endswith(", n (%)"):
            dose = row["Statistic"].removesuffix(", n (%)")
            row["Statistic"] = f"{_dose_label(dose, unit)}, n (%)"
    for parameter in a.parameters():
        if not parameter.startswith("DAYS_AT_DOSE "):
            continue
        dose = parameter.removeprefix("DAYS_AT_DOSE ")
        part = _continuous_rows(a, parameter, f"Days at {_dose_label(dose, unit)}", groups,
                                headers)
        total = {"Characteristic": "", "Statistic": "Total subject-days"}
        total.update({h: fmt_int(a.get(parameter, g, "subject_days"))
                      for g, h in zip(groups, headers, strict=True)})
        rows += part + [total]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# the set of tables
# ---------------------------------------------------------------------------------------

_PCT = ("n (%) of subjects, % of the column's N (safety population, SAFFL = Y); "
        "[events] counts every event.")
_PERIODS = (" Where the columns are periods (a single-arm trial with periods), a period "
            "column counts the events that began in it (APHASE) among the subjects exposed "
            "in it; All periods counts every event of the safety population, including any "
            "with no period (no onset day), which are in no period column.")
_RELATED = (" Where a period gives placebo only, related there means related to the "
            "study treatment of that period, placebo, and All periods counts events related "
            "to placebo or to the study drug.")

TABLES: tuple[TableSpec, ...] = (
    TableSpec("demographics", "Demographics and baseline characteristics",
              "SD with n - 1; min, max as recorded. Baseline score: the "
              "record flagged ABLFL = Y (each parameter's own baseline visit).",
              demographics_table, title_of=lambda trial, single_arm: (
                  "Demographics and baseline characteristics: "
                  + population_words(trial.tables.demographics_population, single_arm))),
    TableSpec("disposition", "Disposition",
              "% of subjects enrolled. Treated: at least one exposure record. Reasons for "
              "discontinuation from DCSREAS.", disposition_table),
    TableSpec("exposure", "Exposure",
              "Safety population. Highest dose: the highest EXDOSE of the subject's exposure "
              "records (0 = placebo only); its n, mean, SD, median, min and max are over "
              "the subjects on active treatment only (highest dose above 0), and a "
              "placebo-only subject is counted in the 0 (placebo) row. Days at a dose: "
              "EXENDY - EXSTDY + 1 summed over the subject's records at that dose, among "
              "subjects who received it.",
              exposure_table),
    TableSpec("ae_overview", "Overview of treatment-emergent adverse events (TEAE)",
              _PCT + " Related: AEREL POSSIBLY RELATED, PROBABLY RELATED or RELATED, or "
              "missing. Severe: AESEV = SEVERE. Leading to discontinuation: AEACN = DRUG "
              "WITHDRAWN.", ae_overview_table, _PERIODS + _RELATED),
    TableSpec("ae_soc_pt", "TEAEs by system organ class and preferred term",
              _PCT + " A subject is counted once per class and once per term. Sorted by "
              "descending frequency of subjects in the last column (the total), "
              "ties by name.", ae_soc_pt_table, _PERIODS),
    TableSpec("ae_severity", "TEAEs by maximum severity",
              "n (%) of subjects, each counted once per row at the highest severity of its "
              "events there (mild < moderate < severe). Missing: every event of the subject "
              "there lacks a severity (the row is shown only when it occurs).",
              ae_severity_table, _PERIODS),
    TableSpec("ae_relationship", "TEAEs by relationship to study treatment",
              "n (%) of subjects, each counted once per row: Related if any of its events "
              "there is possibly, probably or definitely related, or has no assessment "
              "(counted as related); otherwise Not related.", ae_relationship_table,
              _PERIODS + _RELATED),
    TableSpec("ae_periods", "TEAE incidence by period, per subject-week of exposure",
              "Events by period of onset (APHASE). Subject-weeks: exposure days (EXENDY - "
              "EXSTDY + 1) / 7, summed over the safety population.", ae_periods_table,
              " Rate ratio against the first period with the exact conditional test of two "
              "Poisson rates (binomial test of the events given their total; "
              "Clopper-Pearson interval).",
              arms_note="Per arm, safety population: every TEAE of the arm's subjects. "
              "Subject-weeks: exposure days (EXENDY - EXSTDY + 1) / 7, summed over the "
              "arm's exposure records. Rate ratio: events per subject-week of each arm "
              "against the reference arm (analyses.parallel.reference_arm, else Placebo), "
              "with the exact conditional test of two Poisson rates (binomial test of the "
              "arm's events given the two arms' total; Clopper-Pearson interval). NE: not "
              "estimable (no event in the reference arm; the interval's upper limit is then "
              "unbounded, ∞). Not collected: a dosing record of the arm has no end day, so "
              "its exposure time is not known.",
              arms_title="TEAE incidence by arm, per subject-week of exposure"),
)

SPECS_BY_NAME = {spec.name: spec for spec in TABLES}

ANALYSIS_OF = {"demographics": "baseline", "exposure": "dose_exposure",
               "ae_periods": ("ae_periods", "ae_rates")}
"""The ARD analysis a table formats, where it is not the table's name."""

NEEDS = {
    "exposure": "exposure data (data.exposure)",
    "ae_periods": "adverse events and exposure data (data.adverse_events, data.exposure)",
}
"""What the trial must deliver for a table, where that is not adverse events."""


def absent_reason(ard: pd.DataFrame, name: str) -> str | None:
    """Why a table has nothing to show (its analysis has no rows), or None if it has."""
    analysis = ANALYSIS_OF.get(name, name)
    if ard["analysis"].isin([analysis] if isinstance(analysis, str) else analysis).any():
        return None
    needs = NEEDS.get(name, "adverse events (data.adverse_events)" if name.startswith("ae_")
                      else "the data of this table")
    return f"Not available: the trial does not deliver {needs}."


def build_tables(ard: pd.DataFrame, trial: Trial | Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Every table of ``TABLES``; a table whose data the trial does not deliver is one cell
    saying so (column ``Not available``), so that every table file is always written."""
    trial = as_trial(trial)
    out = {}
    for spec in TABLES:
        reason = absent_reason(ard, spec.name)
        out[spec.name] = (spec.build(ard, trial) if reason is None
                          else pd.DataFrame({"Not available": [reason]}))
    return out


def write_tables(ard: pd.DataFrame, trial: Trial | Mapping[str, Any],
                 outdir: str | Path) -> list[Path]:
    """Write every table as ``<outdir>/<name>.csv`` (UTF-8, ``\\n`` line ends)."""
    from trialreport.common.frames import write_csv

    outdir = Path(outdir)
    paths = []
    for name, table in build_tables(ard, trial).items():
        path = outdir / f"{name}.csv"
        write_csv(table, path)
        paths.append(path)
    return paths


def read_display_table(tables_dir: str | Path, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(tables_dir) / f"{name}.csv", dtype=str, keep_default_na=False)
