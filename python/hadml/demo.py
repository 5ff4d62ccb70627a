"""``hadml demo``: the main job end to end on an embedded default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from . import kinematics as K
from . import native as N


def run_demo(out: Path, console: Console) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    n = 100_000
    M = rng.uniform(0.3, 5.0, n)
    gamma = rng.uniform(1.0, 50.0, n)
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    p = M * np.sqrt(gamma**2 - 1)
    clusters = np.column_stack([M * gamma, p[:, None] * u])
    m1 = np.full(n, 0.1349776)
    m2 = np.full(n, 0.13957018)
    theta = np.arccos(rng.uniform(-1, 1, n))
    phi = rng.uniform(-np.pi / 2, np.pi / 2, n)
    h1c, h2c = N.two_body_decay(clusters, m1, m2, theta, phi)
    h1p, h2p = K.two_body_decay(clusters, m1, m2, theta, phi)
    diff = max(np.abs(h1c - h1p).max(), np.abs(h2c - h2p).max()) / clusters[:, 0].max()
    cons = np.abs(h1c + h2c - clusters).max(axis=1) / clusters[:, 0]
    console.print(f"decayed {n} random clusters with the C++ core and the numpy twin")
    console.print(f"  C++ vs numpy: max |diff| / E = {diff:.2e}")
    console.print(f"  four-momentum conservation: max |sum - cluster| / E = {cons.max():.2e}")
