"""Training throughput of the shipped hadml-2 configuration: clusters per second of the training
steps (no validation) for the cluster-level fit (energy score, as the shipped nominal model) and
the event-level fit with and without the pair branch (as the shipped ClSmrLight 0 model), the
recipes of docs/results.md since 2026-12-07 (``*-hist``: class-only conditions, flat azimuth,
histogram head; ``event-frame``: the discriminator in the events' own frame, ``+flow`` with the
charge-flow loss), and where the step time goes (torch profiler: the operators with the most self
CPU time).

    python benchmarks/train_throughput.py [--clusters F] [--events 20000] [--steps 30] [--threads 2]
                                          [--profile 5]

Without --clusters the labelled cluster gun + reference decayer make the sample in memory (the
figures are per cluster, so they do not depend on the sample much). Targets (issue 17, 2 CPU
cores): cluster level >= 60 k clusters/s, event level >= 20 k clusters/s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import torch

from hadml.data.gun import ClusterGun, GunConfig
from hadml.data.io import load_table
from hadml.data.reference import DecayParams, decay_table
from hadml.ml.hadml2 import blind_conditions
from hadml.ml.train2 import ClusterLevel, EventLevel, Settings, Strategy, Trainer2

TARGETS = {"cluster": 60000.0, "event": 20000.0, "event+pairs": 20000.0, "cluster-hist": 60000.0,
           "event-hist": 20000.0, "event-frame": 20000.0, "event-frame+flow": 20000.0}
# the recipes of docs/results.md since 2026-12-07 (scripts/results.sh): class-only conditions, flat
# azimuth, the histogram head; the event-level ones from the isotropic prior, anchored
_SHIPPED: dict[str, Any] = {"blind": blind_conditions("class-only"), "flat_azimuth": True, "head": "histogram"}
_EVENT: dict[str, Any] = {"lr_g": 1e-4, "lr_d": 1e-3, "ema": 0.999, "pairs": True, "anchor_weight": 1.0,
                          "anchor_clusters": "nonperturbative", **_SHIPPED}
# the shipped models' settings (models/*.md): the nominal fit and the ClSmrLight 0 stress fit
CONFIGS: dict[str, tuple[type[Strategy], dict[str, Any]]] = {
    "cluster": (ClusterLevel, {"adversarial_weight": 0.0, "energy_weight": 1.0, "lr_g": 1e-3, "ema": 0.999}),
    "event": (EventLevel, {"lr_g": 1e-4, "lr_d": 1e-3, "ema": 0.999}),
    "event+pairs": (EventLevel, {"lr_g": 1e-4, "lr_d": 1e-3, "ema": 0.999, "pairs": True}),
    "cluster-hist": (ClusterLevel, {"adversarial_weight": 0.0, "likelihood_weight": 1.0, "energy_weight": 1.0,
                                    "lr_g": 1e-3, "ema": 0.999, **_SHIPPED}),
    "event-hist": (EventLevel, _EVENT),
    "event-frame": (EventLevel, {**_EVENT, "disc_frame": "event"}),
    "event-frame+flow": (EventLevel, {**_EVENT, "disc_frame": "event", "flow_weight": 1.0, "flow_clusters": "perturbative"}),
}


def measure(t: Trainer2, steps: int) -> tuple[float, int]:
    """(seconds, clusters) of `steps` training steps after two warm-up steps."""
    batches = t.strategy.batches()
    while len(batches) < steps + 2:
        batches += t.strategy.batches()
    for b in batches[:2]:
        t.strategy.step(b)
    n = 0
    t0 = time.perf_counter()
    for b in batches[2:steps + 2]:
        t.strategy.step(b)
        n += clusters_in(t, b)
    return time.perf_counter() - t0, n


def clusters_in(t: Trainer2, b: torch.Tensor) -> int:
    """Generated clusters of one batch (event level: the generated events' clusters)."""
    if b.ndim == 1:
        return int(b.numel())
    s = t.strategy
    assert isinstance(s, EventLevel)
    return int(s.counts[b[0]].sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clusters", default="", help="a labelled decay record (default: the labelled gun)")
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--steps", type=int, default=30, help="timed steps per configuration")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", type=int, default=5, help="profiled steps per configuration (0: none)")
    ap.add_argument("--only", nargs="+", choices=tuple(CONFIGS), default=list(CONFIGS))
    args = ap.parse_args()
    if args.clusters:
        table, source = load_table(args.clusters, args.events), args.clusters
    else:
        gun = ClusterGun(GunConfig(labelled=True))
        table, source = decay_table(gun.sample(args.events, 1), DecayParams(), 2), "labelled gun"
    print(f"{source}: {table.n_events} events, {table.n_clusters} clusters; {args.threads} threads; "
          f"batch 2048 clusters, generator and discriminators 3 x 128 (the shipped configuration)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only:
            strategy, kw = CONFIGS[name]
            s = Settings("(in memory)", output=f"{tmp}/{name}", threads=args.threads, seed=0, **kw)
            t = Trainer2(s, strategy, table=table)
            if s.anchor_weight > 0:
                t.start_isotropic()  # the anchor's starting generator (exact for the histogram head)
            sec, n = measure(t, args.steps)
            rate = n / sec
            rows.append((name, rate, 1e3 * sec / args.steps))
            if args.profile:
                from torch.profiler import ProfilerActivity, profile

                batches = t.strategy.batches()[:args.profile]
                with profile(activities=[ProfilerActivity.CPU]) as prof:
                    for b in batches:
                        t.strategy.step(b)
                print(f"\n== {name}: where the step time goes ({len(batches)} steps, self CPU time)")
                print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    print(f"\n{'configuration':>16} {'clusters/s':>12} {'ms/step':>9}  target")
    for name, rate, ms in rows:
        target = TARGETS[name]
        print(f"{name:>16} {rate:>12.0f} {ms:>9.1f}  >= {target:.0f}  {'met' if rate >= target else 'MISSED'} "
              f"({rate / target:.2f}x)")


if __name__ == "__main__":
    main()
