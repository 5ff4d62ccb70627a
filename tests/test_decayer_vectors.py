"""tests/vectors/decayer.json against checks written without the pipeline that generated it.

generate_decayer.py takes its expectations from hadml's own Python pipeline, and the decayer tests
compare C++ and Python with that file: a bug shared by the pipeline and the file would pass them.
Here each expected decay is checked with 50-digit mpmath and nothing from hadml: the hadrons have
the masses m1 and m2, they add up to the cluster, and in the cluster rest frame (reached by a
boost written below) the hadron that the flip puts first moves along the expected (theta, phi),
which in turn are the network output mapped by the metadata's offset and scale.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import mpmath as mp
import pytest

VECTORS = Path(__file__).with_name("vectors") / "decayer.json"
EPS = mp.mpf(2) ** -52  # machine epsilon of a double
DPS = 50


@pytest.fixture(scope="module")
def vec():
    return json.loads(VECTORS.read_text())


def to_rest(k, frame):
    """Textbook pure boost of k into the rest frame of ``frame`` (both (E, px, py, pz))."""
    E, px, py, pz = frame
    M = mp.sqrt(E**2 - px**2 - py**2 - pz**2)
    e, kx, ky, kz = k
    pk = px * kx + py * ky + pz * kz
    f = pk / (M * (E + M)) - e / M
    return [(E * e - pk) / M, kx + f * px, ky + f * py, kz + f * pz]


def first_by_convention(q):
    """hadml-1: the first hadron has rest-frame p_x > 0 (ties: p_y > 0, then p_z >= 0)."""
    x, y, z = q[1:]
    return x > 0 if x != 0 else (y > 0 if y != 0 else z >= 0)


def violations(vec) -> list[str]:
    """Every way in which the expected decays of ``vec`` break the checks; empty if none.

    Tolerances: the expected hadrons are doubles computed from the cluster, so their components
    carry a few eps of the cluster energy E (the pipeline's own bound; measured: below 2 eps E).
    Hence h1 + h2 - cluster within 4 eps E per component (measured 1.8 eps E); a mass squared
    E_h^2 - p_h^2 moves by at most 2 (E_h + |p_h|) times that, so |m(h)^2 - m^2| within
    8 eps E E_h (measured 2.6); the rest-frame direction, from components known to a few eps E,
    within 16 eps E / p* (measured 4.2). theta and phi are offset + scale * t in double: within
    2 eps pi."""
    md = vec["metadata"]
    offset = [mp.mpf(x) for x in json.loads(md["hadml.output_offset"])]
    scale = [mp.mpf(x) for x in json.loads(md["hadml.output_scale"])]
    ex = vec["expected"]
    bad = []
    with mp.workdps(DPS):
        for i, cl in enumerate(vec["clusters"]):
            c = [mp.mpf(x) for x in cl]
            h1, h2 = ([mp.mpf(x) for x in ex[key][i]] for key in ("h1", "h2"))
            for h, m, name in ((h1, vec["m1"][i], "h1"), (h2, vec["m2"][i], "h2")):
                m2 = h[0] ** 2 - h[1] ** 2 - h[2] ** 2 - h[3] ** 2
                if not abs(m2 - mp.mpf(m) ** 2) <= 8 * EPS * c[0] * h[0]:
                    bad.append(f"row {i}: mass of {name} is {mp.nstr(mp.sqrt(abs(m2)), 17)}, not {m}")
            if not max(abs(a + b - x) for a, b, x in zip(h1, h2, c, strict=True)) <= 4 * EPS * c[0]:
                bad.append(f"row {i}: h1 + h2 != cluster")
            theta, phi = mp.mpf(ex["theta"][i]), mp.mpf(ex["phi"][i])
            t = [mp.mpf(x) for x in vec["network_output"][i]]
            if not (
                abs(theta - (offset[0] + scale[0] * t[0])) <= 2 * EPS * mp.pi
                and abs(phi - (offset[1] + scale[1] * t[1])) <= 2 * EPS * mp.pi
            ):
                bad.append(f"row {i}: (theta, phi) is not the network output mapped by the metadata")
            # flip < 0.5: the m2 hadron (h2) is the one sent along (theta, phi), else h1
            along, other = (h2, h1) if vec["flip"][i] < 0.5 else (h1, h2)
            q = to_rest(along, c)
            p = mp.sqrt(q[1] ** 2 + q[2] ** 2 + q[3] ** 2)
            u = [mp.sin(theta) * mp.cos(phi), mp.sin(theta) * mp.sin(phi), mp.cos(theta)]
            if not max(abs(q[j + 1] / p - u[j]) for j in range(3)) <= 16 * EPS * c[0] / p:
                bad.append(f"row {i}: rest-frame direction of the first hadron is not (theta, phi)")
            if not first_by_convention(q) or first_by_convention(to_rest(other, c)):
                bad.append(f"row {i}: the hadron along (theta, phi) is not the first by the convention")
    return bad


def test_expected_decays_pass_independent_checks(vec):
    assert len(vec["clusters"]) > 50
    assert violations(vec) == []


def test_independent_checks_catch_broken_vectors(vec):
    """Each check fails when the vectors are broken in the way it looks for (copies in memory)."""
    rows = [i for i, (a, b) in enumerate(zip(vec["m1"], vec["m2"], strict=True)) if a == b]
    i = rows[3]

    def broken(edit):
        v = copy.deepcopy(vec)
        edit(v["expected"], v)
        return violations(v)

    def energy(ex, v):
        ex["h1"][i][0] *= 1 + 1e-9

    found = broken(energy)
    assert any(b.startswith(f"row {i}: mass of h1 is ") for b in found), found
    assert f"row {i}: h1 + h2 != cluster" in found

    def swap(ex, v):  # equal masses: conservation and masses still hold, the angle does not
        ex["h1"][i], ex["h2"][i] = ex["h2"][i], ex["h1"][i]

    assert broken(swap) == [
        f"row {i}: rest-frame direction of the first hadron is not (theta, phi)",
        f"row {i}: the hadron along (theta, phi) is not the first by the convention",
    ]

    def theta(ex, v):
        ex["theta"][i] += 1e-9

    assert broken(theta) == [
        f"row {i}: (theta, phi) is not the network output mapped by the metadata",
        f"row {i}: rest-frame direction of the first hadron is not (theta, phi)",
    ]

    def flip(ex, v):
        v["flip"][i] = 0.9 if v["flip"][i] < 0.5 else 0.1

    assert f"row {i}: rest-frame direction of the first hadron is not (theta, phi)" in broken(flip)
