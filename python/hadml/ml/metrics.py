"""Distances used for model selection and reports."""

from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

P4_NAMES = ("E", "px", "py", "pz")


def w1(a: np.ndarray, b: np.ndarray) -> float:
    return float(wasserstein_distance(np.ravel(a), np.ravel(b)))


def w1_p4(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """W1 of each lab four-vector component of two hadron sets (n, 4)."""
    return {n: w1(a[:, i], b[:, i]) for i, n in enumerate(P4_NAMES)}


def split_half_floor(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random half of the rows of x, and the other half (the noise floor's two samples)."""
    mask = np.random.default_rng(seed).random(len(x)) < 0.5
    return mask
