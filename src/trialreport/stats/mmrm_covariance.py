"""Within-subject covariance structures of the MMRM engine (``trialreport.stats.mmrm``).

A separate module because each structure needs two parameterisations, and the engine's
likelihood and inference code only sees their derivatives:

- the *natural* parameters ``phi``, those SAS PROC MIXED prints in "Covariance Parameter
  Estimates", in SAS's order and under SAS's names (SAS/STAT User's Guide, PROC MIXED,
  REPEATED statement, Table "Covariance Structure Examples"). Kenward-Roger and
  Satterthwaite are computed in these, as SAS computes them: KR's second-derivative term
  depends on the parameterisation (see ``trialreport.stats.mmrm_inference``);
- the *working* parameters ``theta``, unconstrained reals that keep the matrix positive
  definite for any value, which the optimiser moves: log-Cholesky for US; log variances;
  Fisher's z (``atanh``) for AR(1) correlations; for Toeplitz correlations, ``atanh`` of the
  partial autocorrelations mapped to autocorrelations by the Durbin-Levinson recursion
  (every partial autocorrelation sequence in (-1, 1) gives a positive definite Toeplitz
  correlation matrix and every such matrix has one: Barndorff-Nielsen & Schou 1973);
  for CS, the logs of the two eigenvalues ``s2`` and ``s2 + T * s1``.

| structure | parameters (T visits) | natural parameters, SAS order |
| --- | --- | --- |
| US    | T(T+1)/2 | UN(1,1), UN(2,1), UN(2,2), UN(3,1), ... |
| TOEP  | T        | TOEP(2), ..., TOEP(T) (covariances at lags 1..T-1), Residual |
| TOEPH | 2T - 1   | Var(1), ..., Var(T), TOEPH(1), ..., TOEPH(T-1) (correlations) |
| AR1   | 2        | AR(1) (correlation), Residual |
| ARH1  | T + 1    | Var(1), ..., Var(T), ARH(1) |
| CS    | 2        | CS (common covariance), Residual |

Derivatives of Sigma with respect to ``phi`` and of ``phi`` with respect to ``theta`` are
taken by the complex step (Squire & Trapp 1998: f'(x) = Im f(x + ih) / h, exact to
rounding for analytic f), so every structure is written once, as a function; second
derivatives in ``phi`` (zero for the linear US, TOEP and CS) by central differences of
complex-step first derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STRUCTURES = ("US", "TOEP", "TOEPH", "AR1", "ARH1", "CS")
_STEP = 1e-30  # the complex step: no cancellation, so it can be tiny


def _pacf_to_acf(pacf):
    """Autocorrelations rho_1..rho_K from partial autocorrelations (Durbin-Levinson)."""
    k_max = len(pacf)
    rho = [None] * k_max
    phi_prev: list = []
    for k in range(k_max):
        p = pacf[k]
        if k == 0:
            rho[0] = p
            phi_prev = [p]
            continue
        # rho_k = sum_j phi_{k-1,j} rho_{k-j} + p (1 - sum_j phi_{k-1,j} rho_j)
        s1 = sum(phi_prev[j] * rho[k - 1 - j] for j in range(k))
        s2 = sum(phi_prev[j] * rho[j] for j in range(k))
        rho[k] = s1 + p * (1 - s2)
        phi_prev = [phi_prev[j] - p * phi_prev[k - 1 - j] for j in range(k)] + [p]
    return rho


def _acf_to_pacf(rho: np.ndarray) -> np.ndarray:
    """Inverse of ``_pacf_to_acf`` (Durbin-Levinson); NaN where rho is not valid."""
    k_max = len(rho)
    pacf = np.empty(k_max)
    phi_prev = np.empty(0)
    for k in range(k_max):
        num = rho[k] - (phi_prev @ rho[k - 1::-1][:k] if k else 0.0)
        den = 1 - (phi_prev @ rho[:k] if k else 0.0)
        p = num / den if den > 0 else np.nan
        pacf[k] = p
        phi_prev = np.append(phi_prev - p * phi_prev[::-1], p)
    return pacf


def _lags(t: int) -> np.ndarray:
    idx = np.arange(t)
    return np.abs(idx[:, None] - idx[None, :])


@dataclass(frozen=True)
class Structure:
    """One covariance structure over ``t`` visits (see the module docstring).

    ``natural(theta)`` maps working to natural parameters; ``sigma_nat(phi)`` builds the
    T x T matrix; ``theta0(S)`` gives starting values from an empirical covariance;
    ``names`` are SAS's names of the natural parameters; ``linear`` says Sigma is linear
    in ``phi`` (second derivatives zero)."""

    kind: str
    t: int
    names: tuple[str, ...]
    linear: bool
    natural: Callable[[np.ndarray], np.ndarray]
    sigma_nat: Callable[[np.ndarray], np.ndarray]
    theta0: Callable[[np.ndarray], np.ndarray]

    @property
    def n_params(self) -> int:
        return len(self.names)

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        return self.sigma_nat(self.natural(theta))

    def jac_natural(self, theta: np.ndarray) -> np.ndarray:
        """d phi / d theta, shape (q, q): [k, h] = d phi_k / d theta_h."""
        q = self.n_params
        out = np.empty((q, q))
        for h in range(q):
            step = np.zeros(q, dtype=complex)
            step[h] = 1j * _STEP
            out[:, h] = np.imag(self.natural(theta + step)) / _STEP
        return out

    def dsigma_nat(self, phi: np.ndarray) -> np.ndarray:
        """d Sigma / d phi_k, shape (q, T, T)."""
        q = self.n_params
        out = np.empty((q, self.t, self.t))
        for k in range(q):
            step = np.zeros(q, dtype=complex)
            step[k] = 1j * _STEP
            out[k] = np.imag(self.sigma_nat(phi + step)) / _STEP
        return out

    def d2sigma_nat(self, phi: np.ndarray) -> np.ndarray:
        """d2 Sigma / d phi_k d phi_l, shape (q, q, T, T); zero for linear structures."""
        q = self.n_params
        out = np.zeros((q, q, self.t, self.t))
        if self.linear:
            return out
        for k in range(q):
            h = 1e-5 * max(1.0, abs(phi[k]))
            up, down = phi.copy(), phi.copy()
            up[k] += h
            down[k] -= h
            out[k] = (self.dsigma_nat(up) - self.dsigma_nat(down)) / (2 * h)
        return (out + out.transpose(1, 0, 2, 3)) / 2

    def dsigma(self, theta: np.ndarray) -> np.ndarray:
        """d Sigma / d theta_h, shape (q, T, T) (chain rule through ``phi``)."""
        phi = np.real(self.natural(theta))
        return np.einsum("kab,kh->hab", self.dsigma_nat(phi), self.jac_natural(theta))


def _tril_rows(t: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise lower-triangle indices: (0,0), (1,0), (1,1), (2,0), ... (SAS's UN order)."""
    rows, cols = [], []
    for i in range(t):
        for j in range(i + 1):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


def _symmetric(t: int, rows, cols, values) -> np.ndarray:
    out = np.zeros((t, t), dtype=np.result_type(values, float))
    out[rows, cols] = values
    out[cols, rows] = values
    return out


def _clip_corr(r: float) -> float:
    return float(np.clip(np.nan_to_num(r), -0.9, 0.9))


def _lag_corrs(s: np.ndarray) -> np.ndarray:
    """Mean correlation at each lag 1..T-1 of a covariance matrix."""
    d = np.sqrt(np.diag(s))
    c = s / np.outer(d, d)
    t = len(d)
    return np.array([np.mean(np.diagonal(c, k)) for k in range(1, t)])


def _valid_toeplitz_pacf(s: np.ndarray) -> np.ndarray:
    """Partial autocorrelations of the mean lag correlations, shrunk until valid."""
    rho = _lag_corrs(s)
    for _ in range(60):
        pacf = _acf_to_pacf(rho)
        if np.all(np.isfinite(pacf)) and np.all(np.abs(pacf) < 0.95):
            return pacf
        rho = rho * 0.8
    return np.zeros(len(rho))


def make_structure(kind: str, t: int) -> Structure:
    """The covariance structure ``kind`` (one of ``STRUCTURES``) over ``t`` visits."""
    kind = kind.upper()
    lags = _lags(t)
    if kind == "US":
        rows, cols = _tril_rows(t)
        diag = rows == cols

        def natural(theta):
            lower = np.zeros((t, t), dtype=np.result_type(theta, float))
            lower[rows, cols] = np.where(diag, np.exp(theta), theta)
            return (lower @ lower.T)[rows, cols]

        def theta0(s):
            lower = np.linalg.cholesky(s)[rows, cols]
            return np.where(diag, np.log(np.where(diag, lower, 1.0)), lower)

        names = tuple(f"UN({i + 1},{j + 1})" for i, j in zip(rows, cols, strict=True))
        return Structure(kind, t, names, True, natural,
                         lambda phi: _symmetric(t, rows, cols, phi), theta0)
    if kind == "CS":
        def natural(theta):
            s2 = np.exp(theta[0])
            return np.stack([(np.exp(theta[1]) - s2) / t, s2])

        def sigma_nat(phi):
            return phi[0] * np.ones((t, t)) + phi[1] * np.eye(t)

        def theta0(s):
            var = float(np.mean(np.diag(s)))
            cov = float(np.mean(s[~np.eye(t, dtype=bool)])) if t > 1 else 0.0
            s2 = max(var - cov, 0.1 * var)
            return np.log([s2, max(s2 + t * cov, 0.1 * s2)])

        return Structure(kind, t, ("CS", "Residual"), True, natural, sigma_nat, theta0)
    if kind == "AR1":
        def natural(theta):
            return np.stack([np.tanh(theta[0]), np.exp(theta[1])])

        def sigma_nat(phi):
            return phi[1] * phi[0] ** lags

        def theta0(s):
            rho = _clip_corr(_lag_corrs(s)[0]) if t > 1 else 0.0
            return np.array([np.arctanh(rho), np.log(np.mean(np.diag(s)))])

        return Structure(kind, t, ("AR(1)", "Residual"), False, natural, sigma_nat, theta0)
    if kind == "ARH1":
        def natural(theta):
            return np.concatenate([np.exp(theta[:t]), np.tanh(theta[t:])])

        def sigma_nat(phi):
            sd = np.sqrt(phi[:t])
            return np.outer(sd, sd) * phi[t] ** lags

        def theta0(s):
            rho = _clip_corr(_lag_corrs(s)[0]) if t > 1 else 0.0
            return np.concatenate([np.log(np.diag(s)), [np.arctanh(rho)]])

        names = tuple(f"Var({i + 1})" for i in range(t)) + ("ARH(1)",)
        return Structure(kind, t, names, False, natural, sigma_nat, theta0)
    if kind in ("TOEP", "TOEPH"):
        hetero = kind == "TOEPH"
        nv = t if hetero else 1

        def corr_matrix(rho):
            full = [1.0] + list(rho)
            return np.array([[full[lags[i, j]] for j in range(t)] for i in range(t)])

        if hetero:
            def natural(theta):
                rho = _pacf_to_acf(list(np.tanh(theta[t:])))
                return np.concatenate([np.exp(theta[:t]), np.stack(rho) if rho else []])

            def sigma_nat(phi):
                sd = np.sqrt(phi[:t])
                return np.outer(sd, sd) * corr_matrix(list(phi[t:]))

            names = (tuple(f"Var({i + 1})" for i in range(t))
                     + tuple(f"TOEPH({k})" for k in range(1, t)))
        else:
            def natural(theta):
                s2 = np.exp(theta[t - 1])
                rho = _pacf_to_acf(list(np.tanh(theta[: t - 1])))
                return np.stack([s2 * r for r in rho] + [s2])

            def sigma_nat(phi):
                full = [phi[t - 1]] + list(phi[: t - 1])
                return np.array([[full[lags[i, j]] for j in range(t)] for i in range(t)])

            names = tuple(f"TOEP({k})" for k in range(2, t + 1)) + ("Residual",)

        def theta0(s):
            z = np.arctanh(_valid_toeplitz_pacf(s))
            if hetero:
                return np.concatenate([np.log(np.diag(s)), z])
            return np.concatenate([z, [np.log(np.mean(np.diag(s)))]])

        del nv
        return Structure(kind, t, names, kind == "TOEP", natural, sigma_nat, theta0)
    raise ValueError(f"unknown covariance structure {kind!r}; choose from {STRUCTURES}")


def n_params(kind: str, t: int) -> int:
    """Number of covariance parameters of ``kind`` over ``t`` visits (one group)."""
    return make_structure(kind, t).n_params
