"""Consistency of published figures with whole-number data (``trialreport.reproduce.consistency``)
and the ``inconsistent`` status of the reproduction table, on hand-worked cases. The
candidate counts are checked against a brute force written here (decimal module, half
up), the p values against scipy."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from trialreport.reproduce import consistency as C
from trialreport.reproduce.targets import TargetError, reproduce


def brute_counts(published: str, n: int) -> list[int]:
    """Every k of n whose percentage, rounded half up by the decimal module at the
    published decimals, prints as the published number."""
    number = published.strip().rstrip("%").strip()
    quantum = Decimal(1).scaleb(-(len(number.split(".")[1]) if "." in number else 0))
    return [k for k in range(n + 1)
            if str((Decimal(100 * k) / Decimal(n)).quantize(quantum, ROUND_HALF_UP)) == number]


def scipy_p(k1: int, n1: int, k2: int, n2: int, method: str) -> float:
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    if method == "fisher":
        return float(sps.fisher_exact(table, alternative="two-sided").pvalue)
    return float(sps.chi2_contingency(table, correction=(method == "chisq_yates")).pvalue)


# --- percentages of a denominator (GRIM for proportions) -----------------------------------

def test_percentage_counts_worked_by_hand():
    # 57% of 46: 100 * 26 / 46 = 56.52 -> 57; 25/46 = 54.35, 27/46 = 58.70: only k = 26
    assert C.percentage_counts("57%", 46) == [26]
    # 70% of 46: 32/46 = 69.57 -> 70 (31/46 = 67.39, 33/46 = 71.74)
    assert C.percentage_counts("70%", 46) == [32]
    # 33% of 50: every k/50 is a whole even percent (32%, 34%): no count gives 33%
    assert C.percentage_counts("33%", 50) == []
    assert C.percentage_counts("42", 50) == [21]  # the % sign is optional
    # 33% of 100 and of 3: one count each; 0% and 100% of 7 only 0 and 7
    assert C.percentage_counts("33%", 100) == [33]
    assert C.percentage_counts("33%", 3) == [1]
    assert C.percentage_counts("0%", 7) == [0] and C.percentage_counts("100%", 7) == [7]


def test_rounding_is_half_up_at_the_published_decimals():
    # 1/8 = 12.5% exactly: half up gives 13% (half to even would give 12%)
    assert C.percentage_counts("13%", 8) == [1]
    assert C.percentage_counts("12%", 8) == []
    assert C.percentage_counts("12.5%", 8) == [1]
    # one decimal: 1/3 = 33.33 -> 33.3; 33.4 impossible of 3
    assert C.percentage_counts("33.3%", 3) == [1] and C.percentage_counts("33.4%", 3) == []
    # many counts at a coarse precision of a large denominator: 10% of 1000 -> 95..104
    assert C.percentage_counts("10%", 1000) == list(range(95, 105))


@pytest.mark.parametrize("seed", range(4))
def test_percentage_counts_equal_a_brute_force(seed):
    rng = np.random.default_rng(seed)
    for _ in range(150):
        n = int(rng.integers(1, 160))
        decimals = int(rng.integers(0, 3))
        pct = f"{rng.uniform(0, 100):.{decimals}f}%"
        assert C.percentage_counts(pct, n) == brute_counts(pct, n), (pct, n)


def test_check_percentage_states_the_rule_and_the_nearest_counts():
    bad = C.check_percentage("33%", 50)
    assert not bad.consistent
    assert "no whole number k of 50 gives 33%" in bad.reason
    assert "rounded half up" in bad.reason
    assert "16/50 = 32.00%" in bad.reason and "17/50 = 34.00%" in bad.reason
    good = C.check_percentage("57%", 46)
    assert good.consistent and good.candidates == (26,)


def test_unreadable_percentages_and_denominators_are_refused():
    with pytest.raises(C.ConsistencyError, match="'seventy'"):
        C.percentage_counts("seventy", 46)
    with pytest.raises(C.ConsistencyError, match="denominator"):
        C.percentage_counts("70%", 0)


# --- p values of two proportions -------------------------------------------------------------

@pytest.mark.parametrize("method", sorted(C.TESTS))
def test_two_by_two_p_equals_scipy(method):
    rng = np.random.default_rng(11)
    for _ in range(120):
        n1, n2 = (int(v) for v in rng.integers(1, 60, 2))
        k1, k2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        ours = C.two_by_two_p(k1, n1, k2, n2, method)
        if method != "fisher" and (k1 + k2 in (0, n1 + n2)):
            assert math.isnan(ours)  # an empty column: no chi-square test
            continue
        assert ours == pytest.approx(scipy_p(k1, n1, k2, n2, method), rel=1e-9, abs=1e-15)


def test_pearson_chi_square_worked_by_hand():
    # 32/46 vs 21/50: a, b, c, d = 32, 14, 21, 29; ad - bc = 928 - 294 = 634; N = 96;
    # X^2 = 96 * 634^2 / (46 * 50 * 53 * 43) = 38587776 / 5241700 = 7.36169; p = 0.00666
    x2 = 96 * 634**2 / (46 * 50 * 53 * 43)
    assert x2 == pytest.approx(7.36169, abs=1e-5)
    assert C.two_by_two_p(32, 46, 21, 50, "chisq") == pytest.approx(sps.chi2.sf(x2, 1))


def test_published_percentages_and_p_that_agree():
    # 70% of 46 vs 42% of 50: the only counts are 32 and 21; Pearson's chi-square (no
    # continuity correction) gives p = 0.006663, which rounds half up to 0.0067
    p = float(sps.chi2_contingency(np.array([[32, 14], [21, 29]]), correction=False).pvalue)
    assert round(p, 4) == 0.0067
    finding = C.check_proportions_p([("70%", 46), ("42%", 50)], "chisq", "0.0067")
    assert finding.consistent
    assert finding.candidates == ((32, 21, pytest.approx(p, rel=1e-12)),)
    assert "32/46 vs 21/50" in finding.reason and "Pearson" in finding.reason
    # a bound the same counts satisfy, and the one step past it that they do not
    assert C.check_proportions_p([("70%", 46), ("42%", 50)], "chisq", "P < 0.01").consistent
    assert not C.check_proportions_p([("70%", 46), ("42%", 50)], "chisq",
                                     "P < 0.006").consistent


def test_published_percentages_and_p_that_cannot_agree():
    # the same figures under the two other tests: Fisher gives 0.00803, Yates 0.01215
    fisher = float(sps.fisher_exact(np.array([[32, 14], [21, 29]])).pvalue)
    yates = float(sps.chi2_contingency(np.array([[32, 14], [21, 29]]),
                                       correction=True).pvalue)
    assert round(fisher, 4) == 0.0080 and round(yates, 4) == 0.0121
    for method in ("fisher", "chisq_yates"):
        finding = C.check_proportions_p([("70%", 46), ("42%", 50)], method, "0.0067")
        assert not finding.consistent
        assert "no counts give 0.0067" in finding.reason
        assert "70% of 46 vs 42% of 50" in finding.reason and method in finding.reason
    # 57% of 46 vs 33% of 50: no count of 50 gives 33%, whatever the test and p
    for method in C.TESTS:
        finding = C.check_proportions_p([("57%", 46), ("33%", 50)], method, "0.0155")
        assert not finding.consistent
        assert "no whole number k of 50 gives 33%" in finding.reason


def test_candidate_pairs_equal_a_brute_force():
    """Every pair of counts of the denominators, tested by scipy, against the module."""
    cases = [(("57%", 46), ("33%", 49), "0.0155"), (("70%", 44), ("42%", 48), "0.0067"),
             (("60%", 20), ("30%", 20), "P < 0.05"), (("57%", 46), ("32%", 50), "0.0155")]
    for (pct1, n1), (pct2, n2), published in cases:
        for method in C.TESTS:
            expected = []
            for k1 in range(n1 + 1):
                for k2 in range(n2 + 1):
                    if not (brute_counts(pct1, n1).count(k1) and brute_counts(pct2, n2).count(k2)):
                        continue
                    p = scipy_p(k1, n1, k2, n2, method)
                    if published.startswith("P <"):
                        ok = p < float(published.split("<")[1])
                    else:
                        d = len(published.split(".")[1])
                        ok = (Decimal(repr(p)).quantize(Decimal(1).scaleb(-d), ROUND_HALF_UP)
                              == Decimal(published))
                    if ok:
                        expected.append((k1, k2))
            found = C.proportions_p_candidates([(pct1, n1), (pct2, n2)], method, published)
            assert [(k1, k2) for k1, k2, _ in found] == expected, (pct1, n1, pct2, n2, method)
    # 26/46 vs 16/50 (32%) under Pearson: p = 0.01554 -> 0.0155
    assert [(k1, k2) for k1, k2, _ in C.proportions_p_candidates(
        [("57%", 46), ("32%", 50)], "chisq", "0.0155")] == [(26, 16)]


def test_p_rounding_edge():
    assert C.p_agrees(0.00665 + 1e-12, "0.0067")
    assert not C.p_agrees(0.00665 - 1e-12, "0.0067")
    assert C.p_agrees(0.0155, "p = 0.0155") and C.p_agrees(0.0155, "P=0.0155")
    assert C.p_agrees(0.0499, "P < 0.05") and not C.p_agrees(0.05, "P < 0.05")
    assert C.p_agrees(0.05, "P <= 0.05")
    assert not C.p_agrees(math.nan, "P < 0.05")
    with pytest.raises(C.ConsistencyError, match="'significant'"):
        C.p_agrees(0.01, "significant")


def test_method_names_of_the_config_and_of_ard():
    assert C.test_of("chisq") == C.test_of("chi_square_pearson") == "chisq"
    assert C.test_of("chi_square_yates") == "chisq_yates"
    assert C.test_of("fisher_exact") == "fisher"
    with pytest.raises(C.ConsistencyError, match="'paired_ttest'"):
        C.test_of("paired_ttest")


# --- the reproduction table: match, inconsistent, mismatch ----------------------------------

def responder_ard(k1: int, n1: int, k2: int, n2: int) -> pd.DataFrame:
    """Rows of a between-arm responder analysis as ard.csv holds them."""
    rows = [("enrolment", "", "", "Total", "n_subjects", n1 + n2)]
    for arm, k, n in (("Drug", k1, n1), ("Placebo", k2, n2)):
        rows += [("responders_between_arms", "count", "R", arm, "n", n),
                 ("responders_between_arms", "count", "R", arm, "percent", 100 * k / n)]
    for method in C.TESTS:
        rows.append(("responders_between_arms", C.ARD_METHODS[method], "R", "Drug vs Placebo",
                     "p_value", C.two_by_two_p(k1, n1, k2, n2, method)))
    frame = pd.DataFrame(rows, columns=["analysis", "method", "parameter", "group",
                                        "statistic", "value"])
    return frame.assign(visit="Week 6", visitn=6.0)


def trial(published_p: str, method: str, pct1: str, pct2: str, on_mismatch: str = "fail",
          n1: int = 46, n2: int = 50) -> dict:
    base = {"analysis": "responders_between_arms", "parameter": "R"}
    return {
        "design": {"visits": [{"name": "Week 6", "number": 6}],
                   "parameters": {"R": {"label": "R", "baseline_visit": None,
                                        "comparison_visit": 6}}},
        "reproduction": {"on_mismatch": on_mismatch, "targets": [
            {"id": "pct_drug", "description": "drug", "statistic": "percent", "group": "Drug",
             "method": "count", "published": pct1, "denominator": n1, **base},
            {"id": "pct_placebo", "description": "placebo", "statistic": "percent",
             "group": "Placebo", "method": "count", "published": pct2, "denominator": n2,
             **base},
            {"id": "p", "description": "p", "statistic": "p_value", "method": method,
             "published": published_p, **base,
             "proportions": [{"published": pct1, "denominator": n1},
                             {"published": pct2, "denominator": n2}]},
        ]},
    }


def test_reproduced_and_consistent_figures_match_with_the_reason():
    table = reproduce(responder_ard(32, 46, 21, 50),
                      trial("p = 0.0067", "chisq", "70%", "42%")).set_index("id")
    assert table["status"].tolist() == ["match"] * 3
    assert table.loc["pct_drug", "reproduced"] == "70%"
    assert table.loc["p", "reproduced"] == "p = 0.0067"
    assert table.loc["p", "source"].startswith("responders_between_arms/R/Week 6/"
                                               "chi_square_pearson/p_value")
    assert "32/46 vs 21/50" in table.loc["p", "reason"]
    assert "k = 32/46" in table.loc["pct_drug", "reason"]


def test_impossible_figures_are_inconsistent_not_mismatched():
    # the data have 26/46 and 16/50 (32%): the 33% and the p of 57% vs 33% cannot hold
    ard = responder_ard(26, 46, 16, 50)
    config = trial("0.0155", "chisq", "57%", "33%")
    table = reproduce(ard, config).set_index("id")
    assert table.loc["pct_drug", "status"] == "match"
    assert table.loc["pct_placebo", "status"] == "inconsistent"
    assert "no whole number k of 50 gives 33%" in table.loc["pct_placebo", "reason"]
    # the data's p (0.01554) reads 0.0155, yet 57% vs 33% of 50 cannot hold: a figure whose
    # own assumptions cannot all hold is inconsistent whatever the data give; the reason
    # says the data reproduce it, and from what
    assert table.loc["p", "status"] == "inconsistent"
    assert table.loc["p", "reproduced"] == "0.0155"
    assert (
        "the data reproduce the printed 0.0155 (reproduced 0.0155 from 0.0155"
        in table.loc["p", "reason"]
    )
    # with assumptions that can hold (70% vs 42%) the same data reproducing it is a match
    ok = reproduce(
        responder_ard(32, 46, 21, 50), trial("p = 0.0067", "chisq", "70%", "42%")
    ).set_index("id")
    assert "the data reproduce" not in ok.loc["p", "reason"]
    # under Fisher the data's p is 0.0232: not reproduced, and no counts could: inconsistent
    fisher = reproduce(ard, trial("0.0155", "fisher", "57%", "33%")).set_index("id")
    assert fisher.loc["p", "status"] == "inconsistent"
    assert "Fisher" in fisher.loc["p", "reason"]


def _write_ard(path, frame: pd.DataFrame) -> None:
    from trialreport.analyse.ard import format_ard

    format_ard(frame.assign(trial="t", analysis_set="")).to_csv(path, index=False)


def test_the_stage_fails_on_mismatch_only_never_on_inconsistent(tmp_path):
    from trialreport.common.runner import StageError
    from trialreport.reproduce.stage import reproduce_targets

    _write_ard(tmp_path / "ard.csv", responder_ard(26, 46, 16, 50))
    out = tmp_path / "reproduction.csv"
    reproduce_targets(trial("0.0155", "fisher", "57%", "33%"), str(tmp_path / "ard.csv"),
                      str(out))  # on_mismatch: fail, yet two inconsistent rows pass
    table = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("id")
    assert table["status"].tolist() == ["match", "inconsistent", "inconsistent"]
    assert table.columns[-1] == "reason"
    assert table.loc["pct_drug", "reason"].startswith("57% of 46: k = 26/46")
    # one step past: a figure that whole numbers can give but the data do not -> fails
    _write_ard(tmp_path / "ard.csv", responder_ard(25, 46, 16, 50))
    with pytest.raises(StageError, match=r"pct_drug \(drug\): published 57%, reproduced 54%"):
        reproduce_targets(trial("0.0155", "fisher", "57%", "33%"),
                          str(tmp_path / "ard.csv"), str(out))


def test_possible_but_not_reproduced_is_a_mismatch():
    # 70% vs 42% of 46/50 can give p = 0.0067 (Pearson), but these data give another p
    table = reproduce(responder_ard(30, 46, 21, 50),
                      trial("0.0067", "chisq", "70%", "42%")).set_index("id")
    assert table.loc["pct_drug", "status"] == "mismatch"  # 30/46 = 65%: possible, not here
    assert table.loc["p", "status"] == "mismatch"
    assert table.loc["p", "reason"].startswith("32/46 vs 21/50")


def test_a_stated_denominator_that_cannot_give_the_figure_is_inconsistent_whatever_the_data():
    # 33.3...% from 16/48 reads 33%, but the target states 50 as its denominator, of which
    # no k gives 33%: its own assumptions cannot hold, so inconsistent; the reason says the
    # data reproduce the figure and from what
    table = reproduce(
        responder_ard(26, 46, 16, 48), trial("0.0155", "chisq", "57%", "33%")
    ).set_index("id")
    assert table.loc["pct_placebo", "status"] == "inconsistent"
    assert table.loc["pct_placebo", "reproduced"] == "33%"
    reason = table.loc["pct_placebo", "reason"]
    assert "no whole number k of 50" in reason
    assert "the data reproduce the printed 33% (reproduced 33% from 33.33" in reason


def test_bad_consistency_config_names_the_target():
    config = trial("0.0067", "chisq", "70%", "42%")
    config["reproduction"]["targets"][2]["method"] = "paired_ttest"
    with pytest.raises(TargetError, match="target 'p': method 'paired_ttest'"):
        reproduce(responder_ard(32, 46, 21, 50), config)


# --- config: the schema accepts the new keys and refuses their mistakes ---------------------

P_TARGET = {"id": "resp_p", "description": "responders", "analysis": "responders_between_arms",
            "parameter": "R", "statistic": "p_value", "method": "chisq",
            "published": "p = 0.0067",
            "proportions": [{"published": "70%", "denominator": 46},
                            {"published": "42%", "denominator": 50}]}


def _with_target(config: dict, target: dict) -> dict:
    import copy

    from conftest import REFERENCE_TRIAL

    out = copy.deepcopy(config)
    out["trials"][REFERENCE_TRIAL]["reproduction"]["targets"].append(target)
    return out


@pytest.mark.parametrize(("change", "fragment"), [
    ({}, None),
    ({"method": "chi_square_yates"}, None),
    ({"method": "paired_ttest"}, "paired_ttest"),
    ({"method": None}, "method"),
    ({"proportions": [{"published": "70%", "denominator": 46}]}, "proportions"),
    ({"proportions": [{"published": "70%", "denominator": 0},
                      {"published": "42%", "denominator": 50}]}, "denominator"),
    ({"proportions": [{"published": "seventy", "denominator": 46},
                      {"published": "42%", "denominator": 50}]}, "seventy"),
    ({"denominator": 2.5}, "2.5"),
], ids=["ok", "ard-name", "not-a-test", "no-method", "one-proportion", "zero-denominator",
        "not-a-percentage", "fractional-denominator"])
def test_schema_of_the_consistency_keys(config, change, fragment):
    from snakemake.exceptions import WorkflowError
    from snakemake.utils import validate

    from conftest import ROOT

    target = {k: v for k, v in (P_TARGET | change).items() if v is not None}
    candidate = _with_target(config, target)
    schema = str(ROOT / "schemas" / "config.schema.yaml")
    if fragment is None:
        validate(candidate, schema)
    else:
        with pytest.raises(WorkflowError, match=fragment):
            validate(candidate, schema)


def test_config_parses_the_consistency_keys():
    from trialreport.common.config import Proportion, _target

    t = _target(P_TARGET | {"denominator": 46})
    assert t.proportions == (Proportion("70%", 46), Proportion("42%", 50))
    assert t.denominator == 46 and t.method == "chisq"
    assert _target({k: v for k, v in P_TARGET.items() if k != "proportions"}).proportions == ()


def test_report_lists_only_the_inconsistent_rows_with_their_reason():
    from types import SimpleNamespace

    from trialreport.report.sections.reproduction import inconsistent_table

    table = reproduce(responder_ard(26, 46, 16, 50), trial("0.0155", "fisher", "57%", "33%"))
    shown = inconsistent_table(SimpleNamespace(reproduction=table.astype(str)))
    assert shown["Target"].tolist() == ["placebo", "p"]
    assert shown["Why no data can give it"].str.contains("no whole number k of 50").all()
    # a reproduction.csv written before the reason column: no rows, no error
    old = table.drop(columns="reason").assign(status="match").astype(str)
    assert inconsistent_table(SimpleNamespace(reproduction=old)).empty
