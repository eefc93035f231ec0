"""Small data-frame helpers shared by the stages: membership and arm order, and writing a
frame as CSV or Parquet atomically (to a temporary file in the same folder, then renamed), so
an interrupted run never leaves a half-written file that a later run would trust."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from trialreport.common.files import atomic_write_bytes, atomic_write_text


def member_of(values: pd.Series | pd.Index, members: Iterable[object]) -> pd.Series:
    """Boolean mask: which ``values`` are among ``members`` (``isin``, made fast).

    pandas' ``isin`` on Arrow-backed strings rebuilds its lookup for every call (0.7 s for
    10^5 subject identifiers); through object dtype it uses a hash table (0.03 s).
    """
    if not isinstance(members, set | frozenset | pd.Index | pd.Series | list | tuple):
        members = list(members)
    # Each distinct value is looked up once: factorising is fast on Arrow strings, and a
    # column of events or records repeats its subjects many times.
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    hit = pd.Index(np.asarray(uniques, dtype=object), dtype=object).isin(members)
    mask = hit[codes]
    return pd.Series(mask, index=values.index) if isinstance(values, pd.Series) else mask


ORDER_COLUMNS = ("TRT01PN", "TRTPN", "TRT01AN", "TRTAN")
"""Numeric arm codes a CSR orders its columns by (ADaM), in order of preference."""


def ordered_arms(subjects: pd.DataFrame, order: Iterable[str] = (),
                 reference: str | None = None) -> list[str]:
    """The arms (TRT01P) in protocol order: by the numeric code TRT01PN (or TRTPN ...) where
    the subjects have one, else in the order ``order`` gives (the config's
    ``design.arms``; arms it does not name follow by name), else by name; then the
    ``reference`` arm, if given and present, moved first. Ties of a code go by name."""
    arms = sorted(subjects["TRT01P"].dropna().astype(str).unique())
    code = next((c for c in ORDER_COLUMNS if c in subjects.columns), None)
    if code is not None:
        codes = pd.to_numeric(subjects[code], errors="coerce")
        first = (pd.DataFrame({"arm": subjects["TRT01P"].astype(str), "code": codes})
                 .dropna().groupby("arm")["code"].min())
        arms.sort(key=lambda a: (first.get(a, float("inf")), a))
    else:
        given = [a for a in order if a in arms]
        arms = given + [a for a in arms if a not in given]
    if reference in arms:
        arms.remove(reference)
        arms.insert(0, reference)
    return arms


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Deterministic CSV: UTF-8, ``\\n`` line endings, no index, floats as shortest repr."""
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_parquet(frame: pd.DataFrame, path: str | Path) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())
