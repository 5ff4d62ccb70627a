"""Exact event shapes: thrust, thrust major and minor, sphericity and aplanarity.

Thrust T = max_n sum|p.n| / sum|p|. The maximising axis is sum(eps_k p_k) for the sign pattern
eps_k = sign(p_k . n) of some plane through the origin; every such pattern is reached by a plane
containing two of the momenta (Brandt and Dahmen), so trying all pairs, with both signs for the
two momenta in the plane, is exact: O(N^3) per event, vectorised. Thrust major is the same
problem in the plane perpendicular to the thrust axis (candidate lines through one projected
momentum); thrust minor uses the axis perpendicular to both. Coplanar events are solved in their
plane (there all pair planes coincide).
"""

from __future__ import annotations

import numpy as np


def _refine(c: np.ndarray, p: np.ndarray, steps: int = 3) -> np.ndarray:
    """Re-partition by the candidate axes: c <- sum sign(p.c) p. Never lowers |c| (sum|p.n| >=
    c.n); resolves momenta lying exactly on a dividing plane, which the enumeration leaves out."""
    for _ in range(steps):
        c = np.sign(c @ p.T) @ p
    return c


def _best_axis_3d(p: np.ndarray) -> np.ndarray:
    n = len(p)
    if n == 1:
        return p[0] / np.linalg.norm(p[0])
    # Coplanar (or collinear) events: every pair spans the event plane, so the pair planes say
    # nothing; the dividing plane then contains the event plane's normal: solve in 2D.
    _, sv, vt = np.linalg.svd(p, full_matrices=False)
    if len(sv) < 3 or sv[2] <= 1e-12 * sv[0]:
        u1, u2 = vt[0], vt[1]
        a = _best_axis_2d(np.column_stack([p @ u1, p @ u2]))
        return a[0] * u1 + a[1] * u2
    i, j = np.triu_indices(n, 1)
    normal = np.cross(p[i], p[j])  # (P, 3)
    s = np.sign(normal @ p.T)  # (P, N): side of each momentum
    rows = np.arange(len(i))
    s[rows, i] = 0.0  # the pair itself lies in the plane (rounding would give it a side)
    s[rows, j] = 0.0
    base = s @ p  # sum over momenta off the plane
    cands = [base + a * p[i] + b * p[j] for a in (-1, 1) for b in (-1, 1)]
    c = _refine(np.concatenate(cands), p)
    norms = np.linalg.norm(c, axis=1)
    k = np.argmax(norms)
    if norms[k] == 0:
        return np.array([0.0, 0.0, 1.0])
    return c[k] / norms[k]


def _best_axis_2d(q: np.ndarray) -> np.ndarray:
    """q: (N, 2) projected momenta; the unit 2-vector maximising sum|q.n|."""
    keep = np.linalg.norm(q, axis=1) > 0
    q = q[keep]
    if len(q) == 0:
        return np.array([1.0, 0.0])
    perp = np.column_stack([-q[:, 1], q[:, 0]])  # a line through each momentum
    s = np.sign(perp @ q.T)  # (N, N)
    base = s @ q
    c = _refine(np.concatenate([base + q, base - q]), q)
    norms = np.linalg.norm(c, axis=1)
    k = np.argmax(norms)
    return c[k] / norms[k] if norms[k] > 0 else np.array([1.0, 0.0])


def thrust_axes(p: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """(T, T_major, T_minor, thrust axis) of one event's momenta p (N, 3)."""
    p = np.asarray(p, dtype=np.float64)
    total = np.linalg.norm(p, axis=1).sum()
    if total == 0 or len(p) == 0:
        return 0.0, 0.0, 0.0, np.array([0.0, 0.0, 1.0])
    nt = _best_axis_3d(p)
    T = np.abs(p @ nt).sum() / total
    helper = np.array([1.0, 0.0, 0.0]) if abs(nt[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    e1 = np.cross(nt, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(nt, e1)
    q = np.column_stack([p @ e1, p @ e2])
    m2 = _best_axis_2d(q)
    nmaj = m2[0] * e1 + m2[1] * e2
    nmin = np.cross(nt, nmaj)
    return T, np.abs(p @ nmaj).sum() / total, np.abs(p @ nmin).sum() / total, nt


def sphericity(p: np.ndarray) -> tuple[float, float]:
    """(S, A) from the quadratic momentum tensor sum p^a p^b / sum |p|^2."""
    p = np.asarray(p, dtype=np.float64)
    norm = (p**2).sum()
    if norm == 0:
        return 0.0, 0.0
    lam = np.sort(np.linalg.eigvalsh(p.T @ p / norm))[::-1]
    return 1.5 * (lam[1] + lam[2]), 1.5 * lam[2]


def event_shapes(counts: np.ndarray, p3: np.ndarray) -> dict[str, np.ndarray]:
    """Event shapes of every event: counts (n_events,), p3 (sum counts, 3)."""
    return event_shapes_and_axes(counts, p3)[0]


def event_shapes_and_axes(counts: np.ndarray, p3: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:func:`event_shapes` and the thrust axis of every event, (n_events, 3) unit vectors
    (+z for an event without hadrons)."""
    out = {
        k: np.zeros(len(counts))
        for k in ("thrust", "thrust_major", "thrust_minor", "sphericity", "aplanarity")
    }
    axes = np.tile([0.0, 0.0, 1.0], (len(counts), 1))
    start = 0
    for e, n in enumerate(counts):
        p = p3[start : start + n]
        start += n
        if n == 0:
            continue
        T, M, m, axes[e] = thrust_axes(p)
        S, A = sphericity(p)
        out["thrust"][e], out["thrust_major"][e], out["thrust_minor"][e] = T, M, m
        out["sphericity"][e], out["aplanarity"][e] = S, A
    return out, axes
