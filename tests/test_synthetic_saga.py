"""The synthetic SAGA dataset: reproducible byte for byte, the shipped files are the
generator's output, and the published figures hold where whole numbers allow (counted
here from the participant-level rows, not through the pipeline)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps
import statsmodels.formula.api as smf

from trialreport.cli import main
from trialreport.synthetic.saga import SEED, make_saga_dataset, write_saga_dataset

from conftest import ROOT

DATA = ROOT / "data" / "fasoracetam_saga"


@pytest.fixture(scope="module")
def ds():
    return make_saga_dataset()


def test_shipped_files_equal_the_generators_output_byte_for_byte(tmp_path: Path) -> None:
    for path in write_saga_dataset(tmp_path):
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name


def test_rerun_gives_the_same_bytes_and_another_seed_other_data(tmp_path: Path) -> None:
    first = {p.name: p.read_bytes() for p in write_saga_dataset(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in write_saga_dataset(tmp_path / "b")}
    assert first == second
    other = make_saga_dataset(SEED + 1)
    assert not other.scores["AVAL"].equals(make_saga_dataset().scores["AVAL"])


def test_cli_writes_the_saga_trial_and_keeps_the_default(tmp_path: Path, capsys) -> None:
    assert main(["make-reference-data", str(tmp_path / "saga"),
                 "--trial", "fasoracetam_saga"]) == 0
    assert (tmp_path / "saga" / "scores.csv").read_bytes() == (DATA / "scores.csv").read_bytes()
    assert main(["make-reference-data", str(tmp_path / "nfc")]) == 0
    nfc = ROOT / "data" / "fasoracetam_nfc1" / "subjects.csv"
    assert (tmp_path / "nfc" / "subjects.csv").read_bytes() == nfc.read_bytes()


def test_populations_per_arm(ds) -> None:
    s = ds.subjects
    by_arm = s.groupby("TRT01P")
    assert by_arm.size().to_dict() == {"Fasoracetam": 49, "Placebo": 52}
    assert by_arm["SAFFL"].apply(lambda x: (x == "Y").sum()).to_dict() == {
        "Fasoracetam": 47, "Placebo": 50}
    assert by_arm["EFFFL"].apply(lambda x: (x == "Y").sum()).to_dict() == {
        "Fasoracetam": 46, "Placebo": 50}
    assert by_arm["EOSSTAT"].apply(lambda x: (x == "COMPLETED").sum()).to_dict() == {
        "Fasoracetam": 37, "Placebo": 39}
    # the efficacy population is inside the safety population; every completer is in both
    assert not ((s["EFFFL"] == "Y") & (s["SAFFL"] != "Y")).any()
    assert (s.loc[s["EOSSTAT"] == "COMPLETED", "EFFFL"] == "Y").all()
    assert set(s.loc[s["TRT01P"] == "Fasoracetam", "DOSEGRP"]) == {100, 200, 400}
    assert set(s.loc[s["TRT01P"] == "Placebo", "DOSEGRP"]) == {0}
    assert (s["AGE"].min(), s["AGE"].max()) == (12, 17)
    # dosed subjects, and only they, have exposure; it is the dose group
    ex = ds.exposure.merge(s, on="USUBJID")
    assert set(ex["USUBJID"]) == set(s.loc[s["SAFFL"] == "Y", "USUBJID"])
    assert (ex["EXDOSE"] == ex["DOSEGRP"]).all()


def _wide(ds) -> pd.DataFrame:
    return ds.scores.pivot_table(index="USUBJID", columns=["PARAMCD", "AVISITN"],
                                 values="AVAL")


def test_scales_ranges_and_total_is_sum_of_subscales(ds) -> None:
    sc = ds.scores
    ranges = {"ADHDRS": (0, 54), "ADHDIA": (0, 27), "CGIS": (1, 7), "CGII": (1, 7)}
    for code, (lo, hi) in ranges.items():
        assert sc.loc[sc["PARAMCD"] == code, "AVAL"].between(lo, hi).all(), code
    assert sc.loc[sc["PARAMCD"] == "CGII", "AVISITN"].min() == 1  # a rating of change
    w = _wide(ds)
    hyper = w["ADHDRS"] - w["ADHDIA"]
    assert ((hyper >= 0) & (hyper <= 27) | hyper.isna()).all().all()
    # a post-baseline rating exactly for the efficacy population
    post = set(sc.loc[sc["AVISITN"] > 0, "USUBJID"])
    assert post == set(ds.subjects.loc[ds.subjects["EFFFL"] == "Y", "USUBJID"])


def _responders(ds) -> pd.DataFrame:
    """Per arm, over the modified ITT (a missing week-6 rating is a non-response):
    inattention 10 * week 6 <= 7 * baseline (30% improvement, in whole numbers), CGI-I 1-2."""
    w = _wide(ds)
    s = ds.subjects.set_index("USUBJID")
    mitt = s[s["EFFFL"] == "Y"]
    ia0, ia6 = w[("ADHDIA", 0)].reindex(mitt.index), w[("ADHDIA", 6)].reindex(mitt.index)
    ia = (10 * ia6 <= 7 * ia0) & ia6.notna()
    cg = w[("CGII", 6)].reindex(mitt.index).isin([1, 2])
    return pd.DataFrame({"arm": mitt["TRT01P"], "ia": ia, "cg": cg}).groupby("arm").agg(
        ["sum", "count"])


def test_responder_counts_round_to_the_published_percentages(ds) -> None:
    r = _responders(ds)
    assert (r.loc["Fasoracetam", ("ia", "sum")], r.loc["Fasoracetam", ("ia", "count")]) == (
        32, 46)
    assert (r.loc["Placebo", ("ia", "sum")], r.loc["Placebo", ("ia", "count")]) == (21, 50)
    assert (r.loc["Fasoracetam", ("cg", "sum")], r.loc["Placebo", ("cg", "sum")]) == (26, 16)
    assert round(100 * 32 / 46) == 70 and 100 * 21 / 50 == 42 and round(100 * 26 / 46) == 57
    # 33% of 50 is no whole number of subjects: the nearest are 32% and 34%
    assert [k for k in range(51) if round(100 * k / 50) == 33] == []


def test_published_p_values_from_the_counts_by_pearson_chi_square(ds) -> None:
    p_ia = sps.chi2_contingency(np.array([[32, 14], [21, 29]]), correction=False)[1]
    p_cg = sps.chi2_contingency(np.array([[26, 20], [16, 34]]), correction=False)[1]
    assert f"{p_ia:.4f}" == "0.0067" and f"{p_cg:.4f}" == "0.0155"
    # with 17 placebo responders (34%) the p would not be the published one
    p_17 = sps.chi2_contingency(np.array([[26, 20], [17, 33]]), correction=False)[1]
    assert f"{p_17:.4f}" != "0.0155"


def test_primary_ancova_on_adhdrs_change_not_significant(ds) -> None:
    w = _wide(ds)
    s = ds.subjects.set_index("USUBJID")
    frame = pd.DataFrame({"arm": s["TRT01P"], "base": w[("ADHDRS", 0)],
                          "chg": w[("ADHDRS", 6)] - w[("ADHDRS", 0)],
                          "eff": s["EFFFL"]}).dropna()
    frame = frame[frame["eff"] == "Y"]
    fit = smf.ols("chg ~ C(arm, Treatment('Placebo')) + base", data=frame).fit()
    assert len(frame) == 37 + 39
    assert fit.pvalues.iloc[1] >= 0.05


def test_disposition_and_adverse_events_agree(ds) -> None:
    """Each subject discontinued for an adverse event has an event that led to withdrawal of
    study drug, on drug (onset not after its last dose day); no one else has such an event,
    and the events of the other subjects are those drawn at the AE rate (63)."""
    s, ae, ex = ds.subjects, ds.adverse_events, ds.exposure
    for_ae = set(s.loc[s["DCSREAS"] == "ADVERSE EVENT", "USUBJID"])
    withdrawn = ae[ae["AEACN"] == "DRUG WITHDRAWN"]
    assert len(for_ae) == 9
    assert set(withdrawn["USUBJID"]) == for_ae and len(withdrawn) == 9
    last = withdrawn["USUBJID"].map(ex.set_index("USUBJID")["EXENDY"])
    assert (withdrawn["ASTDY"] <= last).all() and (withdrawn["ASTDY"] >= 1).all()
    assert len(ae) == 63 + 6  # six of the nine had no event and were given one
    assert set(ae["AEACN"]) == {"DOSE NOT CHANGED", "DRUG WITHDRAWN"}
