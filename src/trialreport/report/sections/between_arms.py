"""Between-arm results (ARD ``ancova``, ``responders_between_arms``, ``model``) and
ratings of change against no change (``one_sample``).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.markdown import (
    blocks,
    column_chunks,
    format_p,
    markdown_tables,
    markdown_text,
    transpose,
)
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def between_arm_tables(r: Results) -> dict[str, pd.DataFrame]:
    """ANCOVA and between-arm responder rows, shown as they are in the ARD (only for
    trials with more than one arm)."""
    out = {}
    for analysis in ("ancova", "responders_between_arms"):
        a = r.ard[r.ard["analysis"] == analysis]
        if a.empty:
            continue
        wide = a.pivot_table(index=["parameter", "visit", "method", "group"],
                             columns="statistic", values="value", aggfunc="first",
                             sort=True).reset_index()
        out[analysis] = wide.map(lambda v: f"{v:.4g}" if isinstance(v, float) else v
                                 ).replace("nan", "")
    return out


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


def between_arm_csr(r: Results) -> list[tuple[str, pd.DataFrame]]:
    """``between_arm_tables`` in CSR layout: per analysis, parameter and visit, the
    statistics as rows and the arms as columns (a contrast "A vs B" in A's column)."""
    arms = r.arms()
    labels = {c: p.label for c, p in r.parameters().items()}
    kinds = {"ancova": "ANCOVA", "responders_between_arms": "Responders"}
    out = []
    for analysis, wide in between_arm_tables(r).items():
        stats = [c for c in wide.columns if c not in ("parameter", "visit", "method",
                                                      "group")]
        for (code, visit), block in wide.groupby(["parameter", "visit"], sort=False):
            methods = sorted(dict.fromkeys(block["method"]), key=lambda m: m != "count")
            columns: dict[str, dict[str, str]] = {}
            rank: dict[str, tuple[int, int, int]] = {}
            for _, row in block.iterrows():
                group = str(row["group"])
                arm, vs, ref = group.partition(" vs ")
                column = arm if vs and arm in arms else group
                for stat in stats:
                    value = row[stat]
                    if not isinstance(value, str) or value == "":
                        continue
                    name = stat + (f" (vs {ref})" if vs and column == arm else "")
                    if len(methods) > 1:
                        name = f"{row['method']}: {name}"
                    columns.setdefault(column, {})[name] = value
                    rank.setdefault(name, (methods.index(row["method"]),
                                           _STAT_ORDER.get(stat, len(_STAT_ORDER)),
                                           len(rank)))
            order = sorted(rank, key=rank.__getitem__)
            ordered = ([a for a in arms if a in columns]
                       + [c for c in columns if c not in arms])
            table = pd.DataFrame({c: [columns[c].get(n, "") for n in order]
                                  for c in ordered})
            table.insert(0, "Statistic", order)
            heading = (f"{kinds.get(analysis, analysis)}: {labels.get(code, code)}, "
                       f"{visit}" + (f" ({methods[0]})" if len(methods) == 1 else ""))
            out += [(heading, chunk) for chunk in column_chunks(table)]
    return out


_STAT_ORDER = {s: i for i, s in enumerate((
    "n", "n_responders", "mean", "sd", "lsmean", "se", "ci_low", "ci_high", "diff",
    "diff_se", "diff_ci_low", "diff_ci_high", "t", "statistic", "df", "odds_ratio",
    "common_odds_ratio", "n_strata", "p_value"))}


def between_arms_section(r: Results) -> str:
    """With several arms: ANCOVA and between-arm responder tests, then the prespecified
    models; and ratings of change against no change. Empty for a trial with none."""
    between, models, one = between_arm_csr(r), model_tables(r), one_sample_tables(r)
    parts = []
    if between:
        parts += ["## Between arms\n\nChange from baseline at the comparison visit by "
                  "ANCOVA (OLS, CHG ~ arm + baseline, plus strata when configured; LS means "
                  "at the mean baseline), and responders by chi-square (Pearson), Fisher's "
                  "exact test and the Cochran-Mantel-Haenszel test across strata.",
                  markdown_tables(between)]
    if models:
        parts.append("## Prespecified between-arm models\n\nEach model (`analyses.models`) "
                     "is fitted by ordinary least squares on all arms together, the arm in "
                     "treatment coding against the reference arm (the first column). LS "
                     "means are predictions at the mean of each covariate, averaged with "
                     "equal weight over the levels of each factor (SAS LSMEANS, R emmeans); "
                     "differences are the arm's coefficient with its t-test on the model's "
                     "residual df. The F test compares the model with the one without the "
                     "arm. The dose-response trend, where configured, refits the model with "
                     "the dose as a numeric term in place of the arm.")
        parts += [markdown_text(heading) + "\n\n" + markdown_tables(frame)
                  for heading, frame in models]
    if one:
        parts += ["## Ratings of change against no change\n\nA rating of change (no "
                  "baseline record) at its comparison visit, against the scale's "
                  "no-change value (`no_change` in the parameter's config): one-sample "
                  "t-test and Wilcoxon signed-rank test of the rating minus that value.",
                  markdown_tables(one)]
    return blocks(*parts) if parts else ""
