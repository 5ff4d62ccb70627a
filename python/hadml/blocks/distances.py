"""Distances between samples, for model selection (training) and reports (comparison)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import wasserstein_distance

P4_NAMES = ("E", "px", "py", "pz")


def w1(a: np.ndarray, b: np.ndarray) -> float:
    """The first Wasserstein distance of two one-dimensional samples (flattened)."""
    return float(wasserstein_distance(np.ravel(a), np.ravel(b)))


def w1_quantiles(x: torch.Tensor, y: torch.Tensor, n: int = 256) -> torch.Tensor:
    """:func:`w1` for torch tensors, differentiable in both: from the samples' ``n`` midpoint
    quantiles (a loss, e.g. ``EventLevel.flow_loss``; :func:`w1` is exact and for reporting)."""
    p = (torch.arange(n, dtype=x.dtype, device=x.device) + 0.5) / n
    return (torch.quantile(x, p) - torch.quantile(y.to(x.dtype), p)).abs().mean()


def w1_p4(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """W1 of each lab four-vector component of two hadron sets (n, 4)."""
    return {n: w1(a[:, i], b[:, i]) for i, n in enumerate(P4_NAMES)}
