"""Demographics and baseline characteristics, disposition and dose exposure, as
rows of the ARD, per arm and Total: counts and summaries, nothing formatted.

Denominators: the population the config names for demographics and baseline
characteristics (``tables.demographics_population``, default all randomized); the safety
population for exposure; the number enrolled for disposition."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from trialreport.analyse.ard import (
    MISSING,
    SUMMARY_STATS,
    TERM_SEP,
    TOTAL,
    ArdBuilder,
    arms_of,
    is_collected,
    not_collected,
    percent,
)
from trialreport.common.config import AnalysisConfigError, Covariate, Period
from trialreport.common.formatting import format_value
from trialreport.common.frames import member_of
from trialreport.derive.derivations import derive_exposure_days

# ---------------------------------------------------------------------------------------
# demographics, disposition, exposure
# ---------------------------------------------------------------------------------------


def _groups(subjects: pd.DataFrame, population: pd.Series,
            arms: Sequence[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    pop = subjects[population]
    arms = arms_of(subjects) if arms is None else arms
    return [(arm, pop[pop["TRT01P"] == arm]) for arm in arms] + [(TOTAL, pop)]


def _add_categorical(ard: ArdBuilder, analysis: str, parameter: str, values: pd.Series,
                     levels: Sequence[str], group: str, analysis_set: str) -> None:
    text = values.astype("string").fillna(MISSING)
    n_all = len(values)
    for level in levels:
        n = int((text == level).sum())
        keys = {"parameter": parameter, "group": group, "analysis_set": analysis_set,
                "method": "count"}
        ard.add(analysis, f"n_{level}", n, **keys)
        ard.add(analysis, f"pct_{level}", percent(n, n_all), **keys)


_BOUND = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*(-?\d+(?:\.\d+)?)\s*"
                    r"(\+|(?:-|–|to)\s*\d+(?:\.\d+)?)?\s*(?:[A-Za-z]+)?\s*$")



def level_key(level: str) -> tuple[float, int] | None:
    """Where an ordered category's level sorts: its lower bound, then below (``<65``,
    ``<=64``), from (``65-80``, ``65``) or above it (``>80``, ``>=80``, ``80+``); None for a
    level that is not a number or a range."""
    match = _BOUND.match(str(level))
    if match is None:
        return None
    sign, number, tail = match.group(1), float(match.group(2)), match.group(3) or ""
    if sign in ("<", "<=", "≤"):
        return (number, -1)
    if sign in (">", ">=", "≥") or tail == "+":
        return (number, 1)
    return (number, 0)


def order_levels(levels: Sequence[str], order: Sequence[str] = ()) -> list[str]:
    """Levels in the configured ``order`` (levels it does not list follow, by name); without
    one, by lower bound where every level reads as a number or a range (``<65``, ``65-80``,
    ``>80``; ``50`` before ``100``), else by name."""
    if order:
        rank = {str(v): i for i, v in enumerate(order)}
        return sorted(levels, key=lambda v: (rank.get(v, len(rank)), v))
    keys = {v: level_key(v) for v in levels}
    if levels and all(k is not None for k in keys.values()):
        return sorted(levels, key=lambda v: (keys[v], v))
    return sorted(levels)


def _levels(values: pd.Series, order: Sequence[str] = ()) -> list[str]:
    text = values.astype("string")
    levels = order_levels(list(text.dropna().unique()), order)
    return levels + ([MISSING] if text.isna().any() else [])


POPULATIONS = {"randomized": "randomized", "safety": "safety", "enrolled": "enrolled"}


def demographics_population(subjects: pd.DataFrame, name: str = "randomized") -> pd.Series:
    """The subjects of the demographics table (config ``tables.demographics_population``):
    ``randomized`` (RANDFL = Y where the subjects carry RANDFL, else every subject with an
    arm, TRT01P), ``safety`` (SAFFL = Y), ``enrolled`` (every subject), or a Y/N flag column
    of the subjects (e.g. ITTFL)."""
    if name == "enrolled":
        return pd.Series(True, index=subjects.index)
    column = {"randomized": "RANDFL", "safety": "SAFFL"}.get(name, name)
    if column in subjects.columns:
        return (subjects[column].astype("string") == "Y").fillna(False).astype(bool)
    if name == "randomized":
        return subjects["TRT01P"].notna()
    raise AnalysisConfigError(
        f"tables.demographics_population is {name!r}, which is not a column of the subjects "
        "data; set it to randomized, safety, enrolled or a Y/N flag column of the subjects "
        f"({', '.join(c for c in subjects.columns if str(c).endswith('FL')) or 'none here'})")


def baseline_values(efficacy: pd.DataFrame) -> pd.DataFrame:
    """One row per subject and parameter with a baseline: USUBJID, PARAMCD and the baseline
    as AVAL: the subject's BASE (as delivered, or derived from the baseline record), or,
    for a subject and parameter without one, AVAL of the record flagged ``ABLFL = "Y"``."""
    parts = []
    if "BASE" in efficacy.columns:
        parts.append(efficacy.dropna(subset=["BASE"]).drop_duplicates(["USUBJID", "PARAMCD"])
                     [["USUBJID", "PARAMCD", "BASE"]].rename(columns={"BASE": "AVAL"}))
    if "ABLFL" in efficacy.columns:
        flagged = efficacy.loc[efficacy["ABLFL"] == "Y", ["USUBJID", "PARAMCD", "AVAL"]]
        if parts:
            known = parts[0].set_index(["USUBJID", "PARAMCD"]).index
            flagged = flagged[~flagged.set_index(["USUBJID", "PARAMCD"]).index.isin(known)]
        parts.append(flagged)
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVAL"])
    return pd.concat(parts, ignore_index=True)


def add_baseline(ard: ArdBuilder, subjects: pd.DataFrame, efficacy: pd.DataFrame | None,
                 covariates: Sequence[Covariate] = (),
                 arms: Sequence[str] | None = None, population: str = "randomized",
                 order: Mapping[str, Sequence[str]] | None = None) -> None:
    """Demographics and baseline characteristics of ``population`` (see
    ``demographics_population``; its name is the rows' analysis set; categories in
    ``order`` or by ``order_levels``), per arm and total:
    AGE (n, mean, SD, median, min, max), SEX, RACE and ETHNIC where present, the trial's
    covariates (categorical: n (%); continuous: as AGE) and each parameter's baseline score
    (the subject's BASE: AVAL of the record flagged ``ABLFL = "Y"``, or BASE as the data
    deliver it)."""
    from trialreport.stats.descriptive import describe

    analysis_set = POPULATIONS.get(population, f"{population} = Y")
    population = demographics_population(subjects, population)
    categorical = [c for c in ("SEX", "RACE", "ETHNIC") if c in subjects.columns]
    cats = categorical + [c.name for c in covariates
                          if c.type == "categorical" and c.name in subjects.columns]
    conts = [c for c in ("AGE",) if c in subjects.columns] + [
        c.name for c in covariates if c.type == "continuous" and c.name in subjects.columns]
    levels = {c: _levels(subjects.loc[population, c], (order or {}).get(c, ())) for c in cats}
    base = None
    if efficacy is not None:
        base = baseline_values(efficacy)
    for group, rows in _groups(subjects, population, arms):
        ard.add("baseline", "N", len(rows), group=group, analysis_set=analysis_set,
                method="count")
        for name in conts:
            stats = describe(pd.to_numeric(rows[name]).to_numpy(float))
            ard.add_many("baseline", {s: stats[s] for s in SUMMARY_STATS}, parameter=name,
                         group=group, analysis_set=analysis_set, method="descriptive")
        for name in cats:
            _add_categorical(ard, "baseline", name, rows[name], levels[name], group,
                             analysis_set)
        if base is not None:
            in_group = base[member_of(base["USUBJID"], set(rows["USUBJID"].astype(object)))]
            for paramcd in sorted(base["PARAMCD"].unique()):
                values = in_group.loc[in_group["PARAMCD"] == paramcd, "AVAL"]
                stats = describe(values.to_numpy(float, na_value=math.nan))
                ard.add_many("baseline", {s: stats[s] for s in SUMMARY_STATS},
                             parameter=f"BASE_{paramcd}", group=group,
                             analysis_set=f"{analysis_set}, with a baseline rating",
                             method="descriptive")


def add_disposition(ard: ArdBuilder, subjects: pd.DataFrame,
                    exposure: pd.DataFrame | None, arms: Sequence[str] | None = None) -> None:
    """Enrolled, treated (any exposure record; left out when the trial delivers no exposure
    data), completed, discontinued (with each reason from ``DCSREAS``; ``Missing`` when
    absent) and ongoing; % of those enrolled. Without an end-of-study status (no EOSSTAT,
    or EOSSTAT empty for every subject) completed and discontinued are not collected: an
    empty value, ``method`` ``ard.not_collected("EOSSTAT", ...)``, never 0."""
    treated = (None if exposure is None
               else set(exposure["USUBJID"].drop_duplicates().astype(object)))
    everyone = pd.Series(True, index=subjects.index)
    status = (subjects["EOSSTAT"].astype("string") if "EOSSTAT" in subjects.columns
              else pd.Series(pd.NA, index=subjects.index, dtype="string"))
    reasons = subjects.get("DCSREAS", pd.Series(pd.NA, index=subjects.index))
    reasons = reasons.astype("string").fillna(MISSING)
    collected = is_collected(subjects, "EOSSTAT")
    disc = status == "DISCONTINUED"
    reason_levels = sorted(reasons[disc.fillna(False).astype(bool)].unique())
    for group, rows in _groups(subjects, everyone, arms):
        st = status.loc[rows.index]
        n_all = len(rows)
        counts = {"ENROLLED": n_all}
        if treated is not None:
            counts["TREATED"] = int(member_of(rows["USUBJID"], treated).sum())
        counts["COMPLETED"] = int((st == "COMPLETED").sum())
        counts["DISCONTINUED"] = int((st == "DISCONTINUED").sum())
        if (st == "ONGOING").any() or (status == "ONGOING").any():
            counts["ONGOING"] = int((st == "ONGOING").sum())
        in_disc = disc.loc[rows.index].fillna(False).astype(bool)
        for reason in reason_levels:
            counts["DISCONTINUED" + TERM_SEP + reason] = int(
                (reasons.loc[rows.index][in_disc] == reason).sum())
        ard.add("disposition", "N", n_all, group=group, analysis_set="enrolled",
                method="count")
        for parameter, n in counts.items():
            keys = {"parameter": parameter, "group": group, "analysis_set": "enrolled",
                    "method": "count"}
            if parameter in ("COMPLETED", "DISCONTINUED") and not collected:
                n, keys["method"] = math.nan, not_collected("EOSSTAT", "subjects")
            ard.add("disposition", "n", n, **keys)
            ard.add("disposition", "pct", percent(n, n_all), **keys)


ACTIVE_SET = "safety, on active treatment (highest dose above 0)"


def add_dose_exposure(ard: ArdBuilder, subjects: pd.DataFrame, exposure: pd.DataFrame,
                      dose_levels: Sequence[float], periods: Sequence[Period] = (),
                      arms: Sequence[str] | None = None) -> None:
    """Highest dose reached per subject (``MAXDOSE``): summary over the subjects on active
    treatment (highest dose above 0; a placebo-only subject has no dose to summarise), and
    n (%) at each dose level, 0 included (% of the safety population); days on each dose
    per subject (summed over its records at that dose), summarised over the subjects who
    received the dose, with total subject-days."""
    from trialreport.stats.descriptive import describe

    population = subjects["SAFFL"] == "Y"
    ex = derive_exposure_days(exposure, periods)
    max_dose = ex.groupby("USUBJID")["EXDOSE"].max()
    days = ex.groupby(["USUBJID", "EXDOSE"])["EXDUR"].sum(min_count=1)
    levels = sorted(set(float(d) for d in dose_levels) | set(ex["EXDOSE"].astype(float)))
    for group, rows in _groups(subjects, population, arms):
        ids = list(rows["USUBJID"].astype(object))
        ard.add("dose_exposure", "N", len(ids), group=group, analysis_set="safety",
                method="count")
        mine = max_dose.reindex(ids).dropna()
        stats = describe(mine[mine > 0].to_numpy(float))
        ard.add_many("dose_exposure", {s: stats[s] for s in SUMMARY_STATS},
                     parameter="MAXDOSE", group=group, analysis_set=ACTIVE_SET,
                     method="descriptive")
        for level in levels:
            n = int((mine == level).sum())
            keys = {"parameter": "MAXDOSE", "group": group, "analysis_set": "safety",
                    "method": "count"}
            ard.add("dose_exposure", f"n_{format_value(level)}", n, **keys)
            ard.add("dose_exposure", f"pct_{format_value(level)}", percent(n, len(ids)), **keys)
        mydays = days[member_of(days.index.get_level_values("USUBJID"), set(ids))]
        for level in levels:
            at = mydays[mydays.index.get_level_values("EXDOSE") == level]
            stats = describe(at.to_numpy(float))
            keys = {"parameter": f"DAYS_AT_DOSE {format_value(level)}", "group": group,
                    "analysis_set": "safety, received the dose", "method": "descriptive"}
            ard.add_many("dose_exposure", {s: stats[s] for s in SUMMARY_STATS}, **keys)
            ard.add("dose_exposure", "subject_days", float(at.sum()), **keys)
