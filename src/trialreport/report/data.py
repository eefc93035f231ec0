"""Tables and figures for the report, built from the workflow's result files only.

Nothing here computes a statistic: every number is read from the analysis-results table
(ard.csv) or the reproduction table and only formatted for display.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.analyse.ard import read_ard
from trialreport.common.config import Parameter, Trial
from trialreport.common.formatting import round_half_up
from trialreport.tables.display import fmt_num

FIGURE_TITLES = {
    "means_by_visit": "Mean rating by visit",
    "rating_distribution": "Distribution of ratings by visit",
    "trajectories": "Individual trajectories",
    "subgroup_forest": "Forest plot of the subgroups",
}
"""A short name of each figure of ``FIGURE_NAMES``, for the sentence that says why
a figure is not drawn."""


def figure_label(name: str) -> str:
    """The cross-reference label of a figure: ``fig-`` and its name, ``_`` as ``-``."""
    return "fig-" + name.replace("_", "-")


@dataclass
class ReportData:
    trial_id: str
    trial: dict[str, Any]
    ard: pd.DataFrame
    reproduction: pd.DataFrame
    warnings: pd.DataFrame
    provenance: dict[str, Any]
    selection: pd.DataFrame | None = None
    checks: pd.DataFrame | None = None
    results_dir: Path | None = None

    @property
    def cfg(self) -> Trial:
        return Trial.parse(self.trial_id, self.trial)

    @classmethod
    def load(cls, results_dir: str | Path, trial_id: str) -> ReportData:
        results = Path(results_dir)

        def optional(path: Path) -> pd.DataFrame | None:
            return (pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists()
                    else None)

        return cls(
            trial_id=trial_id,
            trial=json.loads((results / "trial_config.json").read_text(encoding="utf-8")),
            ard=read_ard(results / "ard.csv"),
            reproduction=pd.read_csv(results / "reproduction.csv", dtype=str,
                                     keep_default_na=False),
            warnings=pd.read_csv(results / "validation" / "warnings.csv", dtype=str,
                                 keep_default_na=False),
            provenance=json.loads((results / "provenance.json").read_text(encoding="utf-8")),
            selection=optional(results / "ingested" / "selection.csv"),
            checks=optional(results / "derived" / "checks.csv"),
            results_dir=results,
        )

    # -- lookups ---------------------------------------------------------------------------

    def value(self, **where: Any) -> float:
        rows = self.ard
        for column, wanted in where.items():
            rows = rows[rows[column] == wanted]
        if len(rows) != 1:
            raise KeyError(f"expected one result for {where}, found {len(rows)}")
        return float(rows["value"].iloc[0])

    def find(self, **where: Any) -> float:
        """The one value matching ``where``, or NaN when there is none."""
        try:
            return self.value(**where)
        except KeyError:
            return float("nan")

    def arms(self) -> list[str]:
        """Arms in the order of the enrolment rows of the ARD."""
        rows = self.ard[(self.ard["analysis"] == "enrolment")
                        & (self.ard["statistic"] == "n_subjects")]
        return list(dict.fromkeys(rows["group"]))

    def parameters(self) -> dict[str, Parameter]:
        return dict(self.cfg.design.parameters)

    def visit_name(self, number: int) -> str:
        return self.cfg.design.visit_name(number)

    # -- blocks ----------------------------------------------------------------------------

    def heading(self) -> str:
        return f"## {self.cfg.title}\n\n{self.cfg.reference}\n"

    def synthetic_notice_html(self) -> str:
        if not self.cfg.synthetic:
            return ""
        text = self.cfg.data_notice or "The data of this report are synthetic."
        return (f'<div class="notice"><strong>Synthetic data.</strong> '
                f"{html.escape(text)}</div>")

    def synthetic_notice(self) -> str:
        """The synthetic-data notice as a Quarto callout (Markdown, no raw HTML): Quarto
        renders it natively in HTML and Typst; the Jupyter path turns it into a boxed note
        (``render.callouts_to_html``)."""
        if not self.cfg.synthetic:
            return ""
        text = self.cfg.data_notice or "The data of this report are synthetic."
        return (f"::: {{.callout-warning appearance=\"simple\"}}\n**Synthetic data.** "
                f"{markdown_text(text)}\n:::\n")

    def table1(self) -> pd.DataFrame:
        """The publication's summary table, filled from the results: design, participants
        (with the age range where the data have AGE), dosage (where they have exposure),
        and per parameter (and per arm, when there are several) the mean at baseline and
        at the comparison visit, with the paired t-test where it was computed."""
        design = self.cfg.design
        a = self.ard
        n = int(a.loc[(a["analysis"] == "enrolment") & (a["statistic"] == "n_subjects"),
                      "value"].sum())
        age = a[(a["analysis"] == "baseline") & (a["parameter"] == "AGE")
                & (a["group"] == "Total")]
        ages = (f" (age {int(age.loc[age['statistic'] == 'min', 'value'].min())}-"
                f"{int(age.loc[age['statistic'] == 'max', 'value'].max())})" if len(age) else "")
        rows = [
            ("Study design", design.description),
            ("Participants", f"{n} {design.population}{ages}"),
        ]
        max_dose = a.loc[(a["analysis"] == "dose_exposure") & (a["parameter"] == "MAXDOSE")
                         & (a["group"] == "Total") & (a["statistic"] == "max"), "value"]
        if len(max_dose):
            rows.append(("Dosage", f"{design.dose_rule or 'dosing'} up to "
                                   f"{max_dose.max():g} {design.dose_unit}".strip()))
        rows.append(("Primary efficacy measures",
                     ", ".join(f"{p.label} ({p.name})" for p in self.parameters().values())))
        arms = self.arms()
        for code, p in self.parameters().items():
            base, comp = p.baseline_visit, p.comparison_visit
            if base is None:  # a rating of change: its mean at the comparison visit
                for arm in arms:
                    m1 = self.find(analysis="by_visit", parameter=code, group=arm,
                                   visitn=float(comp), statistic="mean")
                    n1 = self.find(analysis="by_visit", parameter=code, group=arm,
                                   visitn=float(comp), statistic="n")
                    rows.append((f"{p.label} mean, {self.visit_name(comp)}"
                                 + (f", {arm}" if len(arms) > 1 else ""),
                                 f"{_mean(m1)} (n = {n1:g})"))
                continue
            for arm in arms:
                def at(visit: int, statistic: str, arm: str = arm, code: str = code) -> float:
                    return self.find(analysis="by_visit", parameter=code, group=arm,
                                     visitn=float(visit), statistic=statistic)

                m0, n0, m1, n1 = at(base, "mean"), at(base, "n"), at(comp, "mean"), at(comp, "n")
                if m0 != m0:  # no baseline records: the baseline as delivered (BASE)
                    m0 = self.find(analysis="paired", parameter=code, group=arm,
                                   statistic="baseline_mean")
                    n0 = self.find(analysis="paired", parameter=code, group=arm,
                                   statistic="n_pairs")
                p_t = self.ard[(self.ard["analysis"] == "paired")
                               & (self.ard["parameter"] == code) & (self.ard["group"] == arm)
                               & (self.ard["method"] == "paired_ttest")
                               & (self.ard["statistic"] == "p_value")]["value"]
                ptext = f" ({format_p(float(p_t.iloc[0]))}, paired t-test)" if len(p_t) else ""
                label = (f"{p.label} mean, baseline ({self.visit_name(base)}) -> "
                         f"{self.visit_name(comp)}") + (f", {arm}" if len(arms) > 1 else "")
                rows.append((label, f"{_mean(m0)} (n = {n0:g}) -> {_mean(m1)} "
                                    f"(n = {n1:g}){ptext}"))
        return pd.DataFrame(rows, columns=["Parameter", "From the data"])

    def reproduction_table(self) -> pd.DataFrame:
        r = self.reproduction
        return pd.DataFrame({
            "Target": r["description"],
            "Published": r["published"],
            "Reproduced": r["reproduced"],
            "Status": r["status"],
            "n": r["n"],
            "n that give the published mean (GRIM)": r["grim_sizes"],
            "n consistent": r["grim_consistent"],
            "From": r["source"],
        })

    def reproduction_summary_table(self) -> pd.DataFrame:
        """The reproduction table as a reader needs it first: the figure, both values, the
        status and n (the GRIM check and the source rows are in the two tables below)."""
        t = self.reproduction_table()
        return t[["Target", "Published", "Reproduced", "Status", "n"]]

    def grim_table(self) -> pd.DataFrame:
        """The GRIM check of every published mean of whole-number ratings."""
        t = self.reproduction_table()
        t = t[t["n that give the published mean (GRIM)"] != ""]
        return t[["Target", "Published", "n", "n that give the published mean (GRIM)",
                  "n consistent"]]

    def inconsistent_table(self) -> pd.DataFrame:
        """The targets no whole-number data could give under their stated assumptions
        (status ``inconsistent``), with the reason (rounding rule, denominators, test)."""
        r = self.reproduction
        reason = r["reason"] if "reason" in r.columns else pd.Series("", index=r.index)
        t = pd.DataFrame({"Target": r["description"], "Published": r["published"],
                          "Reproduced": r["reproduced"], "Why no data can give it": reason})
        return t[r["status"] == "inconsistent"]

    def reproduction_sources_table(self) -> pd.DataFrame:
        """Where each reproduced figure comes from: its row of the analysis-results table."""
        t = self.reproduction_table()
        return t[["Target", "From"]].rename(columns={"From": "From (row of ard.csv)"})

    def by_visit_table(self) -> pd.DataFrame:
        rows = self.ard[self.ard["analysis"] == "by_visit"]
        wide = rows.pivot_table(index=["parameter", "visitn", "visit", "group"],
                                columns="statistic", values="value", aggfunc="first",
                                sort=False).reset_index()
        wide = wide.sort_values(["parameter", "visitn"], kind="stable")
        labels = {c: p.label for c, p in self.parameters().items()}
        return pd.DataFrame({
            "Parameter": wide["parameter"].map(labels),
            "Visit": wide["visit"],
            **({"Arm": wide["group"]} if wide["group"].nunique() > 1 else {}),
            "n": wide["n"].map(lambda v: f"{v:g}"),
            "Mean (SD)": [f"{fmt_num(m, 2)} ({fmt_num(s, 2)})"
                          for m, s in zip(wide["mean"], wide["sd"], strict=True)],
            "Median [Q1, Q3]": [f"{m:g} [{a:g}, {b:g}]" for m, a, b in
                                zip(wide["median"], wide["q1"], wide["q3"], strict=True)],
            "Min, max": [f"{a:g}, {b:g}" for a, b in zip(wide["min"], wide["max"],
                                                         strict=True)],
            "95% CI of mean": [f"{fmt_num(a, 2)} to {fmt_num(b, 2)}" for a, b in
                               zip(wide["ci_low"], wide["ci_high"], strict=True)],
        })

    def _paired_row(self, sel: pd.DataFrame, p: Parameter) -> dict[str, str]:
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
            "Comparison": f"{self.visit_name(p.baseline_visit)} vs "
                          f"{self.visit_name(p.comparison_visit)}",
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

    def paired_table(self, analysis: str = "paired") -> pd.DataFrame:
        """The paired comparison per parameter: ``paired`` (observed case, primary) or
        ``paired_locf`` (LOCF sensitivity)."""
        rows = []
        for code, p in self.parameters().items():
            sel = self.ard[(self.ard["analysis"] == analysis) & (self.ard["parameter"] == code)]
            for group, g in sel.groupby("group", sort=True):
                row = self._paired_row(g, p)
                if self.ard.loc[self.ard["analysis"] == analysis, "group"].nunique() > 1:
                    row = {"Arm": group} | row
                rows.append(row)
        return pd.DataFrame(rows).fillna("")

    def subgroup_table(self) -> pd.DataFrame:
        """Paired comparison in each subgroup (group = "arm; VARIABLE = level")."""
        a = self.ard[self.ard["analysis"] == "subgroup"]
        if a.empty:
            return pd.DataFrame()
        counts = a[a["statistic"] == "n_subjects"].set_index("group")["value"]
        rows = []
        for code, p in self.parameters().items():
            sel = a[a["parameter"] == code]
            for group, g in sel.groupby("group", sort=True):
                arm, _, level = group.partition("; ")
                full = self._paired_row(g, p)
                rows.append({
                    "Subgroup": level, "Arm": arm, "Subjects": f"{counts[group]:g}",
                    **{k: full.get(k, "") for k in (
                        "Parameter", "Pairs", "Baseline mean (SD)", "Comparison mean (SD)",
                        "Mean change (SD) [95% CI]", "Hodges-Lehmann [95% CI]", "Paired t",
                        "Wilcoxon signed-rank", "Tests")},
                })
        out = pd.DataFrame(rows).fillna("")
        if (out["Arm"].nunique() == 1):
            out = out.drop(columns="Arm")
        return out

    def responder_table(self) -> pd.DataFrame:
        a = self.ard[self.ard["analysis"] == "responders"]
        if a.empty:
            return pd.DataFrame()
        wide = a.pivot_table(index=["parameter", "visitn", "visit", "group", "analysis_set"],
                             columns="statistic", values="value", aggfunc="first",
                             sort=True).reset_index()
        labels = {c: p.label for c, p in self.parameters().items()}
        rules = self.cfg.analyses.responders
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

    def mcnemar_not_computed(self) -> list[str]:
        """Labels of the parameters whose responder rule is on the change from baseline
        (CHG): there is no baseline responder status, so no McNemar test."""
        rules = self.cfg.analyses.responders
        return [p.label for code, p in self.parameters().items()
                if code in rules and rules[code].variable == "CHG"]

    def mcnemar_table(self) -> pd.DataFrame:
        a = self.ard[self.ard["analysis"] == "responders_paired"]
        if a.empty:
            return pd.DataFrame()
        rows = []
        for code, p in self.parameters().items():
            for group, g in a[a["parameter"] == code].groupby("group", sort=True):
                get = dict(zip(g["statistic"], g["value"], strict=True))
                rows.append({
                    "Parameter": p.label, "Arm": group,
                    "Comparison": f"{self.visit_name(p.baseline_visit)} vs "
                                  f"{self.visit_name(p.comparison_visit)}",
                    "Pairs": f"{get['n_pairs']:g}",
                    "Responder at both": f"{get['both']:g}",
                    "At baseline only": f"{get['before_only']:g}",
                    "At comparison only": f"{get['after_only']:g}",
                    "At neither": f"{get['neither']:g}",
                    "Exact McNemar": (format_p(get["p_value"]) if get["p_value"] == get["p_value"]
                                      else "no discordant pairs"),
                })
        return pd.DataFrame(rows)

    def between_arm_tables(self) -> dict[str, pd.DataFrame]:
        """ANCOVA and between-arm responder rows, shown as they are in the ARD (only for
        trials with more than one arm)."""
        out = {}
        for analysis in ("ancova", "responders_between_arms"):
            a = self.ard[self.ard["analysis"] == analysis]
            if a.empty:
                continue
            wide = a.pivot_table(index=["parameter", "visit", "method", "group"],
                                 columns="statistic", values="value", aggfunc="first",
                                 sort=True).reset_index()
            out[analysis] = wide.map(lambda v: f"{v:.4g}" if isinstance(v, float) else v
                                     ).replace("nan", "")
        return out

    def one_sample_table(self) -> pd.DataFrame:
        """Ratings of change (no baseline) against their no-change value, single arm."""
        a = self.ard[self.ard["analysis"] == "one_sample"]
        rows = []
        for (code, visit, group), g in a.groupby(["parameter", "visit", "group"], sort=False):
            get = dict(zip(g["method"] + ":" + g["statistic"], g["value"], strict=True))
            wm = next((m for m in g["method"].unique() if m.startswith("wilcoxon")), "")
            rows.append({
                "Parameter": self.parameters()[code].label, "Visit": visit, "Arm": group,
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

    def model_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Per prespecified model (``analyses.models``): a heading naming the model and its
        F test, and a table in CSR layout (statistics as rows, arms as columns) of n, mean
        (SD), LS mean (SE) [CI] and the difference from the reference arm [CI], P."""
        a = self.ard[self.ard["analysis"] == "model"]
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
            heading = (f"{self.parameters()[first['parameter']].label}, {first['visit']} "
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

    # -- figures: the files the figures step wrote (results/<trial>/figures/) -----------

    def figure_markdown(self, name: str) -> str:
        """Figure ``name`` of ``FIGURE_NAMES`` as Quarto Markdown,
        ``![caption](figures/<name>.png){#fig-<name> fig-alt="..."}``: the PNG the figures
        step wrote, which the renderer copies beside the report (``render.copy_figures``),
        with the caption and alt text it wrote into the file (``captions``). Where
        the figure has nothing to show, or its file is missing, a sentence saying why."""
        from trialreport.figures.captions import captions, unavailable

        title = FIGURE_TITLES[name]
        why = unavailable(self.cfg, self.ard).get(name)
        path = self.results_dir / "figures" / f"{name}.png" if self.results_dir else None
        if why is None and (path is None or not path.exists()):
            why = f"the figures step did not write figures/{name}.png"
        if why is not None:
            why = markdown_text(why[0].upper() + why[1:])
            return f"**{markdown_text(title)}: not drawn.** {why}."
        caption, alt = captions(self.cfg, self.ard)[name]
        alt = " ".join(alt.split()).replace("\\", "\\\\").replace('"', '\\"')
        return (f"![{markdown_text(caption)}](figures/{name}.png)"
                f'{{#{figure_label(name)} fig-alt="{alt}"}}')

    def figures_markdown(self, names: list[str]) -> str:
        return "\n\n".join(self.figure_markdown(name) for name in names)

    def absent_sections(self) -> list[str]:
        """What the report leaves out because the trial does not deliver the data, and why."""
        out = []
        if not self.cfg.has("adverse_events"):
            out.append("Adverse events: the trial's config names no adverse-events dataset "
                       "(data.adverse_events), so there are no adverse-event tables.")
        if not self.cfg.has("exposure"):
            out.append("Exposure: the trial's config names no exposure dataset "
                       "(data.exposure), so there is no exposure table, no Treated row in "
                       "the disposition, no highest dose and no incidence per subject-week.")
        if not (self.ard["parameter"] == "AGE").any():
            out.append("Age: the subjects dataset has no AGE column, so age is not "
                       "summarised.")
        return out

    def records_used_table(self) -> pd.DataFrame:
        """Records read, set aside (with the reason) and used, per dataset (from
        ``ingested/selection.csv``)."""
        if self.selection is None or self.selection.empty:
            return pd.DataFrame()
        s = self.selection
        s = s[(s["records"] != "set aside") | (s["n"] != "0")]
        return pd.DataFrame({"Dataset": s["dataset"], "File": s["file"],
                             "Records": s["records"], "Which": s["criterion"], "n": s["n"]})

    def delivered_checks_table(self, limit: int = 50) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Differences between the data as delivered (BASE, CHG, ABLFL, LOCF) and the
        pipeline's derivation: a count per check, and the first ``limit`` of them."""
        c = self.checks
        if c is None or c.empty:
            return pd.DataFrame(), pd.DataFrame()
        counts = c.groupby(["check", "note"], sort=True).size().reset_index(name="differences")
        return counts, c.head(limit)

    def warnings_table(self) -> pd.DataFrame:
        return self.warnings[["file", "row", "column", "rule", "value", "message"]]

    def provenance_table(self) -> pd.DataFrame:
        rows = [(f"data: {v['path']}", f"sha256 {v['sha256'][:16]}..., {v['bytes']} bytes")
                for v in self.provenance["data"].values()]
        rows.append(("trial config", f"sha256 {self.provenance['config_sha256'][:16]}..."))
        rows.append(("python", self.provenance["python"]))
        rows += [(name, version) for name, version in self.provenance["packages"].items()]
        return pd.DataFrame(rows, columns=["Item", "Value"])

    # -- layout for the page: CSR tables, narrow enough for a portrait page ---------------
    # Every method below only rearranges the frames above (no number is computed or
    # reformatted); each returns (heading, table) pairs, tables at most MAX_COLUMNS wide.

    def by_visit_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Descriptive statistics by visit, one table per parameter: visits as rows (one
        arm), or visits and statistics as rows and arms as columns (several arms)."""
        table = self.by_visit_table()
        out = []
        for label, g in table.groupby("Parameter", sort=False):
            g = g.drop(columns="Parameter")
            if "Arm" in g:
                g = nested_rows(g, "Visit", "Arm", label="Visit / statistic")
            # one arm: six short columns (visit, n and four statistics) fit a page
            out += [(label, chunk) for chunk in column_chunks(g, MAX_COLUMNS + 1)]
        return out

    def paired_tables(self, analysis: str = "paired") -> list[tuple[str, pd.DataFrame]]:
        """``paired_table`` in CSR layout: statistics as rows, parameters (one arm) or arms
        (one table per parameter) as columns."""
        return _csr_by_parameter(self._arm_order(self.paired_table(analysis)))

    def _arm_order(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows in the protocol's arm order (``arms()``), otherwise as they are."""
        if "Arm" not in table:
            return table
        rank = {arm: i for i, arm in enumerate(self.arms())}
        return table.sort_values("Arm", key=lambda s: s.map(rank).fillna(len(rank)),
                                 kind="stable")

    def subgroup_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """``subgroup_table`` in CSR layout: per parameter and subgrouping variable,
        statistics as rows and the subgroups (x arms) as columns."""
        table = self._arm_order(self.subgroup_table())
        if table.empty:
            return []
        out = []
        variable = table["Subgroup"].str.split(" = ", n=1).str[0]
        for (label, var), g in table.groupby([table["Parameter"], variable], sort=False):
            keys = [k for k in ("Arm", "Subgroup") if k in g]
            csr = transpose(g.drop(columns="Parameter"), keys)
            out += [(f"{label}, by {var}", chunk) for chunk in column_chunks(csr)]
        return out

    def responder_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """``responder_table``, one table per parameter and rule (named in the heading)."""
        table = self.responder_table()
        if table.empty:
            return []
        return [(f"{label}: {rule}", chunk)
                for (label, rule), g in table.groupby(["Parameter", "Responder"], sort=False)
                for chunk in column_chunks(g.drop(columns=["Parameter", "Responder"]))]

    def mcnemar_tables(self) -> list[tuple[str, pd.DataFrame]]:
        table = self._arm_order(self.mcnemar_table())
        if table.empty:
            return []
        return [("", chunk) for chunk in column_chunks(transpose(table, ["Parameter", "Arm"]))]

    def one_sample_tables(self) -> list[tuple[str, pd.DataFrame]]:
        table = self._arm_order(self.one_sample_table())
        if table.empty:
            return []
        return [("", chunk) for chunk in
                column_chunks(transpose(table, ["Parameter", "Visit", "Arm"]))]

    def between_arm_csr(self) -> list[tuple[str, pd.DataFrame]]:
        """``between_arm_tables`` in CSR layout: per analysis, parameter and visit, the
        statistics as rows and the arms as columns (a contrast "A vs B" in A's column)."""
        arms = self.arms()
        labels = {c: p.label for c, p in self.parameters().items()}
        kinds = {"ancova": "ANCOVA", "responders_between_arms": "Responders"}
        out = []
        for analysis, wide in self.between_arm_tables().items():
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

    RESPONDER_TESTS = {"chi_square_pearson": "Chi-square (Pearson, no continuity correction)",
                       "chi_square_yates": "Chi-square with Yates' continuity correction",
                       "fisher_exact": "Fisher's exact test (two-sided)"}

    def responders_by_arm_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Per parameter with a responder rule, the between-arm responder rates at the
        comparison visit (ARD ``responders_between_arms``): arms as columns, rows the
        responders n / N (%), the subjects without an evaluable response, and each test's
        statistic and P (in the column of the arm compared with the reference arm). The
        heading names the rule and how a missing response is counted. Empty for a trial
        with one arm."""
        a = self.ard[self.ard["analysis"] == "responders_between_arms"]
        if a.empty:
            return []
        arms = self.arms()
        labels = {c: p.label for c, p in self.parameters().items()}
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
            for method, name in self.RESPONDER_TESTS.items():
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

    def checks_listing(self, first: pd.DataFrame) -> pd.DataFrame:
        """The first differences of ``delivered_checks_table`` in five columns."""
        return pd.DataFrame({
            "Check": first["check"], "USUBJID": first["USUBJID"],
            "Parameter, visit": first["PARAMCD"] + ", " + first["AVISIT"],
            "Row": first["row"],
            "Delivered / derived": first["delivered"] + " / " + first["derived"],
        })

    def warnings_listing(self) -> pd.DataFrame:
        """``warnings_table`` in four columns: where (file, row, column), rule, value,
        message."""
        w = self.warnings_table()
        return pd.DataFrame({"Where": w["file"] + ", row " + w["row"] + ", " + w["column"],
                             "Rule": w["rule"], "Value": w["value"], "Message": w["message"]})


def _mean(value: float) -> str:
    return "not available" if value != value else round_half_up(value, 2)


def format_p(p: float) -> str:
    """P as a statistician writes it: ``P < 0.001`` below 0.001, otherwise three decimals."""
    return "P < 0.001" if p < 0.001 else f"P = {round_half_up(p, 3)}"


def html_table(frame: pd.DataFrame, status_column: str | None = None) -> str:
    """A plain HTML table (both render paths show it the same way)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column, value in row.items():
            text = html.escape(str(value))
            if column == status_column:
                cells.append(f'<td class="{text}">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="tr-table"><thead><tr>{head}</tr></thead><tbody>' + "".join(body)
            + "</tbody></table>")


_STAT_ORDER = {s: i for i, s in enumerate((
    "n", "n_responders", "mean", "sd", "lsmean", "se", "ci_low", "ci_high", "diff",
    "diff_se", "diff_ci_low", "diff_ci_high", "t", "statistic", "df", "odds_ratio",
    "common_odds_ratio", "n_strata", "p_value"))}

# -- Markdown tables: rendered natively by Quarto (HTML and Typst) and by nbconvert --------

MAX_COLUMNS = 5
PAGE_CHARS = 95  # characters of table text across a portrait page (10pt, A4)
SHORT_COLUMN = 19  # a column of values this wide or narrower keeps them whole
CELL_PADDING = 4  # a cell's inset on both sides, in characters
INDENT = "\u00a0" * 4  # nested rows in CSR tables; written as &nbsp; (kept by every renderer)
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|$~^@#&"})


def markdown_text(value: Any) -> str:
    """``value`` as literal Markdown text on one line: every character Markdown (pandoc's
    or CommonMark's) could read as markup is backslash-escaped."""
    value = str(value)
    lead = len(value) - len(value.lstrip(" \u00a0"))  # indentation, kept as &nbsp;
    return "&nbsp;" * lead + " ".join(value.split()).translate(_MARKDOWN_SPECIAL)


def _status(value: str) -> str:
    return "**match**" if value == "match" else f"**{value.upper()}**" if value else ""


def _text_width(text: str) -> float:
    """Width of ``text`` in average characters: capitals are wider."""
    return sum(1.4 if c.isupper() else 1.0 for c in text)


def _column_widths(frame: pd.DataFrame) -> list[int]:
    """Each column's share of the table's width, in characters of a page about
    PAGE_CHARS wide (cell padding included): its longest text when the table fits.
    Otherwise a column of short values keeps them on one line (its header wraps at
    words), and the other columns share the rest in proportion to their longest text,
    none narrower than its longest word."""
    natural, compact, words = [], [], []
    for i, name in enumerate(frame.columns):
        body = [str(v) for v in frame.iloc[:, i]]
        cell = max((_text_width(t.strip()) for t in body), default=0)
        split = [w for t in [str(name), *body] for w in re.split(r"\s+|(?<=/)", t)]
        word = max((_text_width(w) for w in split), default=1)
        natural.append(max(cell, _text_width(str(name))) + CELL_PADDING)
        compact.append(max(cell, word) + CELL_PADDING)
        words.append(word + CELL_PADDING)
    if sum(natural) <= PAGE_CHARS:
        return [round(n) for n in natural]
    widths: dict[int, float] = {i: c for i, c in enumerate(compact) if c <= SHORT_COLUMN}
    while True:
        flexible = [i for i in range(len(natural)) if i not in widths]
        room = PAGE_CHARS - sum(widths.values())
        total = sum(natural[i] for i in flexible)
        shares = {i: natural[i] * room / total for i in flexible}
        floored = {i: words[i] for i in flexible if shares[i] < words[i]}
        if not floored:
            widths |= shares
            return [max(1, round(widths[i])) for i in range(len(natural))]
        widths |= floored


def markdown_table(frame: pd.DataFrame, status_column: str | None = None) -> str:
    """A pipe table, every column aligned left. The dashes under each header give the
    column's share of the width (``_column_widths``), which pandoc uses when a row is
    longer than its line length: then the table spans the page and its cells wrap. The
    status column, if named, is in bold (``MISMATCH`` in capitals)."""
    if frame.shape[1] == 0:
        return ""
    header = [markdown_text(c) for c in frame.columns]
    rows = [[(_status(str(v)) if frame.columns[i] == status_column else markdown_text(v))
             for i, v in enumerate(row)] for row in frame.itertuples(index=False, name=None)]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(":" + "-" * w for w in _column_widths(frame)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n"


def markdown_tables(parts: list[tuple[str, pd.DataFrame]] | pd.DataFrame,
                    status_column: str | None = None) -> str:
    """Tables with their headings (bold), as one Markdown text; a frame wider than
    MAX_COLUMNS is split, repeating its first column."""
    if isinstance(parts, pd.DataFrame):
        parts = [("", chunk) for chunk in column_chunks(parts)]
    out = []
    for heading, frame in parts:
        if heading:
            out.append(f"**{markdown_text(heading)}**\n")
        out.append(markdown_table(frame, status_column))
    return "\n".join(out)


def column_chunks(frame: pd.DataFrame, max_columns: int = MAX_COLUMNS) -> list[pd.DataFrame]:
    """``frame`` split into tables of at most ``max_columns`` columns, each repeating the
    first (label) column."""
    if frame.shape[1] <= max_columns:
        return [frame]
    step = max_columns - 1
    return [frame.iloc[:, [0, *range(start, min(start + step, frame.shape[1]))]]
            for start in range(1, frame.shape[1], step)]


def transpose(frame: pd.DataFrame, keys: list[str], label: str = "Statistic") -> pd.DataFrame:
    """CSR layout: each row of ``frame`` becomes a column, named by its ``keys`` values
    (those that vary; the first key if none does), and each other column a row. Rows
    empty in every column are left out."""
    keys = [k for k in keys if k in frame]
    varying = [k for k in keys if frame[k].nunique() > 1] or keys[:1]
    names = [", ".join(str(row[k]) for k in varying) for _, row in frame.iterrows()]
    rest = frame.drop(columns=keys)
    body = rest.T.reset_index()
    body.columns = [label, *names]
    keep = (body.iloc[:, 1:].astype(str) != "").any(axis=1)
    return body[keep].reset_index(drop=True)


def nested_rows(frame: pd.DataFrame, outer: str, across: str,
                label: str = "Statistic") -> pd.DataFrame:
    """CSR layout with nested rows: per value of ``outer`` a heading row, then one indented
    row per other column; the values of ``across`` become the columns."""
    groups = list(dict.fromkeys(frame[across]))
    stats = [c for c in frame.columns if c not in (outer, across)]
    rows = []
    for value, g in frame.groupby(outer, sort=False):
        rows.append([value] + [""] * len(groups))
        cells = g.set_index(across)
        rows += [[INDENT + s] + [cells[s].get(grp, "") for grp in groups] for s in stats]
    return pd.DataFrame(rows, columns=[label, *groups])


def _csr_by_parameter(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """A paired table in CSR layout: one table, parameters as columns (one arm), or one
    table per parameter with the arms as columns."""
    if table.empty:
        return []
    if "Arm" not in table:
        return [("", chunk) for chunk in column_chunks(transpose(table, ["Parameter"]))]
    return [(label, chunk) for label, g in table.groupby("Parameter", sort=False)
            for chunk in column_chunks(transpose(g.drop(columns="Parameter"), ["Arm"]))]


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """A table of ``tables/*.csv`` for the page, in at most MAX_COLUMNS columns where it
    can be: the label columns before the first group column (headed "... (N = n)") are
    nested into one, each level indented under the one before, as CSR tables do; a wide
    table without group columns (one row per period) is transposed."""
    columns = list(table.columns)
    groups = [c for c in columns if "(N = " in str(c)]
    if not groups:
        if len(columns) > MAX_COLUMNS and len(table) < MAX_COLUMNS:
            return transpose(table, [columns[0]], label=str(columns[0]) + " / statistic")
        return table
    labels = columns[:columns.index(groups[0])]
    if len(labels) < 2:
        return table
    rows, previous = [], [""] * len(labels)
    for _, row in table.iterrows():
        values = [str(row[c]) for c in labels]
        first = next((i for i, v in enumerate(values) if v), 0)
        values[:first] = previous[:first]  # a blank leading label repeats the one above
        depth = max(i for i, v in enumerate(values) if v) if any(values) else 0
        for i in range(depth):  # a heading row for each enclosing level not yet shown
            if values[i] and values[:i + 1] != previous[:i + 1]:
                rows.append([INDENT * sum(map(bool, values[:i])) + values[i]]
                            + [""] * len(groups))
        previous = values
        rows.append([INDENT * sum(map(bool, values[:depth])) + values[depth]]
                    + [str(row[g]) for g in groups])
    return pd.DataFrame(rows, columns=[" / ".join(labels), *groups])
