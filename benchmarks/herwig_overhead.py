"""Herwig native vs Herwig + GAN: time per event, same seeds, same machine, one run.

    python benchmarks/herwig_overhead.py [--events 5000] [--short 200] [--seeds 8] [--min-of 3]
                                         [--model M.onnx] [--card mission|full] [--sequential]

LEP (91.2 GeV, OnShell; ``--card mission``: Trial 1, the mission card; ``--card full``: Trial 0,
every hadron species, the GAN on its training domain and Herwig for the other clusters) is read
once natively and once with the GAN. For each seed both
are run for ``--events`` and for ``--short`` events; with one seed the short run's events are the
first events of the long run, so (T(events) - T(short)) / (events - short) is the time per event
without Herwig's start-up (reading the run file, loading ONNX Runtime, opening the model). T is the
CPU time of the Herwig process (from wait4); wall-clock ratios are printed too.

A run with a given seed is repeated ``--min-of`` times and the fastest is kept: the events are
identical, so the spread between those runs is the machine's (on a shared virtual machine it
reaches 10-30 %) and the minimum is the time least disturbed by it. The native and the GAN run of
a repetition run at the same time, one on each of two CPUs (swapped every time), so that drift
hits both alike; ``--sequential`` runs them one after the other (order flipped every time).

The GAN changes the random numbers and hence the events; above all how many attempts Trial 1
discards before each accepted event (~11 on average, geometrically distributed), so the time per
accepted event of one seed fluctuates by ~1/sqrt(events) between the two arms. Whether an attempt
is discarded is decided before the GAN acts (Herwig's HadronSelector, called alike by both), so
the expected number of attempts per event is the same in both arms, and the ratio of the times
per *attempt* (attempts from the run logs) has the same expectation as the ratio of the times per
event, without the attempts' fluctuation. Both are printed, each as the mean over seeds with its
standard error. Peak memory: the maximum resident set size of each long run (from wait4), the
median over seeds and repetitions. Targets (issue 17): at most +1.5 % time per event on the
mission card, +3 % on the full-species card, peak memory at most +12 MB over native.
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

# card: (extra card lines for both arms, target ratio per event)
CARDS = {"mission": ([], 1.015), "full": (["set /Herwig/Hadronization/HadronSelector:Trial 0"], 1.03)}


def attempts(log: Path, events: int) -> int:
    """Accepted events plus the attempts ThePEG discarded (its 'eventerror (K times)' lines)."""
    return events + sum(int(k) for k in re.findall(r"eventerror \((\d+) times\)", log.read_text()))


class Setup:
    """A LEP run file (native or with the GAN), read once; runs of it timed one by one."""

    def __init__(self, out: Path, ml: bool, model: Path, settings: list[str]):
        self.out, self.ml = out, ml
        self.name = "LEP-ML" if ml else "LEP"
        run_lep(out, 1, 1, model=model, ml=ml, settings=settings)  # Herwig read (+ a one-event run)

    def start(self, events: int, seed: int, cpu: int | None) -> tuple[subprocess.Popen, float]:
        cmd = ["Herwig", "run", f"{self.name}.run", "-N", str(events), "-s", str(seed), "-q"]
        if self.ml:
            cmd += ["-l", str(plugin_path().parent)]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu), *cmd]
        proc = subprocess.Popen(cmd, cwd=self.out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return proc, time.perf_counter()

    def finish(self, proc: subprocess.Popen, t0: float, events: int, seed: int) -> tuple[float, float, int, float]:
        """CPU time, wall time, attempts, peak resident memory [MB]."""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"Herwig run failed (exit {proc.returncode}) in {self.out}")
        return (usage.ru_utime + usage.ru_stime, wall, attempts(self.out / f"{self.name}-S{seed}.log", events),
                usage.ru_maxrss / 1024.0)


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
    ap.add_argument("--seeds", type=int, default=8, help="number of seeds (each its own event sample)")
    ap.add_argument("--min-of", type=int, default=3, help="runs per seed and length; the fastest is kept")
    ap.add_argument("--seed", type=int, default=1, help="first seed")
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--sequential", action="store_true", help="one run after the other, not side by side")
    ap.add_argument("--card", choices=tuple(CARDS), default="mission",
                    help="mission: Trial 1 (default); full: Trial 0, every species (the GAN on its domain)")
    args = ap.parse_args()
    if not herwig_available():
        raise SystemExit("Herwig is not installed")
    if not 0 < args.short < args.events:
        raise SystemExit("need 0 < --short < --events")
    if args.seeds < 1 or args.min_of < 1:
        raise SystemExit("need --seeds >= 1 and --min-of >= 1")
    if not args.sequential and len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("side-by-side runs need two CPUs; use --sequential")
    model = args.model or default_model()
    n_long, n_short = args.events, args.short
    mode = "one after the other" if args.sequential else "side by side on two CPUs"
    settings, target = CARDS[args.card]
    print(f"LEP 91.2 GeV, {args.card} card ({'; '.join(settings) or 'Trial 1'}); model {model}")
    print(
        f"{args.seeds} seeds; per seed {n_long} and {n_short} events, each {args.min_of}x (fastest kept), "
        f"native and GAN {mode}"
    )
    print(
        "marginal CPU time of `Herwig run` per event [ms] and per attempt [us]; spread: (slowest - "
        "fastest) / fastest of the long runs of one seed (the machine's noise)"
    )
    print(
        f"{'seed':>5} | {'ms/event native':>15} {'GAN':>6} {'ratio':>7} | {'us/attempt native':>17} "
        f"{'GAN':>6} {'ratio':>7} | {'attempts/event':>14} | {'spread':>13}"
    )
    ratios: dict[str, list[float]] = {"cpu": [], "wall": [], "attempt": []}
    marg: dict[bool, list[float]] = {False: [], True: []}
    startup: dict[bool, list[float]] = {False: [], True: []}
    rss: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        setups = {ml: Setup(Path(tmp) / ("ml" if ml else "native"), ml, model, settings) for ml in (False, True)}
        for i in range(args.seeds):
            seed = args.seed + i
            runs: dict[tuple[bool, int], list[tuple[float, float, int, float]]] = {}
            for r in range(args.min_of):
                for n in (n_long, n_short):
                    for ml, res in run_pair(setups, n, seed, i + r, args.sequential).items():
                        runs.setdefault((ml, n), []).append(res)
                        if n == n_long:
                            rss[ml].append(res[3])
            cpu, wall, spread, ape, per_att = {}, {}, {}, {}, {}
            for ml in (False, True):
                best = {n: min(runs[(ml, n)]) for n in (n_long, n_short)}
                for n in (n_long, n_short):
                    if len({x[2] for x in runs[(ml, n)]}) != 1:
                        raise RuntimeError(
                            f"seed {seed}: repeated runs differ in attempts (not the same events)"
                        )
                cpu[ml] = (best[n_long][0] - best[n_short][0]) / (n_long - n_short)
                per_att[ml] = (best[n_long][0] - best[n_short][0]) / (best[n_long][2] - best[n_short][2])
                wall[ml] = (
                    min(x[1] for x in runs[(ml, n_long)]) - min(x[1] for x in runs[(ml, n_short)])
                ) / (n_long - n_short)
                times = [x[0] for x in runs[(ml, n_long)]]
                spread[ml] = max(times) / min(times) - 1
                ape[ml] = best[n_long][2] / n_long
                marg[ml].append(cpu[ml])
                startup[ml].append(best[n_short][0] - n_short * cpu[ml])
            ratios["cpu"].append(cpu[True] / cpu[False])
            ratios["wall"].append(wall[True] / wall[False])
            ratios["attempt"].append(per_att[True] / per_att[False])
            print(
                f"{seed:>5} | {1e3 * cpu[False]:>15.3f} {1e3 * cpu[True]:>6.3f} {ratios['cpu'][-1]:>7.4f} | "
                f"{1e6 * per_att[False]:>17.1f} {1e6 * per_att[True]:>6.1f} {ratios['attempt'][-1]:>7.4f} | "
                f"{ape[False]:>6.2f}, {ape[True]:>5.2f} | {100 * spread[False]:>4.1f}, {100 * spread[True]:>4.1f} %",
                flush=True,
            )

    def mean_err(x: list[float]) -> str:
        err = statistics.stdev(x) / len(x) ** 0.5 if len(x) > 1 else float("nan")
        return f"{statistics.fmean(x):.4f} +- {err:.4f}"

    ratio = statistics.fmean(ratios["cpu"])
    print(
        f"marginal CPU time per event: native {1e3 * statistics.fmean(marg[False]):.3f} ms, "
        f"Herwig+GAN {1e3 * statistics.fmean(marg[True]):.3f} ms"
    )
    print(
        f"ratio per event (mean over seeds +- standard error): {mean_err(ratios['cpu'])} "
        f"(target <= {target}: {'met' if ratio <= target else 'MISSED'}, by the mean); "
        f"from wall-clock time: {mean_err(ratios['wall'])}"
    )
    print(f"ratio per attempt (mean over seeds +- standard error): {mean_err(ratios['attempt'])}")
    mem = {ml: statistics.median(rss[ml]) for ml in (False, True)}
    print(f"peak resident memory of `Herwig run` (median of the long runs): native {mem[False]:.1f} MB, "
          f"Herwig+GAN {mem[True]:.1f} MB: {mem[True] - mem[False]:+.1f} MB "
          f"(target <= +12 MB: {'met' if mem[True] - mem[False] <= 12 else 'MISSED'})")
    extra = statistics.fmean(startup[True]) - statistics.fmean(startup[False])
    print(f"extra start-up CPU time of `Herwig run` with the GAN (ONNX Runtime, session): {extra:.2f} s")


if __name__ == "__main__":
    main()
