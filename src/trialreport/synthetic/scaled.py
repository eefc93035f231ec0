"""A large synthetic trial in the reference design, and a config to run it.

``trialreport make-scaled-trial N DIR`` writes N subjects' data (four CSVs) and
``DIR/config.yaml``, so that the README's claim about a large run can be checked by anyone:

    trialreport make-scaled-trial 100000 DIR
    snakemake --cores all --replace-workflow-config --configfile DIR/config.yaml

(``--replace-workflow-config`` makes the given file the whole config, so only the scaled
trial runs; without it the file is merged into ``config.yaml`` and the reference trial runs
too.)

The trial has the reference trial's shape (``trialreport.synthetic``): one arm, CGI-S at six
visits and CGI-I at five (11 score rows per subject, so 10^5 subjects give 1.1 x 10^6 rows),
a placebo week then four weeks of open-label dosing with symptom-driven advancement
(5 exposure rows per subject), adverse events at the reference rate per subject-week
(about 0.8 per subject). So that every analysis has something to do, about 3% of the
post-baseline ratings are missing (LOCF and the excluded pairs), 1% of subjects are outside
the efficacy or safety population, 5% discontinued, and events vary in severity,
relationship, seriousness and action taken. All from one seeded ``numpy.random.Generator``:
the same N and seed give the same bytes. The published means are not imposed; the data are
for measuring speed and memory, not for reporting. The datasets agree with one another (the
cross-dataset checks of ``trialreport.validate.crosschecks`` find nothing): a subject
discontinued for an adverse event has one whose action is DRUG WITHDRAWN (its latest event,
or, where it has none, one more on day 35, its last day on drug).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.synthetic.dataset import AE_TERMS, ReferenceDataset, visit_day, write_dataset
from trialreport.synthetic.nfc1 import AE_RATE_PER_SUBJECT_WEEK, DOSE_LEVELS, SEED, WEEKS

MAX_SUBJECTS = 10_000_000
MISSING_RATING = 0.03
SEVERITY = (("MILD", 0.80), ("MODERATE", 0.17), ("SEVERE", 0.03))
RELATIONSHIP = (("NOT RELATED", 0.45), ("UNLIKELY RELATED", 0.10), ("POSSIBLY RELATED", 0.30),
                ("PROBABLY RELATED", 0.10), ("RELATED", 0.04), ("", 0.01))
ACTION = (("DOSE NOT CHANGED", 0.97), ("DRUG INTERRUPTED", 0.02), ("DRUG WITHDRAWN", 0.01))
DISCONTINUATION = ("ADVERSE EVENT", "LACK OF EFFICACY", "WITHDRAWAL BY SUBJECT")


class ScaledTrialError(ValueError):
    """A request the generator cannot honour (e.g. a subject count that is not a number)."""


def _pick(rng: np.random.Generator, choices: tuple[tuple[str, float], ...],
          size: int) -> np.ndarray:
    values = np.array([c[0] for c in choices], dtype=object)
    p = np.array([c[1] for c in choices])
    return values[rng.choice(len(values), size=size, p=p / p.sum())]


def make_scaled_dataset(n_subjects: int, seed: int = SEED) -> ReferenceDataset:
    """``n_subjects`` subjects in the reference design (see the module's docstring)."""
    n = int(n_subjects)
    if n < 1:
        raise ScaledTrialError(f"the number of subjects must be at least 1, not {n}")
    rng = np.random.default_rng(seed)
    width = max(7, len(str(n)))
    ids = np.char.add("S-", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    ids = ids.astype(object)
    status = np.where(rng.random(n) < 0.05, "DISCONTINUED", "COMPLETED")
    reason = np.where(status == "DISCONTINUED",
                      np.array(DISCONTINUATION, dtype=object)[rng.integers(0, 3, n)], "")
    subjects = pd.DataFrame({
        "STUDYID": "SCALE", "USUBJID": ids, "TRT01P": "Fasoracetam",
        "AGE": rng.integers(12, 18, n), "SEX": np.where(rng.random(n) < 0.67, "M", "F"),
        "MGLURTIER": rng.integers(1, 4, n),
        "SAFFL": np.where(rng.random(n) < 0.01, "N", "Y"),
        "EFFFL": np.where(rng.random(n) < 0.01, "N", "Y"),
        "EOSSTAT": status, "DCSREAS": reason,
    })

    # Dose by week (subject x week): placebo in week 1, 50 mg in week 2, then one level up
    # each week with probability 0.6 (symptom-driven advancement), at most 400 mg.
    level = np.zeros(n, dtype=int)
    dose = np.zeros((n, len(WEEKS)), dtype=int)
    for week in WEEKS[2:]:
        if week > 2:
            level = np.minimum(level + (rng.random(n) < 0.6), len(DOSE_LEVELS) - 1)
        dose[:, week] = np.take(DOSE_LEVELS, level)

    base = rng.normal(4.85, 0.65, n)
    gain = rng.normal(1.0, 0.4, n)
    frames = []
    for param, label, weeks in (("CGIS", "Clinical Global Impression - Severity", WEEKS),
                                ("CGII", "Clinical Global Impression - Improvement",
                                 WEEKS[1:])):
        first = weeks[0]
        for week in weeks:
            effect = np.array([0.0, 0.45, 0.7, 0.9, 1.0])[np.searchsorted(
                (0, 50, 100, 200, 400), dose[:, week])]
            improvement = 0.15 * (week > 0) + gain * effect * (0.8 + 0.05 * week)
            latent = base - improvement if param == "CGIS" else 4.0 - 1.45 * improvement
            aval = pd.array(np.clip(np.rint(latent + rng.normal(0, 0.4, n)), 1, 7)
                            .astype(int), dtype="Int64")
            if week != first:  # a baseline is never missing (no exclusions by design)
                aval[rng.random(n) < MISSING_RATING] = pd.NA
            ady = visit_day(week) + (rng.integers(-1, 2, n) if week > 0 else 0)
            frames.append(pd.DataFrame({
                "USUBJID": ids, "PARAMCD": param, "PARAM": label,
                "AVISIT": "Baseline" if week == 0 else f"Week {week}", "AVISITN": week,
                "ADY": ady, "AVAL": aval,
            }))
    scores = pd.concat(frames, ignore_index=True)

    exposure = pd.concat([pd.DataFrame({
        "USUBJID": ids, "APHASE": "PLACEBO" if week == 1 else "ACTIVE",
        "EXTRT": "PLACEBO" if week == 1 else "FASORACETAM",
        "EXDOSE": dose[:, week], "EXDOSU": "mg BID",
        "EXSTDY": visit_day(week - 1), "EXENDY": visit_day(week) - 1,
    }) for week in WEEKS[1:]], ignore_index=True)

    n_ae = int(rng.poisson(AE_RATE_PER_SUBJECT_WEEK * 5 * n))
    weights = np.array([t[2] for t in AE_TERMS], dtype=float)
    term = rng.choice(len(AE_TERMS), size=n_ae, p=weights / weights.sum())
    subject = rng.integers(0, n, n_ae)
    onset = rng.integers(1, visit_day(5), n_ae)  # days 1..35
    week_of_onset = (onset - 1) // 7 + 1
    decod = np.array([t[0] for t in AE_TERMS], dtype=object)
    bodsys = np.array([t[1] for t in AE_TERMS], dtype=object)
    adverse_events = pd.DataFrame({
        "USUBJID": ids[subject],
        "AETERM": np.array([t[0].lower() for t in AE_TERMS], dtype=object)[term],
        "AEDECOD": decod[term], "AEBODSYS": bodsys[term],
        "AESEV": _pick(rng, SEVERITY, n_ae),
        "AESER": np.where(rng.random(n_ae) < 0.005, "Y", "N"),
        "AEREL": _pick(rng, RELATIONSHIP, n_ae),
        "AEACN": _pick(rng, ACTION, n_ae),
        "ASTDY": onset, "AENDY": onset + rng.integers(0, 6, n_ae),
        "APHASE": np.where(onset <= 7, "PLACEBO", "ACTIVE"),
        "DOSEATONSET": dose[subject, week_of_onset],
    }).sort_values(["USUBJID", "ASTDY", "AEDECOD"], kind="stable", ignore_index=True)
    adverse_events = _withdrawals(adverse_events, subjects, dose[:, WEEKS[-1]])
    return ReferenceDataset(subjects, scores, adverse_events, exposure)


def _withdrawals(adverse_events: pd.DataFrame, subjects: pd.DataFrame,
                 last_dose: np.ndarray) -> pd.DataFrame:
    """Each subject discontinued for an adverse event gets one with action DRUG WITHDRAWN:
    its latest event, or one more (the most frequent term, mild, day 35) where it has none.
    No random draw, so every other value stays as drawn."""
    for_ae = subjects.loc[subjects["DCSREAS"] == "ADVERSE EVENT", "USUBJID"]
    ae = adverse_events.copy()
    mine = ae[ae["USUBJID"].isin(set(for_ae))]
    ae.loc[mine.groupby("USUBJID").tail(1).index, "AEACN"] = "DRUG WITHDRAWN"
    without = for_ae[~for_ae.isin(set(ae["USUBJID"]))]
    term, bodsys, _ = max(AE_TERMS, key=lambda t: t[2])
    last_day = visit_day(WEEKS[-1]) - 1
    dose = pd.Series(last_dose, index=subjects["USUBJID"])
    added = pd.DataFrame({
        "USUBJID": without.to_numpy(object), "AETERM": term.lower(), "AEDECOD": term,
        "AEBODSYS": bodsys, "AESEV": "MILD", "AESER": "N", "AEREL": "POSSIBLY RELATED",
        "AEACN": "DRUG WITHDRAWN", "ASTDY": last_day, "AENDY": last_day, "APHASE": "ACTIVE",
        "DOSEATONSET": dose.reindex(without).to_numpy(),
    }, columns=ae.columns)
    return pd.concat([ae, added], ignore_index=True).sort_values(
        ["USUBJID", "ASTDY", "AEDECOD"], kind="stable", ignore_index=True)


def scaled_trial_config(reference: dict[str, Any], n_subjects: int,
                        paths: dict[str, Path], results: str = "results",
                        schemas: str = "schemas") -> dict[str, Any]:
    """A whole workflow config holding one trial, ``scaled_<N>``: the reference trial's
    design and analyses (``reference``: its entry in config.yaml) on the scaled data, with
    the number of participants as its only reproduction target (matched by construction)."""
    trial = copy.deepcopy(reference)
    trial["title"] = f"Scaled synthetic trial, {n_subjects} subjects (benchmark)"
    trial["reference"] = "Generated by `trialreport make-scaled-trial`; not a real trial."
    trial["synthetic"] = True
    trial["data_notice"] = ("SYNTHETIC data made by trialreport.synthetic.scaled for measuring "
                            "speed and memory; not a trial's data.")
    trial["data"] = {name: {"path": str(path)} for name, path in paths.items()}
    trial["reproduction"] = {"on_mismatch": "fail", "targets": [
        {"id": "participants", "description": "Participants", "statistic": "n_subjects",
         "published": str(n_subjects)}]}
    return {"schemas": schemas, "results": results, "report": {"pdf": False},
            "trials": {f"scaled_{n_subjects}": trial}}


def write_scaled_trial(n_subjects: int, outdir: Path, reference_config: Path,
                       seed: int = SEED) -> list[Path]:
    """Write the four CSVs and ``config.yaml`` into ``outdir``; returns the paths written.

    ``reference_config``: the workflow's config.yaml, whose ``fasoracetam_nfc1`` entry gives
    the design and analyses. Data paths in the written config are absolute, so the config
    works from the repository root wherever ``outdir`` is."""
    import yaml

    ref = yaml.safe_load(Path(reference_config).read_text(encoding="utf-8"))
    entry = ref["trials"]["fasoracetam_nfc1"]
    outdir = Path(outdir)
    written = write_dataset(make_scaled_dataset(n_subjects, seed), outdir)
    paths = {path.stem: path.resolve() for path in written}
    config = scaled_trial_config(entry, n_subjects, paths,
                                 results=ref.get("results", "results"),
                                 schemas=ref.get("schemas", "schemas"))
    config_path = outdir / "config.yaml"
    config_path.write_text(
        f"# Written by `trialreport make-scaled-trial {n_subjects}` (seed {seed}). Run:\n"
        f"#   snakemake --cores all --replace-workflow-config --configfile {config_path}\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    written.append(config_path)
    return written
