"""Cluster-level hadml-2 fit on a labelled Herwig decay record, exported to ONNX (issue 15).

    python scripts/train_hadml2.py samples/lep91_nominal.clusters runs/hadml2_nominal \
        --budget 900 --threads 1
writes OUT/best.pt, OUT/history.jsonl, OUT/summary.json and OUT/model.onnx (format 2)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hadml.blocks.networks import ACTIVATIONS
from hadml.ml.hadml2 import CLASS_ONLY, blind_conditions
from hadml.ml.train2 import (
    ANCHOR_CLUSTERS,
    DISC_FRAMES,
    FLOW_CLUSTERS,
    FLOW_DISTANCES,
    HEADS,
    HISTOGRAM_BINS,
    ClusterLevel,
    EventLevel,
    Settings,
    Trainer2,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("clusters")
    ap.add_argument("out")
    ap.add_argument("--budget", type=float, default=1200.0, help="CPU seconds of training (default 1200)")
    ap.add_argument("--epochs", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-events", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate of G and D (default 1e-4)")
    ap.add_argument("--lr-d", type=float, default=0.0, help="discriminator learning rate (default: --lr)")
    ap.add_argument("--energy-weight", type=float, default=0.0,
                    help="weight of the conditional energy score in G's loss (default 0: GAN only)")
    ap.add_argument("--adversarial-weight", type=float, default=1.0,
                    help="weight of the GAN loss (default 1; 0 drops the discriminator)")
    ap.add_argument("--lr-decay", type=float, default=1.0, help="learning rates times this after every epoch")
    ap.add_argument("--ema", type=float, default=0.0, help="EMA decay of the judged generator (default 0: none)")
    ap.add_argument("--batch-size", type=int, default=2048, help="clusters per batch (default 2048)")
    ap.add_argument("--strategy", choices=("cluster", "event"), default="cluster",
                    help="cluster: HadML v1 on labelled decays; event: HadML v2, Deep Sets over each event's hadrons")
    ap.add_argument("--pairs", action="store_true", help="event level: the discriminator also sees every "
                    "hadron pair of the event (mass, decay angle, charges; blocks.networks.PairSetsDiscriminator)")
    ap.add_argument("--disc-frame", choices=DISC_FRAMES, default="lab",
                    help="event level: each hadron as D sees it: lab four-momentum and charge, or in its event's own "
                    "frame (blocks.networks.event_frame_features: E, |p| along and across the event axis, charge; pooled per "
                    "hemisphere)")
    ap.add_argument("--flow-weight", type=float, default=0.0,
                    help="event level: weight of the batch's charge-flow distances in G's loss (EventLevel.flow_loss: "
                    "W1 of the hemisphere charge products and a smooth leading-hadron charge product)")
    ap.add_argument("--flow-distance", choices=FLOW_DISTANCES, default="w1",
                    help="the flow loss's distance: w1 (of the batch's quantiles), energy (the unbiased energy "
                    "distance, whose small-batch gradient does not favour a narrower generated distribution) or mean "
                    "(|the batch's mean - every target training event's mean|: the charge-flow means themselves)")
    ap.add_argument("--flow-clusters", choices=FLOW_CLUSTERS, default="all",
                    help="event level: which generated clusters the flow loss moves: all (default), or perturbative "
                    "(a perturbative constituent, the decays ClDir/ClSmr align; the others still count, unmoved)")
    ap.add_argument("--target", default="", help="event level: the record whose hadrons only are fitted "
                    "(default: CLUSTERS itself, closure)")
    ap.add_argument("--init", default="", help="start the generator from an earlier fit's best.pt or exported hadml-2 .onnx "
                    "(refused when its condition scaling is not this data's), or from 'isotropic': the label-free "
                    "prior of every decay isotropic (Trainer2.start_isotropic)")
    ap.add_argument("--anchor-weight", type=float, default=0.0,
                    help="with --init: weight of the energy score of G's directions against the starting "
                    "generator's (a prior keeping G where the fitted hadrons do not constrain it; default 0)")
    ap.add_argument("--anchor-clusters", choices=ANCHOR_CLUSTERS, default="all",
                    help="which clusters the anchor holds: all (default), or nonperturbative (neither constituent "
                    "perturbative: decays Herwig's ClDir/ClSmr never touch)")
    ap.add_argument("--select-charge-flow", action="store_true",
                    help="event level: choose the epoch on the charge-flow observables too (hemisphere charge "
                    "products, leading charged hadrons: hadron-only data)")
    ap.add_argument("--select-forward", action="store_true",
                    help="cluster level: choose the epoch on the decay angle to the cluster's flight direction too "
                    "(train2.forward_distances: which hadron leads, hence the charge flow)")
    ap.add_argument("--blind", default="",
                    help="comma-separated conditions the generator does not see (e.g. log1p_cluster_p,cos_alpha: "
                    "a decay in the cluster rest frame cannot know the cluster's lab momentum or flight direction), "
                    f"or {CLASS_ONLY}: all but the constituents' perturbative flags and flavour classes "
                    "(what Herwig's ClusterDecayer draws the direction from)")
    ap.add_argument("--flat-azimuth", action="store_true",
                    help="the azimuth about constituent 1 flat by construction (Herwig's ClusterDecayer draws it "
                    "flat); one noise value becomes the angle, inside the exported graph")
    ap.add_argument("--activation", choices=ACTIVATIONS, default="leaky_relu",
                    help="the generator's activation (silu: a smooth map of the noise)")
    ap.add_argument("--head", choices=HEADS, default="vector",
                    help="the generator's output: vector (a 3-vector, direction v/|v|) or histogram (cos theta* "
                    f"drawn from a learned histogram of {HISTOGRAM_BINS} fixed bins by its inverse CDF; needs --flat-azimuth)")
    ap.add_argument("--likelihood-weight", type=float, default=0.0,
                    help="cluster level, histogram head: weight of the negative log-likelihood of Herwig's "
                    "cos theta* in G's loss (default 0)")
    ap.add_argument("--smooth-weight", type=float, default=0.0,
                    help="histogram head: weight of the histogram's roughness (squared second differences of its "
                    "log-probabilities) in G's loss; for event-level fits, which see hadrons only (default 0)")
    ap.add_argument("--histogram-degree", type=int, default=0,
                    help="histogram head: its log-probabilities a polynomial of this degree in cos theta* (Legendre "
                    "P_1 .. P_D at the bins; degree 1 holds Herwig's exp(cos theta* / ClSmr) smearing): D numbers per "
                    "class for a fit that sees hadrons only instead of the free bins (default 0: free bins)")
    a = ap.parse_args()
    try:
        blind = blind_conditions(a.blind)
    except ValueError as e:
        ap.error(f"--blind: {e}")
    if a.anchor_weight > 0 and not a.init:
        ap.error("--anchor-weight needs --init (the generator it anchors to)")
    out = Path(a.out)
    if (out / "history.jsonl").exists():
        (out / "history.jsonl").unlink()
    try:  # Trainer2 refuses contradictory settings (e.g. --head histogram without --flat-azimuth) before reading data
        t = Trainer2(Settings(a.clusters, output=str(out), epochs=a.epochs, time_budget_s=a.budget,
                              threads=a.threads, max_events=a.max_events, seed=a.seed, lr_g=a.lr, lr_d=a.lr_d or a.lr,
                              energy_weight=a.energy_weight, adversarial_weight=a.adversarial_weight, ema=a.ema, lr_decay=a.lr_decay,
                              batch_size=a.batch_size, target=a.target, pairs=a.pairs, disc_frame=a.disc_frame, flow_weight=a.flow_weight,
                              flow_clusters=a.flow_clusters, flow_distance=a.flow_distance,
                              anchor_weight=a.anchor_weight, anchor_clusters=a.anchor_clusters,
                              select_charge_flow=a.select_charge_flow, select_forward=a.select_forward,
                              blind=blind, flat_azimuth=a.flat_azimuth,
                              activation=a.activation, head=a.head, likelihood_weight=a.likelihood_weight,
                              smooth_weight=a.smooth_weight, histogram_degree=a.histogram_degree),
                     ClusterLevel if a.strategy == "cluster" else EventLevel)
    except ValueError as e:
        ap.error(str(e))
    if a.init == "isotropic":
        print(json.dumps({"start": "isotropic"} | t.start_isotropic()), flush=True)
    elif a.init:
        t.start_from(a.init)
    s = t.fit()
    t.export(out / "model.onnx")
    print(f"best epoch {s['best_epoch']} of {s['epochs']}, metric {s['best_metric']:.3f}; "
          f"{s['clusters_per_s']:.0f} clusters/s; wrote {out / 'model.onnx'}")


if __name__ == "__main__":
    main()
