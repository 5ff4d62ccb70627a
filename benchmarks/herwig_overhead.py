"""Herwig native vs Herwig + GAN: events per second, same seed, same machine, one run.

    python benchmarks/herwig_overhead.py [--events 2000] [--model M.onnx]

The figure is the ratio of the time per event; the target (issue 6) is at most 3 % more with
the GAN. Times include Herwig's own start-up, so use enough events.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hadml.herwig import default_model, herwig_available, run_lep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    if not herwig_available():
        raise SystemExit("Herwig is not installed")
    model = args.model or default_model()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for ml in (False, True, False, True):  # interleaved to average out machine drift
            t = time.perf_counter()
            run_lep(Path(tmp) / f"r{len(rows)}", args.events, args.seed, model=model, ml=ml)
            rows.append((ml, time.perf_counter() - t))
    native = sum(t for ml, t in rows if not ml) / 2
    gan = sum(t for ml, t in rows if ml) / 2
    print(f"{args.events} LEP events, seed {args.seed}, model {model}")
    print(f"native     {native:8.2f} s  {args.events / native:8.1f} events/s")
    print(f"Herwig+GAN {gan:8.2f} s  {args.events / gan:8.1f} events/s")
    print(
        f"time per event, GAN / native: {gan / native:.4f}  (target <= 1.03: {'met' if gan / native <= 1.03 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
