"""The report's opening: its title, the synthetic-data notice, and the trial's summary
table (the publication's Table 1, filled from the results).

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.common.formatting import round_half_up
from trialreport.report.markdown import (
    blocks,
    estimate_ci,
    format_p,
    markdown_table,
    markdown_text,
)
from trialreport.report.results import Results


def heading(r: Results) -> str:
    return f"## {r.cfg.title}\n\n{r.cfg.reference}\n"


def synthetic_notice(r: Results) -> str:
    """The synthetic-data notice as a Quarto callout (Markdown, no raw HTML): Quarto
    renders it natively in HTML and Typst; the Jupyter path turns it into a boxed note
    (``render.callouts_to_html``)."""
    if not r.cfg.synthetic:
        return ""
    text = r.cfg.data_notice or "The data of this report are synthetic."
    return (f"::: {{.callout-warning appearance=\"simple\"}}\n**Synthetic data.** "
            f"{markdown_text(text)}\n:::\n")


def table1(r: Results) -> pd.DataFrame:
    """The publication's summary table, filled from the results: design, participants
    (with the age range where the data have AGE), dosage (where they have exposure),
    and per parameter (and per arm, when there are several) the mean at baseline and
    at the comparison visit, with the paired t-test where it was computed."""
    design = r.cfg.design
    a = r.ard
    n = int(a.loc[(a["analysis"] == "enrolment") & (a["statistic"] == "n_subjects"),
                  "value"].sum())
    age = a[(a["analysis"] == "baseline") & (a["parameter"] == "AGE")
            & (a["group"] == "Total")]
    # the configured description may state an age range; the observed one is the data's
    ages = (f"; observed ages {int(age.loc[age['statistic'] == 'min', 'value'].min())}-"
            f"{int(age.loc[age['statistic'] == 'max', 'value'].max())} years"
            if len(age) else "")
    rows = [
        ("Study design", design.description),
        ("Participants", f"{n} {design.population}{ages}"),
    ]
    max_dose = a.loc[(a["analysis"] == "dose_exposure") & (a["parameter"] == "MAXDOSE")
                     & (a["group"] == "Total") & (a["statistic"] == "max"), "value"]
    if len(max_dose):
        rows.append(("Dosage", f"{design.dose_rule or 'dosing'} up to "
                               f"{max_dose.max():g} {design.dose_unit}".strip()))
    rows += primary_rows(r)
    arms = r.arms()
    for code, p in r.parameters().items():
        base, comp = p.baseline_visit, p.comparison_visit
        if base is None:  # a rating of change: its mean at the comparison visit
            for arm in arms:
                m1 = r.find(analysis="by_visit", parameter=code, group=arm,
                               visitn=float(comp), statistic="mean")
                n1 = r.find(analysis="by_visit", parameter=code, group=arm,
                               visitn=float(comp), statistic="n")
                rows.append((f"{p.label} mean, {r.visit_name(comp)}"
                             + (f", {arm}" if len(arms) > 1 else ""),
                             f"{_mean(m1)} (n = {n1:g})"))
            continue
        for arm in arms:
            def at(visit: int, statistic: str, arm: str = arm, code: str = code) -> float:
                return r.find(analysis="by_visit", parameter=code, group=arm,
                                 visitn=float(visit), statistic=statistic)

            m0, n0, m1, n1 = at(base, "mean"), at(base, "n"), at(comp, "mean"), at(comp, "n")
            if m0 != m0:  # no baseline records: the baseline as delivered (BASE)
                m0 = r.find(analysis="paired", parameter=code, group=arm,
                               statistic="baseline_mean")
                n0 = r.find(analysis="paired", parameter=code, group=arm,
                               statistic="n_pairs")
            p_t = r.ard[(r.ard["analysis"] == "paired")
                           & (r.ard["parameter"] == code) & (r.ard["group"] == arm)
                           & (r.ard["method"] == "paired_ttest")
                           & (r.ard["statistic"] == "p_value")]["value"]
            # within an arm of a randomized trial a test is descriptive: no P here
            ptext = (f" ({format_p(float(p_t.iloc[0]))}, paired t-test)"
                     if len(p_t) and len(arms) == 1 else "")
            label = (f"{p.label} mean, {r.baseline_words(base)} -> "
                     f"{r.visit_name(comp)}") + (f", {arm}" if len(arms) > 1 else "")
            rows.append((label, f"{_mean(m0)} (n = {n0:g}) -> {_mean(m1)} "
                                f"(n = {n1:g}){ptext}"))
    return pd.DataFrame(rows, columns=["Parameter", "From the data"])


def primary_rows(r: Results) -> list[tuple[str, str]]:
    """The plan's primary endpoints with their results and decisions; without a plan, the
    efficacy measures, none called primary."""
    from trialreport.analyse.plan import compared_arms, decision_of, resolve
    from trialreport.report.sections.plan import plan_rows

    plan = r.cfg.plan
    if plan is None:
        return [("Efficacy measures (no analysis plan declared)",
                 ", ".join(f"{p.label} ({p.name})" for p in r.parameters().values()))]
    arms = r.arms()
    reference = arms[0] if r.single_arm else r.reference_arm()
    rows = []
    for e in plan.primary:
        for arm in compared_arms(e, arms, reference):
            res = resolve(r.ard, e.main, e, arm, reference)
            group = arm if r.single_arm else f"{arm} vs {reference}"
            label = f"Primary endpoint: {e.label}" + ("" if r.single_arm else f", {group}")
            if res is None:
                rows.append((label, "not computed"))
                continue
            decided = plan_rows(r, e, group)
            decision = (f"; {decision_of(decided['tested'], decided['rejected'])}"
                        if "tested" in decided else "")
            digits = 1 if e.main.kind == "responders_between_arms" else 2
            shown = estimate_ci(res.estimate, res.ci_low, res.ci_high, digits)
            rows.append((label, f"{res.estimate_label} {shown}, "
                                f"{format_p(res.p_value)}{decision}"))
    return rows


def _mean(value: float) -> str:
    return "not available" if value != value else round_half_up(value, 2)


def title_block(r: Results) -> str:
    """The trial's title and reference, then the synthetic-data notice where it applies."""
    return blocks(heading(r), synthetic_notice(r))


def summary_section(r: Results) -> str:
    return blocks(
        "## Summary of the trial, filled from the data",
        summary_text(r),
        markdown_table(table1(r), caption="The trial's summary, filled from the data"),
    )


def summary_text(r: Results) -> str:
    text = ("The publication's summary table, with every entry computed from the "
            "participant-level data by this workflow. Means are of all ratings observed at "
            "the visit")
    if r.cfg.plan is not None:
        text += ("; each primary endpoint is given with its estimate (95% CI), P and the "
                 "decision of the analysis plan (below)")
    if r.single_arm:
        text += ("; the P beside a change is the paired t-test on subjects with both "
                 "ratings (see the paired comparison below)")
    return text + "."
