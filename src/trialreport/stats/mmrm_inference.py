"""Likelihood, derivatives and small-sample inference of the MMRM engine.

A separate module from ``trialreport.stats.mmrm`` (the design, the fit and the results)
because this is the mathematics that the results rest on and it is easiest to check
alone: everything here works on the *pattern sufficient statistics* and nothing else.

Pattern sufficient statistics. Subjects that share a covariance group and a set of
observed visits (a missingness pattern) share their covariance matrix V. For such a
pattern with visits ``idx`` (m of them) and subjects i, the sums

    XX[a, b] = sum_i x_ia x_ib'   (m*m blocks of p x p),
    Xy[a, b] = sum_i x_ia y_ib,   yy[a, b] = sum_i y_ia y_ib

are all any quadratic form X'MX, X'My, y'My with a pattern-constant M needs:
X'MX = sum_ab M_ab XX[a, b]. They cost O(subjects * m^2 * p^2) once (one matrix product
per pattern); afterwards every evaluation of the likelihood, its gradient and Hessian,
and the Kenward-Roger matrices costs O(patterns * m^2 * p^2), whatever the number of
subjects.

Formulas (V block-diagonal, P = V^-1 - V^-1 X Phi X' V^-1, Phi = (X'V^-1X)^-1,
r = y - X beta_hat, V_h = dV/dphi_h, V_hj = d2V/dphi_h dphi_j):

- -2 log L_REML = (n - p) log 2pi + log|V| + log|X'V^-1X| + r'V^-1 r
  (SAS PROC MIXED, "Estimating Covariance Parameters in the Mixed Model": the
  "-2 Res Log Likelihood"); -2 log L_ML = n log 2pi + log|V| + r'V^-1 r.
- gradient of -2 log L_REML: tr(V^-1 V_h) - tr(Phi X'A_h X) - r'A_h r, A_h =
  V^-1 V_h V^-1 (ML: without the middle term).
- observed Hessian of -2 log L_REML: tr(P V_hj) - tr(P V_h P V_j) + 2 y'P V_h P V_j P y
  - y'P V_hj P y (ML: V^-1 in place of P in the two trace terms).
- W, the asymptotic covariance of the covariance parameters: twice the inverse of that
  Hessian (the inverse observed information), as SAS (ASYCOV) and R's mmrm use it.
- Kenward & Roger (1997), as SAS DDFM=KR and the mmrm "Kenward-Roger" vignette write it:
  Phi_A = Phi + 2 Phi {sum_hj W_hj (Q_hj - P_h Phi P_j - R_hj / 4)} Phi with
  P_h = X' dV^-1/dphi_h X = -X'A_h X, Q_hj = X'A_h V A_j X, R_hj = X'V^-1 V_hj V^-1 X;
  the denominator df and F scaling from A1, A2 (``kr_test``). SAS computes these in its
  own covariance parameters (``phi`` of ``mmrm_covariance``): R_hj = 0 for the linear
  structures (UN, CS, TOEP) and not for AR(1), ARH(1), TOEPH. ``linear=True`` drops R_hj
  everywhere (mmrm's "Kenward-Roger-Linear"; SAS documents a FIRSTORDER suboption of
  DDFM=KR for this, not checked here). For UN, mmrm's own "Kenward-Roger" differs from
  SAS because mmrm differentiates in its Cholesky parameters (R_hj != 0), and mmrm's
  vignette recommends "Kenward-Roger-Linear" to match SAS; here UN is differentiated in
  SAS's parameters, so "KR" and "KR-linear" coincide for it. SAS's DDFM=KR2 (the 2009
  revision of Kenward and Roger) is not implemented. For AR(1), ARH(1) and TOEPH, "KR"
  follows the formula in SAS's parameters but was not compared with a SAS listing (none
  with its data printed was found).
- Satterthwaite: for a contrast l, df = 2 (l'Phi l)^2 / (g'W g), g_h = l' dPhi/dphi_h l,
  dPhi/dphi_h = Phi X'A_h X Phi (SAS DDFM=SATTERTHWAITE; mmrm; lmerTest). For several
  rows, the eigen-decomposition of L Phi L' and E = sum nu_i / (nu_i - 2), df =
  2E / (E - q) (Fai & Cornelius 1996; lmerTest's and mmrm's ``get_Fstat_ddf``: df = 2 if
  any nu_i <= 2, and the common value if all nu_i are equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))


@dataclass
class Pattern:
    """Sufficient statistics of the subjects sharing a group and a set of visits."""

    group: int
    idx: np.ndarray  # visit indices observed (length m)
    n: int  # subjects
    xx: np.ndarray  # (m*m, p*p)
    xy: np.ndarray  # (m*m, p)
    yy: np.ndarray  # (m*m,)


def pattern_stats(x: np.ndarray, y: np.ndarray, group: int, idx: np.ndarray) -> Pattern:
    """Sufficient statistics of one pattern from its subjects' rows: x (n, m, p), y (n, m)."""
    n, m, p = x.shape
    flat = x.reshape(n, m * p)
    xx = (flat.T @ flat).reshape(m, p, m, p).transpose(0, 2, 1, 3).reshape(m * m, p * p)
    xy = (flat.T @ y).reshape(m, p, m).transpose(0, 2, 1).reshape(m * m, p)
    yy = (y.T @ y).reshape(m * m)
    return Pattern(group, np.asarray(idx), n, np.ascontiguousarray(xx),
                   np.ascontiguousarray(xy), yy)


@dataclass
class Evaluation:
    """Likelihood pieces at one covariance: what the gradient and inference reuse."""

    neg2ll: float  # -2 log likelihood (REML or ML) including the 2 pi constant
    beta: np.ndarray
    phi: np.ndarray  # (X'V^-1X)^-1
    vinv: list[np.ndarray]  # per pattern V^-1 (m, m)
    srr: list[np.ndarray]  # per pattern sum_i r_i r_i' (m, m)
    ok: bool = True


class NotPositiveDefinite(ValueError):
    """A pattern's covariance matrix, or X'V^-1X, is not numerically positive definite."""


def _chol_inv(v: np.ndarray) -> tuple[np.ndarray, float]:
    try:
        c = np.linalg.cholesky(v)
    except np.linalg.LinAlgError as err:
        raise NotPositiveDefinite(str(err)) from err
    cinv = np.linalg.inv(c)
    return cinv.T @ cinv, 2.0 * float(np.sum(np.log(np.diag(c))))


def evaluate(patterns: list[Pattern], sigmas: list[np.ndarray], n_obs: int, reml: bool
             ) -> Evaluation:
    """-2 log L at the per-group covariance matrices ``sigmas``, with beta profiled out."""
    p = patterns[0].xy.shape[1]
    xvx = np.zeros(p * p)
    xvy = np.zeros(p)
    yvy = 0.0
    logdet = 0.0
    vinvs = []
    for pat in patterns:
        s = sigmas[pat.group]
        vinv, ld = _chol_inv(s[np.ix_(pat.idx, pat.idx)])
        vinvs.append(vinv)
        flat = vinv.reshape(-1)
        xvx += flat @ pat.xx
        xvy += flat @ pat.xy
        yvy += float(flat @ pat.yy)
        logdet += pat.n * ld
    xvx = xvx.reshape(p, p)
    xvx = (xvx + xvx.T) / 2
    phi, ld_x = _chol_inv(xvx)
    beta = phi @ xvy
    rvr = yvy - float(beta @ xvy)
    srr = []
    for pat in patterns:
        m = len(pat.idx)
        c = (pat.xy @ beta).reshape(m, m)
        quad = (pat.xx @ np.outer(beta, beta).reshape(-1)).reshape(m, m)
        srr.append(pat.yy.reshape(m, m) - c - c.T + quad)
    # REML: (n - p) log 2pi + log|V| + log|X'V^-1X| + r'V^-1r; ML: n log 2pi + log|V| + r'V^-1r
    neg2 = ((n_obs - p) * LOG_2PI + ld_x if reml else n_obs * LOG_2PI) + logdet + rvr
    return Evaluation(neg2, beta, phi, vinvs, srr)


def gradient(patterns: list[Pattern], ev: Evaluation, dsig: list[np.ndarray],
             offsets: list[int], n_params: int, reml: bool) -> np.ndarray:
    """Gradient of -2 log L; ``dsig[g]`` is dSigma_g / dparam, shape (q_g, T, T), for
    group g's parameters, which sit at ``offsets[g]:offsets[g] + q_g``."""
    grad = np.zeros(n_params)
    phi_flat = ev.phi.reshape(-1)
    for pat, vinv, srr in zip(patterns, ev.vinv, ev.srr, strict=True):
        d = dsig[pat.group][:, pat.idx][:, :, pat.idx]
        a = vinv @ d @ vinv  # (q_g, m, m)
        qg = d.shape[0]
        term = pat.n * np.einsum("ab,hba->h", vinv, d)
        term -= a.reshape(qg, -1) @ srr.reshape(-1)
        if reml:
            z = pat.xx @ phi_flat  # (m*m,): sum_i x_ia' Phi x_ib
            term -= a.reshape(qg, -1) @ z
        o = offsets[pat.group]
        grad[o:o + qg] += term
    return grad


def hessian(patterns: list[Pattern], ev: Evaluation, dsig: list[np.ndarray],
            d2sig: list[np.ndarray], offsets: list[int], n_params: int, reml: bool
            ) -> np.ndarray:
    """Observed Hessian of -2 log L (the formula of the module docstring), without
    forming Kenward-Roger's p x p matrices Q_hj, R_hj: their traces against Phi are
    sums over patterns of <M, Z>, Z[a, b] = sum_i x_ia' Phi x_ib, which costs
    O(patterns k^2 m^3) instead of O(patterns k^2 m^2 p^2); what each Newton step needs."""
    p = ev.phi.shape[0]
    k = n_params
    phi_flat = ev.phi.reshape(-1)
    pm = np.zeros((k, p * p))
    u = np.zeros((k, p))
    h = np.zeros((k, k))
    for pat, vinv, srr in zip(patterns, ev.vinv, ev.srr, strict=True):
        g = pat.group
        m = len(pat.idx)
        d = dsig[g][:, pat.idx][:, :, pat.idx]
        d2 = d2sig[g][:, :, pat.idx][:, :, :, pat.idx]
        qg = d.shape[0]
        sl = slice(offsets[g], offsets[g] + qg)
        a = vinv @ d @ vinv
        avv = (a[:, None] @ d[None] @ vinv).reshape(qg, qg, m * m)
        b = (vinv @ d2 @ vinv).reshape(qg, qg, m * m)
        vd = vinv @ d
        block = (pat.n * np.einsum("ab,hjba->hj", vinv, d2)
                 - pat.n * np.einsum("hab,jba->hj", vd, vd)
                 + 2 * (avv @ srr.reshape(-1)) - b @ srr.reshape(-1))
        if reml:
            z = pat.xx @ phi_flat
            block += -(b @ z) + 2 * (avv @ z)
            pm[sl] += a.reshape(qg, m * m) @ pat.xx
        sxr = pat.xy - pat.xx.reshape(m * m, p, p) @ ev.beta
        u[sl] += a.reshape(qg, m * m) @ sxr
        h[sl, sl] += block
    if reml:
        phipm = ev.phi @ pm.reshape(k, p, p)
        h -= np.einsum("hab,jba->hj", phipm, phipm)
    h -= 2 * u @ ev.phi @ u.T
    return (h + h.T) / 2


@dataclass
class Information:
    """Derivative matrices at the fit, in the natural covariance parameters.

    pm[h] = X'A_h X (= -P_h of Kenward & Roger), q[h, j] = Q_hj, r[h, j] = R_hj,
    hessian = observed Hessian of -2 log L, w = 2 hessian^-1 (None where singular)."""

    pm: np.ndarray  # (k, p, p)
    q: np.ndarray  # (k, k, p, p)
    r: np.ndarray  # (k, k, p, p)
    hessian: np.ndarray  # (k, k)
    w: np.ndarray | None


def information(patterns: list[Pattern], ev: Evaluation, sigmas: list[np.ndarray],
                dsig: list[np.ndarray], d2sig: list[np.ndarray], offsets: list[int],
                n_params: int, reml: bool) -> Information:
    """P, Q, R of Kenward-Roger and the observed Hessian of -2 log L (module docstring)."""
    p = ev.phi.shape[0]
    k = n_params
    pm = np.zeros((k, p * p))
    q = np.zeros((k, k, p * p))
    r = np.zeros((k, k, p * p))
    u = np.zeros((k, p))  # X'A_h r
    t1 = np.zeros((k, k))  # sum_i tr(V^-1 V_hj)
    t2 = np.zeros((k, k))  # sum_i tr(V^-1 V_h V^-1 V_j)
    ra = np.zeros((k, k))  # r'A_h V_j V^-1 r
    rb = np.zeros((k, k))  # r'V^-1 V_hj V^-1 r
    nonlinear = [bool(np.any(d)) for d in d2sig]  # V_hj = 0 for UN, CS, TOEP
    for pat, vinv, srr in zip(patterns, ev.vinv, ev.srr, strict=True):
        g = pat.group
        m = len(pat.idx)
        d = dsig[g][:, pat.idx][:, :, pat.idx]
        d2 = d2sig[g][:, :, pat.idx][:, :, :, pat.idx]
        qg = d.shape[0]
        sl = slice(offsets[g], offsets[g] + qg)
        a = vinv @ d @ vinv  # A_h
        avv = a[:, None] @ d[None] @ vinv  # A_h V_j V^-1, (qg, qg, m, m)
        pm[sl] += a.reshape(qg, m * m) @ pat.xx
        q[sl, sl] += (avv.reshape(qg * qg, m * m) @ pat.xx).reshape(qg, qg, -1)
        if nonlinear[g]:
            b = vinv @ d2 @ vinv  # V^-1 V_hj V^-1
            r[sl, sl] += (b.reshape(qg * qg, m * m) @ pat.xx).reshape(qg, qg, -1)
            rb[sl, sl] += b.reshape(qg, qg, m * m) @ srr.reshape(-1)
            t1[sl, sl] += pat.n * np.einsum("ab,hjba->hj", vinv, d2)
        sxr = pat.xy - pat.xx.reshape(m * m, p, p) @ ev.beta  # sum_i x_ia r_ib, (m*m, p)
        u[sl] += a.reshape(qg, m * m) @ sxr
        vd = vinv @ d  # V^-1 V_h
        t2[sl, sl] += pat.n * np.einsum("hab,jba->hj", vd, vd)
        ra[sl, sl] += avv.reshape(qg, qg, m * m) @ srr.reshape(-1)
    phi = ev.phi
    pm3 = pm.reshape(k, p, p)
    phi_flat = phi.reshape(-1)
    if reml:
        tr_pvhj = t1 - r @ phi_flat  # tr(P V_hj)
        phipm = phi @ pm3  # Phi P_h
        ppp = np.einsum("hab,jba->hj", phipm, phipm)
        tr_pvpv = t2 - 2 * (q @ phi_flat) + ppp  # tr(P V_h P V_j)
    else:
        tr_pvhj, tr_pvpv = t1, t2
    ypvpvpy = ra - u @ phi @ u.T
    ypvhjpy = rb
    hess = tr_pvhj - tr_pvpv + 2 * ypvpvpy - ypvhjpy
    hess = (hess + hess.T) / 2
    try:
        eig = np.linalg.eigvalsh(hess)
        w = 2 * np.linalg.inv(hess) if eig.min() > 1e-10 * max(eig.max(), 1e-300) else None
    except np.linalg.LinAlgError:
        w = None
    q = (q + q.transpose(1, 0, 2)) / 2  # W is symmetric: only Q_hj + Q_jh matters
    return Information(pm3, q.reshape(k, k, p, p), r.reshape(k, k, p, p), hess, w)


def kr_adjusted(phi: np.ndarray, info: Information, linear: bool = False) -> np.ndarray:
    """Kenward-Roger's adjusted covariance of beta, Phi_A (module docstring)."""
    w = info.w
    inner = np.einsum("hj,hjab->ab", w, info.q)
    wp = np.tensordot(w, info.pm, axes=(1, 0))  # sum_j W_hj P_j
    inner -= np.einsum("hab,hbd->ad", info.pm @ phi, wp)
    if not linear:
        inner -= np.einsum("hj,hjab->ab", w, info.r) / 4
    adj = phi + 2 * phi @ inner @ phi
    return (adj + adj.T) / 2


def dphi(phi: np.ndarray, info: Information) -> np.ndarray:
    """d Phi / d param_h = Phi X'A_h X Phi, shape (k, p, p)."""
    return phi @ info.pm @ phi


def satterthwaite_df(lvec: np.ndarray, phi: np.ndarray, info: Information) -> float:
    """Satterthwaite df of the scalar contrast l'beta (= Kenward-Roger's for one row)."""
    v = float(lvec @ phi @ lvec)
    g = np.einsum("a,hab,b->h", lvec, dphi(phi, info), lvec)
    denom = float(g @ info.w @ g)
    return 2 * v * v / denom if denom > 0 else np.inf


def satterthwaite_test(lmat: np.ndarray, beta: np.ndarray, phi: np.ndarray,
                       info: Information) -> tuple[float, float, float]:
    """F, numerator df (rank) and denominator df of L beta = 0 (module docstring)."""
    vals, vecs = np.linalg.eigh(lmat @ phi @ lmat.T)
    keep = vals > 1e-10 * vals.max()
    vals, vecs = vals[keep], vecs[:, keep]
    rows = vecs.T @ lmat
    est = rows @ beta
    f = float(np.sum(est ** 2 / vals) / len(vals))
    nu = np.array([satterthwaite_df(row, phi, info) for row in rows])
    if len(nu) == 1:
        df = float(nu[0])
    elif np.all(np.abs(np.diff(nu)) < 1e-8):
        df = float(np.mean(nu))
    elif np.any(nu <= 2):
        df = 2.0
    else:
        e = float(np.sum(nu / (nu - 2)))
        df = 2 * e / (e - len(nu))
    return f, float(len(vals)), df


def kr_test(lmat: np.ndarray, beta: np.ndarray, phi: np.ndarray, phi_a: np.ndarray,
            info: Information) -> tuple[float, float, float, float]:
    """Kenward-Roger F test of L beta = 0: (F*, numerator df, denominator df m, lambda).

    F = (L b)'(L Phi_A L')^-1 (L b) / c and F* = lambda F ~ F(c, m) (Kenward & Roger
    1997, section 4; A1, A2, B, g, c1..c3, E*, V*, rho as in the mmrm vignette)."""
    lmat = np.atleast_2d(lmat)
    c = np.linalg.matrix_rank(lmat @ phi @ lmat.T)
    if c < lmat.shape[0]:  # drop dependent rows
        vals, vecs = np.linalg.eigh(lmat @ phi @ lmat.T)
        lmat = vecs[:, vals > 1e-10 * vals.max()].T @ lmat
    est = lmat @ beta
    f = float(est @ np.linalg.solve(lmat @ phi_a @ lmat.T, est)) / c
    mmat = lmat.T @ np.linalg.solve(lmat @ phi @ lmat.T, lmat)
    mp = (mmat @ phi) @ info.pm @ phi  # M Phi P_h Phi (P_h's sign cancels in A1, A2)
    tr = np.einsum("haa->h", mp)
    w = info.w
    a1 = float(tr @ w @ tr)
    a2 = float(np.einsum("hj,hab,jba->", w, mp, mp))
    if c == 1:
        return f, 1.0, (2.0 / a1 if a1 > 0 else np.inf), 1.0
    b = (a1 + 6 * a2) / (2 * c)
    g = ((c + 1) * a1 - (c + 4) * a2) / ((c + 2) * a2)
    den = 3 * c + 2 * (1 - g)
    c1, c2, c3 = g / den, (c - g) / den, (c + 2 - g) / den
    e_star = 1 / (1 - a2 / c)
    v_star = (2 / c) * (1 + c1 * b) / ((1 - c2 * b) ** 2 * (1 - c3 * b))
    rho = v_star / (2 * e_star ** 2)
    m = 4 + (c + 2) / (c * rho - 1)
    lam = m / (e_star * (m - 2))
    return lam * f, float(c), float(m), float(lam)
