"""Every public kinematics function rejects bad input with a clear error, in all three twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import hadml.kinematics as K
import hadml.kinematics_torch as T
from hadml import KinematicsError
from hadml import native as N

GOOD = np.array([[5.0, 1.0, 2.0, 3.0]])
H = K.two_body_decay(GOOD, 0.14, 0.14, 1.0, 0.2)


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


DECAYS = {
    "cpp": N.two_body_decay,
    "numpy": K.two_body_decay,
    "torch": lambda c, m1, m2, th, ph: T.two_body_decay(t(c), t(m1), t(m2), t(th), t(ph)),
}
RECOVERS = {
    "cpp": N.recover_angles,
    "numpy": K.recover_angles,
    "torch": lambda c, a, b: T.recover_angles(t(c), t(a), t(b)),
}

BAD_DECAYS = {
    "nan cluster": ([[math.nan, 1, 2, 3]], [0.14], [0.14], [1.0], [0.2], "non-finite"),
    "inf cluster": ([[math.inf, 1, 2, 3]], [0.14], [0.14], [1.0], [0.2], "non-finite"),
    "space-like cluster": ([[1.0, 1, 2, 3]], [0.14], [0.14], [1.0], [0.2], "space-like"),
    "below threshold": ([[5.0, 4.999, 0, 0]], [0.14], [0.14], [1.0], [0.2], "threshold"),
    "negative mass": ([[5.0, 1, 2, 3]], [-0.14], [0.14], [1.0], [0.2], "negative"),
    "nan angle": ([[5.0, 1, 2, 3]], [0.14], [0.14], [math.nan], [0.2], "non-finite"),
    "nan mass": ([[5.0, 1, 2, 3]], [math.nan], [0.14], [1.0], [0.2], "non-finite"),
}


@pytest.mark.parametrize("impl", DECAYS)
@pytest.mark.parametrize("case", BAD_DECAYS)
def test_decay_rejects(impl, case):
    *args, match = BAD_DECAYS[case]
    with pytest.raises(KinematicsError, match=match):
        DECAYS[impl](*(np.asarray(a, dtype=np.float64) for a in args))


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_wrong_shapes(impl):
    with pytest.raises(KinematicsError, match="shape"):
        DECAYS[impl](np.ones((2, 3)), 0.1, 0.1, 0.0, 0.0)
    with pytest.raises(KinematicsError, match="shape"):
        RECOVERS[impl](GOOD, H[0][:, :3], H[1])


def test_cpp_error_names_the_row():
    clusters = np.array([[5.0, 1, 2, 3], [5.0, 1, 2, 3], [0.1, 0, 0, 0]])
    with pytest.raises(KinematicsError, match="row 2"):
        N.two_body_decay(clusters, 0.14, 0.14, 0.1, 0.1)


def test_numpy_error_names_the_row():
    clusters = np.array([[5.0, 1, 2, 3], [5.0, 1, 2, 3], [0.1, 0, 0, 0]])
    with pytest.raises(KinematicsError, match=r"rows \[2\]"):
        K.two_body_decay(clusters, 0.14, 0.14, 0.1, 0.1)


@pytest.mark.parametrize("impl", RECOVERS)
def test_recover_rejects(impl):
    bad = H[0].copy()
    bad[0, 1] = math.nan
    with pytest.raises(KinematicsError, match="non-finite"):
        RECOVERS[impl](GOOD, bad, H[1])
    if impl != "torch":  # the torch twin is the training kernel: it checks finiteness only
        at_rest = np.array([[0.14, 0.0, 0.0, 0.0]])
        with pytest.raises(KinematicsError, match="rest"):
            RECOVERS[impl](np.array([[0.28, 0, 0, 0]]), at_rest, at_rest)


@pytest.mark.parametrize("impl", ["cpp", "numpy"])
def test_boost_and_momentum_reject(impl):
    boost = N.boost if impl == "cpp" else K.boost
    with pytest.raises(KinematicsError):
        boost(GOOD, np.array([[1.0, 2.0, 0, 0]]), True)
    with pytest.raises(KinematicsError):
        boost(np.array([[math.nan, 0, 0, 0]]), GOOD, False)
    mom = N.two_body_momentum if impl == "cpp" else K.two_body_momentum
    with pytest.raises(KinematicsError, match="threshold"):
        mom(0.2, 0.14, 0.14)
    assert mom(0.28, 0.14, 0.14) == 0.0


@pytest.fixture(scope="module")
def nan_model(tmp_path_factory):
    """A generator whose every output is NaN (its last bias is NaN)."""
    from hadml.ml.export import export_generator
    from hadml.ml.features import CLUSTER_FEATURES, Scaler, make_metadata
    from hadml.ml.models import Generator

    md = make_metadata(CLUSTER_FEATURES, Scaler(np.full(4, -50.0), np.full(4, 50.0)), 10, "test", "nan model")
    G = Generator(4, 10, 16, 2).eval()
    with torch.no_grad():
        G.net[-2].bias.fill_(float("nan"))
    return export_generator(G, tmp_path_factory.mktemp("nan") / "nan.onnx", md, 4, 10)


@pytest.mark.parametrize("with_bad_row", [False, True])
def test_non_finite_network_output_is_a_status(nan_model, with_bad_row):
    """Non-finite network output marks each row INVALID_OUTPUT (NaN results) instead of failing the
    batch, in the all-valid and in the compacted path; other rows keep their own status."""
    from hadml import Decayer, DecayStatus

    clusters = np.array([[5.0, 1, 2, 3], [3.0, 0.5, 0, 1], [0.3, 0.25, 0, 0]])
    n = 3 if with_bad_row else 2
    h1, h2, theta, phi, status = Decayer(nan_model).decay(clusters[:n], [0.14] * n, [0.14] * n, rng=1)
    assert list(status[:2]) == [DecayStatus.INVALID_OUTPUT] * 2
    if with_bad_row:
        assert status[2] == DecayStatus.BELOW_THRESHOLD
    assert np.isnan(h1).all() and np.isnan(h2).all() and np.isnan(theta).all()
