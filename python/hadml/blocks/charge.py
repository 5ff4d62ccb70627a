"""Charge flow between the two thrust hemispheres: observables that see each hadron's charge.

Definitions (per event; n_T the exact thrust axis of :mod:`hadml.blocks.shapes`, whose sign is
arbitrary, which none of the products below depends on):

* hemispheres: forward F holds the hadrons with p.n_T >= 0, backward B those with p.n_T < 0;
* hemisphere charge (momentum-weighted jet charge) with weight exponent kappa,
  ``Q_h = sum_{i in h} q_i |p_i.n_T|^kappa / sum_{i in h} |p_i.n_T|^kappa``, both sums over
  all hadrons of the hemisphere, charged and neutral (q_i from the PDG id, :func:`hadml.data.pdg.charge`);
* ``qfqb_k<kappa>`` = Q_F * Q_B, for kappa = 0.5 and 1; undefined (the event is dropped and
  counted) when a hemisphere's weight sum is 0 (no hadron, or only hadrons with p.n_T = 0);
* ``lead_qq``: the charge product of the leading charged hadrons, the charged hadron (q != 0) of
  largest |p| (three-momentum magnitude) in each hemisphere; dropped and counted when a
  hemisphere has no charged hadron. Ties in |p| go to the hadron listed first.

Events are handled together (flat numpy arrays and bincount, no loop over events).
"""

from __future__ import annotations

import numpy as np
import torch

from .shapes import event_shapes_and_axes

KAPPAS = (0.5, 1.0)
NAMES = ("qfqb_k0.5", "qfqb_k1", "lead_qq")
LABELS = {
    "qfqb_k0.5": r"$Q_F Q_B$, $\kappa = 0.5$",
    "qfqb_k1": r"$Q_F Q_B$, $\kappa = 1$",
    "lead_qq": r"$q_F q_B$ of the leading charged hadrons",
}


def _name(kappa: float) -> str:
    return f"qfqb_k{kappa:g}"


def charge_flow(
    counts: np.ndarray, q: np.ndarray, p4: np.ndarray, axes: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The charge-flow observables of every event, (n_events,) each, NaN where undefined.

    counts (n_events,), q (H,) the hadrons' charges (:func:`hadml.data.pdg.charge` of their
    PDG ids), p4 (H, 4), flat over events; axes (n_events, 3): the thrust
    axes (computed when not given)."""
    counts = np.asarray(counts, dtype=np.int64)
    p3 = np.asarray(p4, dtype=np.float64)[:, 1:]
    n_events = len(counts)
    if axes is None:
        axes = event_shapes_and_axes(counts, p3)[1]
    ev = np.repeat(np.arange(n_events), counts)
    q = np.asarray(q, dtype=np.float64)
    proj = np.einsum("ij,ij->i", p3, axes[ev])
    slot = 2 * ev + (proj < 0)  # (event, hemisphere): 2e forward, 2e + 1 backward
    t = [torch.as_tensor(x) for x in (q, p3, ev, axes)]
    out: dict[str, np.ndarray] = {}
    for kappa in KAPPAS:
        qh = hemisphere_charges(t[0], t[1], t[2], n_events, t[3], kappa).numpy()
        out[_name(kappa)] = qh[:, 0] * qh[:, 1]
    charged = np.flatnonzero(q != 0)
    pabs = np.linalg.norm(p3[charged], axis=1)
    order = charged[np.lexsort((-pabs, slot[charged]))]  # by slot, then by |p| descending
    slots, first = np.unique(slot[order], return_index=True)
    lead = np.full(2 * n_events, np.nan)
    lead[slots] = q[order[first]]
    out["lead_qq"] = lead[0::2] * lead[1::2]
    return out


def hemisphere_charges(q: torch.Tensor, p3: torch.Tensor, event: torch.Tensor, n_events: int, axes: torch.Tensor,
                       kappa: float) -> torch.Tensor:
    """(n_events, 2) the forward and backward hemisphere charges Q_F, Q_B (module docstring) of
    hadrons held flat (charges q, three-momenta p3, event index ``event``) about the events' axes
    (n_events, 3); NaN for a hemisphere of zero weight. Differentiable in p3 through the weights
    |p.n|^kappa (the hemispheres, and the axes, are taken as given): the one definition that the
    observables and the event-level fit's charge-flow loss both use."""
    proj = (p3 * axes[event]).sum(1)
    slot = 2 * event + (proj < 0).long()
    a = proj.abs()
    w = torch.where(a > 0, a.clamp_min(1e-30) ** kappa, torch.zeros_like(a))  # no infinite gradient at p.n = 0
    num = torch.zeros(2 * n_events, dtype=w.dtype, device=w.device).index_add_(0, slot, q.to(w.dtype) * w)
    den = torch.zeros(2 * n_events, dtype=w.dtype, device=w.device).index_add_(0, slot, w)
    qh = torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.full_like(den, float("nan")))
    return qh.reshape(n_events, 2)


def mean_with_error(x: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error std / sqrt(n) (ddof 1) of the finite entries."""
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan")
    if len(x) == 1:
        return float(x[0]), float("nan")
    return float(np.mean(x)), float(np.std(x, ddof=1) / np.sqrt(len(x)))


def summary(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Means with errors of one observable in two samples, their difference (B - A) in units of
    the combined error sqrt(err_A^2 + err_B^2), and the events used and dropped."""
    ma, ea = mean_with_error(a)
    mb, eb = mean_with_error(b)
    comb = float(np.hypot(ea, eb))
    return {
        "mean_a": ma,
        "err_a": ea,
        "mean_b": mb,
        "err_b": eb,
        "pull": (mb - ma) / comb if comb > 0 else float("nan"),
        "n_a": int(np.isfinite(a).sum()),
        "n_b": int(np.isfinite(b).sum()),
        "dropped_a": int((~np.isfinite(a)).sum()),
        "dropped_b": int((~np.isfinite(b)).sum()),
    }
