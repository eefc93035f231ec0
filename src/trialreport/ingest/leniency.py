"""What is read leniently from real files, and the line each leniency gets in
``ingested/selection.csv`` (records ``read as``), so that nothing is reinterpreted
silently:

- ``read_as``: what a reader took as real writers write it (Dataset-JSON numbers written as
  text with blanks, ``NA`` tokens), per column, with the first row where it happens;
- ``null_flags_as_n``: the ADaM convention for a record-level flag (``*FL``) that holds
  only ``Y`` and empty cells (as ADaM writes TRTEMFL): empty means ``N``. Applied only
  where the contract allows ``N`` and the column has no ``N`` at all; a column with ``Y``,
  ``N`` and empty cells keeps its empty cells (they are unknown there). Subject-level
  population flags (SAFFL, EFFFL) are ``Y`` or ``N`` in ADaM: an empty one stays empty and
  is refused by the contract, never read as leaving a subject out.
"""

from __future__ import annotations

import pandas as pd

from trialreport.common.config import Source
from trialreport.ingest.datasetjson import LENIENCIES
from trialreport.ingest.records import SELECTION_COLUMNS
from trialreport.ingest.source import ROW_COLUMN

READ_AS = "read as"
"""The ``records`` value of a leniency's line in ``selection.csv``."""


def read_as(frame: pd.DataFrame, source: Source) -> pd.DataFrame:
    """The reader's leniencies (``frame.attrs["leniencies"]``) as lines of the selection
    table, columns ``SELECTION_COLUMNS``."""
    rows = [(source.dataset, source.path, READ_AS,
             f"{item['criterion'].replace('<dataset>', source.dataset)} (first at row "
             f"{item['first_row']})", int(item["n"]))
            for item in frame.attrs.get(LENIENCIES, [])]
    return pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def null_flags_as_n(frame: pd.DataFrame, source: Source,
                    contract) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Empty cells of a record-level Y/null flag read as ``N`` (the ADaM convention),
    counted; nothing in the subjects dataset.

    A flag is a contract column named ``*FL`` whose allowed values include ``N``. It is
    read by the convention when its non-empty values are all ``Y`` (after blanks are
    removed) and some cells are empty; otherwise it is left as delivered.
    """
    rows, out = [], frame
    if source.dataset == "subjects":  # population flags are Y or N, never Y/null
        return out, pd.DataFrame(rows, columns=SELECTION_COLUMNS)
    for name, spec in contract.columns.items():
        allowed = spec.allowed if isinstance(spec.allowed, list) else []
        if not name.endswith("FL") or "N" not in allowed or name not in frame.columns:
            continue
        text = frame[name].astype("string").str.strip().replace({"": pd.NA})
        empty = text.isna()
        if not empty.any() or not (text.dropna() == "Y").all() or empty.all():
            continue
        if out is frame:
            out = frame.copy()
        out[name] = text.fillna("N")
        first = int(frame.loc[empty, ROW_COLUMN].min())
        rows.append((source.dataset, source.path, READ_AS,
                     f"{name}: empty read as N (ADaM convention for a Y/null flag: the "
                     f"column holds only Y and empty cells; first at row {first})",
                     int(empty.sum())))
    return out, pd.DataFrame(rows, columns=SELECTION_COLUMNS)


def unknown_onsets(frame: pd.DataFrame, source: Source,
                   exposure_delivered: bool) -> pd.DataFrame:
    """AEs without an onset day (ASTDY empty, a partial date) and without a delivered
    TRTEMFL: the analyses count them as treatment-emergent (the conservative reading, as
    ADaM imputes a partial onset date to the worst case). A line naming their rows, so the
    count's assumption is visible; none when the trial has no exposure data (the TRTEMFL
    derivation then refuses such events) or when every such event has its TRTEMFL."""
    if not exposure_delivered or "ASTDY" not in frame.columns:
        return pd.DataFrame(columns=SELECTION_COLUMNS)
    day = frame["ASTDY"].astype("string").str.strip().replace({"": pd.NA})
    unknown = day.isna()
    if "TRTEMFL" in frame.columns:
        unknown &= frame["TRTEMFL"].astype("string").str.strip().replace({"": pd.NA}).isna()
    unknown = unknown.fillna(False).astype(bool)
    if not unknown.any():
        return pd.DataFrame(columns=SELECTION_COLUMNS)
    rows = frame.loc[unknown, ROW_COLUMN].astype(int).tolist()
    shown = ", ".join(map(str, rows[:20])) + (" ..." if len(rows) > 20 else "")
    return pd.DataFrame([(source.dataset, source.path, READ_AS,
                          "no onset day (ASTDY empty) and no TRTEMFL: counted as "
                          "treatment-emergent, the conservative reading of a partial date "
                          f"(rows {shown})", len(rows))], columns=SELECTION_COLUMNS)
