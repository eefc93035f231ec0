"""The derive stage's floor: baseline flags, BASE, CHG and LOCF in plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

# ---------------------------------------------------------------------------------------
# derive: ABLFL, BASE, CHG and the LOCF records
# ---------------------------------------------------------------------------------------


def derive_floor(scores: pd.DataFrame, baseline_visits: dict[str, int],
                 locf_from: dict[str, int], visits: list[int]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(efficacy, locf): the scores with ABLFL, BASE and CHG; and the LOCF records
    (observed records plus carried-forward ones, DTYPE = LOCF) with BASE."""
    aval = scores["AVAL"].astype(float)
    planned = scores["PARAMCD"].map(baseline_visits)
    is_base = (scores["AVISITN"] == planned) & aval.notna()
    key = scores["USUBJID"].astype(object) + "\0" + scores["PARAMCD"].astype(object)
    base = pd.Series(aval[is_base].to_numpy(), index=key[is_base].to_numpy())
    base_col = key.map(base)
    eff = scores.assign(ABLFL=np.where(is_base, "Y", None), BASE=base_col,
                        CHG=(aval - base_col).where(scores["AVISITN"] > planned))
    eff = eff.sort_values(["USUBJID", "PARAMCD", "AVISITN"], ignore_index=True)

    # LOCF on a subject x visit grid per parameter: carry from the baseline visit on
    wide = eff.pivot_table(index=["USUBJID", "PARAMCD"], columns="AVISITN", values="AVAL",
                           aggfunc="first", dropna=False)
    present = eff.assign(_x=1.0).pivot_table(index=["USUBJID", "PARAMCD"], columns="AVISITN",
                                             values="_x", aggfunc="first")
    wide = wide.reindex(columns=sorted(visits)).astype(float)
    present = present.reindex(index=wide.index, columns=wide.columns).notna().to_numpy()
    first = wide.index.get_level_values("PARAMCD").map(locf_from).to_numpy()[:, None]
    cols = np.asarray(wide.columns)[None, :]
    values = wide.to_numpy()
    source = np.where(cols >= first, values, np.nan)
    carried = pd.DataFrame(source).ffill(axis=1).to_numpy()
    imputed = np.isnan(values) & ~np.isnan(carried) & (cols > first)
    out_vals = np.where(imputed, carried, values)
    keep = present | imputed
    rows, colix = np.nonzero(keep)
    idx = wide.index[rows]
    locf = pd.DataFrame({
        "USUBJID": idx.get_level_values("USUBJID"), "PARAMCD": idx.get_level_values("PARAMCD"),
        "AVISITN": np.asarray(wide.columns)[colix], "AVAL": out_vals[rows, colix],
        "DTYPE": np.where(imputed[rows, colix], "LOCF", None)})
    locf["BASE"] = (locf["USUBJID"].astype(object) + "\0"
                    + locf["PARAMCD"].astype(object)).map(base).to_numpy()
    return eff, locf
