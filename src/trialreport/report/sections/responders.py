"""Responders: rates per visit (ARD ``responders``), the exact McNemar test
(``responders_paired``) and rates compared between arms (``responders_between_arms``).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.common.formatting import round_half_up
from trialreport.report.markdown import (
    blocks,
    column_chunks,
    estimate_ci,
    format_p,
    markdown_tables,
    num,
    p_cell,
    transpose,
)
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def responder_table(r: Results) -> pd.DataFrame:
    a = r.ard[r.ard["analysis"] == "responders"]
    if a.empty:
        return pd.DataFrame()
    wide = a.pivot_table(index=["parameter", "visitn", "visit", "group", "analysis_set"],
                         columns="statistic", values="value", aggfunc="first",
                         sort=True).reset_index()
    # arms in protocol order within each visit (the pivot sorts them alphabetically)
    order = {arm: i for i, arm in enumerate(r.arms())}
    wide = wide.sort_values(["parameter", "visitn", "group"], kind="stable",
                            key=lambda col: col.map(order) if col.name == "group" else col,
                            ignore_index=True)
    labels = {c: p.label for c, p in r.parameters().items()}
    rules = r.cfg.analyses.responders
    return pd.DataFrame({
        "Parameter": wide["parameter"].map(labels),
        "Responder": [f"{rules[c].label} "
                      f"({s.split('responder: ', 1)[1]})".strip()
                      for c, s in zip(wide["parameter"], wide["analysis_set"], strict=True)],
        "Visit": wide["visit"],
        **({"Arm": wide["group"]} if wide["group"].nunique() > 1 else {}),
        "Responders / n": [f"{k:g} / {n:g}" for k, n in zip(wide["n_responders"], wide["n"],
                                                             strict=True)],
        "% [95% CI, Clopper-Pearson]": [f"{fmt_num(100 * x, 1)} [{fmt_num(100 * lo, 1)}, "
                                        f"{fmt_num(100 * hi, 1)}]"
                                        for x, lo, hi in zip(wide["proportion"],
                                                             wide["ci_low"], wide["ci_high"],
                                                             strict=True)],
    })


def mcnemar_not_computed(r: Results) -> list[str]:
    """Labels of the parameters whose responder rule is on the change from baseline
    (CHG): there is no baseline responder status, so no McNemar test."""
    rules = r.cfg.analyses.responders
    return [p.label for code, p in r.parameters().items()
            if code in rules and rules[code].variable == "CHG"]


def mcnemar_table(r: Results) -> pd.DataFrame:
    a = r.ard[r.ard["analysis"] == "responders_paired"]
    if a.empty:
        return pd.DataFrame()
    rows = []
    for code, p in r.parameters().items():
        for group, g in a[a["parameter"] == code].groupby("group", sort=True):
            get = dict(zip(g["statistic"], g["value"], strict=True))
            rows.append({
                "Parameter": p.label, "Arm": group,
                "Comparison": f"{r.visit_name(p.baseline_visit)} vs "
                              f"{r.visit_name(p.comparison_visit)}",
                "Pairs": f"{get['n_pairs']:g}",
                "Responder at both": f"{get['both']:g}",
                "At baseline only": f"{get['before_only']:g}",
                "At comparison only": f"{get['after_only']:g}",
                "At neither": f"{get['neither']:g}",
                "Exact McNemar": (format_p(get["p_value"]) if get["p_value"] == get["p_value"]
                                  else "no discordant pairs"),
            })
    return pd.DataFrame(rows)


def responder_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """``responder_table``, one table per parameter and rule (named in the heading)."""
    table = responder_table(r)
    if table.empty:
        return []
    return [(f"{label}: {rule}", chunk)
            for (label, rule), g in table.groupby(["Parameter", "Responder"], sort=False)
            for chunk in column_chunks(g.drop(columns=["Parameter", "Responder"]))]


def mcnemar_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    table = r.in_arm_order(mcnemar_table(r))
    if table.empty:
        return []
    return [("", chunk) for chunk in column_chunks(transpose(table, ["Parameter", "Arm"]))]


RESPONDER_TESTS = {"chi_square_pearson": "Pearson's chi-square (no continuity correction)",
                   "chi_square_yates": "chi-square with Yates' continuity correction",
                   "fisher_exact": "Fisher's exact test (two-sided)"}


def responders_by_arm_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """Per parameter with a responder rule, the between-arm responder rates at the
    comparison visit (ARD ``responders_between_arms``) in CSR layout: arms as columns in
    the protocol's order, rows named in words: responders n/N (%), the subjects without an
    evaluable response, the difference from the reference arm in percentage points with
    Newcombe's 95% CI, and each test's P (in the compared arm's column; P as < 0.001 or
    three decimals). The heading names the rule and how a missing response is counted.
    Empty for a trial with one arm."""
    a = r.ard[r.ard["analysis"] == "responders_between_arms"]
    if a.empty:
        return []
    arms = r.arms()
    reference = r.reference_arm()
    labels = {c: p.label for c, p in r.parameters().items()}
    confidence = f"{100 * r.cfg.analyses.confidence:g}% CI"
    out = []
    for (code, visit), block in a.groupby(["parameter", "visit"], sort=False):
        counts = block[block["method"] == "count"]
        aset = counts["analysis_set"].iloc[0] if len(counts) else ""
        present = [arm for arm in arms if arm in set(counts["group"])]
        cells: dict[str, dict[str, str]] = {arm: {} for arm in present}
        for arm in present:
            get = dict(zip(counts.loc[counts["group"] == arm, "statistic"],
                           counts.loc[counts["group"] == arm, "value"], strict=True))
            cells[arm]["Responders, n/N (%)"] = (f"{get['n_responders']:g}/{get['n']:g} "
                                                 f"({round_half_up(get['percent'], 1)})")
            cells[arm]["No evaluable response, n"] = f"{get['n_missing']:g}"
        for arm in present:
            if arm == reference:
                continue
            group = f"{arm} vs {reference}"
            rows = block[block["group"] == group]
            diff = dict(zip(rows.loc[rows["method"] == "newcombe_hybrid_score", "statistic"],
                            rows.loc[rows["method"] == "newcombe_hybrid_score", "value"],
                            strict=True))
            if diff:
                cells[arm][f"Difference vs {reference}, percentage points ({confidence}, "
                           "Newcombe)"] = estimate_ci(diff["diff"], diff["diff_ci_low"],
                                                      diff["diff_ci_high"], 1)
            for method, name in RESPONDER_TESTS.items():
                test = rows[(rows["method"] == method) & (rows["statistic"] == "p_value")]
                if len(test):
                    cells[arm][f"P value, {name}"] = p_cell(float(test["value"].iloc[0]))
            fisher = rows[(rows["method"] == "fisher_exact")
                          & (rows["statistic"] == "odds_ratio")]
            if len(fisher):
                cells[arm]["Odds ratio (sample)"] = num(float(fisher["value"].iloc[0]))
        overall = block[(block["method"] == "chi_square_pearson")
                        & (block["group"] == " vs ".join(present[1:] + present[:1]))
                        & (block["statistic"] == "p_value")]
        names = list(dict.fromkeys(k for arm in present for k in cells[arm]))
        table = pd.DataFrame({"Statistic": names} | {
            arm + _n(r, arm): [cells[arm].get(k, "") for k in names] for arm in present})
        missing = ("a missing response counted as non-response"
                   if "counted as non-response" in aset
                   else "subjects without an evaluable response left out")
        rule = aset.rsplit("responder: ", 1)[-1]
        heading = f"{labels.get(code, code)}, {visit}: responder {rule}; {missing}"
        if len(present) > 2 and len(overall):
            heading += (f"; all arms together, Pearson's chi-square P "
                        f"{p_cell(float(overall['value'].iloc[0]))}")
        out += [(heading, chunk) for chunk in column_chunks(table)]
    return out


def _n(r: Results, arm: str) -> str:
    n = r.n_population(arm)
    return f" (N = {num(n, 0)})" if n == n else ""


def responders_section(r: Results) -> str:
    """Responder rates per visit, the McNemar test of baseline against the comparison
    visit (for rules on the rating itself), and, with several arms, the rates compared
    between arms; one line when the trial's config has no responder rule."""
    resp, mc, no_mc, by_arm = (responder_tables(r), mcnemar_tables(r),
                               mcnemar_not_computed(r), responders_by_arm_tables(r))
    if not (resp or by_arm):
        return blocks(
            "## Responders", "No responder rules in this trial's config (`analyses.responders`)."
        )
    parts = [
        "## Responders",
        "A response is defined per scale in the trial's config (the rule is shown with "
        "each table). Proportion of responders among subjects rated at the visit, with "
        "the Clopper-Pearson (exact binomial) 95% CI. For a rule on the change from "
        "baseline there is no responder status at the baseline visit (the change is "
        "defined only after it), so such a scale has no baseline row."
        + ("" if r.single_arm else " Within one arm these rates are descriptive."),
        markdown_tables(resp, caption="Responders by visit"),
    ]
    if mc or no_mc:
        parts.append(
            "Responder status at baseline against the comparison visit, on subjects "
            "with both (observed case): exact McNemar test, the two-sided binomial "
            "test of the discordant pairs, for a rule on the rating itself (AVAL)."
        )
        parts.append(
            markdown_tables(
                mc, caption="Responders at baseline and at the comparison visit, exact McNemar test"
            )
            if mc
            else ""
        )
        if no_mc:
            parts.append(f"No McNemar test for {', '.join(no_mc)}: the responder rule is on "
                         "the change from baseline, so there is no baseline responder status.")
    if by_arm:
        parts += [
            "## Responders by arm at the comparison visit",
            "Per arm, responders among the efficacy population at each scale's "
            "comparison visit, by the rule of the trial's config (named with each "
            "table, with how a subject without an evaluable response is counted: left "
            "out, or as a non-response), and the between-arm tests on the "
            "arm-by-response table: Pearson's chi-square without and with Yates' "
            "continuity correction, and Fisher's exact test, each arm against the "
            "reference arm, with the difference in responder rates and Newcombe's "
            "hybrid score interval. P as < 0.001 or to three decimals; the "
            "analysis-results table (`responders_between_arms`) holds every number in "
            "full. Where a responder analysis is an endpoint of the plan, its decision "
            "is given with the endpoint above; here every P is nominal.",
            markdown_tables(by_arm, caption="Responders by arm"),
        ]
    return blocks(*parts)
