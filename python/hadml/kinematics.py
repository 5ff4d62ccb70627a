"""Lorentz kinematics of two-body cluster decays (numpy twin of ``cpp/src/kinematics.cpp``).

Conventions (identical in C++, numpy and torch):

* Four-vectors are ``(E, px, py, pz)`` in GeV along the last axis, metric (+, -, -, -).
* The cluster rest frame is reached from the lab by the pure (rotation-free) boost along the
  cluster momentum; its axes are parallel to the lab x, y, z axes.
* A decay direction ``(theta, phi)`` is the unit vector
  ``(sin theta cos phi, sin theta sin phi, cos theta)`` in that frame.
* Of the two back-to-back hadrons, the *first* is the one whose rest-frame momentum lies in the
  half space x > 0 (ties: x == 0 and y > 0, then x == y == 0 and z >= 0). Hence
  theta is in [0, pi] and phi in (-pi/2, pi/2].
* Boosts use cancellation-free forms (see :func:`boost`), so clusters with E/M up to 1e3 and
  decays at threshold keep full double precision.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "KinematicsError",
    "boost",
    "decay_frame",
    "frame_direction_angles",
    "kallen",
    "mass",
    "mass2",
    "recover_angles",
    "recover_frame_direction",
    "two_body_decay",
    "two_body_momentum",
]

FloatArray = NDArray[np.float64]


class KinematicsError(ValueError):
    """Unphysical or malformed kinematic input."""


def _vectors(a: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim < 1 or arr.shape[-1] != 4:
        raise KinematicsError(f"{name} must have shape (..., 4), got {arr.shape}")
    return arr


def _bad_rows(mask: NDArray[np.bool_]) -> str:
    idx = np.flatnonzero(np.ravel(mask))
    head = ", ".join(str(i) for i in idx[:5])
    return f"rows [{head}{', ...' if idx.size > 5 else ''}] ({idx.size} in all)"


def _require_finite(a: FloatArray, name: str) -> None:
    bad = ~np.all(np.isfinite(a), axis=-1)
    if np.any(bad):
        raise KinematicsError(f"{name} has non-finite components at {_bad_rows(bad)}")


_SPLITTER = 134217729.0  # 2^27 + 1, Dekker's splitting constant


def _two_square(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    c = _SPLITTER * a
    ah = c - (c - a)
    al = a - ah
    hi = a * a
    return hi, ((ah * ah - hi) + 2.0 * ah * al) + al * al


def _two_sum(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    s = a + b
    bp = s - a
    return s, (a - (s - bp)) + (b - bp)


def mass2(p: ArrayLike) -> FloatArray:
    """Invariant mass squared E^2 - |p|^2, summed in doubled precision (error-free
    transformations), so that strongly boosted vectors keep their mass to full precision."""
    v = _vectors(p, "p")
    s, c = _two_square(v[..., 0])
    for i in (1, 2, 3):
        h, lo = _two_square(v[..., i])
        s, e = _two_sum(s, -h)
        c = c + (e - lo)
    return s + c


def mass(p: ArrayLike, name: str = "four-vector") -> FloatArray:
    """Invariant mass; raises :class:`KinematicsError` for space-like or non-finite vectors."""
    v = _vectors(p, name)
    _require_finite(v, name)
    m2 = mass2(v)
    if np.any(m2 < 0):
        raise KinematicsError(f"{name} is space-like (mass^2 < 0) at {_bad_rows(m2 < 0)}")
    return np.sqrt(m2)


def kallen(M: ArrayLike, m1: ArrayLike, m2: ArrayLike) -> FloatArray:
    """Kaellen function lambda(M^2, m1^2, m2^2) in factorised form; takes masses."""
    M, m1, m2 = (np.asarray(x, dtype=np.float64) for x in (M, m1, m2))
    return (M - m1 - m2) * (M + m1 + m2) * (M - m1 + m2) * (M + m1 - m2)


def two_body_momentum(M: ArrayLike, m1: ArrayLike, m2: ArrayLike) -> FloatArray:
    """Rest-frame momentum ``sqrt(lambda) / (2 M)``; raises below threshold."""
    M, m1, m2 = (np.asarray(x, dtype=np.float64) for x in (M, m1, m2))
    for x, name in ((M, "M"), (m1, "m1"), (m2, "m2")):
        if not np.all(np.isfinite(x)):
            raise KinematicsError(f"two-body decay: non-finite {name} at {_bad_rows(~np.isfinite(x))}")
    if np.any(m1 < 0) or np.any(m2 < 0):
        raise KinematicsError("two-body decay: negative hadron mass")
    below = M < m1 + m2
    if np.any(below):
        raise KinematicsError(f"two-body decay below threshold (M < m1 + m2) at {_bad_rows(below)}")
    return np.sqrt(kallen(M, m1, m2)) / (2.0 * M)


def _axis(frames: FloatArray) -> tuple[FloatArray, FloatArray]:
    p = np.sqrt(frames[..., 1] ** 2 + frames[..., 2] ** 2 + frames[..., 3] ** 2)
    safe = np.where(p == 0.0, 1.0, p)
    n = frames[..., 1:] / safe[..., None]
    n = np.where((p == 0.0)[..., None], np.array([0.0, 0.0, 1.0]), n)
    return n, p


@np.errstate(divide="ignore", invalid="ignore")
def _boost(
    k: FloatArray,
    m: FloatArray,
    E: FloatArray,
    n: FloatArray,
    pabs: FloatArray,
    M: FloatArray,
    s: float,
) -> FloatArray:
    """Core boost, mirrored from C++: s=+1 rest -> lab, s=-1 lab -> rest.

    Both branches of each ``where`` are evaluated; the one not taken may divide 0 by 0 (a vector
    at rest along the axis), hence the errstate. The branch taken never does for valid input."""
    e = k[..., 0]
    kvec = k[..., 1:]
    kpar = np.sum(n * kvec, axis=-1)
    c = np.cross(n, kvec)
    mt2 = m * m + np.sum(c * c, axis=-1)
    P = s * pabs
    e_direct = (E * e + P * kpar) / M
    e_stable = (M * M * e * e + pabs * pabs * mt2) / (M * (E * e + np.abs(P * kpar)))
    e_new = np.where(P * kpar >= 0.0, e_direct, e_stable)
    par_direct = (P * e + E * kpar) / M
    num = pabs * pabs * mt2 - M * M * kpar * kpar
    par_stable = s * num / (M * (pabs * e + E * np.abs(kpar)))
    par_new = np.where((s * kpar >= 0.0) | (P == 0.0), par_direct, par_stable)
    d = par_new - kpar
    return np.concatenate([e_new[..., None], kvec + d[..., None] * n], axis=-1)


def _frame(frames: ArrayLike, name: str) -> tuple[FloatArray, FloatArray]:
    f = _vectors(frames, name)
    M = mass(f, name)
    bad = (M <= 0) | (f[..., 0] <= 0)
    if np.any(bad):
        raise KinematicsError(f"{name} must be time-like with positive mass and energy at {_bad_rows(bad)}")
    return f, M


def boost(vectors: ArrayLike, frames: ArrayLike, to_rest: bool) -> FloatArray:
    """Boost ``vectors`` into (``to_rest=True``) or out of the rest frame of ``frames``.

    ``to_rest=False`` reads ``vectors`` as given in the rest frame of ``frames`` and returns them
    in the frame in which ``frames`` is measured. Both arrays have shape (..., 4).
    """
    k = _vectors(vectors, "vectors")
    f, M = _frame(frames, "frames")
    mk = mass(k, "vectors")
    n, pabs = _axis(f)
    return _boost(k, mk, f[..., 0], n, pabs, M, -1.0 if to_rest else 1.0)


def two_body_decay(
    clusters: ArrayLike, m1: ArrayLike, m2: ArrayLike, theta: ArrayLike, phi: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Decay clusters (..., 4) into masses m1, m2; the m1 hadron goes along (theta, phi) in the
    cluster rest frame. Returns the two lab-frame four-momenta, each (..., 4)."""
    f, M = _frame(clusters, "clusters")
    m1, m2, theta, phi = (np.asarray(x, dtype=np.float64) for x in (m1, m2, theta, phi))
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(phi))):
        raise KinematicsError("two-body decay: non-finite angle")
    p = two_body_momentum(M, m1, m2)
    st = np.sin(theta)
    q = np.stack([p * st * np.cos(phi), p * st * np.sin(phi), p * np.cos(theta)], axis=-1)
    q = np.broadcast_to(q, (*f.shape[:-1], 3))
    e1 = np.sqrt(m1 * m1 + p * p)
    e2 = np.sqrt(m2 * m2 + p * p)
    q1 = np.concatenate([np.broadcast_to(e1, q.shape[:-1])[..., None], q], axis=-1)
    q2 = np.concatenate([np.broadcast_to(e2, q.shape[:-1])[..., None], -q], axis=-1)
    n, pabs = _axis(f)
    E = f[..., 0]
    return _boost(q1, m1, E, n, pabs, M, 1.0), _boost(q2, m2, E, n, pabs, M, 1.0)


def first_is_positive(d: FloatArray) -> NDArray[np.bool_]:
    """The half-space rule that defines the *first* hadron (see module docstring)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.where(x != 0.0, x > 0.0, np.where(y != 0.0, y > 0.0, z >= 0.0))


def recover_angles(
    clusters: ArrayLike, h1: ArrayLike, h2: ArrayLike
) -> tuple[FloatArray, FloatArray, NDArray[np.int32]]:
    """From clusters and their two lab hadrons (each (..., 4)) recover (theta, phi) of the first
    hadron in the cluster rest frame and which hadron it is (0: h1, 1: h2).

    The decay axis is taken as ``q1 - q2`` in the rest frame (robust to rounded inputs)."""
    f, M = _frame(clusters, "clusters")
    a = _vectors(h1, "h1")
    b = _vectors(h2, "h2")
    if a.shape != f.shape or b.shape != f.shape:
        raise KinematicsError(f"shape mismatch: clusters {f.shape}, h1 {a.shape}, h2 {b.shape}")
    ma = mass(a, "h1")
    mb = mass(b, "h2")
    n, pabs = _axis(f)
    E = f[..., 0]
    q1 = _boost(a, ma, E, n, pabs, M, -1.0)
    q2 = _boost(b, mb, E, n, pabs, M, -1.0)
    d = q1[..., 1:] - q2[..., 1:]
    at_rest = np.all(d == 0.0, axis=-1)
    if np.any(at_rest):
        raise KinematicsError(f"hadrons at rest in the cluster frame at {_bad_rows(at_rest)}")
    pos = first_is_positive(d)
    d = np.where(pos[..., None], d, -d)
    theta = np.arctan2(np.hypot(d[..., 0], d[..., 1]), d[..., 2])
    phi = np.arctan2(d[..., 1], d[..., 0])
    return theta, phi, np.where(pos, 0, 1).astype(np.int32)


# ---- the hadml-2 decay frame (mirrors cpp/include/hadml/kinematics.hpp, decay_frame) ----------
PARALLEL_TOL = 1e-12  # |n - (n.z*) z*| below this: the flight direction is (anti)parallel to z*


def _norm3(a: FloatArray) -> FloatArray:
    return np.sqrt(np.sum(a * a, axis=-1))


def decay_frame(clusters: ArrayLike, constituents1: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The hadml-2 frame of each cluster: axes (..., 3, 3) as rows x*, y*, z* in lab-parallel
    rest-frame coordinates, and cos_alpha = n . z* (...,).

    z* is constituent 1's direction in the cluster rest frame; x* the cluster's flight direction n
    with its z* component removed (where n is (anti)parallel to z*, the lab axis least aligned
    with z*); y* = z* x x*. Components in these axes are invariant under rotations of the event."""
    f, M = _frame(clusters, "clusters")
    q = _vectors(constituents1, "constituents1")
    if q.shape != f.shape:
        raise KinematicsError(f"shape mismatch: clusters {f.shape}, constituents1 {q.shape}")
    m2q = mass2(q)
    bad = ~(q[..., 0] > 0) | (m2q < -1e-9 * q[..., 0] ** 2)
    if np.any(bad):
        raise KinematicsError(f"constituent 1 must be time- or light-like with positive energy at {_bad_rows(bad)}")
    n, pabs = _axis(f)
    qr = _boost(q, np.sqrt(np.maximum(m2q, 0.0)), f[..., 0], n, pabs, M, -1.0)[..., 1:]
    qn = _norm3(qr)
    if np.any(~(qn > 0)):
        raise KinematicsError(f"constituent 1 at rest in the cluster frame at {_bad_rows(~(qn > 0))}")
    z = qr / qn[..., None]
    cos_alpha = np.sum(n * z, axis=-1)
    x = n - cos_alpha[..., None] * z
    xn = _norm3(x)
    parallel = xn < PARALLEL_TOL
    if np.any(parallel):
        a = np.abs(z)
        pick = np.where((a[..., 0] <= a[..., 1]) & (a[..., 0] <= a[..., 2]), 0, np.where(a[..., 1] <= a[..., 2], 1, 2))
        e = np.eye(3)[pick]
        alt = e - np.sum(e * z, axis=-1)[..., None] * z
        x = np.where(parallel[..., None], alt, x)
        xn = _norm3(x)
    x = x / xn[..., None]
    # a second Gram-Schmidt pass (near-parallel n leaves x a z component of ~eps / |x|): the axes
    # are orthonormal to rounding, so a rotated direction stays a unit vector (four-momentum)
    x = x - np.sum(x * z, axis=-1)[..., None] * z
    x = x / _norm3(x)[..., None]
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-2), cos_alpha


def frame_direction_angles(axes: ArrayLike, u: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Directions u (..., 3) in frame coordinates (any non-zero length) as (theta, phi) in the
    lab-parallel rest-frame axes that :func:`two_body_decay` takes (phi in (-pi, pi])."""
    R = np.asarray(axes, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    d = u[..., 0, None] * R[..., 0, :] + u[..., 1, None] * R[..., 1, :] + u[..., 2, None] * R[..., 2, :]
    bad = ~np.all(np.isfinite(d), axis=-1) | np.all(d == 0.0, axis=-1)
    if np.any(bad):
        raise KinematicsError(f"frame direction must be finite and non-zero at {_bad_rows(bad)}")
    return np.arctan2(np.hypot(d[..., 0], d[..., 1]), d[..., 2]), np.arctan2(d[..., 1], d[..., 0])


def recover_frame_direction(clusters: ArrayLike, constituents1: ArrayLike, h1: ArrayLike,
                            h2: ArrayLike) -> FloatArray:
    """Hadron 1's unit direction (..., 3) in the hadml-2 frame, from the lab hadrons (decay axis
    q1 - q2 in the rest frame; no fold)."""
    axes, _ = decay_frame(clusters, constituents1)
    f, M = _frame(clusters, "clusters")
    a = _vectors(h1, "h1")
    b = _vectors(h2, "h2")
    if a.shape != f.shape or b.shape != f.shape:
        raise KinematicsError(f"shape mismatch: clusters {f.shape}, h1 {a.shape}, h2 {b.shape}")
    n, pabs = _axis(f)
    d = (_boost(a, mass(a, "h1"), f[..., 0], n, pabs, M, -1.0) - _boost(b, mass(b, "h2"), f[..., 0], n, pabs, M, -1.0))[..., 1:]
    dn = _norm3(d)
    if np.any(~(dn > 0)):
        raise KinematicsError(f"hadrons at rest in the cluster frame at {_bad_rows(~(dn > 0))}")
    return np.einsum("...ij,...j->...i", axes, d) / dn[..., None]
