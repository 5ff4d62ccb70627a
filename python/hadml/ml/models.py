"""The GAN's generator and its cluster-level discriminator (PyTorch); the event-level
discriminator is the shared Deep Sets classifier of :mod:`hadml.blocks.networks`."""

from __future__ import annotations

import torch
from torch import nn

from ..blocks.networks import DeepSetsDiscriminator, mlp

__all__ = ["ClusterDiscriminator", "DeepSetsDiscriminator", "Generator"]


class Generator(nn.Module):
    """(scaled conditions, noise) -> t in (-1, 1)^2; (theta, phi) = OUTPUT_OFFSET + OUTPUT_SCALE * t
    (see :mod:`hadml.ml.features`)."""

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
