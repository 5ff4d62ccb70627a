"""The pair branch of the event-level discriminator: every within-event pair once, and pair
features that are the two-body decay's own quantities (checked against the numpy boost)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hadml.blocks.networks import PairSetsDiscriminator, pair_features
from hadml.blocks.ragged import event_pairs
from hadml.kinematics import boost, mass, two_body_decay


def test_event_pairs_are_every_within_event_pair_once() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 7, 40)
    ev = torch.as_tensor(np.repeat(np.arange(40), counts))
    i, j, e = event_pairs(ev, 40)
    got = sorted(zip(i.tolist(), j.tolist(), strict=True))
    want = [(a, b) for a in range(len(ev)) for b in range(a + 1, len(ev)) if ev[a] == ev[b]]
    assert got == want and (e == ev[i]).all()
    assert len(got) == int((counts * (counts - 1) // 2).sum())


def test_pair_features_are_the_decay_of_the_pair() -> None:
    """A cluster decayed into pi+ pi-: the pair mass is the cluster mass, the decay-angle cosine
    is the pi+'s in the cluster frame about the flight direction, in either order of the pair."""
    rng = np.random.default_rng(1)
    n = 200
    M = rng.uniform(0.5, 3.5, n)
    p = rng.normal(size=(n, 3)) * 10
    cl = np.column_stack([np.sqrt(M**2 + (p**2).sum(1)), p])
    cos_t, phi = rng.uniform(-1, 1, n), rng.uniform(-np.pi, np.pi, n)
    h1, h2 = two_body_decay(cl, np.full(n, 0.1396), np.full(n, 0.1396), np.arccos(cos_t), phi)
    r = boost(h1, cl, to_rest=True)[:, 1:]
    want = (r * cl[:, 1:]).sum(1) / np.linalg.norm(r, axis=1) / np.linalg.norm(cl[:, 1:], axis=1)
    p4 = torch.as_tensor(np.concatenate([h1, h2]))
    q = torch.as_tensor(np.concatenate([np.ones(n), -np.ones(n)]))
    a, b = torch.arange(n), torch.arange(n, 2 * n)
    for i, j, sign in ((a, b, 1.0), (b, a, 1.0)):
        f = pair_features(p4, q, i, j).numpy()
        np.testing.assert_allclose(f[:, 0], mass(cl), rtol=1e-9)
        np.testing.assert_allclose(f[:, 1], np.abs(want), atol=1e-7)
        np.testing.assert_allclose(f[:, 2], -1.0)
        np.testing.assert_allclose(f[:, 3], sign * want, atol=1e-7)  # the pi+'s, whichever is i
        np.testing.assert_allclose(f[:, 4], np.log1p(np.linalg.norm(p, axis=1)), rtol=1e-9)


def test_pair_discriminator_sees_the_pairs_and_not_their_order() -> None:
    """Permuting the hadrons within an event leaves D's logit unchanged; moving one hadron's
    momentum (the pair masses change) changes it."""
    torch.manual_seed(0)
    H = 12
    p3 = torch.randn(H, 3, dtype=torch.float64)
    p4 = torch.cat([torch.sqrt((p3**2).sum(1, keepdim=True) + 0.0195), p3], 1)
    q = torch.tensor([1.0, -1, 0, 1, -1, 0] * 2, dtype=torch.float64)
    ev = torch.tensor([0] * 5 + [1] * 7)
    D = PairSetsDiscriminator(16, 2, 5, torch.zeros(5), torch.ones(5)).double()
    x = torch.cat([p4, q[:, None]], 1)
    with torch.no_grad():
        base = D.forward_pairs(x, ev, 2, p4, q)
    perm = torch.cat([torch.randperm(5), 5 + torch.randperm(7)])
    with torch.no_grad():
        torch.testing.assert_close(D.forward_pairs(x[perm], ev, 2, p4[perm], q[perm]), base)
    moved = p4.clone()
    moved[1, 1:] *= 3
    moved[1, 0] = torch.sqrt((moved[1, 1:] ** 2).sum() + 0.0195)
    with torch.no_grad():
        out = D.forward_pairs(x, ev, 2, moved, q)  # the hadron branch unchanged: only the pairs moved
    assert abs(float(out[0] - base[0])) > 1e-6 and float(out[1]) == pytest.approx(float(base[1]), abs=1e-12)
