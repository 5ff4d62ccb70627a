"""The one in-memory representation: awkward arrays, jagged per event, and ROOT files.

An event sample is an ``ak.Array`` of events with two jagged fields:

``clusters`` (var * record), one entry per cluster that decays into two hadrons:
    ``E, px, py, pz``                      cluster four-momentum (lab)
    ``has_partons``                        constituents known (False: placeholder 88, fission)
    ``q1_pid, q1_E, q1_px, q1_py, q1_pz``  constituent 1 (zeros when not known); same for ``q2_``
    ``h1_pid, h1_E, ..., h2_pz``           the two hadrons in Herwig's order (hadron i carries
                                           constituent i's flavour)
    ``theta, phi, first``                  the first hadron's rest-frame angles and which hadron
                                           it is (0: h1, 1: h2), see :mod:`hadml.kinematics`
    ``q1_pert, q2_pert, fission, by_gan``  only in samples recorded by hadml's Herwig handler:
                                           Herwig's isPerturbative(i), fission product, GAN decay
``hadrons`` (var * record ``pid, E, px, py, pz``): the event's final-state hadrons.

Saved to ROOT with uproot as one TTree ``events`` whose jagged record branches ``clusters`` and
``hadrons`` hold one sub-branch per field (``clusters.E``, ``hadrons.pid``, ...); reading back
is exact.
"""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np

from .errors import DataFormatError
from .table import ClusterTable

P4 = ("E", "px", "py", "pz")
TREE = "events"


def _jag(flat: np.ndarray, counts: np.ndarray) -> ak.Array:
    return ak.unflatten(np.ascontiguousarray(flat), counts)


def hadrons_from_table(table: ClusterTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, pid, p4) of the event hadrons of a cluster-only sample: the decay products."""
    return (2 * table.counts, table.hadron_pid.reshape(-1), table.hadron.reshape(-1, 4))


def to_awkward(
    table: ClusterTable,
    hadrons: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> ak.Array:
    """Build the awkward representation; ``hadrons`` = (counts, pid, p4) of each event's
    final-state hadrons (default: the two-body decay products of the listed clusters)."""
    theta, phi, first = table.angles() if table.n_clusters else (np.zeros(0),) * 3
    c = table.counts
    fields: dict[str, ak.Array] = {}
    for i, name in enumerate(P4):
        fields[name] = _jag(table.cluster[:, i], c)
    fields["has_partons"] = _jag(table.has_partons, c)
    for k, prefix in enumerate(("q1", "q2")):
        fields[f"{prefix}_pid"] = _jag(table.parton_pid[:, k], c)
        for i, name in enumerate(P4):
            fields[f"{prefix}_{name}"] = _jag(table.parton[:, k, i], c)
    for k, prefix in enumerate(("h1", "h2")):
        fields[f"{prefix}_pid"] = _jag(table.hadron_pid[:, k], c)
        for i, name in enumerate(P4):
            fields[f"{prefix}_{name}"] = _jag(table.hadron[:, k, i], c)
    fields["theta"] = _jag(np.asarray(theta, dtype=np.float64), c)
    fields["phi"] = _jag(np.asarray(phi, dtype=np.float64), c)
    fields["first"] = _jag(np.asarray(first, dtype=np.int32), c)
    for name, value in _recorded(table).items():
        fields[name] = _jag(value, c)
    hc, hpid, hp4 = hadrons if hadrons is not None else hadrons_from_table(table)
    if hc.size != table.n_events:
        raise ValueError(f"hadron counts for {hc.size} events, clusters for {table.n_events}")
    had = {"pid": _jag(np.asarray(hpid, dtype=np.int32), hc)}
    for i, name in enumerate(P4):
        had[name] = _jag(hp4[:, i], hc)
    return ak.zip(
        {"clusters": ak.zip(fields, depth_limit=2), "hadrons": ak.zip(had, depth_limit=2)},
        depth_limit=1,
    )


def _recorded(table: ClusterTable) -> dict[str, np.ndarray]:
    """The fields only a decay record has (all or none)."""
    if table.perturbative is None or table.fission is None or table.by_gan is None:
        return {}
    return {"q1_pert": table.perturbative[:, 0], "q2_pert": table.perturbative[:, 1],
            "fission": table.fission, "by_gan": table.by_gan}


def to_table(events: ak.Array, source: str = "") -> ClusterTable:
    """The cluster part of an event sample as a flat :class:`ClusterTable`."""
    cl = events["clusters"]
    counts = ak.to_numpy(ak.num(cl, axis=1)).astype(np.int64)

    def flat(name: str) -> np.ndarray:
        return ak.to_numpy(ak.flatten(cl[name], axis=1))

    def vec(prefix: str) -> np.ndarray:
        return np.column_stack([flat(f"{prefix}{n}") for n in P4]) if counts.sum() else np.zeros((0, 4))

    recorded: dict[str, np.ndarray | None] = {}
    if "q1_pert" in ak.fields(cl):
        recorded = {
            "perturbative": np.column_stack([flat("q1_pert"), flat("q2_pert")]).astype(bool).reshape(-1, 2),
            "fission": flat("fission").astype(bool),
            "by_gan": flat("by_gan").astype(bool),
        }

    return ClusterTable(
        counts=counts,
        cluster=vec(""),
        parton_pid=np.column_stack([flat("q1_pid"), flat("q2_pid")]).astype(np.int32).reshape(-1, 2),
        parton=np.stack([vec("q1_"), vec("q2_")], axis=1).reshape(-1, 2, 4),
        hadron_pid=np.column_stack([flat("h1_pid"), flat("h2_pid")]).astype(np.int32).reshape(-1, 2),
        hadron=np.stack([vec("h1_"), vec("h2_")], axis=1).reshape(-1, 2, 4),
        source=source,
        perturbative=recorded.get("perturbative"),
        fission=recorded.get("fission"),
        by_gan=recorded.get("by_gan"),
    )


def event_hadrons(events: ak.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, pid, p4) of the final-state hadrons, flat numpy."""
    h = events["hadrons"]
    counts = ak.to_numpy(ak.num(h, axis=1)).astype(np.int64)
    p4 = np.column_stack([ak.to_numpy(ak.flatten(h[n], axis=1)) for n in P4]).reshape(-1, 4)
    return counts, ak.to_numpy(ak.flatten(h["pid"], axis=1)), p4


def write_root(path: str | Path, events: ak.Array) -> None:
    import uproot

    with uproot.recreate(path) as f:
        f[TREE] = {"clusters": events["clusters"], "hadrons": events["hadrons"]}


def read_root(path: str | Path) -> ak.Array:
    import uproot

    try:
        with uproot.open(path) as f:
            if TREE not in f:
                raise DataFormatError(str(path), "-", f"no TTree '{TREE}' (not a hadml ROOT file)")
            arrays = f[TREE].arrays(library="ak")
    except (OSError, ValueError) as err:
        if isinstance(err, DataFormatError):
            raise
        raise DataFormatError(str(path), "-", f"cannot read ROOT file: {err}") from None
    missing = [g for g in ("clusters", "hadrons") if g not in arrays.fields]
    if missing:
        raise DataFormatError(str(path), "-", f"no {' or '.join(missing)} branches in '{TREE}'")
    return ak.zip({g: arrays[g] for g in ("clusters", "hadrons")}, depth_limit=1)
