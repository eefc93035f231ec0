"""Deterministic text for numbers in result files."""

from __future__ import annotations

import math


def format_value(value: float | None) -> str:
    """Whole numbers without decimals, others as the shortest text that reads back to the
    same float (Python's ``repr``); missing as ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
