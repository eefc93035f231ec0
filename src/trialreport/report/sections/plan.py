"""The trial's own questions, as its analysis plan (``plan:``) declares them: each endpoint
with its estimand (the five attributes of ICH E9(R1)), the result of its main analysis in
CSR layout with the decision, and its sensitivity analyses beside it; then the multiplicity
strategy over the confirmatory endpoints. A trial without a plan gets one paragraph saying
so, and nothing in its report is called primary.

Every number is read from ``ard.csv``: the rows of the analysis each endpoint names
(``trialreport.analyse.plan.resolve``) and the ``plan`` rows of the decisions."""

from __future__ import annotations

import math

import pandas as pd

from trialreport.analyse.plan import compared_arms, decision_of, resolve
from trialreport.common.plan import AnalysisRef, Endpoint
from trialreport.report.markdown import (
    blocks,
    estimate_ci,
    markdown_table,
    markdown_text,
    num,
    p_cell,
)
from trialreport.report.results import Results

PROCEDURES = {
    "none": "no multiplicity adjustment",
    "bonferroni": "Bonferroni",
    "holm": "Holm",
    "hochberg": "Hochberg",
    "fixed_sequence": "fixed sequence",
    "graphical": "graphical procedure (Bretz et al. 2009)",
}
PROCEDURE_TEXT = {
    "none": "Each confirmatory hypothesis is tested at its own level, with no adjustment "
            "for multiplicity.",
    "bonferroni": "Bonferroni: each hypothesis at the overall level divided by the number "
                  "of hypotheses (or by its weight).",
    "holm": "Holm's step-down procedure (Holm 1979): the smallest P at alpha / m, the next "
            "at alpha / (m - 1), and so on, stopping at the first that is not rejected.",
    "hochberg": "Hochberg's step-up procedure (Hochberg 1988), valid under independence or "
                "positive dependence of the tests.",
    "fixed_sequence": "Fixed sequence: each hypothesis in the plan's order at the full "
                      "level, and only while every hypothesis before it is rejected; after "
                      "the first that is not, the rest are not tested (gate closed).",
    "graphical": "The graphical procedure of Bretz, Maurer, Brannath & Posch (2009): each "
                 "hypothesis starts with a share (weight) of the level, and a rejected "
                 "hypothesis passes its share on along the plan's transitions.",
}
VARIABLES = {"change": "Change from baseline in", "percent change":
             "Percent change from baseline in", "value": "", "responder": "Response on"}
ROLE_HEADINGS = {"primary": "Primary endpoint", "key secondary": "Key secondary endpoint",
                 "secondary": "Secondary endpoint", "exploratory": "Exploratory endpoint"}


def analysis_name(r: Results, ref: AnalysisRef) -> str:
    """An analysis in words, with its test."""
    cfg = r.cfg
    if ref.kind == "missing_data":
        from trialreport.report.sections.missing_data import analysis_name as imputed

        return imputed(r, ref)
    if ref.kind == "model":
        spec = next(m for m in cfg.analyses.models if m.id == ref.model)
        if spec.kind == "mmrm":
            from trialreport.common.mmrm_spec import mmrm_words

            return (f"MMRM {spec.id}: {spec.formula} ({mmrm_words(spec)}), every observed "
                    "post-baseline record")
        records = "LOCF records" if spec.records == "locf" else "observed records"
        return f"model {spec.id}: {spec.formula} by least squares, on {records}"
    strata = cfg.analyses.parallel.strata
    test = test_words(ref)
    return {
        "ancova": "ANCOVA of the change (CHG ~ arm + baseline"
                  + (f" + {', '.join(strata)}" if strata else "") + "), observed case",
        "responders_between_arms": f"responder rates compared by {test}",
        "paired": f"complete pairs (observed case), {test}",
        "paired_locf": f"after last observation carried forward, {test}",
        "one_sample": f"against the no-change value, {test}",
    }[ref.kind]


TEST_WORDS = {"ancova_ols": "t-test of the difference", "ols": "t-test of the difference",
              "mmrm": "t-test of the MMRM contrast",
              "chi_square_pearson": "Pearson's chi-square", "chi_square_yates":
              "chi-square with Yates' correction", "fisher_exact": "Fisher's exact test",
              "paired_ttest": "paired t-test", "wilcoxon": "Wilcoxon signed-rank test",
              "one_sample_ttest": "one-sample t-test",
              "imputation": "Wald test of the difference after imputation"}


def test_words(ref: AnalysisRef) -> str:
    return TEST_WORDS.get(ref.test, ref.test)


def variable_text(r: Results, e: Endpoint) -> str:
    p = r.cfg.design.parameters[e.parameter]
    visit = r.visit_name(e.visit)
    if e.variable == "responder":
        rule = r.cfg.analyses.responders[e.parameter]
        return f"Response on {p.label} at {visit}: {rule.label or 'by the trial rule'}"
    words = VARIABLES[e.variable]
    if words and p.has_baseline:
        words = words.replace("from baseline", f"from {r.baseline_words(p.baseline_visit)}")
    return f"{words + ' ' if words else ''}{p.label} at {visit}"


def estimand_table(r: Results, e: Endpoint) -> pd.DataFrame:
    """The estimand's five attributes (ICH E9(R1)), in words."""
    arms = r.arms()
    counts = ", ".join(f"{num(r.n_population(a), 0)} {a}" for a in arms)
    if r.single_arm:
        p = r.cfg.design.parameters[e.parameter]
        comparison = (f"none (one arm): {r.visit_name(p.baseline_visit)} against "
                      f"{r.visit_name(e.visit)} within subjects" if p.has_baseline else
                      "none (one arm): against the scale's no-change value")
    else:
        reference = r.reference_arm()
        comparison = "; ".join(f"{a} vs {reference}"
                               for a in compared_arms(e, arms, reference))
    events = "; ".join(f"{x.event}: {x.strategy}" + (f" ({x.note})" if x.note else "")
                       for x in e.intercurrent_events) or "none declared"
    return pd.DataFrame([
        ("Population", f"efficacy population ({e.population} = Y): {counts}"),
        ("Variable", variable_text(r, e)),
        ("Intercurrent events and strategies", events),
        ("Population-level summary", e.summary),
        ("Treatment comparison", comparison),
    ], columns=["Attribute", "Definition"])


def plan_rows(r: Results, e: Endpoint, group: str) -> dict[str, float]:
    a = r.ard
    rows = a[(a["analysis"] == "plan") & a["method"].str.startswith(f"{e.id}: ")
             & (a["group"] == group)]
    return dict(zip(rows["statistic"], rows["value"].astype(float), strict=True))


def procedure(r: Results) -> str:
    m = r.cfg.plan.multiplicity
    return f"{PROCEDURES[m.method]}, alpha {m.alpha:g}"


def result_table(r: Results, e: Endpoint) -> tuple[pd.DataFrame, str]:
    """The main analysis in CSR layout (statistics as rows, arms as columns in the
    protocol's order, the comparison in the compared arm's column), and a note."""
    arms = r.arms()
    reference = r.reference_arm() if not r.single_arm else arms[0]
    compared = compared_arms(e, arms, reference)
    decimals = 1 if e.main.kind == "responders_between_arms" else 2
    confidence = f"{100 * r.cfg.analyses.confidence:g}% CI"
    columns: dict[str, dict[str, str]] = {}
    notes = []
    for arm in compared:
        res = resolve(r.ard, e.main, e, arm, reference)
        group = arm if r.single_arm else f"{arm} vs {reference}"
        decided = plan_rows(r, e, group)
        if res is None:
            columns[arm] = {"Result": "not computed (no rows of this analysis in ard.csv)"}
            continue
        col = columns.setdefault(arm, {})
        if r.single_arm:
            n = r.find(analysis=e.main.kind, parameter=e.parameter, group=arm,
                       visitn=float(e.visit), statistic="n_pairs")
            col["n (pairs)" if e.main.kind != "one_sample" else "n"] = num(n, 0)
            col[f"{res.estimate_label} ({confidence})"] = estimate_ci(
                res.estimate, res.ci_low, res.ci_high, decimals)
        else:
            for name in (reference, arm):
                own = res.arms.get(name, {})
                cell = columns.setdefault(name, {})
                if e.main.kind == "responders_between_arms":
                    cell["Responders, n/N (%)"] = (
                        f"{num(own.get('n_responders', math.nan), 0)}/"
                        f"{num(own.get('n', math.nan), 0)} ({num(own['estimate'], 1)})")
                else:
                    cell["n"] = num(own.get("n", math.nan), 0)
                    cell["LS mean (SE)"] = (f"{num(own['estimate'])} "
                                            f"({num(own.get('se', math.nan))})")
            label = ("Difference vs " + reference + (", percentage points" if decimals == 1
                                                     else "") + f" ({confidence})")
            col[label] = estimate_ci(res.estimate, res.ci_low, res.ci_high, decimals)
        col[f"P value ({test_words(e.main)})"] = p_cell(res.p_value)
        if e.sidedness == "one-sided":
            col[f"One-sided P ({e.direction} favours treatment)"] = p_cell(
                decided.get("p_value", math.nan))
        if "p_adjusted" in decided:
            col["Adjusted P"] = p_cell(decided["p_adjusted"])
            col[f"Decision ({procedure(r)})"] = decision_of(decided["tested"],
                                                             decided["rejected"])
        elif "p_value" in decided:
            col["Decision"] = "none: nominal P, not adjusted for multiplicity"
    order = [a for a in arms if a in columns]
    names = list(dict.fromkeys(k for a in order for k in columns[a]))
    table = pd.DataFrame({a + _n_header(r, a): [columns[a].get(k, "") for k in names]
                          for a in order})
    table.insert(0, "Statistic", names)
    notes.append(f"Main analysis: {analysis_name(r, e.main)}.")
    return table, " ".join(notes)


def _n_header(r: Results, arm: str) -> str:
    n = r.n_population(arm)
    return f" (N = {num(n, 0)})" if n == n else ""


def sensitivity_table(r: Results, e: Endpoint) -> pd.DataFrame:
    """Each sensitivity analysis beside the main one: its estimate with CI and P, per
    comparison."""
    arms = r.arms()
    reference = r.reference_arm() if not r.single_arm else arms[0]
    decimals = 1 if e.main.kind == "responders_between_arms" else 2
    rows = []
    for ref in (e.main, *e.sensitivity):
        for arm in compared_arms(e, arms, reference):
            if ref.kind == "missing_data":  # one row per assumption
                from trialreport.report.sections.missing_data import sensitivity_rows

                rows += sensitivity_rows(r, e, ref, arm, reference, not r.single_arm)
                continue
            res = resolve(r.ard, ref, e, arm, reference)
            rows.append({
                "Analysis": ("Main: " if ref is e.main else "") + analysis_name(r, ref),
                **({} if r.single_arm else {"Comparison": f"{arm} vs {reference}"}),
                "Estimate of": "" if res is None else res.estimate_label,
                "Estimate (CI)": "not computed" if res is None else estimate_ci(
                    res.estimate, res.ci_low, res.ci_high, decimals),
                "P value": "not computed" if res is None else p_cell(res.p_value),
            })
    return pd.DataFrame(rows)


def endpoint_block(r: Results, e: Endpoint, level: str = "###") -> str:
    table, note = result_table(r, e)
    parts = [
        f"{level} {ROLE_HEADINGS[e.role]}: {markdown_text(e.label)}",
        markdown_table(estimand_table(r, e), caption=f"Estimand: {e.label}"),
        markdown_table(table, caption=f"{e.label}: result. {note}"),
    ]
    if e.sensitivity:
        parts.append(
            markdown_table(
                sensitivity_table(r, e),
                caption=f"{e.label}: sensitivity analyses beside the main analysis (nominal P)",
            )
        )
    if any(ref.kind == "missing_data" for ref in e.sensitivity):
        from trialreport.report.sections.missing_data import missing_data_blocks

        parts += missing_data_blocks(r, e)
    return blocks(*parts)


def no_plan_section(r: Results) -> str:
    if r.cfg.plan is not None:
        return ""
    return blocks("## Analysis plan",
                  "No analysis plan is declared in this trial's config (`plan`): no endpoint "
                  "is called primary, and every P below is nominal, not adjusted for "
                  "multiplicity. Declare the plan (README.md, *The analysis plan*) to have "
                  "the report led by the trial's primary endpoint.")


def role_section(r: Results, roles: tuple[str, ...], title: str) -> str:
    plan = r.cfg.plan
    if plan is None:
        return ""
    chosen = [e for e in plan.endpoints if e.role in roles]
    if not chosen:
        return ""
    if len(chosen) == 1:
        return endpoint_block(r, chosen[0], "##")
    return blocks(f"## {title}", *(endpoint_block(r, e) for e in chosen))


def primary_section(r: Results) -> str:
    return role_section(r, ("primary",), "Primary endpoints")


def key_secondary_section(r: Results) -> str:
    return role_section(r, ("key secondary",), "Key secondary endpoints")


def other_endpoints_section(r: Results) -> str:
    return role_section(r, ("secondary", "exploratory"),
                        "Secondary and exploratory endpoints (nominal P)")


def multiplicity_table(r: Results) -> pd.DataFrame:
    a = r.ard
    rows = a[(a["analysis"] == "plan") & (a["statistic"] == "p_adjusted")]
    out = []
    plan = r.cfg.plan
    for _, row in rows.iterrows():
        endpoint_id = row["method"].split(": ", 1)[0]
        e = plan.endpoint(endpoint_id)
        got = plan_rows(r, e, row["group"])
        out.append((e.index, {
            "Endpoint": e.label, "Role": e.role,
            **({} if r.single_arm else {"Comparison": row["group"]}),
            "P value": p_cell(got.get("p_value", math.nan)),
            "Adjusted P": p_cell(got["p_adjusted"]),
            # a hypothesis the procedure never tested was held to no level, not to 0
            "Level held to": (f"{got['alpha_local']:g}" if got["tested"] else "none"),
            "Decision": decision_of(got["tested"], got["rejected"])}))
    return pd.DataFrame([row for _, row in sorted(out, key=lambda x: x[0])])


def multiplicity_section(r: Results) -> str:
    plan = r.cfg.plan
    if plan is None:
        return ""
    m = plan.multiplicity
    table = multiplicity_table(r)
    if table.empty:
        return ""
    return blocks(
        "## Multiplicity",
        f"The confirmatory hypotheses (the main tests of the primary and key secondary "
        f"endpoints{', as listed by the plan' if m.family else ''}) are controlled at an "
        f"overall two-sided alpha of {m.alpha:g}. {PROCEDURE_TEXT[m.method]} A hypothesis "
        "is *rejected* when its P is at most the level it is held to; *not tested: gate "
        "closed* means the procedure never gave it a level. Secondary and exploratory "
        "endpoints are not in the family: their P values are nominal.",
        markdown_table(table, caption="The confirmatory hypotheses and their decisions"),
        f"Source of the plan: {markdown_text(plan.source)}." if plan.source else "",
    )
