"""Is Herwig's charge flow fixed by the per-class decay-angle distribution? (issue 15)

Herwig's ClusterDecayer draws hadron 1's rest-frame direction from a distribution that depends
only on which constituents are perturbative (and their flavour: ClDir / ClSmr), before it picks
the species. If that holds, Herwig's own directions are exchangeable among the clusters of one
class, and permuting them within each class leaves every observable's distribution unchanged. This
permutes Herwig's hadml-2 directions (``arrays(table).target``) within each class (pert1, pert2,
flavour1, flavour2), rebuilds both hadrons with Herwig's masses (``two_body_decay_along``, float64)
and recomputes the charge flow; Herwig's own value is a draw from the permutation distribution
under that hypothesis (an exact permutation test, no model involved). The unpermuted rebuild must
give Herwig's value to rounding (a check of the rebuild).

    python scripts/permutation_test.py samples/lep91_nominal.clusters [--permutations 20] [--test-split]
"""
from __future__ import annotations

import argparse

import numpy as np

from hadml.blocks.charge import charge_flow
from hadml.blocks.shapes import event_shapes_and_axes
from hadml.data.io import load_table
from hadml.data.pdg import charge
from hadml.data.table import hadron_mass
from hadml.ml import hadml2 as H
from hadml.ml.train2 import arrays, split_labels
from hadml.workflows.evaluate import class_key, decays_along, permute_within


def flow(counts: np.ndarray, pid: np.ndarray, p4: np.ndarray) -> dict[str, float]:
    _, axes = event_shapes_and_axes(counts, p4[:, 1:])
    return {k: float(np.nanmean(v)) for k, v in charge_flow(counts, charge(pid), p4, axes).items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("clusters")
    ap.add_argument("--permutations", type=int, default=20)
    ap.add_argument("--test-split", action="store_true", help="only the test split (split seed 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--within", default="", help="also permute only within bins of these, comma-separated: "
                    "species (the hadron pair), fission, or a condition name (log1p_cluster_p, cos_alpha, "
                    "log_cluster_mass, ...: 5 quantile bins); where Herwig's value comes back, that is what "
                    "its directions depend on")
    a = ap.parse_args()
    t = load_table(a.clusters)
    if a.test_split:
        t = t.select_events(split_labels(t.n_events, 1) == 2)
    if t.perturbative is None:
        raise SystemExit(f"{a.clusters}: no isPerturbative flags (not a labelled record)")
    u = arrays(t).target
    cols = [class_key(t).astype(np.float64)[:, None]]
    for w in filter(None, a.within.split(",")):
        if w == "species":
            cols.append(np.asarray(t.hadron_pid, dtype=np.float64))
        elif w == "fission":
            cols.append(np.asarray(t.fission, dtype=np.float64)[:, None])
        else:
            x = H.raw_conditions(t.cluster, t.parton[:, 0], t.perturbative, t.parton_pid,
                                 hadron_mass(t.hadron_pid))[:, H.CONDITIONS.index(w)]
            cols.append(np.searchsorted(np.quantile(x, [0.2, 0.4, 0.6, 0.8]), x)[:, None].astype(np.float64))
    _, key = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
    key = key.ravel()
    # the clusters' hadrons in the event's order (two per cluster), as the record lists them, with
    # the record's own masses (the unpermuted rebuild must give Herwig's values to rounding)
    h = np.asarray(t.hadron, dtype=np.float64)
    m = np.sqrt(np.maximum(h[..., 0] ** 2 - (h[..., 1:] ** 2).sum(-1), 0.0))
    counts = 2 * t.counts  # two hadrons per cluster
    pid = np.asarray(t.hadron_pid).reshape(-1)

    def rebuilt(uu: np.ndarray) -> dict[str, float]:
        return flow(counts, pid, decays_along(t, uu, m).reshape(-1, 4))

    herwig = flow(counts, pid, h.reshape(-1, 4))
    again = rebuilt(u)
    print(f"{a.clusters}{' (test split)' if a.test_split else ''}: {t.n_events} events, {t.n_clusters} "
          f"clusters, {key.max() + 1} classes (pert1, pert2, flavour1, flavour2{', ' + a.within if a.within else ''})")
    print("Herwig            " + "  ".join(f"{k} {v:+.5f}" for k, v in herwig.items()))
    print("rebuilt, as is    " + "  ".join(f"{k} {v:+.5f}" for k, v in again.items()))
    rng = np.random.default_rng(a.seed)
    perm = [rebuilt(u[permute_within(key, rng)]) for _ in range(a.permutations)]
    for k in herwig:
        v = np.array([p[k] for p in perm])
        below = int(np.sum(v <= herwig[k]))
        print(f"{k:10s} Herwig {herwig[k]:+.5f}  permuted within class {v.mean():+.5f} +- {v.std(ddof=1):.5f} "
              f"(spread of {len(v)}); (Herwig - permuted) / spread {(herwig[k] - v.mean()) / v.std(ddof=1):+.2f}; "
              f"permutations at or below Herwig {below}/{len(v)}")


if __name__ == "__main__":
    main()
