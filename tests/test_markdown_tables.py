"""The report's tables and notices as Markdown (report.markdown_table and the CSR layouts,
render.callouts_to_html, render.markdown_of_notebook): what both renderers show, checked
without a kernel, pandoc or typst."""

from __future__ import annotations

import base64
import re

import nbformat
import pandas as pd
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from trialreport.report.jupyter import callouts_to_html, notebook_to_html
from trialreport.report.markdown import (
    MAX_COLUMNS,
    column_chunks,
    display_table,
    markdown_table,
    markdown_tables,
    markdown_text,
    num,
    p_cell,
    transpose,
)
from trialreport.report.pandoc_routes import markdown_of_notebook
from trialreport.report.results import Results
from trialreport.report.sections.between_arms import ancova_tables
from trialreport.report.sections.by_visit import by_visit_table, by_visit_tables
from trialreport.report.sections.paired import paired_table, paired_tables
from trialreport.report.sections.responders import responder_table, responder_tables
from trialreport.report.sections.subgroups import subgroup_table, subgroup_tables
from trialreport.report.sections.summary import synthetic_notice


def cells_of(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)
    return [[re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.DOTALL)]
            for row in rows]


def test_a_pipe_table_is_an_html_table_on_the_jupyter_path_with_every_cell_as_is() -> None:
    frame = pd.DataFrame({"Target": ["a | b", "x_y *z*", "P < 0.001"],
                          "Status": ["match", "mismatch", "match"],
                          "From": ["by_visit/CGII/Week 1/mean", "[1, 2] (normal)", "$5 @a ~b"]})
    html = markdown2html_mistune(markdown_table(frame, status_column="Status"))
    assert "<table>" in html
    got = cells_of(html.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    assert got[0] == ["Target", "Status", "From"]
    assert got[1:] == [["a | b", "match", "by_visit/CGII/Week 1/mean"],
                       ["x_y *z*", "MISMATCH", "[1, 2] (normal)"],
                       ["P < 0.001", "match", "$5 @a ~b"]]
    assert "<strong>MISMATCH</strong>" in html and "<strong>match</strong>" in html


def test_indentation_survives_as_non_breaking_spaces() -> None:
    text = markdown_text("\u00a0\u00a0\u00a0\u00a0Dizziness")
    assert text == "&nbsp;" * 4 + "Dizziness"
    assert "\xa0" * 4 + "Dizziness" in markdown2html_mistune(
        markdown_table(pd.DataFrame({"Term": ["\u00a0" * 4 + "Dizziness"]})))


def test_column_widths_follow_the_text_and_keep_short_columns_whole() -> None:
    frame = pd.DataFrame({"Target": ["AE incidence, placebo week vs active weeks"],
                          "Status": ["match"], "n": ["29"],
                          "From": ["ae_periods/TEAE/exact_conditional_poisson/p_value "
                                   "[ACTIVE vs PLACEBO]; rule: 'no difference' when P >= 0.05"]})
    separator = markdown_table(frame).splitlines()[1]
    dashes = [len(c.strip(":")) for c in separator.strip("|").split("|")]
    assert dashes[1] >= len("Status") + 2 and dashes[2] >= 3  # short columns whole
    assert dashes[3] > dashes[0] > dashes[1]  # the long ones share the rest, by length


def test_wide_tables_are_split_repeating_the_label_column() -> None:
    frame = pd.DataFrame({"Statistic": ["n"], **{f"c{i}": [str(i)] for i in range(9)}})
    chunks = column_chunks(frame)
    assert all(c.shape[1] <= MAX_COLUMNS and c.columns[0] == "Statistic" for c in chunks)
    assert [c for chunk in chunks for c in chunk.columns[1:]] == [f"c{i}" for i in range(9)]


def test_transpose_names_columns_by_the_keys_that_vary_and_drops_empty_rows() -> None:
    frame = pd.DataFrame({"Arm": ["A", "A"], "Parameter": ["X", "Y"], "n": ["3", "4"],
                          "Tests": ["", ""]})
    csr = transpose(frame, ["Arm", "Parameter"])
    assert list(csr.columns) == ["Statistic", "X", "Y"]
    assert csr.values.tolist() == [["n", "3", "4"]]


def test_display_table_nests_label_columns_into_one_indented_column() -> None:
    table = pd.DataFrame({
        "System organ class": ["Any TEAE", "Any TEAE", "Nervous", "Nervous", "Nervous"],
        "Preferred term": ["", "", "", "Headache", "Headache"],
        "Maximum severity": ["Mild", "Severe", "Mild", "Mild", "Severe"],
        "Drug (N = 3)": ["1", "0", "1", "1", "0"], "Total (N = 5)": ["2", "0", "1", "1", "0"]})
    out = display_table(table)
    indent = "\u00a0" * 4
    assert list(out.columns) == ["System organ class / Preferred term / Maximum severity",
                                 "Drug (N = 3)", "Total (N = 5)"]
    assert out.iloc[:, 0].tolist() == [
        "Any TEAE", indent + "Mild", indent + "Severe", "Nervous", indent + "Mild",
        indent + "Headache", indent * 2 + "Mild", indent * 2 + "Severe"]
    assert out.iloc[:, 1].tolist() == ["", "1", "0", "", "1", "", "1", "0"]
    demographics = pd.DataFrame({"Characteristic": ["Age", "", "Sex"],
                                 "Statistic": ["n", "Mean (SD)", "Male, n (%)"],
                                 "Drug (N = 3)": ["3", "40 (2)", "1 (33.3)"]})
    assert display_table(demographics).iloc[:, 0].tolist() == [
        "Age", indent + "n", indent + "Mean (SD)", "Sex", indent + "Male, n (%)"]


def test_a_wide_table_without_group_columns_is_transposed() -> None:
    periods = pd.DataFrame({"Period": ["Placebo", "Active"],
                            **{f"Statistic {i}": [str(i), str(i + 1)] for i in range(7)}})
    out = display_table(periods)
    assert list(out.columns) == ["Period / statistic", "Placebo", "Active"]
    assert len(out) == 7


@pytest.fixture
def two_arms() -> Results:
    from test_efficacy_analyses import _trial, build_ard

    config, subjects, efficacy, exposure = _trial(arms=2)
    ard = build_ard("t", config, subjects, efficacy, exposure)
    return Results("t", config, ard, pd.DataFrame(), pd.DataFrame(), {})


def values(frame: pd.DataFrame) -> set[str]:
    return {v for v in frame.to_numpy().ravel() if v != ""}


@pytest.mark.parametrize(("wide", "csr"), [
    (lambda r: paired_table(r, "paired"), lambda r: paired_tables(r, "paired")),
    (lambda r: paired_table(r, "paired_locf"), lambda r: paired_tables(r, "paired_locf")),
    (subgroup_table, subgroup_tables),
    (responder_table, responder_tables),
    (by_visit_table, by_visit_tables),
])
def test_csr_layouts_are_narrow_and_show_every_value_of_the_table(two_arms, wide, csr) -> None:
    table, parts = wide(two_arms), csr(two_arms)
    assert parts and all(f.shape[1] <= MAX_COLUMNS + 1 for _, f in parts)
    shown = set().union(*(values(f) | set(f.columns) | {h} for h, f in parts))
    # keys moved into headers and headings: "Drug, TIER = 1", "S, by TIER", "S: rule"
    shown |= {p.removeprefix("by ") for s in list(shown) for p in re.split(r", |: ", s)}
    assert values(table) <= {s.strip("\u00a0") for s in shown}


def test_between_arm_results_have_arms_as_columns_contrasts_in_their_arm(two_arms) -> None:
    """The ANCOVA in CSR layout: statistics named in words, the arms as columns in the
    protocol's order (reference first), the contrast in the compared arm's column, at two
    decimals, P as < 0.001 or three decimals."""
    parts = ancova_tables(two_arms)
    assert parts
    for heading, frame in parts:
        assert [c.split(" (N = ")[0] for c in frame.columns] == ["Statistic", "Placebo",
                                                                 "Drug"], heading
        assert list(frame["Statistic"]) == [
            "n", "LS mean (SE)", "95% CI of LS mean", "Difference vs Placebo (SE)",
            "95% CI of difference", "P value"]
    table = parts[0][1].set_index("Statistic")
    table.columns = [c.split(" (N = ")[0] for c in table.columns]
    a = two_arms.ard
    rows = a[(a["analysis"] == "ancova") & (a["group"] == "Drug vs Placebo")]
    get = dict(zip(rows["statistic"], rows["value"], strict=True))
    assert table.loc["Difference vs Placebo (SE)", "Placebo"] == ""
    assert table.loc["Difference vs Placebo (SE)", "Drug"] == \
        f"{num(get['diff'])} ({num(get['diff_se'])})"
    assert table.loc["P value", "Drug"] == p_cell(get["p_value"])


def test_markdown_tables_give_each_heading_as_its_tables_caption() -> None:
    frame = pd.DataFrame({"Statistic": ["n"], "A": ["1"]})
    text = markdown_tables([("CGI-I, by MAXDOSE", frame)], caption="Subgroups")
    assert text.startswith("| Statistic | A |")
    assert text.endswith("\n\n: Subgroups; CGI-I, by MAXDOSE\n")


def test_a_long_table_is_given_in_pieces_cut_between_its_row_groups() -> None:
    """Each piece fits PAGE_POINTS; no row group is split from its rows; the later pieces
    have "(continued)" in their first header cell and no caption of their own."""
    from trialreport.report.markdown import PAGE_POINTS, page_chunks, table_height

    rows = []
    for visit in range(1, 9):
        rows.append([f"Week {visit}", "", ""])
        rows += [[f"\u00a0\u00a0stat {k}", str(k), str(k + 1)] for k in range(6)]
    frame = pd.DataFrame(rows, columns=["Visit / statistic", "A (N = 10)", "B (N = 12)"])
    pieces = page_chunks(frame)
    assert len(pieces) > 1 and sum(len(p) for p in pieces) == len(frame)
    for piece in pieces:
        assert table_height(piece) <= PAGE_POINTS
        assert piece.iloc[0, 0].startswith("Week")  # each piece opens with a group's heading
    text = markdown_table(frame, caption="By visit")
    assert text.count(": By visit") == 1
    assert text.count("| Visit / statistic (continued) |") == len(pieces) - 1
    # the header's "(N = n)" never breaks: its spaces are non-breaking
    assert "A (N\u00a0=\u00a010)" in text and "(N = " not in text


NOTICE = "::: {.callout-warning appearance=\"simple\"}\n**Synthetic data.** Not real.\n:::\n"


def test_a_callout_is_a_boxed_note_on_the_jupyter_path() -> None:
    html = markdown2html_mistune(callouts_to_html(NOTICE))
    assert ":::" not in html
    assert re.search(r'<div class="callout callout-warning">\s*<p><strong>Synthetic data.'
                     r"</strong> Not real.</p>\s*</div>", html)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"text/markdown": NOTICE,
                                                     "text/plain": "<Markdown>"})])])
    page = notebook_to_html(nb, "T", css=".callout-warning { border: 2px solid; }")
    assert '<div class="callout callout-warning">' in page and ":::" not in page


def test_the_shipped_notice_is_a_callout_not_raw_html(trial) -> None:
    r = Results("fasoracetam_nfc1", trial, pd.DataFrame(), pd.DataFrame(),
                   pd.DataFrame(), {})
    notice = synthetic_notice(r)
    assert notice.startswith("::: {.callout-warning") and notice.rstrip().endswith(":::")
    assert "**Synthetic data.**" in notice and "<" not in notice


PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")).decode()


def test_markdown_of_notebook_writes_outputs_as_quarto_does(tmp_path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A report", metadata={"trialreport": "title"}),
        nbformat.v4.new_markdown_cell("## Section\n\nText."),
        nbformat.v4.new_code_cell("#| label: fig-x\n#| fig-cap: \"A figure\"\nplot()", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": PNG,
                                                         "text/plain": "<Figure>"})]),
        nbformat.v4.new_code_cell("show()", outputs=[
            nbformat.v4.new_output("display_data", data={"text/markdown": "| a |\n|---|\n| 1 |",
                                                         "text/plain": "<Markdown>"}),
            nbformat.v4.new_output("display_data", data={
                "text/html": "<b>x</b>", "text/plain": "<IPython.core.display.HTML object>"}),
            nbformat.v4.new_output("stream", name="stdout", text="printed\n")]),
    ])
    md = markdown_of_notebook(nb, {"title": "A report"}, tmp_path / "report_files",
                              {"papersize": "a4"})
    head, body = md.split("\n---\n", 1)
    assert "title: A report" in head and "papersize: a4" in head
    assert "# A report" not in body  # the title is the front matter's, as in Quarto
    assert "## Section\n\nText." in body
    assert "![A figure](report_files/figure-1.png){#fig-x}" in body
    assert (tmp_path / "report_files" / "figure-1.png").read_bytes().startswith(b"\x89PNG")
    assert "| a |\n|---|\n| 1 |" in body
    # raw HTML falls back to its plain text, as Quarto prints it in a PDF
    assert "```\n<IPython.core.display.HTML object>\n```" in body
    assert "```\nprinted\n```" in body


def test_markdown_of_notebook_refuses_a_failed_cell(tmp_path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0", outputs=[
        nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                               traceback=[])])])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        markdown_of_notebook(nb, {}, tmp_path / "m")
