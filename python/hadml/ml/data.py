"""Turning samples into training tensors (reading them is :mod:`hadml.data.io`'s)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.table import ClusterTable, hadron_mass
from .features import Scaler, feature_names, raw_conditions, unmap_angles


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
