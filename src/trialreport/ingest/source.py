"""What every reader of the ingest stage shares: the error it raises, the
column that keeps each record's row number in its file, and reading a file's bytes.

Reading is deliberately strict and explains itself: every problem raises ``InputFileError``
naming the file (and the column or row where there is one). Inputs are only ever opened for
reading."""

from __future__ import annotations

from pathlib import Path

ROW_COLUMN = "SRCROW"
"""Column added on ingest: the row as the user sees it in their file (header is row 1).

For a CSV file this is the row number a spreadsheet shows when it opens the file: the header
is row 1, the next record row 2, and so on, counting blank lines (a spreadsheet shows them as
empty rows) but not the line breaks inside a quoted value (a spreadsheet shows that value in
one cell of one row). Where no value spans lines, as in almost every file, it is also the
line number a text editor shows (the fast path relies on this: it reads only files without
quotes). Rows of a Parquet or XPT file are numbered from 1.
"""


class InputFileError(Exception):
    """A data file that cannot be read as the trial's config declares it.

    Carries one or more failure cases, each with the reading rule that failed (e.g.
    ``file_not_found``, ``encoding``, ``duplicated_column``; see schemas/README.md), the row
    as the user sees it in the file (header = row 1; None where no row applies), the column
    and the offending value, so that reading problems are reported like contract failures.
    """

    def __init__(self, path: str | Path, message: str, rule: str = "unreadable",
                 row: int | None = None, column: str = "", value: object = "",
                 cases: list[dict] | None = None):
        self.path = str(path)
        self.message = message
        self.cases = cases or [
            {"rule": rule, "row": row, "column": column, "value": value, "message": message}
        ]
        super().__init__(f"{path}: {message}")


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputFileError(path, "file not found", rule="file_not_found", value=str(path))
    if path.is_dir():
        raise InputFileError(path, "is a folder, not a file", rule="file_not_found",
                             value=str(path))
    with open(path, "rb") as handle:  # read-only: inputs are never modified
        return handle.read()
