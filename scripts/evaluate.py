"""Evaluate exported generators against held-out Herwig, and Herwig variations against each other.

    python scripts/evaluate.py gan MODEL.onnx CLUSTERS TARGET OUT [--max-events N]
    python scripts/evaluate.py baseline A B OUT [--max-events N]

Prints the markdown summary (also written to OUT/summary.md, with plots and summary.json).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hadml.workflows.evaluate import baseline, evaluate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gan")
    g.add_argument("model")
    g.add_argument("clusters")
    g.add_argument("target")
    g.add_argument("out", type=Path)
    b = sub.add_parser("baseline")
    b.add_argument("a")
    b.add_argument("b")
    b.add_argument("out", type=Path)
    for p in (g, b):
        p.add_argument("--max-events", type=int, default=20000)
        p.add_argument("--classifier-epochs", type=int, default=10)
    args = ap.parse_args()
    if args.cmd == "gan":
        cmp = evaluate(
            args.model,
            args.clusters,
            args.target,
            args.out,
            args.max_events,
            classifier_epochs=args.classifier_epochs,
        )
    else:
        cmp = baseline(args.a, args.b, args.out, args.max_events, classifier_epochs=args.classifier_epochs)
    print(cmp.markdown())


if __name__ == "__main__":
    main()
