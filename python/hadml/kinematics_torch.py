"""Differentiable, batched torch twin of :mod:`hadml.kinematics` (same formulas, same order).

Used by the event-level GAN, which back-propagates through the boost. All functions take
tensors with a trailing dimension of 4 for four-vectors and keep dtype and device. Input checks
(``check=True``) synchronise with the device; training loops that validated their data up front
pass ``check=False``.
"""

from __future__ import annotations

import torch

from .kinematics import KinematicsError

__all__ = [
    "boost",
    "decay_frame",
    "mass",
    "recover_angles",
    "two_body_decay",
    "two_body_decay_along",
    "two_body_momentum",
]


def _check_finite(t: torch.Tensor, name: str) -> None:
    if not bool(torch.isfinite(t).all()):
        raise KinematicsError(f"{name} has non-finite components")


def _two_square(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # Dekker's splitter 2^(ceil(t/2)) + 1 for a t-bit significand
    c = (134217729.0 if a.dtype == torch.float64 else 4097.0) * a
    ah = c - (c - a)
    al = a - ah
    hi = a * a
    return hi, ((ah * ah - hi) + 2.0 * ah * al) + al * al


def mass2(p: torch.Tensor) -> torch.Tensor:
    """E^2 - |p|^2 in doubled precision, as in the numpy and C++ twins."""
    s, c = _two_square(p[..., 0])
    for i in (1, 2, 3):
        h, lo = _two_square(p[..., i])
        t = s - h
        bp = t - s
        e = (s - (t - bp)) + (-h - bp)
        s = t
        c = c + (e - lo)
    return s + c


def mass(p: torch.Tensor, name: str = "four-vector", check: bool = True) -> torch.Tensor:
    if p.shape[-1] != 4:
        raise KinematicsError(f"{name} must have shape (..., 4), got {tuple(p.shape)}")
    m2 = mass2(p)
    if check:
        _check_finite(p, name)
        if bool((m2 < 0).any()):
            raise KinematicsError(f"{name} is space-like (mass^2 < 0)")
    return torch.sqrt(m2.clamp_min(0.0))


def two_body_momentum(
    M: torch.Tensor, m1: torch.Tensor, m2: torch.Tensor, check: bool = True
) -> torch.Tensor:
    if check:
        for x, name in ((M, "M"), (m1, "m1"), (m2, "m2")):
            _check_finite(x, name)
        if bool((m1 < 0).any() | (m2 < 0).any()):
            raise KinematicsError("two-body decay: negative hadron mass")
        if bool((M < m1 + m2).any()):
            raise KinematicsError("two-body decay below threshold (M < m1 + m2)")
    lam = (M - m1 - m2) * (M + m1 + m2) * (M - m1 + m2) * (M + m1 - m2)
    return torch.sqrt(lam.clamp_min(0.0)) / (2.0 * M)


def _axis(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    p = torch.sqrt(f[..., 1] ** 2 + f[..., 2] ** 2 + f[..., 3] ** 2)
    zero = p == 0.0
    n = f[..., 1:] / torch.where(zero, torch.ones_like(p), p)[..., None]
    ez = torch.zeros_like(n)
    ez[..., 2] = 1.0
    return torch.where(zero[..., None], ez, n), p


def _boost(
    k: torch.Tensor,
    m: torch.Tensor,
    E: torch.Tensor,
    n: torch.Tensor,
    pabs: torch.Tensor,
    M: torch.Tensor,
    s: float,
) -> torch.Tensor:
    e = k[..., 0]
    kvec = k[..., 1:]
    kpar = (n * kvec).sum(-1)
    c = torch.linalg.cross(n, kvec, dim=-1)
    mt2 = m * m + (c * c).sum(-1)
    P = s * pabs
    e_direct = (E * e + P * kpar) / M
    e_stable = (M * M * e * e + pabs * pabs * mt2) / (M * (E * e + torch.abs(P * kpar)))
    e_new = torch.where(P * kpar >= 0.0, e_direct, e_stable)
    par_direct = (P * e + E * kpar) / M
    num = pabs * pabs * mt2 - M * M * kpar * kpar
    par_stable = s * num / (M * (pabs * e + E * torch.abs(kpar)))
    par_new = torch.where((s * kpar >= 0.0) | (P == 0.0), par_direct, par_stable)
    d = par_new - kpar
    return torch.cat([e_new[..., None], kvec + d[..., None] * n], dim=-1)


def boost(vectors: torch.Tensor, frames: torch.Tensor, to_rest: bool, check: bool = True) -> torch.Tensor:
    M = mass(frames, "frames", check)
    mk = mass(vectors, "vectors", check)
    n, pabs = _axis(frames)
    return _boost(vectors, mk, frames[..., 0], n, pabs, M, -1.0 if to_rest else 1.0)


def two_body_decay(
    clusters: torch.Tensor,
    m1: torch.Tensor,
    m2: torch.Tensor,
    theta: torch.Tensor,
    phi: torch.Tensor,
    check: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Differentiable in theta and phi (and in the cluster and masses)."""
    M = mass(clusters, "clusters", check)
    if check:
        _check_finite(theta, "theta")
        _check_finite(phi, "phi")
        if bool((M <= 0).any() | (clusters[..., 0] <= 0).any()):
            raise KinematicsError("clusters must be time-like with positive mass and energy")
    st = torch.sin(theta)
    d = torch.stack([st * torch.cos(phi), st * torch.sin(phi), torch.cos(theta)], -1)
    return _pair(clusters, M, m1, m2, d, check)


def _pair(
    clusters: torch.Tensor, M: torch.Tensor, m1: torch.Tensor, m2: torch.Tensor, d: torch.Tensor, check: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hadron 1 along the unit rest-frame direction d (lab-parallel axes), hadron 2 back to back,
    both boosted to the lab."""
    p = two_body_momentum(M, m1, m2, check)
    q = p[..., None] * d
    q1 = torch.cat([torch.sqrt(m1 * m1 + p * p)[..., None], q], -1)
    q2 = torch.cat([torch.sqrt(m2 * m2 + p * p)[..., None], -q], -1)
    n, pabs = _axis(clusters)
    E = clusters[..., 0]
    return _boost(q1, m1, E, n, pabs, M, 1.0), _boost(q2, m2, E, n, pabs, M, 1.0)


def recover_angles(
    clusters: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor, check: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    M = mass(clusters, "clusters", check)
    ma = mass(h1, "h1", check)
    mb = mass(h2, "h2", check)
    n, pabs = _axis(clusters)
    E = clusters[..., 0]
    d = _boost(h1, ma, E, n, pabs, M, -1.0)[..., 1:] - _boost(h2, mb, E, n, pabs, M, -1.0)[..., 1:]
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    pos = torch.where(x != 0.0, x > 0.0, torch.where(y != 0.0, y > 0.0, z >= 0.0))
    d = torch.where(pos[..., None], d, -d)
    theta = torch.atan2(torch.hypot(d[..., 0], d[..., 1]), d[..., 2])
    phi = torch.atan2(d[..., 1], d[..., 0])
    return theta, phi, torch.where(pos, 0, 1).to(torch.int32)


# ---- the hadml-2 decay frame (mirrors hadml.kinematics.decay_frame and the C++ core) ----------
PARALLEL_TOL = 1e-12


def decay_frame(clusters: torch.Tensor, constituents1: torch.Tensor, check: bool = True
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Axes (..., 3, 3) (rows x*, y*, z*) and cos_alpha of the hadml-2 frame; see
    :func:`hadml.kinematics.decay_frame`."""
    M = mass(clusters, "clusters", check)
    m2q = mass2(constituents1)
    n, pabs = _axis(clusters)
    qr = _boost(constituents1, torch.sqrt(torch.clamp(m2q, min=0.0)), clusters[..., 0], n, pabs, M, -1.0)[..., 1:]
    qn = torch.linalg.vector_norm(qr, dim=-1)
    if check and bool((~(qn > 0)).any()):
        raise KinematicsError("constituent 1 at rest in the cluster frame")
    z = qr / qn[..., None]
    cos_alpha = (n * z).sum(-1)
    x = n - cos_alpha[..., None] * z
    xn = torch.linalg.vector_norm(x, dim=-1)
    parallel = xn < PARALLEL_TOL
    if bool(parallel.any()):
        a = z.abs()
        pick = torch.where((a[..., 0] <= a[..., 1]) & (a[..., 0] <= a[..., 2]), 0,
                           torch.where(a[..., 1] <= a[..., 2], 1, 2))
        e = torch.eye(3, dtype=z.dtype, device=z.device)[pick]
        alt = e - (e * z).sum(-1, keepdim=True) * z
        x = torch.where(parallel[..., None], alt, x)
        xn = torch.linalg.vector_norm(x, dim=-1)
    x = x / xn[..., None]
    x = x - (x * z).sum(-1, keepdim=True) * z  # second Gram-Schmidt pass, as hadml.kinematics.decay_frame
    x = x / torch.linalg.vector_norm(x, dim=-1)[..., None]
    y = torch.linalg.cross(z, x, dim=-1)
    return torch.stack([x, y, z], dim=-2), cos_alpha


def two_body_decay_along(
    clusters: torch.Tensor,
    m1: torch.Tensor,
    m2: torch.Tensor,
    axes: torch.Tensor,
    u: torch.Tensor,
    check: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hadron 1 along u (..., 3, any non-zero length; hadml-2 frame coordinates), hadron 2 back
    to back, both in the lab. Differentiable in u (no angles on the way: no singular points)."""
    M = mass(clusters, "clusters", check)
    d = (u[..., :, None] * axes).sum(-2)
    dn = torch.linalg.vector_norm(d, dim=-1)
    if check and bool((~(dn > 0) | ~torch.isfinite(dn)).any()):
        raise KinematicsError("frame direction must be finite and non-zero")
    return _pair(clusters, M, m1, m2, d / dn[..., None], check)
