"""Write tests/vectors/frame.json: the hadml-2 decay frame (decay_frame, a decay along a frame
direction, and the direction recovered from the hadrons) for the C++, numpy and torch
implementations. Expected values come from 50-digit mpmath with textbook formulas, written here
without the project's code.

Each case: cluster P and constituent 1 q (lab), hadron masses m1, m2, a direction u in frame
coordinates (not normalised); expected: the axes x*, y*, z*, cos_alpha, and the lab hadrons.
Cases cover clusters at rest (flight direction := lab z), constituent 1 along and against the
flight direction (the x* fallback), E/M up to 1e3, threshold-near decays, off-axis everything.

Run:  python tests/vectors/generate_frame.py   (needs mpmath; output is deterministic)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import mpmath as mp

mp.mp.dps = 50
OUT = Path(__file__).with_name("frame.json")


def to_rest(k, P):
    E, p = P[0], P[1:]
    M = mp.sqrt(E**2 - sum(x * x for x in p))
    pk = sum(a * b for a, b in zip(p, k[1:], strict=True))
    f = pk / (M * (E + M)) - k[0] / M
    return [(E * k[0] - pk) / M] + [k[1 + i] + f * p[i] for i in range(3)]


def from_rest(q, P):
    E, p = P[0], P[1:]
    M = mp.sqrt(E**2 - sum(x * x for x in p))
    pq = sum(a * b for a, b in zip(p, q[1:], strict=True))
    f = pq / (M * (E + M)) + q[0] / M
    return [(E * q[0] + pq) / M] + [q[1 + i] + f * p[i] for i in range(3)]


def unit(v):
    n = mp.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def dot(a, b):
    return sum(x * y for x, y in zip(a, b, strict=True))


def frame(P, q):
    z = unit(to_rest(q, P)[1:])
    pn = mp.sqrt(dot(P[1:], P[1:]))
    n = [mp.mpf(0), mp.mpf(0), mp.mpf(1)] if pn == 0 else [x / pn for x in P[1:]]
    c = dot(n, z)
    x = [n[i] - c * z[i] for i in range(3)]
    if mp.sqrt(dot(x, x)) < mp.mpf("1e-12"):
        a = [abs(t) for t in z]
        k = 0 if a[0] <= a[1] and a[0] <= a[2] else (1 if a[1] <= a[2] else 2)
        e = [mp.mpf(int(i == k)) for i in range(3)]
        x = [e[i] - dot(e, z) * z[i] for i in range(3)]
    x = unit(x)
    y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]]
    return x, y, z, c


def decay(P, m1, m2, axes, u):
    x, y, z = axes
    d = unit([u[0] * x[i] + u[1] * y[i] + u[2] * z[i] for i in range(3)])
    M = mp.sqrt(P[0] ** 2 - dot(P[1:], P[1:]))
    p = mp.sqrt((M**2 - (m1 + m2) ** 2) * (M**2 - (m1 - m2) ** 2)) / (2 * M)
    h1 = from_rest([mp.sqrt(m1**2 + p**2)] + [p * t for t in d], P)
    h2 = from_rest([mp.sqrt(m2**2 + p**2)] + [-p * t for t in d], P)
    return h1, h2


def case(name, P, q, m1, m2, u):
    P = [mp.mpf(v) for v in P]
    q = [mp.mpf(v) for v in q]
    m1, m2 = mp.mpf(m1), mp.mpf(m2)
    u = [mp.mpf(v) for v in u]
    x, y, z, c = frame(P, q)
    h1, h2 = decay(P, m1, m2, (x, y, z), u)
    f = lambda v: [float(t) for t in v]  # noqa: E731
    return {"name": name, "cluster": f(P), "constituent1": f(q), "m1": float(m1), "m2": float(m2),
            "u": f(u), "axes": [f(x), f(y), f(z)], "cos_alpha": float(c), "h1": f(h1), "h2": f(h2)}


def on_shell(m, p):
    return [float(mp.sqrt(mp.mpf(m) ** 2 + sum(mp.mpf(t) ** 2 for t in p))), *list(p)]


def main() -> None:
    rng = random.Random(20261202)
    cases = [
        case("at rest", [2.0, 0, 0, 0], on_shell(0.33, [0.3, 0.4, 0.5]), 0.14, 0.14, [0.2, -0.5, 0.7]),
        case("at rest, constituent along z", [2.0, 0, 0, 0], on_shell(0.33, [0, 0, 0.9]), 0.14, 0.5, [1, 1, 1]),
        case("constituent along the flight", [12.0, 3.0, 4.0, 5.0], on_shell(0.33, [2.4, 3.2, 4.0]), 0.14, 0.14,
             [0.0, 0.3, -0.2]),
        case("constituent against the flight", [12.0, 0.0, 0.0, -9.0], on_shell(0.33, [0.0, 0.0, 0.4]), 0.14,
             0.14, [0.6, 0.0, 0.1]),
        case("gamma 1e3", [1000.0, 0.0, 999.99949, 0.0], on_shell(0.33, [0.1, 520.0, 0.3]), 0.14, 0.14,
             [0.1, 0.9, -0.4]),
        case("near threshold", [0.2800001, 0.0, 0.0, 0.0001], on_shell(0.0, [0.0, 0.1, 0.1]), 0.14, 0.14,
             [-1, 0.2, 0.3]),
    ]
    for i in range(24):
        M = rng.uniform(0.6, 6.0)
        p = [rng.gauss(0, 15) for _ in range(3)]
        P = on_shell(M, p)
        # constituent 1 in the rest frame: random direction, momentum below M/2; then to the lab
        mq = rng.choice([0.0, 0.33, 0.5])
        kq = rng.uniform(0.05, 0.45) * M
        dq = unit([mp.mpf(rng.gauss(0, 1)) for _ in range(3)])
        qr = [mp.sqrt(mp.mpf(mq) ** 2 + kq**2)] + [kq * t for t in dq]
        q = [float(t) for t in from_rest(qr, [mp.mpf(t) for t in P])]
        u = [rng.gauss(0, 1) for _ in range(3)]
        cases.append(case(f"random {i}", P, q, 0.1349776, 0.13957018, u))
    OUT.write_text(json.dumps({"generator": "tests/vectors/generate_frame.py", "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
