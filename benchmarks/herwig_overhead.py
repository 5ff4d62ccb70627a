"""Herwig native vs Herwig + GAN: events per second, same seed, same machine, one run.

    python benchmarks/herwig_overhead.py [--events 2000] [--model M.onnx]

The figure is the ratio of the marginal time per event (from runs of N and 3N events, so that
start-up cancels); the target (issue 6) is at most 3 % more with the GAN. The whole-run ratios and
the extra start-up are printed too.
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
    n1, n3 = args.events, 3 * args.events
    times: dict[tuple[bool, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k, (ml, n) in enumerate([(False, n1), (True, n1), (False, n3), (True, n3)] * 2):
            t = time.perf_counter()  # interleaved, so that machine drift hits both alike
            run_lep(Path(tmp) / f"r{k}", n, args.seed, model=model, ml=ml)
            times.setdefault((ml, n), []).append(time.perf_counter() - t)
    t = {key: sum(v) / len(v) for key, v in times.items()}
    print(f"LEP events, seed {args.seed}, model {model}; Herwig read + run, mean of 2")
    for n in (n1, n3):
        print(f"{n:>6} events: native {t[(False, n)]:7.2f} s ({n / t[(False, n)]:6.1f}/s), "
              f"Herwig+GAN {t[(True, n)]:7.2f} s ({n / t[(True, n)]:6.1f}/s), ratio {t[(True, n)] / t[(False, n)]:.4f}")
    marg_native = (t[(False, n3)] - t[(False, n1)]) / (n3 - n1)
    marg_ml = (t[(True, n3)] - t[(True, n1)]) / (n3 - n1)
    startup = (t[(True, n1)] - marg_ml * n1) - (t[(False, n1)] - marg_native * n1)
    ratio = marg_ml / marg_native
    print(f"marginal time per event: native {1e3 * marg_native:.3f} ms, Herwig+GAN {1e3 * marg_ml:.3f} ms; "
          f"ratio {ratio:.4f} (target <= 1.03: {'met' if ratio <= 1.03 else 'MISSED'})")
    print(f"extra start-up with the GAN (ONNX Runtime load, sessions at read and run): {startup:.2f} s")


if __name__ == "__main__":
    main()
