"""The floor ONNX Runtime itself sets for hadml's issue-17 targets, next to hadml's own figures.

    python benchmarks/ort_floor.py [--model models/hadml_lep91_nominal.onnx] [--batch 7] [--calls 400]

Compiles benchmarks/ort_floor.cpp (the bare C++ API of ONNX Runtime, hadml's session options, no
hadml code) against the ONNX Runtime headers hadml was built with and runs it on the library
hadml loads, for the model and for a one-node model (Identity): resident memory of loading the
library and opening a session, and the time of one Run, hot (right after another) and cold
(after EVICT MB of other memory traffic, as Herwig's event does between two calls). Beside it,
in the same run: what creating `hadml.Decayer` adds to a Python process that imported hadml.
Targets it is read against (issue 17, item 1): +12 MB peak memory, +1.5 % time per event.
"""

from __future__ import annotations

import argparse
import glob
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from hadml.decayer import onnxruntime_library

ROOT = Path(__file__).resolve().parents[1]

_DECAYER_FOOTPRINT = r"""
import re, sys
def kb():
    s = open("/proc/self/status").read()
    return {k: int(re.search(k + r":\s+(\d+)", s).group(1)) for k in ("VmRSS", "RssAnon", "RssFile")}
import numpy, hadml
a = kb()
d = hadml.Decayer(sys.argv[1], threads=1)
b = kb()
print({k: b[k] - a[k] for k in a})
"""


def ort_include() -> Path:
    """The directory holding onnxruntime_cxx_api.h: the build tree's (the headers hadml was built
    with), else the system's."""
    found = sorted(glob.glob(str(ROOT / "build" / "*" / "_deps" / "onnxruntime-headers" / "include" / "onnxruntime")))
    found += [p for p in ("/usr/include/onnxruntime",) if Path(p).is_dir()]
    for d in found:
        if (Path(d) / "onnxruntime_cxx_api.h").is_file():
            return Path(d)
    sys.exit("ort_floor: no ONNX Runtime headers (build hadml first: `make dev`, or pass --include DIR)")


def one_node_model(path: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 9])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 9])
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


OPTIONS = ("opt_off", "opt_basic", "no_prepacking", "no_arena")  # benchmarks/ort_floor.cpp's


def run(exe: Path, lib: str, model: Path, batch: int, calls: int, evict: int, option: str = ""
        ) -> tuple[dict[str, dict], dict]:
    out = subprocess.run([str(exe), lib, str(model), str(batch), str(calls), str(evict), *([option] if option else [])],
                         check=True, capture_output=True, text=True).stdout
    stages, times = {}, {}
    for line in out.splitlines():
        rec = json.loads(line)
        if "stage" in rec:
            stages[rec.pop("stage")] = rec
        else:
            times = rec
    return stages, times


def quartiles(v: list[float]) -> str:
    q = statistics.quantiles(v, n=4)
    return f"{statistics.median(v):7.1f} ({q[0]:.1f}-{q[2]:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "hadml_lep91_nominal.onnx")
    ap.add_argument("--batch", type=int, default=7, help="clusters per call (a LEP event has ~7 two-body clusters)")
    ap.add_argument("--calls", type=int, default=400)
    ap.add_argument("--evict", type=int, default=64, help="MB of other memory traffic before each cold call")
    ap.add_argument("--event-ms", type=float, default=3.456,
                    help="native Herwig ms per event the call is read against (default: docs/benchmarks.md, mission card)")
    ap.add_argument("--include", type=Path, help="ONNX Runtime's header directory (default: hadml's build tree)")
    ap.add_argument("--cxx", default=shutil.which("c++") or "g++")
    a = ap.parse_args()
    lib = onnxruntime_library()
    if not lib:
        sys.exit("ort_floor: no libonnxruntime.so in this interpreter's onnxruntime package (pip install onnxruntime)")
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "ort_floor"
        subprocess.run([a.cxx, "-O2", "-std=c++17", f"-I{a.include or ort_include()}", str(ROOT / "benchmarks" / "ort_floor.cpp"),
                        "-o", str(exe), "-ldl"], check=True)
        rows = {"model": run(exe, lib, a.model, a.batch, a.calls, a.evict),
                "one node (Identity)": run(exe, lib, one_node_model(Path(tmp) / "id.onnx"), a.batch, a.calls, a.evict)}
        options = {o: run(exe, lib, a.model, a.batch, 0, 0, o)[0] for o in OPTIONS}
        foot = subprocess.run([sys.executable, "-c", _DECAYER_FOOTPRINT, str(a.model)], check=True, capture_output=True,
                              text=True).stdout
    hd = {k: v / 1024 for k, v in json.loads(foot.strip().replace("'", '"')).items()}
    print(f"ONNX Runtime {lib}; model {a.model}; batch {a.batch}; {a.calls} calls; cold after {a.evict} MB")
    print("\nresident memory over an empty C++ process [MB]      total   anonymous  file-backed")
    for name, (st, _) in rows.items():
        for stage in ("dlopen", "session", "first_run"):
            d = {k: (st[stage][k] - st["start"][k]) / 1024 for k in ("rss_kb", "anon_kb", "file_kb")}
            print(f"  {name:20s} after {stage:10s}          {d['rss_kb']:6.1f}   {d['anon_kb']:8.1f}  {d['file_kb']:10.1f}")
    for o, st in options.items():
        d = {k: (st["first_run"][k] - st["start"][k]) / 1024 for k in ("rss_kb", "anon_kb", "file_kb")}
        print(f"  model, option {o:13s} after first_run  {d['rss_kb']:6.1f}   {d['anon_kb']:8.1f}  {d['file_kb']:10.1f}")
    print(f"  hadml.Decayer(model) in a Python process      {hd['VmRSS']:6.1f}   {hd['RssAnon']:8.1f}  {hd['RssFile']:10.1f}")
    print("  target: Herwig + GAN at most +12 MB over native Herwig")
    print(f"\none Run, microseconds: median (quartiles); share of a {a.event_ms} ms event (target +1.5 %)")
    for name, (_, t) in rows.items():
        cold = statistics.median(t["cold_us"])
        print(f"  {name:20s} hot {quartiles(t['hot_us'])}   cold {quartiles(t['cold_us'])}   "
              f"cold = {100 * cold / (1000 * a.event_ms):.2f} % of an event")


if __name__ == "__main__":
    main()
