"""Network pieces (PyTorch): the multilayer perceptron, and the Deep Sets event classifier that is
both the event-level GAN's discriminator and the comparison's two-sample test."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = ("leaky_relu", "silu")


def mlp(n_in: int, hidden: int, layers: int, batch_norm: bool, slope: float = 0.2,
        activation: str = "leaky_relu") -> list[nn.Module]:
    """``activation``: "leaky_relu" (negative slope ``slope``) or "silu" (smooth: a generator's
    density from it has no kinks where a piecewise-linear map folds the noise)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation {activation!r}: one of {', '.join(ACTIVATIONS)}")
    mods: list[nn.Module] = []
    d = n_in
    for _ in range(layers):
        mods.append(nn.Linear(d, hidden))
        if batch_norm:
            mods.append(nn.BatchNorm1d(hidden))
        mods.append(nn.LeakyReLU(slope) if activation == "leaky_relu" else nn.SiLU())
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


PAIR_FEATURES = ("mass", "abs_cos", "charge_product", "charged_cos", "log_p")


def pair_features(p4: torch.Tensor, charge: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """(P, 5) features of hadron pairs (i, j) from lab four-momenta (GeV) and charges, symmetric
    in i <-> j: pair mass, |cos| of the decay angle in the pair's rest frame about its flight
    direction, the charges' product, the decay-angle cosine of the positive hadron (charge-signed:
    (q_i - q_j) / 2 cos_i, 0 for neutral pairs) and ln(1 + |p_pair|). What a two-body decay leaves
    in the hadrons (mass, decay angle, charge flow), seen without knowing which pairs are clusters."""
    a, b = p4[i], p4[j]
    P = a + b
    pp = P[:, 1:]
    pn = torch.linalg.vector_norm(pp, dim=1).clamp_min(1e-9)
    n = pp / pn[:, None]
    m = torch.sqrt((P[:, 0] ** 2 - pn**2).clamp_min(1e-12))
    par = (a[:, 1:] * n).sum(1)
    perp2 = ((a[:, 1:] ** 2).sum(1) - par**2).clamp_min(0.0)
    par_rest = (P[:, 0] * par - pn * a[:, 0]) / m  # gamma (p_par - beta E)
    cos = par_rest / torch.sqrt(par_rest**2 + perp2).clamp_min(1e-9)
    qi, qj = charge[i], charge[j]
    return torch.stack([m, cos.abs(), qi * qj, 0.5 * (qi - qj) * cos, torch.log1p(pn)], dim=1)


class PairSetsDiscriminator(DeepSetsDiscriminator):
    """Deep Sets over hadrons and over hadron pairs: Phi on each hadron (as the parent), a second,
    smaller Phi (two layers of ``pair_hidden``: pairs are ~6x as many as hadrons) on the features of every pair of hadrons of the event below ``mass_max``
    (:func:`pair_features`, scaled by ``pair_mu`` / ``pair_sd``), each pooled by its mean, F on
    both. Still permutation invariant and blind to which hadrons came from one cluster; the pair
    branch sees the two-body structure that single-hadron pooling averages away."""

    pair_mu: torch.Tensor
    pair_sd: torch.Tensor

    def __init__(self, hidden: int, layers: int, n_features: int, pair_mu: torch.Tensor, pair_sd: torch.Tensor,
                 mass_max: float = 4.0, pair_hidden: int = 32):
        super().__init__(hidden, layers, n_features)
        self.phi_pair = nn.Sequential(*mlp(len(PAIR_FEATURES), pair_hidden, 2, False))
        self.f = nn.Sequential(*mlp(hidden + pair_hidden, hidden, layers, False), nn.Linear(hidden, 1))
        self.register_buffer("pair_mu", pair_mu.clone())
        self.register_buffer("pair_sd", pair_sd.clone())
        self.mass_max = mass_max

    def forward_pairs(self, hadrons: torch.Tensor, event: torch.Tensor, n_events: int, p4: torch.Tensor,
                      charge: torch.Tensor) -> torch.Tensor:
        from .ragged import event_pairs

        h = self.phi(hadrons)
        pooled = torch.zeros(n_events, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, event, h)
        counts = torch.bincount(event, minlength=n_events).clamp_min(1).to(h.dtype)
        i, j, ev = event_pairs(event, n_events)
        f = pair_features(p4, charge, i, j)
        keep = f[:, 0] < self.mass_max
        f, ev = f[keep], ev[keep]
        g = self.phi_pair((f - self.pair_mu) / self.pair_sd)
        gp = torch.zeros(n_events, g.shape[1], dtype=g.dtype, device=g.device).index_add_(0, ev, g)
        gc = torch.bincount(ev, minlength=n_events).clamp_min(1).to(g.dtype)
        return self.f(torch.cat([pooled / counts[:, None], gp / gc[:, None]], dim=1)).squeeze(1)
