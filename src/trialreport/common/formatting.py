"""Deterministic text for numbers in result files."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal


def format_value(value: float | None) -> str:
    """Whole numbers without decimals, others as the shortest text that reads back to the
    same float (Python's ``repr``); missing as ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)



def decimals_of(text: str) -> int:
    """Decimals printed in a number: ``"3.79"`` -> 2, ``"30"`` -> 0."""
    text = text.strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def round_half_up(value: float, decimals: int) -> str:
    """``value`` rounded half up (as a person rounds, not to even) to ``decimals``, as text."""
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
