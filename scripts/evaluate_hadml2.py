"""Judge a hadml-2 model on the *test* split of a labelled Herwig decay record (events the fit
never saw, model selection used the validation split): Herwig's own decays vs the model's decays of
the same clusters (same species, same constituents), decayed here by the deployed C++ decayer
(hadml.Decayer.decay2, ONNX Runtime). Prints the cluster-frame W1 ratios to the split-half floor (all clusters,
and those with a perturbative constituent), charge flow (means, errors, pulls) and writes the full
``hadml compare`` report (classifier AUC on p4 + charge) to OUT.

    python scripts/evaluate_hadml2.py runs/hadml2_nominal/model.onnx samples/lep91_nominal.clusters OUT

MODEL ``permuted`` is the reference a perfect class-only model gets: Herwig's own directions
permuted within each decay class (``workflows.evaluate.permuted_decays``; ``--seed`` seeds the
permutation), judged by the same rows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hadml.compare.report import compare
from hadml.data.events import to_awkward
from hadml.data.io import load_table
from hadml.ml.train2 import split_labels
from hadml.workflows.evaluate import frame_report, hadml2_decays, permuted_decays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model", help="an exported hadml-2 model, or 'permuted' (Herwig's directions permuted within class)")
    ap.add_argument("clusters")
    ap.add_argument("out")
    ap.add_argument("--split-seed", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--all-events", action="store_true", help="judge every event (a sample not trained on)")
    a = ap.parse_args()
    table = load_table(a.clusters)
    if not a.all_events:
        table = table.select_events(split_labels(table.n_events, a.split_seed) == 2)
    gan, u = permuted_decays(table, a.seed) if a.model == "permuted" else hadml2_decays(a.model, table, a.seed)
    frame = frame_report(u, table)
    cmp = compare(to_awkward(table), to_awkward(gan), ("Herwig", "hadml-2"), Path(a.out),
                  classifier_features="p4+charge", classifier_epochs=5, n_boot=5)
    result = {"events": table.n_events, "clusters": table.n_clusters,
              "frame": frame,
              "auc": cmp.auc, "charge_flow": cmp.charge_flow,
              "w1_ratios": {k: r["ratio"] for k, r in cmp.rows.items()}}
    (Path(a.out) / "hadml2.json").write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps(result, indent=1, default=float))


if __name__ == "__main__":
    main()
