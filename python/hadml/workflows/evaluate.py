"""Judging a trained generator the way it is deployed: the exported ONNX model decays held-out
clusters through the C++ decayer, and the resulting events are compared with held-out events of
the target sample (W1 per observable against the split-half floor, classifier AUC)."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np

from ..compare.report import Comparison, compare
from ..data.events import to_awkward
from ..data.io import hadrons_only_events, load_sample, load_table
from ..data.table import ClusterTable, hadron_mass
from ..ml.data import split_events


def held_out(table: ClusterTable, fraction: float, seed: int) -> ClusterTable:
    return table.select_events(~split_events(table.n_events, fraction, seed))


def gan_events(model: str | Path, clusters: ClusterTable, seed: int = 7) -> tuple[ak.Array, ClusterTable]:
    """Decay every cluster of ``clusters`` with the exported generator (C++ / ONNX Runtime)."""
    from ..decayer import Decayer, DecayStatus

    d = Decayer(model)
    m = hadron_mass(clusters.hadron_pid)
    kw: dict[str, np.ndarray] = {}
    if d.use_partons:
        kw = {"parton1": clusters.parton[:, 0], "has_partons": clusters.has_partons}
    h1, h2, _, _, status = d.decay(clusters.cluster, m[:, 0], m[:, 1], rng=seed, **kw)
    bad = int(np.sum(status != DecayStatus.OK))
    if bad:
        raise RuntimeError(f"{bad} clusters could not be decayed by {model}")
    gen = ClusterTable(
        clusters.counts,
        clusters.cluster,
        clusters.parton_pid,
        clusters.parton,
        clusters.hadron_pid,
        np.stack([h1, h2], axis=1),
        source=f"GAN {Path(model).name}",
    )
    return to_awkward(gen), gen


def target_events(path: str, fraction: float, seed: int, max_events: int) -> ak.Array:
    """Held-out events of the target sample (a cluster file's clusters and decays, else hadrons)."""
    sample = load_sample(path)
    if isinstance(sample, ClusterTable):
        t = held_out(sample, fraction, seed)
        return to_awkward(t.head(max_events) if max_events else t)
    counts, p4 = sample
    keep = ~split_events(counts.size, fraction, seed)
    rows = np.repeat(keep, counts)
    ev = hadrons_only_events(counts[keep], np.zeros(int(counts[keep].sum()), np.int32), p4[rows])
    return ev[:max_events] if max_events else ev


def evaluate(
    model: str | Path,
    clusters: str,
    target: str,
    out: Path,
    max_events: int = 20000,
    fraction: float = 0.8,
    split_seed: int = 12345,
    labels: tuple[str, str] | None = None,
    classifier_epochs: int = 10,
) -> Comparison:
    """Compare GAN events (held-out clusters of ``clusters``) with held-out events of ``target``."""
    same = Path(target).resolve() == Path(clusters).resolve()
    tseed = split_seed if same else split_seed + 1
    gen_clusters = held_out(load_table(clusters), fraction, split_seed)
    if max_events:
        gen_clusters = gen_clusters.head(max_events)
    gen, _ = gan_events(model, gen_clusters)
    tgt = target_events(target, fraction, tseed, max_events)
    labels = labels or (f"Herwig {Path(target).name.split('.')[0]} (held out)", "GAN")
    return compare(tgt, gen, labels, out, classifier_epochs=classifier_epochs)


def baseline(
    a: str,
    b: str,
    out: Path,
    max_events: int = 20000,
    fraction: float = 0.8,
    split_seed: int = 12345,
    labels: tuple[str, str] | None = None,
    classifier_epochs: int = 10,
) -> Comparison:
    """Herwig against Herwig (the size of the effect a fit must resolve): held-out events."""
    ea = target_events(a, fraction, split_seed, max_events)
    eb = target_events(b, fraction, split_seed + 1, max_events)
    labels = labels or (Path(a).name.split(".")[0], Path(b).name.split(".")[0])
    return compare(ea, eb, labels, out, classifier_epochs=classifier_epochs)
