"""Reference-based imputation (trialreport.stats.imputation) against a floor.

Data: 2 arms, 4 post-baseline visits, the MMRM arm x visit + baseline x visit (12
columns), US covariance (10 parameters); monotone dropout (about 15% a visit) and 3%
intermittent gaps; jump to reference after the ICE in the treatment arm.

- ``condmean_jackknife`` at 100 and 1,000 subjects: the full fit, then one leave-one-out
  replicate per subject (refit from the full fit, conditional mean imputation of every
  subject, the per-visit ANCOVA).
- ``mi_bootstrap`` with M = 100 at 1,000 subjects.

Floors, written here with NumPy alone: what any such procedure must do at least per
replicate or imputation. Jackknife: for each subject, one GLS solve of the imputation
model at the full-data covariance without that subject (X'V^-1X and X'V^-1y of the
whitened rows, the subject's own subtracted) and one OLS of the n - 1 subjects' outcomes
at the T visits on (1, arm, baseline). MI: for each imputation, a bootstrap sample of
subjects, the GLS solve at the full-data covariance with the bootstrap counts as weights,
n x T standard normal numbers and one OLS of n subjects at the T visits. The floors do no
covariance re-estimation, no imputation and no pooling; the ratios say what those cost.

Workers: ``workers=2`` (the machine's cores); memory is the measuring process's peak (the
forked workers' own memory is not in it).

Measured on the 2-core machine (best of 3; ``conftest.compare`` prints "(100000
subjects)", its default scaled-trial size, which these runs do not use: the size is in the
stage name): jackknife, 100 subjects, 0.50 s against a floor of 0.006 s (ratio 81), peak
memory 11 MiB against 7 MiB (1.6); 1,000 subjects, 4.4 s (7.3 s with one worker) against
0.14 s (31), 13 MiB against 7 MiB (1.8); MI, M = 100, 1,000 subjects, 1.0 s (1.8 s with one
worker) against 0.024 s (42), 20 MiB against 8 MiB (2.4). Each replicate's refit takes about
three likelihood evaluations and two observed Hessians (Newton from the full fit, to
rounding), which is most of the ratio; one ``fit_mmrm`` from scratch takes 0.02 s at 100
and 0.05 s at 1,000 subjects, so fitting from scratch in every replicate would cost about
2 s and 49 s. A second run with the machine loaded (load average 5 on 2 cores) gave ratios
145, 96 and 69 (11.3 s at 1,000 subjects against 0.12 s): the floor, a few milliseconds of
vectorised work, is hit less by a busy machine than many small Newton steps in two worker
processes. Bounds leave room for that.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from trialreport.stats import imputation as imp
from trialreport.stats.mmrm import fit_mmrm

from conftest import compare

pytestmark = pytest.mark.benchmark

T = 4
VISITS = [f"V{v + 1}" for v in range(T)]
WORKERS = max(1, min(2, os.cpu_count() or 1))


def simulate(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(T, T))
    sigma = a @ a.T / T + np.eye(T)
    arm = np.arange(n) % 2
    base = rng.normal(10, 2, n)
    mu = (1 + np.linspace(0, 1, T) + arm[:, None] * np.linspace(0.2, 1.5, T)
          + 0.5 * (base[:, None] - 10))
    y = mu + rng.multivariate_normal(np.zeros(T), sigma, size=n)
    first_missing = np.maximum(rng.geometric(0.15, n), 2)
    y[np.arange(T)[None] >= first_missing[:, None] - 1] = np.nan
    gap = rng.random((n, T)) < 0.03
    gap[:, [0, -1]] = False
    y[gap] = np.nan
    return {"USUBJID": np.repeat(np.arange(n), T), "AVISIT": np.tile(VISITS, n),
            "ARM": np.repeat(np.array(["PBO", "TRT"])[arm], T),
            "BASE": np.repeat(base, T), "CHG": y.reshape(-1)}


def prepare(n: int) -> imp.ImputationData:
    return imp.prepare(simulate(n), response="CHG", subject="USUBJID", visit="AVISIT",
                       arm="ARM", baseline="BASE", levels={"AVISIT": VISITS},
                       reference="PBO", strategy={"TRT": "JR", "PBO": "MAR"})


class Floor:
    """The data of the floors: each subject's rows whitened once at the full-data
    covariance (the imputation model's design, NumPy only), the analysis design."""

    def __init__(self, data: imp.ImputationData):
        n = data.n_subjects
        trt = (data.arm == 1).astype(float)
        base = data.columns["BASE"]
        eye = np.eye(T)
        # arm x visit + baseline x visit in cell-means form: the same column space
        x = np.concatenate([eye[None] * np.ones((n, 1, 1)), trt[:, None, None] * eye[None],
                            base[:, None, None] * eye[None]], axis=2)  # (n, T, 3T)
        use = data.fit_use
        y = np.where(use, data.y, 0.0)
        sigma = fit_mmrm(imp._build_model(data, "US", True, None, None)[0].fit.design
                         ).sigma[0]
        p = x.shape[2]
        self.xtx = np.zeros((n, p, p))
        self.xty = np.zeros((n, p))
        bits = use @ (1 << np.arange(T))
        for key in np.unique(bits[bits > 0]):
            rows = np.flatnonzero(bits == key)
            idx = np.flatnonzero(use[rows[0]])
            linv = np.linalg.inv(np.linalg.cholesky(sigma[np.ix_(idx, idx)]))
            xw = linv @ x[rows][:, idx, :]
            yw = (linv @ y[rows][:, idx, None])[:, :, 0]
            self.xtx[rows] = np.einsum("nmp,nmq->npq", xw, xw)
            self.xty[rows] = np.einsum("nmp,nm->np", xw, yw)
        self.sum_xtx, self.sum_xty = self.xtx.sum(axis=0), self.xty.sum(axis=0)
        self.design = np.column_stack([np.ones(n), trt, base])
        self.y = np.where(np.isnan(data.y), 0.0, data.y)
        self.arm = data.arm

    def jackknife(self) -> np.ndarray:
        n = len(self.arm)
        out = np.empty((n, T))
        keep = np.ones(n, dtype=bool)
        for i in range(n):
            np.linalg.solve(self.sum_xtx - self.xtx[i], self.sum_xty - self.xty[i])
            keep[i] = False
            out[i] = np.linalg.lstsq(self.design[keep], self.y[keep], rcond=None)[0][1]
            keep[i] = True
        return out

    def bootstrap(self, m: int, seed: int = 1) -> np.ndarray:
        rng = np.random.default_rng(seed)
        n = len(self.arm)
        out = np.empty((m, T))
        for j in range(m):
            w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
            np.linalg.solve(np.tensordot(w, self.xtx, 1), w @ self.xty)
            rng.standard_normal((n, T))  # the draws (an imputation adds them to means)
            out[j] = np.linalg.lstsq(self.design, self.y, rcond=None)[0][1]
        return out


def _time(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


@pytest.mark.parametrize(("subjects", "max_time", "max_memory"),
                         [(100, 300, 6), (1000, 200, 6)])
def test_condmean_jackknife(subjects, max_time, max_memory) -> None:
    import scipy.special  # noqa: F401  (loaded in every analysis job already)

    data = prepare(subjects)
    floor = Floor(data)
    result = compare(f"condmean jackknife, {subjects} subjects, workers={WORKERS}",
                     lambda: imp.condmean_jackknife(data, workers=WORKERS),
                     floor.jackknife, max_time, max_memory)
    design = imp._build_model(data, "US", True, None, None)[0].fit.design
    one_fit = min(_time(lambda: fit_mmrm(design)) for _ in range(3))
    print(f"one fit_mmrm from scratch: {one_fit:.3f} s; x {subjects} replicates = "
          f"{one_fit * subjects:.1f} s")
    assert result.settings["replicates"] == subjects


def test_mi_bootstrap_m100() -> None:
    data = prepare(1000)
    floor = Floor(data)
    result = compare(f"MI bootstrap M=100, 1000 subjects, workers={WORKERS}",
                     lambda: imp.mi_bootstrap(data, m=100, seed=7, workers=WORKERS),
                     lambda: floor.bootstrap(100), 150, 8)
    assert result.settings["m"] == 100
