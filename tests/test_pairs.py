"""The pair branch of the event-level discriminator: every within-event pair once, and pair
features that are the two-body decay's own quantities (checked against the numpy boost)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hadml.blocks.networks import (
    FRAME_FEATURES,
    PairSetsDiscriminator,
    event_frame_features,
    pair_features,
)
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


def _rotation(rng: np.random.Generator) -> torch.Tensor:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return torch.as_tensor(q)


def _events(rng: np.random.Generator, n: int = 30) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two-jet-like events: hadrons about a random axis per event, random charges."""
    counts = rng.integers(4, 12, n)
    ev = np.repeat(np.arange(n), counts)
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1)[:, None]
    side = rng.choice([-1.0, 1.0], len(ev))
    p3 = side[:, None] * axis[ev] * rng.exponential(5.0, len(ev))[:, None] + rng.normal(size=(len(ev), 3)) * 0.4
    p4 = np.column_stack([np.sqrt((p3**2).sum(1) + 0.0195), p3])
    q = rng.choice([-1.0, 0.0, 1.0], len(ev))
    return torch.as_tensor(p4), torch.as_tensor(q), torch.as_tensor(ev)


def test_event_frame_features_are_the_hadrons_about_the_events_axis() -> None:
    """The axis is the linearised momentum tensor's leading eigenvector (numpy's, per event); the
    features are E, |p.n|, p_perp and q, the side which hemisphere (one sign per event)."""
    rng = np.random.default_rng(3)
    p4, q, ev = _events(rng)
    n_ev = int(ev.max()) + 1
    feats, side = event_frame_features(p4, q, ev, n_ev)
    f, side = feats.numpy(), side.numpy()
    assert f.shape == (len(q), len(FRAME_FEATURES))
    for e in range(n_ev):
        m = (ev == e).numpy()
        p3 = p4[m, 1:].numpy()
        t = (p3[:, :, None] * p3[:, None, :] / np.linalg.norm(p3, axis=1)[:, None, None]).sum(0)
        axis = np.linalg.eigh(t)[1][:, 2]
        par = p3 @ axis
        np.testing.assert_allclose(f[m, 0], p4[m, 0].numpy())
        np.testing.assert_allclose(f[m, 1], np.abs(par), rtol=1e-10)
        np.testing.assert_allclose(f[m, 2], np.sqrt((p3**2).sum(1) - par**2), rtol=1e-8)
        np.testing.assert_allclose(f[m, 3], q[m].numpy())
        # the side: which hemisphere, with n's sign free but one per event
        assert np.all(side[m] == (par < 0)) or np.all(side[m] == (par > 0))


def test_the_event_frame_discriminator_does_not_see_the_events_orientation() -> None:
    """Rotating every event (which may flip its axis' sign) leaves D's logits unchanged, pair
    branch included; swapping two hadrons' charges across the hemispheres changes them."""
    rng = np.random.default_rng(4)
    p4, q, ev = _events(rng, 8)
    torch.manual_seed(0)
    D = PairSetsDiscriminator(16, 2, len(FRAME_FEATURES), torch.zeros(5), torch.ones(5), hemispheres=True).double()

    def logits(p: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x, side = event_frame_features(p, c, ev, 8)
            return D.forward_pairs(x, ev, 8, p, c, side=side)

    base = logits(p4, q)
    flipped = 0
    for k in range(6):
        R = _rotation(np.random.default_rng(10 + k))
        rot = torch.cat([p4[:, :1], p4[:, 1:] @ R.T], 1)
        s0, s1 = event_frame_features(p4, q, ev, 8)[1], event_frame_features(rot, q, ev, 8)[1]
        flipped += int((s0 != s1).any())
        torch.testing.assert_close(logits(rot, q), base, rtol=1e-9, atol=1e-9)
    assert flipped > 0  # some rotation did flip an axis
    # a charged forward and an oppositely charged backward hadron of event 0 swap charges
    side = event_frame_features(p4, q, ev, 8)[1]
    m = torch.nonzero(ev == 0).squeeze(1)
    fwd = m[(~side[m]) & (q[m] != 0)][0]
    back = m[side[m] & (q[m] == -q[fwd])][0]
    swapped = q.clone()
    swapped[fwd], swapped[back] = q[back], q[fwd]
    assert abs(float(logits(p4, swapped)[0] - base[0])) > 1e-6
