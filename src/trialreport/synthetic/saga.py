"""Deterministic synthetic dataset for the randomized fasoracetam trial NCT02777931 (SAGA).

SAGA was a randomized, double-blind, placebo-controlled, parallel-group trial of
fasoracetam (NFC-1) 100, 200 or 400 mg BID against placebo for six weeks in adolescents
aged 12-17 with ADHD and mGluR network variants. Its participant-level data are not
public; the published summary (company announcement, 2018) gives:

- enrolled 101 (49 NFC-1, 52 placebo); safety population 47 / 50; modified ITT 46 / 50;
  completed 37 / 39;
- primary endpoint, change in ADHD-RS total score against placebo: not met;
- at least 30% improvement on the ADHD-RS inattention subscale: 70% vs 42%, p = 0.0067;
- CGI-I much or very much improved: 57% vs 33%, p = 0.0155.

This module makes a synthetic stand-in, as consistent with those figures as whole-number
counts allow (all from one seeded ``numpy.random.Generator``):

1. Subjects: 101 randomized (49 fasoracetam, in dose groups of 100, 200 and 400 mg BID;
   52 placebo), aged 12-17. Per arm: two randomized but never dosed (not in the safety
   population), in the fasoracetam arm one more dosed but never rated after baseline (in
   the safety population, not in the modified ITT, EFFFL = N); of the modified ITT, 37 and
   39 complete week 6, the others discontinue after a rating at week 1 to 5.
2. Responders at week 6, counted over the modified ITT with a missing response as a
   non-response: inattention improved by at least 30% in 32 / 46 (69.6%, printed 70%) and
   21 / 50 (42%); CGI-I 1 or 2 in 26 / 46 (56.5%, printed 57%) and 16 / 50 (32%). The
   published 33% of 50 is no whole number of subjects (16 / 50 = 32%, 17 / 50 = 34%); 16
   is the count whose Pearson chi-square test against 26 / 46 gives the published
   p = 0.0155, as 32 / 46 against 21 / 50 gives p = 0.0067. Responders are the completers
   with the largest latent improvement (plus rating noise), so the two responses agree
   mostly but not always.
3. Scores: the inattention and hyperactivity-impulsivity subscales (0-27 each) at
   baseline and weekly to week 6; the ADHD-RS total (0-54) is their sum. A responder's
   week-6 inattention is at most 70% of baseline, a non-responder's above it (exactly,
   in whole numbers). Hyperactivity improves about as much in both arms, with more
   spread, so the change in the ADHD-RS total differs little between arms (the primary
   endpoint not met). CGI-S (1-7) follows the total; CGI-I (1-7, from week 1) is 1 or 2
   at week 6 exactly for the CGI-I responders.
4. Exposure: one record per dosed subject (placebo 0 mg, else the dose group), from day
   1 to the last day on study drug. Adverse events: one rate per subject-week in both
   arms, mostly mild. A subject discontinued for an adverse event has one that led to
   withdrawal of study drug (AEACN DRUG WITHDRAWN): its latest event on drug, or, where
   it has none, one more event in its last week on drug.

``write_saga_dataset`` writes CSVs with fixed formatting, so the same seed gives the same
bytes; a test regenerates the data and compares them with the committed files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trialreport.synthetic.dataset import (
    AE_TERMS,
    AE_VERBATIM,
    ReferenceDataset,
    visit_day,
    write_dataset,
)

SEED = 2777931  # the registry number, NCT02777931
STUDYID = "SAGA"
TRIAL = "fasoracetam_saga"
ACTIVE, PLACEBO = "Fasoracetam", "Placebo"
WEEKS = (0, 1, 2, 3, 4, 5, 6)
DOSE_GROUPS = (100, 200, 400)

# Per arm: enrolled, never dosed, dosed but no post-baseline rating, completers, and the
# responders at week 6 of the modified ITT (missing response = non-response).
ARMS = {
    ACTIVE: {"n": 49, "not_dosed": 2, "no_post_baseline": 1, "completed": 37,
             "resp_inattention": 32, "resp_cgii": 26},
    PLACEBO: {"n": 52, "not_dosed": 2, "no_post_baseline": 0, "completed": 39,
              "resp_inattention": 21, "resp_cgii": 16},
}
PARAMS = {
    "ADHDRS": "ADHD-RS total score",
    "ADHDIA": "ADHD-RS inattention subscale",
    "CGIS": "Clinical Global Impression - Severity",
    "CGII": "Clinical Global Impression - Improvement",
}
DISCONTINUATION = ("WITHDRAWAL BY SUBJECT", "LOST TO FOLLOW-UP", "ADVERSE EVENT",
                   "LACK OF EFFICACY", "PHYSICIAN DECISION")
AE_RATE_PER_SUBJECT_WEEK = 0.12


def _subjects(rng: np.random.Generator) -> pd.DataFrame:
    arms = [ACTIVE] * ARMS[ACTIVE]["n"] + [PLACEBO] * ARMS[PLACEBO]["n"]
    arms = list(rng.permutation(np.array(arms, dtype=object)))  # randomization order
    n = len(arms)
    ids = [f"{STUDYID}-{i:03d}" for i in range(1, n + 1)]
    age = rng.integers(12, 18, size=n)
    age[rng.choice(n, 2, replace=False)] = (12, 17)
    sex = np.where(rng.random(n) < 0.7, "M", "F")
    out = pd.DataFrame({"STUDYID": STUDYID, "USUBJID": ids, "TRT01P": arms,
                        "TRT01PN": [1 if a == ACTIVE else 0 for a in arms],
                        "DOSEGRP": 0, "AGE": age, "SEX": sex, "SAFFL": "Y", "EFFFL": "Y",
                        "EOSSTAT": "COMPLETED", "DCSREAS": "", "LASTWK": 6})
    for arm, spec in ARMS.items():
        idx = np.flatnonzero(out["TRT01P"].to_numpy() == arm)
        if arm == ACTIVE:
            groups = np.resize(np.array(DOSE_GROUPS), len(idx))
            out.loc[idx, "DOSEGRP"] = rng.permutation(groups)
        order = rng.permutation(idx)
        not_dosed = order[:spec["not_dosed"]]
        no_post = order[spec["not_dosed"]:spec["not_dosed"] + spec["no_post_baseline"]]
        mitt = order[spec["not_dosed"] + spec["no_post_baseline"]:]
        dropouts = mitt[: len(mitt) - spec["completed"]]
        out.loc[not_dosed, ["SAFFL", "EFFFL"]] = "N"
        out.loc[no_post, "EFFFL"] = "N"
        out.loc[not_dosed, "LASTWK"] = -1
        out.loc[no_post, "LASTWK"] = 0
        out.loc[dropouts, "LASTWK"] = rng.integers(1, 6, len(dropouts))
        stopped = np.concatenate([not_dosed, no_post, dropouts])
        out.loc[stopped, "EOSSTAT"] = "DISCONTINUED"
        out.loc[not_dosed, "DCSREAS"] = "WITHDRAWAL BY SUBJECT"
        others = np.concatenate([no_post, dropouts])
        out.loc[others, "DCSREAS"] = rng.choice(DISCONTINUATION, len(others))
    return out


def _responders(rng: np.random.Generator, subjects: pd.DataFrame,
                latent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inattention and CGI-I responder flags at week 6: per arm, exactly the published
    counts, among the completers with the largest latent improvement plus noise."""
    n = len(subjects)
    resp_ia, resp_cg = np.zeros(n, bool), np.zeros(n, bool)
    for arm, spec in ARMS.items():
        comp = np.flatnonzero((subjects["TRT01P"].to_numpy() == arm)
                              & (subjects["LASTWK"].to_numpy() == 6))
        for flags, k, noise in ((resp_ia, spec["resp_inattention"], 0.6),
                                (resp_cg, spec["resp_cgii"], 0.6)):
            score = latent[comp] + rng.normal(0, noise, len(comp))
            flags[comp[np.argsort(-score, kind="stable")[:k]]] = True
    return resp_ia, resp_cg


def _trajectories(rng: np.random.Generator, subjects: pd.DataFrame) -> dict:
    """Ratings by (PARAMCD, week): arrays over subjects, NaN where not rated."""
    n = len(subjects)
    active = (subjects["TRT01P"] == ACTIVE).to_numpy()
    last = subjects["LASTWK"].to_numpy()
    latent = rng.normal(0, 1, n) + 0.35 * active
    resp_ia, resp_cg = _responders(rng, subjects, latent)
    ia0 = np.clip(np.rint(rng.normal(19, 3.5, n)), 12, 27).astype(int)
    hi0 = np.clip(np.rint(rng.normal(15, 4.0, n)), 6, 27).astype(int)
    # Week-6 inattention: a responder at most 70% of baseline, a non-responder above.
    limit = (7 * ia0) // 10  # the largest week-6 value that is a 30% improvement
    p_resp = rng.uniform(0.32, 0.6, n)
    p_non = rng.uniform(-0.28, 0.08, n) - 0.04 * active
    ia6 = np.where(resp_ia, np.minimum(limit, np.rint(ia0 * (1 - p_resp))),
                   np.maximum(limit + 1, np.rint(ia0 * (1 - p_non))))
    ia6 = np.clip(ia6, 0, 27).astype(int)
    # Hyperactivity: the same mean improvement in both arms, wide spread.
    hi6 = np.clip(np.rint(hi0 - rng.normal(2.5, 4.0, n) + 1.5 * active), 0, 27).astype(int)
    ratings: dict[tuple[str, int], np.ndarray] = {}
    total0 = ia0 + hi0
    cgis0 = np.clip(np.rint(4.2 + (total0 - 34) / 9 + rng.normal(0, 0.4, n)), 3, 7)
    for week in WEEKS:
        frac = week / 6
        if week in (0, 6):
            ia, hi = (ia0, hi0) if week == 0 else (ia6, hi6)
        else:
            ia = np.clip(np.rint(ia0 + (ia6 - ia0) * frac + rng.normal(0, 1.2, n)), 0, 27)
            hi = np.clip(np.rint(hi0 + (hi6 - hi0) * frac + rng.normal(0, 1.2, n)), 0, 27)
        total = ia + hi
        improvement = (total0 - total) / np.maximum(total0, 1)  # fraction improved
        cgis = np.clip(np.rint(cgis0 - 3.0 * improvement + rng.normal(0, 0.35, n)), 1, 7)
        rated = last >= week
        for code, values in (("ADHDIA", ia), ("ADHDRS", total), ("CGIS", cgis)):
            ratings[(code, week)] = np.where(rated, values.astype(float), np.nan)
        if week >= 1:
            cgii = np.clip(np.rint(3.9 - 5.0 * improvement + rng.normal(0, 0.5, n)), 1, 7)
            if week == 6:
                cgii = np.where(resp_cg, np.minimum(np.maximum(cgii, 1), 2),
                                np.clip(cgii, 3, 6))
            ratings[("CGII", week)] = np.where(rated & (last >= 1), cgii, np.nan)
    return ratings


def _scores(rng: np.random.Generator, subjects: pd.DataFrame, ratings: dict) -> pd.DataFrame:
    jitter = {w: rng.integers(-1, 2, len(subjects)) for w in WEEKS}
    rows = []
    for (code, week), values in sorted(ratings.items()):
        for i, usubjid in enumerate(subjects["USUBJID"]):
            if np.isnan(values[i]):
                continue
            rows.append({
                "USUBJID": usubjid, "PARAMCD": code, "PARAM": PARAMS[code],
                "AVISIT": "Baseline" if week == 0 else f"Week {week}", "AVISITN": week,
                "ADY": visit_day(week) + (int(jitter[week][i]) if week > 0 else 0),
                "AVAL": int(values[i]),
            })
    out = pd.DataFrame(rows)
    return out.sort_values(["USUBJID", "PARAMCD", "AVISITN"], ignore_index=True)


def _last_dose_day(last_week: int) -> int:
    """Last day on study drug: the day of the last visit (week 0: three days)."""
    return 3 if last_week == 0 else visit_day(last_week)


def _exposure(subjects: pd.DataFrame) -> pd.DataFrame:
    dosed = subjects[subjects["SAFFL"] == "Y"]
    return pd.DataFrame({
        "USUBJID": dosed["USUBJID"],
        "EXTRT": np.where(dosed["TRT01P"] == ACTIVE, "FASORACETAM", "PLACEBO"),
        "EXDOSE": dosed["DOSEGRP"].astype(int), "EXDOSU": "mg BID", "EXSTDY": 1,
        "EXENDY": [_last_dose_day(int(w)) for w in dosed["LASTWK"]],
    }).reset_index(drop=True)


def _adverse_events(rng: np.random.Generator, subjects: pd.DataFrame,
                    exposure: pd.DataFrame) -> pd.DataFrame:
    terms = [t[0] for t in AE_TERMS]
    bodsys = {t[0]: t[1] for t in AE_TERMS}
    weights = np.array([t[2] for t in AE_TERMS], dtype=float)
    weights /= weights.sum()
    rows = []
    for ex in exposure.itertuples():
        days = ex.EXENDY - ex.EXSTDY + 1
        for _ in range(rng.poisson(AE_RATE_PER_SUBJECT_WEEK * days / 7)):
            term = terms[rng.choice(len(terms), p=weights)]
            onset = ex.EXSTDY + int(rng.integers(0, days))
            verbatim = AE_VERBATIM[term]
            rows.append({
                "USUBJID": ex.USUBJID, "AETERM": verbatim[rng.integers(len(verbatim))],
                "AEDECOD": term, "AEBODSYS": bodsys[term],
                "AESEV": "MODERATE" if rng.random() < 0.15 else "MILD", "AESER": "N",
                "AEREL": rng.choice(["NOT RELATED", "POSSIBLY RELATED", "PROBABLY RELATED"],
                                    p=[0.5, 0.4, 0.1]),
                "AEACN": "DOSE NOT CHANGED", "ASTDY": onset,
                "AENDY": onset + int(rng.integers(1, 6)), "DOSEATONSET": int(ex.EXDOSE),
            })
    out = pd.DataFrame(rows)
    return out.sort_values(["USUBJID", "ASTDY", "AEDECOD"], ignore_index=True)


def _withdrawal_events(rng: np.random.Generator, subjects: pd.DataFrame,
                       exposure: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Make the adverse events agree with the disposition: a subject discontinued for an
    adverse event has one that led to withdrawal of study drug (AEACN DRUG WITHDRAWN).
    Its latest event on drug becomes that event; a subject with none gets one, starting in
    its last week on drug (of moderate severity, a term drawn as for the others)."""
    terms = [t[0] for t in AE_TERMS]
    bodsys = {t[0]: t[1] for t in AE_TERMS}
    weights = np.array([t[2] for t in AE_TERMS], dtype=float)
    weights /= weights.sum()
    last_day = exposure.set_index("USUBJID")["EXENDY"]
    dose = exposure.set_index("USUBJID")["EXDOSE"]
    out = events.copy()
    rows = []
    for usubjid in subjects.loc[subjects["DCSREAS"] == "ADVERSE EVENT", "USUBJID"]:
        end = int(last_day[usubjid])
        mine = out.index[(out["USUBJID"] == usubjid) & (out["ASTDY"] <= end)]
        if len(mine):
            out.loc[mine[-1], "AEACN"] = "DRUG WITHDRAWN"
            continue
        term = terms[rng.choice(len(terms), p=weights)]
        onset = max(1, end - int(rng.integers(0, 7)))
        verbatim = AE_VERBATIM[term]
        rows.append({
            "USUBJID": usubjid, "AETERM": verbatim[rng.integers(len(verbatim))],
            "AEDECOD": term, "AEBODSYS": bodsys[term], "AESEV": "MODERATE", "AESER": "N",
            "AEREL": rng.choice(["POSSIBLY RELATED", "PROBABLY RELATED"]),
            "AEACN": "DRUG WITHDRAWN", "ASTDY": onset,
            "AENDY": onset + int(rng.integers(1, 6)), "DOSEATONSET": int(dose[usubjid]),
        })
    out = pd.concat([out, pd.DataFrame(rows, columns=out.columns)], ignore_index=True)
    return out.sort_values(["USUBJID", "ASTDY", "AEDECOD"], ignore_index=True)


def make_saga_dataset(seed: int = SEED) -> ReferenceDataset:
    """Build the synthetic SAGA dataset from ``seed``; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    subjects = _subjects(rng)
    ratings = _trajectories(rng, subjects)
    scores = _scores(rng, subjects, ratings)
    exposure = _exposure(subjects)
    adverse_events = _adverse_events(rng, subjects, exposure)
    # drawn last, so that every other value is the same as before they were added
    adverse_events = _withdrawal_events(rng, subjects, exposure, adverse_events)
    return ReferenceDataset(subjects=subjects.drop(columns="LASTWK"), scores=scores,
                            adverse_events=adverse_events, exposure=exposure)


def write_saga_dataset(outdir: Path, seed: int = SEED) -> list[Path]:
    """Write the four CSVs of the SAGA dataset into ``outdir``; returns their paths."""
    return write_dataset(make_saga_dataset(seed), outdir)
