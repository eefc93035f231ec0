"""Deterministic synthetic reference dataset for the fasoracetam (NFC-1) trial.

The participant-level data of NFC-1 (Elia et al., Nat Commun 2018;9:4, NCT02286817) are not
public. This module makes a synthetic stand-in that honours every published figure at the
precision it was published (the seed's Table 1), so that the pipeline can be shown to
reproduce the published summary from participant-level data.

How the data are made (all from one seeded ``numpy.random.Generator``):

1. Subjects: 30 adolescents aged 12-17, sex (about two thirds male, as in ADHD cohorts),
   and an mGluR-network variant tier 1-3.
2. Design: baseline (week 0), one single-blind placebo week (week 1), then four open-label
   weeks (weeks 2-5) with symptom-driven dose advancement 50 -> 100 -> 200 -> 400 mg BID:
   a subject whose CGI-I at the end of a week is worse than "much improved" (> 2) moves up one
   dose level, otherwise stays. Not everyone reaches 400 mg.
3. Efficacy: a latent improvement per subject and week (a small placebo response, plus a
   subject-level drug responsiveness, larger in tier 1, scaled by the dose reached) drives
   CGI-S (severity, every visit) and CGI-I (improvement relative to baseline, from week 1),
   each with rating noise, rounded to the 1-7 integer scales.
4. Published means: the published CGI-I and CGI-S means at baseline and week 5 constrain the
   sum of integer ratings and the number of ratings (GRIM). The sample sizes are chosen with
   the fewest missing ratings that the published means permit (CGI-S: 30 at baseline, 29 at
   week 5; CGI-I: 29 at week 1, 30 at week 5), and the random ratings are then nudged one
   point at a time, on randomly chosen subjects, until each sum is met. A nudge keeps every
   rating on its scale and within two points of the same subject's neighbouring visits.
5. Adverse events: one event rate per subject-week for the placebo week and the active weeks
   alike (the publication found no difference in incidence), mostly mild, none serious.

``write_reference_dataset`` writes CSVs with fixed formatting, so the same seed gives the same
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

SEED = 20180102  # the publication date of Elia et al. 2018, as a memorable seed
N_SUBJECTS = 30
STUDYID = "NFC-1"
DOSE_LEVELS = (50, 100, 200, 400)
WEEKS = (0, 1, 2, 3, 4, 5)

# Sums of integer ratings and numbers of ratings that give the published means at the
# published precision (GRIM): 145/30 = 4.833, 112/29 = 3.862, 110/29 = 3.793, 70/30 = 2.333.
TARGETS = {
    ("CGIS", 0): (145, 30),
    ("CGIS", 5): (112, 29),
    ("CGII", 1): (110, 29),
    ("CGII", 5): (70, 30),
}

# Relative drug effect by dose level (mg BID); placebo week has none.
DOSE_EFFECT = {0: 0.0, 50: 0.45, 100: 0.7, 200: 0.9, 400: 1.0}
AE_RATE_PER_SUBJECT_WEEK = 0.16


def _subjects(rng: np.random.Generator) -> pd.DataFrame:
    ids = [f"{STUDYID}-{i:03d}" for i in range(1, N_SUBJECTS + 1)]
    age = rng.integers(12, 18, size=N_SUBJECTS)
    # Guarantee the published age range is spanned, as in a real cohort of 30 adolescents.
    age[rng.choice(N_SUBJECTS, 2, replace=False)] = (12, 17)
    sex = np.where(rng.random(N_SUBJECTS) < 0.67, "M", "F")
    tier = rng.choice([1, 2, 3], size=N_SUBJECTS, p=[0.4, 0.3, 0.3])
    return pd.DataFrame(
        {
            "STUDYID": STUDYID,
            "USUBJID": ids,
            "TRT01P": "Fasoracetam",
            "AGE": age,
            "SEX": sex,
            "MGLURTIER": tier,
            "SAFFL": "Y",
            "EFFFL": "Y",
            "EOSSTAT": "COMPLETED",
            "DCSREAS": "",
        }
    )


def _efficacy_and_dosing(
    rng: np.random.Generator, subjects: pd.DataFrame
) -> tuple[dict[tuple[str, int], np.ndarray], np.ndarray]:
    """Latent trajectories; returns ratings by (PARAMCD, week) and dose by week (subject x week)."""
    n = len(subjects)
    tier = subjects["MGLURTIER"].to_numpy()
    base_sev = rng.normal(4.85, 0.65, n)
    placebo = rng.normal(0.15, 0.25, n)
    responsiveness = rng.normal(np.select([tier == 1, tier == 2], [1.35, 1.05], 0.85), 0.4, n)
    dose = np.zeros((n, len(WEEKS)), dtype=int)
    cgis = {0: np.clip(np.rint(base_sev + rng.normal(0, 0.2, n)), 3, 7)}
    cgii: dict[int, np.ndarray] = {}
    level = np.full(n, -1)  # index into DOSE_LEVELS; -1 while on placebo
    for week in WEEKS[1:]:
        if week >= 2:
            # Symptom-driven advancement, judged on last week's CGI-I.
            advance = (level < 0) | ((cgii[week - 1] > 2) & (level < len(DOSE_LEVELS) - 1))
            level = np.where(advance, level + 1, level)
            dose[:, week] = np.where(level >= 0, np.take(DOSE_LEVELS, np.maximum(level, 0)), 0)
        effect = np.array([DOSE_EFFECT[d] for d in dose[:, week]])
        improvement = placebo + responsiveness * effect * (0.8 + 0.05 * week)
        cgis[week] = np.clip(np.rint(base_sev - improvement + rng.normal(0, 0.35, n)), 1, 7)
        cgii[week] = np.clip(np.rint(4.0 - 1.45 * improvement + rng.normal(0, 0.45, n)), 1, 7)
    ratings = {("CGIS", w): v for w, v in cgis.items()}
    ratings.update({("CGII", w): v for w, v in cgii.items()})
    return ratings, dose


def _neighbour_ok(ratings: dict, param: str, week: int, subj: int, new: float) -> bool:
    for other in (week - 1, week + 1):
        key = (param, other)
        if (key in ratings and not np.isnan(ratings[key][subj])
                and abs(ratings[key][subj] - new) > 2):
            return False
    return True


def _meet_published_sums(rng: np.random.Generator, ratings: dict) -> None:
    """Blank the fewest ratings GRIM requires, then nudge ratings until each sum is met."""
    for (param, week), (total, n_rated) in TARGETS.items():
        values = ratings[(param, week)]
        n_missing = len(values) - n_rated
        if n_missing:
            values[rng.choice(len(values), n_missing, replace=False)] = np.nan
        for _ in range(10_000):
            gap = total - int(np.nansum(values))
            if gap == 0:
                break
            step = 1 if gap > 0 else -1
            candidates = [
                i
                for i in range(len(values))
                if not np.isnan(values[i])
                and 1 <= values[i] + step <= 7
                and _neighbour_ok(ratings, param, week, i, values[i] + step)
            ]
            values[rng.choice(candidates)] += step
        else:  # pragma: no cover - guarded by the byte-for-byte regeneration test
            raise RuntimeError(f"could not meet the published sum for {param} week {week}")


def _scores(rng: np.random.Generator, subjects: pd.DataFrame, ratings: dict) -> pd.DataFrame:
    rows = []
    labels = {
        "CGIS": "Clinical Global Impression - Severity",
        "CGII": "Clinical Global Impression - Improvement",
    }
    jitter = {w: rng.integers(-1, 2, len(subjects)) for w in WEEKS}
    for (param, week), values in sorted(ratings.items()):
        for i, usubjid in enumerate(subjects["USUBJID"]):
            ady = visit_day(week) + (int(jitter[week][i]) if week > 0 else 0)
            rows.append(
                {
                    "USUBJID": usubjid,
                    "PARAMCD": param,
                    "PARAM": labels[param],
                    "AVISIT": "Baseline" if week == 0 else f"Week {week}",
                    "AVISITN": week,
                    "ADY": ady,
                    "AVAL": None if np.isnan(values[i]) else int(values[i]),
                }
            )
    out = pd.DataFrame(rows)
    out["AVAL"] = out["AVAL"].astype("Int64")
    return out.sort_values(["USUBJID", "PARAMCD", "AVISITN"], ignore_index=True)


def _exposure(subjects: pd.DataFrame, dose: np.ndarray) -> pd.DataFrame:
    rows = []
    for i, usubjid in enumerate(subjects["USUBJID"]):
        for week in WEEKS[1:]:
            rows.append(
                {
                    "USUBJID": usubjid,
                    "APHASE": "PLACEBO" if week == 1 else "ACTIVE",
                    "EXTRT": "PLACEBO" if week == 1 else "FASORACETAM",
                    "EXDOSE": int(dose[i, week]),
                    "EXDOSU": "mg BID",
                    "EXSTDY": visit_day(week - 1),
                    "EXENDY": visit_day(week) - 1,
                }
            )
    return pd.DataFrame(rows)


def _adverse_events(
    rng: np.random.Generator, subjects: pd.DataFrame, dose: np.ndarray
) -> pd.DataFrame:
    terms = [t[0] for t in AE_TERMS]
    bodsys = {t[0]: t[1] for t in AE_TERMS}
    weights = np.array([t[2] for t in AE_TERMS], dtype=float)
    weights /= weights.sum()
    rows = []
    for i, usubjid in enumerate(subjects["USUBJID"]):
        for week in WEEKS[1:]:
            for _ in range(rng.poisson(AE_RATE_PER_SUBJECT_WEEK)):
                term = terms[rng.choice(len(terms), p=weights)]
                verbatim = AE_VERBATIM[term]
                onset = visit_day(week - 1) + int(rng.integers(0, 7))
                duration = int(rng.integers(1, 6))
                rows.append(
                    {
                        "USUBJID": usubjid,
                        "AETERM": verbatim[rng.integers(len(verbatim))],
                        "AEDECOD": term,
                        "AEBODSYS": bodsys[term],
                        "AESEV": "MODERATE" if rng.random() < 0.15 else "MILD",
                        "AESER": "N",
                        "AEREL": rng.choice(
                            ["NOT RELATED", "POSSIBLY RELATED", "PROBABLY RELATED"],
                            p=[0.5, 0.4, 0.1],
                        ),
                        "AEACN": "DOSE NOT CHANGED",
                        "ASTDY": onset,
                        "AENDY": onset + duration,
                        "APHASE": "PLACEBO" if week == 1 else "ACTIVE",
                        "DOSEATONSET": int(dose[i, week]),
                    }
                )
    out = pd.DataFrame(rows)
    return out.sort_values(["USUBJID", "ASTDY", "AEDECOD"], ignore_index=True)


def make_reference_dataset(seed: int = SEED) -> ReferenceDataset:
    """Build the synthetic NFC-1 dataset from ``seed``; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    subjects = _subjects(rng)
    ratings, dose = _efficacy_and_dosing(rng, subjects)
    _meet_published_sums(rng, ratings)
    return ReferenceDataset(
        subjects=subjects,
        scores=_scores(rng, subjects, ratings),
        adverse_events=_adverse_events(rng, subjects, dose),
        exposure=_exposure(subjects, dose),
    )


def write_reference_dataset(outdir: Path, seed: int = SEED) -> list[Path]:
    """Write the four CSVs of the reference dataset into ``outdir``; returns their paths."""
    return write_dataset(make_reference_dataset(seed), outdir)
