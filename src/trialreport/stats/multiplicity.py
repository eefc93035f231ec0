"""Multiplicity: adjusted p values over a family of tests."""

from __future__ import annotations

import math

import numpy as np

from trialreport.stats import distributions as dist


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, family-wise error control: the i-th
    smallest of m p-values becomes max over j <= i of min(1, (m - j + 1) p_(j))
    (``distributions.holm``, the numbers of statsmodels ``multipletests(method="holm")``).
    NaN p-values are left out of the family and stay NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, math.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = dist.holm(p[ok])
    return out
