"""The tables stage's floor: the display tables formatted from the ARD."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .reproduce import half_up as round_half_up_text

# ---------------------------------------------------------------------------------------
# tables: the eight display tables of a one-arm trial with periods, pivoted from ard.csv
# ---------------------------------------------------------------------------------------

TABLE_NAMES = ("demographics", "disposition", "exposure", "ae_overview", "ae_soc_pt",
               "ae_severity", "ae_relationship", "ae_periods")


def tables_floor(ard_path: Any, trial: dict[str, Any], outdir: Any) -> None:
    """The display tables (``trialreport.tables``) of a one-arm trial whose adverse-event
    columns are its periods, one of them placebo only: each analysis of ard.csv pivoted to
    a (parameter, statistic) x group table, its cells formatted (``n (%)``, ``[events]``,
    mean (SD), half-up rounding) and its rows ordered (classes and terms by descending
    subjects in the last column, then name); written as CSV. The row labels are the
    stage's own text (``trialreport.tables``)."""
    from pathlib import Path

    from trialreport.common.config import as_trial
    from trialreport.tables.display import (
        DISPOSITION_LABELS,
        OVERVIEW_LABELS,
        SEX_LABELS,
        as_words,
        baseline_label,
    )

    design = trial["design"]
    period_label = {p["name"]: p["label"] for p in design.get("periods", [])}
    unit = design.get("dose_unit", "")
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    rounded: dict[tuple[float, int], str] = {}

    def half_up(v: float, d: int) -> str:
        if (v, d) not in rounded:
            rounded[(v, d)] = "" if v != v else round_half_up_text(v, d)
        return rounded[(v, d)]

    def num(v: float) -> str:
        return f"{v:.0f}" if float(v).is_integer() else repr(float(v))

    def n_pct(n: float, pct: float) -> str:
        return "0" if n == 0 else f"{n:.0f} ({half_up(pct, 1)})"

    def wide(analysis: str) -> tuple[pd.DataFrame, list[str], list[str]]:
        rows = ard[ard["analysis"] == analysis]
        table = rows.pivot_table(index=["parameter", "statistic"], columns="group",
                                 values="value", aggfunc="first", sort=False)
        groups = list(dict.fromkeys(rows.loc[rows["statistic"] == "N", "group"]))
        if "All periods" not in groups and "Total" in groups:
            groups.remove("Total")  # one arm: Total equals it
        n = table.loc[("" if analysis != "ae_periods" else "TEAE", "N")]
        headers = [f"{period_label.get(g, g)} (N = {n[g]:.0f})" for g in groups]
        return table, groups, headers

    def cont(table: pd.DataFrame, p: str, label: str, groups: list[str],
             headers: list[str], d: int = 1) -> list[dict[str, str]]:
        s = table.loc[p]
        cells = {"n": [f"{s.at['n', g]:.0f}" for g in groups],
                 "Mean (SD)": [f"{half_up(s.at['mean', g], d)} ({half_up(s.at['sd', g], d + 1)})"
                               for g in groups],
                 "Median": [half_up(s.at["median", g], d) for g in groups],
                 "Min, max": [f"{num(s.at['min', g])}, {num(s.at['max', g])}" for g in groups]}
        return [{"Characteristic": label if i == 0 else "", "Statistic": k}
                | dict(zip(headers, v, strict=True)) for i, (k, v) in enumerate(cells.items())]

    def cat(table: pd.DataFrame, p: str, label: str, groups: list[str], headers: list[str],
            names: Any = lambda level: level) -> list[dict[str, str]]:
        s = table.loc[p]
        levels = [st[2:] for st in s.index if st.startswith("n_")]
        return [{"Characteristic": label if i == 0 else "", "Statistic": f"{names(lv)}, n (%)"}
                | {h: n_pct(s.at[f"n_{lv}", g], s.at[f"pct_{lv}", g])
                   for g, h in zip(groups, headers, strict=True)}
                for i, lv in enumerate(levels)]

    out: dict[str, pd.DataFrame] = {}
    covariates = {c["name"]: c["label"] for c in design.get("covariates", [])}
    t, groups, headers = wide("baseline")
    rows: list[dict[str, str]] = []
    for p in dict.fromkeys(t.index.get_level_values(0)):
        if p == "AGE":
            rows += cont(t, p, "Age (years)", groups, headers)
        elif p.startswith("BASE_"):
            rows += cont(t, p, baseline_label(as_trial(trial), p[5:]), groups, headers, 2)
        elif p:
            rows += cat(t, p, "Sex" if p == "SEX" else covariates.get(p, p), groups, headers,
                        (lambda lv: SEX_LABELS.get(lv, lv)) if p == "SEX" else as_words)
    out["demographics"] = pd.DataFrame(rows)

    t, groups, headers = wide("disposition")
    out["disposition"] = pd.DataFrame([
        {"Status": f"  {as_words(p.split(' / ', 1)[1])}" if " / " in p
         else DISPOSITION_LABELS.get(p, p)}
        | {h: n_pct(t.at[(p, "n"), g], t.at[(p, "pct"), g])
           for g, h in zip(groups, headers, strict=True)}
        for p in dict.fromkeys(t.index.get_level_values(0)) if p])

    t, groups, headers = wide("dose_exposure")

    def dose(level: str) -> str:
        return "0 (placebo)" if float(level) == 0 else f"{level} {unit}".strip()

    rows = cont(t, "MAXDOSE", f"Highest dose reached ({unit}), subjects on active treatment",
                groups, headers)
    rows += cat(t, "MAXDOSE", "Highest dose reached, by level", groups, headers, dose)
    for p in dict.fromkeys(t.index.get_level_values(0)):
        if p.startswith("DAYS_AT_DOSE "):
            rows += cont(t, p, f"Days at {dose(p[13:])}", groups, headers)
            rows.append({"Characteristic": "", "Statistic": "Total subject-days"}
                        | {h: f"{t.at[(p, 'subject_days'), g]:.0f}"
                           for g, h in zip(groups, headers, strict=True)})
    out["exposure"] = pd.DataFrame(rows)

    def events(t: pd.DataFrame, p: str, g: str) -> str:
        n = t.at[(p, "n_subjects"), g]
        return "" if n != n else f"{n_pct(n, t.at[(p, 'pct_subjects'), g])} " \
                                 f"[{t.at[(p, 'n_events'), g]:.0f}]"

    treatment = "study treatment (placebo or study drug)"
    labels = OVERVIEW_LABELS | {"RELATED": f"  related to {treatment}",
                                "DISCONTINUATION": "  leading to discontinuation of study "
                                                   "treatment"}
    t, groups, headers = wide("ae_overview")
    out["ae_overview"] = pd.DataFrame([
        {"Category": labels.get(p, p)} | {h: events(t, p, g)
                                          for g, h in zip(groups, headers, strict=True)}
        for p in dict.fromkeys(t.index.get_level_values(0)) if p])

    t, groups, headers = wide("ae_soc_pt")
    last = t.xs("n_subjects", level=1)[groups[-1]]
    terms = pd.DataFrame({"p": last.index, "n": -last.to_numpy()})
    terms = terms[(terms["p"] != "ANY") & (terms["p"] != "")]
    split = terms["p"].str.split(" / ", n=1, expand=True).reindex(columns=[0, 1])
    terms = terms.assign(soc=split[0], pt=split[1].fillna(""))
    soc_n = terms[terms["pt"] == ""].set_index("soc")["n"]
    terms = terms.assign(soc_n=terms["soc"].map(soc_n), is_pt=terms["pt"] != "")
    terms = terms.sort_values(["soc_n", "soc", "is_pt", "n", "pt"], kind="stable")
    order = [("ANY", "Any TEAE", "")] + list(zip(terms["p"], terms["soc"], terms["pt"],
                                                 strict=True))
    out["ae_soc_pt"] = pd.DataFrame([
        {"System organ class": soc, "Preferred term": pt}
        | {h: events(t, p, g) for g, h in zip(groups, headers, strict=True)}
        for p, soc, pt in order])

    for name, levels, header in (
            ("ae_severity", {"MILD": "Mild", "MODERATE": "Moderate", "SEVERE": "Severe",
                             "Missing": "Missing"}, "Maximum severity"),
            ("ae_relationship", {"RELATED": "Related", "NOT_RELATED": "Not related"},
             f"Relationship to {treatment.split(' (')[0]}")):
        t, groups, headers = wide(name)
        shown = [lv for lv in levels if lv != "Missing"
                 or (t.xs("n_Missing", level=1)[groups] > 0).any().any()]
        out[name] = pd.DataFrame([
            {"System organ class": soc, "Preferred term": pt, header: levels[lv]}
            | {h: n_pct(t.at[(p, f"n_{lv}"), g], t.at[(p, f"pct_{lv}"), g])
               for g, h in zip(groups, headers, strict=True)}
            for p, soc, pt in order for lv in shown])

    t = ard[ard["analysis"] == "ae_periods"].pivot_table(
        index="group", columns="statistic", values="value", aggfunc="first", sort=False)
    periods = [g for g in t.index if " vs " not in g]
    tests = [g for g in t.index if " vs " in g]
    rows = []
    for g in periods:
        s = t.loc[g]
        test = next((x for x in tests if x.startswith(g + " vs ")), None)
        row = {"Period": period_label.get(g, g), "Subjects exposed": f"{s['N']:.0f}",
               "Subjects with a TEAE, n (%)": n_pct(s["n_subjects"], s["pct_subjects"]),
               "Events": f"{s['n_events']:.0f}",
               "Subject-weeks of exposure": half_up(s["subject_weeks"], 1),
               "Events per subject-week": half_up(s["events_per_subject_week"], 3),
               "Rate ratio [95% CI]": "reference" if tests and g == periods[0] else "",
               "P (exact conditional)": ""}
        if test:
            c = t.loc[test]
            row["Rate ratio [95% CI]"] = (f"{half_up(c['rate_ratio'], 2)} "
                                          f"[{half_up(c['ci_low'], 2)}, "
                                          f"{half_up(c['ci_high'], 2)}]")
            row["P (exact conditional)"] = ("< 0.001" if c["p_value"] < 0.001
                                            else half_up(c["p_value"], 3))
        rows.append(row)
    out["ae_periods"] = pd.DataFrame(rows)

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        out[name].to_csv(outdir / f"{name}.csv", index=False, lineterminator="\n")
