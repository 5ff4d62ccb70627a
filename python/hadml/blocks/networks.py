"""Network pieces (PyTorch): the multilayer perceptron, and the Deep Sets event classifier that is
both the event-level GAN's discriminator and the comparison's two-sample test."""

from __future__ import annotations

import torch
from torch import nn


def mlp(n_in: int, hidden: int, layers: int, batch_norm: bool, slope: float = 0.2) -> list[nn.Module]:
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        mods.append(nn.Linear(d, hidden))
        if batch_norm:
            mods.append(nn.BatchNorm1d(hidden))
        mods.append(nn.LeakyReLU(slope))
        d = hidden
    return mods


class DeepSetsDiscriminator(nn.Module):
    """HadML v2: Phi on each hadron's (scaled) lab four-vector, mean over the event, F -> logit.

    Events are given flat: ``hadrons`` (H, 4) and ``event`` (H,) the event index of each hadron,
    so variable-length events need no padding and no Python loop."""

    def __init__(self, hidden: int = 256, layers: int = 2, n_features: int = 4):
        super().__init__()
        self.hidden = hidden
        self.phi = nn.Sequential(*mlp(n_features, hidden, layers, False))
        self.f = nn.Sequential(*mlp(hidden, hidden, layers, False), nn.Linear(hidden, 1))

    def forward(self, hadrons: torch.Tensor, event: torch.Tensor, n_events: int) -> torch.Tensor:
        h = self.phi(hadrons)
        pooled = torch.zeros(n_events, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, event, h)
        counts = torch.bincount(event, minlength=n_events).clamp_min(1).to(h.dtype)
        return self.f(pooled / counts[:, None]).squeeze(1)
