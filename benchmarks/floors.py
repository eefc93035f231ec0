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
    """The numbers of ``trialreport.analyse.safety.build_safety_ard`` for a one-arm trial with
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
# analyse, models: the prespecified between-arm model (trialreport.stats.models.fit_arm_model)
# ---------------------------------------------------------------------------------------


def two_arm_subjects(subjects: pd.DataFrame, seed: int = 20180104) -> pd.DataFrame:
    """The benchmark trial's subjects randomised 1:1 to Placebo and Fasoracetam (the scaled
    trial has one arm, and a between-arm model needs two), with a numeric TRT01PN: 0 on
    placebo, the fixed dose (100, 200 or 400) on the drug, for the dose-response trend."""
    rng = np.random.default_rng(seed)
    active = rng.random(len(subjects)) < 0.5
    dose = np.where(active, rng.choice([100, 200, 400], len(subjects)), 0)
    return subjects.assign(TRT01P=np.where(active, "Fasoracetam", "Placebo"),
                           TRT01PN=dose.astype(float))


def _ols(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Coefficients, their covariance, the residual sum of squares and df, by NumPy least
    squares."""
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    rss = float(resid @ resid)
    df = x.shape[0] - x.shape[1]
    return beta, np.linalg.inv(x.T @ x) * (rss / df), rss, float(df)


def model_floor(spec: dict[str, Any], records: pd.DataFrame, subjects: pd.DataFrame,
                arms: list[str], confidence: float = 0.95) -> pd.DataFrame:
    """The ARD rows of one ``analyses.models`` entry (``response ~ ARM + covariates +
    factors``, and the trend on ``dose``), by NumPy least squares and SciPy's t and F:
    per arm n, mean, SD and the LS mean (covariates at their mean, equal weight over factor
    levels); each arm against the reference (the first arm); the F test of ARM; the trend.
    ``records``: the efficacy set's records with TRT01P (as the analyse stage has them)."""
    code, visit, response = spec["parameter"], float(spec["visit"]), spec["response"]
    covariates, factors, dose = list(spec["covariates"]), list(spec["factors"]), spec["dose"]
    at = records[(records["PARAMCD"] == code) & (records["AVISITN"] == visit)]
    subject_cols = [c for c in dict.fromkeys([*covariates, *factors, dose])
                    if c not in ("BASE", "AVAL", "CHG")]
    at = at.drop(columns=[c for c in subject_cols if c in at.columns]).merge(
        subjects[["USUBJID", *subject_cols]], on="USUBJID", how="left")
    numeric = [response, *covariates, dose]
    frame = pd.DataFrame({c: at[c].to_numpy(float, na_value=np.nan) for c in numeric})
    for f in factors:
        frame[f] = at[f].astype(str).where(at[f].notna())
    frame["ARM"] = at["TRT01P"].astype(str).to_numpy()
    keep = frame.notna().all(axis=1).to_numpy()
    n_dropped = int((~keep).sum())
    frame = frame[keep]
    y = frame[response].to_numpy()
    arm = frame["ARM"].to_numpy()
    reference, others = arms[0], arms[1:]
    levels = {f: sorted(frame[f].unique()) for f in factors}
    centred = {c: frame[c].to_numpy() - frame[c].to_numpy().mean() for c in [*covariates, dose]}
    dummies = [(frame[f].to_numpy() == lv).astype(float) for f in factors for lv in levels[f][1:]]
    ones = np.ones(len(y))
    arm_cols = [(arm == a).astype(float) for a in others]
    x = np.column_stack([ones, *arm_cols, *(centred[c] for c in covariates), *dummies])
    beta, cov, rss, df = _ols(x, y)
    _, _, rss0, df0 = _ols(np.column_stack([ones, *(centred[c] for c in covariates),
                                            *dummies]), y)
    tcrit = sps.t.ppf(0.5 + confidence / 2, df)
    method = f"{spec['id']}: ols {response} ~ {' + '.join(['ARM', *covariates, *factors])}"
    rows = Rows()
    add = lambda group, values: rows.add("model", method, code, visit, group, values)  # noqa: E731
    for i, a in enumerate(arms):
        raw = y[arm == a]
        xv = np.zeros(x.shape[1])
        xv[0] = 1.0
        if i:
            xv[i] = 1.0
        xv[1 + len(others) + len(covariates):] = np.concatenate(
            [np.full(len(levels[f]) - 1, 1.0 / len(levels[f])) for f in factors] or [[]])
        est, se = xv @ beta, math.sqrt(xv @ cov @ xv)
        add(a, {"n": raw.size, "mean": raw.mean(), "sd": raw.std(ddof=1), "lsmean": est,
                "se": se, "ci_low": est - tcrit * se, "ci_high": est + tcrit * se})
        if i:
            diff, dse = beta[i], math.sqrt(cov[i, i])
            add(f"{a} vs {reference}", {
                "diff": diff, "diff_se": dse, "diff_ci_low": diff - tcrit * dse,
                "diff_ci_high": diff + tcrit * dse, "t": diff / dse,
                "p_value": 2 * sps.t.sf(abs(diff / dse), df)})
    df_num = df0 - df
    f_value = ((rss0 - rss) / df_num) / (rss / df)
    add("all arms", {"n": len(y), "n_dropped": n_dropped, "df_resid": df,
                     "sigma": math.sqrt(rss / df), "f": f_value, "df_num": df_num,
                     "df_den": df, "p_value": sps.f.sf(f_value, df_num, df)})
    xd = np.column_stack([ones, centred[dose], *(centred[c] for c in covariates), *dummies])
    bd, cd, _, dfd = _ols(xd, y)
    slope, se = bd[1], math.sqrt(cd[1, 1])
    tcrit_d = sps.t.ppf(0.5 + confidence / 2, dfd)
    rows.add("model", f"{spec['id']}: ols trend {response} ~ "
             f"{' + '.join([dose, *covariates, *factors])}", code, visit, "dose-response", {
                 "slope": slope, "se": se, "ci_low": slope - tcrit_d * se,
                 "ci_high": slope + tcrit_d * se, "t": slope / se,
                 "p_value": 2 * sps.t.sf(abs(slope / se), dfd), "df_resid": dfd})
    return rows.frame()


# ---------------------------------------------------------------------------------------
# reproduce: the published targets against ard.csv
# ---------------------------------------------------------------------------------------


def _half_up(value: float, decimals: int) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals),
                                                    rounding=ROUND_HALF_UP))


def _decimals(text: str) -> int:
    return len(text.strip().split(".", 1)[1]) if "." in text else 0


def _grim(published: str, max_n: int) -> str:
    """The n in 1..max_n at which some whole-number total / n rounds half up to
    ``published``: totals floor(published * n) - 1 .. + 2, rounded exactly in integers."""
    from decimal import Decimal

    d = _decimals(published)
    target = int(Decimal(published.strip()).scaleb(d))
    n = np.arange(1, max_n + 1, dtype=np.int64)
    centre = np.floor(float(published) * n).astype(np.int64)
    hit = np.zeros(max_n, dtype=bool)
    for k in (-1, 0, 1, 2):
        q = (centre + k) * 10**d
        hit |= np.sign(q) * ((2 * np.abs(q) + n) // (2 * n)) == target
    return " ".join(map(str, (np.flatnonzero(hit) + 1).tolist()))


def reproduce_floor(ard_path: Any, trial: dict[str, Any]) -> pd.DataFrame:
    """id, reproduced, status, n, grim_sizes of each reproduction target of the reference
    trial's kinds (enrolled, age range, highest dose, a mean by visit with GRIM, a paired
    t-test's P as a bound, AE incidence between periods in words), from ard.csv."""
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    at = {k: g for k, g in ard.groupby("analysis", sort=False)}
    params = trial["design"]["parameters"]
    n_total = int(at["enrolment"].query("statistic == 'n_subjects'")["value"].sum())
    out = []
    for t in trial["reproduction"]["targets"]:
        stat, published = t["statistic"], str(t["published"]).strip()
        row = {"id": t["id"], "n": "", "grim_sizes": "", "grim_consistent": ""}
        if stat == "n_subjects":
            value = n_total
        elif stat == "age_range":
            age = at["baseline"].query("parameter == 'AGE' and group == 'Total'")
            lo, hi = age.loc[age["statistic"] == "min", "value"].min(), \
                age.loc[age["statistic"] == "max", "value"].max()
            text = f"{lo:g}-{hi:g}"
            out.append(row | {"reproduced": text, "status": "match" if text == published
                              else "mismatch"})
            continue
        elif stat == "max_dose":
            value = at["dose_exposure"].query(
                "parameter == 'MAXDOSE' and group == 'Total' and statistic == 'max'")["value"]
            value = float(value.iloc[0])
        elif stat == "mean":
            p = params[t["parameter"]]
            visitn = p["baseline_visit" if t["visit"] == "baseline" else "comparison_visit"]
            rows = at["by_visit"][(at["by_visit"]["parameter"] == t["parameter"])
                                  & (at["by_visit"]["visitn"] == visitn)]
            stats = dict(zip(rows["statistic"], rows["value"], strict=True))
            value, row["n"] = stats["mean"], int(stats["n"])
            row["grim_sizes"] = _grim(published, n_total)
            row["grim_consistent"] = "yes" if str(row["n"]) in row["grim_sizes"].split() \
                else "no"
        elif stat == "p_value":
            paired = at["paired"][at["paired"]["parameter"] == t["parameter"]]
            value = float(paired[paired["method"].str.startswith(t.get("method", "paired_ttest"))
                                 & (paired["statistic"] == "p_value")]["value"].iloc[0])
            row["n"] = int(paired.loc[paired["statistic"] == "n_pairs", "value"].iloc[0])
            op, bound = published.split()[-2:]
            ok = value < float(bound) if op == "<" else value > float(bound)
            text = published if ok else f"P = {_half_up(value, max(_decimals(bound), 3))}"
            out.append(row | {"reproduced": text, "status": "match" if ok else "mismatch"})
            continue
        elif stat == "ae_incidence_periods":
            periods = at["ae_periods"]
            test = periods[periods["statistic"] == "p_value"].iloc[0]
            ratio = periods[(periods["statistic"] == "rate_ratio")
                            & (periods["group"] == test["group"])]["value"].iloc[0]
            p = test["value"]
            found = "no difference" if p >= t.get("alpha", 0.05) else "difference"
            shown = "P < 0.001" if p < 0.001 else f"P = {_half_up(p, 3)}"
            out.append(row | {"reproduced": f"{found} ({test['group']}: {shown}, rate ratio "
                                            f"{_half_up(ratio, 2)})",
                              "status": "match" if found == published else "mismatch"})
            continue
        else:
            raise ValueError(f"target statistic {stat!r} is not in the floor")
        text = _half_up(value, _decimals(published))
        out.append(row | {"reproduced": text,
                          "status": "match" if text == published else "mismatch"})
    return pd.DataFrame(out)


# ---------------------------------------------------------------------------------------
# provenance: the SHA-256 of the data and results files
# ---------------------------------------------------------------------------------------


def provenance_floor(paths: dict[str, Any]) -> dict[str, str]:
    """The SHA-256 of each file (hashlib over 1 MiB blocks), the record's core."""
    import hashlib

    out = {}
    for name, path in paths.items():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        out[name] = digest.hexdigest()
    return out


# ---------------------------------------------------------------------------------------
# figures: the four figures of a one-arm trial, PNG (150 dpi) and SVG, plain matplotlib
# ---------------------------------------------------------------------------------------


def figures_floor(trial: dict[str, Any], ard_path: Any, efficacy_path: Any,
                  subjects_path: Any, outdir: Any) -> dict[str, Any]:
    """The figures stage's four figures of a one-arm trial drawn with plain matplotlib calls
    (same sizes, same panels, the same data and texts: titles, axis and tick labels, the
    percents in the bars, the forest plot's numbers), each saved as PNG at 150 dpi and SVG
    the plain way (``savefig`` per format, a constrained layout each time). Means and CIs
    from ard.csv; the counts per rating category and the trajectories from the efficacy
    set's records. Returns ``{name: Figure}``; the artists that show data carry a gid:
    ``mean-<code>``, ``bar-<code>-<category>``, ``est-<code>-<group>``."""
    from pathlib import Path

    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    design = trial["design"]
    params = design["parameters"]
    visit_name = {v["number"]: v["name"] for v in design["visits"]}
    level = f"{100 * trial['analyses']['paired'].get('confidence', 0.95):g}%"
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    eff = pd.read_parquet(efficacy_path, columns=["USUBJID", "PARAMCD", "AVISITN", "AVAL"])
    sub = pd.read_parquet(subjects_path, columns=["USUBJID", "EFFFL"])
    eff = eff[_isin(eff["USUBJID"], sub.loc[sub["EFFFL"] == "Y", "USUBJID"])]
    eff = eff[eff["AVAL"].notna()].astype({"AVAL": float, "AVISITN": float})
    means = ard[(ard["analysis"] == "by_visit")].pivot_table(
        index=["parameter", "visitn"], columns="statistic", values="value")
    figs: dict[str, Any] = {}

    def new(name: str, w: float, h: float, title: str) -> Any:
        fig = Figure(figsize=(w, h), layout="constrained")
        fig.suptitle(title, fontweight="bold")
        figs[name] = fig
        return fig

    def visits_axis(ax: Any, x: np.ndarray) -> None:
        ax.set_xticks(x, [visit_name[int(v)] for v in x])
        ax.set_xlabel("Visit")

    fig = new("means_by_visit", 9.2, 3.4, f"Mean by visit ({level} CI), observed cases")
    for ax, code in zip(fig.subplots(1, 2), params, strict=True):
        m = means.loc[code]
        x = m.index.to_numpy(float)
        ok = m["ci_low"].notna().to_numpy()
        ax.errorbar(x[ok], m["mean"][ok], yerr=[(m["mean"] - m["ci_low"])[ok],
                                                (m["ci_high"] - m["mean"])[ok]],
                    fmt="none", capsize=3)
        ax.plot(x, m["mean"], marker="o", gid=f"mean-{code}")
        visits_axis(ax, x)
        ax.set_title(f"{params[code]['label']}: {params[code]['name']}")
        ax.set_ylabel(f"Mean {params[code]['label']} ({level} CI)")
        ax.grid(axis="y", alpha=0.3)

    fig = new("rating_distribution", 5.9, 3.3 * len(params),
              "Ratings by visit, percent of subjects rated (observed cases)")
    for ax, code in zip(fig.subplots(len(params), 1), params, strict=True):
        p = params[code]
        at = eff[eff["PARAMCD"] == code]
        counts = pd.crosstab(at["AVISITN"], at["AVAL"]).reindex(
            columns=np.arange(p["min"], p["max"] + 1, dtype=float), fill_value=0)
        n = counts.sum(axis=1).to_numpy()
        pct = 100.0 * counts.to_numpy() / n[:, None]
        x = np.arange(len(counts))
        bottom = np.zeros(len(x))
        for k, category in enumerate(counts.columns):
            ax.bar(x, pct[:, k], bottom=bottom, width=0.72, label=f"{category:g}",
                   gid=f"bar-{code}-{category:g}")
            for xi, b, s in zip(x, bottom, pct[:, k], strict=True):
                if s >= 8:
                    ax.text(xi, b + s / 2, f"{s:.0f}", ha="center", va="center", fontsize=7)
            bottom += pct[:, k]
        ax.set_xticks(x, [f"{visit_name[int(v)]}\nn = {k}" for v, k in
                          zip(counts.index, n, strict=True)])
        ax.set_ylim(0, 100)
        ax.set_title(f"{p['label']}: {p['name']}")
        ax.set_ylabel("Percent of subjects rated")
        ax.legend(title=f"{p['label']}\nrating", loc="upper left", bbox_to_anchor=(1.01, 1))

    fig = new("trajectories", 8.8, 3.4,
              "Individual trajectories (grey) and mean (coloured), observed cases")
    for ax, code in zip(fig.subplots(1, 2), params, strict=True):
        at = eff[eff["PARAMCD"] == code].sort_values(["USUBJID", "AVISITN"])
        ids = np.sort(at["USUBJID"].unique().astype(object))
        shown = ids
        if len(ids) > 200:
            shown = np.sort(np.random.default_rng(20180104).choice(ids, 200, replace=False))
        at = at[_isin(at["USUBJID"], shown)]
        xy = at[["AVISITN", "AVAL"]].to_numpy(float)
        starts = np.flatnonzero(np.r_[True, at["USUBJID"].to_numpy()[1:]
                                      != at["USUBJID"].to_numpy()[:-1]])
        ax.add_collection(LineCollection(np.split(xy, starts[1:]), colors="grey",
                                         linewidths=0.7, alpha=0.35))
        m = means.loc[code]
        ax.plot(m.index.to_numpy(float), m["mean"], lw=2.4, marker="o", gid=f"mean-{code}")
        visits_axis(ax, m.index.to_numpy(float))
        ax.set_ylim(params[code]["min"] - 0.24, params[code]["max"] + 0.24)
        ax.set_title(f"{params[code]['label']} ({len(shown)} of {len(ids)} subjects)")
        ax.set_ylabel(params[code]["label"])

    est = ard[ard["analysis"].isin(["paired", "subgroup"])
              & ard["statistic"].isin(["change_mean", "change_ci_low", "change_ci_high",
                                       "n_pairs"])].pivot_table(
        index=["parameter", "analysis", "group"], columns="statistic", values="value")
    codes = [c for c in params if (c, "subgroup") in est.index.droplevel(2)]
    heights = [0.27 * (len(est.loc[c]) + 2) + 1.1 for c in codes]
    fig = new("subgroup_forest", 8.2, sum(heights) + 0.4,
              f"Mean change in subgroups ({level} CI), complete pairs")
    for ax, code in zip(fig.subplots(len(codes), 1, height_ratios=heights), codes, strict=True):
        rows = est.loc[code].reset_index()
        y = np.arange(len(rows), 0, -1)
        ax.hlines(y, rows["change_ci_low"], rows["change_ci_high"])
        for yi, r in zip(y, rows.itertuples(), strict=True):
            ax.plot([r.change_mean], [yi], "o", gid=f"est-{code}-{r.group}")
            ax.text(1.02, yi, f"{r.change_mean:.2f} ({r.change_ci_low:.2f}, "
                    f"{r.change_ci_high:.2f})   {r.n_pairs:g}",
                    transform=ax.get_yaxis_transform(), va="center", fontsize=8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y, rows["group"])
        ax.set_title(params[code]["label"], loc="left")
        ax.set_xlabel(f"Mean change in {params[code]['label']} ({level} CI)")

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name, fig in figs.items():
        fig.savefig(outdir / f"{name}.png", dpi=150)
        fig.savefig(outdir / f"{name}.svg")
    return figs


# ---------------------------------------------------------------------------------------
# tables: the eight display tables of a one-arm trial with periods, pivoted from ard.csv
# ---------------------------------------------------------------------------------------

TABLE_NAMES = ("demographics", "disposition", "exposure", "ae_overview", "ae_soc_pt",
               "ae_severity", "ae_relationship", "ae_periods")


def tables_floor(ard_path: Any, trial: dict[str, Any], outdir: Any) -> None:
    """The display tables (``trialreport.tables``) of a one-arm trial whose adverse-event
    columns are its periods, one of them placebo only: each analysis of ard.csv pivoted to
    a (parameter, statistic) x group table, its cells formatted (``n (%)``, ``[events]``,
    mean (SD), half-up rounding) and its rows ordered (classes and terms by descending
    subjects in the last column, then name); written as CSV. The row labels are the
    stage's own text (``trialreport.tables``)."""
    from pathlib import Path

    from trialreport.tables.display import DISPOSITION_LABELS, OVERVIEW_LABELS, SEX_LABELS

    design = trial["design"]
    period_label = {p["name"]: p["label"] for p in design.get("periods", [])}
    unit = design.get("dose_unit", "")
    ard = pd.read_csv(ard_path, keep_default_na=False, dtype={"value": float, "visitn": float},
                      na_values={"value": [""], "visitn": [""]})
    rounded: dict[tuple[float, int], str] = {}

    def half_up(v: float, d: int) -> str:
        if (v, d) not in rounded:
            rounded[(v, d)] = "" if v != v else _half_up(v, d)
        return rounded[(v, d)]

    def num(v: float) -> str:
        return f"{v:.0f}" if float(v).is_integer() else repr(float(v))

    def n_pct(n: float, pct: float) -> str:
        return "0" if n == 0 else f"{n:.0f} ({half_up(pct, 1)})"

    def wide(analysis: str) -> tuple[pd.DataFrame, list[str], list[str]]:
        rows = ard[ard["analysis"] == analysis]
        table = rows.pivot_table(index=["parameter", "statistic"], columns="group",
                                 values="value", aggfunc="first", sort=False)
        groups = list(dict.fromkeys(rows.loc[rows["statistic"] == "N", "group"]))
        if "All periods" not in groups and "Total" in groups:
            groups.remove("Total")  # one arm: Total equals it
        n = table.loc[("" if analysis != "ae_periods" else "TEAE", "N")]
        headers = [f"{period_label.get(g, g)} (N = {n[g]:.0f})" for g in groups]
        return table, groups, headers

    def cont(table: pd.DataFrame, p: str, label: str, groups: list[str],
             headers: list[str], d: int = 1) -> list[dict[str, str]]:
        s = table.loc[p]
        cells = {"n": [f"{s.at['n', g]:.0f}" for g in groups],
                 "Mean (SD)": [f"{half_up(s.at['mean', g], d)} ({half_up(s.at['sd', g], d + 1)})"
                               for g in groups],
                 "Median": [half_up(s.at["median", g], d) for g in groups],
                 "Min, max": [f"{num(s.at['min', g])}, {num(s.at['max', g])}" for g in groups]}
        return [{"Characteristic": label if i == 0 else "", "Statistic": k}
                | dict(zip(headers, v, strict=True)) for i, (k, v) in enumerate(cells.items())]

    def cat(table: pd.DataFrame, p: str, label: str, groups: list[str], headers: list[str],
            names: Any = lambda level: level) -> list[dict[str, str]]:
        s = table.loc[p]
        levels = [st[2:] for st in s.index if st.startswith("n_")]
        return [{"Characteristic": label if i == 0 else "", "Statistic": f"{names(lv)}, n (%)"}
                | {h: n_pct(s.at[f"n_{lv}", g], s.at[f"pct_{lv}", g])
                   for g, h in zip(groups, headers, strict=True)}
                for i, lv in enumerate(levels)]

    out: dict[str, pd.DataFrame] = {}
    params = design["parameters"]
    covariates = {c["name"]: c["label"] for c in design.get("covariates", [])}
    t, groups, headers = wide("baseline")
    rows: list[dict[str, str]] = []
    for p in dict.fromkeys(t.index.get_level_values(0)):
        if p == "AGE":
            rows += cont(t, p, "Age (years)", groups, headers)
        elif p.startswith("BASE_"):
            rows += cont(t, p, f"{params[p[5:]]['label']} at baseline", groups, headers, 2)
        elif p:
            rows += cat(t, p, "Sex" if p == "SEX" else covariates.get(p, p), groups, headers,
                        (lambda lv: SEX_LABELS.get(lv, lv)) if p == "SEX" else (lambda lv: lv))
    out["demographics"] = pd.DataFrame(rows)

    t, groups, headers = wide("disposition")
    out["disposition"] = pd.DataFrame([
        {"Status": f"  {p.split(' / ', 1)[1]}" if " / " in p else DISPOSITION_LABELS.get(p, p)}
        | {h: n_pct(t.at[(p, "n"), g], t.at[(p, "pct"), g])
           for g, h in zip(groups, headers, strict=True)}
        for p in dict.fromkeys(t.index.get_level_values(0)) if p])

    t, groups, headers = wide("dose_exposure")

    def dose(level: str) -> str:
        return "0 (placebo)" if float(level) == 0 else f"{level} {unit}".strip()

    rows = cont(t, "MAXDOSE", f"Highest dose reached ({unit})", groups, headers)
    rows += cat(t, "MAXDOSE", "Highest dose reached, by level", groups, headers, dose)
    for p in dict.fromkeys(t.index.get_level_values(0)):
        if p.startswith("DAYS_AT_DOSE "):
            rows += cont(t, p, f"Days at {dose(p[13:])}", groups, headers)
            rows.append({"Characteristic": "", "Statistic": "Total subject-days"}
                        | {h: f"{t.at[(p, 'subject_days'), g]:.0f}"
                           for g, h in zip(groups, headers, strict=True)})
    out["exposure"] = pd.DataFrame(rows)

    def events(t: pd.DataFrame, p: str, g: str) -> str:
        n = t.at[(p, "n_subjects"), g]
        return "" if n != n else f"{n_pct(n, t.at[(p, 'pct_subjects'), g])} " \
                                 f"[{t.at[(p, 'n_events'), g]:.0f}]"

    treatment = "study treatment (placebo or study drug)"
    labels = OVERVIEW_LABELS | {"RELATED": f"  related to {treatment}",
                                "DISCONTINUATION": "  leading to discontinuation of study "
                                                   "treatment"}
    t, groups, headers = wide("ae_overview")
    out["ae_overview"] = pd.DataFrame([
        {"Category": labels.get(p, p)} | {h: events(t, p, g)
                                          for g, h in zip(groups, headers, strict=True)}
        for p in dict.fromkeys(t.index.get_level_values(0)) if p])

    t, groups, headers = wide("ae_soc_pt")
    last = t.xs("n_subjects", level=1)[groups[-1]]
    terms = pd.DataFrame({"p": last.index, "n": -last.to_numpy()})
    terms = terms[(terms["p"] != "ANY") & (terms["p"] != "")]
    split = terms["p"].str.split(" / ", n=1, expand=True).reindex(columns=[0, 1])
    terms = terms.assign(soc=split[0], pt=split[1].fillna(""))
    soc_n = terms[terms["pt"] == ""].set_index("soc")["n"]
    terms = terms.assign(soc_n=terms["soc"].map(soc_n), is_pt=terms["pt"] != "")
    terms = terms.sort_values(["soc_n", "soc", "is_pt", "n", "pt"], kind="stable")
    order = [("ANY", "Any TEAE", "")] + list(zip(terms["p"], terms["soc"], terms["pt"],
                                                 strict=True))
    out["ae_soc_pt"] = pd.DataFrame([
        {"System organ class": soc, "Preferred term": pt}
        | {h: events(t, p, g) for g, h in zip(groups, headers, strict=True)}
        for p, soc, pt in order])

    for name, levels, header in (
            ("ae_severity", {"MILD": "Mild", "MODERATE": "Moderate", "SEVERE": "Severe",
                             "Missing": "Missing"}, "Maximum severity"),
            ("ae_relationship", {"RELATED": "Related", "NOT_RELATED": "Not related"},
             f"Relationship to {treatment.split(' (')[0]}")):
        t, groups, headers = wide(name)
        shown = [lv for lv in levels if lv != "Missing"
                 or (t.xs("n_Missing", level=1)[groups] > 0).any().any()]
        out[name] = pd.DataFrame([
            {"System organ class": soc, "Preferred term": pt, header: levels[lv]}
            | {h: n_pct(t.at[(p, f"n_{lv}"), g], t.at[(p, f"pct_{lv}"), g])
               for g, h in zip(groups, headers, strict=True)}
            for p, soc, pt in order for lv in shown])

    t = ard[ard["analysis"] == "ae_periods"].pivot_table(
        index="group", columns="statistic", values="value", aggfunc="first", sort=False)
    periods = [g for g in t.index if " vs " not in g]
    tests = [g for g in t.index if " vs " in g]
    rows = []
    for g in periods:
        s = t.loc[g]
        test = next((x for x in tests if x.startswith(g + " vs ")), None)
        row = {"Period": period_label.get(g, g), "Subjects exposed": f"{s['N']:.0f}",
               "Subjects with a TEAE, n (%)": n_pct(s["n_subjects"], s["pct_subjects"]),
               "Events": f"{s['n_events']:.0f}",
               "Subject-weeks of exposure": half_up(s["subject_weeks"], 1),
               "Events per subject-week": half_up(s["events_per_subject_week"], 3),
               "Rate ratio [95% CI]": "reference" if tests and g == periods[0] else "",
               "P (exact conditional)": ""}
        if test:
            c = t.loc[test]
            row["Rate ratio [95% CI]"] = (f"{half_up(c['rate_ratio'], 2)} "
                                          f"[{half_up(c['ci_low'], 2)}, "
                                          f"{half_up(c['ci_high'], 2)}]")
            row["P (exact conditional)"] = ("< 0.001" if c["p_value"] < 0.001
                                            else half_up(c["p_value"], 3))
        rows.append(row)
    out["ae_periods"] = pd.DataFrame(rows)

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    for name in TABLE_NAMES:
        out[name].to_csv(outdir / f"{name}.csv", index=False, lineterminator="\n")

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
