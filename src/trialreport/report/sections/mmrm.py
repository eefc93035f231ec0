"""The MMRMs of ``analyses.models`` (``kind: mmrm``) in CSR layout: per model, the LS
means (SE) of each arm at each visit, the difference from the reference arm (95% CI) and
its P, a footnote with the model written out, the covariance structure used (and any
rejected before it, with the reason), REML or ML and the df method; the Type 3 tests; the
figure of LS means by visit. A model that did not converge is said to, with the reasons.

Every number is read from the ARD's ``mmrm`` rows (``trialreport.analyse.mmrm``) and only
formatted here."""

from __future__ import annotations

import math

import pandas as pd

from trialreport.analyse.mmrm import ATTEMPT_PREFIX, TYPE3_PREFIX
from trialreport.common.mmrm_spec import DF_WORDS, STRUCTURE_WORDS, mmrm_terms
from trialreport.report.figure_blocks import figure_markdown
from trialreport.report.markdown import (
    blocks,
    estimate_ci,
    markdown_table,
    markdown_tables,
    markdown_text,
    num,
    p_cell,
)
from trialreport.report.results import Results

RESPONSE_WORDS = {"CHG": "Change from baseline", "PCHG": "Percent change from baseline",
                  "AVAL": "Value"}


def _rows(r: Results, model_id: str) -> pd.DataFrame:
    a = r.ard
    return a[(a["analysis"] == "mmrm") & a["method"].str.startswith(f"{model_id}: ")]


def _get(rows: pd.DataFrame, group: str, statistic: str, visit: float | None = None
         ) -> float:
    sel = (rows["group"] == group) & (rows["statistic"] == statistic)
    sel &= rows["visitn"].isna() if visit is None else (rows["visitn"] == visit)
    values = rows.loc[sel, "value"]
    return float(values.iloc[0]) if len(values) else math.nan


def attempts(rows: pd.DataFrame) -> list[dict]:
    """Each covariance structure tried, in order: structure, reason, converged, used."""
    out = []
    for group in dict.fromkeys(rows.loc[rows["group"].str.startswith(ATTEMPT_PREFIX),
                                        "group"]):
        _, structure, reason = group.removeprefix(ATTEMPT_PREFIX).split(": ", 2)
        out.append({"structure": structure, "reason": reason,
                    "converged": _get(rows, group, "converged") == 1,
                    "used": _get(rows, group, "used") == 1})
    return out


def lsmeans_table(r: Results, rows: pd.DataFrame) -> pd.DataFrame:
    """Visits as rows; per arm its LS mean (SE) and n (subjects observed at the visit);
    per compared arm the difference from the reference (CI) and P."""
    arms = [a for a in r.arms() if (rows["group"] == a).any()]
    reference = r.reference_arm()
    level = f"{100 * r.cfg.analyses.confidence:g}% CI"
    visits = rows.loc[rows["statistic"] == "lsmean", ["visitn", "visit"]].drop_duplicates()
    out = []
    for visitn, visit in sorted(visits.itertuples(index=False, name=None)):
        row = {"Visit": visit}
        for arm in arms:
            # the subjects the model used (its population, a baseline and a rating after it)
            n = _get(rows, arm, "n_subjects")
            head = f"{arm}{f' (N = {num(n, 0)})' if n == n else ''}: LS mean (SE); n"
            row[head] = (f"{num(_get(rows, arm, 'lsmean', visitn))} "
                         f"({num(_get(rows, arm, 'se', visitn))}); "
                         f"n = {num(_get(rows, arm, 'n', visitn), 0)}")
        for arm in arms:
            if arm == reference:
                continue
            c = f"{arm} vs {reference}"
            row[f"{c}: difference ({level})"] = estimate_ci(
                _get(rows, c, "diff", visitn), _get(rows, c, "diff_ci_low", visitn),
                _get(rows, c, "diff_ci_high", visitn))
            row[f"{c}: P"] = p_cell(_get(rows, c, "p_value", visitn))
        out.append(row)
    return pd.DataFrame(out)


def type3_table(spec, rows: pd.DataFrame) -> pd.DataFrame:
    """The Type 3 F test of each fixed effect, in the model's order."""
    out = []
    present = set(rows.loc[rows["group"].str.startswith(TYPE3_PREFIX), "group"])
    for group in [f"{TYPE3_PREFIX}{t}" for t in mmrm_terms(spec)
                  if f"{TYPE3_PREFIX}{t}" in present]:
        out.append({"Effect": group.removeprefix(TYPE3_PREFIX).replace(":", " x "),
                    "F": num(_get(rows, group, "f")),
                    "Numerator df": num(_get(rows, group, "df_num"), 0),
                    "Denominator df": num(_get(rows, group, "df_den"), 1),
                    "P": p_cell(_get(rows, group, "p_value"))})
    return pd.DataFrame(out)


def footnote(r: Results, spec, rows: pd.DataFrame) -> str:
    """The model written out: fixed effects, covariance used, estimation, df method."""
    tried = attempts(rows)
    used = next((a["structure"] for a in tried if a["used"]), spec.structure)
    rejected = [a for a in tried if not a["converged"]]
    fixed = spec.formula.split(" ~ ", 1)[1].replace(":", " x ")
    method = "REML" if _get(rows, "fit", "method_reml") == 1 else "ML"
    df = "kenward-roger" if _get(rows, "fit", "df_kenward_roger") == 1 else "satterthwaite"
    text = (f"MMRM of {spec.response}: fixed effects {fixed}; "
            f"{STRUCTURE_WORDS[used]} ({used}) covariance over visits within subject"
            + (", one per arm" if spec.per_arm_covariance else "")
            + f"; {method}; {DF_WORDS[df]} degrees of freedom"
            + ("" if df != "kenward-roger" else " and adjusted standard errors")
            + f". {num(_get(rows, 'fit', 'n_subjects'), 0)} subjects, "
            f"{num(_get(rows, 'fit', 'n_obs'), 0)} observations.")
    if rejected:
        text += " Not converged before it: " + "; ".join(
            f"{a['structure']} ({a['reason']})" for a in rejected) + "."
    return text


def plan_role(r: Results, model_id: str) -> str:
    plan = r.cfg.plan
    if plan is None:
        return ""
    roles = []
    for e in plan.endpoints:
        if e.main.kind == "model" and e.main.model == model_id:
            roles.append(f"the main analysis of {e.label}")
        if any(s.kind == "model" and s.model == model_id for s in e.sensitivity):
            roles.append(f"a sensitivity analysis of {e.label}")
    return (" It is " + " and ".join(roles) + " (plan).") if roles else ""


def model_block(r: Results, spec) -> str:
    rows = _rows(r, spec.id)
    label = r.parameters()[spec.parameter].label
    title = f"### {markdown_text(label)}: MMRM {markdown_text(spec.id)}"
    if rows.empty:
        return blocks(title, "Not computed: ard.csv has no rows of this model.")
    if _get(rows, "fit", "converged") != 1:
        reasons = "; ".join(f"{a['structure']}: {a['reason']}" for a in attempts(rows))
        return blocks(title, markdown_text(
            f"The MMRM did not converge, so it gives no estimates. Structures tried, in the "
            f"prespecified order: {reasons}."))
    note = footnote(r, spec, rows)
    return blocks(
        title,
        markdown_text(f"{RESPONSE_WORDS[spec.response]} by visit ({spec.response}), LS means "
                      "with equal "
                      "weights over factor levels and covariates at their mean (SAS LSMEANS, "
                      "emmeans)." + plan_role(r, spec.id)),
        markdown_tables(lsmeans_table(r, rows),
                        caption=f"{label}, MMRM {spec.id}: LS mean (SE) by visit and "
                                f"difference from {r.reference_arm()}. {note}"),
        markdown_table(type3_table(spec, rows),
                       caption=f"{label}, MMRM {spec.id}: Type 3 tests of fixed effects"),
    )


def mmrm_section(r: Results) -> str:
    """Each MMRM of the config, then the figure; empty for a trial with none."""
    specs = [m for m in r.cfg.analyses.models if m.kind == "mmrm"]
    if not specs or r.single_arm:
        return ""
    return blocks(
        "## Mixed model for repeated measures (MMRM)",
        "Every observed post-baseline value of each subject with a baseline is used, "
        "under missing at random; the model's P values are nominal unless the plan makes "
        "the model an endpoint's main analysis.",
        *(model_block(r, spec) for spec in specs),
        figure_markdown(r, "mmrm_lsmeans"),
    )
