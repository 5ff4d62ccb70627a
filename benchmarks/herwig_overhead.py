"""Herwig native vs Herwig + GAN: time per event, same seeds, same machine, one run.

    python benchmarks/herwig_overhead.py [--events 5000] [--short 200] [--repeats 6] [--model M.onnx]
                                         [--sequential]

LEP (91.2 GeV, OnShell, Trial 1) is read once natively and once with the GAN; then each repeat
runs both with the same seed for ``--events`` and for ``--short`` events. The marginal time per
event, (T(events) - T(short)) / (events - short), cancels Herwig's start-up (reading the run file,
loading ONNX Runtime, opening the model). T is the CPU time of the Herwig process (from wait4, so
time the machine gives to others does not count); wall-clock ratios are printed too.

By default the native and the GAN run of a repeat run at the same time, one on each of two CPUs
(swapped every repeat), so that drift of a shared machine hits both alike; ``--sequential`` runs
them one after the other (order flipped every repeat). The figure is the ratio of the marginal
times, mean over repeats with its standard error; the target (issue 6) is at most 3 % more time
per event with the GAN.

Trial 1 makes Herwig discard ~90 % of its attempts, a random number per event that the GAN's own
random numbers change, so the time per accepted event of one run fluctuates by about
1/sqrt(events). The attempts (accepted + discarded, from the run log) are printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from hadml.herwig import default_model, herwig_available, plugin_path, run_lep


def attempts(log: Path, events: int) -> int:
    """Accepted events plus the attempts ThePEG discarded (its 'eventerror (K times)' line)."""
    m = re.search(r"eventerror \((\d+) times\)", log.read_text())
    return events + (int(m.group(1)) if m else 0)


class Setup:
    """A LEP run file (native or with the GAN), read once; runs of it timed one by one."""

    def __init__(self, out: Path, ml: bool, model: Path):
        self.out, self.ml = out, ml
        self.name = "LEP-ML" if ml else "LEP"
        run_lep(out, 1, 1, model=model, ml=ml)  # Herwig read (+ a one-event run)

    def start(self, events: int, seed: int, cpu: int | None) -> tuple[subprocess.Popen, float]:
        cmd = ["Herwig", "run", f"{self.name}.run", "-N", str(events), "-s", str(seed), "-q"]
        if self.ml:
            cmd += ["-l", str(plugin_path().parent)]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]
        proc = subprocess.Popen(cmd, cwd=self.out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, time.perf_counter()

    def finish(self, proc: subprocess.Popen, t0: float, events: int, seed: int) -> tuple[float, float, int]:
        """CPU time, wall time, attempts."""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"Herwig run failed (exit {proc.returncode}) in {self.out}")
        return usage.ru_utime + usage.ru_stime, wall, attempts(self.out / f"{self.name}-S{seed}.log", events)


def run_pair(setups: dict[bool, Setup], events: int, seed: int, repeat: int, sequential: bool) -> dict:
    res = {}
    if sequential:
        for ml in [False, True] if repeat % 2 == 0 else [True, False]:
            res[ml] = setups[ml].finish(*setups[ml].start(events, seed, None), events, seed)
    else:
        cpus = {False: repeat % 2, True: 1 - repeat % 2}
        started = {ml: setups[ml].start(events, seed, cpus[ml]) for ml in (False, True)}
        for ml in (False, True):
            res[ml] = setups[ml].finish(*started[ml], events, seed)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--short", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--sequential", action="store_true", help="one run after the other, not side by side")
    args = ap.parse_args()
    if not herwig_available():
        raise SystemExit("Herwig is not installed")
    if not 0 < args.short < args.events:
        raise SystemExit("need 0 < --short < --events")
    if not args.sequential and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("side-by-side runs need two CPUs; use --sequential")
    model = args.model or default_model()
    n_long, n_short = args.events, args.short
    mode = "one after the other" if args.sequential else "side by side on two CPUs"
    print(f"LEP 91.2 GeV, Trial 1; model {model}")
    print(f"{args.repeats} repeats of {n_long} and {n_short} events, native and GAN {mode}")
    print("ms/event: marginal CPU time of `Herwig run`; wall ratio: the same from wall-clock time")
    print(f"{'repeat':>6} {'seed':>5} | {'native':>7} {'GAN':>7} {'ratio':>7} | {'wall ratio':>10} | "
          f"{'attempts/event native, GAN':>26}")
    ratios: dict[str, list[float]] = {"cpu": [], "wall": []}
    marg: dict[bool, list[float]] = {False: [], True: []}
    short_cpu: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        setups = {ml: Setup(Path(tmp) / ("ml" if ml else "native"), ml, model) for ml in (False, True)}
        for r in range(args.repeats):
            seed = args.seed + r
            long_ = run_pair(setups, n_long, seed, r, args.sequential)
            short = run_pair(setups, n_short, seed, r, args.sequential)
            cpu, wall = {}, {}
            for ml in (False, True):
                cpu[ml] = (long_[ml][0] - short[ml][0]) / (n_long - n_short)
                wall[ml] = (long_[ml][1] - short[ml][1]) / (n_long - n_short)
                marg[ml].append(cpu[ml])
                short_cpu[ml].append(short[ml][0] - n_short * cpu[ml])
            ratios["cpu"].append(cpu[True] / cpu[False])
            ratios["wall"].append(wall[True] / wall[False])
            ape = [long_[ml][2] / n_long for ml in (False, True)]
            print(f"{r:>6} {seed:>5} | {1e3 * cpu[False]:>7.3f} {1e3 * cpu[True]:>7.3f} {ratios['cpu'][-1]:>7.4f} | "
                  f"{ratios['wall'][-1]:>10.4f} | {ape[0]:>13.2f}, {ape[1]:>10.2f}")

    def mean_err(x: list[float]) -> str:
        err = statistics.stdev(x) / len(x) ** 0.5 if len(x) > 1 else float("nan")
        return f"{statistics.fmean(x):.4f} +- {err:.4f}"

    ratio = statistics.fmean(ratios["cpu"])
    print(f"marginal CPU time per event: native {1e3 * statistics.fmean(marg[False]):.3f} ms, "
          f"Herwig+GAN {1e3 * statistics.fmean(marg[True]):.3f} ms")
    print(f"ratio per event (mean over repeats +- standard error): {mean_err(ratios['cpu'])} "
          f"(target <= 1.03: {'met' if ratio <= 1.03 else 'MISSED'})")
    print(f"same from wall-clock time: {mean_err(ratios['wall'])}")
    startup = statistics.fmean(short_cpu[True]) - statistics.fmean(short_cpu[False])
    print(f"extra start-up CPU time of `Herwig run` with the GAN (ONNX Runtime, session): {startup:.2f} s")


if __name__ == "__main__":
    main()
