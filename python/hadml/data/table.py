"""Flat, columnar in-memory form of cluster samples (numpy), shared by every reader.

A :class:`ClusterTable` holds N two-body clusters grouped into events by ``counts``; it is the
fast internal form from which the awkward representation (:mod:`hadml.data.events`) is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..kinematics import recover_angles

# Hadron masses (GeV) as in Herwig 7.2's defaults (src/defaults/mesons.in, baryons.in).
HADRON_MASS: dict[int, float] = {
    111: 0.1349776,
    211: 0.13957018,
    221: 0.54751,
    321: 0.493677,
    311: 0.497648,
    130: 0.497648,
    310: 0.497648,
    2212: 0.93827203,
    2112: 0.93956536,
}
PLACEHOLDER_PID = 88
CLUSTER_PID = 81


def hadron_mass(pid: np.ndarray) -> np.ndarray:
    """Herwig's on-shell mass for each hadron pid; KeyError naming the pid if unknown."""
    pid = np.asarray(pid)
    out = np.empty(pid.shape, dtype=np.float64)
    for p in np.unique(np.abs(pid)):
        if int(p) not in HADRON_MASS:
            raise KeyError(f"no mass known for hadron pid {int(p)}")
        out[np.abs(pid) == p] = HADRON_MASS[int(p)]
    return out


@dataclass
class ClusterTable:
    """N clusters that decay into two hadrons, in events.

    counts:      (n_events,) clusters per event
    cluster:     (N, 4) cluster four-momentum (E, px, py, pz), lab
    parton_pid:  (N, 2) constituent pids (88 = placeholder: cluster from fission)
    parton:      (N, 2, 4) constituent four-momenta (zeros for placeholders)
    hadron_pid:  (N, 2) decay hadron pids, in Herwig's order
    hadron:      (N, 2, 4) decay hadron four-momenta, lab
    source:      where the table came from (file name, generator settings)
    line:        (n_events,) source line / event number of each event (for messages)

    Known only for samples recorded by hadml's Herwig handler (None otherwise):
    perturbative: (N, 2) Herwig's ``Cluster::isPerturbative(i)`` of each constituent
    fission:      (N,) the cluster has a Cluster parent (fission, or redefined by Herwig's
                  3 -> 2 reduction or light-cluster reshuffling)
    by_gan:       (N,) the decay was the GAN's (False: Herwig's ClusterDecayer)
    """

    counts: np.ndarray
    cluster: np.ndarray
    parton_pid: np.ndarray
    parton: np.ndarray
    hadron_pid: np.ndarray
    hadron: np.ndarray
    source: str = ""
    line: np.ndarray | None = None
    meta: dict[str, str] = field(default_factory=dict)
    perturbative: np.ndarray | None = None
    fission: np.ndarray | None = None
    by_gan: np.ndarray | None = None

    @classmethod
    def from_rows(
        cls,
        counts: list[int],
        parton_pid: list,
        parton: list,
        cluster: list,
        hadron_pid: list,
        hadron: list,
        source: str = "",
        line: list[int] | None = None,
    ) -> ClusterTable:
        """Build from per-cluster Python lists (readers that walk records one by one)."""
        return cls(
            counts=np.asarray(counts, dtype=np.int64),
            cluster=np.asarray(cluster, dtype=np.float64).reshape(-1, 4),
            parton_pid=np.asarray(parton_pid, dtype=np.int32).reshape(-1, 2),
            parton=np.asarray(parton, dtype=np.float64).reshape(-1, 2, 4),
            hadron_pid=np.asarray(hadron_pid, dtype=np.int32).reshape(-1, 2),
            hadron=np.asarray(hadron, dtype=np.float64).reshape(-1, 2, 4),
            source=source,
            line=None if line is None else np.asarray(line, dtype=np.int64),
        )

    def __post_init__(self) -> None:
        n = int(self.counts.sum()) if self.counts.size else 0
        shapes: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
            "cluster": (self.cluster.shape, (n, 4)),
            "parton_pid": (self.parton_pid.shape, (n, 2)),
            "parton": (self.parton.shape, (n, 2, 4)),
            "hadron_pid": (self.hadron_pid.shape, (n, 2)),
            "hadron": (self.hadron.shape, (n, 2, 4)),
        }
        for name, expected in (("perturbative", (n, 2)), ("fission", (n,)), ("by_gan", (n,))):
            value = getattr(self, name)
            if value is not None:
                shapes[name] = (value.shape, expected)
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"ClusterTable.{name} has shape {got}, expected {want}")
        if self.line is None:
            self.line = np.arange(1, self.counts.size + 1)

    @property
    def n_events(self) -> int:
        return int(self.counts.size)

    @property
    def n_clusters(self) -> int:
        return int(self.cluster.shape[0])

    @property
    def has_partons(self) -> np.ndarray:
        return np.all(self.parton_pid != PLACEHOLDER_PID, axis=1)

    def decay_frame(self) -> np.ndarray:
        """Four-momentum of the decay's own frame, h1 + h2 (equals the cluster up to the
        rounding of printed files; used for the angle targets so that they are exact)."""
        return self.hadron[:, 0] + self.hadron[:, 1]

    def angles(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(theta, phi, first) of the first hadron in the cluster rest frame."""
        return recover_angles(self.decay_frame(), self.hadron[:, 0], self.hadron[:, 1])

    def select_events(self, mask: np.ndarray) -> ClusterTable:
        mask = np.asarray(mask, dtype=bool)
        keep = np.repeat(mask, self.counts)
        return ClusterTable(
            self.counts[mask],
            self.cluster[keep],
            self.parton_pid[keep],
            self.parton[keep],
            self.hadron_pid[keep],
            self.hadron[keep],
            self.source,
            None if self.line is None else self.line[mask],
            dict(self.meta),
            *(None if x is None else x[keep] for x in (self.perturbative, self.fission, self.by_gan)),
        )

    def head(self, n_events: int) -> ClusterTable:
        mask = np.zeros(self.n_events, dtype=bool)
        mask[:n_events] = True
        return self.select_events(mask)
