"""Mutation check of the boost tests: each mutation of each implementation's boost must turn a
test in tests/test_kinematics.py red.

Run from the repository root:

    python scripts/mutate_boost.py                      # print the table
    python scripts/mutate_boost.py --write docs/mutations.md

Each (implementation, mutation) pair runs tests/test_kinematics.py in its own pytest process with
this file loaded as a plugin (``-p mutate_boost``, scripts/ on PYTHONPATH) and the pair in the
environment variable HADML_BOOST_MUTATION, e.g. ``numpy:flip``. Without that variable the plugin
does nothing. The mutations wrap the boost at the Python level, replacing a module attribute
before the tests are collected:

* numpy: ``hadml.kinematics.boost``;
* torch: ``hadml.kinematics_torch.boost``;
* cpp:   ``hadml._core.boost``, the binding that ``hadml.native.boost`` calls. The C++ code itself
  is not changed (that would need a rebuild per mutation): the wrapper changes what the binding
  receives or returns, which is what the tests see of the C++ boost.

The mutations: ``flip`` boosts the other way (to_rest negated), ``swap`` exchanges the px and py
components of the result, ``float32`` rounds the result through float32.

The script exits with status 1 if the unmutated run fails or if some mutation turns no test red.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

ENV = "HADML_BOOST_MUTATION"
ROOT = Path(__file__).resolve().parents[1]
TESTS = "tests/test_kinematics.py"
IMPLS = ("cpp", "numpy", "torch")
MUTATIONS = {
    "flip": "boost direction flipped (to_rest -> not to_rest)",
    "swap": "px and py of the result swapped",
    "float32": "result rounded through float32",
}


# ---------------------------------------------------------------------------- the pytest plugin
def _mutated(boost, mutation: str):  # type: ignore[no-untyped-def]
    def wrapped(vectors, frames, to_rest, *args, **kwargs):  # type: ignore[no-untyped-def]
        if mutation == "flip":
            to_rest = not to_rest
        out = boost(vectors, frames, to_rest, *args, **kwargs)
        if mutation == "swap":
            out = out[..., [0, 2, 1, 3]]
        elif mutation == "float32":
            out = (
                out.astype(np.float32).astype(np.float64)
                if isinstance(out, np.ndarray)
                else out.float().double()
            )
        return out

    wrapped.__name__ = f"boost_{mutation}"
    return wrapped


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    spec = os.environ.get(ENV)
    if not spec:
        return
    impl, mutation = spec.split(":")
    if impl not in IMPLS or mutation not in MUTATIONS:
        raise SystemExit(f"{ENV}={spec}: expected one of {IMPLS} ':' one of {tuple(MUTATIONS)}")
    if impl == "cpp":
        from hadml import _core as module
    elif impl == "numpy":
        import hadml.kinematics as module
    else:
        import hadml.kinematics_torch as module
    module.boost = _mutated(module.boost, mutation)


# ---------------------------------------------------------------------------------- the driver
def run_tests(spec: str | None) -> tuple[int, list[str]]:
    """Run the kinematics tests under one mutation (None: unmutated); return pytest's exit status
    and the tests that failed or errored."""
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if spec:
        env[ENV] = spec
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "scripts"), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "mutate_boost",
            "-p",
            "no:cacheprovider",
            f"--junitxml={report}",
            TESTS,
        ]
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if not report.is_file():
            raise SystemExit(f"pytest wrote no report for {spec}:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
        red = [
            case.get("name", "?")
            for case in ET.parse(report).iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None
        ]
    return r.returncode, red


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", type=Path, help="also write the results as markdown to this file")
    args = ap.parse_args()
    status, red = run_tests(None)
    if status != 0:
        print(f"the unmutated tests fail ({', '.join(red) or f'pytest status {status}'}): fix them first")
        return 1
    rows, missed = [], []
    for impl in IMPLS:
        for mutation, text in MUTATIONS.items():
            _, red = run_tests(f"{impl}:{mutation}")
            rows.append((impl, mutation, text, red))
            print(f"{impl:6s} {mutation:8s} -> {', '.join(red) if red else 'NOT CAUGHT'}", flush=True)
            if not red:
                missed.append(f"{impl}:{mutation}")
    if args.write:
        lines = [
            "# Mutations of the boost and the tests that catch them",
            "",
            "Written by `python scripts/mutate_boost.py --write docs/mutations.md` (run from the",
            "repository root). Each mutation wraps one implementation's boost at the Python level",
            "(numpy: `hadml.kinematics.boost`, torch: `hadml.kinematics_torch.boost`, C++: the binding",
            "`hadml._core.boost` behind `hadml.native.boost`; the C++ source itself is not changed) in a",
            f"separate pytest run of `{TESTS}`; the table lists every test that went red.",
            "Before the mutations, the unmutated run passed.",
            "",
            "| implementation | mutation | tests that went red |",
            "|---|---|---|",
        ]
        for impl, _mutation, text, red in rows:
            lines.append(f"| {impl} | {text} | {', '.join(f'`{t}`' for t in red) if red else '**none**'} |")
        lines += [
            "",
            "A flip or a swap applied on the way out and on the way back cancels in",
            "`test_boost_round_trip_highly_boosted`: only the exact (50-digit mpmath) values in",
            "`tests/vectors/kinematics.json` (`boosts`) catch them.",
            "",
            "The decayer vectors have their own deliberate breaks, inside the test suite:",
            "`tests/test_decayer_vectors.py::test_independent_checks_catch_broken_vectors` edits copies",
            "of `tests/vectors/decayer.json` in memory (a hadron energy, the two hadrons of a decay",
            "swapped, theta, the flip) and asserts that the independent checks report each one.",
            "",
        ]
        args.write.write_text("\n".join(lines))
        print(f"wrote {args.write}")
    if missed:
        print(f"not caught: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
