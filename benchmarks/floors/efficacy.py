"""The efficacy part of the analyse stage, as a floor: descriptive statistics, the
paired tests, responders and subgroups."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.optimize import brentq

from .common import Rows, isin

# ---------------------------------------------------------------------------------------
# efficacy: descriptives, paired tests and effect sizes, LOCF, responders, subgroups
# ---------------------------------------------------------------------------------------


def describe(x: np.ndarray, confidence: float) -> dict[str, float]:
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return {"n": 0.0} | dict.fromkeys(
            ["mean", "sd", "median", "q1", "q3", "min", "max", "ci_low", "ci_high"], math.nan)
    mean = x.mean()
    sd = x.std(ddof=1) if n > 1 else math.nan
    half = sps.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) if n > 1 else math.nan
    q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    return {"n": n, "mean": mean, "sd": sd, "median": med, "q1": q1, "q3": q3,
            "min": x.min(), "max": x.max(), "ci_low": mean - half, "ci_high": mean + half}


def _hodges_lehmann(d: np.ndarray, confidence: float) -> dict[str, float] | None:
    """R 4.x's normal-approximation estimate and CI (zeros dropped); None where the stage
    uses the exact interval. Walsh averages counted over the distinct non-zero values; R's
    W(d) (ranks of |x - d|, ties, continuity correction) evaluated at a point inside each
    gap between consecutive distinct averages and beyond both ends, all gaps at once; the
    limits are the ends of the first gap with W <= z and of the last with W >= -z."""
    x = d[d != 0]
    n = x.size
    if n < 50 and n == d.size and np.unique(np.abs(x)).size == n:
        return None
    if n == 0:
        return {"hl_estimate": math.nan, "hl_ci_low": math.nan, "hl_ci_high": math.nan}
    values, counts = np.unique(x, return_counts=True)
    i, j = np.triu_indices(values.size)
    mult = np.where(i == j, counts[i] * (counts[i] + 1) // 2, counts[i] * counts[j])
    grid, where = np.unique((values[i] + values[j]) / 2.0, return_inverse=True)
    cum = np.cumsum(np.bincount(where, weights=mult))  # averages <= each grid value
    m = n * (n + 1) // 2

    def kth(k: int) -> float:
        return float(grid[np.searchsorted(cum, k)])

    estimate = (kth((m + 1) // 2) + kth(m // 2 + 1)) / 2
    inside = np.r_[grid[0] - 1, (grid[:-1] + grid[1:]) / 2, grid[-1] + 1]
    order = np.argsort(np.abs(values[None, :] - inside[:, None]), axis=1)
    size = counts[order]
    midrank = np.cumsum(size, axis=1) - (size - 1) / 2.0
    t_plus = (size * midrank * (values[order] > inside[:, None])).sum(axis=1)
    centred = t_plus - m / 2.0
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(counts**3 - counts) / 48)
    w = (centred - 0.5 * np.sign(centred)) / sigma
    z = sps.norm.isf((1 - confidence) / 2)
    lefts, rights = np.r_[-np.inf, grid], np.r_[grid, np.inf]
    low = lefts[np.argmax(w <= z)]
    high = rights[w.size - 1 - np.argmax((w >= -z)[::-1])]
    return {"hl_estimate": estimate, "hl_ci_low": float(low), "hl_ci_high": float(high)}


def _dz(d: np.ndarray, confidence: float) -> dict[str, float]:
    n, sd = d.size, d.std(ddof=1)
    if sd == 0:
        return {"dz": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    dz = d.mean() / sd
    t, df, sign = abs(dz) * math.sqrt(n), n - 1, 1.0 if dz >= 0 else -1.0
    alpha = 1 - confidence

    def lam(target: float) -> float:  # noncentrality with P(T <= t) = target
        f = lambda x: sps.nct.cdf(t, df, x) - target  # noqa: E731
        lo, hi, step = t - 1.0, t + 1.0, 1.0
        while f(lo) < 0:
            lo, step = lo - step, step * 1.5
        step = 1.0
        while f(hi) > 0:
            hi, step = hi + step, step * 1.5
        return brentq(f, lo, hi, xtol=1e-12, rtol=1e-12, maxiter=500)

    low, high = lam(1 - alpha / 2) / math.sqrt(n), lam(alpha / 2) / math.sqrt(n)
    if sign < 0:
        low, high = -high, -low
    return {"dz": dz, "ci_low": low, "ci_high": high}


def _signed_ranks(d: np.ndarray) -> tuple[float, float, np.ndarray, int]:
    """T+, T- (midranks of |d| over the non-zero d), tie sizes, number non-zero."""
    nz = d[d != 0]
    values, inverse, counts = np.unique(np.abs(nz), return_inverse=True, return_counts=True)
    midrank = np.cumsum(counts) - (counts - 1) / 2.0
    positive = np.bincount(inverse[nz > 0], minlength=values.size)
    t_plus = float((positive * midrank).sum())
    return t_plus, float((counts * midrank).sum()) - t_plus, counts, nz.size


def _paired(base: np.ndarray, comp: np.ndarray, confidence: float,
            min_n: int) -> tuple[dict[str, dict[str, float]], bool]:
    """Rows of one paired comparison by method; and whether a small-sample variant was
    left out."""
    nb, nc = np.isnan(base), np.isnan(comp)
    keep = ~(nb | nc)
    b, c = base[keep], comp[keep]
    d = c - b
    n = d.size
    ch = describe(d, confidence)
    out = {
        "descriptive": {"n_pairs": n, "baseline_mean": b.mean() if n else math.nan,
                        "baseline_sd": b.std(ddof=1) if n > 1 else math.nan,
                        "comparison_mean": c.mean() if n else math.nan,
                        "comparison_sd": c.std(ddof=1) if n > 1 else math.nan,
                        "change_mean": ch["mean"], "change_sd": ch["sd"],
                        "change_median": ch["median"]},
        "count": {"n_excluded": (~keep).sum(), "n_excluded_no_baseline": (nb & ~nc).sum(),
                  "n_excluded_no_comparison": (~nb & nc).sum(),
                  "n_excluded_neither": (nb & nc).sum()},
        "t-based CI": {"change_ci_low": ch["ci_low"], "change_ci_high": ch["ci_high"]},
        f"flag: tests need n_pairs >= {min_n}": {"tested": float(n >= min_n)},
    }
    if n < min_n:
        return out, False
    skipped = False
    hl = _hodges_lehmann(d, confidence)
    if hl is None:
        skipped = True
    else:
        out["hodges_lehmann_normal"] = hl
    out["cohens_dz_noncentral_t"] = _dz(d, confidence)
    t_plus, t_minus, ties, n_nz = _signed_ranks(d)
    out["rank_biserial_matched_pairs"] = {
        "rank_biserial": (t_plus - t_minus) / (t_plus + t_minus) if n_nz else math.nan}
    if d.std(ddof=1) > 0:
        res = sps.ttest_rel(c, b)
        out["paired_ttest"] = {"t": res.statistic, "df": n - 1, "p_value": res.pvalue}
    if n_nz >= 50:
        mean = n_nz * (n_nz + 1) * 0.25
        se = math.sqrt((n_nz * (n_nz + 1) * (2 * n_nz + 1) - np.sum(ties**3 - ties) / 2)
                       / 24)
        z = (t_plus - mean) / se
        z -= np.sign(z) * 0.5 / se
        out["wilcoxon_normal"] = {"W": min(t_plus, t_minus),
                                  "p_value": 2 * sps.norm.sf(abs(z)), "n_nonzero": n_nz}
    elif n_nz:
        skipped = True
    return out, skipped


def _pairs_table(records: pd.DataFrame, base_n: int, comp_n: int) -> pd.DataFrame:
    """Per subject with a record of the parameter (sorted): base (BASE as carried, else
    AVAL at the baseline visit), comp (AVAL at the comparison visit), DTYPE at both."""
    visit = records["AVISITN"].to_numpy()
    codes, uniques = pd.factorize(records["USUBJID"])
    ids = pd.Series(np.asarray(uniques, dtype=object)[codes], dtype=object)
    aval = records["AVAL"].astype(float).to_numpy()
    at_base = pd.Series(aval[visit == base_n], index=ids[visit == base_n].to_numpy())
    at_comp = pd.Series(aval[visit == comp_n], index=ids[visit == comp_n].to_numpy())
    subjects = pd.Index(np.sort(np.asarray(uniques, dtype=object)), dtype=object)
    out = pd.DataFrame({"base": at_base.reindex(subjects), "comp": at_comp.reindex(subjects)},
                       index=subjects)
    if "BASE" in records.columns:
        given = records["BASE"].astype(float)
        carried = pd.Series(given.to_numpy(), index=ids.to_numpy())[given.notna().to_numpy()]
        carried = carried[~carried.index.duplicated()]
        out["base"] = carried.reindex(subjects).fillna(out["base"])
    if "DTYPE" in records.columns:
        locf = (records["DTYPE"] == "LOCF").fillna(False).to_numpy()
        for name, v in (("imp_base", base_n), ("imp_comp", comp_n)):
            out[name] = subjects.isin(ids[locf & (visit == v)].to_numpy())
    return out


def efficacy_floor(trial: dict[str, Any], subjects: pd.DataFrame, efficacy: pd.DataFrame,
                   locf: pd.DataFrame | None, exposure: pd.DataFrame | None) -> pd.DataFrame:
    """The numbers of ``trialreport.analyse.efficacy.build_ard`` for a one-arm trial."""
    design, analyses = trial["design"], trial.get("analyses", {})
    paired_cfg = analyses.get("paired", {})
    confidence = float(paired_cfg.get("confidence", 0.95))
    assert paired_cfg.get("alternative", "two-sided") == "two-sided"
    arms = subjects["TRT01P"].dropna().unique()
    assert len(arms) == 1, "the floor covers one-arm trials"
    arm = str(arms[0])
    rows = Rows()
    rows.add("enrolment", "", "", math.nan, arm, {
        "n_subjects": len(subjects), "n_safety": (subjects["SAFFL"] == "Y").sum(),
        "n_efficacy": (subjects["EFFFL"] == "Y").sum()})
    eff_ids = subjects.loc[subjects["EFFFL"] == "Y", "USUBJID"]
    eff = efficacy[isin(efficacy["USUBJID"], eff_ids)]
    if locf is not None:
        locf = locf[isin(locf["USUBJID"], eff_ids)]
    skipped = 0
    tables: dict[str, pd.DataFrame] = {}
    for code, p in design["parameters"].items():
        base_n, comp_n = p.get("baseline_visit"), p["comparison_visit"]
        recs = eff[eff["PARAMCD"] == code]
        for visitn, values in recs.groupby("AVISITN", sort=True)["AVAL"]:
            rows.add("by_visit", "descriptive", code, float(visitn), arm,
                     describe(values.to_numpy(float, na_value=np.nan), confidence))
        for analysis, frame in (("paired", recs), ("paired_locf", locf)):
            if frame is None or base_n is None:
                continue
            sub = frame if analysis == "paired" else frame[frame["PARAMCD"] == code]
            w = _pairs_table(sub, base_n, comp_n)
            if analysis == "paired":
                tables[code] = w
            res, skip = _paired(w["base"].to_numpy(), w["comp"].to_numpy(), confidence, 2)
            skipped += skip
            for method, values in res.items():
                rows.add(analysis, method, code, float(comp_n), arm, values)
            if "imp_base" in w.columns:
                rows.add(analysis, "count: DTYPE = LOCF", code, float(comp_n), arm, {
                    "n_imputed_baseline": w["imp_base"].sum(),
                    "n_imputed_comparison": w["imp_comp"].sum()})
        rule = analyses.get("responders", {}).get(code)
        if rule:
            _responders(rows, recs, rule, base_n, comp_n, code, arm, confidence)
    primary = analyses.get("primary")
    if primary:
        method = "paired_ttest" if primary["method"].startswith("paired_ttest") else \
            "wilcoxon_normal"
        family = [r for r in rows.rows if r[0] == "paired" and r[1] == method
                  and r[5] == "p_value" and r[2] in primary["parameters"]]
        p = np.array([r[6] for r in family])
        m = p.size
        order = np.argsort(p)
        adjusted = np.empty(m)
        adjusted[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1)
        family_name = "paired_ttest" if method == "paired_ttest" else "wilcoxon"
        for r, adj in zip(family, adjusted, strict=True):
            rows.add("paired", f"holm:{family_name}", r[2], r[3], arm,
                     {"p_value_holm": adj, "holm_family_size": m})
    sub_cfg = analyses.get("subgroups")
    if sub_cfg:
        skipped += _subgroups(rows, sub_cfg, subjects, exposure, tables, design, arm,
                              confidence)
    out = rows.frame()
    out.attrs["skipped"] = skipped
    return out


def _responders(rows: Rows, recs: pd.DataFrame, rule: dict[str, Any], base_n: int | None,
                comp_n: int, code: str, arm: str, confidence: float) -> None:
    ops = {"<=": np.less_equal, "<": np.less, ">=": np.greater_equal, ">": np.greater,
           "==": np.equal}
    aval = recs["AVAL"].astype(float).to_numpy()
    visit = recs["AVISITN"].to_numpy()
    if rule["variable"] == "AVAL":
        x = aval
    else:
        x = np.where(visit > base_n, aval - recs["BASE"].astype(float).to_numpy(), np.nan)
    flag = np.where(np.isnan(x), np.nan, ops[rule["operator"]](x, float(rule["threshold"])))
    frame = pd.DataFrame({"v": visit, "r": flag}).dropna()
    agg = frame.groupby("v", sort=True)["r"].agg(["sum", "size"])
    alpha = 1 - confidence
    for v, (k, n) in agg.iterrows():
        k, n = int(k), int(n)
        rows.add("responders", "clopper_pearson", code, float(v), arm, {
            "n": n, "n_responders": k, "proportion": k / n,
            "ci_low": 0.0 if k == 0 else sps.beta.ppf(alpha / 2, k, n - k + 1),
            "ci_high": 1.0 if k == n else sps.beta.ppf(1 - alpha / 2, k + 1, n - k)})
    if rule["variable"] != "AVAL" or base_n is None:
        return
    ids = recs["USUBJID"].astype(object).to_numpy()
    before = pd.Series(flag[visit == base_n], index=ids[visit == base_n])
    after = pd.Series(flag[visit == comp_n], index=ids[visit == comp_n])
    both = pd.concat([before, after], axis=1, join="inner").dropna().to_numpy().astype(bool)
    x, y = both[:, 0], both[:, 1]
    b, c = int((x & ~y).sum()), int((~x & y).sum())
    p = sps.binomtest(c, b + c, 0.5).pvalue if b + c else math.nan
    rows.add("responders_paired", "mcnemar_exact_two_sided", code, float(comp_n), arm, {
        "n_pairs": x.size, "both": (x & y).sum(), "neither": (~x & ~y).sum(),
        "before_only": b, "after_only": c, "p_value": p})


def level_text(level: Any) -> str:
    try:
        return f"{float(level):.17g}" if float(level) != int(float(level)) else \
            str(int(float(level)))
    except (TypeError, ValueError):
        return str(level)


def _subgroups(rows: Rows, cfg: dict[str, Any], subjects: pd.DataFrame,
               exposure: pd.DataFrame | None, tables: dict[str, pd.DataFrame],
               design: dict[str, Any], arm: str, confidence: float) -> int:
    cov = subjects.loc[subjects["EFFFL"] == "Y"]
    cov = cov.set_index(pd.Index(cov["USUBJID"].to_numpy(object), dtype=object))
    if "MAXDOSE" in cfg["variables"]:
        maxdose = exposure.groupby(exposure["USUBJID"].astype(object))["EXDOSE"].max()
        cov = cov.assign(MAXDOSE=maxdose.reindex(cov.index).to_numpy())
    min_n, skipped = int(cfg.get("min_n", 2)), 0
    for var in cfg["variables"]:
        for level, members in cov[var].dropna().groupby(cov[var].dropna(), sort=True):
            group = f"{arm}; {var} = {level_text(level)}"
            rows.add("subgroup", "count", "", math.nan, group, {"n_subjects": len(members)})
            for code, p in design["parameters"].items():
                w = tables.get(code)
                if w is None:
                    continue
                w = w[w.index.isin(members.index)]
                if w.empty:
                    continue
                res, skip = _paired(w["base"].to_numpy(), w["comp"].to_numpy(), confidence,
                                    min_n)
                skipped += skip
                for method, values in res.items():
                    rows.add("subgroup", method, code, float(p["comparison_visit"]), group,
                             values)
    return skipped
