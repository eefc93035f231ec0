"""A hand-made three-arm trial for the safety, demographic, disposition and exposure tests.

Arms: "Arm A" (A1-A3), "Arm B" (B1, B2; B3 is not in the safety population and was never
treated), "Arm C" (C1-C4, placebo). Safety population N: A 3, B 2, C 4, Total 9.

Adverse events (SOC: GI gastrointestinal, NS nervous system, SK skin, CA cardiac):

    e1  A1 NS Headache      MILD      NOT RELATED       day 2
    e2  A1 NS Headache      MODERATE  POSSIBLY RELATED  day 5
    e3  A1 NS Headache      MILD      NOT RELATED       day 9   (three events, one term)
    e4  A1 GI Nausea        (missing) NOT RELATED       day 3   (missing severity)
    e5  A2 GI Nausea        SEVERE    PROBABLY RELATED  day 4   serious, drug withdrawn
    e6  A3 NS Dizziness     MILD      UNLIKELY RELATED  day 2   before A3's first dose (day 3)
    e7  B1 NS Dizziness     MILD      RELATED           day 1
    e8  B1 SK Rash          (missing) (missing)         day 6
    e9  B2 GI Vomiting      MODERATE  NOT RELATED       day 2
    e10 B2 NS Dizziness     MILD      NOT RELATED       day 5
    e11 B3 NS Headache      SEVERE    RELATED           day 3   not in the safety population
    e12 C1 NS Headache      MILD      NOT RELATED       day 3
    e13 C1 NS Dizziness     MILD      NOT RELATED       day 20  TRTEMFL = N in the data
    e14 C2 GI Nausea        MILD      NOT RELATED       day 3
    e15 C2 GI Vomiting      MILD      NOT RELATED       day 4
    e16 C3 SK Rash          MODERATE  POSSIBLY RELATED  day 10
    e17 C3 CA Palpitations  MILD      NOT RELATED       day 12

C4 and A3 have no treatment-emergent event. Every expected count in the tests is worked
out by hand from this listing.
"""

from __future__ import annotations

import pandas as pd

GI = "Gastrointestinal disorders"
NS = "Nervous system disorders"
SK = "Skin and subcutaneous tissue disorders"
CA = "Cardiac disorders"
NA = None

TRIAL = {
    "design": {
        "description": "three-arm fixture",
        "dose_unit": "mg",
        "dose_levels": [0, 10, 20, 40],
        "periods": [{"name": "TREATMENT", "label": "Treatment", "first_day": 1,
                     "last_day": 28}],
        "parameters": {"SCORE": {"label": "Score", "min": 0, "max": 10,
                                 "baseline_visit": 0, "comparison_visit": 1}},
        "visits": [{"name": "Baseline", "number": 0}, {"name": "End", "number": 1}],
    }
}


def subjects() -> pd.DataFrame:
    rows = [
        # USUBJID, TRT01P, AGE, SEX, RACE, SAFFL, EOSSTAT, DCSREAS
        ("A1", "Arm A", 30, "F", "WHITE", "Y", "COMPLETED", NA),
        ("A2", "Arm A", 40, "M", "ASIAN", "Y", "DISCONTINUED", "ADVERSE EVENT"),
        ("A3", "Arm A", 50, "F", "WHITE", "Y", "COMPLETED", NA),
        ("B1", "Arm B", 20, "M", "WHITE", "Y", "COMPLETED", NA),
        ("B2", "Arm B", 25, "M", NA, "Y", "DISCONTINUED", "WITHDRAWAL BY SUBJECT"),
        ("B3", "Arm B", 60, "F", "WHITE", "N", "DISCONTINUED", "ADVERSE EVENT"),
        ("C1", "Arm C", 30, "F", "WHITE", "Y", "COMPLETED", NA),
        ("C2", "Arm C", 35, "F", "ASIAN", "Y", "COMPLETED", NA),
        ("C3", "Arm C", 40, "M", "WHITE", "Y", "COMPLETED", NA),
        ("C4", "Arm C", 45, "F", "WHITE", "Y", "DISCONTINUED", "LACK OF EFFICACY"),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "TRT01P", "AGE", "SEX", "RACE", "SAFFL",
                                        "EOSSTAT", "DCSREAS"])
    frame["EFFFL"] = frame["SAFFL"]
    return frame.astype({c: "string" for c in frame.columns if c != "AGE"})


def exposure() -> pd.DataFrame:
    rows = [
        ("A1", 10, 1, 14), ("A1", 20, 15, 28), ("A2", 10, 1, 28), ("A3", 10, 3, 28),
        ("B1", 20, 1, 28), ("B2", 20, 1, 7), ("B2", 40, 8, 28),
        ("C1", 0, 1, 28), ("C2", 0, 1, 28), ("C3", 0, 1, 28), ("C4", 0, 1, 28),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "EXDOSE", "EXSTDY", "EXENDY"])
    frame["APHASE"] = "TREATMENT"
    frame["EXTRT"] = "DRUG"
    return frame


def adverse_events() -> pd.DataFrame:
    rows = [
        # USUBJID, AEBODSYS, AEDECOD, AESEV, AEREL, ASTDY, AESER, AEACN, TRTEMFL
        ("A1", NS, "Headache", "MILD", "NOT RELATED", 2, "N", "DOSE NOT CHANGED", NA),
        ("A1", NS, "Headache", "MODERATE", "POSSIBLY RELATED", 5, "N", "DOSE NOT CHANGED", NA),
        ("A1", NS, "Headache", "MILD", "NOT RELATED", 9, "N", "DOSE NOT CHANGED", NA),
        ("A1", GI, "Nausea", NA, "NOT RELATED", 3, "N", "DOSE NOT CHANGED", NA),
        ("A2", GI, "Nausea", "SEVERE", "PROBABLY RELATED", 4, "Y", "DRUG WITHDRAWN", NA),
        ("A3", NS, "Dizziness", "MILD", "UNLIKELY RELATED", 2, "N", "DOSE NOT CHANGED", NA),
        ("B1", NS, "Dizziness", "MILD", "RELATED", 1, "N", "DOSE NOT CHANGED", NA),
        ("B1", SK, "Rash", NA, NA, 6, "N", "DOSE NOT CHANGED", NA),
        ("B2", GI, "Vomiting", "MODERATE", "NOT RELATED", 2, "N", "DOSE NOT CHANGED", NA),
        ("B2", NS, "Dizziness", "MILD", "NOT RELATED", 5, "N", "DOSE NOT CHANGED", NA),
        ("B3", NS, "Headache", "SEVERE", "RELATED", 3, "N", "DOSE NOT CHANGED", NA),
        ("C1", NS, "Headache", "MILD", "NOT RELATED", 3, "N", "DOSE NOT CHANGED", NA),
        ("C1", NS, "Dizziness", "MILD", "NOT RELATED", 20, "N", "DOSE NOT CHANGED", "N"),
        ("C2", GI, "Nausea", "MILD", "NOT RELATED", 3, "N", "DOSE NOT CHANGED", NA),
        ("C2", GI, "Vomiting", "MILD", "NOT RELATED", 4, "N", "DOSE NOT CHANGED", NA),
        ("C3", SK, "Rash", "MODERATE", "POSSIBLY RELATED", 10, "N", "DOSE NOT CHANGED", NA),
        ("C3", CA, "Palpitations", "MILD", "NOT RELATED", 12, "N", "DOSE NOT CHANGED", NA),
    ]
    frame = pd.DataFrame(rows, columns=["USUBJID", "AEBODSYS", "AEDECOD", "AESEV", "AEREL",
                                        "ASTDY", "AESER", "AEACN", "TRTEMFL"])
    frame["AETERM"] = frame["AEDECOD"].str.lower()
    frame["APHASE"] = "TREATMENT"
    return frame.astype({c: "string" for c in frame.columns if c != "ASTDY"})


def efficacy() -> pd.DataFrame:
    """Baseline scores (ABLFL = Y): A1 4, A2 6, A3 missing; B1 5, B2 7, B3 9; C 2,3,4,5."""
    scores = {"A1": 4, "A2": 6, "B1": 5, "B2": 7, "B3": 9, "C1": 2, "C2": 3, "C3": 4, "C4": 5}
    rows = [(s, "SCORE", 0, float(v), "Y") for s, v in scores.items()]
    return pd.DataFrame(rows, columns=["USUBJID", "PARAMCD", "AVISITN", "AVAL", "ABLFL"])
