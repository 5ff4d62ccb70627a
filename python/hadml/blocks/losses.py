"""Training losses that are not adversarial."""

from __future__ import annotations

import torch


def energy_score(x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """The conditional energy score (Gneiting & Raftery 2007), averaged over the batch:
    E|X - y| - 1/2 E|X - X'| from two independent draws ``x1``, ``x2`` (N, d) of the model for each
    row's conditions and the observed ``y`` (N, d). A strictly proper scoring rule: its expectation
    is smallest only when the model's conditional distribution is the data's, so a generator that
    minimises it fits the distribution, not the mean (the -1/2 E|X - X'| term rewards spread)."""

    def dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return ((a - b).square().sum(1) + eps).sqrt()

    return (0.5 * (dist(x1, y) + dist(x2, y)) - 0.5 * dist(x1, x2)).mean()
