"""Write tests/vectors/kinematics.json: inputs and expected outputs for the kinematics of all
three implementations (C++, numpy, torch). Expected values are computed independently of the
project's code, with 50-digit mpmath arithmetic and textbook (not cancellation-tuned) formulas.

"cases": two-body decays and the angles recovered from them. "boosts": single boosts
boost(vector, frame, to_rest) into and out of rest frames with E/M from 1 to 1e3, of massive,
near-light-like and light-like vectors, along and against the frame's motion, on and off the axes.

Run:  python tests/vectors/generate_kinematics.py   (needs mpmath; output is deterministic)
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
OUT = Path(__file__).with_name("kinematics.json")


def exact_decay(cluster, m1, m2, theta, phi):
    E, px, py, pz = (mp.mpf(x) for x in cluster)
    M = mp.sqrt(E**2 - px**2 - py**2 - pz**2)
    m1, m2 = mp.mpf(m1), mp.mpf(m2)
    lam = (M**2 - (m1 + m2) ** 2) * (M**2 - (m1 - m2) ** 2)
    p = mp.sqrt(lam) / (2 * M)
    th, ph = mp.mpf(theta), mp.mpf(phi)
    q = [p * mp.sin(th) * mp.cos(ph), p * mp.sin(th) * mp.sin(ph), p * mp.cos(th)]
    out = []
    for m, sign in ((m1, 1), (m2, -1)):
        qq = [sign * c for c in q]
        e = mp.sqrt(m**2 + p**2)
        pq = px * qq[0] + py * qq[1] + pz * qq[2]
        f = pq / (M * (E + M)) + e / M
        out.append([(E * e + pq) / M, qq[0] + f * px, qq[1] + f * py, qq[2] + f * pz])
    return out


def exact_to_rest(k, cluster):
    E, px, py, pz = (mp.mpf(x) for x in cluster)
    M = mp.sqrt(E**2 - px**2 - py**2 - pz**2)
    e, kx, ky, kz = (mp.mpf(x) for x in k)
    pk = px * kx + py * ky + pz * kz
    f = pk / (M * (E + M)) - e / M
    return [(E * e - pk) / M, kx + f * px, ky + f * py, kz + f * pz]


def exact_recover(cluster, h1, h2):
    q1 = exact_to_rest(h1, cluster)
    q2 = exact_to_rest(h2, cluster)
    d = [a - b for a, b in zip(q1[1:], q2[1:], strict=True)]
    pos = d[0] > 0 if d[0] != 0 else (d[1] > 0 if d[1] != 0 else d[2] >= 0)
    if not pos:
        d = [-c for c in d]
    theta = mp.atan2(mp.sqrt(d[0] ** 2 + d[1] ** 2), d[2])
    phi = mp.atan2(d[1], d[0])
    return float(theta), float(phi), 0 if pos else 1


def exact_boost(k, frame, to_rest):
    """Textbook pure boost by beta = -/+ p/E of ``frame`` (to / out of its rest frame), 50 digits:
    e' = gamma (e - s beta.k) ... written with M and E so that no root of 1 - beta^2 appears."""
    E, px, py, pz = (mp.mpf(x) for x in frame)
    M = mp.sqrt(E**2 - px**2 - py**2 - pz**2)
    s = -1 if to_rest else 1
    e, kx, ky, kz = (mp.mpf(x) for x in k)
    pk = px * kx + py * ky + pz * kz
    f = pk / (M * (E + M)) + s * e / M
    return [(E * e + s * pk) / M, kx + f * px, ky + f * py, kz + f * pz]


def exact_mass2(k):
    e, kx, ky, kz = (mp.mpf(x) for x in k)
    return e**2 - kx**2 - ky**2 - kz**2


def frame_along(M, gamma, n):
    """A frame of mass M and E/M = gamma moving along the unit 3-vector n (floats)."""
    p = M * math.sqrt(gamma * gamma - 1.0)
    return [M * gamma, p * n[0], p * n[1], p * n[2]]


def rest_vector(m, p, n):
    """A vector of mass m and momentum p along n, with its energy rounded so that, as doubles, it
    stays time-like (or exactly light-like for m = 0 and an axis n)."""
    q = [p * c for c in n]
    e = math.sqrt(m * m + sum(c * c for c in q))
    while exact_mass2([e, *q]) < mp.mpf(m) ** 2 * (1 - mp.mpf(2) ** -40):
        e = math.nextafter(e, math.inf)
    return [e, *q]


def random_unit(rng):
    ct = rng.uniform(-1, 1)
    st = math.sqrt(1 - ct * ct)
    ph = rng.uniform(-math.pi, math.pi)
    return [st * math.cos(ph), st * math.sin(ph), ct]


def boost_cases():
    """Single boosts with exact expectations. Each case boosts one vector once; a vector "along"
    the frame moves with it, so that going to the rest frame cancels most of its energy (the
    ill-conditioned direction for naive formulas), and "against" moves opposite to it."""
    rng = random.Random(20261123)
    mpic, mpro = 0.13957018, 0.93827203
    out = []

    def add(kind, vector, frame, to_rest):
        assert exact_mass2(vector) >= 0 and exact_mass2(frame) > 0, kind
        exp = exact_boost(vector, frame, to_rest)
        out.append(
            {
                "kind": kind,
                "vector": vector,
                "frame": frame,
                "to_rest": to_rest,
                "expected": [float(x) for x in exp],
                # 50-digit energies of both sides: the scale of each case's tolerance
                "scale": float(abs(mp.mpf(vector[0])) + abs(exp[0])),
            }
        )

    axes = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]
    gammas = (1.0 + 1e-9, 1.5, 10.0, 1e2, 1e3)
    # frames along the axes: vectors along, against and across the motion, both directions
    for i, n in enumerate(axes):
        for gamma in gammas:
            frame = frame_along(rng.uniform(0.3, 5.0), gamma, n)
            across = axes[(i + 2) % 6]
            for to_rest in (True, False):
                # in the lab, a hadron moving with the frame (slower or faster); at rest, the same
                p_along = mpic * math.sqrt(gamma * gamma - 1.0) * rng.uniform(0.5, 2.0)
                add("axis_along", rest_vector(mpic, p_along, n), frame, to_rest)
                add("axis_against", rest_vector(mpro, rng.uniform(0.1, 3.0), [-c for c in n]), frame, to_rest)
                add("axis_across", rest_vector(mpic, rng.uniform(0.1, 3.0), across), frame, to_rest)
    # frames in random directions, random vectors and vectors along the frame's motion
    for gamma in gammas:
        for _ in range(4):
            n = random_unit(rng)
            frame = frame_along(rng.uniform(0.3, 5.0), gamma, n)
            for to_rest in (True, False):
                add("off_axis", rest_vector(mpic, rng.uniform(0.05, 5.0), random_unit(rng)), frame, to_rest)
                p_along = mpic * math.sqrt(gamma * gamma - 1.0) * rng.uniform(0.5, 2.0)
                add("off_axis_along", rest_vector(mpic, p_along, n), frame, to_rest)
    # near-light-like (m / E from 1e-4 to 1e-8) and light-like vectors, boosted along and
    # against the frame: to the rest frame, the along ones lose up to a factor 2 gamma of energy
    for gamma in (2.0, 1e2, 1e3):
        for n in (axes[4], random_unit(rng)):
            frame = frame_along(rng.uniform(0.3, 5.0), gamma, n)
            for m_over_p in (1e-4, 1e-6, 1e-8, 0.0):
                for sign, kind in ((1.0, "lightlike_along"), (-1.0, "lightlike_against")):
                    p = rng.uniform(0.5, 20.0)
                    for to_rest in (True, False):
                        add(kind, rest_vector(m_over_p * p, p, [sign * c for c in n]), frame, to_rest)
    # frames at rest (the identity) and a vector at rest in the lab
    for to_rest in (True, False):
        add("frame_at_rest", rest_vector(mpic, 1.3, random_unit(rng)), [2.5, 0.0, 0.0, 0.0], to_rest)
        for gamma in (1.5, 1e3):
            add("vector_at_rest", [mpro, 0.0, 0.0, 0.0], frame_along(1.2, gamma, random_unit(rng)), to_rest)
    return out


def cluster_with(M, gamma, rng):
    """A cluster of mass M and E/M = gamma in a random direction."""
    p = M * math.sqrt(gamma * gamma - 1.0)
    ct = rng.uniform(-1, 1)
    st = math.sqrt(1 - ct * ct)
    ph = rng.uniform(-math.pi, math.pi)
    return [M * gamma, p * st * math.cos(ph), p * st * math.sin(ph), p * ct]


def main() -> None:
    rng = random.Random(20261122)
    mpi0, mpic = 0.1349776, 0.13957018
    cases = []

    def add(kind, cluster, m1, m2, theta, phi):
        h1, h2 = exact_decay(cluster, m1, m2, theta, phi)
        h1f = [float(x) for x in h1]
        h2f = [float(x) for x in h2]
        th, ph, first = exact_recover(cluster, h1f, h2f)
        cases.append(
            {
                "kind": kind,
                "cluster": cluster,
                "m1": m1,
                "m2": m2,
                "theta": theta,
                "phi": phi,
                "h1": h1f,
                "h2": h2f,
                "recovered": {"theta": th, "phi": ph, "first": first},
            }
        )

    for _ in range(40):
        M = rng.uniform(0.3, 6.0)
        add(
            "random",
            cluster_with(M, rng.uniform(1.0, 10.0), rng),
            mpi0,
            mpic,
            rng.uniform(0, math.pi),
            rng.uniform(-math.pi / 2, math.pi / 2),
        )
    for gamma in (1e2, 3e2, 1e3):
        for _ in range(5):
            add(
                "boosted",
                cluster_with(rng.uniform(0.5, 3.0), gamma, rng),
                mpic,
                mpic,
                rng.uniform(0, math.pi),
                rng.uniform(-math.pi / 2, math.pi / 2),
            )
    for eps in (1e-3, 1e-6, 1e-9, 0.0):
        M = (mpi0 + mpic) * (1.0 + eps)
        add(
            "threshold",
            cluster_with(M, rng.uniform(1.0, 5.0), rng),
            mpi0,
            mpic,
            rng.uniform(0, math.pi),
            rng.uniform(-math.pi / 2, math.pi / 2),
        )
    axes = [
        (0.0, 0.0),
        (math.pi, 0.0),
        (math.pi / 2, 0.0),
        (math.pi / 2, math.pi / 2),
        (math.pi / 2, -math.pi / 2),
        (math.pi / 2, math.pi),
    ]
    for th, ph in axes:
        add("axis", cluster_with(1.5, 3.0, rng), 0.493677, mpic, th, ph)
        add("axis_at_rest", [1.5, 0.0, 0.0, 0.0], 0.493677, mpic, th, ph)
    for ph in (math.pi / 2 - 1e-12, -math.pi / 2 + 1e-12, math.nextafter(math.pi / 2, 0)):
        add("phi_edge", cluster_with(2.0, 2.0, rng), mpic, mpic, 1.1, ph)
    # unequal masses far from pions (K pi, p pbar) for the mass-ordering of the pair
    for m1, m2 in ((0.493677, mpic), (0.93827203, 0.93827203), (mpic, 0.93827203)):
        add("species", cluster_with(3.0, 4.0, rng), m1, m2, 2.0, -0.4)

    boosts = boost_cases()
    OUT.write_text(
        json.dumps(
            {
                "description": "hadml kinematics test vectors: two_body_decay(cluster, m1, m2, theta, "
                "phi) -> h1, h2 (lab); recover_angles(cluster, h1, h2) -> recovered; boosts: "
                "boost(vector, frame, to_rest) -> expected. "
                "Expected values from 50-digit mpmath (tests/vectors/generate_kinematics.py).",
                "cases": cases,
                "boosts": boosts,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {len(cases)} cases and {len(boosts)} boosts to {OUT}")


if __name__ == "__main__":
    main()
