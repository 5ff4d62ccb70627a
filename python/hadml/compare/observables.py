"""Observables of the HadML papers, computed from the awkward event representation."""

from __future__ import annotations

from dataclasses import dataclass, field

import awkward as ak
import numpy as np

from ..blocks.charge import LABELS as CHARGE_LABELS
from ..blocks.charge import charge_flow
from ..blocks.shapes import event_shapes_and_axes
from ..data.events import P4
from ..data.pdg import charge
from ..kinematics import boost

LABELS = {
    "eta": r"hadron $\eta$",
    "pt": r"hadron $p_T$ [GeV]",
    "E": r"hadron $E$ [GeV]",
    "px": r"hadron $p_x$ [GeV]",
    "multiplicity": "hadrons per event",
    "nn_dr": r"nearest neighbour $\Delta R$",
    "nn_eratio": r"nearest neighbour $E_{nn}/E$",
    "pair_theta": r"$\theta$ in the nearest-neighbour pair frame",
    "pair_phi": r"$\phi$ in the nearest-neighbour pair frame",
    "thrust": "thrust",
    "thrust_major": "thrust major",
    "thrust_minor": "thrust minor",
    "sphericity": "sphericity",
    "aplanarity": "aplanarity",
    "cluster_theta": r"true cluster-frame $\theta$",
    "cluster_phi": r"true cluster-frame $\phi$",
    **CHARGE_LABELS,
}


@dataclass
class Hadrons:
    counts: np.ndarray  # (n_events,)
    p4: np.ndarray  # (n, 4)
    pid: np.ndarray | None = field(default=None)  # (n,), PDG ids where known

    @property
    def charge(self) -> np.ndarray:
        """Each hadron's electric charge (from its PDG id)."""
        if self.pid is None:
            raise ValueError("these hadrons have no PDG ids: no charges")
        return charge(self.pid)

    @property
    def event(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.counts)), self.counts)


def hadrons_of(events: ak.Array, name: str = "sample") -> Hadrons:
    """Final-state hadrons; an error when a sample has none (nothing to compare)."""
    h = events["hadrons"]
    counts = ak.to_numpy(ak.num(h, axis=1)).astype(np.int64)
    if len(events) == 0:
        raise ValueError(f"{name}: no events")
    if counts.sum() == 0:
        raise ValueError(f"{name}: no hadrons in any of its {len(events)} events")
    p4 = np.column_stack([ak.to_numpy(ak.flatten(h[f], axis=1)) for f in P4])
    pid = ak.to_numpy(ak.flatten(h["pid"], axis=1)).astype(np.int64)
    return Hadrons(counts, p4, pid)


def _eta_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pt = np.hypot(p4[:, 1], p4[:, 2])
    eta = np.arcsinh(np.divide(p4[:, 3], pt, out=np.zeros_like(pt), where=pt > 0))
    return eta, np.arctan2(p4[:, 2], p4[:, 1])


def nearest_neighbours(h: Hadrons) -> np.ndarray:
    """Index of each hadron's nearest neighbour in (eta, phi) within its event (-1 if alone)."""
    eta, phi = _eta_phi(h.p4)
    nn = np.full(len(h.p4), -1)
    start = 0
    for n in h.counts:
        if n > 1:
            e, f = eta[start : start + n], phi[start : start + n]
            dphi = np.angle(np.exp(1j * (f[:, None] - f[None, :])))
            dr2 = (e[:, None] - e[None, :]) ** 2 + dphi**2
            np.fill_diagonal(dr2, np.inf)
            nn[start : start + n] = start + np.argmin(dr2, axis=1)
        start += n
    return nn


def compute(events: ak.Array, name: str = "sample") -> dict[str, np.ndarray]:
    h = hadrons_of(events, name)
    eta, phi = _eta_phi(h.p4)
    out: dict[str, np.ndarray] = {
        "eta": eta,
        "pt": np.hypot(h.p4[:, 1], h.p4[:, 2]),
        "E": h.p4[:, 0],
        "px": h.p4[:, 1],
        "multiplicity": h.counts.astype(np.float64),
    }
    nn = nearest_neighbours(h)
    ok = nn >= 0
    dphi = np.angle(np.exp(1j * (phi[ok] - phi[nn[ok]])))
    out["nn_dr"] = np.hypot(eta[ok] - eta[nn[ok]], dphi)
    out["nn_eratio"] = h.p4[nn[ok], 0] / h.p4[ok, 0]
    pair = h.p4[ok] + h.p4[nn[ok]]
    q = boost(h.p4[ok], pair, to_rest=True)[:, 1:]
    out["pair_theta"] = np.arctan2(np.hypot(q[:, 0], q[:, 1]), q[:, 2])
    out["pair_phi"] = np.arctan2(q[:, 1], q[:, 0])
    shapes, axes = event_shapes_and_axes(h.counts, h.p4[:, 1:])
    out.update(shapes)
    # per event, NaN where a hemisphere has no (charged) hadron: see hadml.blocks.charge
    out.update(charge_flow(h.counts, h.charge, h.p4, axes))
    cl = events["clusters"]
    if ak.sum(ak.num(cl, axis=1)) > 0:
        out["cluster_theta"] = ak.to_numpy(ak.flatten(cl["theta"], axis=1))
        out["cluster_phi"] = ak.to_numpy(ak.flatten(cl["phi"], axis=1))
    return out
