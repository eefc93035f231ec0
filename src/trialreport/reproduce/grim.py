"""The GRIM test (Brown & Heathers, 2017): the sample sizes at which a published
mean of whole-number ratings can arise.

For a published mean with d decimals, n is possible when some whole-number total T gives
T / n that rounds, half up, to the published mean. Computed in Python integers up to
``GRIM_IN_PYTHON_UP_TO`` subjects and with NumPy beyond (``tests/test_reproduce.py`` holds
the two equal)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from trialreport.common.formatting import decimals_of, round_half_up

PLAIN_NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")


def grim_sizes(published: str, max_n: int) -> list[int]:
    """Sample sizes 1..max_n at which a mean of whole numbers can round to ``published``.

    For each n, the totals nearest to published * n are tried; n qualifies if one of them,
    divided by n and rounded half up to the published decimals, reads as published.

    Computed for every n at once in integers (``_grim_mask``): the rounding of total / n is
    decided exactly by comparing total * 10^decimals with n, which is what rounding the
    float total / n decides too (a float within n * 10^-decimals of a rounding boundary is
    on it: see ``_grim_mask``); a published value that is not a plain decimal number, or
    whose integers could overflow, is checked one n at a time as written above.
    """
    text = published.strip()
    decimals = decimals_of(published)
    if PLAIN_NUMBER.match(text) and decimals <= 6 and \
            (abs(float(text)) + 3) * max(max_n, 1) * 10 ** (decimals + 1) < 2**62:
        if max_n <= GRIM_IN_PYTHON_UP_TO:  # a trial's size: no need to import NumPy
            return _grim_sizes_in_python(text, decimals, max_n)
        import numpy as np

        return (np.flatnonzero(_grim_mask(text, decimals, max_n)) + 1).tolist()
    target = Decimal(text)
    sizes = []
    for n in range(1, max_n + 1):
        centre = math.floor(float(target) * n)
        if any(round_half_up(total / n, decimals) == str(target)
               for total in range(centre - 1, centre + 3)):
            sizes.append(n)
    return sizes


GRIM_IN_PYTHON_UP_TO = 5000


def _grim_sizes_in_python(text: str, decimals: int, max_n: int) -> list[int]:
    """``_grim_mask``'s integer rule, one n at a time in Python integers: the sizes n."""
    scale = 10**decimals
    target = int(Decimal(text).scaleb(decimals))
    negative_target = text.startswith("-")
    published = float(text)
    sizes = []
    for n in range(1, max_n + 1):
        centre = math.floor(published * float(n))
        for total in range(centre - 1, centre + 3):
            q = total * scale
            rounded = (1 if q > 0 else -1 if q < 0 else 0) * ((2 * abs(q) + n) // (2 * n))
            if rounded == target and (target != 0 or (total < 0) == negative_target):
                sizes.append(n)
                break
    return sizes


def _grim_mask(text: str, decimals: int, max_n: int) -> Any:
    """For n = 1..max_n, whether a total among floor(published * n) - 1 .. + 2 gives, as
    total / n rounded half up (away from zero) to ``decimals``, the text ``text``.

    Rounding total / n is done exactly, in integers: R = sign * floor((2 |q| + n) / (2 n))
    with q = total * 10^decimals. ``round_half_up`` rounds the float total / n through its
    shortest decimal repr; the two agree, because a total / n that is not exactly on a
    rounding boundary is at least 1 / (2 n 10^decimals) from it, far more than the float's
    error, and one exactly on it is printed exactly. A result of zero reads "-0.00" when
    total / n is negative, and matches only a published "-0.00" (as the text compare
    does)."""
    import numpy as np

    scale = 10**decimals
    target = int(Decimal(text).scaleb(decimals))
    negative_target = text.startswith("-")
    n = np.arange(1, max_n + 1, dtype=np.int64)
    centre = np.floor(float(text) * n.astype(float)).astype(np.int64)
    hit = np.zeros(max_n, dtype=bool)
    for k in (-1, 0, 1, 2):
        total = centre + k
        q = total * scale
        rounded = np.sign(q) * ((2 * np.abs(q) + n) // (2 * n))
        same = rounded == target
        if target == 0:
            same &= (total < 0) == negative_target
        hit |= same
    return hit
