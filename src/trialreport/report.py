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

from trialreport.pipeline import read_ard
from trialreport.reproduce import round_half_up


@dataclass
class ReportData:
    trial_id: str
    trial: dict[str, Any]
    ard: pd.DataFrame
    reproduction: pd.DataFrame
    warnings: pd.DataFrame
    provenance: dict[str, Any]

    @classmethod
    def load(cls, results_dir: str | Path, trial_id: str) -> ReportData:
        results = Path(results_dir)
        return cls(
            trial_id=trial_id,
            trial=json.loads((results / "trial_config.json").read_text(encoding="utf-8")),
            ard=read_ard(results / "ard.csv"),
            reproduction=pd.read_csv(results / "reproduction.csv", dtype=str,
                                     keep_default_na=False),
            warnings=pd.read_csv(results / "validation" / "warnings.csv", dtype=str,
                                 keep_default_na=False),
            provenance=json.loads((results / "provenance.json").read_text(encoding="utf-8")),
        )

    # -- lookups ---------------------------------------------------------------------------

    def value(self, **where: Any) -> float:
        rows = self.ard
        for column, wanted in where.items():
            rows = rows[rows[column] == wanted]
        if len(rows) != 1:
            raise KeyError(f"expected one result for {where}, found {len(rows)}")
        return float(rows["value"].iloc[0])

    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.trial["design"]["parameters"]

    def visit_name(self, number: int) -> str:
        return {int(v["number"]): v["name"] for v in self.trial["design"]["visits"]}[number]

    # -- blocks ----------------------------------------------------------------------------

    def heading(self) -> str:
        ref = self.trial.get("reference", "")
        return f"## {self.trial['title']}\n\n{ref}\n"

    def synthetic_notice_html(self) -> str:
        if not self.trial.get("synthetic"):
            return ""
        text = self.trial.get("data_notice", "The data of this report are synthetic.")
        return (f'<div class="notice"><strong>Synthetic data.</strong> '
                f"{html.escape(text)}</div>")

    def table1(self) -> pd.DataFrame:
        """The publication's summary table, filled from the results."""
        design = self.trial["design"]
        a = self.ard
        n = int(a.loc[(a["analysis"] == "enrolment") & (a["statistic"] == "n_subjects"),
                      "value"].sum())
        age = a[(a["analysis"] == "demographics") & (a["parameter"] == "AGE")]
        lo = int(age.loc[age["statistic"] == "min", "value"].min())
        hi = int(age.loc[age["statistic"] == "max", "value"].max())
        max_dose = a.loc[(a["analysis"] == "exposure") & (a["statistic"] == "max"),
                         "value"].max()
        rows = [
            ("Study design", design["description"]),
            ("Participants", f"{n} {design.get('population', 'participants')} "
                             f"(age {lo}-{hi})"),
            ("Dosage", f"{design.get('dose_rule', 'dosing')} up to {max_dose:g} "
                       f"{design.get('dose_unit', '')}".strip()),
            ("Primary efficacy measures",
             ", ".join(f"{p['label']} ({p.get('name', code)})"
                       for code, p in self.parameters().items())),
        ]
        for code, p in self.parameters().items():
            base, comp = int(p["baseline_visit"]), int(p["comparison_visit"])
            m0 = self.value(analysis="by_visit", parameter=code, visitn=float(base),
                            statistic="mean")
            m1 = self.value(analysis="by_visit", parameter=code, visitn=float(comp),
                            statistic="mean")
            n0 = self.value(analysis="by_visit", parameter=code, visitn=float(base),
                            statistic="n")
            n1 = self.value(analysis="by_visit", parameter=code, visitn=float(comp),
                            statistic="n")
            p_t = self.ard[(self.ard["analysis"] == "paired") & (self.ard["parameter"] == code)
                           & (self.ard["method"] == "paired_ttest")
                           & (self.ard["statistic"] == "p_value")]["value"]
            ptext = f" ({format_p(float(p_t.iloc[0]))}, paired t-test)" if len(p_t) else ""
            rows.append((
                f"{p['label']} mean, baseline ({self.visit_name(base)}) -> "
                f"{self.visit_name(comp)}",
                f"{round_half_up(m0, 2)} (n = {n0:g}) -> {round_half_up(m1, 2)} "
                f"(n = {n1:g}){ptext}",
            ))
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
        labels = {c: p["label"] for c, p in self.parameters().items()}
        return pd.DataFrame({
            "Parameter": wide["parameter"].map(labels),
            "Visit": wide["visit"],
            "n": wide["n"].map(lambda v: f"{v:g}"),
            "Mean (SD)": [f"{m:.2f} ({s:.2f})" for m, s in zip(wide["mean"], wide["sd"],
                                                                 strict=True)],
            "Median [Q1, Q3]": [f"{m:g} [{a:g}, {b:g}]" for m, a, b in
                                zip(wide["median"], wide["q1"], wide["q3"], strict=True)],
            "Min, max": [f"{a:g}, {b:g}" for a, b in zip(wide["min"], wide["max"],
                                                         strict=True)],
            "95% CI of mean": [f"{a:.2f} to {b:.2f}" for a, b in
                               zip(wide["ci_low"], wide["ci_high"], strict=True)],
        })

    def paired_table(self) -> pd.DataFrame:
        rows = []
        for code, p in self.parameters().items():
            sel = self.ard[(self.ard["analysis"] == "paired") & (self.ard["parameter"] == code)]
            if sel.empty:
                continue
            get = dict(zip(sel["method"] + ":" + sel["statistic"], sel["value"], strict=True))
            wmethod = next((m for m in sel["method"].unique() if m.startswith("wilcoxon")), "")
            rows.append({
                "Parameter": p["label"],
                "Comparison": f"{self.visit_name(int(p['baseline_visit']))} vs "
                              f"{self.visit_name(int(p['comparison_visit']))}",
                "Pairs": f"{get['descriptive:n_pairs']:g}",
                "Excluded": f"{get['descriptive:n_excluded']:g}",
                "Baseline mean (SD)": f"{get['descriptive:baseline_mean']:.2f} "
                                      f"({get['descriptive:baseline_sd']:.2f})",
                "Comparison mean (SD)": f"{get['descriptive:comparison_mean']:.2f} "
                                        f"({get['descriptive:comparison_sd']:.2f})",
                "Mean change [95% CI]": f"{get['descriptive:change_mean']:.2f} "
                                        f"[{get['t-based CI:change_ci_low']:.2f}, "
                                        f"{get['t-based CI:change_ci_high']:.2f}]",
                "Paired t": f"t({get['paired_ttest:df']:g}) = {get['paired_ttest:t']:.2f}, "
                            f"{format_p(get['paired_ttest:p_value'])}",
                "Wilcoxon signed-rank": (f"W = {get[wmethod + ':W']:g}, "
                                         f"{format_p(get[wmethod + ':p_value'])} "
                                         f"({wmethod.removeprefix('wilcoxon_')})"
                                         if wmethod else "not computed"),
            })
        return pd.DataFrame(rows)

    def means_by_visit_figure(self):  # -> matplotlib Figure
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
        rows = self.ard[self.ard["analysis"] == "by_visit"]
        for code, p in self.parameters().items():
            sel = rows[rows["parameter"] == code]
            mean = sel[sel["statistic"] == "mean"].sort_values("visitn")
            low = sel[sel["statistic"] == "ci_low"].sort_values("visitn")
            high = sel[sel["statistic"] == "ci_high"].sort_values("visitn")
            x = mean["visitn"].to_numpy()
            y = mean["value"].to_numpy()
            ax.errorbar(x, y, yerr=[y - low["value"].to_numpy(), high["value"].to_numpy() - y],
                        marker="o", capsize=3, label=p["label"])
        visits = {int(v["number"]): v["name"] for v in self.trial["design"]["visits"]}
        ax.set_xticks(list(visits), list(visits.values()))
        ax.set_ylabel("Mean score (95% CI)")
        ax.set_title("Mean score by visit (observed cases)")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def warnings_table(self) -> pd.DataFrame:
        return self.warnings[["file", "row", "column", "rule", "value", "message"]]

    def provenance_table(self) -> pd.DataFrame:
        rows = [(f"data: {v['path']}", f"sha256 {v['sha256'][:16]}..., {v['bytes']} bytes")
                for v in self.provenance["data"].values()]
        rows.append(("trial config", f"sha256 {self.provenance['config_sha256'][:16]}..."))
        rows.append(("python", self.provenance["python"]))
        rows += [(name, version) for name, version in self.provenance["packages"].items()]
        return pd.DataFrame(rows, columns=["Item", "Value"])


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
