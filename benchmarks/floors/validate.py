"""The validate stage's floor: every contract check and dataset rule in plain
pandas and NumPy."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .common import isin

# ---------------------------------------------------------------------------------------
# validate: every check of the four contracts, the baselines, the typed Parquet files
# ---------------------------------------------------------------------------------------


def _map(values: pd.Series, mapping: dict[Any, Any]) -> np.ndarray:
    """``values.map(mapping)`` as floats (NaN where there is no entry), looked up once per
    distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    looked_up = np.array([mapping.get(u, np.nan) if not pd.isna(u) else np.nan
                          for u in uniques], dtype=float)
    return looked_up[codes]


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=float, na_value=np.nan)


def _rule_failures(name: str, df: pd.DataFrame, design: dict[str, Any]) -> dict[str, np.ndarray]:
    """Rows failing each dataset-level rule of the contracts (schemas/*.yaml, ``rules``)."""
    visits = {v["name"]: float(v["number"]) for v in design["visits"]}
    days = {v["name"]: float(v["day"]) for v in design["visits"] if v.get("day") is not None}
    windows = {v["name"]: float(v.get("window_days", design.get("visit_window_days")))
               for v in design["visits"] if v.get("day") is not None
               and v.get("window_days", design.get("visit_window_days")) is not None}
    params = design["parameters"]
    first = {p["name"]: float(p["first_day"]) for p in design["periods"]}
    last = {p["name"]: float(p["last_day"]) for p in design["periods"]}
    bad: dict[str, np.ndarray] = {}
    if name == "scores":
        aval, visitn = _floats(df["AVAL"]), _floats(df["AVISITN"])
        expected = _map(df["AVISIT"], visits)
        bad["visit_name_matches_number"] = ~np.isnan(expected) & ~np.isnan(visitn) & (
            expected != visitn)
        lo = _map(df["PARAMCD"], {k: float(p["min"]) for k, p in params.items()})
        hi = _map(df["PARAMCD"], {k: float(p["max"]) for k, p in params.items()})
        with np.errstate(invalid="ignore"):
            bad["aval_within_parameter_range"] = ~np.isnan(aval) & ~np.isnan(lo) & ~np.isnan(
                hi) & ((aval < lo) | (aval > hi))
        integer = _map(df["PARAMCD"], {k: float(bool(p.get("integer"))) for k, p in
                                       params.items()}) == 1
        bad["aval_integer_where_declared"] = integer & ~np.isnan(aval) & (np.round(aval) != aval)
        ady = _floats(df["ADY"])
        gap = np.abs(ady - _map(df["AVISIT"], days))
        window = _map(df["AVISIT"], windows)
        bad["ady_within_visit_window"] = ~np.isnan(gap) & ~np.isnan(window) & (gap > window)
    elif name == "subjects":
        bad["discontinued_has_reason"] = ((df["EOSSTAT"] == "DISCONTINUED").fillna(False)
                                          & df["DCSREAS"].isna()).to_numpy(dtype=bool)
    elif name == "adverse_events":
        start, end = _floats(df["ASTDY"]), _floats(df["AENDY"])
        bad["end_not_before_onset"] = end < start  # NaN compares False
        f, la = _map(df["APHASE"], first), _map(df["APHASE"], last)
        bad["onset_within_period"] = (start < f) | (start > la)
    else:
        start, end = _floats(df["EXSTDY"]), _floats(df["EXENDY"])
        bad["end_not_before_start"] = end < start
        f, la = _map(df["APHASE"], first), _map(df["APHASE"], last)
        bad["interval_within_period"] = (start < f) | (start > la) | (end < f) | (end > la)
        whole = ~np.isnan(start) & ~np.isnan(end) & (end >= start)
        iv = pd.DataFrame({"s": pd.factorize(df["USUBJID"])[0][whole], "a": start[whole],
                           "b": end[whole], "i": np.flatnonzero(whole)}).sort_values(
            ["s", "a", "b"], kind="stable")
        group = iv.groupby("s", sort=False)
        latest = group["b"].cummax().groupby(iv["s"], sort=False).shift()
        overlap = (iv["a"] <= latest).to_numpy() | (iv["b"] >= group["a"].shift(-1)).to_numpy()
        bad["no_overlapping_intervals"] = np.isin(np.arange(len(df)), iv["i"].to_numpy()[overlap])
        levels = design.get("dose_levels")
        period_doses = {p["name"]: p["dose_levels"] for p in design["periods"]
                        if "dose_levels" in p}
        if levels is not None:
            dose = _floats(df["EXDOSE"])
            checked = isin(df["APHASE"], period_doses) & np.isin(dose, np.asarray(levels, float))
            allowed = np.zeros(len(df), dtype=bool)
            for period, doses in period_doses.items():
                allowed |= (df["APHASE"] == period).fillna(False).to_numpy(dtype=bool) & np.isin(
                    dose, np.asarray(doses, float))
            bad["dose_allowed_in_period"] = checked & ~allowed
    return bad


def validate_floor(trial: dict[str, Any], contracts: dict[str, dict[str, Any]],
                   inputs: dict[str, Any], outputs: dict[str, Any]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every check the contracts make (``contracts``: schemas/<dataset>.yaml as loaded),
    in plain pandas and NumPy, on the ingested Parquet files: the required columns; each
    column typed (text stripped, numbers parsed, whole numbers where an integer is due);
    not-null, allowed values, subjects known, ranges; the key unique; the dataset-level
    rules; copies of subject-level columns equal to the subjects'; a baseline for every
    subject with post-baseline ratings (excluded, as the benchmark trial's config says,
    or a failure). The typed datasets are written as Parquet when no failure is an error.

    Returns the failures, columns dataset, row, column, rule, severity (sorted), and the
    exclusions (USUBJID, PARAMCD). Its regime: periods listed in the config and present in
    the data (APHASE); numbers below 2**53; ``missing_baseline: exclude``."""
    design, validation = trial["design"], trial.get("validation", {})
    warn = set(validation.get("warn", []))
    domains = {"visit_names": [v["name"] for v in design["visits"]],
               "visit_numbers": [float(v["number"]) for v in design["visits"]],
               "parameter_codes": list(design["parameters"]),
               "dose_levels": design.get("dose_levels"),
               "periods": [p["name"] for p in design["periods"]],
               "study_days": design.get("study_days"),
               "onset_days": (None if "study_days" not in design
                              else (-math.inf, design["study_days"][1])),
               "age_range": design.get("age_range")}
    found: list[pd.DataFrame] = []
    typed: dict[str, pd.DataFrame] = {}
    raw: dict[str, pd.DataFrame] = {}

    def fail(dataset: str, rows: Any, column: str, rule: str) -> None:
        rows = np.asarray(rows)
        if rows.size:
            found.append(pd.DataFrame({"dataset": dataset, "row": rows.astype(int),
                                       "column": column, "rule": rule}))

    for name, contract in contracts.items():
        df = raw[name] = pd.read_parquet(inputs[name])
        rows = df["SRCROW"].to_numpy()
        out = {}
        for column, spec in contract["columns"].items():
            if column not in df.columns:
                if spec.get("required", True):
                    fail(name, [1], column, "required_column")
                continue
            text = df[column].astype("string").str.strip()
            if spec["type"] == "string":
                value = text.replace({"": pd.NA})
                missing = null = value.isna().to_numpy()
            else:
                number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
                given = (text.notna() & (text != "")).to_numpy(dtype=bool)
                wrong = given & ~np.isfinite(number)
                if spec["type"] == "integer":
                    wrong |= np.isfinite(number) & (np.round(number) != number)
                fail(name, rows[wrong], column, "type")
                number[wrong] = np.nan
                value = pd.array(number, dtype="Float64")
                if spec["type"] == "integer":
                    value = value.astype("Int64")
                null = np.isnan(number)
                missing = null & ~wrong  # a value of the wrong type is reported as such
            out[column] = value
            if not spec.get("nullable", False):
                fail(name, rows[missing], column, "not_null")
            allowed = spec.get("allowed")
            if isinstance(allowed, dict):
                allowed = (typed["subjects"]["USUBJID"].dropna().unique()
                           if allowed["domain"] == "subject_ids" else domains[allowed["domain"]])
            if allowed is not None:
                ok = (isin(value, allowed) if spec["type"] == "string"
                      else np.isin(_floats(pd.Series(value)), np.asarray(allowed, float)))
                rule = ("subject_in_subjects" if spec["allowed"] == {"domain": "subject_ids"}
                        else "allowed_values")
                fail(name, rows[~ok & ~null], column, rule)
            bounds = spec.get("range")
            if isinstance(bounds, dict):
                bounds = domains[bounds["domain"]]
            if bounds is not None:
                x = _floats(pd.Series(value))
                fail(name, rows[(x < bounds[0]) | (x > bounds[1])], column, "range")
        frame = df.assign(**out)
        key = [c for c in contract.get("key", []) if c in frame.columns]
        if key:
            fail(name, rows[frame.duplicated(key, keep=False).to_numpy()], "+".join(key),
                 "unique_key")
        for rule, bad in _rule_failures(name, frame, design).items():
            fail(name, rows[bad], "+".join(_RULE_COLUMNS[rule]), rule)
        typed[name] = frame
    subjects = raw["subjects"]  # subject-level copies, as delivered (text compared as text)
    first = subjects.assign(USUBJID=subjects["USUBJID"].str.strip()).drop_duplicates("USUBJID")
    for name, frame in raw.items():
        if name == "subjects":
            continue
        copies = [c for c in frame.columns if c in subjects.columns
                  and c not in ("USUBJID", "SRCROW") and c not in contracts[name]["columns"]]
        ids = frame["USUBJID"].str.strip()
        for column in copies:
            truth = pd.Series(first[column].astype("string").str.strip().to_numpy(),
                              index=first["USUBJID"].to_numpy())
            mine = frame[column].astype("string").str.strip().replace({"": pd.NA})
            theirs = ids.map(truth).astype("string").replace({"": pd.NA})
            same = ((mine == theirs).fillna(False) | (mine.isna() & theirs.isna())).to_numpy(
                dtype=bool)
            known = isin(ids, first["USUBJID"])
            fail(name, frame["SRCROW"].to_numpy()[known & ~same], column, "matches_subjects")
        typed[name] = typed[name].drop(columns=copies)
    # a baseline for every subject with a post-baseline rating of a parameter
    scores = typed["scores"]
    if "DTYPE" in scores.columns:
        scores = scores[scores["DTYPE"].isna().to_numpy()]
    aval, visitn = _floats(scores["AVAL"]), _floats(scores["AVISITN"])
    excluded = []
    for code, p in design["parameters"].items():
        if p.get("baseline_visit") is None:
            continue
        mine = (scores["PARAMCD"] == code).fillna(False).to_numpy(dtype=bool)
        has_base = mine & (visitn == p["baseline_visit"]) & ~np.isnan(aval)
        if "BASE" in scores.columns:
            has_base |= mine & scores["BASE"].notna().to_numpy()
        post = mine & (visitn > p["baseline_visit"]) & ~np.isnan(aval)
        ids = scores["USUBJID"]
        lacking = post & ~isin(ids, ids[has_base].unique())
        for subject in np.unique(ids[lacking].to_numpy(object)):
            excluded.append((subject, code))
    if excluded and validation.get("missing_baseline", "error") != "exclude":
        raise NotImplementedError("missing baselines as failures: outside the floor's regime")
    for name, rows, column, rule in _cross_dataset(typed):
        fail(name, rows, column, rule)
    table = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["dataset", "row", "column", "rule"])
    table["severity"] = np.where(table["rule"].isin(list(warn)), "warning", "error")
    cross = table["rule"].isin(list(_CROSS_RULES)).to_numpy()
    table.loc[cross, "severity"] = ("error" if validation.get("consistency") == "refuse"
                                    else "warning")
    table = table.drop_duplicates().sort_values(["dataset", "row", "column", "rule"],
                                                ignore_index=True)
    exclusions = pd.DataFrame(excluded, columns=["USUBJID", "PARAMCD"])
    if not (table["severity"] == "error").any():
        for name, frame in typed.items():
            frame.to_parquet(outputs[name], index=False)
        table.to_csv(outputs["warnings"], index=False)
        exclusions.to_csv(outputs["exclusions"], index=False)
    return table, exclusions


_CROSS_RULES = ("ae_discontinuation_has_ae", "death_has_fatal_ae", "ae_onset_within_contact",
                "exposure_within_treatment")


def _upper(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().str.upper()


def _cross_dataset(typed: dict[str, pd.DataFrame]) -> list[tuple[str, np.ndarray, str, str]]:
    """The cross-dataset checks, vectorised: (dataset, failing SRCROWs, column, rule).
    Regime: every dataset delivered; the treatment end from TRTDURD only; no open
    exposure record and no event without an onset day (the stage's notes on those are
    left out)."""
    s, ae, ex, sc = (typed[n] for n in ("subjects", "adverse_events", "exposure", "scores"))
    ids, ae_ids = s["USUBJID"], ae["USUBJID"]
    reason, status = _upper(s, "DCSREAS"), _upper(s, "EOSSTAT")
    acn = _upper(ae, "AEACN")
    collected = bool((acn.notna() & (acn != "")).any())
    has = ae_ids[(acn == "DRUG WITHDRAWN").fillna(False).to_numpy(bool)] if collected else ae_ids
    disc = ((reason == "ADVERSE EVENT") & (status != "COMPLETED").fillna(True)).fillna(False)
    out = [("subjects", s["SRCROW"].to_numpy()[disc.to_numpy(bool) & ~isin(ids, has.unique())],
            "DCSREAS", "ae_discontinuation_has_ae")]
    if "AEOUT" in ae.columns or "AESDTH" in ae.columns:
        fatal = ((_upper(ae, "AEOUT") == "FATAL").fillna(False)
                 | (_upper(ae, "AESDTH") == "Y").fillna(False)).to_numpy(bool)
        has = ae_ids[fatal]
    else:
        has = ae_ids
    died = (reason == "DEATH").fillna(False).to_numpy(bool)
    out.append(("subjects", s["SRCROW"].to_numpy()[died & ~isin(ids, has.unique())],
                "DCSREAS", "death_has_fatal_ae"))
    days = pd.concat([pd.DataFrame({"id": f["USUBJID"].to_numpy(object), "day": _floats(f[c])})
                      for f, c in ((sc, "ADY"), (ex, "EXSTDY"), (ex, "EXENDY"))])
    contact = days.dropna().groupby("id")["day"].max()
    last = ae_ids.astype(object).map(contact).to_numpy(dtype=float)
    late = _floats(ae["ASTDY"]) > last
    out.append(("adverse_events", ae["SRCROW"].to_numpy()[late], "ASTDY",
                "ae_onset_within_contact"))
    if "TRTDURD" in s.columns:
        first = ex.groupby(ex["USUBJID"].astype(object))["EXSTDY"].min().astype(float)
        dur = pd.Series(pd.to_numeric(s["TRTDURD"], errors="coerce").to_numpy(float),
                        index=ids.astype(object))
        end = (first + dur.groupby(level=0).first() - 1).dropna()
        past = _floats(ex["EXENDY"]) > ex["USUBJID"].astype(object).map(end).to_numpy(float)
        out.append(("exposure", ex["SRCROW"].to_numpy()[past], "EXENDY",
                    "exposure_within_treatment"))
    return out


_RULE_COLUMNS = {
    "visit_name_matches_number": ("AVISIT", "AVISITN"),
    "aval_within_parameter_range": ("PARAMCD", "AVAL"),
    "aval_integer_where_declared": ("PARAMCD", "AVAL"),
    "ady_within_visit_window": ("AVISIT", "ADY"),
    "discontinued_has_reason": ("EOSSTAT", "DCSREAS"),
    "end_not_before_onset": ("ASTDY", "AENDY"),
    "onset_within_period": ("APHASE", "ASTDY"),
    "end_not_before_start": ("EXSTDY", "EXENDY"),
    "interval_within_period": ("APHASE", "EXSTDY", "EXENDY"),
    "no_overlapping_intervals": ("USUBJID", "EXSTDY", "EXENDY"),
    "dose_allowed_in_period": ("APHASE", "EXDOSE"),
}
