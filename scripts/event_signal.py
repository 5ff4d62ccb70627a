"""How much an event-level fit can see per batch, before any generator step: the generator at the
isotropic prior (every decay isotropic, the event-level closure's start) against the target's
hadrons.

1. The discriminator alone, trained for --steps batches against the frozen prior: its loss
   (2 ln 2 = 1.386 at chance), every 100 steps, for --frame lab and/or event
   (``Settings.disc_frame``).
2. The charge-flow statistics of ``EventLevel.flow_statistics`` per batch: W1 (in units of the
   target's standard deviation, as ``EventLevel.flow_loss``) of the prior's decays against the
   target's events, and of Herwig's own decays of the same generated events against them (what
   a perfect generator leaves: the batch's noise), with their means.

    python scripts/event_signal.py samples/lep91_nominal.clusters [--events 40000] [--steps 1500]
                                   [--frames lab event] [--batches 40]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from hadml.blocks.distances import w1_quantiles
from hadml.blocks.ragged import gather_events
from hadml.ml.hadml2 import blind_conditions
from hadml.ml.train2 import EventLevel, Settings, Trainer2


def trainer(clusters: str, events: int, frame: str) -> Trainer2:
    s = Settings(clusters, output="(not written)", max_events=events, threads=1, lr_d=1e-3, pairs=True,
                 disc_frame=frame, head="histogram", flat_azimuth=True, blind=blind_conditions("class-only"))
    t = Trainer2(s, EventLevel)
    t.start_isotropic()
    return t


def discriminator_alone(t: Trainer2, steps: int) -> None:
    e = t.strategy
    assert isinstance(e, EventLevel)
    losses: list[float] = []
    while len(losses) < steps:
        for idx in e.batches():
            ci, ev_c = gather_events(e.starts, e.counts, idx[0])
            ri, ev_r = gather_events(e.real_starts, e.real_counts, idx[1])
            with torch.no_grad():
                fake = e._fake(ci)[0]
            lr, lf = e._d(e.real[ri], ev_r, len(idx[1])), e._d(fake, torch.repeat_interleave(ev_c, 2), len(idx[0]))
            loss = F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(
                lf, torch.zeros_like(lf))
            e.opt_d.zero_grad(set_to_none=True)
            loss.backward()
            e.opt_d.step()
            losses.append(float(loss.detach()))
            if len(losses) % 100 == 0:
                print(f"  {t.s.disc_frame:>5} D alone, steps {len(losses) - 99:>5}-{len(losses):<5} "
                      f"mean loss {np.mean(losses[-100:]):.4f}", flush=True)
            if len(losses) >= steps:
                return


def flow_signal(t: Trainer2, n_batches: int) -> None:
    e = t.strategy
    assert isinstance(e, EventLevel)
    rows: dict[str, list[list[float]]] = {"prior": [], "herwig": [], "mean prior": [], "mean herwig": [],
                                          "mean target": []}
    with torch.no_grad():
        for idx in e.batches()[:n_batches]:
            ci, ev_c = gather_events(e.starts, e.counts, idx[0])
            ri, ev_r = gather_events(e.real_starts, e.real_counts, idx[1])
            own, ev_o = gather_events(e.real_starts, e.real_counts, idx[0])  # closure: Herwig's decays of them
            gen = e.flow_statistics(e._fake(ci)[0], torch.repeat_interleave(ev_c, 2), len(idx[0]))
            her = e.flow_statistics(e.real[own], ev_o, len(idx[0]))
            ref = e.flow_statistics(e.real[ri], ev_r, len(idx[1]))
            rows["prior"].append([float(w1_quantiles(g, r) / r.std()) for g, r in zip(gen, ref, strict=True)])
            rows["herwig"].append([float(w1_quantiles(g, r) / r.std()) for g, r in zip(her, ref, strict=True)])
            for k, x in (("mean prior", gen), ("mean herwig", her), ("mean target", ref)):
                rows[k].append([float(v.mean()) for v in x])
    print(f"\ncharge-flow statistics per batch ({n_batches} batches; qfqb_k0.5, qfqb_k1, smooth lead_qq): "
          "mean +- spread over batches")
    for k, v in rows.items():
        a = np.asarray(v)
        cells = ", ".join(f"{m:+.4f} +- {s:.4f}" for m, s in zip(a.mean(0), a.std(0), strict=True))
        label = f"W1 / sd, {k} vs target" if not k.startswith("mean") else k
        print(f"  {label:>28}: {cells}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clusters")
    ap.add_argument("--events", type=int, default=40000)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--frames", nargs="+", choices=("lab", "event"), default=["lab", "event"])
    ap.add_argument("--batches", type=int, default=40)
    a = ap.parse_args()
    torch.manual_seed(0)
    for frame in a.frames:
        t = trainer(a.clusters, a.events, frame)
        if a.steps:
            discriminator_alone(t, a.steps)
    flow_signal(t, a.batches)


if __name__ == "__main__":
    main()
