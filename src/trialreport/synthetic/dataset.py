"""What the synthetic trials share: the dataset object, its writer (one CSV
per dataset), the study day of a week, and the adverse-event vocabulary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trialreport.common.frames import write_csv

AE_TERMS = (
    # (AEDECOD, AEBODSYS, weight)
    ("Headache", "Nervous system disorders", 6),
    ("Irritability", "Psychiatric disorders", 4),
    ("Decreased appetite", "Metabolism and nutrition disorders", 3),
    ("Upper respiratory tract infection", "Infections and infestations", 3),
    ("Fatigue", "General disorders and administration site conditions", 3),
    ("Abdominal pain upper", "Gastrointestinal disorders", 2),
    ("Nausea", "Gastrointestinal disorders", 2),
    ("Insomnia", "Psychiatric disorders", 2),
    ("Somnolence", "Nervous system disorders", 2),
    ("Dizziness", "Nervous system disorders", 1),
)
# Verbatim terms as an investigator might write them, mapped to the preferred terms above.
AE_VERBATIM = {
    "Headache": ("headache", "mild headache", "head ache"),
    "Irritability": ("irritable", "irritability"),
    "Decreased appetite": ("decreased appetite", "poor appetite"),
    "Upper respiratory tract infection": ("common cold", "URI"),
    "Fatigue": ("tiredness", "fatigue"),
    "Abdominal pain upper": ("stomach ache", "upper abdominal pain"),
    "Nausea": ("nausea", "queasy"),
    "Insomnia": ("trouble falling asleep", "insomnia"),
    "Somnolence": ("sleepy in class", "drowsiness"),
    "Dizziness": ("dizzy", "lightheaded"),
}


@dataclass(frozen=True)
class ReferenceDataset:
    subjects: pd.DataFrame
    scores: pd.DataFrame
    adverse_events: pd.DataFrame
    exposure: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {
            "subjects": self.subjects,
            "scores": self.scores,
            "adverse_events": self.adverse_events,
            "exposure": self.exposure,
        }


def visit_day(week: int) -> int:
    """Planned study day of a visit: day 1 is the first placebo dose, week k ends on day 7k+1."""
    return 7 * week + 1


def write_dataset(dataset: ReferenceDataset, outdir: Path) -> list[Path]:
    """Write the four CSVs of a synthetic dataset into ``outdir``; returns their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in dataset.tables().items():
        path = outdir / f"{name}.csv"
        write_csv(frame, path)
        written.append(path)
    return written
