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


# -- hadml-2: judged on a labelled record's clusters, decayed by the deployed C++ decayer ---------


def hadml2_decays(model: str | Path, table: ClusterTable, seed: int = 7) -> tuple[ClusterTable, np.ndarray]:
    """The model's decays of the table's clusters through the C++ decayer (hadml.Decayer.decay2,
    ONNX Runtime), same species and constituents, hadron 1 in Herwig's order; and hadron 1's
    direction in the decay frame. A cluster the decayer refuses is an error naming the count."""
    from ..decayer import Decayer

    if table.perturbative is None:
        raise ValueError(f"{table.source or 'sample'}: no isPerturbative flags (not a labelled record): "
                         "hadml-2 models need Herwig's labels (hadml herwig run --native --clusters F)")
    d = Decayer(model)
    m = hadron_mass(table.hadron_pid)
    h1, h2, u, status = d.decay2(table.cluster, table.parton[:, 0], table.parton_pid,
                                 table.perturbative, m[:, 0], m[:, 1], rng=seed)
    if np.any(status != 0):
        raise RuntimeError(f"{model}: {int(np.sum(status != 0))} of {table.n_clusters} clusters not decayed "
                           f"(statuses {np.unique(status).tolist()}; outside the model's domain?)")
    out = table.select_events(np.ones(table.n_events, bool))
    out.hadron = np.stack([h1, h2], axis=1)
    out.by_gan = np.ones(table.n_clusters, bool) if table.by_gan is not None else None
    out.source = f"{Path(model).name} on {table.source}"
    return out, u


def class_key(table: ClusterTable) -> np.ndarray:
    """Each cluster's decay class, an integer: the distinct values of ``hadml2.CLASS_CONDITIONS``
    (constituents' perturbative flags and flavour classes), on which alone Herwig's ClusterDecayer
    makes hadron 1's rest-frame direction depend (ClDir / ClSmr per flavour)."""
    from ..ml import hadml2 as H

    if table.perturbative is None:
        raise ValueError(f"{table.source or 'sample'}: no isPerturbative flags (not a labelled record)")
    raw = H.raw_conditions(table.cluster, table.parton[:, 0], table.perturbative, table.parton_pid,
                           np.zeros((table.n_clusters, 2)))
    cls = raw[:, [H.CONDITIONS.index(c) for c in H.CLASS_CONDITIONS]]
    return np.unique(cls, axis=0, return_inverse=True)[1].ravel()


def permute_within(key: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An index that permutes rows among those of equal ``key`` (a random permutation per class)."""
    idx = np.arange(len(key))
    for c in np.unique(key):
        sel = np.flatnonzero(key == c)
        idx[sel] = rng.permutation(sel)
    return idx


def decays_along(table: ClusterTable, u: np.ndarray, masses: np.ndarray | None = None) -> np.ndarray:
    """Both hadrons of every cluster of ``table`` rebuilt with hadron 1 along ``u`` (hadml-2 frame
    directions), in float64, (n_clusters, 2, 4); ``masses`` (n_clusters, 2) default to Herwig's
    on-shell masses of the table's species, as the model's decays use."""
    import torch

    from ..kinematics_torch import decay_frame, two_body_decay_along

    m = hadron_mass(table.hadron_pid) if masses is None else np.asarray(masses, dtype=np.float64)
    cl = torch.as_tensor(table.cluster, dtype=torch.float64)
    axes, _ = decay_frame(cl, torch.as_tensor(table.parton[:, 0], dtype=torch.float64))
    p1, p2 = two_body_decay_along(cl, torch.as_tensor(m[:, 0]), torch.as_tensor(m[:, 1]), axes,
                                  torch.as_tensor(u, dtype=torch.float64))
    return torch.stack([p1, p2], 1).numpy()


def permuted_decays(table: ClusterTable, seed: int = 7) -> tuple[ClusterTable, np.ndarray]:
    """The perfect class-only decay model, as a reference for ``hadml2_decays``: Herwig's own
    hadron-1 directions in the hadml-2 frame permuted among the clusters of one class
    (``class_key``), both hadrons rebuilt along them with Herwig's masses (``decays_along``). If
    Herwig's directions depend on the class alone, this is a draw from Herwig's distribution
    decaying the same clusters, so its W1 / floor ratios are what an exact model of the decay
    gets; a row it misses is a fluctuation of the sample (or a dependence beyond the class)."""
    from ..ml.train2 import arrays

    u = arrays(table).target[permute_within(class_key(table), np.random.default_rng(seed))]
    out = table.select_events(np.ones(table.n_events, bool))
    out.hadron = decays_along(table, u)
    out.source = f"Herwig's directions permuted within class on {table.source}"
    return out, u


def frame_report(u: np.ndarray, table: ClusterTable, splits: int = 10) -> dict[str, dict[str, float | None]]:
    """W1 of the decay-frame angles (cos theta*, phi*) of directions ``u`` against the table's own
    (Herwig's) decays: all clusters, those with a perturbative constituent and those without; the
    floor is the median over ``splits`` random split-halves of the table's decays (one split
    scatters by 2-4x). A floor below ``train2.FLOOR_MIN`` is a delta in the reference (cos theta* = 1 with
    ClSmrLight 0): no ratio is given, the W1 stands alone. phi* counts only the clusters whose
    Herwig direction is off the axis (``train2.phi_defined``); their ``on_axis`` is the fraction
    left out, and a phi* with none left is None. Also the W1 of the decay angle to the cluster's
    flight direction (``train2.forward_distances``; ``w1_fwd_*``), which the marginal frame angles do
    not see: it decides which hadron leads, hence the charge flow."""
    from ..ml import hadml2 as H
    from ..ml.train2 import FLOOR_MIN, arrays, direction_distances, forward_distances, phi_defined

    a = arrays(table)
    ref = a.target
    cos_alpha = a.raw[:, H.CONDITIONS.index("cos_alpha")]
    pert = np.asarray(table.perturbative, dtype=bool)
    npert = np.logical_not(pert.any(axis=1))

    def dist(a: np.ndarray, pa: np.ndarray, b: np.ndarray, pb: np.ndarray, na: np.ndarray, nb: np.ndarray,
             phi_a: np.ndarray | None = None) -> dict[str, float]:
        return direction_distances(a, pa, b, pb, phi_u=phi_a, subsets={"nonpert": (na, nb)})

    # the model's decays of the table's clusters: phi* where Herwig's is defined
    d = dist(u, pert, ref, pert, npert, npert, phi_defined(ref))
    d |= forward_distances(u, cos_alpha, pert, ref, cos_alpha, pert)
    halves = [np.random.default_rng(k).random(len(ref)) < 0.5 for k in range(splits)]
    floors = [dist(ref[h], pert[h], ref[~h], pert[~h], npert[h], npert[~h])
              | forward_distances(ref[h], cos_alpha[h], pert[h], ref[~h], cos_alpha[~h], pert[~h]) for h in halves]
    out: dict[str, dict[str, float | None]] = {}
    for k, v in d.items():
        if not np.isfinite(v):  # phi* of decays that all lie on the axis: no angle to compare
            out[k] = {"w1": None, "floor": None, "ratio": None}
            continue
        fs = [x[k] for x in floors if np.isfinite(x[k])]  # a half with no row off the axis has none
        f = float(np.median(fs)) if fs else None
        out[k] = {"w1": v, "floor": f, "ratio": v / f if f is not None and f > FLOOR_MIN else None}
    on_axis = ~phi_defined(ref)
    for tag, rows in (("all", np.ones(len(ref), bool)), ("pert", ~npert), ("nonpert", npert)):
        out[f"w1_phi_{tag}"]["on_axis"] = float(on_axis[rows].mean()) if rows.any() else 0.0
    return out
