"""What the figures draw, read from the results: the ARD's rows per figure, and the
participant-level counts of the two figures drawn from the efficacy data (checked against
the ARD's ``by_visit`` n, so they rest on the records the tables rest on)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialreport.common.config import Parameter, Trial, as_trial

FIGURE_NAMES = ("means_by_visit", "rating_distribution", "trajectories", "subgroup_forest",
                "mmrm_lsmeans")
FORMATS = ("png", "svg")
MAX_CATEGORIES = 10
"""A parameter declared ``integer`` with at most this many categories (max - min + 1) gets
a panel in ``rating_distribution``."""


# ---------------------------------------------------------------------------------------
# reading the results
# ---------------------------------------------------------------------------------------


def confidence_label(cfg: Trial) -> str:
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


def rated_parameters(cfg: Trial) -> dict[str, Parameter]:
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
    for code, p in rated_parameters(cfg).items():
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
