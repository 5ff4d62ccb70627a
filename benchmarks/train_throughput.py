"""Training throughput: clusters per second for cluster-level and event-level steps.

python benchmarks/train_throughput.py [--events 5000] [--epochs 2] [--threads 0] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from hadml.data.gun import ClusterGun
from hadml.data.reference import DecayParams, decay_table
from hadml.data.writers import write_cluster_file
from hadml.ml.config import load_config
from hadml.ml.train import Trainer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (train.device)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sample = Path(tmp) / "s.dat"
        write_cluster_file(sample, decay_table(ClusterGun().sample(args.events, 1), DecayParams(), 2))
        print(
            f"{args.events} gun events on {args.device}; defaults (2 x 256, batch 10000, 5 D steps per G step)"
        )
        for mode in ("cluster", "event"):
            cfg = load_config(
                None,
                [
                    f"data.clusters={sample}",
                    f"output={tmp}/{mode}",
                    f"train.mode={mode}",
                    f"train.epochs={args.epochs}",
                    "train.eval_every=1000",
                    f"train.threads={args.threads}",
                    f"train.device={args.device}",
                    "data.train_fraction=0.9",
                ],
            )
            s = Trainer(cfg, resume=False, quiet=True).fit()
            print(f"{mode:>8}-level: {s['items_per_s']:10.0f} clusters/s")


if __name__ == "__main__":
    main()
