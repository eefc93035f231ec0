"""Sponsor-style CDISC ADaM fixtures, with the quirks real deliveries have, and answers
counted by hand.

Two trials, both made from the literal tables below (no randomness):

``three_arm_adam()``: "CDISCPILOT-LIKE", a 24-week, three-arm parallel-group trial of the
ADAS-Cog(11) total score, with ADSL, ADQS, ADAE and ADEX. 24 subjects, 8 per arm:

    Placebo   (TRT01PN 0): SUBJID 1001-1008
    Low Dose  (TRT01PN 1): SUBJID 2001-2008    sorted by name the arms read High, Low,
    High Dose (TRT01PN 2): SUBJID 3001-3008    Placebo: not the TRT01PN order

USUBJID is "01-<SITEID>-<SUBJID>", so a listing sorted by USUBJID interleaves the arms by
site. In every arm the 1st-3rd subjects are at site 701, the 4th-6th at 702, the 7th at 703
and the 8th at 704; SITEGR1 pools 703 and 704 as "900" (three site groups: 701, 702, 900).

Subjects with something to notice:

    1003  Placebo    an Unscheduled ACTOT record (AVISITN 901, ANL01FL empty); a
                     pre-treatment event (ASTDY -10, TRTEMFL N)
    1006  Placebo    DISCONTINUED (LACK OF EFFICACY) after Week 16: sponsor LOCF at Week 24
    2001  Low Dose   two HEADACHE events (one subject, two events)
    2002  Low Dose   an out-of-window duplicate Week 8 ACTOT record (ADY 71, AVAL 36,
                     ANL01FL empty) beside the analysed one (ADY 57, AVAL 31)
    2003  Low Dose   PRURITUS with AESEV missing and a partial onset date (ASTDY missing,
                     ASTDTF "D")
    2004  Low Dose   DIZZINESS with AEREL missing (counts as related)
    2005  Low Dose   DISCONTINUED (ADVERSE EVENT) after Week 8: sponsor LOCF at Weeks 16, 24
    2006  Low Dose   a pre-treatment event (ASTDY -3, TRTEMFL N)
    2007  Low Dose   EFFFL = N although every ACTOT visit was rated (Week 24 AVAL 60): a
                     dropped efficacy filter changes the Week 24 means
    3002  High Dose  the one SEVERE event (SINUS BRADYCARDIA)
    3003  High Dose  RASH with a partial onset date (ASTDY missing, ASTDTF "M")
    3004  High Dose  COMPLETED but missed Week 16: sponsor LOCF at Week 16 only
    3005  High Dose  COMPLETED and rolled into the open-label extension: EXENDY missing
    3006  High Dose  DISCONTINUED (WITHDRAWAL BY SUBJECT) after Week 16: sponsor LOCF at Week 24
    3007  High Dose  the one serious event (SYNCOPE, day 2); DISCONTINUED (ADVERSE EVENT) after
                     baseline: the sponsor carried the BASELINE value to Weeks 8, 16 and 24
    3008  High Dose  SAFFL = N, EFFFL = N: randomised, drug dispensed, no dose documented (no
                     ADEX record, no ADQS record); one AE that the sponsor flagged TRTEMFL = Y
                     on its randomisation-date rule, which must not be counted (not in the
                     safety population); DISCONTINUED (WITHDRAWAL BY SUBJECT)

Missing text is an empty string, as SAS stores it (a blank), in the frames and the files.
Missing numbers are NaN.

``efficacy_only_adam()``: "EFFICACY-ONLY", a 6-week two-arm trial of the HAM-D total with
only ADSL (no AGE, no SEX) and ADQS (no baseline record, no ABLFL: the baseline is only the
BASE column).

The ``EXPECTED_*`` answers are literals, counted by hand from the listings in this file;
``tests/test_adam_fixtures.py`` checks them against plain pandas counts of the frames.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
from xpt_writer import write_xpt

# --------------------------------------------------------------------------------------
# three-arm trial
# --------------------------------------------------------------------------------------

STUDYID = "CDISCPILOT-LIKE"
THREE_ARM_ID = "cdiscpilot_like"  # a trial id for config.yaml's `trials`
ARMS = {"Placebo": 0, "Low Dose": 1, "High Dose": 2}  # TRT01P: TRT01PN
ARM_OF = {"1": "Placebo", "2": "Low Dose", "3": "High Dose"}  # first digit of SUBJID
SITES = ("701", "701", "701", "702", "702", "702", "703", "704")  # by position in the arm
SITE_GROUP = {"701": "701", "702": "702", "703": "900", "704": "900"}  # SITEGR1
DRUG = "XANOMELINE"
DOSE = {"Placebo": 0, "Low Dose": 50, "High Dose": 100}  # EXDOSE, mg
LAST_DAY = 168

BLACK = "BLACK OR AFRICAN AMERICAN"

_ADSL = [
    # SUBJID, AGE, SEX, RACE, SAFFL, EFFFL, EOSSTT, DCSREAS
    ("1001", 63, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("1002", 76, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("1003", 81, "F", BLACK, "Y", "Y", "COMPLETED", ""),
    ("1004", 71, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("1005", 84, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("1006", 68, "F", "WHITE", "Y", "Y", "DISCONTINUED", "LACK OF EFFICACY"),
    ("1007", 59, "M", "ASIAN", "Y", "Y", "COMPLETED", ""),
    ("1008", 77, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("2001", 72, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("2002", 80, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("2003", 65, "F", BLACK, "Y", "Y", "COMPLETED", ""),
    ("2004", 86, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("2005", 74, "F", "WHITE", "Y", "Y", "DISCONTINUED", "ADVERSE EVENT"),
    ("2006", 57, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("2007", 79, "F", "WHITE", "Y", "N", "COMPLETED", ""),
    ("2008", 70, "M", "ASIAN", "Y", "Y", "COMPLETED", ""),
    ("3001", 75, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("3002", 88, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("3003", 62, "F", BLACK, "Y", "Y", "COMPLETED", ""),
    ("3004", 78, "M", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("3005", 69, "F", "WHITE", "Y", "Y", "COMPLETED", ""),
    ("3006", 83, "F", "WHITE", "Y", "Y", "DISCONTINUED", "WITHDRAWAL BY SUBJECT"),
    ("3007", 73, "M", "WHITE", "Y", "Y", "DISCONTINUED", "ADVERSE EVENT"),
    ("3008", 66, "F", "WHITE", "N", "N", "DISCONTINUED", "WITHDRAWAL BY SUBJECT"),
]

# ADAS-Cog(11) total (0-70, higher is worse) observed at Baseline, Week 8, Week 16, Week 24;
# None: the visit was missed (the sponsor added a DTYPE = "LOCF" record for it). 3008 has
# no ADQS record at all.
_ACTOT = {
    "1001": (20, 21, 22, 23),
    "1002": (30, 30, 31, 33),
    "1003": (15, 16, 16, 18),
    "1004": (40, 41, 43, 44),
    "1005": (25, 24, 26, 27),
    "1006": (35, 36, 38, None),   # LOCF Week 24 = 38 (Week 16)
    "1007": (22, 23, 23, 25),
    "1008": (18, 19, 20, 21),
    "2001": (28, 27, 27, 26),
    "2002": (33, 31, 30, 30),
    "2003": (19, 19, 18, 20),
    "2004": (45, 44, 42, 43),
    "2005": (26, 27, None, None),  # LOCF Week 16 = Week 24 = 27 (Week 8)
    "2006": (38, 36, 37, 35),
    "2007": (50, 52, 55, 60),     # EFFFL = N
    "2008": (22, 21, 21, 22),
    "3001": (24, 22, 21, 20),
    "3002": (36, 35, 33, 34),
    "3003": (29, 27, 28, 26),
    "3004": (42, 40, None, 38),   # LOCF Week 16 = 40 (Week 8)
    "3005": (17, 16, 15, 15),
    "3006": (31, 30, 29, None),   # LOCF Week 24 = 29 (Week 16)
    "3007": (27, None, None, None),  # LOCF Weeks 8, 16, 24 = 27 (the baseline)
}

# ACTOT records that must not be analysed (ANL01FL empty): SUBJID, AVISIT, AVISITN, ADY, AVAL
_ACTOT_EXTRA = [
    ("1003", "Unscheduled", 901, 80, 17),
    ("2002", "Week 8", 8, 71, 36),  # out of window; the analysed Week 8 is ADY 57, AVAL 31
]

# CIBIC+ (1-7, a rating of change): post-baseline only, at every visit where ACTOT was
# observed (not the Unscheduled visit, not the duplicate): the arm's value at the visit,
# shifted by the subject's place in its arm (positions 1-8: -1, 0, +1, -1, 0, +1, -1, 0)
# so that ratings vary within an arm
_CIBIC = {"Placebo": (4, 4, 5), "Low Dose": (4, 3, 4), "High Dose": (3, 3, 3)}
_CIBIC_SHIFT = (-1, 0, 1, -1, 0, 1, -1, 0)

NS = "NERVOUS SYSTEM DISORDERS"
GI = "GASTROINTESTINAL DISORDERS"
SKIN = "SKIN AND SUBCUTANEOUS TISSUE DISORDERS"
CARD = "CARDIAC DISORDERS"
INF = "INFECTIONS AND INFESTATIONS"
NA = float("nan")

_ADAE = [
    # e#, SUBJID, AETERM, AEDECOD, AEBODSYS, AESEV, AESER, AEREL, ASTDY, ASTDTF, AENDY,
    # TRTEMFL
    ("e01", "1001", "Dizzy on standing", "DIZZINESS", NS, "MILD", "N", "REMOTE", 12, "", 15, "Y"),
    ("e02", "1002", "Nausea", "NAUSEA", GI, "MILD", "N", "NONE", 30, "", 32, "Y"),
    ("e03", "1003", "Common cold", "NASOPHARYNGITIS", INF, "MILD", "N", "NONE", -10, "", -4, "N"),
    ("e04", "1004", "Loose stools", "DIARRHOEA", GI, "MODERATE", "N", "POSSIBLE", 45, "", NA, "Y"),
    ("e05", "2001", "Headache", "HEADACHE", NS, "MILD", "N", "POSSIBLE", 3, "", 4, "Y"),
    ("e06", "2001", "Headache, worse", "HEADACHE", NS, "MODERATE", "N", "POSSIBLE", 20, "", 22,
     "Y"),
    ("e07", "2002", "Nauseous", "NAUSEA", GI, "MILD", "N", "PROBABLE", 8, "", 10, "Y"),
    ("e08", "2003", "Itching", "PRURITUS", SKIN, "", "N", "NONE", NA, "D", NA, "Y"),
    ("e09", "2004", "Light-headed", "DIZZINESS", NS, "MILD", "N", "", 60, "", 61, "Y"),
    ("e10", "2005", "Vomiting", "VOMITING", GI, "MODERATE", "N", "REMOTE", 50, "", 51, "Y"),
    ("e11", "2006", "Head cold", "NASOPHARYNGITIS", INF, "MILD", "N", "NONE", -3, "", 5, "N"),
    ("e12", "3001", "Dizziness", "DIZZINESS", NS, "MODERATE", "N", "PROBABLE", 5, "", 9, "Y"),
    ("e13", "3001", "Nausea", "NAUSEA", GI, "MILD", "N", "PROBABLE", 5, "", 6, "Y"),
    ("e14", "3002", "Slow heart rate", "SINUS BRADYCARDIA", CARD, "SEVERE", "N", "POSSIBLE", 33,
     "", 40, "Y"),
    ("e15", "3003", "Rash on arms", "RASH", SKIN, "MILD", "N", "POSSIBLE", NA, "M", NA, "Y"),
    ("e16", "3006", "Diarrhoea", "DIARRHOEA", GI, "MILD", "N", "NONE", 90, "", 95, "Y"),
    ("e17", "3007", "Fainted", "SYNCOPE", NS, "MODERATE", "Y", "PROBABLE", 2, "", 2, "Y"),
    ("e18", "3008", "Headache", "HEADACHE", NS, "MILD", "N", "NONE", 3, "", 4, "Y"),
]
# e03, e11: began before the first dose (TRTEMFL N); e08, e15: partial onset dates (ASTDY
# missing, ASTDTF D / M); e18: 3008, not in the safety population; e04, e08, e15: AENDY
# missing (not resolved); e09: AEREL missing; e08: AESEV missing.

# Last dose day of the subjects who stopped early; a completer's last dose is on the day of
# its Week 24 visit (166, 167 or 168); 3005's is missing (still on drug); 3008 has no record.
_LAST_DOSE_EARLY = {"1006": 120, "2005": 58, "3006": 118, "3007": 2}

_VISITS = (("Baseline", 0), ("Week 8", 8), ("Week 16", 16), ("Week 24", 24))


def _position(subjid: str) -> int:
    """1-8: the subject's place in its arm."""
    return int(subjid[-1])


def _usubjid(subjid: str) -> str:
    return f"01-{SITES[_position(subjid) - 1]}-{subjid}"


def _ady(subjid: str, visitn: int) -> int:
    """Study day of a scheduled visit: 1, 56 +- 1, 112 +- 1, 166-168."""
    i = _position(subjid)
    shift = i % 3 - 1
    return {0: 1, 8: 56 + shift, 16: 112 + shift, 24: LAST_DAY - i % 3}[visitn]


def _agegr1(age: int) -> str:
    return "<65" if age < 65 else ("65-80" if age <= 80 else ">80")


def _adsl() -> pd.DataFrame:
    rows = []
    for subjid, age, sex, race, saffl, efffl, eosstt, dcsreas in _ADSL:
        arm = ARM_OF[subjid[0]]
        site = SITES[_position(subjid) - 1]
        rows.append({
            "STUDYID": STUDYID, "USUBJID": _usubjid(subjid), "SUBJID": subjid,
            "SITEID": site, "SITEGR1": SITE_GROUP[site], "TRT01P": arm,
            "TRT01PN": ARMS[arm], "AGE": age, "AGEGR1": _agegr1(age), "SEX": sex,
            "RACE": race, "SAFFL": saffl, "ITTFL": "Y", "EFFFL": efffl, "EOSSTT": eosstt,
            "DCSREAS": dcsreas,
        })
    return pd.DataFrame(rows)


def _adqs(adsl: pd.DataFrame) -> pd.DataFrame:
    subject = adsl.set_index("SUBJID")
    rows = []

    def add(subjid, paramcd, avisit, avisitn, ady, aval, base, ablfl, dtype, anl01fl):
        s = subject.loc[subjid]
        is_actot = paramcd == "ACTOT"
        rows.append({
            "STUDYID": STUDYID, "USUBJID": s["USUBJID"], "SUBJID": subjid,
            "SITEID": s["SITEID"], "SITEGR1": s["SITEGR1"], "TRTP": s["TRT01P"],
            "TRTPN": s["TRT01PN"], "AGE": s["AGE"], "SEX": s["SEX"], "EFFFL": s["EFFFL"],
            "PARAMCD": paramcd,
            "PARAM": "ADAS-Cog(11) Total Score" if is_actot else "CIBIC+ Score",
            "AVISIT": avisit, "AVISITN": avisitn, "ADY": ady, "AVAL": aval, "BASE": base,
            "CHG": aval - base if avisitn != 0 and base == base else NA,
            "ABLFL": ablfl, "DTYPE": dtype, "ANL01FL": anl01fl,
        })

    for subjid, values in _ACTOT.items():
        base = values[0]
        last = base
        for (avisit, avisitn), aval in zip(_VISITS, values, strict=True):
            if aval is not None:
                last = aval
                add(subjid, "ACTOT", avisit, avisitn, _ady(subjid, avisitn), aval, base,
                    "Y" if avisitn == 0 else "", "", "Y")
                if avisitn != 0:
                    cibic = (_CIBIC[ARM_OF[subjid[0]]][avisitn // 8 - 1]
                             + _CIBIC_SHIFT[_position(subjid) - 1])
                    add(subjid, "CIBIC", avisit, avisitn, _ady(subjid, avisitn), cibic, NA,
                        "", "", "Y")
            else:  # the sponsor's LOCF record: no study day of its own
                add(subjid, "ACTOT", avisit, avisitn, NA, last, base, "", "LOCF", "Y")
    for subjid, avisit, avisitn, ady, aval in _ACTOT_EXTRA:
        add(subjid, "ACTOT", avisit, avisitn, ady, aval, _ACTOT[subjid][0], "", "", "")
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["USUBJID", "PARAMCD", "AVISITN", "ADY"], kind="stable",
                              na_position="last", ignore_index=True)
    return frame


def _adae(adsl: pd.DataFrame) -> pd.DataFrame:
    subject = adsl.set_index("SUBJID")
    rows, seq = [], {}
    for (_event, subjid, aeterm, aedecod, aebodsys, aesev, aeser, aerel, astdy, astdtf, aendy,
         trtemfl) in _ADAE:
        s = subject.loc[subjid]
        seq[subjid] = seq.get(subjid, 0) + 1
        rows.append({
            "STUDYID": STUDYID, "USUBJID": s["USUBJID"], "AESEQ": seq[subjid],
            "TRTA": s["TRT01P"], "TRTAN": s["TRT01PN"], "AGE": s["AGE"], "SEX": s["SEX"],
            "SAFFL": s["SAFFL"], "SITEGR1": s["SITEGR1"], "AETERM": aeterm,
            "AEDECOD": aedecod, "AEBODSYS": aebodsys, "AESEV": aesev, "AESER": aeser,
            "AEREL": aerel, "ASTDY": float(astdy), "ASTDTF": astdtf, "AENDY": float(aendy),
            "TRTEMFL": trtemfl,
        })
    return pd.DataFrame(rows)


def _adex(adsl: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for s in adsl.itertuples(index=False):
        if s.SAFFL != "Y":  # 3008: no dose documented
            continue
        if s.SUBJID in _LAST_DOSE_EARLY:
            last = float(_LAST_DOSE_EARLY[s.SUBJID])
        elif s.SUBJID == "3005":  # rolled into the open-label extension, still on drug
            last = NA
        else:
            last = float(_ady(s.SUBJID, 24))
        rows.append({
            "STUDYID": STUDYID, "USUBJID": s.USUBJID, "EXSEQ": 1, "TRTA": s.TRT01P,
            "TRTAN": s.TRT01PN, "EXTRT": "PLACEBO" if s.TRT01P == "Placebo" else DRUG,
            "EXDOSE": DOSE[s.TRT01P], "EXDOSU": "mg", "EXSTDY": 1, "EXENDY": last,
        })
    return pd.DataFrame(rows)


def three_arm_adam() -> dict[str, pd.DataFrame]:
    """The three-arm trial's ADaM datasets: ``adsl``, ``adqs``, ``adae``, ``adex``."""
    adsl = _adsl()
    return {"adsl": adsl, "adqs": _adqs(adsl), "adae": _adae(adsl), "adex": _adex(adsl)}


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------


def write_datasets(frames: dict[str, pd.DataFrame], directory, fmt: str = "xpt") -> dict:
    """Write each frame to ``<directory>/<name>.xpt`` (member name = upper-cased name), or
    as CDISC Dataset-JSON v1.1 (``fmt`` "json" or "ndjson": ``<name>.json``/``.ndjson``).

    Refuses a column name longer than 8 characters (SAS transport v5). Each file is read
    back with ``pandas.read_sas`` and must give as many rows as were written: when a
    record is shorter than 80 bytes, pandas counts every all-blank 8-byte word of the last
    80-byte card as padding, so a last row with blanks at such a place is silently lost
    (a quirk of pandas' reader, not of the format).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if fmt in ("json", "ndjson"):
        from datasetjson_writer import write_datasetjson

        return {name: write_datasetjson(frame, directory / f"{name}.{fmt}", name.upper(),
                                        ndjson=fmt == "ndjson", study_oid=STUDYID)
                for name, frame in frames.items()}
    if fmt != "xpt":
        raise NotImplementedError(f"format {fmt!r}: xpt, json or ndjson")
    paths = {}
    for name, frame in frames.items():
        long = [c for c in frame.columns if len(c) > 8]
        if long:
            raise ValueError(f"{name}: column name(s) longer than 8 characters for XPT: "
                             f"{', '.join(long)}")
        path = directory / f"{name}.xpt"
        write_xpt(frame, path, name.upper()[:8])
        back = pd.read_sas(path, format="xport", encoding="utf-8")
        if len(back) != len(frame):
            raise RuntimeError(f"{path}: pandas reads {len(back)} rows of {len(frame)}")
        paths[name] = path
    return paths


def write_three_arm(directory, fmt: str = "xpt") -> dict:
    """adsl.xpt, adqs.xpt, adae.xpt, adex.xpt in ``directory``; returns name -> path."""
    return write_datasets(three_arm_adam(), directory, fmt)


# --------------------------------------------------------------------------------------
# the three-arm trial's config entry, as a user following the README would write it
# --------------------------------------------------------------------------------------


def THREE_ARM_CONFIG(data_dir) -> str:  # noqa: N802 (a constant-like name, as asked)
    """The trial's config entry (YAML text, to go under ``trials: {cdiscpilot_like: ...}``)
    reading the files written by ``write_three_arm(data_dir)``."""
    d = Path(data_dir).as_posix()
    return f"""\
title: "CDISC-pilot-like three-arm trial (ADaM fixture)"
synthetic: true
data_notice: >-
  Hand-made test data in the shape of a sponsor's CDISC ADaM delivery (ADSL, ADQS, ADAE,
  ADEX as SAS transport files); not the data of any trial.

data:
  subjects:
    path: {d}/adsl.xpt
    columns: {{EOSSTT: EOSSTAT}}
  scores:
    path: {d}/adqs.xpt
    # analyse only the records the sponsor flagged for analysis, of the ADAS-Cog total;
    # CIBIC+ (a rating of change, no baseline) is set aside in this report
    where: {{ANL01FL: "Y", PARAMCD: [ACTOT]}}
  adverse_events:
    path: {d}/adae.xpt
    codes:
      AEREL:
        NONE: NOT RELATED
        REMOTE: UNLIKELY RELATED
        POSSIBLE: POSSIBLY RELATED
        PROBABLE: PROBABLY RELATED
  exposure:
    path: {d}/adex.xpt

design:
  description: "24-week, randomised, double-blind, placebo-controlled, three parallel arms"
  population: "mild to moderate Alzheimer's disease"
  treatment: "Xanomeline"
  dose_unit: "mg"
  dose_levels: [0, 50, 100]
  age_range: [50, 89]
  study_days: [1, 168]
  # no periods: one period spanning the study is assumed
  visits:
    - {{name: Baseline, number: 0, day: 1}}
    - {{name: Week 8, number: 8, day: 56}}
    - {{name: Week 16, number: 16, day: 112}}
    - {{name: Week 24, number: 24, day: 168}}
  parameters:
    ACTOT:
      label: "ADAS-Cog(11)"
      name: "ADAS-Cog(11) Total Score"
      min: 0
      max: 70
      integer: true
      baseline_visit: 0
      comparison_visit: 24

validation:
  missing_baseline: exclude

analyses:
  # the sponsor's DTYPE = LOCF records are the LOCF analysis
  locf: delivered
  parallel:
    reference_arm: Placebo
    strata: [SITEGR1]

reproduction:
  on_mismatch: report
  targets:
    - {{id: participants, description: "Participants", statistic: n_subjects, published: "24"}}
"""


# --------------------------------------------------------------------------------------
# the three-arm trial's answers, counted by hand
# --------------------------------------------------------------------------------------

P, L, H, T = "Placebo", "Low Dose", "High Dose", "Total"

# Treatment-emergent events of the safety population (e# as in _ADAE above); not counted:
# e03 (1003) and e11 (2006), TRTEMFL = N; e18 (3008), SAFFL = N.
#   Placebo:   e01 1001 NS DIZZINESS, e02 1002 GI NAUSEA, e04 1004 GI DIARRHOEA
#   Low Dose:  e05 e06 2001 NS HEADACHE, e07 2002 GI NAUSEA, e08 2003 SKIN PRURITUS,
#              e09 2004 NS DIZZINESS, e10 2005 GI VOMITING
#   High Dose: e12 3001 NS DIZZINESS, e13 3001 GI NAUSEA, e14 3002 CARD SINUS BRADYCARDIA,
#              e15 3003 SKIN RASH, e16 3006 GI DIARRHOEA, e17 3007 NS SYNCOPE

EXPECTED_THREE_ARM = {
    # safety population (SAFFL = Y): all 8 Placebo, all 8 Low Dose, High Dose less 3008
    "N": {P: 8, L: 8, H: 7, T: 23},
    # enrolled (ADSL rows)
    "enrolled": {P: 8, L: 8, H: 8, T: 24},
    # subjects with >= 1 TEAE: P 1001 1002 1004; L 2001-2005; H 3001 3002 3003 3006 3007
    "teae_subjects": {P: 3, L: 5, H: 5, T: 13},
    # TEAEs: P e01 e02 e04; L e05-e10 (e11 is TRTEMFL N); H e12-e17 (e18 is SAFFL N)
    "teae_events": {P: 3, L: 6, H: 6, T: 15},
    # related (POSSIBLE, PROBABLE or missing AEREL): P 1004 (e04); L 2001 (e05 e06), 2002
    # (e07), 2004 (e09, AEREL missing); H 3001 (e12 e13), 3002 (e14), 3003 (e15), 3007 (e17)
    "related_subjects": {P: 1, L: 3, H: 4, T: 8},
    "related_events": {P: 1, L: 4, H: 5, T: 10},
    # severe: e14 (3002) only
    "severe_subjects": {P: 0, L: 0, H: 1, T: 1},
    "severe_events": {P: 0, L: 0, H: 1, T: 1},
    # serious: e17 (3007) only
    "serious_subjects": {P: 0, L: 0, H: 1, T: 1},
    "serious_events": {P: 0, L: 0, H: 1, T: 1},
    # per system organ class and "<class> / <term>": (subjects, events) per arm; classes
    # and terms of TEAEs only (INFECTIONS AND INFESTATIONS has none: e03, e11 are TRTEMFL N)
    "soc_pt": {
        "ANY": {P: (3, 3), L: (5, 6), H: (5, 6), T: (13, 15)},
        # NS: P 1001 (e01); L 2001 (e05 e06), 2004 (e09); H 3001 (e12), 3007 (e17)
        NS: {P: (1, 1), L: (2, 3), H: (2, 2), T: (5, 6)},
        f"{NS} / DIZZINESS": {P: (1, 1), L: (1, 1), H: (1, 1), T: (3, 3)},  # 1001 2004 3001
        f"{NS} / HEADACHE": {P: (0, 0), L: (1, 2), H: (0, 0), T: (1, 2)},  # 2001 twice; 3008 out
        f"{NS} / SYNCOPE": {P: (0, 0), L: (0, 0), H: (1, 1), T: (1, 1)},  # 3007
        # GI: P 1002 (e02), 1004 (e04); L 2002 (e07), 2005 (e10); H 3001 (e13), 3006 (e16)
        GI: {P: (2, 2), L: (2, 2), H: (2, 2), T: (6, 6)},
        f"{GI} / NAUSEA": {P: (1, 1), L: (1, 1), H: (1, 1), T: (3, 3)},  # 1002 2002 3001
        f"{GI} / DIARRHOEA": {P: (1, 1), L: (0, 0), H: (1, 1), T: (2, 2)},  # 1004 3006
        f"{GI} / VOMITING": {P: (0, 0), L: (1, 1), H: (0, 0), T: (1, 1)},  # 2005
        # SKIN: L 2003 (e08); H 3003 (e15)
        SKIN: {P: (0, 0), L: (1, 1), H: (1, 1), T: (2, 2)},
        f"{SKIN} / PRURITUS": {P: (0, 0), L: (1, 1), H: (0, 0), T: (1, 1)},  # 2003
        f"{SKIN} / RASH": {P: (0, 0), L: (0, 0), H: (1, 1), T: (1, 1)},  # 3003
        # CARD: H 3002 (e14)
        CARD: {P: (0, 0), L: (0, 0), H: (1, 1), T: (1, 1)},
        f"{CARD} / SINUS BRADYCARDIA": {P: (0, 0), L: (0, 0), H: (1, 1), T: (1, 1)},
    },
    # events with TRTEMFL = N, kept in the data but never counted: e03 (1003), e11 (2006)
    "non_teae_events": 2,
    # ADQS records read: ACTOT 94 + CIBIC 61 = 155. Subject by subject, ACTOT records are
    # observed scheduled visits + sponsor LOCF + extra (Unscheduled, duplicate):
    #   P: 1001 4, 1002 4, 1003 4+1, 1004 4, 1005 4, 1006 3+1, 1007 4, 1008 4  = 33
    #   L: 2001 4, 2002 4+1, 2003 4, 2004 4, 2005 2+2, 2006 4, 2007 4, 2008 4  = 33
    #   H: 3001 4, 3002 4, 3003 4, 3004 3+1, 3005 4, 3006 3+1, 3007 1+3       = 28
    # (observed scheduled 31 + 30 + 23 = 84, LOCF 8, extra 2: 94). The first hand count,
    # made while designing the data, said 93: High Dose counted as 27, one of 3007's three
    # LOCF records forgotten. Recounted subject by subject above before the tests ran; the
    # pandas cross-check in test_adam_fixtures.py agrees with 94.
    # CIBIC: one per observed post-baseline scheduled ACTOT visit:
    #   P 3*7 + 2 (1006) = 23; L 3*7 + 1 (2005) = 22; H 3+3+3+2+3+2+0 (3001-3007) = 16: 61.
    "adqs_read": 155,
    # selected (ANL01FL = Y and PARAMCD ACTOT): ACTOT 94 less the 2 extra records = 92
    "adqs_selected": 92,
    # set aside: 61 CIBIC + 1 Unscheduled (1003) + 1 out-of-window duplicate (2002) = 63
    "adqs_set_aside": 63,
    # sponsor LOCF records (all selected): 1006 W24; 2005 W16 W24; 3004 W16; 3006 W24;
    # 3007 W8 W16 W24 = 1 + 2 + 1 + 1 + 3 = 8. The pipeline's own LOCF (from the baseline
    # visit on) gives the same 8 records and values, so no difference is expected.
    "sponsor_locf": 8,
    "locf_differences": 0,
    # observed ACTOT at Week 24, EFFFL = Y (2007 out), DTYPE empty:
    #   P 1001 23, 1002 33, 1003 18, 1004 44, 1005 27, 1007 25, 1008 21 = 191 / 7
    #   L 2001 26, 2002 30, 2003 20, 2004 43, 2006 35, 2008 22 = 176 / 6 = 88 / 3
    #   H 3001 20, 3002 34, 3003 26, 3004 38, 3005 15 = 133 / 5
    "week24_observed_n": {P: 7, L: 6, H: 5},
    "week24_observed_mean": {P: Fraction(191, 7), L: Fraction(88, 3), H: Fraction(133, 5)},
    # with the sponsor's LOCF records: P + 1006 38 = 229 / 8; L + 2005 27 = 203 / 7;
    # H + 3006 29 + 3007 27 = 189 / 7 = 27
    "week24_locf_n": {P: 8, L: 7, H: 7},
    "week24_locf_mean": {P: Fraction(229, 8), L: Fraction(203, 7), H: Fraction(27)},
    # for contrast, what a dropped EFFFL filter gives in Low Dose (2007, AVAL 60, back in):
    # observed 236 / 7, LOCF 263 / 8
    "week24_low_dose_without_efffl": {"observed": Fraction(236, 7),
                                      "locf": Fraction(263, 8)},
}


# --------------------------------------------------------------------------------------
# efficacy-only two-arm trial
# --------------------------------------------------------------------------------------

EFF_STUDYID = "EFFICACY-ONLY"
EFFICACY_ONLY_ID = "efficacy_only"
EFF_ARMS = {"Placebo": 0, "Active": 1}

# HAM-D total (0-52) per subject: BASE, then Week 2, Week 4, Week 6 (None: no record).
# Subjects 001-010 Placebo, 011-020 Active.
_HAMD = {
    "001": (22, 21, 20, 19),
    "002": (25, 24, 24, 23),
    "003": (20, 20, 19, 18),
    "004": (28, 27, 25, 24),
    "005": (18, 18, 18, 17),
    "006": (24, 23, 22, None),
    "007": (21, 19, 19, 18),
    "008": (26, 25, 24, 22),
    "009": (19, 19, 20, 19),
    "010": (23, 22, 21, 20),
    "011": (24, 20, 16, 12),
    "012": (27, 24, 20, 17),
    "013": (21, 18, 15, 13),
    "014": (25, 23, 19, 15),
    "015": (19, 17, 16, 14),
    "016": (30, 27, 23, 20),
    "017": (22, 21, None, 16),
    "018": (26, 22, 19, None),
    "019": (23, 20, 17, 14),
    "020": (20, 18, 15, 11),
}
_HAMD_VISITS = (("Week 2", 2, 15), ("Week 4", 4, 29), ("Week 6", 6, 43))


def efficacy_only_adam() -> dict[str, pd.DataFrame]:
    """The two-arm efficacy-only trial: ``adsl`` (no AGE, no SEX) and ``adqs`` (HAMD at
    Weeks 2, 4, 6; no baseline record, no ABLFL; BASE on every record)."""
    adsl = pd.DataFrame([
        {"USUBJID": f"EO-{s}", "STUDYID": EFF_STUDYID,
         "TRT01P": "Placebo" if int(s) <= 10 else "Active",
         "TRT01PN": 0 if int(s) <= 10 else 1, "SAFFL": "Y", "EFFFL": "Y"}
        for s in _HAMD
    ])
    rows = []
    for s, (base, *values) in _HAMD.items():
        arm = "Placebo" if int(s) <= 10 else "Active"
        for (avisit, avisitn, day), aval in zip(_HAMD_VISITS, values, strict=True):
            if aval is None:
                continue
            rows.append({
                "STUDYID": EFF_STUDYID, "USUBJID": f"EO-{s}", "TRTP": arm,
                "TRTPN": EFF_ARMS[arm], "PARAMCD": "HAMD",
                "PARAM": "HAM-D 17-item Total Score", "AVISIT": avisit, "AVISITN": avisitn,
                "ADY": day + int(s) % 3 - 1, "AVAL": aval, "BASE": base, "CHG": aval - base,
            })
    return {"adsl": adsl, "adqs": pd.DataFrame(rows)}


def write_efficacy_only(directory, fmt: str = "xpt") -> dict:
    """adsl.xpt and adqs.xpt in ``directory``; returns name -> path."""
    return write_datasets(efficacy_only_adam(), directory, fmt)


def EFFICACY_ONLY_CONFIG(data_dir) -> str:  # noqa: N802 (a constant-like name, as asked)
    """The efficacy-only trial's config entry (YAML text, to go under
    ``trials: {efficacy_only: ...}``) reading ``write_efficacy_only(data_dir)``'s files."""
    d = Path(data_dir).as_posix()
    return f"""\
title: "Two-arm efficacy-only trial (ADaM fixture)"
synthetic: true
data_notice: >-
  Hand-made test data in the shape of a sponsor's CDISC ADaM delivery (ADSL and ADQS only);
  not the data of any trial.

data:
  subjects: {{path: {d}/adsl.xpt}}
  scores: {{path: {d}/adqs.xpt}}

design:
  description: "6-week, randomised, double-blind, placebo-controlled, two parallel arms"
  visits:
    # no record is at Baseline: each record carries its baseline in BASE
    - {{name: Baseline, number: 0, day: 1}}
    - {{name: Week 2, number: 2, day: 15}}
    - {{name: Week 4, number: 4, day: 29}}
    - {{name: Week 6, number: 6, day: 43}}
  parameters:
    HAMD:
      label: "HAM-D"
      name: "HAM-D 17-item Total Score"
      min: 0
      max: 52
      integer: true
      baseline_visit: 0
      comparison_visit: 6

analyses:
  parallel:
    reference_arm: Placebo

reproduction:
  on_mismatch: report
  targets:
    - {{id: participants, description: "Participants", statistic: n_subjects, published: "20"}}
"""


EXPECTED_EFFICACY_ONLY = {
    "enrolled": {"Placebo": 10, "Active": 10, "Total": 20},
    # HAMD records: Placebo 30 less 006 Week 6 = 29; Active 30 less 017 Week 4 and
    # 018 Week 6 = 28; 57 in all
    "adqs_read": 57,
    # Week 6 records: Placebo all but 006 = 9; Active all but 018 = 9
    "week6_n": {"Placebo": 9, "Active": 9},
    # CHG at Week 6: Placebo 001 -3, 002 -2, 003 -2, 004 -4, 005 -1, 007 -3, 008 -4,
    # 009 0, 010 -3 = -22; Active 011 -12, 012 -10, 013 -8, 014 -10, 015 -5, 016 -10,
    # 017 -6, 019 -9, 020 -9 = -79
    "week6_chg_mean": {"Placebo": Fraction(-22, 9), "Active": Fraction(-79, 9)},
    # BASE of the subjects with a Week 6 record: Placebo 22+25+20+28+18+21+26+19+23 = 202;
    # Active 24+27+21+25+19+30+22+23+20 = 211
    "week6_base_mean": {"Placebo": Fraction(202, 9), "Active": Fraction(211, 9)},
}
