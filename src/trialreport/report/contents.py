"""The report's contents: which sections a trial's report has, in which order.

``reports/report.qmd`` asks for ``sections(results)`` and prints each section's Markdown where
Quarto parses the document's own headings (a cell with ``output: asis``), so every heading is
in the contents list of the HTML and of the PDF. A section is a function from the trial's
results (``trialreport.report.results.Results``) to Markdown, its headings included; one that
has nothing to show for the trial returns "" or says why in one line.
"""

from __future__ import annotations

from collections.abc import Callable

from trialreport.report.results import Results
from trialreport.report.sections.between_arms import between_arms_section
from trialreport.report.sections.by_visit import by_visit_section
from trialreport.report.sections.checks import checks_section
from trialreport.report.sections.mmrm import mmrm_section
from trialreport.report.sections.paired import paired_section
from trialreport.report.sections.plan import (
    key_secondary_section,
    multiplicity_section,
    no_plan_section,
    other_endpoints_section,
    primary_section,
)
from trialreport.report.sections.provenance import provenance_section
from trialreport.report.sections.reproduction import reproduction_section
from trialreport.report.sections.responders import responders_section
from trialreport.report.sections.safety import safety_section
from trialreport.report.sections.subgroups import subgroups_section
from trialreport.report.sections.summary import summary_section, title_block

Section = Callable[[Results], str]

SECTIONS: tuple[Section, ...] = (
    # the trial's own questions first: its primary endpoint(s), then the rest of the plan
    title_block, summary_section, no_plan_section, primary_section, key_secondary_section,
    multiplicity_section, other_endpoints_section,
    # then what the plan does not name: descriptive
    by_visit_section, paired_section, responders_section, subgroups_section,
    between_arms_section, mmrm_section,
    safety_section, reproduction_section, checks_section, provenance_section,
)
"""In the order of the report: the title and summary, the plan's endpoints (primary, key
secondary with the multiplicity strategy, then secondary and exploratory), the descriptive
sections, safety, published against reproduced, data checks, provenance."""


def sections(results: Results) -> list[Section]:
    """The sections of this trial's report, in order (a section with nothing to show for
    the trial returns "" and takes no room)."""
    return list(SECTIONS)


def report_markdown(results: Results) -> str:
    """The whole report body as Markdown: every section's, in order, its tables numbered
    (``number_tables``)."""
    return number_tables("".join(section(results) for section in sections(results)))


def number_tables(markdown: str) -> str:
    """Give every captioned table (a pipe table, a blank line, then ``: caption``) the
    label ``{#tbl-1}``, ``{#tbl-2}``, ... in the order of the report, so that Quarto
    numbers them ("Table 1: ..."), as the Jupyter path and the PDF route do."""
    lines = markdown.split("\n")
    count = 0
    for i, line in enumerate(lines):
        if line.startswith(": ") and i >= 2 and lines[i - 1] == "" and lines[i - 2].startswith("|"):
            count += 1
            lines[i] = f"{line} {{#tbl-{count}}}"
    return "\n".join(lines)
