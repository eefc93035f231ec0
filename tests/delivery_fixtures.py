"""Two real-world deliveries, written by the project's own writers, each with its config
entry as a user writes it from README.md:

- ``write_plain``: a non-ADaM efficacy delivery, two CSV files in the sponsor's own words:
  subjects (subject, group, sex) and ratings, one long file (subject, visit number, study
  day, score, baseline score, change); no population flags, no visit names, no parameter
  column. Subject A06 has no baseline rating (its rows carry no baseline and no change).
- ``write_r_mixed``: ADSL and ADAE as R's datasetjson writes Dataset-JSON v1.1 (numbers as
  text padded with blanks, every missing value ``"NA"``, TRTEMFL as Y or NA), with ADQS as
  SAS transport (TRTSDT a SAS date number, AGE a number, both repeated from ADSL); no
  exposure data.

No value is edited after writing; the tests read the frames here for their hand counts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from datasetjson_writer import write_datasetjson
from xpt_writer import write_xpt

from trialreport.common.frames import write_csv

PLAIN_ID = "plain_efficacy"
R_MIXED_ID = "r_mixed"
VISITS = (0, 2, 4, 6)
DAYS = {0: 1, 2: 15, 4: 29, 6: 43}


def plain_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subjects and ratings of the non-ADaM delivery, in the sponsor's column names."""
    ids = [f"P0{i}" for i in range(1, 7)] + [f"A0{i}" for i in range(1, 7)]
    subjects = pd.DataFrame({
        "Subject": ids,
        "Group": ["Placebo"] * 6 + ["Active"] * 6,
        "Sex": ["M", "F"] * 6,
    })
    rows = []
    for n, subject in enumerate(ids):
        i = n % 6 + 1
        active = subject.startswith("A")
        base = (32 if active else 30) + i
        for visit in VISITS:
            if subject == "A06" and visit == 0:
                continue  # no baseline rating
            change = 0 if visit == 0 else (-(visit + 2 + i % 3) if active
                                           else -(visit // 2 + i % 2))
            score = base + change
            no_base = subject == "A06"
            rows.append({"Subject": subject, "VisitNo": visit,
                         "Day": DAYS[visit] + (i % 3 - 1) * (visit > 0),
                         "Score": score,
                         "Baseline": "" if no_base else base,
                         "Change": "" if no_base or visit == 0 else change})
    return subjects, pd.DataFrame(rows)


def write_plain(directory: Path) -> dict[str, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    subjects, ratings = plain_frames()
    write_csv(subjects, directory / "subjects.csv")
    write_csv(ratings, directory / "ratings.csv")
    return {"subjects": directory / "subjects.csv", "scores": directory / "ratings.csv"}


def PLAIN_CONFIG(data_dir) -> str:  # noqa: N802 (a constant-like name)
    """The entry a user writes for ``write_plain`` from README.md ("A delivery that is not
    ADaM")."""
    d = Path(data_dir).as_posix()
    return f"""\
title: "Two-arm efficacy delivery in plain CSV (fixture)"
synthetic: true
data_notice: "Hand-made test data in a sponsor's own column names; not the data of any trial."
data:
  subjects:
    path: {d}/subjects.csv
    columns: {{Subject: USUBJID, Group: TRT01P, Sex: SEX}}
  scores:
    path: {d}/ratings.csv
    columns: {{Subject: USUBJID, VisitNo: AVISITN, Day: ADY, Score: AVAL,
              Baseline: BASE, Change: CHG}}
design:
  description: "6-week, randomised, two parallel arms"
  populations:
    SAFFL: randomized
    EFFFL: {{randomized: true, has_baseline: true}}
  visits:
    - {{name: Baseline, number: 0, day: 1}}
    - {{name: Week 2, number: 2, day: 15}}
    - {{name: Week 4, number: 4, day: 29}}
    - {{name: Week 6, number: 6, day: 43}}
  parameters:
    ADHDRS: {{label: "ADHD-RS", min: 0, max: 54, integer: true, baseline_visit: 0,
              comparison_visit: 6}}
validation:
  missing_baseline: exclude
analyses:
  parallel: {{reference_arm: Placebo}}
reproduction:
  on_mismatch: report
  targets:
    - {{id: participants, description: "Participants", statistic: n_subjects, published: "12"}}
"""


# ---------------------------------------------------------------------------------------
# R-written Dataset-JSON with SAS transport
# ---------------------------------------------------------------------------------------

R_IDS = [f"R-{i}" for i in range(1, 9)]
SAS_DAY = {f"R-{i}": 19724 + i for i in range(1, 9)}  # TRTSDT 2014-01-01 + i - 1 days


def r_frames() -> dict[str, pd.DataFrame]:
    arm = ["Placebo"] * 4 + ["Active"] * 4
    iso = [(pd.Timestamp("1960-01-01") + pd.Timedelta(days=SAS_DAY[s])).strftime("%Y-%m-%d")
           for s in R_IDS]
    adsl = pd.DataFrame({
        "USUBJID": R_IDS, "TRT01P": arm,
        "AGE": np.array([34, 41, 29, 55, 47, 38, 62, 50], dtype=float),
        "SEX": ["F", "M", "F", "M", "M", "F", "F", "M"],
        "SAFFL": ["Y"] * 8, "EFFFL": ["Y"] * 8,
        "TRTSDT": iso,
        "EOSSTAT": ["COMPLETED"] * 3 + ["DISCONTINUED"] + ["COMPLETED"] * 4,
        "DCSREAS": [None, None, None, "ADVERSE EVENT", None, None, None, None],
        "HEIGHT": [1.62, 1.80, None, 1.75, 1.69, 1.58, 1.71, 1.77],
        "WEIGHT": [61.2, 102.5, 58.0, 77.7, 95.1, 49.9, 110.0, 83.4],
    })
    ae = [  # USUBJID, term, SOC, severity, serious, relation, onset day, TRTEMFL
        ("R-1", "HEADACHE", "NERVOUS SYSTEM DISORDERS", "MILD", "N", "NOT RELATED", 3, "Y"),
        ("R-2", "NAUSEA", "GASTROINTESTINAL DISORDERS", "MODERATE", "N", "RELATED", -2, None),
        ("R-4", "RASH", "SKIN AND SUBCUTANEOUS TISSUE DISORDERS", "SEVERE", "Y",
         "POSSIBLY RELATED", 10, "Y"),
        ("R-5", "HEADACHE", "NERVOUS SYSTEM DISORDERS", "MILD", "N", "RELATED", 5, "Y"),
        ("R-5", "DIZZINESS", "NERVOUS SYSTEM DISORDERS", "MILD", "N", "NOT RELATED", 12, "Y"),
        ("R-7", "NAUSEA", "GASTROINTESTINAL DISORDERS", "MILD", "N", "NOT RELATED", -5, None),
        ("R-8", "INSOMNIA", "PSYCHIATRIC DISORDERS", "MODERATE", "N", "RELATED", 20, "Y"),
    ]
    adae = pd.DataFrame(ae, columns=["USUBJID", "AETERM", "AEBODSYS", "AESEV", "AESER",
                                     "AEREL", "ASTDY", "TRTEMFL"])
    adae.insert(2, "AEDECOD", adae["AETERM"])
    adae["ASTDY"] = adae["ASTDY"].astype("int64")
    subject = dict(zip(R_IDS, range(8), strict=True))
    adae["AGE"] = [adsl["AGE"][subject[s]] for s in adae["USUBJID"]]
    adae["TRTSDT"] = [iso[subject[s]] for s in adae["USUBJID"]]
    rows = []
    for s in R_IDS:
        k = subject[s]
        base = 20.0 + k
        for visit, day in ((0, 1), (4, 29), (8, 57)):
            aval = base - (visit // 4) * (3 if k >= 4 else 1) - k % 2
            aval = base if visit == 0 else aval
            rows.append({"USUBJID": s, "PARAMCD": "HAMD", "AVISIT":
                         {0: "Baseline", 4: "Week 4", 8: "Week 8"}[visit],
                         "AVISITN": float(visit), "ADY": float(day), "AVAL": aval,
                         "BASE": base, "CHG": np.nan if visit == 0 else aval - base,
                         "TRTSDT": float(SAS_DAY[s]), "AGE": adsl["AGE"][k]})
    return {"adsl": adsl, "adae": adae, "adqs": pd.DataFrame(rows)}


def write_r_mixed(directory: Path) -> dict[str, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    f = r_frames()
    write_datasetjson(f["adsl"], directory / "adsl.json", "ADSL", r_style=True,
                      data_types={"TRTSDT": "date", "HEIGHT": "decimal"})
    write_datasetjson(f["adae"], directory / "adae.json", "ADAE", r_style=True,
                      data_types={"TRTSDT": "date"})
    write_xpt(f["adqs"], directory / "adqs.xpt", "ADQS")
    return {n: directory / p for n, p in (("subjects", "adsl.json"),
                                          ("adverse_events", "adae.json"),
                                          ("scores", "adqs.xpt"))}


def R_MIXED_CONFIG(data_dir) -> str:  # noqa: N802 (a constant-like name)
    """The entry a user writes for ``write_r_mixed`` from README.md."""
    d = Path(data_dir).as_posix()
    return f"""\
title: "R-written Dataset-JSON with SAS transport (fixture)"
synthetic: true
data_notice: >-
  Hand-made test data in the shape of an R-written ADaM delivery; not the data of any trial.
data:
  subjects: {{path: {d}/adsl.json, text_missing_values: ["", "NA"]}}
  adverse_events: {{path: {d}/adae.json, text_missing_values: ["", "NA"]}}
  scores: {{path: {d}/adqs.xpt}}
design:
  description: "8-week, randomised, two parallel arms"
  study_days: [-14, 60]
  visits:
    - {{name: Baseline, number: 0, day: 1}}
    - {{name: Week 4, number: 4, day: 29}}
    - {{name: Week 8, number: 8, day: 57}}
  parameters:
    HAMD: {{label: "HAM-D", min: 0, max: 52, integer: true, baseline_visit: 0,
            comparison_visit: 8}}
analyses:
  parallel: {{reference_arm: Placebo}}
reproduction:
  on_mismatch: report
  targets:
    - {{id: participants, description: "Participants", statistic: n_subjects, published: "8"}}
"""
