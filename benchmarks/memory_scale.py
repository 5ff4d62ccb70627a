"""Peak memory of the training and comparison paths against the number of events (issue 17 item
4: 1 M events, ~7 M clusters, must fit in 24 GB). Each size runs in a fresh process, whose peak
resident set size (getrusage) is reported, with the slope per million clusters.

    python benchmarks/memory_scale.py samples/lep91_nominal.clusters [--events 100000 300000 1000000]
                                      [--paths train compare]

The labelled record is repeated (event by event) up to each size: the arrays are what a real
sample of that size would hold. train: Trainer2 with the event-level strategy and the pair
branch (the shipped ClSmrLight 0 configuration: the largest), three training steps and one
validation. train-frame: the same with the event-level closure recipe's event frame and
charge-flow loss (docs/results.md: --disc-frame event --flow-weight 1 --flow-clusters
perturbative). compare: `hadml compare` of the events' hadrons against the same events in another
order (a second sample of the same size; observables, median-of-10 floors, bootstrap errors, the
p4+charge classifier; no plots).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def tiled(path: str, n_events: int):  # type: ignore[no-untyped-def]
    """The record's events repeated up to n_events (a ClusterTable)."""
    from hadml.data.io import load_table
    from hadml.data.table import ClusterTable

    t = load_table(path)
    reps = -(-n_events // t.n_events)
    fields = {}
    for name in ("cluster", "parton_pid", "parton", "hadron_pid", "hadron", "perturbative", "fission"):
        x = getattr(t, name)
        fields[name] = None if x is None else np.concatenate([x] * reps)
    counts = np.tile(t.counts, reps)
    big = ClusterTable(counts, fields["cluster"], fields["parton_pid"], fields["parton"], fields["hadron_pid"],
                       fields["hadron"], t.source, None, dict(t.meta), fields["perturbative"], fields["fission"])
    return big.head(n_events)


def child(path: str, n_events: int, what: str) -> dict[str, float]:
    t0 = time.perf_counter()
    table = tiled(path, n_events)
    out: dict[str, float] = {"events": table.n_events, "clusters": table.n_clusters,
                             "rss_table_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with tempfile.TemporaryDirectory() as tmp:
        if what in ("train", "train-frame"):
            from hadml.ml.train2 import EventLevel, Settings, Trainer2

            frame = {"disc_frame": "event", "flow_weight": 1.0, "flow_clusters": "perturbative"} if what == "train-frame" else {}
            t = Trainer2(Settings("(memory benchmark)", output=tmp, pairs=True, lr_d=1e-3, ema=0.999, threads=2, **frame),
                         EventLevel, table=table)
            for b in t.strategy.batches()[:3]:
                t.strategy.step(b)
            t.validate()
        else:
            from hadml.compare.report import compare
            from hadml.data.events import to_awkward

            a = to_awkward(table)
            shifted = tiled(path, n_events + 1000).select_events(np.arange(n_events + 1000) >= 1000)
            compare(a, to_awkward(shifted), ("A", "B"), Path(tmp), plots=False, n_boot=5, classifier_epochs=5,
                    classifier_features="p4+charge")
    out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["seconds"] = time.perf_counter() - t0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clusters", help="a labelled decay record (hadml herwig run --native --clusters F)")
    ap.add_argument("--events", type=int, nargs="+", default=[100000, 300000, 1000000])
    ap.add_argument("--paths", nargs="+", choices=("train", "train-frame", "compare"), default=["train", "compare"])
    ap.add_argument("--child", nargs=2, metavar=("EVENTS", "PATH"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.clusters, int(a.child[0]), a.child[1])))
        return
    print(f"{'path':>8} {'events':>9} {'clusters':>10} {'peak RSS [MB]':>14} {'table [MB]':>11} {'time [s]':>9}")
    for what in a.paths:
        pts = []
        for n in a.events:
            r = subprocess.run([sys.executable, __file__, a.clusters, "--child", str(n), what],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{what:>8} {n:>9}  failed (exit {r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            pts.append((res["clusters"], res["rss_peak_mb"]))
            print(f"{what:>8} {res['events']:>9.0f} {res['clusters']:>10.0f} {res['rss_peak_mb']:>14.0f} "
                  f"{res['rss_table_mb']:>11.0f} {res['seconds']:>9.1f}", flush=True)
        if len(pts) >= 2:
            (c0, m0), (c1, m1) = pts[0], pts[-1]
            print(f"{what:>8}: {1e6 * (m1 - m0) / (c1 - c0):.0f} MB per million clusters (slope between the "
                  f"smallest and largest size); largest {m1 / 1024:.1f} GB of 24 GB")


if __name__ == "__main__":
    main()
