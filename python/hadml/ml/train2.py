"""Training the hadml-2 decay model on Herwig's labelled decay record (issue 15).

The data are split by event into three fixed parts: ``train`` (fit), ``validation`` (model
selection: the best-epoch checkpoint) and ``test`` (what results pages report; the fit never sees
it). What is fitted at which level is a :class:`Strategy`; :class:`ClusterLevel` is HadML v1's
conditional GAN on each cluster's decay direction in the hadml-2 frame.
"""

from __future__ import annotations

import json
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
from ..blocks.distances import w1
from ..blocks.losses import energy_score
from ..blocks.networks import mlp
from ..data.io import load_table
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


class Generator(nn.Module):
    """(scaled conditions, noise) -> unbounded 3-vector v; direction = v / |v|."""

    def __init__(self, noise_dim: int, hidden: int, layers: int):
        super().__init__()
        self.noise_dim = noise_dim
        self.net = nn.Sequential(*mlp(len(H.CONDITIONS) + noise_dim, hidden, layers, False), nn.Linear(hidden, 3))

    def forward(self, conditions: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([conditions, noise], dim=1))


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
    eval_clusters: int = 40000
    threads: int = 2
    adversarial_weight: float = 1.0  # weight of the GAN loss in G's loss (0: no discriminator)
    energy_weight: float = 0.0  # weight of the conditional energy score (needs labelled decays)
    ema: float = 0.0  # decay of the generator's exponential moving average (0: none); EMA is what is judged
    extra: dict[str, Any] = field(default_factory=dict)


def frame_angles(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cos theta*, phi*) of directions in the hadml-2 frame."""
    return u[:, 2], np.arctan2(u[:, 1], u[:, 0])


def direction_distances(u: np.ndarray, pert_u: np.ndarray, ref: np.ndarray, pert_ref: np.ndarray
                        ) -> dict[str, float]:
    """W1 of cos theta* and phi*, for all clusters and for those with a perturbative constituent
    (``pert_*`` (N, 2) the flags of each set's clusters)."""
    out = {}
    for tag, pick in (("all", False), ("pert", True)):
        a = u[pert_u.any(1)] if pick else u
        b = ref[pert_ref.any(1)] if pick else ref
        (ca, pa), (cb, pb) = frame_angles(a), frame_angles(b)
        out[f"w1_cos_{tag}"], out[f"w1_phi_{tag}"] = w1(ca, cb), w1(pa, pb)
    return out


class Strategy:
    """What the discriminator sees and how one step goes; the loop is :class:`Trainer2`'s."""

    def __init__(self, trainer: Trainer2):
        self.t = trainer

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        raise NotImplementedError


class ClusterLevel(Strategy):
    """HadML v1 on hadml-2: D sees (conditions, unit direction) of one cluster's decay. With
    ``energy_weight`` > 0 the generator's loss adds the conditional energy score of its directions
    against Herwig's (a proper scoring rule: a distance to the data's conditional distribution that
    does not depend on a discriminator); ``adversarial_weight`` 0 drops the discriminator."""

    def __init__(self, trainer: Trainer2):
        super().__init__(trainer)
        s = trainer.s
        self.D = nn.Sequential(*mlp(len(H.CONDITIONS) + 3, s.disc_hidden, s.disc_layers, False), nn.Linear(s.disc_hidden, 1))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=s.lr_d, betas=(0.5, 0.999))

    def _d(self, c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return self.D(torch.cat([c, u], dim=1)).squeeze(1)

    def step(self, idx: torch.Tensor) -> tuple[float, float]:
        t, s = self.t, self.t.s
        c, real = t.cond[idx], t.target[idx]
        fake = H.direction_from_output(t.G(c, t.noise(len(idx))))
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
        t.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        t.opt_g.step()
        t.update_ema()
        return float(loss_d.detach()), float(loss_g.detach())


class Trainer2:
    def __init__(self, s: Settings, strategy: type[Strategy] = ClusterLevel, table: ClusterTable | None = None):
        """``table``: an already loaded labelled table instead of the file ``s.clusters``."""
        self.s = s
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
        self.G = Generator(s.noise_dim, s.hidden, s.layers)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=s.lr_g, betas=(0.5, 0.999))
        self.G_ema = AveragedModel(self.G, multi_avg_fn=get_ema_multi_avg_fn(s.ema)) if s.ema > 0 else None
        self.strategy = strategy(self)
        v = self.parts["validation"]
        n = min(len(v.raw), s.eval_clusters)
        self.val_cond = torch.as_tensor(self.scaler.transform(v.raw[:n]), dtype=torch.float32)
        self.val_target = v.target[:n]
        self.val_pert = v.table.perturbative[:n].astype(bool)  # type: ignore[index]
        half = np.random.default_rng(0).random(n) < 0.5
        self.floor = direction_distances(self.val_target[half], self.val_pert[half], self.val_target[~half],
                                         self.val_pert[~half])
        self.sample_text = f"{Path(s.clusters).name}: {table.n_events} events, {table.n_clusters} clusters"

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
        u = H.direction_from_output(self.judged(self.val_cond, self.noise(len(self.val_cond)))).numpy().astype(np.float64)
        d = direction_distances(u, self.val_pert, self.val_target, self.val_pert)
        d["metric"] = float(np.mean([d[k] / self.floor[k] for k in d]))
        return d

    def fit(self) -> dict[str, Any]:
        s = self.s
        out = Path(s.output)
        out.mkdir(parents=True, exist_ok=True)
        best, t0, history = float("inf"), time.perf_counter(), []
        n = len(self.cond)
        for epoch in range(1, s.epochs + 1):
            perm = torch.randperm(n)
            losses = [self.strategy.step(perm[i:i + s.batch_size]) for i in range(0, n - s.batch_size + 1, s.batch_size)]
            rec: dict[str, Any] = {"epoch": epoch, "time_s": time.perf_counter() - t0,
                                   "loss_d": float(np.mean([x[0] for x in losses])),
                                   "loss_g": float(np.mean([x[1] for x in losses]))}
            rec.update(self.validate())
            if rec["metric"] < best:
                best = rec["metric"]
                rec["best"] = True
                torch.save({"generator": self.judged.state_dict(), "epoch": epoch}, out / "best.pt")
            history.append(rec)
            with open(out / "history.jsonl", "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rec.items()}), flush=True)
            if s.time_budget_s > 0 and rec["time_s"] > s.time_budget_s:
                break
        ck = torch.load(out / "best.pt", weights_only=True)
        self.G.load_state_dict(ck["generator"])
        summary = {"settings": asdict(self.s), "best_metric": best, "best_epoch": ck["epoch"], "floor": self.floor,
                   "epochs": len(history), "seconds": time.perf_counter() - t0,
                   "clusters_per_s": len(history) * n / (time.perf_counter() - t0)}
        (out / "summary.json").write_text(json.dumps(summary, indent=1))
        return summary

    def metadata(self) -> dict[str, str]:
        return H.make_metadata(self.scaler, self.s.noise_dim, __version__,
                               f"cluster-level fit; {self.sample_text}; split seed {self.s.split_seed} "
                               f"(train 80 %, validation 10 %, test 10 % of events); epoch selected on validation",
                               self.domain, {"hadml.training_mode": "cluster"})

    def export(self, path: str | Path) -> Path:
        from .export import export_generator

        return export_generator(self.G, path, self.metadata(), len(H.CONDITIONS), self.s.noise_dim,
                                output_name=H.OUTPUT)
