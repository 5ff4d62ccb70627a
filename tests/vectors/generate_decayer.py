"""Write tests/vectors/decayer.json: the decayer's pre- and post-processing on fixed inputs.

Expected values come from the Python pipeline (hadml.ml.features / pipeline, numpy kinematics);
tests feed the same inputs to the C++ decayer (hadml._core) and to the current Python code, so
either side drifting from this file fails. Because the expectations come from the pipeline,
tests/test_decayer_vectors.py checks them without it (50-digit mpmath: masses, four-momentum
conservation, the angles in the cluster rest frame). Run: python tests/vectors/generate_decayer.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hadml.data.gun import ClusterGun, GunConfig
from hadml.data.table import hadron_mass
from hadml.ml.features import (
    CLUSTER_FEATURES,
    PARTON_FEATURES,
    Scaler,
    make_metadata,
    parse_metadata,
)
from hadml.ml.pipeline import postprocess, preprocess

OUT = Path(__file__).with_name("decayer.json")


def main() -> None:
    rng = np.random.default_rng(20261122)
    t = ClusterGun(GunConfig(parton_fraction=0.5)).sample(12, seed=3)
    n = t.n_clusters
    names = CLUSTER_FEATURES + PARTON_FEATURES
    scaler = Scaler(
        np.array([0.5, -45.0, -45.0, -45.0, -1, -1, -1, 0]), np.array([45.6, 45.0, 45.0, 45.0, 1, 1, 1, 1])
    )
    md = make_metadata(names, scaler, 10, "vectors", "test vectors")
    info = parse_metadata(md)
    m = hadron_mass(t.hadron_pid)
    net = rng.uniform(-0.999, 0.999, (n, 2)).astype(np.float32)
    net[0] = [0.0, 0.0]
    net[1] = [0.999999, -0.999999]
    flip = rng.random(n)
    flip[:2] = [0.0, 0.5]
    cond = preprocess(info, t.cluster, t.parton[:, 0], t.has_partons)
    theta, phi, h1, h2 = postprocess(info, net, t.cluster, m[:, 0], m[:, 1], flip)
    cases = {
        "metadata": md,
        "clusters": t.cluster.tolist(),
        "parton1": t.parton[:, 0].tolist(),
        "has_partons": t.has_partons.astype(int).tolist(),
        "m1": m[:, 0].tolist(),
        "m2": m[:, 1].tolist(),
        "network_output": net.astype(float).tolist(),
        "flip": flip.tolist(),
        "expected": {
            "conditions": cond.tolist(),
            "theta": theta.tolist(),
            "phi": phi.tolist(),
            "h1": h1.tolist(),
            "h2": h2.tolist(),
        },
    }
    OUT.write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {n} clusters to {OUT}")


if __name__ == "__main__":
    main()
