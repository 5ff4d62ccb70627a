"""Reference cluster decayer: Herwig 7's two-body cluster-decay kinematics, vectorised.

As in ``Herwig::ClusterDecayer::decayIntoTwoHadrons`` (Herwig manual; HadML papers): the decay
is isotropic in the cluster rest frame, unless a constituent is perturbative and the ClDir switch
of its flavour class (light, charm, bottom) is on. Then the hadron that carries that
constituent's flavour (hadron i for constituent i) keeps the constituent's rest-frame direction,
smeared by ``cos(theta_smear) = 1 + ClSmr * ln(R)``, R uniform in (0, 1], redrawn until above
-1 (no smearing for ClSmr <= 0.001), with a flat azimuth about it. Charm/bottom take priority over
light; equal priorities are broken by a fair coin. Hadrons are on shell. "Perturbative" is
Herwig's own ``Cluster::isPerturbative(i)`` where the table records it (hadml's decay records and
the cluster gun; fission daughters inherit their parent constituent's flag), else "the
constituents are known" (has_partons), the best a HadML cluster file tells.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..kinematics import boost, two_body_decay
from .table import ClusterTable, hadron_mass


@dataclass(frozen=True)
class DecayParams:
    """Parameters named as in Herwig's ClusterDecayer (defaults: Herwig 7.2)."""

    ClDirLight: bool = True
    ClSmrLight: float = 0.78
    ClDirCharm: bool = True
    ClSmrCharm: float = 0.163
    ClDirBottom: bool = True
    ClSmrBottom: float = 0.078

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


def _heavy_flavour(pid: np.ndarray, q: int) -> np.ndarray:
    a = np.abs(pid)
    return (a == q) | ((a > 1000) & (((a // 1000) % 10 == q) | ((a // 100) % 10 == q)))


def sample_cos_smear(smear: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """cos(theta_smear) = 1 + smear * ln(R), R in (0, 1], redrawn until >= -1."""
    smear = np.asarray(smear, dtype=np.float64)
    out = np.ones(smear.shape)
    todo = np.flatnonzero(smear > 0.001)
    while todo.size:
        r = 1.0 - rng.random(todo.size)  # (0, 1]
        c = 1.0 + smear[todo] * np.log(r)
        ok = c >= -1.0
        out[todo[ok]] = c[ok]
        todo = todo[~ok]
    return out


def cos_smear_cdf(x: np.ndarray, smear: float) -> np.ndarray:
    """Analytic CDF of :func:`sample_cos_smear` on [-1, 1] (a truncated exponential)."""
    lo = np.exp(-2.0 / smear)
    return (np.exp((np.asarray(x) - 1.0) / smear) - lo) / (1.0 - lo)


def _orthonormal(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    helper = np.where((np.abs(u[:, 0]) < 0.9)[:, None], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    return e1, np.cross(u, e1)


def decay_directions(
    table: ClusterTable,
    params: DecayParams,
    rng: np.random.Generator,
    perturbative: np.ndarray | None = None,
) -> np.ndarray:
    """Unit vectors (N, 3): hadron 1's direction in each cluster's rest frame."""
    n = table.n_clusters
    if perturbative is None:
        pert = table.has_partons if table.perturbative is None else table.perturbative.astype(bool)
    else:
        pert = np.asarray(perturbative, dtype=bool)
    pert = np.broadcast_to(pert[:, None] if pert.ndim == 1 else pert, (n, 2))
    pid = table.parton_pid
    bottom = _heavy_flavour(pid, 5)
    charm = _heavy_flavour(pid, 4) & ~bottom
    cldir = np.where(bottom, params.ClDirBottom, np.where(charm, params.ClDirCharm, params.ClDirLight))
    clsmr = np.where(bottom, params.ClSmrBottom, np.where(charm, params.ClSmrCharm, params.ClSmrLight))
    prio = np.where(cldir & pert, np.where(bottom | charm, 2, 1), 0)
    tie = (prio[:, 1] > 0) & (prio[:, 0] == prio[:, 1]) & (rng.random(n) < 0.5)
    prio[tie, 1] = 0
    aligned = (prio[:, 0] > 0) | (prio[:, 1] > 0)
    second = aligned & ~(prio[:, 0] > prio[:, 1])

    # isotropic by default
    cos_t = rng.uniform(-1.0, 1.0, n)
    ph = rng.uniform(-np.pi, np.pi, n)
    sin_t = np.sqrt(1.0 - cos_t**2)
    u = np.column_stack([sin_t * np.cos(ph), sin_t * np.sin(ph), cos_t])
    idx = np.flatnonzero(aligned)
    if idx.size:
        k = np.where(second[idx], 1, 0)
        partons = table.parton[idx, k]
        q = boost(partons, table.cluster[idx], to_rest=True)[:, 1:]
        axis = q / np.linalg.norm(q, axis=1, keepdims=True)
        c = sample_cos_smear(clsmr[idx, k], rng)
        s = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
        a = rng.uniform(0.0, 2.0 * np.pi, idx.size)
        e1, e2 = _orthonormal(axis)
        d = c[:, None] * axis + s[:, None] * (np.cos(a)[:, None] * e1 + np.sin(a)[:, None] * e2)
        u[idx] = np.where(second[idx, None], -d, d)
    return u


def decay_table(
    table: ClusterTable,
    params: DecayParams | None = None,
    seed: int | np.random.Generator = 0,
    perturbative: np.ndarray | None = None,
) -> ClusterTable:
    """Return a copy of ``table`` whose hadrons are decayed anew (species kept, on shell)."""
    params = params or DecayParams()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    u = decay_directions(table, params, rng, perturbative)
    theta = np.arccos(np.clip(u[:, 2], -1.0, 1.0))
    phi = np.arctan2(u[:, 1], u[:, 0])
    m = hadron_mass(table.hadron_pid)
    h1, h2 = two_body_decay(table.cluster, m[:, 0], m[:, 1], theta, phi)
    meta = dict(table.meta)
    meta["decayer"] = f"hadml reference decayer ({params.describe()})"
    return ClusterTable(
        table.counts.copy(),
        table.cluster.copy(),
        table.parton_pid.copy(),
        table.parton.copy(),
        table.hadron_pid.copy(),
        np.stack([h1, h2], axis=1),
        table.source,
        table.line,
        meta,
        None if table.perturbative is None else table.perturbative.copy(),
        None if table.fission is None else table.fission.copy(),
        None if table.by_gan is None else np.zeros(table.n_clusters, bool),  # decayed here, not by a GAN
    )
