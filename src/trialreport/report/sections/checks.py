"""Data checks: sections left out for lack of data, records used, differences between
the data as delivered and the pipeline's derivations, warnings and exclusions.

Every number is read from the workflow's result files and only formatted here."""

from __future__ import annotations

import pandas as pd

from trialreport.report.markdown import blocks, markdown_table
from trialreport.report.results import Results


def absent_sections(r: Results) -> list[str]:
    """What the report leaves out because the trial does not deliver the data, and why."""
    out = []
    if not r.cfg.has("adverse_events"):
        out.append("Adverse events: the trial's config names no adverse-events dataset "
                   "(data.adverse_events), so there are no adverse-event tables.")
    if not r.cfg.has("exposure"):
        out.append("Exposure: the trial's config names no exposure dataset "
                   "(data.exposure), so there is no exposure table, no Treated row in "
                   "the disposition, no highest dose and no incidence per subject-week.")
    if not (r.ard["parameter"] == "AGE").any():
        out.append("Age: the subjects dataset has no AGE column, so age is not "
                   "summarised.")
    return out


NOT_COLLECTED_TABLES = {"disposition": "Disposition", "ae_overview": "Adverse-event overview"}


def not_collected_rows(r: Results) -> list[str]:
    """Table rows shown as "not collected" (``ard.NOT_COLLECTED`` in the ARD's method), each
    with the column that would give them."""
    from trialreport.analyse.ard import NOT_COLLECTED

    rows = r.ard[r.ard["method"].astype(str).str.startswith(NOT_COLLECTED)]
    out = []
    for (analysis, method), group in rows.groupby(["analysis", "method"], sort=False):
        names = ", ".join(dict.fromkeys(group["parameter"]))
        out.append(f"{NOT_COLLECTED_TABLES.get(analysis, analysis)}, {names}: "
                   f"{method.removeprefix(NOT_COLLECTED + ': ')}, so the table shows "
                   f"\"{NOT_COLLECTED}\" (never 0); the ARD's value is empty, its method "
                   f"\"{method}\".")
    return out


def records_used_table(r: Results) -> pd.DataFrame:
    """Records read, set aside (with the reason) and used, per dataset (from
    ``ingested/selection.csv``)."""
    if r.selection is None or r.selection.empty:
        return pd.DataFrame()
    s = r.selection
    s = s[(s["records"] != "set aside") | (s["n"] != "0")]
    return pd.DataFrame({"Dataset": s["dataset"], "File": s["file"],
                         "Records": s["records"], "Which": s["criterion"], "n": s["n"]})


def delivered_checks_table(r: Results, limit: int = 50) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Differences between the data as delivered (BASE, CHG, ABLFL, LOCF) and the
    pipeline's derivation: a count per check, and the first ``limit`` of them."""
    c = r.checks
    if c is None or c.empty:
        return pd.DataFrame(), pd.DataFrame()
    counts = c.groupby(["check", "note"], sort=True).size().reset_index(name="differences")
    return counts, c.head(limit)


def warnings_table(r: Results) -> pd.DataFrame:
    return r.warnings[["file", "row", "column", "rule", "value", "message"]]


def checks_listing(r: Results, first: pd.DataFrame) -> pd.DataFrame:
    """The first differences of ``delivered_checks_table`` in five columns."""
    return pd.DataFrame({
        "Check": first["check"], "USUBJID": first["USUBJID"],
        "Parameter, visit": first["PARAMCD"] + ", " + first["AVISIT"],
        "Row": first["row"],
        "Delivered / derived": first["delivered"] + " / " + first["derived"],
    })


def warnings_listing(r: Results) -> pd.DataFrame:
    """``warnings_table`` in four columns: where (file, row, column), rule, value,
    message."""
    return _listing(warnings_table(r))


def _listing(w: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"Where": w["file"] + ", row " + w["row"] + ", " + w["column"],
                         "Rule": w["rule"], "Value": w["value"], "Message": w["message"]})


def notes_listing(r: Results) -> pd.DataFrame:
    """Records the validate stage completed by a stated rule (severity ``note`` in
    ``validation/warnings.csv``): open exposure records closed, events with no onset day
    counted as treatment-emergent."""
    w = r.warnings
    if "severity" not in w.columns:
        return pd.DataFrame()
    return _listing(w[w["severity"] == "note"])


def exclusions_listing(r: Results) -> pd.DataFrame:
    """The subjects excluded by the data checks (``validation/exclusions.csv``)."""
    x = r.exclusions
    if x is None or x.empty:
        return pd.DataFrame()
    return pd.DataFrame({"Where": x["file"] + ", row " + x["row"], "USUBJID": x["USUBJID"],
                         "PARAMCD": x["PARAMCD"], "Rule": x["rule"], "Reason": x["reason"]})


def checks_section(r: Results) -> str:
    parts = ["## Data checks"]
    absent = absent_sections(r)
    if absent:
        parts.append("Sections left out, because the trial does not deliver their data:\n\n"
                     + "\n".join(f"- {line}" for line in absent))
    missing = not_collected_rows(r)
    if missing:
        parts.append("Rows not collected, because the trial does not deliver the column "
                     "that gives them:\n\n" + "\n".join(f"- {line}" for line in missing))
    used = records_used_table(r)
    if len(used):
        parts += [
            "Records read, set aside and used, per dataset (the trial's config "
            "selects them: `where` under each dataset; in scores, derived records "
            "other than LOCF are set aside):",
            markdown_table(used, caption="Records read, set aside and used"),
        ]
        if used["Records"].isin(["formed", "read as"]).any():
            parts.append(
                "Rows `formed` are columns the data do not carry, formed from the trial's "
                "config as each row says (population flags from `design.populations`, "
                "visit names from `design.visits`); rows `read as` are values read as real "
                "writers write them (numbers written as text, missing-value tokens, ADaM's "
                "Y/null flags), with the number of cells.")
    counts, first = delivered_checks_table(r)
    if len(counts):
        parts += [
            f"The data deliver values that the pipeline also derives; "
            f"{int(counts['differences'].sum())} difference(s) "
            "(`derived/checks.csv`). The delivered BASE and CHG are the ones "
            "analysed; the LOCF analysis uses the records `analyses.locf` names:",
            markdown_table(
                counts, caption="Differences between the data as delivered and the derivations"
            ),
            markdown_table(
                checks_listing(r, first), caption="The first differences (derived/checks.csv)"
            ),
        ]
    elif r.checks is not None:
        parts.append("Values the data deliver that the pipeline also derives (BASE, CHG, "
                     "the baseline flag, LOCF records), if any, agree with its derivation.")
    notes = notes_listing(r)
    if len(notes):
        parts += [
            f"{len(notes)} record(s) completed by a stated rule (an open dosing record "
            "closed, an event with no onset day counted as treatment-emergent, a missing "
            "relationship counted as related, a missing action counted as not leading to "
            "discontinuation); each count that uses them rests on the rule named:",
            markdown_table(notes, caption="Records completed by a rule"),
        ]
    warned = r.warnings
    if "severity" in warned.columns:
        warned = warned[warned["severity"] != "note"]
    if len(warned):
        parts += [
            f"{len(warned)} warning(s) from the data contracts and the cross-dataset "
            "checks (rules set to warn in the trial's config; `validation: consistency: "
            "refuse` refuses data that fail a cross-dataset check):",
            markdown_table(_listing(warned),
                           caption="Warnings of the data contracts and cross-dataset checks"),
        ]
    else:
        parts.append("Every dataset passed its data contract and the cross-dataset checks "
                     "with no warnings.")
    excluded = exclusions_listing(r)
    if len(excluded):
        parts += [
            f"{len(excluded)} exclusion(s) set by the trial's config "
            "(`validation: missing_baseline: exclude`):",
            markdown_table(excluded, caption="Subjects excluded by the data checks"),
        ]
    else:
        parts.append("No subject was excluded by the data checks.")
    return blocks(*parts)
