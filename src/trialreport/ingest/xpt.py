"""Reading SAS transport files (``.xpt``, version 5), as sponsors deliver ADaM."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialreport.ingest.source import ROW_COLUMN, InputFileError

_IBM_ZERO_AS_READ = 16.0**-65


def file_head(path: Path) -> str:
    """The first bytes of a file, shown when it is not of the declared format."""
    with open(path, "rb") as handle:
        return repr(handle.read(16))


def read_xpt(path: Path, encoding: str) -> pd.DataFrame:
    try:
        frame = pd.read_sas(path, format="xport", encoding=encoding)
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InputFileError(path, f"is not a readable SAS transport (XPT) file "
                             f"({type(exc).__name__}: {first})",
                             rule="not_xpt", value=file_head(path)) from None
    # pandas (3.1) reads an IBM zero (eight zero bytes, as SAS writes 0) as 16**-65, about
    # 5.4e-79; a visit number 0 would then be refused as "not a whole number". No real value
    # is 16**-65, so it is read back as the zero it is.
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].mask(frame[column].abs() == _IBM_ZERO_AS_READ, 0.0)
    frame[ROW_COLUMN] = pd.array(range(1, len(frame) + 1), dtype="int64")
    return frame
