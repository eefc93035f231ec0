"""SAGA's primary endpoint under named assumptions about its missing week-6 ratings, through
the real workflow: the rows of ard.csv are a direct call of ``trialreport.stats.imputation``
on records built here from the CSVs, and the report shows them beside the main result,
one row per assumption, with the tipping point (table, sentence and figure) its rows give."""

from __future__ import annotations

import html
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
from test_missing_data import assert_rows_are_the_engines, direct, saga_csv_records

from conftest import copy_repository, run_snakemake

pytestmark = pytest.mark.e2e

TRIAL = "fasoracetam_saga"
CONTRAST = "Fasoracetam vs Placebo"


def half_up(x: float, decimals: int = 2) -> str:
    return str(Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


def p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else half_up(p, 3)


def test_saga_report_shows_the_primary_endpoint_under_each_assumption(tmp_path) -> None:
    repo = copy_repository(tmp_path / "repo")
    proc = run_snakemake(repo, f"results/{TRIAL}/report.html", timeout=1500)
    assert proc.returncode == 0, proc.stderr[-4000:]
    check_results(repo / "results" / TRIAL)


def check_results(results: Path) -> None:
    """ard.csv's missing_data rows against the engine, and the report's section."""
    ard = pd.read_csv(results / "ard.csv", keep_default_na=False,
                      dtype={"value": str, "visitn": str})
    ard = ard[ard["analysis"] == "missing_data"].copy()
    ard["value"] = [float(v) if v != "" else math.nan for v in ard["value"]]

    records = saga_csv_records()
    assert_rows_are_the_engines(ard, {s: direct(records["long"], s)
                                      for s in ("MAR", "J2R", "CR", "CIR")})

    def stats(method: str, group: str) -> dict[str, float]:
        own = ard[(ard["method"] == method) & (ard["group"] == group)]
        return dict(zip(own["statistic"], own["value"], strict=True))

    page = (results / "report.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    # the primary endpoint's block: from its estimand to the next endpoint's
    primary = text.index("Estimand: Change from baseline in ADHD-RS total")
    section = text[primary:text.index("Estimand:", primary + 10)]
    assert re.search(r"Table \d+: Change from baseline in ADHD-RS total score at week 6: "
                     r"Fasoracetam vs Placebo under each assumption about the missing data",
                     section)
    for strategy, words in [("MAR", "Missing at random"), ("J2R", "Jump to reference"),
                            ("CR", "Copy reference"), ("CIR", "Copy increments in reference"),
                            ("j2r_ae_loe", "Mixed, by the subject's DCSREAS")]:
        s = stats(f"adhdrs_mnar: {strategy}", CONTRAST)
        cell = (f"{half_up(s['diff'])} ({half_up(s['diff_ci_low'])}, "
                f"{half_up(s['diff_ci_high'])}) {p_text(s['p_value'])}")
        assert re.search(rf"{strategy} {words}: [^|]*?\. {re.escape(cell)}", section), \
            (strategy, cell)
        # and in the sensitivity table beside the main analysis
        assert f"missing data adhdrs_mnar: {strategy} {CONTRAST} Difference in LS means " \
               f"{cell}" in section

    method = "adhdrs_mnar: tipping point, MAR"
    summary = stats(method, CONTRAST)
    grid = ard[(ard["method"] == method) & ard["group"].str.startswith(f"{CONTRAST}; delta ")]
    rows = [stats(method, g) for g in dict.fromkeys(grid["group"])]  # in the grid's order
    assert rows[0]["delta"] == 0 and rows[0]["significant"] == 0.0
    first = next(r for r in rows if r["significant"] == 1.0)
    assert summary["tipping_delta"] == first["delta"]
    assert (f"the conclusion changes at delta {half_up(first['delta'])}, the first delta of "
            f"the grid where it does; P crosses 0.05 at delta "
            f"{half_up(summary['tipping_delta_refined'])}") in section
    row = (f"{half_up(first['delta'])} {half_up(first['diff'])} "
           f"({half_up(first['diff_ci_low'])}, {half_up(first['diff_ci_high'])}) "
           f"{p_text(first['p_value'])} yes")
    assert row in section
    assert re.search(r"Table \d+: Change from baseline in ADHD-RS total score at week 6: "
                     r"tipping point, Fasoracetam vs Placebo under MAR", section)
    images = re.findall(r'<img [^>]*alt="([^"]*)"', page)
    tipping = [a for a in images if "the conclusion changes at delta" in a]
    assert len(tipping) == 1 and f"delta {first['delta']:g}" in tipping[0]
    assert (results / "figures" / "tipping_point.svg").exists()
