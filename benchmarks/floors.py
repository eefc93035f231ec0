"""Like-for-like floors: what each stage computes, written minimally in vectorised
pandas, NumPy and SciPy, for the benchmark suite to hold the stage against.

Each floor computes the SAME numbers as its stage (``tests/test_benchmark_floors.py``
checks them number for number on a small trial), but with nothing else: no config
parsing beyond the keys it needs, no contract checks, no messages, no general cases the
benchmark trial does not have. It covers the regime a large trial is in: one arm, a
two-sided alternative, the normal approximations of the Wilcoxon test and of the
Hodges-Lehmann interval (a group below 50 non-zero differences, where the stage may use
exact variants, is left out: its rows are reported as ``SKIPPED``), integer-valued
ratings (the Walsh averages are counted over the distinct differences).

A floor returns a frame with the ARD's key columns (``KEY``) and ``value``, so that its
rows can be matched with the stage's ARD rows (``match_ard``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.optimize import brentq

KEY = ["analysis", "method", "parameter", "visitn", "group", "statistic"]
SKIPPED = "small-sample variant (not in the floor)"


class Rows:
    """Collects (key..., value) rows."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, analysis: str, method: str, parameter: str, visitn: float, group: str,
            values: dict[str, float]) -> None:
        for statistic, value in values.items():
            self.rows.append((analysis, method, parameter, visitn, group, statistic,
                              float(value)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=[*KEY, "value"])


def _isin(values: pd.Series, members: Any) -> np.ndarray:
    """``values.isin(members)``, looked up once per distinct value (text columns are
    Arrow-backed, whose ``isin`` is slow; their factorisation is fast)."""
    codes, uniques = pd.factorize(values)
    hit = pd.Index(np.asarray(uniques, dtype=object), dtype=object).isin(list(members))
    return np.append(hit, False)[codes]  # code -1 (missing) is never a member


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


# ---------------------------------------------------------------------------------------
# efficacy: descriptives, paired tests and effect sizes, LOCF, responders, subgroups
# ---------------------------------------------------------------------------------------


def _describe(x: np.ndarray, confidence: float) -> dict[str, float]:
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
    """Estimate and normal-approximation CI from the Walsh averages counted over the
    distinct differences; None where the stage uses the exact interval."""
    n = d.size
    values, counts = np.unique(d, return_counts=True)
    if n < 50 and values.size == n and not (d == 0).any() and \
            np.unique(np.abs(d)).size == n:
        return None
    i, j = np.triu_indices(values.size)
    walsh = (values[i] + values[j]) / 2.0
    mult = np.where(i == j, counts[i] * (counts[i] + 1) // 2, counts[i] * counts[j])
    order = np.argsort(walsh, kind="stable")
    walsh, cum = walsh[order], np.cumsum(mult[order])

    def kth(k: int) -> float:
        return float(walsh[np.searchsorted(cum, k)])

    m = n * (n + 1) // 2
    estimate = (kth((m + 1) // 2) + kth(m // 2 + 1)) / 2
    _, ties = np.unique(np.abs(d), return_counts=True)
    var = (n * (n + 1) * (2 * n + 1) - np.sum(ties**3 - ties) / 2) / 24.0
    c = max(int(math.floor(m / 2 - sps.norm.ppf(1 - (1 - confidence) / 2) * math.sqrt(var)
                           + 0.5)), 1)
    if c > m:
        return {"hl_estimate": estimate, "hl_ci_low": math.nan, "hl_ci_high": math.nan}
    return {"hl_estimate": estimate, "hl_ci_low": kth(c), "hl_ci_high": kth(m + 1 - c)}


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
    ch = _describe(d, confidence)
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
    """The numbers of ``trialreport.analysis.build_ard`` for a one-arm trial."""
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
    eff = efficacy[_isin(efficacy["USUBJID"], eff_ids)]
    if locf is not None:
        locf = locf[_isin(locf["USUBJID"], eff_ids)]
    skipped = 0
    tables: dict[str, pd.DataFrame] = {}
    for code, p in design["parameters"].items():
        base_n, comp_n = p.get("baseline_visit"), p["comparison_visit"]
        recs = eff[eff["PARAMCD"] == code]
        for visitn, values in recs.groupby("AVISITN", sort=True)["AVAL"]:
            rows.add("by_visit", "descriptive", code, float(visitn), arm,
                     _describe(values.to_numpy(float, na_value=np.nan), confidence))
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


def _level_text(level: Any) -> str:
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
            group = f"{arm}; {var} = {_level_text(level)}"
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


# ---------------------------------------------------------------------------------------
# safety: demographics, disposition, exposure, adverse-event counts
# ---------------------------------------------------------------------------------------

SUMMARY = ("n", "mean", "sd", "median", "min", "max")
SEVERITY_RANK = {"MILD": 1, "MODERATE": 2, "SEVERE": 3}
SEVERITY_LEVELS = ("Missing", "MILD", "MODERATE", "SEVERE")


def _summary(x: np.ndarray) -> dict[str, float]:
    d = _describe(np.asarray(x, dtype=float), 0.95)
    return {k: d[k] for k in SUMMARY}


def _pct(n: float, total: float) -> float:
    return 100.0 * n / total if total else math.nan


def _counts(rows: Rows, analysis: str, parameter: str, group: str, text: pd.Series,
            levels: list[str]) -> None:
    counts = text.value_counts()
    for level in levels:
        n = int(counts.get(level, 0))
        rows.add(analysis, "count", parameter, math.nan, group,
                 {f"n_{level}": n, f"pct_{level}": _pct(n, len(text))})


def _levels(values: pd.Series) -> list[str]:
    text = values.astype("string")
    return sorted(text.dropna().unique()) + (["Missing"] if text.isna().any() else [])


def safety_floor(trial: dict[str, Any], subjects: pd.DataFrame, adverse_events: pd.DataFrame,
                 exposure: pd.DataFrame, efficacy: pd.DataFrame) -> pd.DataFrame:
    """The numbers of ``trialreport.safety.build_safety_ard`` for a one-arm trial with
    periods (so the adverse-event tables have a column per period, then All periods)."""
    design = trial["design"]
    arms = subjects["TRT01P"].dropna().unique()
    assert len(arms) == 1, "the floor covers one-arm trials"
    arm = str(arms[0])
    rows = Rows()
    sid = subjects["USUBJID"].astype(object)
    safe = (subjects["SAFFL"] == "Y").to_numpy()
    safe_ids = set(sid[safe])
    pop = subjects[safe]

    # demographics and baseline characteristics
    cats = [c for c in ("SEX", "RACE", "ETHNIC") if c in subjects.columns] + [
        c["name"] for c in design.get("covariates", [])
        if c.get("type") == "categorical" and c["name"] in subjects.columns]
    base = efficacy.dropna(subset=["BASE"]).drop_duplicates(["USUBJID", "PARAMCD"])
    for group in (arm, "Total"):
        rows.add("baseline", "count", "", math.nan, group, {"N": len(pop)})
        rows.add("baseline", "descriptive", "AGE", math.nan, group,
                 _summary(pop["AGE"].to_numpy(float)))
        for c in cats:
            _counts(rows, "baseline", c, group, pop[c].astype("string").fillna("Missing"),
                    _levels(pop[c]))
        in_pop = base[_isin(base["USUBJID"], safe_ids)]
        for code, values in in_pop.groupby("PARAMCD", sort=True)["BASE"]:
            rows.add("baseline", "descriptive", f"BASE_{code}", math.nan, group,
                     _summary(values.to_numpy(float)))

    # disposition (of everyone enrolled)
    status = subjects["EOSSTAT"].astype("string")
    reasons = subjects["DCSREAS"].astype("string").fillna("Missing")
    disc = (status == "DISCONTINUED").fillna(False).to_numpy()
    treated = _isin(subjects["USUBJID"], exposure["USUBJID"].astype(object))
    counts = {"ENROLLED": len(subjects), "TREATED": treated.sum(),
              "COMPLETED": (status == "COMPLETED").sum(), "DISCONTINUED": disc.sum()}
    if (status == "ONGOING").any():
        counts["ONGOING"] = (status == "ONGOING").sum()
    for reason, n in reasons[disc].value_counts().sort_index().items():
        counts[f"DISCONTINUED / {reason}"] = n
    for group in (arm, "Total"):
        rows.add("disposition", "count", "", math.nan, group, {"N": len(subjects)})
        for parameter, n in counts.items():
            rows.add("disposition", "count", parameter, math.nan, group,
                     {"n": n, "pct": _pct(n, len(subjects))})

    # exposure: highest dose, days at each dose
    periods = {p["name"]: p for p in design.get("periods", [])}
    ex = exposure.assign(USUBJID=exposure["USUBJID"].astype(object))
    end = pd.to_numeric(ex["EXENDY"]).astype(float).fillna(
        ex["APHASE"].astype(object).map({k: p["last_day"] for k, p in periods.items()}))
    ex["EXDUR"] = end - pd.to_numeric(ex["EXSTDY"]).astype(float) + 1
    in_safe = ex[_isin(ex["USUBJID"], safe_ids)]
    max_dose = in_safe.groupby("USUBJID")["EXDOSE"].max().astype(float)
    days = in_safe.groupby(["EXDOSE", "USUBJID"])["EXDUR"].sum(min_count=1)
    levels = sorted({float(d) for d in design.get("dose_levels", [])}
                    | set(ex["EXDOSE"].astype(float)))
    for group in (arm, "Total"):
        rows.add("dose_exposure", "count", "", math.nan, group, {"N": len(pop)})
        rows.add("dose_exposure", "descriptive", "MAXDOSE", math.nan, group,
                 _summary(max_dose.to_numpy()))
        n_at = max_dose.value_counts()
        for level in levels:
            n = int(n_at.get(level, 0))
            rows.add("dose_exposure", "count", "MAXDOSE", math.nan, group,
                     {f"n_{_level_text(level)}": n, f"pct_{_level_text(level)}":
                      _pct(n, len(pop))})
        for level in levels:
            at = days[days.index.get_level_values("EXDOSE") == level].to_numpy(float)
            rows.add("dose_exposure", "descriptive", f"DAYS_AT_DOSE {_level_text(level)}",
                     math.nan, group, _summary(at) | {"subject_days": at.sum()})

    # adverse events: treatment-emergent events of the safety population
    ae = adverse_events
    first_dose = ex.groupby("USUBJID")["EXSTDY"].min().astype(float)
    onset = pd.to_numeric(ae["ASTDY"]).astype(float)
    start = ae["USUBJID"].astype(object).map(first_dose).astype(float)
    emergent = ((onset >= start) | onset.isna()).to_numpy()
    rel = ae["AEREL"].astype("string").str.strip().str.upper()
    related = (rel.isin(["POSSIBLY RELATED", "PROBABLY RELATED", "RELATED"]).fillna(False)
               | rel.isna()).to_numpy(bool)
    in_safe = _isin(ae["USUBJID"], safe_ids)
    sev = ae["AESEV"].astype("string").str.upper().map(SEVERITY_RANK).fillna(0).to_numpy(int)
    events = pd.DataFrame({
        "USUBJID": ae["USUBJID"].astype(object).to_numpy(),
        "soc": ae["AEBODSYS"].astype(str).to_numpy(object),
        "pt": (ae["AEBODSYS"].astype(str) + " / " + ae["AEDECOD"].astype(str)).to_numpy(object),
        "period": ae["APHASE"].astype("string").fillna("").astype(str).to_numpy(object),
        "RELATED": related, "SEVERE": sev == 3,
        "SERIOUS": ae["AESER"].astype("string").eq("Y").fillna(False).to_numpy(bool),
        "DISCONTINUATION": ae["AEACN"].astype("string").eq("DRUG WITHDRAWN").fillna(False)
        .to_numpy(bool),
        "sev": sev})
    teae = events[emergent & in_safe]
    other = events[~emergent & in_safe]
    exposed = {p: set(ex.loc[(ex["APHASE"] == p).to_numpy(), "USUBJID"]) & safe_ids
               for p in periods}
    # one-arm trial with periods: a column per period, then All periods (no arm column)
    columns = [*[(p, exposed[p], p) for p in periods], ("All periods", safe_ids, None)]
    terms = ["ANY", *sorted(teae["soc"].unique()), *sorted(teae["pt"].unique())]
    for group, members, period in columns:
        mine = teae[_isin(teae["USUBJID"], members)]
        if period is not None:
            mine = mine[(mine["period"] == period).to_numpy()]
        size = len(members)
        for analysis in ("ae_overview", "ae_soc_pt", "ae_severity", "ae_relationship"):
            rows.add(analysis, "count", "", math.nan, group, {"N": size})
        for name in ("ANY", "RELATED", "SEVERE", "SERIOUS", "DISCONTINUATION"):
            hit = mine if name == "ANY" else mine[mine[name].to_numpy()]
            n = hit["USUBJID"].nunique()
            rows.add("ae_overview", "count", name, math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size), "n_events": len(hit)})
        no_period = mine[(mine["period"] == "").to_numpy()]
        if period is None and len(no_period):
            n = no_period["USUBJID"].nunique()
            rows.add("ae_overview", "count: APHASE empty", "NO_PERIOD", math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": len(no_period)})
        if period is None and len(other):
            theirs = other[_isin(other["USUBJID"], members)]
            n = theirs["USUBJID"].nunique()
            rows.add("ae_overview", "count: TRTEMFL = N", "NOT_TEAE", math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": len(theirs)})
        # per subject and preferred term first, then rolled up to class and any event
        per_pt = mine.groupby(["pt", "soc", "USUBJID"], sort=False).agg(
            events=("sev", "size"), sev=("sev", "max"), rel=("RELATED", "max")).reset_index()
        levels = [per_pt.groupby(["pt", "USUBJID"], sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
            .rename(columns={"pt": "term"})]
        per_soc = per_pt.groupby(["soc", "USUBJID"], sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
        levels.append(per_soc.rename(columns={"soc": "term"}))
        per_any = per_soc.groupby("USUBJID", sort=False).agg(
            events=("events", "sum"), sev=("sev", "max"), rel=("rel", "max")).reset_index()
        levels.append(per_any.assign(term="ANY"))
        keyed = pd.concat(levels, ignore_index=True)
        by_term = keyed.groupby("term").agg(n=("USUBJID", "size"), events=("events", "sum"))
        by_term = by_term.reindex(terms, fill_value=0)
        sev_tab = pd.crosstab(keyed["term"], keyed["sev"]).reindex(
            index=terms, columns=range(4), fill_value=0)
        rel_tab = pd.crosstab(keyed["term"], keyed["rel"].astype(int)).reindex(
            index=terms, columns=range(2), fill_value=0)
        for term in terms:
            n = int(by_term.at[term, "n"])
            rows.add("ae_soc_pt", "count", term, math.nan, group,
                     {"n_subjects": n, "pct_subjects": _pct(n, size),
                      "n_events": by_term.at[term, "events"]})
            rows.add("ae_severity", "count, maximum severity per subject", term, math.nan,
                     group, {k: v for code, level in enumerate(SEVERITY_LEVELS) for k, v in (
                         (f"n_{level}", sev_tab.at[term, code]),
                         (f"pct_{level}", _pct(sev_tab.at[term, code], size)))})
            rows.add("ae_relationship", "count, closest relationship per subject", term,
                     math.nan, group, {k: v for code, level in enumerate(
                         ("NOT_RELATED", "RELATED")) for k, v in (
                         (f"n_{level}", rel_tab.at[term, code]),
                         (f"pct_{level}", _pct(rel_tab.at[term, code], size)))})

    # periods: incidence per subject-week, each later period against the first
    weeks, counts_ = {}, {}
    for name in periods:
        in_period = in_safe_ex = ex[_isin(ex["USUBJID"], safe_ids)
                                    & (ex["APHASE"] == name).to_numpy()]
        n_exposed = in_safe_ex["USUBJID"].nunique()
        total_days = float(in_period["EXDUR"].sum(min_count=1))
        hit = teae[(teae["period"] == name).to_numpy()]
        n = hit["USUBJID"].nunique()
        weeks[name], counts_[name] = total_days / 7.0, len(hit)
        rows.add("ae_periods", "count", "TEAE", math.nan, name, {
            "N": n_exposed, "n_subjects": n, "pct_subjects": _pct(n, n_exposed),
            "n_events": len(hit), "exposure_days": total_days, "subject_weeks": weeks[name],
            "events_per_subject_week": len(hit) / weeks[name] if weeks[name] else math.nan})
    names = list(periods)
    for name in names[1:]:
        ref = names[0]
        total = counts_[name] + counts_[ref]
        share = weeks[name] / (weeks[name] + weeks[ref])
        res = sps.binomtest(counts_[name], total, share)
        ci = res.proportion_ci(confidence_level=0.95, method="exact")
        odds = weeks[ref] / weeks[name]
        rows.add("ae_periods", "exact_conditional_poisson", "TEAE", math.nan,
                 f"{name} vs {ref}", {
                     "rate_ratio": (counts_[name] / weeks[name]) / (counts_[ref] / weeks[ref]),
                     "ci_low": ci.low / (1 - ci.low) * odds,
                     "ci_high": math.inf if ci.high >= 1 else ci.high / (1 - ci.high) * odds,
                     "p_value": res.pvalue, "n_events_total": total})
    return rows.frame()


def match_ard(floor: pd.DataFrame, ard: pd.DataFrame, rtol: float = 0.0) -> pd.DataFrame:
    """Every ARD row against the floor's row with the same key: a frame of the rows that
    differ (value beyond ``rtol``, or missing on one side), empty when they agree."""
    a = ard.assign(visitn=ard["visitn"].astype(float))[[*KEY, "value"]]
    a = a.assign(method=a["method"].where(a["statistic"] != "N", "count"))
    f = floor.assign(method=floor["method"].where(floor["statistic"] != "N", "count"))
    for frame in (a, f):
        frame["visitn"] = frame["visitn"].fillna(-1.0)
    both = a.merge(f, on=KEY, how="outer", suffixes=("_stage", "_floor"), indicator=True)
    x, y = both["value_stage"].to_numpy(float), both["value_floor"].to_numpy(float)
    same = (np.isclose(x, y, rtol=rtol, atol=0) | (np.isnan(x) & np.isnan(y))
            | (np.isinf(x) & (x == y)))
    return both[~same | (both["_merge"] != "both")]


# ---------------------------------------------------------------------------------------
# ingest: the trial's CSV files read as text and written as Parquet
# ---------------------------------------------------------------------------------------


def ingest_floor(paths: dict[str, Any], outputs: dict[str, Any]) -> dict[str, int]:
    """What the ingest stage does with a trial of plain CSV files (no column map, codes or
    ``where`` in the config, as the benchmark trial): every column read as text (Arrow's
    CSV reader), values stripped, empty ones missing, rows with no value left out, a
    ragged row or an undecodable byte refused; ``SRCROW``, the line number; each dataset
    written as Parquet. Returns the records per dataset (the stage's selection counts).

    The floor's regime: no quotes and no empty lines (its row numbers are the line
    numbers only then; it asserts so)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    counts = {}
    for name, path in paths.items():
        raw = Path(path).read_bytes()
        header = [h.strip() for h in raw[:raw.index(b"\n")].decode().split(",")]
        assert "" not in header and len(set(header)) == len(header), "header"
        table = pacsv.read_csv(  # ragged rows and bytes that are not UTF-8 raise
            pa.py_buffer(raw), read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            parse_options=pacsv.ParseOptions(quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                                 null_values=[""], strings_can_be_null=True))
        columns = []
        for column in table.columns:
            trimmed = pc.utf8_trim_whitespace(column)
            if pc.sum(pc.binary_length(trimmed)) != pc.sum(pc.binary_length(column)):
                column = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()),
                                    trimmed)
            columns.append(column)
        assert raw.count(b"\n") + (not raw.endswith(b"\n")) == table.num_rows + 1, \
            "empty lines: outside the floor's regime"
        table = pa.table([*columns, pa.array(np.arange(2, table.num_rows + 2))],
                         names=[*header, "SRCROW"])
        if min(c.null_count for c in columns):  # rows with no value (only delimiters)
            blank = pc.and_kleene(*[pc.is_null(c) for c in columns[:2]])
            for column in columns[2:]:
                blank = pc.and_kleene(blank, pc.is_null(column))
            table = table.filter(pc.invert(blank))
        assert table.num_rows > 0, "no data rows"
        pq.write_table(table, outputs[name])
        counts[name] = table.num_rows
    return counts


# ---------------------------------------------------------------------------------------
# validate: every check of the four contracts, the baselines, the typed Parquet files
# ---------------------------------------------------------------------------------------


def _map(values: pd.Series, mapping: dict[Any, Any]) -> np.ndarray:
    """``values.map(mapping)`` as floats (NaN where there is no entry), looked up once per
    distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    looked_up = np.array([mapping.get(u, np.nan) if not pd.isna(u) else np.nan
                          for u in uniques], dtype=float)
    return looked_up[codes]


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=float, na_value=np.nan)


def _rule_failures(name: str, df: pd.DataFrame, design: dict[str, Any]) -> dict[str, np.ndarray]:
    """Rows failing each dataset-level rule of the contracts (schemas/*.yaml, ``rules``)."""
    visits = {v["name"]: float(v["number"]) for v in design["visits"]}
    days = {v["name"]: float(v["day"]) for v in design["visits"] if v.get("day") is not None}
    windows = {v["name"]: float(v.get("window_days", design.get("visit_window_days")))
               for v in design["visits"] if v.get("day") is not None
               and v.get("window_days", design.get("visit_window_days")) is not None}
    params = design["parameters"]
    first = {p["name"]: float(p["first_day"]) for p in design["periods"]}
    last = {p["name"]: float(p["last_day"]) for p in design["periods"]}
    bad: dict[str, np.ndarray] = {}
    if name == "scores":
        aval, visitn = _floats(df["AVAL"]), _floats(df["AVISITN"])
        expected = _map(df["AVISIT"], visits)
        bad["visit_name_matches_number"] = ~np.isnan(expected) & ~np.isnan(visitn) & (
            expected != visitn)
        lo = _map(df["PARAMCD"], {k: float(p["min"]) for k, p in params.items()})
        hi = _map(df["PARAMCD"], {k: float(p["max"]) for k, p in params.items()})
        with np.errstate(invalid="ignore"):
            bad["aval_within_parameter_range"] = ~np.isnan(aval) & ~np.isnan(lo) & ~np.isnan(
                hi) & ((aval < lo) | (aval > hi))
        integer = _map(df["PARAMCD"], {k: float(bool(p.get("integer"))) for k, p in
                                       params.items()}) == 1
        bad["aval_integer_where_declared"] = integer & ~np.isnan(aval) & (np.round(aval) != aval)
        ady = _floats(df["ADY"])
        gap = np.abs(ady - _map(df["AVISIT"], days))
        window = _map(df["AVISIT"], windows)
        bad["ady_within_visit_window"] = ~np.isnan(gap) & ~np.isnan(window) & (gap > window)
    elif name == "subjects":
        bad["discontinued_has_reason"] = ((df["EOSSTAT"] == "DISCONTINUED").fillna(False)
                                          & df["DCSREAS"].isna()).to_numpy(dtype=bool)
    elif name == "adverse_events":
        start, end = _floats(df["ASTDY"]), _floats(df["AENDY"])
        bad["end_not_before_onset"] = end < start  # NaN compares False
        f, la = _map(df["APHASE"], first), _map(df["APHASE"], last)
        bad["onset_within_period"] = (start < f) | (start > la)
    else:
        start, end = _floats(df["EXSTDY"]), _floats(df["EXENDY"])
        bad["end_not_before_start"] = end < start
        f, la = _map(df["APHASE"], first), _map(df["APHASE"], last)
        bad["interval_within_period"] = (start < f) | (start > la) | (end < f) | (end > la)
        whole = ~np.isnan(start) & ~np.isnan(end) & (end >= start)
        iv = pd.DataFrame({"s": pd.factorize(df["USUBJID"])[0][whole], "a": start[whole],
                           "b": end[whole], "i": np.flatnonzero(whole)}).sort_values(
            ["s", "a", "b"], kind="stable")
        group = iv.groupby("s", sort=False)
        latest = group["b"].cummax().groupby(iv["s"], sort=False).shift()
        overlap = (iv["a"] <= latest).to_numpy() | (iv["b"] >= group["a"].shift(-1)).to_numpy()
        bad["no_overlapping_intervals"] = np.isin(np.arange(len(df)), iv["i"].to_numpy()[overlap])
        levels = design.get("dose_levels")
        period_doses = {p["name"]: p["dose_levels"] for p in design["periods"]
                        if "dose_levels" in p}
        if levels is not None:
            dose = _floats(df["EXDOSE"])
            checked = _isin(df["APHASE"], period_doses) & np.isin(dose, np.asarray(levels, float))
            allowed = np.zeros(len(df), dtype=bool)
            for period, doses in period_doses.items():
                allowed |= (df["APHASE"] == period).fillna(False).to_numpy(dtype=bool) & np.isin(
                    dose, np.asarray(doses, float))
            bad["dose_allowed_in_period"] = checked & ~allowed
    return bad


def validate_floor(trial: dict[str, Any], contracts: dict[str, dict[str, Any]],
                   inputs: dict[str, Any], outputs: dict[str, Any]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every check the contracts make (``contracts``: schemas/<dataset>.yaml as loaded),
    in plain pandas and NumPy, on the ingested Parquet files: the required columns; each
    column typed (text stripped, numbers parsed, whole numbers where an integer is due);
    not-null, allowed values, subjects known, ranges; the key unique; the dataset-level
    rules; copies of subject-level columns equal to the subjects'; a baseline for every
    subject with post-baseline ratings (excluded, as the benchmark trial's config says,
    or a failure). The typed datasets are written as Parquet when no failure is an error.

    Returns the failures, columns dataset, row, column, rule, severity (sorted), and the
    exclusions (USUBJID, PARAMCD). Its regime: periods listed in the config and present in
    the data (APHASE); numbers below 2**53; ``missing_baseline: exclude``."""
    design, validation = trial["design"], trial.get("validation", {})
    warn = set(validation.get("warn", []))
    domains = {"visit_names": [v["name"] for v in design["visits"]],
               "visit_numbers": [float(v["number"]) for v in design["visits"]],
               "parameter_codes": list(design["parameters"]),
               "dose_levels": design.get("dose_levels"),
               "periods": [p["name"] for p in design["periods"]],
               "study_days": design.get("study_days"),
               "onset_days": (None if "study_days" not in design
                              else (-math.inf, design["study_days"][1])),
               "age_range": design.get("age_range")}
    found: list[pd.DataFrame] = []
    typed: dict[str, pd.DataFrame] = {}
    raw: dict[str, pd.DataFrame] = {}

    def fail(dataset: str, rows: Any, column: str, rule: str) -> None:
        rows = np.asarray(rows)
        if rows.size:
            found.append(pd.DataFrame({"dataset": dataset, "row": rows.astype(int),
                                       "column": column, "rule": rule}))

    for name, contract in contracts.items():
        df = raw[name] = pd.read_parquet(inputs[name])
        rows = df["SRCROW"].to_numpy()
        out = {}
        for column, spec in contract["columns"].items():
            if column not in df.columns:
                if spec.get("required", True):
                    fail(name, [1], column, "required_column")
                continue
            text = df[column].astype("string").str.strip()
            if spec["type"] == "string":
                value = text.replace({"": pd.NA})
                missing = null = value.isna().to_numpy()
            else:
                number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
                given = (text.notna() & (text != "")).to_numpy(dtype=bool)
                wrong = given & ~np.isfinite(number)
                if spec["type"] == "integer":
                    wrong |= np.isfinite(number) & (np.round(number) != number)
                fail(name, rows[wrong], column, "type")
                number[wrong] = np.nan
                value = pd.array(number, dtype="Float64")
                if spec["type"] == "integer":
                    value = value.astype("Int64")
                null = np.isnan(number)
                missing = null & ~wrong  # a value of the wrong type is reported as such
            out[column] = value
            if not spec.get("nullable", False):
                fail(name, rows[missing], column, "not_null")
            allowed = spec.get("allowed")
            if isinstance(allowed, dict):
                allowed = (typed["subjects"]["USUBJID"].dropna().unique()
                           if allowed["domain"] == "subject_ids" else domains[allowed["domain"]])
            if allowed is not None:
                ok = (_isin(value, allowed) if spec["type"] == "string"
                      else np.isin(_floats(pd.Series(value)), np.asarray(allowed, float)))
                rule = ("subject_in_subjects" if spec["allowed"] == {"domain": "subject_ids"}
                        else "allowed_values")
                fail(name, rows[~ok & ~null], column, rule)
            bounds = spec.get("range")
            if isinstance(bounds, dict):
                bounds = domains[bounds["domain"]]
            if bounds is not None:
                x = _floats(pd.Series(value))
                fail(name, rows[(x < bounds[0]) | (x > bounds[1])], column, "range")
        frame = df.assign(**out)
        key = [c for c in contract.get("key", []) if c in frame.columns]
        if key:
            fail(name, rows[frame.duplicated(key, keep=False).to_numpy()], "+".join(key),
                 "unique_key")
        for rule, bad in _rule_failures(name, frame, design).items():
            fail(name, rows[bad], "+".join(_RULE_COLUMNS[rule]), rule)
        typed[name] = frame
    subjects = raw["subjects"]  # subject-level copies, as delivered (text compared as text)
    first = subjects.assign(USUBJID=subjects["USUBJID"].str.strip()).drop_duplicates("USUBJID")
    for name, frame in raw.items():
        if name == "subjects":
            continue
        copies = [c for c in frame.columns if c in subjects.columns
                  and c not in ("USUBJID", "SRCROW") and c not in contracts[name]["columns"]]
        ids = frame["USUBJID"].str.strip()
        for column in copies:
            truth = pd.Series(first[column].astype("string").str.strip().to_numpy(),
                              index=first["USUBJID"].to_numpy())
            mine = frame[column].astype("string").str.strip().replace({"": pd.NA})
            theirs = ids.map(truth).astype("string").replace({"": pd.NA})
            same = ((mine == theirs).fillna(False) | (mine.isna() & theirs.isna())).to_numpy(
                dtype=bool)
            known = _isin(ids, first["USUBJID"])
            fail(name, frame["SRCROW"].to_numpy()[known & ~same], column, "matches_subjects")
        typed[name] = typed[name].drop(columns=copies)
    # a baseline for every subject with a post-baseline rating of a parameter
    scores = typed["scores"]
    if "DTYPE" in scores.columns:
        scores = scores[scores["DTYPE"].isna().to_numpy()]
    aval, visitn = _floats(scores["AVAL"]), _floats(scores["AVISITN"])
    excluded = []
    for code, p in design["parameters"].items():
        if p.get("baseline_visit") is None:
            continue
        mine = (scores["PARAMCD"] == code).fillna(False).to_numpy(dtype=bool)
        has_base = mine & (visitn == p["baseline_visit"]) & ~np.isnan(aval)
        if "BASE" in scores.columns:
            has_base |= mine & scores["BASE"].notna().to_numpy()
        post = mine & (visitn > p["baseline_visit"]) & ~np.isnan(aval)
        ids = scores["USUBJID"]
        lacking = post & ~_isin(ids, ids[has_base].unique())
        for subject in np.unique(ids[lacking].to_numpy(object)):
            excluded.append((subject, code))
    if excluded and validation.get("missing_baseline", "error") != "exclude":
        raise NotImplementedError("missing baselines as failures: outside the floor's regime")
    table = pd.concat(found, ignore_index=True) if found else pd.DataFrame(
        columns=["dataset", "row", "column", "rule"])
    table["severity"] = np.where(table["rule"].isin(list(warn)), "warning", "error")
    table = table.drop_duplicates().sort_values(["dataset", "row", "column", "rule"],
                                                ignore_index=True)
    exclusions = pd.DataFrame(excluded, columns=["USUBJID", "PARAMCD"])
    if not (table["severity"] == "error").any():
        for name, frame in typed.items():
            frame.to_parquet(outputs[name], index=False)
        table.to_csv(outputs["warnings"], index=False)
        exclusions.to_csv(outputs["exclusions"], index=False)
    return table, exclusions


_RULE_COLUMNS = {
    "visit_name_matches_number": ("AVISIT", "AVISITN"),
    "aval_within_parameter_range": ("PARAMCD", "AVAL"),
    "aval_integer_where_declared": ("PARAMCD", "AVAL"),
    "ady_within_visit_window": ("AVISIT", "ADY"),
    "discontinued_has_reason": ("EOSSTAT", "DCSREAS"),
    "end_not_before_onset": ("ASTDY", "AENDY"),
    "onset_within_period": ("APHASE", "ASTDY"),
    "end_not_before_start": ("EXSTDY", "EXENDY"),
    "interval_within_period": ("APHASE", "EXSTDY", "EXENDY"),
    "no_overlapping_intervals": ("USUBJID", "EXSTDY", "EXENDY"),
    "dose_allowed_in_period": ("APHASE", "EXDOSE"),
}
