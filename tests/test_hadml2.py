"""hadml-2 (issue 15): conditions, targets and the format-2 metadata schema (Python reader; the
C++ reader is held to the same SCHEMA in tests/test_decayer_hadml2.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hadml.data.gun import ClusterGun, GunConfig
from hadml.data.reference import DecayParams, decay_table
from hadml.data.table import hadron_mass
from hadml.ml import hadml2 as H
from hadml.ml.train2 import arrays


def _labelled(n_events: int = 400, seed: int = 3, smear: float = 0.2):
    t = ClusterGun(GunConfig(parton_fraction=1.0)).sample(n_events, seed)
    pert = np.zeros((t.n_clusters, 2), bool)
    pert[:, 0] = np.random.default_rng(seed).random(t.n_clusters) < 0.5
    d = decay_table(t, DecayParams(ClSmrLight=smear), seed + 1, perturbative=pert)
    d.perturbative = pert
    return d


def _metadata() -> dict[str, str]:
    sc = H.Scaler.fit(np.random.default_rng(0).random((50, len(H.CONDITIONS))))
    return H.make_metadata(sc, 4, "0", "test", H.Domain([0], [111, 211], (0.3, 5.0)))


def test_flavour_classes() -> None:
    assert H.flavour_class(np.array([1, -2, 3, -4, 5, 2101, -3303])).tolist() == [0, 0, 1, 2, 3, 4, 4]
    with pytest.raises(ValueError, match="21"):
        H.flavour_class(np.array([1, 21]))


def test_conditions_are_rotation_invariant() -> None:
    t = _labelled(50)
    m = hadron_mass(t.hadron_pid)
    a = H.raw_conditions(t.cluster, t.parton[:, 0], t.perturbative, t.parton_pid, m)
    c, s = np.cos(0.7), np.sin(0.7)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, c, s], [0, -s, c]])

    def rot(v: np.ndarray) -> np.ndarray:
        out = v.copy()
        out[..., 1:] = v[..., 1:] @ R.T
        return out

    b = H.raw_conditions(rot(t.cluster), rot(t.parton[:, 0]), t.perturbative, t.parton_pid, m)
    np.testing.assert_allclose(a, b, atol=1e-10)
    ua = H.targets(t.decay_frame(), t.parton[:, 0], t.hadron[:, 0], t.hadron[:, 1])
    ub = H.targets(rot(t.decay_frame()), rot(t.parton[:, 0]), rot(t.hadron[:, 0]), rot(t.hadron[:, 1]))
    np.testing.assert_allclose(ua, ub, atol=1e-9)


def test_targets_follow_the_perturbative_constituent() -> None:
    """Hadron 1 carries constituent 1's flavour and, for a perturbative constituent, goes along
    it (ClSmr 0.2: <cos theta*> = 1 - 0.2 to the truncation); otherwise isotropic."""
    t = _labelled(600)
    a = arrays(t)
    pert = t.perturbative[:, 0]
    assert a.target[pert, 2].mean() == pytest.approx(0.8, abs=0.02)
    assert abs(a.target[~pert, 2].mean()) < 0.03
    np.testing.assert_allclose(np.linalg.norm(a.target, axis=1), 1.0, atol=1e-12)


def test_output_mapping_numpy_and_torch_agree() -> None:
    import torch

    v = np.random.default_rng(1).normal(size=(20, 3))
    np.testing.assert_allclose(H.direction_from_output(torch.as_tensor(v)).numpy(), H.direction_from_output(v))
    np.testing.assert_allclose(np.linalg.norm(H.direction_from_output(v), axis=1), 1.0)


def test_metadata_round_trip_and_domain() -> None:
    info = H.parse_metadata(_metadata())
    assert info.noise_dim == 4 and info.domain.flavours == [0]
    inside = info.domain.contains(np.array([[2, -1], [3, -3]]), np.array([[211, 111], [321, 211]]), np.array([1.0, 1.0]))
    assert inside.tolist() == [True, False]


@pytest.mark.parametrize("key", list(H.SCHEMA))
def test_each_schema_key_missing_or_tampered_is_refused(key: str) -> None:
    md = _metadata()
    del md[key]
    with pytest.raises(H.MetadataError, match=f"missing metadata entry '{key}'"):
        H.parse_metadata(md)
    md = _metadata()
    md[key] = "x"
    if H.SCHEMA[key] == "text":
        H.parse_metadata(md)  # free text: any value is accepted
        return
    with pytest.raises(H.MetadataError, match=f"'{key}'"):
        H.parse_metadata(md)


def test_hadml1_model_is_refused_with_the_reason() -> None:
    md = _metadata()
    md["hadml.format_version"] = "1"
    with pytest.raises(H.MetadataError, match=r"hadml-1 model .*charge flow"):
        H.parse_metadata(md)


def test_inconsistent_ranges_are_refused() -> None:
    md = _metadata()
    md["hadml.condition_max"] = md["hadml.condition_min"]
    with pytest.raises(H.MetadataError, match="condition_max"):
        H.parse_metadata(md)
    md = _metadata()
    md["hadml.domain_mass"] = json.dumps([3.0, 1.0])
    with pytest.raises(H.MetadataError, match="domain_mass"):
        H.parse_metadata(md)
