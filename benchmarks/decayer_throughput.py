"""Clusters per second of the C++ decayer on one core, batch sizes 1, 8, 64, 1024, next to a bare
ONNX Runtime run of the same model (the floor). Timing happens inside C++ (no Python overhead).

    python benchmarks/decayer_throughput.py [--model M.onnx] [--seconds 2] [--provider cuda]

Both are timed in 20 interleaved rounds (order swapped every round), so that a drift of the
machine's speed hits both alike; the ratio is the median over rounds, with the quartiles.
Targets (issue 17): decay at batch 8 within 1.1x of the bare run, at batch 1024 within 1.2x.
Without --model, a generator of the default size (2 x 256, noise 10) with random weights is used.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

import hadml
from hadml.data.gun import ClusterGun, GunConfig
from hadml.data.table import hadron_mass
from hadml.ml.export import export_generator
from hadml.ml.features import CLUSTER_FEATURES, Scaler, make_metadata
from hadml.ml.models import Generator

TARGETS = {8: 1.1, 1024: 1.2}


def default_model(path: Path) -> Path:
    torch.manual_seed(0)
    G = Generator(4, 10, 256, 2).eval()
    md = make_metadata(
        CLUSTER_FEATURES,
        Scaler(np.array([0.3, -45, -45, -45.0]), np.array([45.6, 45, 45, 45.0])),
        10,
        hadml.__version__,
        "benchmark: random weights",
    )
    return export_generator(G, path, md, 4, 10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--provider", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64, 1024])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or default_model(Path(tmp) / "g.onnx")
        d = hadml.Decayer(model, threads=1, provider=args.provider)
        t = ClusterGun(GunConfig(labelled=d.format_version == 2)).sample(max(20000, max(args.batches)), seed=1)
        m = hadron_mass(t.hadron_pid)
        name = model if args.model else "default size, random weights"
        print(f"model {name}; provider {args.provider}; one intra-op thread")
        print(f"{'batch':>6} {'decay [clusters/s]':>20} {'bare ORT [clusters/s]':>22} {'ratio':>7} "
              f"{'quartiles':>13}  target")
        for batch in args.batches:
            if d.format_version == 2:  # hadml-2: labelled clusters, decay2
                r = d.benchmark2(t.cluster, t.parton[:, 0], t.parton_pid, t.perturbative, m[:, 0], m[:, 1], batch,
                                 args.seconds)
            else:
                partons = {"parton1": t.parton[:, 0], "has_partons": t.has_partons.astype("uint8")} if d.use_partons else {}
                r = d.benchmark(t.cluster, m[:, 0], m[:, 1], batch, args.seconds, **partons)
            q1, ratio, q3 = np.quantile(np.asarray(r["ratios"]), [0.25, 0.5, 0.75])
            target = TARGETS.get(batch)
            verdict = "" if target is None else f"<= {target}  {'met' if ratio <= target else 'MISSED'}"
            print(f"{batch:>6} {r['decay_per_s']:>20.0f} {r['bare_per_s']:>22.0f} {ratio:>7.3f} "
                  f"{q1:>6.3f}-{q3:<6.3f}  {verdict}")


if __name__ == "__main__":
    main()
