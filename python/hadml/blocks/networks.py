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
    so variable-length events need no padding and no Python loop.

    ``hemispheres``: each event's hadrons come with a side (0 / 1: which hemisphere of an axis
    whose sign is arbitrary, :func:`event_frame_features`); Phi is pooled per hemisphere (each sum
    over the event's hadron count, so the two add up to the mean) and F sees both, in either order,
    its logits averaged: even under the axis' sign by construction, one pass of Phi."""

    def __init__(self, hidden: int = 256, layers: int = 2, n_features: int = 4, hemispheres: bool = False,
                 extra: int = 0):
        """``extra``: width of further pooled inputs F sees after the hadrons' (the pair branch)."""
        super().__init__()
        self.hidden = hidden
        self.hemispheres = hemispheres
        self.phi = nn.Sequential(*mlp(n_features, hidden, layers, False))
        self.f = nn.Sequential(*mlp((2 if hemispheres else 1) * hidden + extra, hidden, layers, False),
                               nn.Linear(hidden, 1))

    def pools(self, hadrons: torch.Tensor, event: torch.Tensor, n_events: int,
              side: torch.Tensor | None) -> list[torch.Tensor]:
        """What F sees of the hadrons: [the mean of Phi over each event's hadrons], or with
        ``hemispheres`` [(forward, backward) and (backward, forward)] pooled per hemisphere."""
        h = self.phi(hadrons)
        counts = torch.bincount(event, minlength=n_events).clamp_min(1).to(h.dtype)[:, None]
        if not self.hemispheres:
            return [torch.zeros(n_events, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, event, h) / counts]
        if side is None:
            raise ValueError("a hemisphere discriminator needs each hadron's side")
        slot = 2 * event + side.long()
        per = torch.zeros(2 * n_events, h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, slot, h)
        fwd, back = per[0::2] / counts, per[1::2] / counts
        return [torch.cat([fwd, back], dim=1), torch.cat([back, fwd], dim=1)]

    def forward(self, hadrons: torch.Tensor, event: torch.Tensor, n_events: int,
                side: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([self.f(p).squeeze(1) for p in self.pools(hadrons, event, n_events, side)]).mean(0)


FRAME_FEATURES = ("E", "abs_p_axis", "p_perp", "charge")


def event_axes(p3: torch.Tensor, event: torch.Tensor, n_events: int) -> torch.Tensor:
    """(n_events, 3) each event's principal axis: the leading eigenvector of the linearised
    momentum tensor sum_i p_i^a p_i^b / |p_i| of its hadrons (infrared safe, close to the thrust
    axis in two-jet events, one batched 3x3 eigensolve). Its sign is arbitrary; no gradient flows
    through it."""
    with torch.no_grad():
        pn = torch.linalg.vector_norm(p3, dim=1).clamp_min(1e-9)
        outer = (p3[:, :, None] * p3[:, None, :] / pn[:, None, None]).reshape(-1, 9)
        t = torch.zeros(n_events, 9, dtype=p3.dtype, device=p3.device).index_add_(0, event, outer)
        _, vec = torch.linalg.eigh(t.reshape(-1, 3, 3).double())
        return vec[:, :, 2].to(p3.dtype)


def event_frame_features(p4: torch.Tensor, charge: torch.Tensor, event: torch.Tensor, n_events: int,
                         axes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Each hadron in its event's own frame (:func:`event_axes`, axis n): (H, 4) energy, |p.n|,
    momentum transverse to n and charge, and (H,) its side, 1 where p.n < 0 (which hemisphere;
    the axis' arbitrary sign swaps them: ``DeepSetsDiscriminator(hemispheres=True)``). Rotation
    invariant, unlike the lab four-momentum, so a discriminator need not learn the events'
    orientation; pooled per hemisphere, the charges form the charge flow between hemispheres.
    ``axes``: the events' axes where the caller has them already (no gradient flows through them)."""
    p3 = p4[:, 1:]
    n = (event_axes(p3, event, n_events) if axes is None else axes)[event]
    par = (p3 * n).sum(1)
    perp = torch.sqrt(((p3 * p3).sum(1) - par**2).clamp_min(1e-12))
    return torch.stack([p4[:, 0], par.abs(), perp, charge], dim=1), (par < 0).detach()


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
                 mass_max: float = 4.0, pair_hidden: int = 32, hemispheres: bool = False):
        super().__init__(hidden, layers, n_features, hemispheres, extra=pair_hidden)
        self.phi_pair = nn.Sequential(*mlp(len(PAIR_FEATURES), pair_hidden, 2, False))
        self.register_buffer("pair_mu", pair_mu.clone())
        self.register_buffer("pair_sd", pair_sd.clone())
        self.mass_max = mass_max

    def forward_pairs(self, hadrons: torch.Tensor, event: torch.Tensor, n_events: int, p4: torch.Tensor,
                      charge: torch.Tensor, side: torch.Tensor | None = None) -> torch.Tensor:
        """Logits; ``side`` as in :meth:`DeepSetsDiscriminator.forward` (the pair features do not
        depend on an event axis: the pair branch is pooled over the whole event)."""
        from .ragged import event_pairs

        pooled = self.pools(hadrons, event, n_events, side)
        i, j, ev = event_pairs(event, n_events)
        f = pair_features(p4, charge, i, j)
        keep = f[:, 0] < self.mass_max
        f, ev = f[keep], ev[keep]
        g = self.phi_pair((f - self.pair_mu) / self.pair_sd)
        gp = torch.zeros(n_events, g.shape[1], dtype=g.dtype, device=g.device).index_add_(0, ev, g)
        gc = torch.bincount(ev, minlength=n_events).clamp_min(1).to(g.dtype)
        pairs = gp / gc[:, None]
        return torch.stack([self.f(torch.cat([p, pairs], dim=1)).squeeze(1) for p in pooled]).mean(0)
