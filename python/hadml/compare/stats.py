"""Distances with uncertainties, and a classifier two-sample test."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import rankdata

from ..blocks.distances import w1
from ..blocks.networks import DeepSetsDiscriminator
from ..blocks.ragged import gather_events
from .observables import Hadrons


def w1_bootstrap(
    a: np.ndarray, b: np.ndarray, n_boot: int = 20, seed: int = 0, max_n: int = 200_000
) -> tuple[float, float]:
    """W1(a, b) and its bootstrap standard deviation."""
    rng = np.random.default_rng(seed)
    if len(a) > max_n:
        a = rng.choice(a, max_n, replace=False)
    if len(b) > max_n:
        b = rng.choice(b, max_n, replace=False)
    value = w1(a, b)
    if n_boot < 2:
        return value, 0.0
    boots = [w1(rng.choice(a, len(a)), rng.choice(b, len(b))) for _ in range(n_boot)]
    return value, float(np.std(boots))


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties counted one half)."""
    r = rankdata(scores)
    pos = labels == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


CLASSIFIER_FEATURES = ("p4", "p4+charge")


def hadron_features(h: Hadrons, features: str = "p4") -> np.ndarray:
    """What the classifier sees of each hadron: its lab four-momentum (E, px, py, pz), and with
    ``p4+charge`` its electric charge (from the PDG id) as a fifth column."""
    if features == "p4":
        return h.p4
    if features == "p4+charge":
        return np.column_stack([h.p4, h.charge])
    raise ValueError(f"classifier features {features!r}: one of {', '.join(CLASSIFIER_FEATURES)}")


def _subset(h: Hadrons, x: np.ndarray, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = np.concatenate([[0], np.cumsum(h.counts)[:-1]])
    idx = (
        np.concatenate([np.arange(start[i], start[i] + h.counts[i]) for i in sel])
        if len(sel)
        else np.zeros(0, int)
    )
    return h.counts[sel], x[idx]


def classifier_auc(
    a: Hadrons,
    b: Hadrons,
    epochs: int = 10,
    seed: int = 0,
    max_events: int = 20000,
    hidden: int = 64,
    batch_events: int = 256,
    features: str = "p4",
) -> tuple[float, float]:
    """Deep Sets classifier (the v2 discriminator architecture: Phi per hadron, mean, F) trained
    to tell events of A from events of B on one half of each; ROC AUC on the other half, with a
    bootstrap uncertainty over the test events. AUC 0.5: indistinguishable. ``features``: what
    Phi sees of each hadron (:func:`hadron_features`), every column standardised over A and B."""
    xa, xb = hadron_features(a, features), hadron_features(b, features)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n = min(len(a.counts), len(b.counts), max_events)
    pick_a = rng.permutation(len(a.counts))[:n]
    pick_b = rng.permutation(len(b.counts))[:n]
    half = n // 2
    mu = np.concatenate([xa, xb]).mean(0)
    sd = np.concatenate([xa, xb]).std(0)
    sd = np.where(sd > 0, sd, 1.0)

    def tensors(sel_a: np.ndarray, sel_b: np.ndarray) -> tuple[torch.Tensor, ...]:
        ca, pa = _subset(a, xa, sel_a)
        cb, pb = _subset(b, xb, sel_b)
        counts = np.concatenate([ca, cb])
        p4 = np.concatenate([pa, pb])
        labels = np.concatenate([np.zeros(len(ca)), np.ones(len(cb))])
        return (
            torch.as_tensor(counts),
            torch.as_tensor(np.concatenate([[0], np.cumsum(counts)[:-1]])),
            torch.as_tensor(((p4 - mu) / sd).astype(np.float32)),
            torch.as_tensor(labels, dtype=torch.float32),
        )

    tr = tensors(pick_a[:half], pick_b[:half])
    te = tensors(pick_a[half:], pick_b[half:])
    model = DeepSetsDiscriminator(hidden, 2, n_features=xa.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n_tr = len(tr[0])
    for _ in range(epochs):
        perm = torch.randperm(n_tr)
        for k in range(0, n_tr, batch_events):
            sel = perm[k : k + batch_events]
            idx, ev = gather_events(tr[1], tr[0], sel)
            loss = F.binary_cross_entropy_with_logits(model(tr[2][idx], ev, len(sel)), tr[3][sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        sel = torch.arange(len(te[0]))
        idx, ev = gather_events(te[1], te[0], sel)
        scores = model(te[2][idx], ev, len(sel)).numpy()
    labels = te[3].numpy()
    auc = roc_auc(labels, scores)
    boots = []
    for _ in range(20):
        pick = rng.integers(0, len(labels), len(labels))
        if 0 < labels[pick].sum() < len(pick):
            boots.append(roc_auc(labels[pick], scores[pick]))
    return auc, float(np.std(boots))
