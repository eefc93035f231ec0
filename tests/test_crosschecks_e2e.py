"""Deliveries that lack columns or contradict themselves, through the real workflow by config
alone: the three-arm ADaM fixture (tests/adam_fixtures.py, written as XPT by the project's
writer) without an end-of-study status, with AEACN empty for every event, an open exposure
record, a treatment duration in ADSL, and records that disagree across datasets. With the
defaults the run goes through and says all of it; with ``validation: consistency: refuse``
and ``open_exposure: refuse`` the same data are refused, naming every record."""

from __future__ import annotations

import re

import adam_fixtures as fx
import numpy as np
import pandas as pd
import pytest

from conftest import copy_repository, run_snakemake

pytestmark = pytest.mark.e2e

WARN, REFUSE = "checks_warn", "checks_refuse"
U = fx._usubjid


def _frames(close_3005: bool) -> dict[str, pd.DataFrame]:
    frames = fx.three_arm_adam()
    adsl, adae, adex = frames["adsl"], frames["adae"], frames["adex"]
    adsl = frames["adsl"] = adsl.drop(columns=["EOSSTT"])  # no end-of-study status at all
    # TRTDURD as the dosing records give it (first day 1), but 1001's one day shorter than
    # its record, and 3005 (open record, still on drug) 150 days, or none
    last = adex.set_index("USUBJID")["EXENDY"]
    adsl["TRTDURD"] = adsl["USUBJID"].map(last)
    adsl.loc[adsl["USUBJID"] == U("1001"), "TRTDURD"] = last[U("1001")] - 1
    adsl.loc[adsl["USUBJID"] == U("3005"), "TRTDURD"] = 150.0 if close_3005 else np.nan
    adsl.loc[adsl["USUBJID"] == U("1006"), "DCSREAS"] = "DEATH"  # no adverse event at all
    adae["AEACN"] = ""  # action taken: empty for every event
    # 2005 stopped on day 58 (its last rating on day 56 or 57): an onset on day 59 is after
    adae.loc[adae["AETERM"] == "Vomiting", ["ASTDY", "AENDY"]] = 59.0, 60.0
    adae.loc[adae["AETERM"] == "Itching", "TRTEMFL"] = ""  # no onset day, no flag
    return frames


def _config(name: str, data_dir: str, validation: str) -> str:
    text = fx.THREE_ARM_CONFIG(data_dir).replace("    columns: {EOSSTT: EOSSTAT}\n", "")
    text = text.replace("validation:\n  missing_baseline: exclude\n",
                        f"validation:\n  missing_baseline: exclude\n{validation}")
    assert validation in text and "EOSSTT" not in text
    return text.replace('title: "CDISC-pilot-like', f'title: "{name}: CDISC-pilot-like')


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    repo = copy_repository(tmp_path_factory.mktemp("clone") / "repo")
    fx.write_datasets(_frames(close_3005=True), repo / "warn")
    fx.write_datasets(_frames(close_3005=False), repo / "refuse")
    indent = lambda text: "\n".join("    " + line for line in text.splitlines())  # noqa: E731
    refuse = "  consistency: refuse\n  open_exposure: refuse\n"
    (repo / "mytrials.yaml").write_text(
        f"trials:\n  {WARN}:\n{indent(_config(WARN, 'warn', ''))}\n"
        f"  {REFUSE}:\n{indent(_config(REFUSE, 'refuse', refuse))}\n", encoding="utf-8")
    proc = run_snakemake(repo, f"results/{WARN}/report.html", f"results/{REFUSE}/ard.csv",
                         "--configfile", "mytrials.yaml", "--keep-going", timeout=1200)
    return repo, proc


def _read(repo, trial, name) -> pd.DataFrame:
    return pd.read_csv(repo / "results" / trial / name, dtype=str, keep_default_na=False)


def test_defaults_run_through_and_list_every_finding(run):
    repo, proc = run
    assert (repo / "results" / WARN / "report.html").exists(), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    w = _read(repo, WARN, "validation/warnings.csv")
    found = sorted(zip(w["rule"], w["value"], w["severity"], strict=True))
    assert found == sorted([
        ("death_has_fatal_ae", f"USUBJID={U('1006')}; DCSREAS=DEATH", "warning"),
        ("ae_onset_within_contact", f"USUBJID={U('2005')}; ASTDY=59", "warning"),
        ("exposure_within_treatment", f"USUBJID={U('1001')}; EXENDY="
         f"{int(fx.three_arm_adam()['adex'].set_index('USUBJID')['EXENDY'][U('1001')])}",
         "warning"),
        ("open_exposure", f"USUBJID={U('3005')}; EXSTDY=1; EXENDY=", "note"),
        ("onset_missing_counted_emergent", f"USUBJID={U('2003')}; AEDECOD=PRURITUS; ASTDY=",
         "note"),
        # the fixture's event e09 has no AEREL: counted as related, and said so
        ("aerel_missing_counted_related", f"USUBJID={U('2004')}; AEDECOD=DIZZINESS; AEREL=",
         "note"),
    ])
    note = w.loc[w["rule"] == "open_exposure", "message"].iloc[0]
    assert "closed at day 150, the subject's last dose day (TRTDURD" in note


def test_open_record_counts_to_the_treatment_end_not_the_study_end(run):
    repo, _ = run
    ard = _read(repo, WARN, "ard.csv")
    ex = fx.three_arm_adam()["adex"]
    high = ex[ex["EXDOSE"] == 100]
    # 3005 closed at day 150 (TRTDURD), not at the study's day 168
    expected = (high["EXENDY"].fillna(150) - high["EXSTDY"] + 1).sum()
    row = ard[(ard["analysis"] == "dose_exposure") & (ard["parameter"] == "DAYS_AT_DOSE 100")
              & (ard["group"] == "Total") & (ard["statistic"] == "subject_days")]
    assert row["value"].tolist() == [str(int(expected))]
    assert row["value"].tolist() != [str(int((high["EXENDY"].fillna(168)
                                              - high["EXSTDY"] + 1).sum()))]


def test_undelivered_columns_are_not_collected_in_ard_tables_and_report(run):
    repo, _ = run
    ard = _read(repo, WARN, "ard.csv")
    disp = ard[(ard["analysis"] == "disposition")
               & ard["parameter"].isin(["COMPLETED", "DISCONTINUED"])]
    assert len(disp) == 16 and (disp["value"] == "").all()  # n, %: 3 arms and Total
    assert set(disp["method"]) == {"not collected: no EOSSTAT in the subjects data"}
    acn = ard[(ard["analysis"] == "ae_overview") & (ard["parameter"] == "DISCONTINUATION")]
    assert len(acn) == 12 and (acn["value"] == "").all()
    assert set(acn["method"]) == {"not collected: no AEACN in the adverse events data"}
    table = _read(repo, WARN, "tables/disposition.csv").set_index("Status")
    assert table.loc["Completed"].tolist() == ["not collected"] * 4
    assert table.loc["Discontinued"].tolist() == ["not collected"] * 4
    overview = _read(repo, WARN, "tables/ae_overview.csv").set_index("Category")
    label = [c for c in overview.index if "leading to discontinuation" in c]
    assert overview.loc[label[0]].tolist() == ["not collected"] * 4
    html = (repo / "results" / WARN / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&quot;", '"')
    assert "no EOSSTAT in the subjects data, so the table shows" in text
    assert "no AEACN in the adverse events data, so the table shows" in text
    assert "Records completed by a rule" in text
    assert "Rows not collected, because the trial does not deliver the column" in text
    for subject in ("1006", "2005", "1001", "3005", "2003"):
        assert U(subject) in text


def test_refuse_stops_the_trial_and_names_every_record(run):
    repo, proc = run
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    out = repo / "results" / REFUSE
    assert not (out / "ard.csv").exists() and not (out / "validated").exists() or \
        not any((out / "validated").glob("*.parquet"))
    f = _read(repo, REFUSE, "validation/failures.csv")
    errors = f[f["severity"] == "error"]
    assert sorted(errors["rule"]) == sorted(["death_has_fatal_ae", "ae_onset_within_contact",
                                             "exposure_within_treatment", "open_exposure"])
    opened = errors[errors["rule"] == "open_exposure"].iloc[0]
    assert opened["value"] == f"USUBJID={U('3005')}; EXSTDY=1; EXENDY="
    assert opened["file"] == "refuse/adex.xpt" and opened["column"] == "EXENDY"
    assert "validation: open_exposure: flag" in opened["message"]
    death = errors[errors["rule"] == "death_has_fatal_ae"].iloc[0]
    assert "validation: consistency: warn" in death["message"]
