"""A tiny SAS transport (XPT v5) writer, for test fixtures only (pandas reads XPT, never writes it).

Enough of the format for pandas.read_sas: one member, numeric (IBM floats) and character
variables of names up to 8 characters, no labels or formats.
"""
from __future__ import annotations

import struct

import pandas as pd


def _ibm(x: float | None) -> bytes:
    if x is None or x != x:
        return b"." + b"\0" * 7
    if x == 0:
        return b"\0" * 8
    sign = 0x80 if x < 0 else 0
    x = abs(float(x))
    e = 0
    while x >= 1:
        x /= 16
        e += 1
    while x < 1 / 16:
        x *= 16
        e -= 1
    mant = round(x * 2**56)
    if mant >= 2**56:
        mant >>= 4
        e += 1
    return bytes([sign | (e + 64)]) + mant.to_bytes(7, "big")

def _rec(text: str) -> bytes:
    b = text.encode("ascii")
    assert len(b) <= 80
    return b.ljust(80, b" ")

def write_xpt(frame: pd.DataFrame, path, name: str = "DATA") -> None:
    stamp = "01JAN26:00:00:00"
    out = [
        _rec("HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000"),
        _rec("SAS     SAS     SASLIB  9.4     X64_7PRO" + " " * 24 + stamp),
        _rec(stamp),
        _rec("HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140"),
        _rec("HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!000000000000000000000000000000"),
        _rec("SAS     " + name.ljust(8) + "SASDATA 9.4     X64_7PRO" + " " * 24 + stamp),
        _rec(stamp + " " * 16 + " " * 40 + " " * 8),
        _rec(f"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000{len(frame.columns):04d}"
             "00000000000000000000"),
    ]
    specs, pos = [], 0
    for i, col in enumerate(frame.columns):
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        length = 8 if numeric else max(1, int(frame[col].astype(str).str.len().max()))
        specs.append((col, numeric, length))
        ns = struct.pack(">hhhh8s40s8shhh2s8shhi52s", 1 if numeric else 2, 0, length, i + 1,
                         col.encode().ljust(8), b" " * 40, b" " * 8, 0, 0, 0, b"\0\0",
                         b" " * 8, 0, 0, pos, b"\0" * 52)
        out.append(ns)
        pos += length
    body = b"".join(out[8:])
    out = out[:8] + [body + b" " * (-len(body) % 80)]
    out.append(_rec("HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"
                    "000000000000000000000000000000"))
    data = b""
    for _, row in frame.iterrows():
        for col, numeric, length in specs:
            v = row[col]
            if numeric:
                data += _ibm(None if pd.isna(v) else float(v))
            else:
                data += ("" if pd.isna(v) else str(v)).encode().ljust(length)
    out.append(data + b" " * (-len(data) % 80))
    with open(path, "wb") as h:
        h.write(b"".join(out))
