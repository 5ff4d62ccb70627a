"""GAN training: cluster level (HadML v1) and event level with a Deep Sets discriminator (v2).

Runs on CPU or CUDA, and on several GPUs/processes under ``torchrun`` (DistributedDataParallel;
each rank takes its own share of every epoch's batches, rank 0 evaluates and writes).
"""

from __future__ import annotations

import json
import os
import pickle
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import __version__
from .. import kinematics_torch as KT
from ..blocks.distances import w1, w1_p4
from ..blocks.ragged import gather_events
from ..data.io import load_hadrons, load_table
from .config import Config, from_dict
from .data import ClusterArrays, cluster_arrays, split_events
from .features import OUTPUT_OFFSET, OUTPUT_SCALE, Scaler, feature_names
from .models import ClusterDiscriminator, DeepSetsDiscriminator, Generator

CHECKPOINT_LAST = "last.pt"
CHECKPOINT_BEST = "best.pt"
HISTORY = "history.jsonl"
_CHECKPOINT_KEYS = ("config", "generator", "names", "scaler_min", "scaler_max", "epoch", "best")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: missing, unreadable, not hadml's, or carrying Python
    objects other than tensors and plain data (which ``torch.load`` could only rebuild by running
    code from the file)."""


def _plain(x: Any, where: str) -> Any:
    """``x`` as tensors and plain data (dict, list, str, int, float, bool, None), the only contents
    ``torch.load(weights_only=True)`` accepts: numpy arrays become lists, numpy scalars numbers,
    paths strings. Anything else is a bug in what the trainer saves, reported by its key."""
    if x is None or isinstance(x, (bool, int, float, str, torch.Tensor)):
        return x
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, dict):
        return {k: _plain(v, f"{where}.{k}") for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(x)]
    raise TypeError(f"checkpoint entry {where} is a {type(x).__name__}, not a tensor or plain data")


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The contents of a hadml checkpoint, loaded with ``weights_only=True``: a file that carries
    pickled Python objects (which could run code when loaded) is refused with a
    :class:`CheckpointError` naming it."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"{p}: no such checkpoint file")
    try:
        ck = torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        needs = re.search(r"GLOBAL ([\w.]+)", str(err))
        if needs is None:  # not a pickle weights_only can read at all (e.g. not a torch file)
            why = [x.strip() for x in str(err).splitlines() if x.strip()][-2:-1] or [type(err).__name__]
            raise CheckpointError(f"{p}: not a readable torch checkpoint ({why[0]})") from None
        raise CheckpointError(
            f"{p}: refused: a hadml checkpoint holds only tensors and plain data, but this file carries "
            f"other pickled Python objects (it imports {needs.group(1)}), and loading them could run "
            "arbitrary code"
        ) from None
    except Exception as err:  # torch raises many types for a file that is no torch archive
        raise CheckpointError(f"{p}: not a readable torch checkpoint ({type(err).__name__}: {err})") from None
    missing = [k for k in _CHECKPOINT_KEYS if not isinstance(ck, dict) or k not in ck]
    if missing:
        raise CheckpointError(f"{p}: not a hadml checkpoint (no {', '.join(missing)})")
    return ck


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def _setup_distributed(device: str) -> tuple[Dist, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if world <= 1:
        return Dist(), torch.device(device)
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        torch.cuda.set_device(local)
        dist.init_process_group("nccl")
        return Dist(rank, world, local), torch.device("cuda", local)
    dist.init_process_group("gloo")
    return Dist(rank, world, local), torch.device("cpu")


def angles_from_t(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return OUTPUT_OFFSET[0] + OUTPUT_SCALE[0] * t[:, 0], OUTPUT_OFFSET[1] + OUTPUT_SCALE[1] * t[:, 1]


def target_split_seed(cfg: Config) -> int:
    """The target file's split: the clusters file's own when it is the same file (closure)."""
    same = not cfg.data.target or Path(cfg.data.target).resolve() == Path(cfg.data.clusters).resolve()
    return cfg.data.split_seed if same else cfg.data.split_seed + 1


class Trainer:
    def __init__(self, cfg: Config, resume: bool = True, quiet: bool = False):
        self.cfg = cfg
        self.quiet = quiet
        self.out = Path(cfg.output)
        self.dist, self.device = _setup_distributed(cfg.train.device)
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        torch.manual_seed(cfg.train.seed + self.dist.rank)
        self._prepare_data()
        m = cfg.model
        d = len(self.names)
        self.G = Generator(d, m.noise_dim, m.hidden, m.layers).to(self.device)
        if cfg.train.mode == "cluster":
            self.D: nn.Module = ClusterDiscriminator(d, m.disc_hidden, m.disc_layers).to(self.device)
        else:
            self.D = DeepSetsDiscriminator(m.disc_hidden, m.disc_layers).to(self.device)
        t = cfg.train
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=(t.beta1, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=(t.beta1, 0.999))
        self.epoch = 0
        self.best = float("inf")
        self.history: list[dict[str, Any]] = []
        if resume and (self.out / CHECKPOINT_LAST).is_file():
            self._load(self.out / CHECKPOINT_LAST)
        elif self.dist.main and (self.out / HISTORY).is_file():
            (self.out / HISTORY).unlink()  # a fresh start: the old history does not belong to it
        self.Gm: nn.Module = self.G  # what the training steps call: the DDP wrapper with several ranks
        self.Dm: nn.Module = self.D
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.Gm = DDP(self.G, device_ids=ids)
            self.Dm = DDP(self.D, device_ids=ids)

    # ------------------------------------------------------------------ data
    def _t(self, a: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=self.device)

    def _prepare_data(self) -> None:
        cfg = self.cfg
        table = load_table(cfg.data.clusters, cfg.data.max_events)
        self.sample_text = (
            f"{Path(cfg.data.clusters).name}: {table.n_events} events, {table.n_clusters} clusters"
        )
        mask = split_events(table.n_events, cfg.data.train_fraction, cfg.data.split_seed)
        self.names = feature_names(cfg.model.use_partons)
        train_t, held_t = table.select_events(mask), table.select_events(~mask)
        if train_t.n_clusters == 0 or held_t.n_clusters == 0:
            raise ValueError(f"data.train_fraction={cfg.data.train_fraction} leaves no training or no held-out "
                             f"clusters in {cfg.data.clusters} ({table.n_events} events)")
        self.train_arr, self.scaler = cluster_arrays(train_t, None, cfg.model.use_partons)
        self.held_arr, _ = cluster_arrays(held_t, self.scaler, cfg.model.use_partons)
        a = self.train_arr
        self.cond = self._t(a.cond)
        self.target = self._t(a.target)
        self.cluster = self._t(a.cluster)
        self.mass = self._t(a.mass)
        self.counts = self._t(a.counts, torch.long)
        self.starts = self._t(a.starts, torch.long)
        if cfg.train.mode == "event":
            tgt = cfg.data.target or cfg.data.clusters
            counts, p4 = load_hadrons(tgt, cfg.data.max_events)
            tmask = split_events(counts.size, cfg.data.train_fraction, target_split_seed(cfg))
            rows = np.repeat(tmask, counts)
            self.real_counts = self._t(counts[tmask], torch.long)
            self.real_starts = self._t(np.concatenate([[0], np.cumsum(counts[tmask])[:-1]]), torch.long)
            self.real_p4 = self._t(p4[rows])
            self.held_real = p4[~rows]
            self.held_real_counts = counts[~tmask]
            mu, sd = p4[rows].mean(0), p4[rows].std(0)
            self.h_mu, self.h_sd = self._t(mu), self._t(np.where(sd > 0, sd, 1.0))
            self.sample_text += f"; target hadrons: {Path(tgt).name}"
            half = np.random.default_rng(0).random(self.held_real_counts.size) < 0.5
            hr = np.repeat(half, self.held_real_counts)
            self.floor = w1_p4(self.held_real[hr], self.held_real[~hr])
        else:
            h = self.held_arr.target
            half = np.random.default_rng(0).random(len(h)) < 0.5
            self.floor = {
                "theta": w1(h[half, 0] * OUTPUT_SCALE[0], h[~half, 0] * OUTPUT_SCALE[0]),
                "phi": w1(h[half, 1] * OUTPUT_SCALE[1], h[~half, 1] * OUTPUT_SCALE[1]),
            }

    # ------------------------------------------------------------- generation
    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.model.noise_dim, device=self.device)

    def generate_hadrons(
        self, G: nn.Module, cond: torch.Tensor, cluster: torch.Tensor, mass: torch.Tensor
    ) -> torch.Tensor:
        """Differentiable: (n, 4) conditions... -> (2n, 4) lab hadrons (first, second interleaved).
        Which of Herwig's two hadrons is "first" is a fair coin (see README)."""
        t = G(cond, self.noise(cond.shape[0]))
        theta, phi = angles_from_t(t)
        flip = torch.rand(cond.shape[0], device=self.device) < 0.5
        m_first = torch.where(flip, mass[:, 1], mass[:, 0])
        m_second = torch.where(flip, mass[:, 0], mass[:, 1])
        a, b = KT.two_body_decay(cluster, m_first, m_second, theta, phi, check=False)
        return torch.stack([a, b], dim=1).reshape(-1, 4)

    # --------------------------------------------------------------- training
    def _bce(self, logits: torch.Tensor, real: bool) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))

    def _batches_cluster(self) -> list[torch.Tensor]:
        n = self.cond.shape[0]
        bs = self.cfg.train.batch_size
        perm = torch.randperm(n, device=self.device)
        nb = max(1, n // (bs * self.dist.world))
        return [perm[(i * self.dist.world + self.dist.rank) * bs :][:bs] for i in range(nb)]

    def _step_cluster(self, idx: torch.Tensor) -> tuple[float, float]:
        c, real = self.cond[idx], self.target[idx]
        t = self.cfg.train
        for _ in range(t.d_steps):
            fake = self.Gm(c, self.noise(len(idx))).detach()
            loss_d = self._bce(self.Dm(c, real), True) + self._bce(self.Dm(c, fake), False)
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
        for _ in range(t.g_steps):
            loss_g = self._bce(self.Dm(c, self.Gm(c, self.noise(len(idx)))), True)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        return loss_d.item(), loss_g.item()

    def _batches_event(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        n_ev = self.counts.numel()
        per = max(1, round(self.cfg.train.batch_size / float(self.counts.float().mean())))
        n_real = self.real_counts.numel()
        nb = max(1, min(n_ev, n_real) // (per * self.dist.world))
        pg = torch.randperm(n_ev, device=self.device)
        pr = torch.randperm(n_real, device=self.device)
        out = []
        for i in range(nb):
            k = (i * self.dist.world + self.dist.rank) * per
            out.append((pg[k : k + per], pr[k : k + per]))
        return out

    def _scale_h(self, h: torch.Tensor) -> torch.Tensor:
        return (h - self.h_mu) / self.h_sd

    def _step_event(self, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[float, float]:
        sel_g, sel_r = batch
        idx, ev_c = gather_events(self.starts, self.counts, sel_g)
        ev_g = torch.repeat_interleave(ev_c, 2)  # two hadrons per cluster
        ridx, ev_r = gather_events(self.real_starts, self.real_counts, sel_r)
        real = self._scale_h(self.real_p4[ridx])
        n = sel_g.numel()
        c, cl, m = self.cond[idx], self.cluster[idx], self.mass[idx]
        t = self.cfg.train
        for _ in range(t.d_steps):
            with torch.no_grad():
                fake = self._scale_h(self.generate_hadrons(self.Gm, c, cl, m))
            loss_d = self._bce(self.Dm(real, ev_r, sel_r.numel()), True) + self._bce(
                self.Dm(fake, ev_g, n), False
            )
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
        for _ in range(t.g_steps):
            fake = self._scale_h(self.generate_hadrons(self.Gm, c, cl, m))
            loss_g = self._bce(self.Dm(fake, ev_g, n), True)
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.opt_g.step()
        return loss_d.item(), loss_g.item()

    # ------------------------------------------------------------- evaluation
    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Distances on the held-out split; 'metric' is what model selection minimises."""
        self.G.eval()
        a: ClusterArrays = self.held_arr
        n = min(len(a.cond), self.cfg.train.eval_clusters)
        if self.cfg.train.mode == "cluster":
            t = self.G(self._t(a.cond[:n]), self.noise(n)).cpu().numpy().astype(np.float64)
            out = {
                "w1_theta": w1(t[:, 0] * OUTPUT_SCALE[0], a.target[:n, 0] * OUTPUT_SCALE[0]),
                "w1_phi": w1(t[:, 1] * OUTPUT_SCALE[1], a.target[:n, 1] * OUTPUT_SCALE[1]),
            }
            out["metric"] = 0.5 * (out["w1_theta"] + out["w1_phi"])
        else:
            ne = int(np.searchsorted(np.cumsum(a.counts), n, side="right"))
            nc = int(a.counts[:ne].sum())
            h = (
                self.generate_hadrons(
                    self.G, self._t(a.cond[:nc]), self._t(a.cluster[:nc]), self._t(a.mass[:nc])
                )
                .cpu()
                .numpy()
                .astype(np.float64)
            )
            d = w1_p4(h, self.held_real)
            out = {f"w1_{k}": v for k, v in d.items()}
            out["metric"] = float(np.mean(list(d.values())))
        self.G.train()
        return out

    # ----------------------------------------------------------- checkpoints
    def state(self) -> dict[str, Any]:
        """Tensors (state dicts, RNG state) and plain data only, so that loading needs no pickle."""
        plain = _plain(
            {
                "config": self.cfg.to_dict(),
                "epoch": self.epoch,
                "best": self.best,
                "names": self.names,
                "scaler_min": self.scaler.minimum,
                "scaler_max": self.scaler.maximum,
                "sample": self.sample_text,
                "version": __version__,
                "floor": self.floor,
            },
            "checkpoint",
        )
        return {
            **plain,
            # state dicts keep their own type (it carries the modules' version metadata)
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "torch_rng": torch.get_rng_state(),
        }

    def _save(self, name: str) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        tmp = self.out / (name + ".tmp")
        torch.save(self.state(), tmp)
        tmp.replace(self.out / name)

    def _load(self, path: Path) -> None:
        ck = read_checkpoint(path, self.device)
        self.G.load_state_dict(ck["generator"])
        self.D.load_state_dict(ck["discriminator"])
        self.opt_g.load_state_dict(ck["opt_g"])
        self.opt_d.load_state_dict(ck["opt_d"])
        self.epoch, self.best = ck["epoch"], ck["best"]
        self.scaler = Scaler(np.asarray(ck["scaler_min"]), np.asarray(ck["scaler_max"]))
        torch.set_rng_state(ck["torch_rng"].cpu())  # map_location may have moved it to a GPU
        hist = self.out / HISTORY
        if hist.is_file():
            self.history = [json.loads(x) for x in hist.read_text().splitlines() if x.strip()]

    # ------------------------------------------------------------------- loop
    def fit(self) -> dict[str, Any]:
        cfg = self.cfg.train
        t0 = time.perf_counter()
        n_items = 0
        progress = None
        if self.dist.main and not self.quiet:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[info]}"),
            )
            progress.start()
            task = progress.add_task(
                f"training ({cfg.mode})", total=cfg.epochs, completed=self.epoch, info=""
            )
        try:
            while self.epoch < cfg.epochs:
                self.epoch += 1
                losses = []
                if cfg.mode == "cluster":
                    for idx in self._batches_cluster():
                        losses.append(self._step_cluster(idx))
                        n_items += idx.numel()
                else:
                    for b in self._batches_event():
                        losses.append(self._step_event(b))
                        n_items += int(self.counts[b[0]].sum())
                rec: dict[str, Any] = {
                    "epoch": self.epoch,
                    "loss_d": float(np.mean([x[0] for x in losses])),
                    "loss_g": float(np.mean([x[1] for x in losses])),
                    "time_s": time.perf_counter() - t0,
                }
                stop = cfg.time_budget_s > 0 and time.perf_counter() - t0 > cfg.time_budget_s
                if self.dist.main:
                    last = self.epoch == cfg.epochs or stop
                    if self.epoch % cfg.eval_every == 0 or last:
                        rec.update(self.evaluate())
                        if rec["metric"] < self.best:
                            self.best = rec["metric"]
                            rec["best"] = True
                            self._save(CHECKPOINT_BEST)
                    self.history.append(rec)
                    self.out.mkdir(parents=True, exist_ok=True)
                    with open(self.out / HISTORY, "a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    if self.epoch % cfg.checkpoint_every == 0 or last:
                        self._save(CHECKPOINT_LAST)
                    if progress is not None:
                        info = f"D {rec['loss_d']:.3f} G {rec['loss_g']:.3f}"
                        if "metric" in rec:
                            info += f" W1 {rec['metric']:.4g} (best {self.best:.4g})"
                        progress.update(task, completed=self.epoch, info=info)
                stop = self._agree(stop)
                if stop:
                    break
        finally:
            if progress is not None:
                progress.stop()
        elapsed = time.perf_counter() - t0
        summary = {
            "epochs": self.epoch,
            "best_metric": self.best,
            "floor": self.floor,
            "seconds": elapsed,
            "items_per_s": n_items * self.dist.world / max(elapsed, 1e-9),
            "output": str(self.out),
        }
        if self.dist.main:
            (self.out / "summary.json").write_text(json.dumps(summary, indent=1))
            plot_history(self.out)
        if self.dist.world > 1:
            import torch.distributed as dist

            # rank 0 writes the summary and plot first: the ranks tear down together, or gloo's
            # threads in the rank that left early can abort it (seen here in 1 of ~6 runs)
            dist.barrier()
            dist.destroy_process_group()
        return summary

    def _agree(self, stop: bool) -> bool:
        if self.dist.world == 1:
            return stop
        import torch.distributed as dist

        flag = torch.tensor([1.0 if stop else 0.0], device=self.device)
        dist.broadcast(flag, 0)
        return bool(flag.item() > 0)


def plot_history(out: Path) -> Path | None:
    path = out / HISTORY
    if not path.is_file():
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    ep = [r["epoch"] for r in rows]
    a1.plot(ep, [r["loss_d"] for r in rows], label="discriminator")
    a1.plot(ep, [r["loss_g"] for r in rows], label="generator")
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss")
    a1.legend()
    ev = [r for r in rows if "metric" in r]
    a2.plot([r["epoch"] for r in ev], [r["metric"] for r in ev], marker="o")
    a2.set_xlabel("epoch")
    a2.set_ylabel("held-out W1 (model selection)")
    a2.set_yscale("log")
    fig.tight_layout()
    fig.savefig(out / "history.png", dpi=100)
    plt.close(fig)
    return out / "history.png"


def load_checkpoint(path: str | Path) -> tuple[Generator, Config, dict[str, Any]]:
    """Generator (eval mode, CPU) and configuration from a checkpoint."""
    ck = read_checkpoint(path)
    cfg = from_dict(ck["config"])
    m = cfg.model
    G = Generator(len(ck["names"]), m.noise_dim, m.hidden, m.layers)
    G.load_state_dict(ck["generator"])
    G.eval()
    return G, cfg, ck
