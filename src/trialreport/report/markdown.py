"""Markdown for the report: literal text, pipe tables sized for a portrait page, CSR
layouts (statistics as rows, arms as columns), and P values as a statistician writes them.

Everything is shown as Markdown (pipe tables, Quarto callouts): Quarto renders it natively in
HTML and in Typst (PDF), and nbconvert renders it on the Jupyter path."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from trialreport.common.formatting import round_half_up


def format_p(p: float) -> str:
    """P as a statistician writes it: ``P < 0.001`` below 0.001, otherwise three decimals."""
    return "P < 0.001" if p < 0.001 else f"P = {round_half_up(p, 3)}"


def p_cell(p: float) -> str:
    """P in a table cell: ``< 0.001``, otherwise three decimals; "not computed" if missing."""
    if p != p:
        return "not computed"
    return "< 0.001" if p < 0.001 else round_half_up(p, 3)


def num(value: float, decimals: int = 2) -> str:
    """A number rounded half up to ``decimals``; "NA" if missing."""
    return "NA" if value != value else round_half_up(value, decimals)


def estimate_ci(estimate: float, low: float, high: float, decimals: int = 2) -> str:
    """``estimate (low, high)`` at the same decimals."""
    return f"{num(estimate, decimals)} ({num(low, decimals)}, {num(high, decimals)})"


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


PAGE_POINTS = 300
"""Points of a page's text height (A4 with 2.5 cm margins: 700 pt) a piece of a table may
fill: a table longer than this is given in pieces, each kept on one page, so that a page
is never left more than this empty before the next piece."""
ROW_POINTS, LINE_POINTS = 18, 12
"""A table row of one line of 10 pt text with its cell insets, and each further line."""
N_HEADER = re.compile(r"\(N = (\d+)\)")


def _header_cell(name: Any) -> str:
    """A header cell as literal Markdown, its ``(N = n)`` never broken across lines (the
    spaces in it are non-breaking)."""
    return N_HEADER.sub("(N\u00a0=\u00a0\\1)", markdown_text(name))


def table_height(frame: pd.DataFrame) -> float:
    """The points a table takes on the page, its header included, from the lines each row
    wraps to in the column widths ``_column_widths`` gives."""
    widths = [max(w - CELL_PADDING, 1) for w in _column_widths(frame)]

    def lines(cells: list[str]) -> int:
        return max(
            (math.ceil(_text_width(str(c)) / w) or 1 for c, w in zip(cells, widths, strict=True)),
            default=1,
        )

    rows = [list(frame.columns)] + [list(r) for r in frame.itertuples(index=False, name=None)]
    return sum(ROW_POINTS + LINE_POINTS * (lines(r) - 1) for r in rows)


def page_chunks(frame: pd.DataFrame, room: float = PAGE_POINTS) -> list[pd.DataFrame]:
    """``frame`` in pieces that each fit a page, cut only before a row group (a row whose
    cells after the first are all empty, as CSR tables head each group) so that a group
    stays with its rows; a group too long for a page alone is cut where it must be."""
    if frame.empty or table_height(frame) <= room:
        return [frame]
    starts = [
        i for i in range(len(frame)) if i > 0 and all(str(v) == "" for v in frame.iloc[i, 1:])
    ]
    pieces, begin = [], 0
    while begin < len(frame):
        end = begin + 1
        while end < len(frame) and table_height(frame.iloc[begin : end + 1]) <= room:
            end += 1
        if end < len(frame):
            cut = max((s for s in starts if begin < s <= end), default=end)
            end = cut
        pieces.append(frame.iloc[begin:end])
        begin = end
    return pieces


def markdown_table(frame: pd.DataFrame, status_column: str | None = None, caption: str = "") -> str:
    """A pipe table, every column aligned left, with its ``caption`` (Quarto's and pandoc's
    ``: caption`` line, numbered as a table by ``trialreport.report.contents``). The dashes
    under each header give the column's share of the width (``_column_widths``), which
    pandoc uses when a row is longer than its line length: then the table spans the page and
    its cells wrap. The status column, if named, is in bold (``MISMATCH`` in capitals). A
    table longer than ``PAGE_POINTS`` is given in pieces (``page_chunks``), the later ones
    without a caption and with "(continued)" in their first header cell."""
    if frame.shape[1] == 0:
        return ""
    out = []
    for i, piece in enumerate(page_chunks(frame)):
        header = [_header_cell(c) for c in piece.columns]
        rows = [
            [
                (_status(str(v)) if piece.columns[j] == status_column else markdown_text(v))
                for j, v in enumerate(row)
            ]
            for row in piece.itertuples(index=False, name=None)
        ]
        lines = [
            "| " + " | ".join(header) + " |",
            "|" + "|".join(":" + "-" * w for w in _column_widths(frame)) + "|",
        ]
        if i:  # a piece after the first: its header says so; it has no caption of its own
            lines[0] = "| " + " | ".join([header[0] + " (continued)", *header[1:]]) + " |"
        lines += ["| " + " | ".join(cells) + " |" for cells in rows]
        if caption and not i:
            lines += ["", ": " + markdown_text(caption)]
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def markdown_tables(
    parts: list[tuple[str, pd.DataFrame]] | pd.DataFrame,
    status_column: str | None = None,
    caption: str = "",
) -> str:
    """Tables with their headings as captions, as one Markdown text (``caption`` for a
    frame given alone, or before each heading); a frame wider than MAX_COLUMNS is split,
    repeating its first column."""
    if isinstance(parts, pd.DataFrame):
        parts = [("", chunk) for chunk in column_chunks(parts)]
    out = []
    for heading, frame in parts:
        title = "; ".join(t for t in (caption, heading) if t)
        out.append(markdown_table(frame, status_column, caption=title))
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


def csr_by_parameter(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
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


def blocks(*parts: str) -> str:
    """Markdown blocks (paragraphs, tables, headings) as one text, each separated from the
    next by a blank line; empty parts are left out."""
    return "\n\n".join(p.strip("\n") for p in parts if p and p.strip()) + "\n\n"
