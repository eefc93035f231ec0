"""Safety, demographics, disposition and exposure: the display tables of ``tables/*.csv``
(written by the tables step from ``ard.csv``), each with its title and note."""

from __future__ import annotations

from trialreport.report.markdown import blocks, display_table, markdown_tables
from trialreport.report.results import Results
from trialreport.tables.display import TABLES, read_display_table

SPECS = {spec.name: spec for spec in TABLES}
HEADINGS = {
    "demographics": "Demographics and baseline characteristics",
    "disposition": "Disposition",
    "exposure": "Exposure",
    "ae_overview": "Adverse events: overview",
    "ae_soc_pt": "Adverse events by system organ class and preferred term",
    "ae_severity": "Adverse events by maximum severity",
    "ae_relationship": "Adverse events by relationship to study treatment",
}


def display_table_block(r: Results, name: str) -> str:
    """One table of ``tables/<name>.csv``, with its title and note, or the sentence that
    says why it is not available."""
    spec = SPECS[name]
    table = read_display_table(f"{r.results_dir}/tables", name)
    if list(table.columns) == ["Not available"]:
        return f"**{spec.title}**: {table.iloc[0, 0]}"
    title = spec.title_for(r.with_periods, r.cfg, r.single_arm)
    return blocks(
        markdown_tables(display_table(table), caption=f"{title} (tables/{name}.csv)"),
        f"*{spec.note_for(r.with_periods)}*",
    )


def periods_heading(r: Results) -> str:
    periods = r.cfg.design.periods
    return "### Adverse events: " + (
        " against ".join(p.label for p in periods) if r.cfg.design.periods_configured
        and len(periods) > 1 else "incidence per subject-week of exposure")


def safety_intro(r: Results) -> str:
    """What the safety tables are, in words true of this trial's design."""
    text = ("The tables below are the CSV files in `tables/` next to this report, each built "
            "from the analysis-results table (`ard.csv`, analyses `baseline`, `disposition`, "
            "`dose_exposure`, `ae_overview`, `ae_soc_pt`, `ae_severity`, `ae_relationship`, "
            f"`{'ae_periods' if r.with_periods else 'ae_rates'}`) and only formatted here. ")
    if r.with_periods:
        text += ("Demographics, disposition and exposure have a column for the arm; the "
                 "adverse-event tables have one column per period (the events that began in "
                 "it, among the subjects exposed in it) and an *All periods* column (every "
                 "event, including any without a period), and no column named for the drug, "
                 "which would count the placebo period's events too; there, *related* means "
                 "related to the study treatment of the period, placebo in a placebo period. ")
    elif r.single_arm:
        text += "Each table has one column, the trial's arm, headed with its denominator N. "
    else:
        text += ("Columns are the arms in the protocol's order and the total; each header "
                 "gives its denominator N. ")
    return text + ("Adverse events are treatment-emergent (TRTEMFL honoured where the data "
                   "carry it, otherwise derived: onset on or after the first dose).")


def safety_section(r: Results) -> str:
    parts = ["## Safety, demographics, disposition and exposure",
             safety_intro(r)]
    for name, title in HEADINGS.items():
        parts += [f"### {title}", display_table_block(r, name)]
    parts += [periods_heading(r), display_table_block(r, "ae_periods")]
    inc = r.reproduction[r.reproduction["id"] == "ae_incidence_periods"]
    if len(inc):
        row = inc.iloc[0]
        parts.append(f"Published: *{row['published']}*. Reproduced: {row['reproduced']} "
                     f"({row['status']}; {row['source'].split('; ', 1)[-1]}). See "
                     "*Published against reproduced* above.")
    return blocks(*parts)
