"""How tightly do the hadron-only charge-flow means pin the perturbative clusters' alignment?

Takes an exported hadml-2 model with the histogram head and tempers it: the network's last layer
(the histogram's log-probabilities, or their Legendre coefficients with ``--histogram-degree``)
times lambda, so lambda > 1 aligns the decays more, lambda < 1 less (for degree 1, lambda / ClSmr is
Herwig's law with another smearing). Each tempered model decays the record's clusters through the
deployed C++ decayer (as ``evaluate_hadml2.py`` does), and for each lambda prints the mean
cos theta* of the clusters with a perturbative constituent, its W1 against Herwig's decays of the
same clusters in units of the split-half floor (``workflows.evaluate.frame_report``), and the
charge-flow means' pulls against Herwig (``blocks.charge.summary``). The lambdas whose pulls stay
within 3 against those whose cos theta* W1 stays within 1.5x floor say whether hadron-only data of
this size can see an alignment error the cluster-level bar counts.

    python scripts/alignment_sensitivity.py runs/ce_leg1/model.onnx samples/lep91_nominal_b.clusters \
        --all-events --lambdas 0.8 0.9 1 1.1 1.2 1.3
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from hadml.blocks.charge import NAMES, charge_flow, summary
from hadml.data.io import load_table
from hadml.data.pdg import charge
from hadml.ml.train2 import arrays, split_labels
from hadml.workflows.evaluate import frame_report, hadml2_decays


def tempered(model: onnx.ModelProto, lam: float) -> onnx.ModelProto:
    """A copy of ``model`` whose last ``net.*`` linear layer (weight and bias) is times ``lam``."""
    names = sorted({i.name.rsplit(".", 1)[0] for i in model.graph.initializer if i.name.startswith("net.")},
                   key=lambda n: int(n.split(".")[1]))
    last = names[-1]
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for init in out.graph.initializer:
        if init.name in (f"{last}.weight", f"{last}.bias"):
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(lam), init.name))
    return out


def flows(table) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    return charge_flow(2 * table.counts, charge(table.hadron_pid).reshape(-1), table.hadron.reshape(-1, 4))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("clusters")
    ap.add_argument("--all-events", action="store_true", help="every event (a record not trained on); else the test split")
    ap.add_argument("--split-seed", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--lambdas", type=float, nargs="+", default=[0.8, 0.9, 1.0, 1.1, 1.2, 1.3])
    ap.add_argument("--json", default="", help="also write the rows here")
    a = ap.parse_args()
    table = load_table(a.clusters)
    if not a.all_events:
        table = table.select_events(split_labels(table.n_events, a.split_seed) == 2)
    model = onnx.load(a.model)
    if not any(p.key == "hadml.angle_convention" and p.value == "hadml-2" for p in model.metadata_props):
        raise SystemExit(f"{a.model}: not a hadml-2 model")
    pert = np.asarray(table.perturbative, dtype=bool).any(1)
    herwig = flows(table)
    ref = arrays(table).target[pert]
    cos_h = float(np.mean(ref[:, 2] / np.linalg.norm(ref, axis=1)))
    rows: list[dict] = []
    print(f"{table.n_events} events, {table.n_clusters} clusters ({int(pert.sum())} with a perturbative constituent); "
          f"Herwig's <cos theta*> there {cos_h:.4f} +- {float(np.std(ref[:, 2]) / np.sqrt(len(ref))):.4f}")
    print("lambda  <cos theta*> pert  W1 cos pert / floor  pulls " + "/".join(NAMES))
    with tempfile.TemporaryDirectory() as tmp:
        for lam in a.lambdas:
            path = Path(tmp) / f"t{lam:g}.onnx"
            onnx.save(tempered(model, lam), str(path))
            gan, u = hadml2_decays(path, table, a.seed)
            frame = frame_report(u, table)
            cos_g = u[pert, 2] / np.linalg.norm(u[pert], axis=1)
            g = flows(gan)
            pulls = {k: summary(herwig[k], g[k]) for k in NAMES}
            row = {"lambda": lam, "mean_cos_pert": float(cos_g.mean()),
                   "w1_cos_pert_ratio": frame["w1_cos_pert"]["ratio"],
                   "pulls": {k: v["pull"] for k, v in pulls.items()},
                   "means": {k: (v["mean_b"], v["err_b"]) for k, v in pulls.items()},
                   "herwig": {k: (v["mean_a"], v["err_a"]) for k, v in pulls.items()}}
            rows.append(row)
            print(f"{lam:6.2f}  {row['mean_cos_pert']:.4f}  {row['w1_cos_pert_ratio']:8.2f}  "
                  + "/".join(f"{row['pulls'][k]:+.1f}" for k in NAMES), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
