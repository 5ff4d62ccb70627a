"""Turning samples into training tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.events import event_hadrons, to_table
from ..data.io import load_events
from ..data.table import ClusterTable, hadron_mass
from .features import Scaler, feature_names, raw_conditions, unmap_angles


def load_table(path: str, max_events: int = 0) -> ClusterTable:
    """Any supported file -> ClusterTable (cluster files are read directly, fast)."""
    from ..data.io import sniff

    if sniff(path) == "clusters":
        from ..data.hadml_format import read_cluster_file

        table = read_cluster_file(path)
    else:
        table = to_table(load_events(path), source=path)
    return table.head(max_events) if max_events and max_events < table.n_events else table


def load_hadrons(path: str, max_events: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The "data" of an event-level fit: (counts, p4) of each event's hadrons. For cluster files
    these are the two-body decay products (what the generator produces); otherwise the file's
    final-state hadrons."""
    from ..data.io import sniff

    if sniff(path) == "clusters":
        t = load_table(path, max_events)
        return 2 * t.counts, t.hadron.reshape(-1, 4)
    ev = load_events(path, on_error="skip")
    if max_events:
        ev = ev[:max_events]
    counts, _, p4 = event_hadrons(ev)
    return counts, p4


@dataclass
class ClusterArrays:
    """Per-cluster arrays of one split."""

    cond: np.ndarray  # (N, d) scaled conditions
    target: np.ndarray  # (N, 2) true angles in network space
    cluster: np.ndarray  # (N, 4)
    mass: np.ndarray  # (N, 2) on-shell masses of Herwig's hadron 1 and 2
    counts: np.ndarray  # (n_events,)

    @property
    def starts(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.counts)[:-1]])


def cluster_arrays(
    table: ClusterTable, scaler: Scaler | None, use_partons: bool
) -> tuple[ClusterArrays, Scaler]:
    names = feature_names(use_partons)
    raw = raw_conditions(table.cluster, table.parton[:, 0], table.has_partons, use_partons)
    scaler = scaler or Scaler.fit(raw, names)
    theta, phi, _ = table.angles()
    return ClusterArrays(
        cond=scaler.transform(raw),
        target=unmap_angles(theta, phi),
        cluster=table.cluster.copy(),
        mass=hadron_mass(table.hadron_pid),
        counts=table.counts.copy(),
    ), scaler


def split_events(n_events: int, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of the training events (a fixed random split)."""
    return np.random.default_rng(seed).random(n_events) < fraction
