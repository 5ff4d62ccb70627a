"""Generator and discriminators (PyTorch)."""

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


class Generator(nn.Module):
    """(scaled conditions, noise) -> t in (-1, 1)^2; see features.map_outputs for (theta, phi)."""

    def __init__(self, n_conditions: int, noise_dim: int = 10, hidden: int = 256, layers: int = 2):
        super().__init__()
        self.n_conditions, self.noise_dim = n_conditions, noise_dim
        self.net = nn.Sequential(
            *mlp(n_conditions + noise_dim, hidden, layers, True), nn.Linear(hidden, 2), nn.Tanh()
        )

    def forward(self, conditions: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([conditions, noise], dim=1))


class ClusterDiscriminator(nn.Module):
    """HadML v1: sees one cluster's decay, (t_theta, t_phi) with its conditions -> logit."""

    def __init__(self, n_conditions: int, hidden: int = 256, layers: int = 2):
        super().__init__()
        self.net = nn.Sequential(*mlp(n_conditions + 2, hidden, layers, False), nn.Linear(hidden, 1))

    def forward(self, conditions: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([conditions, angles], dim=1)).squeeze(1)


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
