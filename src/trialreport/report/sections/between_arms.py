"""Between-arm results (ARD ``ancova``, ``responders_between_arms``, ``model``) and
ratings of change against no change (``one_sample``).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import math

import pandas as pd

from trialreport.report.markdown import (
    blocks,
    column_chunks,
    format_p,
    markdown_tables,
    num,
    p_cell,
    transpose,
)
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def one_sample_table(r: Results) -> pd.DataFrame:
    """Ratings of change (no baseline) against their no-change value, single arm."""
    a = r.ard[r.ard["analysis"] == "one_sample"]
    rows = []
    for (code, visit, group), g in a.groupby(["parameter", "visit", "group"], sort=False):
        get = dict(zip(g["method"] + ":" + g["statistic"], g["value"], strict=True))
        wm = next((m for m in g["method"].unique() if m.startswith("wilcoxon")), "")
        rows.append({
            "Parameter": r.parameters()[code].label, "Visit": visit, "Arm": group,
            "n": f"{get['descriptive:n']:g}",
            "Mean (SD)": f"{fmt_num(get['descriptive:mean'], 2)} "
                         f"({fmt_num(get['descriptive:sd'], 2)})",
            "No change": f"{get['config:no_change']:g}",
            "Mean difference [95% CI]": (
                f"{fmt_num(get['t-based CI:difference_mean'], 2)} "
                f"[{fmt_num(get['t-based CI:difference_ci_low'], 2)}, "
                f"{fmt_num(get['t-based CI:difference_ci_high'], 2)}]"),
            "One-sample t": (f"t({get['one_sample_ttest:df']:g}) = "
                             f"{fmt_num(get['one_sample_ttest:t'], 2)}, "
                             f"{format_p(get['one_sample_ttest:p_value'])}"
                             if "one_sample_ttest:p_value" in get else "not computed"),
            "Wilcoxon signed-rank": (f"{format_p(get[wm + ':p_value'])} "
                                     f"({wm.removeprefix('wilcoxon_')})" if wm
                                     else "not computed"),
        })
    return pd.DataFrame(rows)


def model_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """Per prespecified model (``analyses.models``): a heading naming the model and its
    F test, and a table in CSR layout (statistics as rows, arms as columns) of n, mean
    (SD), LS mean (SE) [CI] and the difference from the reference arm [CI], P."""
    a = r.ard[r.ard["analysis"] == "model"]
    out = []
    for method, g in a.groupby("method", sort=False):
        if " trend " in method:
            continue
        model_id, formula = method.split(": ols ", 1)
        get = {(r.group, r.statistic): r.value for r in g.itertuples()}
        arms = [grp for grp in dict.fromkeys(g["group"])
                if " vs " not in grp and grp != "all arms"]
        contrasts = {grp.split(" vs ")[0]: grp for grp in g["group"] if " vs " in grp}
        cells: dict[str, dict[str, str]] = {}
        for arm in arms:
            col = {"n": f"{get[(arm, 'n')]:g}",
                   "Mean (SD)": f"{fmt_num(get[(arm, 'mean')], 2)} "
                                f"({fmt_num(get[(arm, 'sd')], 2)})",
                   "LS mean (SE)": f"{fmt_num(get[(arm, 'lsmean')], 2)} "
                                   f"({fmt_num(get[(arm, 'se')], 2)})",
                   "95% CI of LS mean": f"{fmt_num(get[(arm, 'ci_low')], 2)}, "
                                        f"{fmt_num(get[(arm, 'ci_high')], 2)}"}
            if arm in contrasts:
                c = contrasts[arm]
                col |= {"Difference from reference (SE)":
                        f"{fmt_num(get[(c, 'diff')], 2)} ({fmt_num(get[(c, 'diff_se')], 2)})",
                        "95% CI of difference": f"{fmt_num(get[(c, 'diff_ci_low')], 2)}, "
                                                f"{fmt_num(get[(c, 'diff_ci_high')], 2)}",
                        "P (t-test of the contrast)": format_p(get[(c, "p_value")])}
            cells[arm] = col
        table = pd.DataFrame(cells).fillna("reference").rename_axis("Statistic")
        table = table.reset_index()
        first = g.iloc[0]
        heading = (f"{r.parameters()[first['parameter']].label}, {first['visit']} "
                   f"(model {model_id}: {formula}; {first['analysis_set']}). Arms: "
                   f"F({get[('all arms', 'df_num')]:g}, {get[('all arms', 'df_den')]:g})"
                   f" = {fmt_num(get[('all arms', 'f')], 2)}, "
                   f"{format_p(get[('all arms', 'p_value')])}; "
                   f"{get[('all arms', 'n')]:g} subjects"
                   + (f", {get[('all arms', 'n_dropped')]:g} without the values needed"
                      if get[("all arms", "n_dropped")] else ""))
        trend = a[a["method"].str.startswith(f"{model_id}: ols trend ")]
        if len(trend):
            t = dict(zip(trend["statistic"], trend["value"], strict=True))
            heading += (f". Dose-response trend ({trend['method'].iloc[0].split(': ', 1)[1]}"
                        f"): slope {fmt_num(t['slope'], 3)} "
                        f"[{fmt_num(t['ci_low'], 3)}, {fmt_num(t['ci_high'], 3)}], "
                        f"{format_p(t['p_value'])}")
        out.append((heading + ".", table))
    return out


def one_sample_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    table = r.in_arm_order(one_sample_table(r))
    if table.empty:
        return []
    return [("", chunk) for chunk in
            column_chunks(transpose(table, ["Parameter", "Visit", "Arm"]))]






def ancova_table(r: Results, rows: pd.DataFrame) -> pd.DataFrame:
    """One parameter's ANCOVA in CSR layout: statistics named in words as rows, the arms as
    columns in the protocol's order (the contrast with the reference arm in the compared
    arm's column), LS means at two decimals, P as < 0.001 or three decimals."""
    arms = [a for a in r.arms() if (rows["group"] == a).any()]
    reference = r.reference_arm()
    values = {(g, s): v for g, s, v in zip(rows["group"], rows["statistic"], rows["value"],
                                           strict=True)}

    def get(key: tuple[str, str]) -> float:
        return values.get(key, math.nan)

    confidence = f"{100 * r.cfg.analyses.confidence:g}% CI"
    names = ["n", "LS mean (SE)", f"{confidence} of LS mean",
             f"Difference vs {reference} (SE)", f"{confidence} of difference", "P value"]
    columns = {}
    for arm in arms:
        c = f"{arm} vs {reference}"
        columns[arm + _n(r, arm)] = [
            num(get((arm, "n")), 0),
            f"{num(get((arm, 'lsmean')))} ({num(get((arm, 'se')))})",
            f"{num(get((arm, 'ci_low')))}, {num(get((arm, 'ci_high')))}",
            "" if arm == reference else f"{num(get((c, 'diff')))} ({num(get((c, 'diff_se')))})",
            "" if arm == reference else
            f"{num(get((c, 'diff_ci_low')))}, {num(get((c, 'diff_ci_high')))}",
            "" if arm == reference else p_cell(get((c, "p_value")))]
    return pd.DataFrame({"Statistic": names, **columns})


def _n(r: Results, arm: str) -> str:
    n = r.n_population(arm)
    return f" (N = {num(n, 0)})" if n == n else ""


def ancova_tables(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """Per parameter with a baseline, the ANCOVA of the change at its comparison visit."""
    a = r.ard[r.ard["analysis"] == "ancova"]
    out = []
    for code, p in r.parameters().items():
        rows = a[a["parameter"] == code]
        if rows.empty:
            continue
        heading = (f"{p.label}, change from baseline at {rows['visit'].iloc[0]} "
                   f"({rows['method'].iloc[0].split(': ', 1)[-1]})")
        out += [(heading, chunk) for chunk in column_chunks(ancova_table(r, rows))]
    return out


def plan_analysed(r: Results) -> list[str]:
    """The parameters whose ANCOVA is the main analysis of an endpoint of the plan."""
    plan = r.cfg.plan
    return [e.parameter for e in (plan.endpoints if plan else ()) if e.main.kind == "ancova"]


def between_arms_section(r: Results) -> str:
    """With several arms: ANCOVA and between-arm responder tests, then the prespecified
    models; and ratings of change against no change. Empty for a trial with none."""
    between, models, one = ancova_tables(r), model_tables(r), one_sample_tables(r)
    parts = []
    if between:
        planned = plan_analysed(r)
        role = (
            f" The ANCOVA of {', '.join(planned)} is the main analysis of an endpoint of "
            "the plan (above); the others are descriptive, their P nominal."
            if planned
            else " None is an endpoint of an analysis plan: the P values are nominal."
        )
        parts += [
            "## Between arms: change from baseline\n\nChange from baseline at each "
            "parameter's comparison visit by ANCOVA (least squares, CHG ~ arm + "
            "baseline, plus strata when configured; LS means at the mean baseline), "
            "observed case." + role,
            markdown_tables(between, caption="ANCOVA of the change from baseline"),
        ]
    if models:
        parts.append(
            "## Prespecified between-arm models\n\nEach model (`analyses.models`; "
            "an MMRM has its own section below) is fitted by ordinary least squares "
            "on all arms together, the arm in "
            "treatment coding against the reference arm (the first column). LS "
            "means are predictions at the mean of each covariate, averaged with "
            "equal weight over the levels of each factor (SAS LSMEANS, R emmeans); "
            "differences are the arm's coefficient with its t-test on the model's "
            "residual df. The F test compares the model with the one without the "
            "arm. The dose-response trend, where configured, refits the model with "
            "the dose as a numeric term in place of the arm."
        )
        parts += [markdown_tables(frame, caption=heading) for heading, frame in models]
    if one:
        parts += [
            "## Ratings of change against no change\n\nA rating of change (no "
            "baseline record) at its comparison visit, against the scale's "
            "no-change value (`no_change` in the parameter's config): one-sample "
            "t-test and Wilcoxon signed-rank test of the rating minus that value.",
            markdown_tables(one, caption="Ratings of change against no change"),
        ]
    return blocks(*parts) if parts else ""
