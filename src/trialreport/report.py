"""Tables and figures for the report, built from the workflow's result files only.

Nothing here computes a statistic: every number is read from the analysis-results table
(ard.csv) or the reproduction table and only formatted for display.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.config import Parameter, Trial
from trialreport.pipeline import read_ard
from trialreport.reproduce import round_half_up
from trialreport.tables import fmt_num


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

    def means_by_visit_figure(self):  # -> matplotlib Figure
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        rows = self.ard[self.ard["analysis"] == "by_visit"]
        arms = self.arms()
        for code, p in self.parameters().items():
            for arm in arms:
                sel = rows[(rows["parameter"] == code) & (rows["group"] == arm)]
                mean = sel[sel["statistic"] == "mean"].sort_values("visitn")
                low = sel[sel["statistic"] == "ci_low"].sort_values("visitn")
                high = sel[sel["statistic"] == "ci_high"].sort_values("visitn")
                x = mean["visitn"].to_numpy()
                y = mean["value"].to_numpy()
                ax.errorbar(x, y, yerr=[y - low["value"].to_numpy(),
                                        high["value"].to_numpy() - y],
                            marker="o", capsize=3,
                            label=p.label + (f", {arm}" if len(arms) > 1 else ""))
        visits = self.cfg.design.visit_names
        ax.set_xticks(list(visits), list(visits.values()))
        ax.set_ylabel("Mean score (95% CI)")
        ax.set_title("Mean score by visit (observed cases)")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

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
