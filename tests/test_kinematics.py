"""Kinematics of the three implementations (C++ via hadml._core, numpy, torch float64) against
the shared test vectors (50-digit mpmath expectations) and against each other."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import hadml.kinematics as K
import hadml.kinematics_torch as T
from hadml import native as N

EPS = np.finfo(np.float64).eps


def _torch(fn):
    def wrapped(*args):
        out = fn(*(torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in args))
        return tuple(o.numpy() for o in out)

    return wrapped


IMPLS = {
    "cpp": (N.two_body_decay, N.recover_angles),
    "numpy": (K.two_body_decay, K.recover_angles),
    "torch": (_torch(T.two_body_decay), _torch(T.recover_angles)),
}


def columns(vectors):
    def col(key):
        return np.array([c[key] for c in vectors], dtype=np.float64)

    return {k: col(k) for k in ("cluster", "m1", "m2", "theta", "phi", "h1", "h2")}


def unit(theta, phi):
    return np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=-1)


def pstar(c):
    M = np.sqrt(K.mass2(c["cluster"]))
    return K.two_body_momentum(M, c["m1"], c["m2"])


@pytest.mark.parametrize("impl", IMPLS)
def test_decay_matches_vectors(impl, vectors):
    c = columns(vectors)
    decay, _ = IMPLS[impl]
    h1, h2 = decay(c["cluster"], c["m1"], c["m2"], c["theta"], c["phi"])
    E = c["cluster"][:, 0]
    err = np.maximum(np.abs(h1 - c["h1"]).max(1), np.abs(h2 - c["h2"]).max(1)) / E
    # 1e-12 of the cluster energy; near threshold p* is ill-conditioned in M, and the bound
    # grows as eps * M / p* (a relative error eps in M moves p* by eps * M^2 / (4 p*^2) * p*).
    tol = 1e-12 + 8 * EPS * np.sqrt(K.mass2(c["cluster"])) / pstar(c)
    assert np.all(err <= tol), [v["kind"] for v, bad in zip(vectors, err > tol, strict=True) if bad]
    assert err[[v["kind"] != "threshold" for v in vectors]].max() < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
def test_recover_matches_vectors(impl, vectors):
    c = columns(vectors)
    _, recover = IMPLS[impl]
    theta, phi, first = recover(c["cluster"], c["h1"], c["h2"])
    exp_t = np.array([v["recovered"]["theta"] for v in vectors])
    exp_p = np.array([v["recovered"]["phi"] for v in vectors])
    exp_f = np.array([v["recovered"]["first"] for v in vectors])
    np.testing.assert_array_equal(first, exp_f)
    # compare directions (phi is undefined along z); inputs carry eps * E rounding, so the
    # rest-frame direction is known to eps * E / p*.
    err = np.abs(unit(theta, phi) - unit(exp_t, exp_p)).max(1)
    tol = 1e-12 + 4 * EPS * c["cluster"][:, 0] / pstar(c)
    assert np.all(err <= tol)
    assert np.all((theta >= 0) & (theta <= math.pi))
    # phi is in (-pi/2, pi/2]; a decay along -y with a rest-frame x of +1e-17 p rounds to -pi/2
    assert np.all((phi >= -math.pi / 2) & (phi <= math.pi / 2))


def test_implementations_agree(vectors):
    c = columns(vectors)
    args = (c["cluster"], c["m1"], c["m2"], c["theta"], c["phi"])
    ref = IMPLS["numpy"][0](*args)
    ref_rec = IMPLS["numpy"][1](c["cluster"], c["h1"], c["h2"])
    E = c["cluster"][:, 0:1]
    for name in ("cpp", "torch"):
        out = IMPLS[name][0](*args)
        for a, b in zip(out, ref, strict=True):
            assert np.max(np.abs(a - b) / E) < 1e-12, name
        rec = IMPLS[name][1](c["cluster"], c["h1"], c["h2"])
        np.testing.assert_array_equal(rec[2], ref_rec[2])
        assert np.max(np.abs(unit(rec[0], rec[1]) - unit(ref_rec[0], ref_rec[1]))) < 1e-12, name


@pytest.mark.parametrize("impl", IMPLS)
def test_conservation_and_masses(impl, vectors):
    c = columns(vectors)
    h1, h2 = IMPLS[impl][0](c["cluster"], c["m1"], c["m2"], c["theta"], c["phi"])
    E = c["cluster"][:, 0]
    assert np.max(np.abs(h1 + h2 - c["cluster"]).max(1) / E) < 1e-12
    # invariant masses to 1e-12 of the hadron energy squared (the floating-point floor of
    # E^2 - p^2 for a lab vector; relative to m^2 it would grow as (E/m)^2 for boosted hadrons)
    for h, m in ((h1, c["m1"]), (h2, c["m2"])):
        assert np.max(np.abs(K.mass2(h) - m**2) / h[:, 0] ** 2) < 1e-12


@pytest.mark.parametrize("impl", IMPLS)
def test_round_trip(impl, vectors):
    """decay -> recover -> decay gives back the same hadrons, first hadron first."""
    c = columns(vectors)
    decay, recover = IMPLS[impl]
    ok = np.array([v["kind"] not in ("threshold",) for v in vectors])
    cl, m1, m2 = c["cluster"][ok], c["m1"][ok], c["m2"][ok]
    h1, h2 = decay(cl, m1, m2, c["theta"][ok], c["phi"][ok])
    theta, phi, first = recover(cl, h1, h2)
    mf = np.where(first == 0, m1, m2)
    ms = np.where(first == 0, m2, m1)
    g1, g2 = decay(cl, mf, ms, theta, phi)
    a = np.where((first == 0)[:, None], g1, g2)
    b = np.where((first == 0)[:, None], g2, g1)
    E = cl[:, :1]
    # A lab-frame double holds the rest-frame angle only to ~eps * gamma^2 (gamma = E/M): the
    # floor for E/M = 1e3 is ~2e-10; everything below E/M = 10 must close to 1e-12.
    gamma2 = cl[:, 0] ** 2 / K.mass2(cl)
    tol = (1e-12 + 4 * EPS * gamma2)[:, None]
    assert np.all(np.abs(a - h1) / E <= tol)
    assert np.all(np.abs(b - h2) / E <= tol)
    mild = gamma2 < 100
    assert np.max(np.abs(a - h1)[mild] / E[mild]) < 1e-12


# Looked up at call time, so that scripts/mutate_boost.py can replace them (the C++ one through
# hadml._core.boost, which hadml.native.boost calls).
BOOSTS = {
    "cpp": lambda v, f, to_rest: N.boost(v, f, to_rest),
    "numpy": lambda v, f, to_rest: K.boost(v, f, to_rest),
    "torch": lambda v, f, to_rest: T.boost(torch.as_tensor(v), torch.as_tensor(f), to_rest).numpy(),
}


def boost_all(impl, cases):
    v = np.array([c["vector"] for c in cases], dtype=np.float64)
    f = np.array([c["frame"] for c in cases], dtype=np.float64)
    to_rest = np.array([c["to_rest"] for c in cases])
    out = np.full_like(v, np.nan)
    for direction in (True, False):
        rows = to_rest == direction
        out[rows] = BOOSTS[impl](v[rows], f[rows], direction)
    return out


@pytest.mark.parametrize("impl", BOOSTS)
def test_boost_matches_vectors(impl, boost_vectors):
    """Single boosts into and out of rest frames (E/M 1 to 1e3; massive, near-light-like and
    light-like vectors along, against and across the motion; frames on and off the axes) against
    their 50-digit values.

    The inputs are exact doubles and the expectations are for exactly those doubles, so only the
    boost's own arithmetic counts. Energy and parallel component come from sums of terms of one
    sign (no cancellation), hence to a few eps of the output energy; a transverse component is
    k + d n, where n carries eps from the frame and the sum cancels when the output is smaller than
    the input: a few eps of the larger energy. Hence 8 eps (e_in + e_out) per component (measured:
    below 2 eps) and 8 eps e_out for the energy (measured: below 3 eps). A textbook
    gamma (e - beta.k) would lose (2 gamma)^2 eps = 4e6 eps of e_out on the light-like vectors
    moving with a gamma = 1e3 frame, whose energy drops by 2 gamma on the way to its rest frame."""
    exp = np.array([c["expected"] for c in boost_vectors])
    scale = np.array([c["scale"] for c in boost_vectors])  # e_in + e_out
    kinds = [f"{c['kind']}{' to rest' if c['to_rest'] else ' from rest'}" for c in boost_vectors]
    out = boost_all(impl, boost_vectors)
    err = np.abs(out - exp).max(1)
    bad = ~(err <= 8 * EPS * scale)
    assert not bad.any(), sorted({k for k, b in zip(kinds, bad, strict=True) if b})
    e_err = np.abs(out[:, 0] - exp[:, 0])
    bad = ~(e_err <= 8 * EPS * np.abs(exp[:, 0]))
    assert not bad.any(), sorted({k for k, b in zip(kinds, bad, strict=True) if b})


def test_boost_vectors_cover_the_hard_cases(boost_vectors):
    """What test_boost_matches_vectors claims to cover is in the file."""
    gamma = np.array([c["frame"][0] for c in boost_vectors]) / np.sqrt(
        K.mass2(np.array([c["frame"] for c in boost_vectors]))
    )
    assert gamma.min() == 1.0 and gamma.max() == pytest.approx(1e3)
    assert {c["to_rest"] for c in boost_vectors} == {True, False}
    v = np.array([c["vector"] for c in boost_vectors])
    m_over_e = np.sqrt(K.mass2(v)) / v[:, 0]
    assert np.sum(m_over_e == 0.0) >= 4 and np.sum((m_over_e > 0) & (m_over_e < 1e-6)) >= 4
    f = np.array([c["frame"] for c in boost_vectors])
    on_axis = np.sum(f[:, 1:] != 0.0, axis=1) == 1
    assert on_axis.any() and (np.sum(f[:, 1:] != 0.0, axis=1) == 3).any()
    # energies that fall by more than 1e3 on the way to the rest frame (the cancellation case)
    e_out = np.array([c["expected"][0] for c in boost_vectors])
    assert np.min(e_out / v[:, 0]) < 1e-3


def test_boost_round_trip_highly_boosted():
    rng = np.random.default_rng(1)
    frames = np.array([[1e3 * 1.2, 0.0, 0.0, 1.2 * math.sqrt(1e6 - 1)]])
    frames = np.repeat(frames, 50, axis=0)
    q = np.column_stack([np.full(50, 0.5), rng.normal(size=(50, 3)) * 0.1])
    q[:, 0] = np.sqrt(0.14**2 + (q[:, 1:] ** 2).sum(1))
    for boost in (K.boost, N.boost):
        lab = boost(q, frames, False)
        back = boost(lab, frames, True)
        assert np.max(np.abs(back - q)) < 1e-12 * frames[0, 0]


def test_torch_decay_is_differentiable():
    c = torch.tensor([[5.0, 1.0, -2.0, 3.0], [40.0, 30.0, 10.0, -20.0]], dtype=torch.float64)
    m1 = torch.tensor([0.135, 0.1396], dtype=torch.float64)
    m2 = torch.tensor([0.1396, 0.4937], dtype=torch.float64)
    theta = torch.tensor([0.4, 2.5], dtype=torch.float64, requires_grad=True)
    phi = torch.tensor([-1.0, 0.7], dtype=torch.float64, requires_grad=True)

    def f(t, p):
        h1, h2 = T.two_body_decay(c, m1, m2, t, p, check=False)
        return torch.cat([h1, h2], -1)

    assert torch.autograd.gradcheck(f, (theta, phi))
    # and the energy sum does not depend on the angles
    h1, h2 = T.two_body_decay(c, m1, m2, theta, phi)
    (h1 + h2).sum().backward()
    assert torch.allclose(theta.grad, torch.zeros(2, dtype=torch.float64), atol=1e-12)
