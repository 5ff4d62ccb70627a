"""Write tests/vectors/kinematics.json: inputs and expected outputs for the kinematics of all
three implementations (C++, numpy, torch). Expected values are computed independently of the
project's code, with 50-digit mpmath arithmetic and textbook (not cancellation-tuned) formulas.

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

    OUT.write_text(
        json.dumps(
            {
                "description": "hadml kinematics test vectors: two_body_decay(cluster, m1, m2, theta, "
                "phi) -> h1, h2 (lab); recover_angles(cluster, h1, h2) -> recovered. "
                "Expected values from 50-digit mpmath (tests/vectors/generate_kinematics.py).",
                "cases": cases,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
