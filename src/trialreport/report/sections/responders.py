"""Responders: rates per visit (ARD ``responders``), the exact McNemar test
(``responders_paired``) and rates compared between arms (``responders_between_arms``).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.common.formatting import round_half_up
from trialreport.report.markdown import blocks, column_chunks, format_p, markdown_tables, transpose
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def responder_table(r: Results) -> pd.DataFrame:
    a = r.ard[r.ard["analysis"] == "responders"]
    if a.empty:
        return pd.DataFrame()
    wide = a.pivot_table(index=["parameter", "visitn", "visit", "group", "analysis_set"],
                         columns="statistic", values="value", aggfunc="first",
                         sort=True).reset_index()
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


RESPONDER_TESTS = {"chi_square_pearson": "Chi-square (Pearson, no continuity correction)",
                   "chi_square_yates": "Chi-square with Yates' continuity correction",
                   "fisher_exact": "Fisher's exact test (two-sided)"}


def responders_by_arm_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """Per parameter with a responder rule, the between-arm responder rates at the
    comparison visit (ARD ``responders_between_arms``): arms as columns, rows the
    responders n / N (%), the subjects without an evaluable response, and each test's
    statistic and P (in the column of the arm compared with the reference arm). The
    heading names the rule and how a missing response is counted. Empty for a trial
    with one arm."""
    a = r.ard[r.ard["analysis"] == "responders_between_arms"]
    if a.empty:
        return []
    arms = r.arms()
    labels = {c: p.label for c, p in r.parameters().items()}
    out = []
    for (code, visit), block in a.groupby(["parameter", "visit"], sort=False):
        counts = block[block["method"] == "count"]
        aset = counts["analysis_set"].iloc[0] if len(counts) else ""
        present = [arm for arm in arms if arm in set(counts["group"])]
        cols: dict[str, list[str]] = {arm: [] for arm in present}
        names = ["Responders, n / N (%)", "No evaluable response"]
        for arm in present:
            get = dict(zip(counts.loc[counts["group"] == arm, "statistic"],
                           counts.loc[counts["group"] == arm, "value"], strict=True))
            cols[arm] += [f"{get['n_responders']:g} / {get['n']:g} "
                          f"({round_half_up(get['percent'], 1)}%)",
                          f"{get['n_missing']:g}"]
        for method, name in RESPONDER_TESTS.items():
            rows = block[block["method"] == method]
            if rows.empty:
                continue
            names.append(name)
            group = rows["group"].iloc[0]
            get = dict(zip(rows["statistic"], rows["value"], strict=True))
            p = get["p_value"]
            shown = "P < 0.0001" if p < 0.0001 else f"P = {round_half_up(p, 4)}"
            text = (f"chi-square = {round_half_up(get['statistic'], 2)}, {shown}"
                    if "statistic" in get else
                    f"odds ratio = {round_half_up(get['odds_ratio'], 2)}, {shown}")
            first = group.split(" vs ", 1)[0]
            for arm in present:
                cols[arm].append(f"{text} ({group})" if arm == first else "")
        table = pd.DataFrame({"Statistic": names} | cols)
        missing = ("a missing response counted as non-response"
                   if "counted as non-response" in aset
                   else "subjects without an evaluable response left out")
        rule = aset.rsplit("responder: ", 1)[-1]
        heading = f"{labels.get(code, code)}, {visit}: responder {rule}; {missing}"
        out += [(heading, chunk) for chunk in column_chunks(table)]
    return out


def responders_section(r: Results) -> str:
    """Responder rates per visit, the McNemar test of baseline against the comparison
    visit, and, with several arms, the rates compared between arms."""
    resp, mc, no_mc, by_arm = (responder_tables(r), mcnemar_tables(r),
                               mcnemar_not_computed(r), responders_by_arm_tables(r))
    return blocks(
        "## Responders",
        """A response is defined per scale in the trial's config (the rule is shown with each row).
Proportion of responders among subjects rated at the visit, with the Clopper-Pearson
(exact binomial) 95% CI. For a rule on the change from baseline there is no responder
status at the baseline visit (the change is defined only after it), so such a scale has
no baseline row.""",
        markdown_tables(resp) if resp else
        "No responder rules in this trial's config (`analyses.responders`).",
        """Responder status at baseline against the comparison visit, on subjects with both
(observed case): exact McNemar test, the two-sided binomial test of the discordant pairs.
Only for a rule on the rating itself (AVAL): for a rule on the change from baseline there
is no baseline responder status, so no McNemar test is computed.""",
        markdown_tables(mc) if mc else "",
        (f"No McNemar test for {', '.join(no_mc)}: the responder rule is on the change from "
         "baseline, so there is no baseline responder status.") if no_mc else "",
        ("## Responders by arm at the comparison visit\n\nPer arm, responders among the "
         "efficacy population at each scale's comparison visit, by the rule of the trial's "
         "config (named with each table, with how a subject without an evaluable response "
         "is counted: left out, or as a non-response), and the between-arm tests on the "
         "arm-by-response table: Pearson's chi-square without and with Yates' continuity "
         "correction, and Fisher's exact test. P to four decimals; the analysis-results "
         "table (`responders_between_arms`) holds them in full.") if by_arm else "",
        markdown_tables(by_arm) if by_arm else "")
