"""Particle-id helpers."""

from __future__ import annotations

import numpy as np


def is_quark(pid: np.ndarray | int) -> np.ndarray:
    a = np.abs(np.asarray(pid))
    return (a >= 1) & (a <= 6)


def is_diquark(pid: np.ndarray | int) -> np.ndarray:
    """PDG diquarks: |pid| = abcd with c == 0, a >= b >= 1, d in (1, 3)."""
    a = np.abs(np.asarray(pid))
    return (a >= 1101) & (a <= 6503) & ((a // 10) % 10 == 0) & np.isin(a % 10, (1, 3))


def is_parton(pid: np.ndarray | int) -> np.ndarray:
    return is_quark(pid) | is_diquark(pid) | (np.abs(np.asarray(pid)) == 21)


def is_hadron(pid: np.ndarray | int) -> np.ndarray:
    """Mesons and baryons (|pid| >= 100, not a diquark, not a cluster)."""
    a = np.abs(np.asarray(pid))
    return (a > 100) & ~is_diquark(pid) & (a != 81) & (a != 88)
