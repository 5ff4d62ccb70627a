"""Judge a hadml-2 model on the *test* split of a labelled Herwig decay record (events the fit
never saw, model selection used the validation split): Herwig's own decays vs the model's decays of
the same clusters (same species, same constituents), decayed here with ONNX Runtime (Python) and
hadml's numpy kinematics. Prints the cluster-frame W1 ratios to the split-half floor (all clusters,
and those with a perturbative constituent), charge flow (means, errors, pulls) and writes the full
``hadml compare`` report (classifier AUC on p4 + charge) to OUT.

    python scripts/evaluate_hadml2.py runs/hadml2_nominal/model.onnx samples/lep91_nominal.clusters OUT
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from hadml.compare.report import compare
from hadml.data.events import to_awkward
from hadml.data.io import load_table
from hadml.data.table import ClusterTable, hadron_mass
from hadml.kinematics import decay_frame, frame_direction_angles, two_body_decay
from hadml.ml import hadml2 as H
from hadml.ml.train2 import arrays, direction_distances, split_labels


def decay_with(model: str, table: ClusterTable, seed: int) -> tuple[ClusterTable, np.ndarray]:
    info = H.parse_metadata({e.key: e.value for e in onnx.load(model).metadata_props}, model)
    a = arrays(table)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    z = np.random.default_rng(seed).standard_normal((len(a.raw), info.noise_dim)).astype(np.float32)
    v = sess.run([H.OUTPUT], {H.INPUT_CONDITIONS: info.scaler.transform(a.raw).astype(np.float32),
                              H.INPUT_NOISE: z})[0].astype(np.float64)
    u = H.direction_from_output(v)
    axes, _ = decay_frame(table.cluster, table.parton[:, 0])
    theta, phi = frame_direction_angles(axes, u)
    m = hadron_mass(table.hadron_pid)
    h1, h2 = two_body_decay(table.cluster, m[:, 0], m[:, 1], theta, phi)
    out = table.select_events(np.ones(table.n_events, bool))
    out.hadron = np.stack([h1, h2], axis=1)
    return out, u


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model")
    ap.add_argument("clusters")
    ap.add_argument("out")
    ap.add_argument("--split-seed", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--all-events", action="store_true", help="judge every event (a sample not trained on)")
    a = ap.parse_args()
    table = load_table(a.clusters)
    if not a.all_events:
        table = table.select_events(split_labels(table.n_events, a.split_seed) == 2)
    gan, u = decay_with(a.model, table, a.seed)
    ref = arrays(table).target
    pert = table.perturbative.astype(bool)  # type: ignore[union-attr]
    half = np.random.default_rng(0).random(len(ref)) < 0.5
    d = direction_distances(u, pert, ref, pert)
    floor = direction_distances(ref[half], pert[half], ref[~half], pert[~half])
    cmp = compare(to_awkward(table), to_awkward(gan), ("Herwig", "hadml-2"), Path(a.out),
                  classifier_features="p4+charge", classifier_epochs=5, n_boot=5)
    result = {"events": table.n_events, "clusters": table.n_clusters,
              "frame": {k: {"w1": d[k], "floor": floor[k], "ratio": d[k] / floor[k]} for k in d},
              "auc": cmp.auc, "charge_flow": cmp.charge_flow,
              "w1_ratios": {k: r["ratio"] for k, r in cmp.rows.items()}}
    (Path(a.out) / "hadml2.json").write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
