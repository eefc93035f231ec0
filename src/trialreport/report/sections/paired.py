"""Baseline against the comparison visit within subjects (ARD ``paired`` and
``paired_locf``), in CSR layout.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.common.config import Parameter
from trialreport.report.markdown import blocks, csr_by_parameter, format_p, markdown_tables
from trialreport.report.results import Results
from trialreport.tables.display import fmt_num


def paired_row(r: Results, sel: pd.DataFrame, p: Parameter) -> dict[str, str]:
    """One row of a paired table from the ARD rows of one comparison (no computing)."""
    get = dict(zip(sel["method"] + ":" + sel["statistic"], sel["value"], strict=True))
    methods = sel["method"].unique()
    wmethod = next((m for m in methods if m.startswith("wilcoxon")), "")
    hlmethod = next((m for m in methods if m.startswith("hodges_lehmann")), "")
    tested = get.get(next((m for m in methods if m.startswith("flag")), "") + ":tested", 1)
    why = ", ".join(f"{get[f'count:{k}']:g} {label}" for k, label in (
        ("n_excluded_no_baseline", "no baseline"),
        ("n_excluded_no_comparison", "no comparison value"),
        ("n_excluded_neither", "neither")) if get.get(f"count:{k}", 0))
    row = {
        "Parameter": p.label,
        "Comparison": f"{r.visit_name(p.baseline_visit)} vs "
                      f"{r.visit_name(p.comparison_visit)}",
        "Pairs": f"{get['descriptive:n_pairs']:g}",
        "Excluded (why)": f"{get['count:n_excluded']:g}" + (f" ({why})" if why else ""),
        "Baseline mean (SD)": f"{fmt_num(get['descriptive:baseline_mean'], 2)} "
                              f"({fmt_num(get['descriptive:baseline_sd'], 2)})",
        "Comparison mean (SD)": f"{fmt_num(get['descriptive:comparison_mean'], 2)} "
                                f"({fmt_num(get['descriptive:comparison_sd'], 2)})",
        "Mean change (SD) [95% CI]": f"{fmt_num(get['descriptive:change_mean'], 2)} "
                                     f"({fmt_num(get['descriptive:change_sd'], 2)}) "
                                     f"[{fmt_num(get['t-based CI:change_ci_low'], 2)}, "
                                     f"{fmt_num(get['t-based CI:change_ci_high'], 2)}]",
        "Median change": f"{get['descriptive:change_median']:g}",
    }
    if "count: DTYPE = LOCF:n_imputed_comparison" in get:
        row["Carried forward (baseline, comparison)"] = (
            f"{get['count: DTYPE = LOCF:n_imputed_baseline']:g}, "
            f"{get['count: DTYPE = LOCF:n_imputed_comparison']:g}")
    if not tested:
        row["Tests"] = "descriptive only: too few pairs (flagged)"
        return row
    row |= {
        "Hodges-Lehmann [95% CI]": (f"{get[hlmethod + ':hl_estimate']:g} "
                                    f"[{get[hlmethod + ':hl_ci_low']:g}, "
                                    f"{get[hlmethod + ':hl_ci_high']:g}] "
                                    f"({hlmethod.removeprefix('hodges_lehmann_')})"
                                    if hlmethod else ""),
        "Cohen's dz [95% CI]": (f"{fmt_num(get['cohens_dz_noncentral_t:dz'], 2)} "
                                f"[{fmt_num(get['cohens_dz_noncentral_t:ci_low'], 2)}, "
                                f"{fmt_num(get['cohens_dz_noncentral_t:ci_high'], 2)}]"
                                if "cohens_dz_noncentral_t:dz" in get else ""),
        "Rank-biserial": (f"{fmt_num(get['rank_biserial_matched_pairs:rank_biserial'], 2)}"
                          if "rank_biserial_matched_pairs:rank_biserial" in get else ""),
        "Paired t": (f"t({get['paired_ttest:df']:g}) = {fmt_num(get['paired_ttest:t'], 2)}, "
                     f"{format_p(get['paired_ttest:p_value'])}"
                     if "paired_ttest:p_value" in get else "not computed"),
        "Wilcoxon signed-rank": (f"W = {get[wmethod + ':W']:g}, "
                                 f"{format_p(get[wmethod + ':p_value'])} "
                                 f"({wmethod.removeprefix('wilcoxon_')})"
                                 if wmethod else "not computed"),
    }
    holm_key = next((k for k in get if k.startswith("holm:") and
                     k.endswith(":p_value_holm")), None)
    if holm_key:
        family = get[holm_key.replace("p_value_holm", "holm_family_size")]
        row["Holm-adjusted P (primary)"] = (
            f"{format_p(get[holm_key])} (family of {family:g}, {holm_key.split(':')[1]})")
    return row


def paired_table(r: Results, analysis: str = "paired") -> pd.DataFrame:
    """The paired comparison per parameter: ``paired`` (observed case, primary) or
    ``paired_locf`` (LOCF sensitivity)."""
    rows = []
    for code, p in r.parameters().items():
        sel = r.ard[(r.ard["analysis"] == analysis) & (r.ard["parameter"] == code)]
        for group, g in sel.groupby("group", sort=True):
            row = paired_row(r, g, p)
            if r.ard.loc[r.ard["analysis"] == analysis, "group"].nunique() > 1:
                row = {"Arm": group} | row
            rows.append(row)
    return pd.DataFrame(rows).fillna("")


def paired_tables(r: Results, analysis: str = "paired") -> list[tuple[str, pd.DataFrame]]:
    """``paired_table`` in CSR layout: statistics as rows, parameters (one arm) or arms
    (one table per parameter) as columns."""
    return csr_by_parameter(r.in_arm_order(paired_table(r, analysis)))


METHODS_TEXT = (
    "Change is the comparison visit minus baseline; a negative change is an improvement on "
    "a scale where higher is worse. Mean change with its t-based 95% CI; paired t-test "
    "(Student); Wilcoxon signed-rank test (zero differences dropped), exact below 50 "
    "non-zero differences, ties included (the exact conditional distribution of the "
    "midranks over all sign assignments), otherwise the normal approximation with tie and "
    "continuity corrections (the row says which); Hodges-Lehmann estimate and CI as R 4.x's "
    "wilcox.test computes them, zero differences dropped as in the test: the median of the "
    "Walsh averages of the non-zero differences, and the exact interval from the ordered "
    "Walsh averages below 50 differences without ties or zeros, otherwise the Walsh "
    "averages at which the continuity-corrected normal-approximation test of a shift "
    "starts and stops rejecting (a limit at 0 is open when that test rejects 0; -inf to inf "
    "when it rejects no shift) (the row says which); Cohen's "
    "d_z (mean change / SD of the changes) with its CI by inverting the noncentral t "
    "distribution; matched-pairs rank-biserial correlation (Kerby). Tests are two-sided "
    "unless the trial's config says otherwise; every interval is two-sided.")


def role_text(r: Results) -> str:
    """What the within-subject comparison is in this trial: the main analysis of the plan's
    endpoints, or descriptive."""
    plan = r.cfg.plan
    if not r.single_arm:
        return ("In a randomized trial a change within one arm does not compare treatments: "
                "these tests are descriptive (nominal P), whatever they show.")
    main = [e.label for e in (plan.endpoints if plan else ()) if e.main.kind == "paired"]
    if main:
        return (f"This is the main analysis of the plan's endpoints ({'; '.join(main)}); "
                "their multiplicity-adjusted decisions are in the sections above.")
    return "No endpoint of an analysis plan rests on it: the P values are nominal."


def holm_text(r: Results) -> str:
    primary = r.cfg.analyses.primary
    if primary is None:
        return ""
    return ("The Holm-adjusted P value beside the raw one is computed across the parameters "
            f"listed in `analyses.primary` ({', '.join(primary.parameters)}), tested by "
            "the configured test (a Wilcoxon family takes each parameter's exact or "
            "normal-approximation P, whichever its data called for).")


def locf_text(r: Results) -> str:
    mode = r.cfg.analyses.locf
    source = ("the sponsor's LOCF records as delivered (DTYPE = LOCF, `analyses.locf: "
              "delivered`)" if mode == "delivered" else
              "last observation carried forward by the pipeline (`derive_locf_records`): a "
              "missing rating is replaced by the subject's latest earlier rating of the same "
              "scale from that scale's baseline visit on; a missing baseline is never imputed, "
              "and a rating made before the baseline visit is never carried forward")
    users = [e.label for e in (r.cfg.plan.endpoints if r.cfg.plan else ())
             if any(s.kind == "paired_locf" for s in e.sensitivity)]
    role = (f" It is a sensitivity analysis of {'; '.join(users)}." if users else
            " It is a sensitivity analysis of the observed case above.")
    return (f"The same comparison on {source}. The count of carried-forward values is "
            f"shown.{role}")


def paired_section(r: Results) -> str:
    """Baseline against the comparison visit within subjects (complete pairs), then the
    LOCF analysis where the trial asks for one; one line instead of either when there is
    nothing to show, with the reason."""
    observed = paired_tables(r, "paired")
    heading = ("## Baseline against the comparison visit" if r.single_arm else
               "## Within-arm change from baseline (descriptive)")
    if not observed:
        without = [p.label for p in r.parameters().values() if not p.has_baseline]
        why = (f"its parameters ({', '.join(without)}) are ratings of change, with no "
               "baseline record" if without and len(without) == len(r.parameters()) else
               "no subject has both ratings")
        return blocks(heading, f"No within-subject comparison: {why}.")
    parts = [
        heading,
        "Complete pairs (observed case): a subject missing either rating is excluded, "
        "and counted with the reason. " + role_text(r),
        METHODS_TEXT,
        holm_text(r),
        markdown_tables(observed, caption="Baseline against the comparison visit, complete pairs"),
    ]
    if r.cfg.analyses.locf != "none":
        locf = paired_tables(r, "paired_locf")
        parts += [
            "### Last observation carried forward",
            locf_text(r),
            markdown_tables(locf, caption="Baseline against the comparison visit, LOCF")
            if locf
            else "The LOCF records give no complete pair at any parameter's comparison visit.",
        ]
    return blocks(*parts)
