"""Cluster gun: cluster kinematics and constituents from configurable distributions, or derived
from a real sample; hadron species chosen, momenta left to a decayer (see reference.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..kinematics import boost, two_body_momentum
from .table import HADRON_MASS, PLACEHOLDER_PID, ClusterTable

# Herwig 7.2 constituent masses (quarks.in): u, d 0.325; s 0.45
CONSTITUENT_MASS = {1: 0.325, 2: 0.325, 3: 0.45}


@dataclass(frozen=True)
class GunConfig:
    """Embedded default: shaped after Herwig's LEP 91.2 GeV two-body clusters (pions only,
    about 7 per event, mean mass ~1.9 GeV, about 27 % with known constituents)."""

    min_clusters: int = 3
    mean_extra_clusters: float = 4.0
    max_clusters: int = 18
    mass_shape: float = 1.4  # cluster mass = 0.7 GeV + Gamma(shape, scale)
    mass_scale: float = 0.85
    mass_offset: float = 0.7
    gamma_shape: float = 0.9  # E/M = 1 + Gamma(shape, scale)
    gamma_scale: float = 5.5
    max_energy: float = 45.6  # half of 91.2 GeV: redrawn above
    parton_fraction: float = 0.27
    parton_collimation: float = 0.3  # spread of the constituents about the flight axis
    # labelled (hadml-2) clusters, as Herwig's handler records them: every cluster has its two
    # constituents (u/d only, since the hadrons are pions), a fission flag and Herwig's
    # isPerturbative flags. Fractions measured on the nominal Herwig sample (docs/samples.md): 72 %
    # of clusters come from fission; constituent 1 is perturbative in 34.4 % of the others and in
    # 27.2 % of fission products (which inherit it from their parent's original constituent).
    labelled: bool = False
    fission_fraction: float = 0.72
    perturbative_direct: float = 0.344
    perturbative_fission: float = 0.272

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self).items())


PION_PAIRS = np.array([[211, -211], [-211, 211], [111, 111]], dtype=np.int32)


def _isotropic(n: int, rng: np.random.Generator) -> np.ndarray:
    c = rng.uniform(-1, 1, n)
    p = rng.uniform(-np.pi, np.pi, n)
    s = np.sqrt(1 - c * c)
    return np.column_stack([s * np.cos(p), s * np.sin(p), c])


def _partons_for(
    cluster: np.ndarray, rng: np.random.Generator, collimation: float, strange: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A light quark-antiquark pair back to back in each cluster's frame, boosted to the lab.

    As after a parton shower, the pair lies close to the cluster's flight direction: the quark's
    rest-frame direction is the flight axis (either sense) smeared by cos = 1 + c ln R."""
    n = cluster.shape[0]
    M = np.sqrt(np.maximum(cluster[:, 0] ** 2 - (cluster[:, 1:] ** 2).sum(1), 0.0))
    # u, d or s, but s only where the cluster is heavier than s sbar
    flav = np.where(strange & (M > 2 * CONSTITUENT_MASS[3]), rng.integers(1, 4, n), rng.integers(1, 3, n))
    mq = np.array([CONSTITUENT_MASS[int(f)] for f in flav]).reshape(n)
    p = two_body_momentum(M, mq, mq)
    from .reference import _orthonormal, sample_cos_smear

    axis = cluster[:, 1:] / np.linalg.norm(cluster[:, 1:], axis=1, keepdims=True)
    axis *= np.where(rng.random(n) < 0.5, 1.0, -1.0)[:, None]
    c = sample_cos_smear(np.full(n, collimation), rng)
    sn = np.sqrt(np.clip(1 - c * c, 0, None))
    a = rng.uniform(0, 2 * np.pi, n)
    e1, e2 = _orthonormal(axis)
    u = c[:, None] * axis + sn[:, None] * (np.cos(a)[:, None] * e1 + np.sin(a)[:, None] * e2)
    e = np.sqrt(mq**2 + p**2)
    q1 = np.column_stack([e, p[:, None] * u])
    q2 = np.column_stack([e, -p[:, None] * u])
    lab = np.stack([boost(q1, cluster, False), boost(q2, cluster, False)], axis=1)
    pid = np.column_stack([flav, -flav]).astype(np.int32)
    return pid, lab


class ClusterGun:
    """Samples events of two-body clusters. ``sample`` gives a ClusterTable whose hadron momenta
    are zero; pass it to :func:`hadml.data.reference.decay_table`."""

    def __init__(self, config: GunConfig | None = None, template: ClusterTable | None = None):
        self.config = config or GunConfig()
        self.template = template

    @classmethod
    def from_table(cls, table: ClusterTable) -> ClusterGun:
        """Derive the cluster kinematics, constituents and species from a real sample: events
        are drawn from it with replacement and given a random rotation. A hadml decay record's
        ``isPerturbative`` and fission flags go with its clusters (the reference decayer uses them)."""
        return cls(template=table)

    def describe(self) -> str:
        if self.template is not None:
            return f"cluster gun derived from {self.template.source} ({self.template.n_clusters} clusters)"
        return f"cluster gun ({self.config.describe()})"

    def sample(self, n_events: int, seed: int | np.random.Generator = 0) -> ClusterTable:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        if self.template is not None:
            return self._resample(n_events, rng)
        cfg = self.config
        counts = np.minimum(
            cfg.min_clusters + rng.poisson(cfg.mean_extra_clusters, n_events), cfg.max_clusters
        ).astype(np.int64)
        n = int(counts.sum())
        M = cfg.mass_offset + rng.gamma(cfg.mass_shape, cfg.mass_scale, n)
        gamma = 1.0 + rng.gamma(cfg.gamma_shape, cfg.gamma_scale, n)
        while np.any(high := M * gamma > cfg.max_energy):
            gamma[high] = 1.0 + rng.gamma(cfg.gamma_shape, cfg.gamma_scale, int(high.sum()))
        p = M * np.sqrt(gamma**2 - 1.0)
        cluster = np.column_stack([M * gamma, p[:, None] * _isotropic(n, rng)])
        has = np.ones(n, bool) if cfg.labelled else rng.random(n) < cfg.parton_fraction
        ppid = np.full((n, 2), PLACEHOLDER_PID, dtype=np.int32)
        parton = np.zeros((n, 2, 4))
        if has.any():
            ppid[has], parton[has] = _partons_for(cluster[has], rng, cfg.parton_collimation, not cfg.labelled)
        hpid = PION_PAIRS[rng.integers(0, 3, n)]
        table = ClusterTable(counts, cluster, ppid, parton, hpid, np.zeros((n, 2, 4)), source=self.describe())
        if cfg.labelled:
            table.fission = rng.random(n) < cfg.fission_fraction
            table.perturbative = np.zeros((n, 2), bool)
            p1 = np.where(table.fission, cfg.perturbative_fission, cfg.perturbative_direct)
            table.perturbative[:, 0] = rng.random(n) < p1
            table.by_gan = np.zeros(n, bool)
        return table

    def _resample(self, n_events: int, rng: np.random.Generator) -> ClusterTable:
        t = self.template
        assert t is not None
        pick = rng.integers(0, t.n_events, n_events)
        start = np.concatenate([[0], np.cumsum(t.counts)])
        idx = np.concatenate([np.arange(start[i], start[i + 1]) for i in pick])
        counts = t.counts[pick]
        # one random rotation per event (uniform on SO(3), via a random unit quaternion)
        qv = rng.normal(size=(n_events, 4))
        qv /= np.linalg.norm(qv, axis=1, keepdims=True)
        w, x, y, z = qv.T
        R = np.stack(
            [
                np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
            ],
            axis=1,
        )
        Rc = np.repeat(R, counts, axis=0)

        def rot(v: np.ndarray) -> np.ndarray:
            out = v.copy()
            out[..., 1:] = np.einsum("nij,n...j->n...i", Rc, v[..., 1:])
            return out

        hpid = t.hadron_pid[idx]
        unknown = sorted({int(a) for a in np.unique(np.abs(hpid))} - set(HADRON_MASS))
        if unknown:
            raise KeyError(f"template holds hadrons with no known mass: {unknown}")
        return ClusterTable(
            counts,
            rot(t.cluster[idx]),
            t.parton_pid[idx].copy(),
            rot(t.parton[idx]),
            hpid.copy(),
            np.zeros((idx.size, 2, 4)),
            source=self.describe(),
            perturbative=None if t.perturbative is None else t.perturbative[idx].copy(),  # Herwig's flags, kept
            fission=None if t.fission is None else t.fission[idx].copy(),
        )
