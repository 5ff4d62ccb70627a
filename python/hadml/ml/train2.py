"""Training the hadml-2 decay model on Herwig's labelled decay record (issue 15).

The data are split by event into three fixed parts: ``train`` (fit), ``validation`` (model
selection: the best-epoch checkpoint) and ``test`` (what results pages report; the fit never sees
it). What is fitted at which level is a :class:`Strategy`; :class:`ClusterLevel` is HadML v1's
conditional GAN on each cluster's decay direction in the hadml-2 frame.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .. import __version__
from .. import kinematics as K
from .. import kinematics_torch as KT
from ..blocks.charge import KAPPAS, charge_flow, hemisphere_charges
from ..blocks.distances import energy_distance_1d, w1, w1_quantiles
from ..blocks.losses import energy_score
from ..blocks.networks import (
    DeepSetsDiscriminator,
    PairSetsDiscriminator,
    event_axes,
    event_frame_features,
    mlp,
    pair_features,
)
from ..blocks.ragged import event_pairs, gather_events
from ..data.io import load_table
from ..data.pdg import charge
from ..data.table import ClusterTable, hadron_mass
from . import hadml2 as H

SPLITS = ("train", "validation", "test")


def split_labels(n_events: int, seed: int, fractions: tuple[float, float] = (0.8, 0.1)) -> np.ndarray:
    """Per event: 0 train, 1 validation, 2 test (fixed by ``seed``)."""
    r = np.random.default_rng(seed).random(n_events)
    return np.where(r < fractions[0], 0, np.where(r < fractions[0] + fractions[1], 1, 2))


@dataclass
class Arrays:
    """One split's per-cluster arrays."""

    raw: np.ndarray  # (N, 9) raw conditions
    target: np.ndarray  # (N, 3) Herwig's hadron 1 direction in the hadml-2 frame
    table: ClusterTable


def arrays(table: ClusterTable) -> Arrays:
    if table.perturbative is None:
        raise ValueError(f"{table.source}: hadml-2 needs Herwig's perturbative flags: a decay record "
                         "written by `hadml herwig run --native --clusters F` (see docs/samples.md)")
    frame = table.decay_frame()  # h1 + h2: exact targets
    m = hadron_mass(table.hadron_pid)
    raw = H.raw_conditions(frame, table.parton[:, 0], table.perturbative, table.parton_pid, m)
    return Arrays(raw, H.targets(frame, table.parton[:, 0], table.hadron[:, 0], table.hadron[:, 1]), table)


# the generator's output: "vector" (an unbounded 3-vector, direction v / |v|) or "histogram" (cos theta*
# from a learned histogram of fixed bins, drawn by its inverse CDF at one noise value,
# ``Generator._histogram``; needs flat_azimuth)
HEADS = ("vector", "histogram")
HISTOGRAM_BINS = 100  # bins of cos theta* in [-1, 1], 0.02 wide


def _phi(z: torch.Tensor) -> torch.Tensor:
    """The standard normal CDF: a Gaussian noise value made uniform in [0, 1) (inside the graph: Erf)."""
    return 0.5 * (1.0 + torch.erf(z * (1.0 / math.sqrt(2.0))))


def legendre_basis(degree: int) -> np.ndarray:
    """(degree, HISTOGRAM_BINS): the Legendre polynomials P_1 .. P_degree at the histogram's bin
    centres. The histogram head with ``histogram_degree`` D takes its logits (the bins'
    log-probabilities up to a constant, which the softmax drops: so no P_0) as the network's D
    outputs times this: a log-density that is a polynomial of degree D in cos theta*. Degree 1
    holds Herwig's smearing exp(cos theta* / ClSmr) exactly, and 0 coefficients the isotropic
    decay; a fit that sees hadrons only moves D numbers per class instead of 100 bins."""
    centres = -1.0 + (np.arange(HISTOGRAM_BINS) + 0.5) * (2.0 / HISTOGRAM_BINS)
    return np.polynomial.legendre.legvander(centres, degree)[:, 1:].T.copy()


def check_generator_options(noise_dim: int, flat_azimuth: bool, head: str, histogram_degree: int = 0) -> None:
    """ValueError for a generator that cannot be built (checked before any data is read)."""
    if histogram_degree and head != "histogram":
        raise ValueError(f"histogram_degree {histogram_degree} needs the histogram head (this generator's head: {head})")
    if not 0 <= histogram_degree < HISTOGRAM_BINS:
        raise ValueError(f"histogram_degree {histogram_degree}: 0 (free bins) or 1 .. {HISTOGRAM_BINS - 1}")
    if head not in HEADS:
        raise ValueError(f"generator head {head!r}: one of {', '.join(HEADS)}")
    if flat_azimuth and noise_dim < 2:
        raise ValueError(f"flat_azimuth takes one noise value for the azimuth: noise_dim {noise_dim} < 2")
    if head == "histogram" and not flat_azimuth:
        raise ValueError("the histogram head draws cos theta* only: it needs flat_azimuth (the azimuth's noise value)")


class Generator(nn.Module):
    """(scaled conditions, noise) -> unbounded 3-vector v; direction = v / |v|.

    ``blind``: conditions the network does not see. Their columns of the first layer are zero and
    their gradient is zeroed, so no optimiser moves them: the exported ONNX graph takes every
    condition (the decayer's interface is unchanged) and its output does not depend on these.

    ``flat_azimuth``: the azimuth phi* about constituent 1's axis is flat by construction, as in
    Herwig's ClusterDecayer (smeared direction rotated by rnd() * 2 pi about the constituent; the
    isotropic case flat in phi). The last noise value z is not seen by the network (its column is
    held at zero as a blind condition's) and becomes the angle psi = pi (1 + erf(z / sqrt 2)),
    uniform in [0, 2 pi); v is rotated by psi about the frame's z axis. Inside the exported graph
    (Erf, Cos, Sin): the decayer's noise, from Herwig's random generator, stays the only input."""

    def __init__(self, noise_dim: int, hidden: int, layers: int, blind: tuple[str, ...] = (),
                 flat_azimuth: bool = False, activation: str = "leaky_relu", head: str = "vector",
                 histogram_degree: int = 0):
        super().__init__()
        self.noise_dim = noise_dim
        self.blind = H.check_blind(blind)
        self.flat_azimuth = bool(flat_azimuth)
        check_generator_options(noise_dim, self.flat_azimuth, head, histogram_degree)
        self.head = head
        self.histogram_degree = histogram_degree
        width = (histogram_degree or HISTOGRAM_BINS) if head == "histogram" else 3
        # the histogram head's logits = the network's output times this (``legendre_basis``); None: free bins
        self.register_buffer("_basis", torch.as_tensor(legendre_basis(histogram_degree), dtype=torch.float32)
                             if histogram_degree else None, persistent=False)
        self.net = nn.Sequential(*mlp(len(H.CONDITIONS) + noise_dim, hidden, layers, False, activation=activation),
                                 nn.Linear(hidden, width))
        first = self.net[0]
        assert isinstance(first, nn.Linear)
        keep = torch.ones(hidden, len(H.CONDITIONS) + noise_dim)
        keep[:, [H.CONDITIONS.index(b) for b in self.blind]] = 0.0
        if self.flat_azimuth:
            keep[:, -1] = 0.0  # the azimuth's noise value: not the network's
        if head == "histogram":
            keep[:, len(H.CONDITIONS):] = 0.0  # the network gives the histogram; the noise only draws from it
        self.register_buffer("_keep", keep, persistent=False)
        if self.blind or self.flat_azimuth:
            first.weight.register_hook(lambda g: g * self._keep)
        self.apply_blind()

    @torch.no_grad()
    def apply_blind(self) -> None:
        """Zero the first layer's columns of the blind conditions (after loading other weights)."""
        first = self.net[0]
        assert isinstance(first, nn.Linear)
        keep = self._keep
        assert isinstance(keep, torch.Tensor)
        first.weight.mul_(keep)

    @staticmethod
    def _histogram(logits: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The histogram head: p = softmax(logits) are the probabilities of K = HISTOGRAM_BINS
        bins of cos theta*, each 2 / K wide (density p_k K / 2 on bin k; the isotropic decay exactly
        at equal logits). The first noise value z becomes t = Phi(z), uniform in [0, 1), and
        cos theta* = -1 + (2 / K) sum_k clip((t - F_k) / p_k, 0, 1), F_k = p_0 + ... + p_(k-1): the
        inverse of the histogram's piecewise-linear CDF at t. Returned as the unit vector
        (sin theta*, 0, cos theta*), which the flat azimuth then turns about z*."""
        p = torch.softmax(logits, dim=1)
        k = logits.shape[1]
        left = torch.cumsum(p, dim=1) - p
        t = _phi(z)
        cos = (2.0 / k) * torch.clamp((t - left) / torch.clamp(p, min=1e-12), 0.0, 1.0).sum(dim=1, keepdim=True) - 1.0
        # sin theta* of the clipped cosine; its gradient is bounded away from the poles (1e-12)
        sin = torch.sqrt(torch.clamp(1.0 - cos * cos, min=1e-12))
        return torch.cat([sin, torch.zeros_like(sin), cos], dim=1)

    def histogram_nll(self, conditions: torch.Tensor, cos_theta: torch.Tensor) -> torch.Tensor:
        """The histogram head's negative log-likelihood of observed cos theta* (mean over rows):
        -log(p_k K / 2) for the bin k each falls in (a cross-entropy over fixed bins, so the fit
        is the conditional histogram of the data; the noise plays no part)."""
        if self.head != "histogram":
            raise ValueError(f"a likelihood needs the histogram head (this generator's head: {self.head})")
        k = HISTOGRAM_BINS
        logits = self._logits(conditions)
        b = torch.clamp(torch.floor((cos_theta + 1.0) * (k / 2.0)), 0, k - 1).long()
        return F.cross_entropy(logits, b) - math.log(k / 2.0)

    def histogram_roughness(self, conditions: torch.Tensor) -> torch.Tensor:
        """The histogram head's roughness: the mean over rows of sum_k (l_(k-1) - 2 l_k + l_(k+1))^2,
        l = log p the log-probabilities of the bins (second differences; 0 for any log-linear
        density, e.g. Herwig's exp(cos theta* / ClSmr)-like smearing, and for the isotropic decay).
        A penalty on it keeps a fit that sees only hadrons (event level) from putting bin-to-bin
        structure into the histogram that its observables cannot constrain."""
        if self.head != "histogram":
            raise ValueError(f"a roughness needs the histogram head (this generator's head: {self.head})")
        return self.roughness(self._logits(conditions))

    def _logits(self, conditions: torch.Tensor) -> torch.Tensor:
        """The histogram head's logits of the bins for these conditions (it does not see the noise)."""
        return self._bins(self.net(torch.cat([conditions, conditions.new_zeros(len(conditions), self.noise_dim)], dim=1)))

    def _bins(self, out: torch.Tensor) -> torch.Tensor:
        """The network's output as the histogram's bin logits: itself (free bins), or its
        polynomial coefficients times the Legendre basis (``histogram_degree``)."""
        basis = self._basis
        return out @ basis if isinstance(basis, torch.Tensor) else out

    @staticmethod
    def roughness(logits: torch.Tensor) -> torch.Tensor:
        """``histogram_roughness`` of the head's logits (``forward_with_logits``' second output;
        the histogram head does not see the noise, so these are its logits at any noise)."""
        d2 = logits[:, :-2] - 2.0 * logits[:, 1:-1] + logits[:, 2:]
        return (d2 * d2).sum(dim=1).mean()

    def forward_with_logits(self, conditions: torch.Tensor, noise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(the direction ``forward`` returns, the network's own output: the histogram head's logits)."""
        out = self.net(torch.cat([conditions, noise], dim=1))
        v = out
        if self.head == "histogram":
            out = self._bins(out)
            v = self._histogram(out, noise[:, :1])
        if not self.flat_azimuth:
            return v, out
        psi = (2.0 * math.pi) * _phi(noise[:, -1:])
        c, s = torch.cos(psi), torch.sin(psi)
        return torch.cat([c * v[:, :1] - s * v[:, 1:2], s * v[:, :1] + c * v[:, 1:2], v[:, 2:]], dim=1), out

    def forward(self, conditions: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.forward_with_logits(conditions, noise)[0]


@dataclass
class Settings:
    clusters: str
    output: str = "runs/hadml2"
    max_events: int = 0
    split_seed: int = 1
    seed: int = 0
    noise_dim: int = 8
    hidden: int = 128
    layers: int = 3
    disc_hidden: int = 128
    disc_layers: int = 3
    batch_size: int = 2048
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    epochs: int = 50
    time_budget_s: float = 1200.0
    target: str = ""  # event level: the record whose hadrons (only) are fitted; "" the clusters' own
    eval_clusters: int = 40000
    threads: int = 2
    adversarial_weight: float = 1.0  # weight of the GAN loss in G's loss (0: no discriminator)
    energy_weight: float = 0.0  # weight of the conditional energy score (needs labelled decays)
    lr_decay: float = 1.0  # learning rates times this after every epoch
    ema: float = 0.0  # decay of the generator's exponential moving average (0: none); EMA is what is judged
    pairs: bool = False  # event level: the discriminator also sees every hadron pair (PairSetsDiscriminator)
    pair_mass_max: float = 4.0  # GeV: the pairs it sees (above every LEP two-body cluster's mass)
    # event level: the frame the discriminator sees each hadron in: "lab" (four-momentum and charge)
    # or "event" (its event's own axis: blocks.networks.event_frame_features)
    disc_frame: str = "lab"
    # event level: weight in G's loss of the charge-flow distances of the batch (EventLevel.flow_loss:
    # W1 of the hemisphere charge products and a smooth leading-hadron charge product, generated
    # against target events): a direct, low-variance signal where D sees too little per event
    flow_weight: float = 0.0
    # which generated clusters the flow loss moves: "all", or "perturbative" (a perturbative
    # constituent: the clusters Herwig's ClDir/ClSmr align, and so what makes the charge flow); the
    # others' hadrons still count in the statistics, with no gradient through them
    flow_clusters: str = "all"
    # the flow loss's distance: "w1" (``w1_quantiles``), "energy" (``energy_distance_1d``, whose
    # small-batch gradient is unbiased) or "mean" (|batch mean - the whole target's mean|: the means
    # the bar judges, a gradient of constant size whose expectation vanishes only where they agree)
    flow_distance: str = "w1"
    # weight of the conditional energy score of G's directions against the starting generator's
    # (``Trainer2.start_from``): a prior that keeps G where the fitted hadrons do not constrain it
    anchor_weight: float = 0.0
    # which training clusters the anchor holds: "all", or "nonperturbative" (neither constituent
    # perturbative: the clusters whose decays Herwig's ClDir/ClSmr never touch)
    anchor_clusters: str = "all"
    # event level: the epoch is also chosen on the charge-flow observables' W1 (hadron-only data)
    select_charge_flow: bool = False
    # cluster level: the epoch is also chosen on the decay angle to the cluster's flight direction
    # (``forward_distances``: what makes hadron 1 the leading one, and so the charge flow)
    select_forward: bool = False
    # conditions the generator does not see (``Generator(blind=...)``): a cluster decays in its rest
    # frame, and Herwig's decay there cannot depend on how fast the cluster moves
    # (log1p_cluster_p) or where it flies relative to its constituent (cos_alpha)
    blind: tuple[str, ...] = ()
    # the azimuth about constituent 1 flat by construction (``Generator(flat_azimuth=True)``)
    flat_azimuth: bool = False
    # the generator's activation (``blocks.networks.mlp``): "leaky_relu" or "silu"
    activation: str = "leaky_relu"
    # the generator's output (``Generator(head=...)``): "vector" or "histogram"
    head: str = "vector"
    # cluster level: weight of the histogram head's negative log-likelihood of Herwig's cos theta*
    # in G's loss (``Generator.histogram_nll``; needs labelled decays)
    likelihood_weight: float = 0.0
    # weight of the histogram head's roughness (``Generator.histogram_roughness``) in G's loss
    smooth_weight: float = 0.0
    # the histogram head's log-probabilities a polynomial of this degree in cos theta*
    # (``legendre_basis``); 0: free bins
    histogram_degree: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


ANCHOR_CLUSTERS = ("all", "nonperturbative")
FLOW_CLUSTERS = ("all", "perturbative")
FLOW_DISTANCES = ("w1", "energy", "mean")
DISC_FRAMES = ("lab", "event")


def frame_angles(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos theta*, phi*) of directions in the hadml-2 frame."""
    return u[:, 2], np.arctan2(u[:, 1], u[:, 0])


# sin theta* below this: a direction on the frame's z* axis, where phi* is no angle (Herwig's
# perturbative decays with ClSmrLight 0 lie on it to |u_T| ~ 1e-13: their phi* is the atan2 of
# round-off); cos theta* then carries the whole direction. 1e-4 rad is 0.006 degrees.
ON_AXIS = 1e-4
# a split-half floor below this is a delta in the reference (cos theta* = 1 with ClSmrLight 0; its
# floor is round-off, ~1e-18): no ratio to a floor exists for it
FLOOR_MIN = 1e-9


def phi_defined(u: np.ndarray) -> np.ndarray:
    """Rows of directions ``u`` (N, 3) off the frame's axis: those whose phi* is an angle."""
    return np.hypot(u[:, 0], u[:, 1]) >= ON_AXIS


def direction_distances(u: np.ndarray, pert_u: np.ndarray, ref: np.ndarray, pert_ref: np.ndarray,
                        phi_u: np.ndarray | None = None, phi_ref: np.ndarray | None = None,
                        subsets: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, float]:
    """W1 of cos theta* and phi*, for all clusters and for those with a perturbative constituent
    (``pert_*`` (N, 2) the flags of each set's clusters), and for any further named ``subsets``
    (row masks of u and of ref). phi* counts only rows off the axis: ``phi_u`` / ``phi_ref``
    (default: each set's own, ``phi_defined``); a model's decays of the reference's clusters take
    the reference's (``phi_u=phi_defined(ref)``), so that phi* is compared where it is defined in
    the reference. A phi* with no such row in either set is NaN (undefined, not zero)."""
    phi_u = phi_defined(u) if phi_u is None else phi_u
    phi_ref = phi_defined(ref) if phi_ref is None else phi_ref
    sets = {"all": (np.ones(len(u), bool), np.ones(len(ref), bool)), "pert": (pert_u.any(1), pert_ref.any(1))}
    sets |= subsets or {}
    out = {}
    for tag, (ma, mb) in sets.items():
        (ca, pa), (cb, pb) = frame_angles(u[ma]), frame_angles(ref[mb])
        out[f"w1_cos_{tag}"] = w1(ca, cb)
        fa, fb = pa[phi_u[ma]], pb[phi_ref[mb]]
        out[f"w1_phi_{tag}"] = w1(fa, fb) if len(fa) and len(fb) else float("nan")
    return out


def forward_cos(u: np.ndarray, cos_alpha: np.ndarray) -> np.ndarray:
    """Cosine of the angle between directions ``u`` (N, 3, in the hadml-2 frame) and the cluster's
    flight direction, which in that frame is (sin alpha, 0, cos alpha) with sin alpha >= 0 (the x
    axis lies in the plane of the constituent and the flight direction): how far forward hadron 1
    goes in the lab, hence which hadron leads."""
    sin_alpha = np.sqrt(np.clip(1.0 - cos_alpha**2, 0.0, None))
    return u[:, 2] * cos_alpha + u[:, 0] * sin_alpha


def forward_distances(u: np.ndarray, cos_u: np.ndarray, pert_u: np.ndarray, ref: np.ndarray, cos_ref: np.ndarray,
                      pert_ref: np.ndarray) -> dict[str, float]:
    """W1 of :func:`forward_cos` of directions ``u`` (clusters with cosines ``cos_u``, flags
    ``pert_u`` (N, 2)) against ``ref`` (its own clusters' ``cos_ref``, ``pert_ref``; the same arrays
    for a model's decays of the reference's clusters, different ones for split halves): all clusters,
    those with a perturbative constituent and those without."""
    fu, fr = forward_cos(u, cos_u), forward_cos(ref, cos_ref)
    pu, pr = pert_u.any(1), pert_ref.any(1)
    return {"w1_fwd_all": w1(fu, fr), "w1_fwd_pert": w1(fu[pu], fr[pr]), "w1_fwd_nonpert": w1(fu[~pu], fr[~pr])}


# the forward-angle rows that --select-forward adds to the cluster-level metric (those the shipped
# nominal fit was chosen on; the clusters without a perturbative constituent are in w1_fwd_all)
SELECT_FORWARD = ("w1_fwd_all", "w1_fwd_pert")


def w1_to_uniform(cos: np.ndarray) -> float:
    """W1 of a sample of cosines to the uniform distribution on [-1, 1] (an isotropic decay's)."""
    c = np.sort(cos)
    return float(np.mean(np.abs(c - ((np.arange(len(c)) + 0.5) / len(c) * 2 - 1))))


class Strategy:
    """What the discriminator sees, how one step goes and how the validation split judges the
    generator; the loop is :class:`Trainer2`'s."""

    mode = ""

    def __init__(self, trainer: Trainer2):
        self.t = trainer

    def batches(self) -> list[torch.Tensor]:
        """One epoch's batches of the training split (cluster indices by default)."""
        t = self.t
        n = len(t.cond)
        bs = min(t.s.batch_size, n)  # a sample smaller than one batch is one batch
        perm = torch.randperm(n)
        return [perm[i:i + bs] for i in range(0, n - bs + 1, bs)]

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        raise NotImplementedError

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The strategy's own optimizers that step (its discriminator's)."""
        return []

    def validate(self) -> dict[str, float]:
        """Distances on the validation split and their mean ratio to the floor (``metric``):
        by default the labelled frame angles (closure: the target's own decays)."""
        t = self.t
        u = H.direction_from_output(t.judged(t.val_cond, t.noise(len(t.val_cond)))).numpy().astype(np.float64)
        d = direction_distances(u, t.val_pert, t.val_target, t.val_pert, phi_u=phi_defined(t.val_target))
        if t.s.select_forward:
            f = forward_distances(u, t.val_cos_alpha, t.val_pert, t.val_target, t.val_cos_alpha, t.val_pert)
            d |= {k: f[k] for k in SELECT_FORWARD}
        # a distance that is undefined (phi* on the axis) or has no floor (a delta) does not count
        d["metric"] = float(np.mean([d[k] / t.floor[k] for k in d if np.isfinite(d[k]) and t.floor[k] > FLOOR_MIN]))
        return d


class ClusterLevel(Strategy):
    """HadML v1 on hadml-2: D sees (conditions, unit direction) of one cluster's decay. With
    ``energy_weight`` > 0 the generator's loss adds the conditional energy score of its directions
    against Herwig's (a proper scoring rule: a distance to the data's conditional distribution that
    does not depend on a discriminator); ``adversarial_weight`` 0 drops the discriminator."""

    mode = "cluster"

    def __init__(self, trainer: Trainer2):
        super().__init__(trainer)
        s = trainer.s
        self.D = nn.Sequential(*mlp(len(H.CONDITIONS) + 3, s.disc_hidden, s.disc_layers, False), nn.Linear(s.disc_hidden, 1))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=(0.5, 0.999))

    def optimizers(self) -> list[torch.optim.Optimizer]:
        return [self.opt_d] if self.t.s.adversarial_weight > 0 else []

    def _d(self, c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.D(torch.cat([c, u], dim=1)).squeeze(1)

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        t, s = self.t, self.t.s
        c, real = t.cond[idx], t.target[idx]
        out, logits = t.G.forward_with_logits(c, t.noise(len(idx)))
        fake = H.direction_from_output(out)
        loss_d = torch.zeros(())
        loss_g = torch.zeros(())
        if s.adversarial_weight > 0:
            lr, lf = self._d(c, real), self._d(c, fake.detach())
            loss_d = F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(
                lf, torch.zeros_like(lf))
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            lg = self._d(c, fake)
            loss_g = s.adversarial_weight * F.binary_cross_entropy_with_logits(lg, torch.ones_like(lg))
        if s.energy_weight > 0:
            fake2 = H.direction_from_output(t.G(c, t.noise(len(idx))))
            loss_g = loss_g + s.energy_weight * energy_score(fake, fake2, real)
        if s.likelihood_weight > 0:
            loss_g = loss_g + s.likelihood_weight * t.G.histogram_nll(c, real[:, 2])
        loss_g = loss_g + t.anchor_loss(idx, fake) + t.smooth_loss(logits)
        t.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        t.opt_g.step()
        t.update_ema()
        return float(loss_d.detach()), float(loss_g.detach())


HADRON_FEATURES = ("E", "px", "py", "pz", "charge")


def hadron_features(hadrons: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """(H, 5): lab four-momentum and electric charge of each hadron (what the event-level
    discriminator sees, before scaling)."""
    return np.column_stack([hadrons.reshape(-1, 4), charge(pid.reshape(-1))]).astype(np.float64)


def hadron_distances(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """W1 of energy, transverse momentum (to the beam) and |cos theta| of two hadron sets (H, 4)."""
    def obs(h: np.ndarray) -> dict[str, np.ndarray]:
        p = np.linalg.norm(h[:, 1:], axis=1)
        return {"E": h[:, 0], "pt": np.hypot(h[:, 1], h[:, 2]), "abs_cos": np.abs(h[:, 3]) / np.maximum(p, 1e-12)}

    oa, ob = obs(a), obs(b)
    return {f"w1_{k}": w1(oa[k], ob[k]) for k in oa}


def pair_distances(a: tuple[np.ndarray, np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray, np.ndarray],
                   mass_max: float = 4.0) -> dict[str, float]:
    """W1 of the features of every within-event hadron pair below ``mass_max`` (mass, |cos| and
    the positive hadron's decay cosine in the pair frame; :func:`hadml.blocks.networks.pair_features`)
    of two samples, each (hadrons (H, 4), charges (H,), hadrons per event): what hadron-only data
    shows of the two-body decays."""
    def feats(h: np.ndarray, q: np.ndarray, n: np.ndarray) -> np.ndarray:
        ev = torch.as_tensor(np.repeat(np.arange(len(n)), n))
        i, j, _ = event_pairs(ev, len(n))
        f = pair_features(torch.as_tensor(h), torch.as_tensor(q, dtype=torch.float64), i, j).numpy()
        return f[f[:, 0] < mass_max]

    fa, fb = feats(*a), feats(*b)
    return {f"w1_pair_{k}": w1(fa[:, c], fb[:, c]) for k, c in (("mass", 0), ("abs_cos", 1), ("charged_cos", 3))}


def charge_flow_of(h: np.ndarray, q: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """The finite charge-flow observables (:mod:`hadml.blocks.charge`: hemisphere charge
    products, leading charged hadrons) of events of hadrons (H, 4), charges (H,), hadrons per event."""
    return {k: x[np.isfinite(x)] for k, x in charge_flow(n, q, h).items()}


def charge_distances(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    """W1 of each charge-flow observable of two samples (:func:`charge_flow_of`)."""
    return {f"w1_{k}": w1(a[k], b[k]) for k in a}


class EventLevel(Strategy):
    """HadML v2 on hadml-2: a permutation-invariant Deep Sets discriminator sees every two-body
    decay hadron of an event (lab four-momentum and charge), never which cluster made which
    hadron. Generated events decay the clusters of the training split's events; real events are
    the target's (``Settings.target``, default the same record: closure) training-split events,
    drawn independently. Validation: hadron spectra of the generator's decays of the validation
    split's clusters against the target's validation-split hadrons and hadron pairs (only what data
    would give)."""

    mode = "event"

    def __init__(self, trainer: Trainer2):
        super().__init__(trainer)
        t, s = trainer, trainer.s
        tr = t.parts["train"].table
        self.axes = torch.as_tensor(_axes(tr), dtype=torch.float32)
        self.cluster = torch.as_tensor(tr.cluster, dtype=torch.float32)
        self.mass = torch.as_tensor(hadron_mass(tr.hadron_pid), dtype=torch.float32)
        self.charge = torch.as_tensor(charge(tr.hadron_pid), dtype=torch.float32)  # Herwig's species stay
        self.counts = torch.as_tensor(tr.counts, dtype=torch.long)
        self.starts = torch.cumsum(self.counts, 0) - self.counts
        target = t.target_parts
        real = target["train"]
        if s.disc_frame not in DISC_FRAMES:
            raise ValueError(f"disc_frame {s.disc_frame!r}: one of {', '.join(DISC_FRAMES)}")
        if s.flow_clusters not in FLOW_CLUSTERS:
            raise ValueError(f"flow_clusters {s.flow_clusters!r}: one of {', '.join(FLOW_CLUSTERS)}")
        if s.flow_distance not in FLOW_DISTANCES:
            raise ValueError(f"flow_distance {s.flow_distance!r}: one of {', '.join(FLOW_DISTANCES)}")
        # the training clusters the flow loss moves (a boolean mask over the training clusters)
        self.flow_moves = torch.ones(len(self.cluster), dtype=torch.bool)
        if s.flow_clusters == "perturbative":
            self.flow_moves = has_perturbative(tr, "flow_clusters 'perturbative'")
        f64 = torch.as_tensor(hadron_features(real.hadron, real.hadron_pid))
        self.real = f64.to(torch.float32)
        self.real_counts = torch.as_tensor(2 * real.counts, dtype=torch.long)
        self.real_starts = torch.cumsum(self.real_counts, 0) - self.real_counts
        # the scaling of what D sees, from the target's training events (in double precision)
        seen = self._seen(f64, torch.repeat_interleave(torch.arange(len(real.counts)), self.real_counts), len(real.counts))[0]
        mu, sd = seen.mean(0), seen.std(0, correction=0)
        self.mu = mu.to(torch.float32)
        self.sd = torch.where(sd > 0, sd, torch.ones_like(sd)).to(torch.float32)
        # once, as the real events never change: the target's events' axes (blocks.networks.event_axes)
        # and, for the flow loss, their charge-flow statistics per event (a batch's are its rows)
        self.real_axes: torch.Tensor | None = None
        self.real_flow: torch.Tensor | None = None
        if s.disc_frame == "event" or s.flow_weight > 0:
            ev_all = torch.repeat_interleave(torch.arange(len(real.counts)), self.real_counts)
            self.real_axes = event_axes(f64[:, 1:4], ev_all, len(real.counts)).to(torch.float32)
            if s.flow_weight > 0:
                self.real_flow = self.flow_table(self.real, ev_all, len(real.counts), self.real_axes)
        # "mean": the batch is compared with every target training event (its mean is no noisier)
        self.full_flow = (self.target_flow(torch.arange(len(real.counts)))
                          if s.flow_weight > 0 and s.flow_distance == "mean" else None)
        self.D: DeepSetsDiscriminator
        if s.pairs:
            n_ev = min(len(real.counts), 5000)
            ri, ev = gather_events(self.real_starts, self.real_counts, torch.arange(n_ev))
            pi, pj, _ = event_pairs(ev, n_ev)
            pf = pair_features(self.real[ri, :4], self.real[ri, 4], pi, pj)
            pf = pf[pf[:, 0] < s.pair_mass_max]
            psd = pf.std(0)
            self.D = PairSetsDiscriminator(s.disc_hidden, s.disc_layers, self.mu.numel(), pf.mean(0),
                                           torch.where(psd > 0, psd, torch.ones_like(psd)), s.pair_mass_max,
                                           hemispheres=s.disc_frame == "event")
        else:
            self.D = DeepSetsDiscriminator(s.disc_hidden, s.disc_layers, self.mu.numel(), hemispheres=s.disc_frame == "event")
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=(0.5, 0.999))
        v, tv = t.parts["validation"].table, target["validation"]
        n = min(v.n_events, s.eval_clusters // 7 + 1)
        self.val = v.head(n)
        self.val_axes = torch.as_tensor(_axes(self.val), dtype=torch.float32)
        self.val_cond = torch.as_tensor(t.scaler.transform(arrays(self.val).raw), dtype=torch.float32)
        self.val_real = tv.hadron.reshape(-1, 4)
        half = np.random.default_rng(0).random(len(self.val_real)) < 0.5
        self.floor = hadron_distances(self.val_real[half], self.val_real[~half])
        # pairs of hadrons within an event: the first 4000 target events, split in halves for the floor
        tp = tv.head(min(tv.n_events, 4000))
        self.val_real_pairs = (tp.hadron.reshape(-1, 4), charge(tp.hadron_pid).reshape(-1), 2 * tp.counts)
        ev_half = np.random.default_rng(1).random(tp.n_events) < 0.5
        halves = [tp.select_events(m) for m in (ev_half, ~ev_half)]
        ha, hb = [(x.hadron.reshape(-1, 4), charge(x.hadron_pid).reshape(-1), 2 * x.counts) for x in halves]
        self.floor |= pair_distances(ha, hb, s.pair_mass_max)
        self.val_charge = charge(self.val.hadron_pid).reshape(-1)
        if s.select_charge_flow:  # the target's validation events, and their halves for the floor
            tq = charge(tv.hadron_pid).reshape(-1)
            self.val_real_charge = charge_flow_of(tv.hadron.reshape(-1, 4), tq, 2 * tv.counts)
            split = np.random.default_rng(2).random(tv.n_events) < 0.5
            ca, cb = [charge_flow_of(x.hadron.reshape(-1, 4), charge(x.hadron_pid).reshape(-1), 2 * x.counts)
                      for x in (tv.select_events(split), tv.select_events(~split))]
            self.floor |= charge_distances(ca, cb)

    def optimizers(self) -> list[torch.optim.Optimizer]:
        return [self.opt_d]

    def batches(self) -> list[torch.Tensor]:
        pg, pr = torch.randperm(len(self.counts)), torch.randperm(len(self.real_counts))
        per = min(max(1, round(self.t.s.batch_size / float(self.counts.float().mean()))), len(pg), len(pr))
        nb = min(len(pg), len(pr)) // per
        return [torch.stack([pg[i * per:(i + 1) * per], pr[i * per:(i + 1) * per]]) for i in range(nb)]

    def _fake(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(hadron features of G's decays of clusters idx, G's raw outputs, its network's output)"""
        t = self.t
        u, logits = t.G.forward_with_logits(t.cond[idx], t.noise(len(idx)))
        h1, h2 = KT.two_body_decay_along(self.cluster[idx], self.mass[idx, 0], self.mass[idx, 1], self.axes[idx], u,
                                         check=False)
        p4 = torch.stack([h1, h2], dim=1).reshape(-1, 4)
        return torch.cat([p4, self.charge[idx].reshape(-1, 1)], dim=1), u, logits

    def _seen(self, f: torch.Tensor, ev: torch.Tensor, n: int,
              axes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """What D sees of each hadron, before scaling, from its raw features f (lab p4, charge), and
        its hemisphere in the event frame (None in the lab); ``axes``: the events' axes if known."""
        if self.t.s.disc_frame == "event":
            return event_frame_features(f[:, :4], f[:, 4], ev, n, axes)
        return f, None

    def _d(self, f: torch.Tensor, ev: torch.Tensor, n: int, axes: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits for events of raw hadron features f (lab p4, charge)."""
        seen, side = self._seen(f, ev, n, axes)
        x = (seen - self.mu) / self.sd
        if isinstance(self.D, PairSetsDiscriminator):
            return self.D.forward_pairs(x, ev, n, f[:, :4], f[:, 4], side=side)
        return self.D(x, ev, n, side=side)

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        t = self.t
        sel_g, sel_r = idx[0], idx[1]
        ci, ev_c = gather_events(self.starts, self.counts, sel_g)
        ev_g = torch.repeat_interleave(ev_c, 2)  # hadrons 1 and 2 of each cluster, interleaved
        ri, ev_r = gather_events(self.real_starts, self.real_counts, sel_r)
        real = self.real[ri]
        ng, nr = len(sel_g), len(sel_r)
        fake, u, logits = self._fake(ci)
        # each event's axis once per step (no gradient flows through it): the target's precomputed
        ax_r = None if self.real_axes is None else self.real_axes[sel_r]
        ax_g = None if self.real_axes is None else event_axes(fake[:, 1:4].detach(), ev_g, ng)
        lr, lf = self._d(real, ev_r, nr, ax_r), self._d(fake.detach(), ev_g, ng, ax_g)
        loss_d = F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(
            lf, torch.zeros_like(lf))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        lg = self._d(fake, ev_g, ng, ax_g)
        loss_g = F.binary_cross_entropy_with_logits(lg, torch.ones_like(lg)) + t.anchor_loss(ci, u) + t.smooth_loss(logits)
        if t.s.flow_weight > 0:
            moves = self.flow_moves[ci].repeat_interleave(2)  # hadrons 1 and 2, as in fake
            ref = self.full_flow if self.full_flow is not None else self.target_flow(sel_r)
            loss_g = loss_g + t.s.flow_weight * self.flow_loss(fake, ev_g, ng, ref, moves, ax_g)
        t.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        t.opt_g.step()
        t.update_ema()
        return float(loss_d.detach()), float(loss_g.detach())

    def _flow(self, f: torch.Tensor, ev: torch.Tensor, n: int,
              axes: torch.Tensor | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(values, defined) of each charge-flow statistic (:meth:`flow_statistics`): the values
        of the events where it is defined, and that (n,) mask."""
        p3, q = f[:, 1:4], f[:, 4]
        axes = event_axes(p3, ev, n) if axes is None else axes
        out = []
        for kappa in KAPPAS:
            qh = hemisphere_charges(q, p3, ev, n, axes, kappa)
            ok = torch.isfinite(qh).all(1)  # before the product: no NaN in its gradient
            out.append((qh[ok, 0] * qh[ok, 1], ok))
        slot = 2 * ev + ((p3 * axes[ev]).sum(1) < 0).long()
        c = q != 0
        pabs = torch.linalg.vector_norm(p3, dim=1)
        top = torch.zeros(2 * n, dtype=p3.dtype, device=p3.device).scatter_reduce(0, slot[c], pabs[c].detach(), "amax", include_self=False)
        w = torch.exp((pabs - top[slot]).clamp_max(0.0) / FLOW_LEAD_SCALE) * c
        num = torch.zeros(2 * n, dtype=p3.dtype, device=p3.device).index_add_(0, slot, q * w)
        den = torch.zeros(2 * n, dtype=p3.dtype, device=p3.device).index_add_(0, slot, w)
        ok = (den[0::2] > 0) & (den[1::2] > 0)
        lead = num / torch.where(den > 0, den, torch.ones_like(den))
        out.append((lead[0::2][ok] * lead[1::2][ok], ok))
        return out

    def flow_statistics(self, f: torch.Tensor, ev: torch.Tensor, n: int,
                        axes: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The charge-flow statistics of events of raw hadron features f (lab p4, charge), each a
        1-d sample over the events with both hemispheres defined (hemispheres about
        :func:`event_axes`): Q_F Q_B for each kappa of :mod:`hadml.blocks.charge`, and a smooth
        ``lead_qq``: the product of each hemisphere's charged hadrons' charges weighted by
        exp(|p| / FLOW_LEAD_SCALE) (the leading one's charge as the scale goes to 0; differentiable).
        ``axes``: the events' axes if known."""
        return [v for v, _ in self._flow(f, ev, n, axes)]

    def flow_table(self, f: torch.Tensor, ev: torch.Tensor, n: int, axes: torch.Tensor | None = None) -> torch.Tensor:
        """(n, statistics) :meth:`flow_statistics` per event, NaN where undefined (no gradient):
        the statistics of any subset of the events are its rows' finite entries."""
        stats = self._flow(f.detach(), ev, n, axes)
        table = torch.full((n, len(stats)), float("nan"), dtype=f.dtype, device=f.device)
        for k, (v, ok) in enumerate(stats):
            table[ok, k] = v
        return table

    def target_flow(self, events: torch.Tensor) -> list[torch.Tensor]:
        """:meth:`flow_statistics` of the target's training events ``events``, from the table
        made once at start."""
        if self.real_flow is None:
            raise ValueError("the target's charge-flow statistics are made only with flow_weight > 0")
        rows = self.real_flow[events]
        return [rows[torch.isfinite(rows[:, k]), k] for k in range(rows.shape[1])]

    def flow_loss(self, fake: torch.Tensor, ev_g: torch.Tensor, ng: int, ref: list[torch.Tensor],
                  moves: torch.Tensor | None = None, axes: torch.Tensor | None = None) -> torch.Tensor:
        """Sum over :meth:`flow_statistics` of the W1 (:func:`w1_quantiles`; or, by
        ``Settings.flow_distance``, the energy distance or the absolute difference of the means)
        between the generated events of the batch and ``ref``, target events' statistics
        (:meth:`target_flow`: the batch's, or for "mean" every training event's), each in units of
        the target's standard deviation in ``ref`` (so each statistic counts alike).
        ``moves`` (a boolean per generated hadron): only those hadrons pass the loss's gradient
        (``Settings.flow_clusters``); None: all. ``axes``: the generated events' axes if known."""
        if moves is not None:
            fake = torch.where(moves[:, None], fake, fake.detach())
        gen = self.flow_statistics(fake, ev_g, ng, axes)
        kind = self.t.s.flow_distance

        def dist(g: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # the energy distance needs two values of each
            if kind == "mean" and len(g) > 0:
                return (g.mean() - r.mean().to(g.dtype)).abs()
            return energy_distance_1d(g, r) if kind == "energy" and min(len(g), len(r)) >= 2 else w1_quantiles(g, r)

        return sum((dist(g, r) / r.std().clamp_min(1e-6) for g, r in zip(gen, ref, strict=True)),
                   torch.zeros(()))

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        t, v = self.t, self.val
        u = t.judged(self.val_cond, t.noise(len(self.val_cond)))
        m = torch.as_tensor(hadron_mass(v.hadron_pid), dtype=torch.float32)
        h1, h2 = KT.two_body_decay_along(torch.as_tensor(v.cluster, dtype=torch.float32), m[:, 0], m[:, 1],
                                         self.val_axes, u, check=False)
        gen = torch.stack([h1, h2], dim=1).reshape(-1, 4).numpy().astype(np.float64)
        d = hadron_distances(gen, self.val_real)
        d |= pair_distances((gen, self.val_charge, 2 * v.counts), self.val_real_pairs, self.t.s.pair_mass_max)
        if self.t.s.select_charge_flow:
            d |= charge_distances(charge_flow_of(gen, self.val_charge, 2 * v.counts), self.val_real_charge)
        d["metric"] = float(np.mean([d[k] / self.floor[k] for k in d]))
        return d


FLOW_LEAD_SCALE = 1.0  # GeV: the smooth leading hadron of EventLevel.flow_statistics


def has_perturbative(table: ClusterTable, needed_by: str) -> torch.Tensor:
    """(N,) bool: the clusters with a perturbative constituent (Herwig's ``isPerturbative``, the
    decays ClDir/ClSmr align); a clear error naming ``needed_by`` where the record has no flags."""
    if table.perturbative is None:
        raise ValueError(f"{needed_by} needs the clusters' perturbative flags: a hadml-2 decay record "
                         "(hadml herwig run --native --clusters)")
    return torch.as_tensor(table.perturbative.astype(bool).any(1))


def _axes(table: ClusterTable) -> np.ndarray:
    """(N, 3, 3) hadml-2 frame axes of each cluster (constituent 1 of the table)."""
    return K.decay_frame(table.cluster, table.parton[:, 0])[0]


def _onnx_checkpoint(path: str | Path) -> dict[str, Any]:
    """An exported hadml-2 generator read back as a checkpoint: its weights (the ONNX initializers
    keep the torch parameter names: ``net.*``; the graph's other constants, e.g. those of
    ``flat_azimuth``'s rotation, are no weights) and its recorded condition scaling."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    info = H.parse_metadata({e.key: e.value for e in model.metadata_props}, str(path))
    weights = {i.name: torch.as_tensor(numpy_helper.to_array(i).copy()) for i in model.graph.initializer
               if i.name.startswith("net.")}
    return {"generator": weights, "scaler_min": info.scaler.minimum, "scaler_max": info.scaler.maximum}


class Trainer2:
    def __init__(self, s: Settings, strategy: type[Strategy] = ClusterLevel, table: ClusterTable | None = None):
        """``table``: an already loaded labelled table instead of the file ``s.clusters``."""
        self.s = s
        # the settings' own contradictions, before any data is read
        check_generator_options(s.noise_dim, s.flat_azimuth, s.head, s.histogram_degree)
        if s.likelihood_weight > 0 and (s.head != "histogram" or strategy is not ClusterLevel):
            raise ValueError("likelihood_weight needs the histogram head and the cluster-level strategy (labelled decays)")
        if s.smooth_weight > 0 and s.head != "histogram":
            raise ValueError("smooth_weight needs the histogram head (it smooths the histogram's log-probabilities)")
        torch.manual_seed(s.seed)
        if s.threads:
            torch.set_num_threads(s.threads)
        if table is None:
            table = load_table(s.clusters, s.max_events)
        lab = split_labels(table.n_events, s.split_seed)
        self.parts = {name: arrays(table.select_events(lab == i)) for i, name in enumerate(SPLITS)}
        tr = self.parts["train"]
        self.scaler = H.Scaler.fit(tr.raw)
        M = np.exp(tr.raw[:, 0])
        self.domain = H.Domain.of(tr.table.parton_pid, tr.table.hadron_pid, M)
        self.cond = torch.as_tensor(self.scaler.transform(tr.raw), dtype=torch.float32)
        self.target = torch.as_tensor(tr.target, dtype=torch.float32)
        self.G = Generator(s.noise_dim, s.hidden, s.layers, s.blind, s.flat_azimuth, s.activation, s.head,
                           s.histogram_degree)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=(0.5, 0.999))
        self.G_ema = AveragedModel(self.G, multi_avg_fn=get_ema_multi_avg_fn(s.ema)) if s.ema > 0 else None
        self.G0: Generator | None = None  # the frozen starting generator of start_from (the anchor)
        if s.anchor_clusters not in ANCHOR_CLUSTERS:
            raise ValueError(f"anchor_clusters {s.anchor_clusters!r}: one of {', '.join(ANCHOR_CLUSTERS)}")
        # the training clusters the anchor holds (a boolean mask over self.cond's rows)
        self.anchored = torch.ones(len(self.cond), dtype=torch.bool)
        if s.anchor_clusters == "nonperturbative":
            self.anchored = ~has_perturbative(tr.table, "anchor_clusters 'nonperturbative'")
        v = self.parts["validation"]
        n = min(len(v.raw), s.eval_clusters)
        self.val_cond = torch.as_tensor(self.scaler.transform(v.raw[:n]), dtype=torch.float32)
        self.val_target = v.target[:n]
        self.val_pert = v.table.perturbative[:n].astype(bool)  # type: ignore[index]
        self.val_cos_alpha = v.raw[:n, H.CONDITIONS.index("cos_alpha")]
        half = np.random.default_rng(0).random(n) < 0.5
        self.floor = direction_distances(self.val_target[half], self.val_pert[half], self.val_target[~half],
                                         self.val_pert[~half])
        if s.select_forward:
            c, pv = self.val_cos_alpha, self.val_pert
            f = forward_distances(self.val_target[half], c[half], pv[half], self.val_target[~half], c[~half], pv[~half])
            self.floor |= {k: f[k] for k in SELECT_FORWARD}
        self.sample_text = f"{Path(s.clusters).name}: {table.n_events} events, {table.n_clusters} clusters"
        self.target_parts = {k: p.table for k, p in self.parts.items()}
        if s.target:
            tt = load_table(s.target, s.max_events)
            tl = split_labels(tt.n_events, s.split_seed)  # its test split: what evaluation reports
            self.target_parts = {name: tt.select_events(tl == i) for i, name in enumerate(SPLITS)}
            self.sample_text += f"; target hadrons: {Path(s.target).name} ({tt.n_events} events)"
        self.strategy = strategy(self)

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """Every optimizer that steps (the learning-rate decay applies to these)."""
        return [self.opt_g, *self.strategy.optimizers()]

    def start_from(self, checkpoint: str | Path) -> None:
        """Start the generator from an earlier fit's best.pt, or from an exported hadml-2 model
        (``.onnx``: its weights and recorded scaling); refused (ValueError naming the file) when
        its condition scaling is not this data's: the network would read other numbers."""
        if Path(checkpoint).suffix == ".onnx":
            ck = _onnx_checkpoint(checkpoint)
        else:
            ck = torch.load(checkpoint, weights_only=True)
        if "scaler_min" not in ck:
            raise ValueError(f"{checkpoint}: no condition scaling recorded (written before hadml kept it): "
                             "cannot check it against the data; refit")
        lo, hi = np.asarray(ck["scaler_min"]), np.asarray(ck["scaler_max"])
        if lo.shape != self.scaler.minimum.shape or not (np.allclose(lo, self.scaler.minimum, rtol=1e-9, atol=0)
                                                         and np.allclose(hi, self.scaler.maximum, rtol=1e-9, atol=0)):
            bad = [H.CONDITIONS[i] for i in range(min(len(lo), len(H.CONDITIONS)))
                   if lo.shape != self.scaler.minimum.shape or not (np.isclose(lo[i], self.scaler.minimum[i])
                                                                    and np.isclose(hi[i], self.scaler.maximum[i]))]
            raise ValueError(f"{checkpoint}: its condition scaling does not match {self.s.clusters} "
                             f"(differs for {', '.join(bad) or 'the number of conditions'}): refusing to start from it")
        try:
            self.G.load_state_dict(ck["generator"])
        except RuntimeError as err:  # other layer names or widths
            raise ValueError(f"{checkpoint}: its generator is not this one (hidden {self.s.hidden}, "
                             f"layers {self.s.layers}, noise {self.s.noise_dim}, head {self.s.head}, "
                             f"histogram degree {self.s.histogram_degree}): {err}") from None
        self.G.apply_blind()  # a start that saw a condition this fit is blind to forgets it
        if self.G_ema is not None:
            self.G_ema.module.load_state_dict(self.G.state_dict())
        self.G0 = copy.deepcopy(self.G).requires_grad_(False)

    def start_isotropic(self, steps: int = 2000, lr: float = 1e-3) -> dict[str, float]:
        """Start the generator from the label-free prior "every decay isotropic": ``steps`` batches
        of the conditional energy score of G's directions against random unit vectors on the
        training clusters' conditions (no Herwig decay is read). The result is the starting
        generator that an anchor holds (as ``start_from``'s). Returns the prior's mean cos theta*
        and W1 of cos theta* to the uniform distribution on the validation clusters.

        The histogram head is set to the prior exactly instead: its last layer zero, equal logits
        for every condition, i.e. cos theta* uniform (and the flat azimuth) by construction."""
        opt = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        n, bs = len(self.cond), min(self.s.batch_size, len(self.cond))
        if self.G.head == "histogram":
            last = self.G.net[-1]
            assert isinstance(last, nn.Linear)
            with torch.no_grad():
                last.weight.zero_()
                last.bias.zero_()
            steps = 0
        for _ in range(steps):
            c = self.cond[torch.randint(n, (bs,))]
            y = H.direction_from_output(torch.randn(bs, 3))
            loss = energy_score(H.direction_from_output(self.G(c, self.noise(bs))),
                                H.direction_from_output(self.G(c, self.noise(bs))), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if self.G_ema is not None:
            self.G_ema.module.load_state_dict(self.G.state_dict())
        self.G0 = copy.deepcopy(self.G).requires_grad_(False)
        with torch.no_grad():
            u = H.direction_from_output(self.G(self.val_cond, self.noise(len(self.val_cond)))).numpy()
        return {"mean_cos": float(u[:, 2].mean()), "w1_cos_uniform": w1_to_uniform(u[:, 2])}

    def smooth_loss(self, logits: torch.Tensor) -> torch.Tensor:
        """``smooth_weight`` times the roughness of the histogram head's ``logits`` (those of the
        step's own forward pass, ``Generator.forward_with_logits``; zero without a weight)."""
        if self.s.smooth_weight <= 0:
            return torch.zeros(())
        return self.s.smooth_weight * self.G.roughness(logits)

    def anchor_loss(self, idx: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """``anchor_weight`` times the conditional energy score of G's directions (raw outputs
        ``u`` for the training clusters ``idx``, and a second draw) against the starting
        generator's: zero without an anchor weight. Only the ``anchored`` clusters among ``idx``
        count (``Settings.anchor_clusters``), averaged over them."""
        w = self.s.anchor_weight
        if w <= 0:
            return torch.zeros(())
        if self.G0 is None:
            raise ValueError("anchor_weight > 0 needs a starting generator (start_from / --init)")
        keep = self.anchored[idx]
        if not bool(keep.any()):
            return torch.zeros(())
        idx, u = idx[keep], u[keep]
        c = self.cond[idx]
        with torch.no_grad():
            y = H.direction_from_output(self.G0(c, self.noise(len(idx))))
        u2 = self.G(c, self.noise(len(idx)))
        return w * energy_score(H.direction_from_output(u), H.direction_from_output(u2), y)

    @property
    def judged(self) -> nn.Module:
        """The generator that validation selects and export writes: the EMA one when kept."""
        return self.G_ema.module if self.G_ema is not None else self.G

    def update_ema(self) -> None:
        if self.G_ema is not None:
            self.G_ema.update_parameters(self.G)

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.s.noise_dim)

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        return self.strategy.validate()

    def fit(self) -> dict[str, Any]:
        s = self.s
        out = Path(s.output)
        out.mkdir(parents=True, exist_ok=True)
        best, t0, history = float("inf"), time.perf_counter(), []
        n = len(self.cond)
        schedules = [torch.optim.lr_scheduler.ExponentialLR(o, s.lr_decay) for o in self.optimizers()]
        stopped = ""
        for epoch in range(1, s.epochs + 1):
            losses = [self.strategy.step(b) for b in self.strategy.batches()]
            for sch in schedules:
                sch.step()
            finite = all(np.isfinite(x).all() for x in losses) and all(
                bool(torch.isfinite(q).all()) for q in self.judged.parameters())
            if not finite:  # a diverged fit: keep the best epoch before it, say so
                stopped = f"diverged in epoch {epoch} (non-finite loss or generator weights); the best earlier epoch is kept"
                print(json.dumps({"epoch": epoch, "stopped": stopped}), flush=True)
                if not (out / "best.pt").exists():
                    raise RuntimeError(f"{out}: the fit {stopped[:-31]}, before any epoch was validated: "
                                       "lower the learning rates")
                break
            rec: dict[str, Any] = {"epoch": epoch, "time_s": time.perf_counter() - t0,
                                   "loss_d": float(np.mean([x[0] for x in losses])),
                                   "loss_g": float(np.mean([x[1] for x in losses]))}
            rec.update(self.validate())
            if rec["metric"] < best:
                best = rec["metric"]
                rec["best"] = True
                torch.save({"generator": self.judged.state_dict(), "epoch": epoch,
                            "scaler_min": self.scaler.minimum.tolist(), "scaler_max": self.scaler.maximum.tolist()},
                           out / "best.pt")
            history.append(rec)
            with open(out / "history.jsonl", "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rec.items()}), flush=True)
            if s.time_budget_s > 0 and rec["time_s"] > s.time_budget_s:
                break
        ck = torch.load(out / "best.pt", weights_only=True)
        self.G.load_state_dict(ck["generator"])
        summary = {"settings": asdict(self.s), "best_metric": best, "best_epoch": ck["epoch"], "floor": self.floor,
                   "epochs": len(history), "stopped": stopped or "budget or epochs", "seconds": time.perf_counter() - t0,
                   "clusters_per_s": len(history) * n / (time.perf_counter() - t0)}
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary

    def metadata(self) -> dict[str, str]:
        return H.make_metadata(self.scaler, self.s.noise_dim, __version__,
                               f"{self.strategy.mode}-level fit; {self.sample_text}; split seed {self.s.split_seed} "
                               f"(train 80 %, validation 10 %, test 10 % of events); epoch selected on validation"
                               + (f"; blind to {', '.join(self.s.blind)}" if self.s.blind else "")
                               + ("; azimuth about constituent 1 flat by construction" if self.s.flat_azimuth else "")
                               + (f"; {self.s.activation} generator" if self.s.activation != "leaky_relu" else "")
                               + (f"; cos theta* from a learned histogram ({HISTOGRAM_BINS} bins"
                                  + (f", log-probabilities of degree {self.s.histogram_degree} in cos theta*"
                                     if self.s.histogram_degree else "") + ")" if self.s.head == "histogram" else "")
                               + (f"; likelihood weight {self.s.likelihood_weight:g}" if self.s.likelihood_weight else "")
                               + (f"; histogram smoothness weight {self.s.smooth_weight:g}" if self.s.smooth_weight else ""),
                               self.domain, {"hadml.training_mode": self.strategy.mode})

    def export(self, path: str | Path) -> Path:
        from .export import export_generator

        return export_generator(self.G, path, self.metadata(), len(H.CONDITIONS), self.s.noise_dim,
                                output_name=H.OUTPUT)
