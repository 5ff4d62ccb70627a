"""Issue 15: the C++ decayer's hadml-2 (format 2) path against python/hadml/ml/hadml2.py.

A tiny hadml-2 model (one linear layer on [conditions, noise]) is exported here; the C++
conditions, decays, statuses, domain and metadata validation are checked against the Python
specification (hadml.ml.hadml2) and onnxruntime run from Python."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper
from torch import nn

import hadml
from hadml import DecayStatus, ModelError
from hadml.kinematics import mass2, recover_frame_direction, two_body_decay
from hadml.ml import hadml2
from hadml.ml.hadml2 import Domain, MetadataError, Scaler

K = 4  # noise_dim
DOMAIN = Domain([0], [111, 211], (0.3, 5.0))
PION, PI0, KAON = 0.13957, 0.13498, 0.49368


class Linear2(nn.Module):
    def __init__(self, k: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(9 + k, 3))

    def forward(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([c, z], dim=1))


def sample(n: int, seed: int):
    """Clusters with constituents (0.325 GeV quarks, decayed isotropically) and hadron masses."""
    rng = np.random.default_rng(seed)
    M = rng.uniform(1.0, 4.5, n)
    d = rng.normal(size=(n, 3))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    p = rng.exponential(5.0, n)[:, None] * d
    p[0] = 0.0  # one cluster at rest (the frame's fallback x*)
    c = np.column_stack([np.sqrt(M**2 + np.sum(p**2, axis=1)), p])
    q1, _ = two_body_decay(c, np.full(n, 0.325), np.full(n, 0.325),
                           np.arccos(rng.uniform(-1, 1, n)), rng.uniform(-np.pi, np.pi, n))
    pid = rng.choice([1, -2, 3, -4, 5, 2101, -3203], size=(n, 2)).astype(np.int32)
    pert = rng.integers(0, 2, size=(n, 2)).astype(np.uint8)
    m1 = rng.choice([PION, PI0, KAON], n)
    m2 = rng.choice([PION, PI0, KAON], n)
    return c, q1, pid, pert, m1, m2


def py_conditions(scaler: Scaler, c, q1, pid, pert, m1, m2) -> np.ndarray:
    raw = hadml2.raw_conditions(c, q1, pert, pid, np.column_stack([m1, m2]))
    return scaler.transform(raw).astype(np.float32)


def export(path: Path, md: dict[str, str], k: int = K) -> Path:
    torch.manual_seed(3)
    G = Linear2(k).eval()
    batch = torch.export.Dim("batch")
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(G, (torch.zeros(4, 9), torch.zeros(4, k)),
                                 input_names=[hadml2.INPUT_CONDITIONS, hadml2.INPUT_NOISE],
                                 output_names=[hadml2.OUTPUT], dynamic_shapes=({0: batch}, {0: batch}),
                                 dynamo=True, verbose=False)
    quiet.setLevel(level)
    assert prog is not None
    model = prog.model_proto
    set_metadata(model, md)
    onnx.save(model, str(path))
    return path


def set_metadata(model: onnx.ModelProto, md: dict[str, str]) -> None:
    del model.metadata_props[:]
    for key, value in md.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("hadml2")
    data = sample(2000, 1)
    raw = hadml2.raw_conditions(data[0], data[1], data[3], data[2], np.column_stack(data[4:]))
    scaler = Scaler.fit(raw)
    md = hadml2.make_metadata(scaler, K, "0", "test", DOMAIN)
    path = export(d / "g2.onnx", md)
    return path, md, scaler, d


def variant(model, name: str, md: dict[str, str] | None = None, weights: float | None = None) -> Path:
    """A copy of the fixture's model with other metadata and/or every weight set to `weights`."""
    path, base, _, d = model
    m = onnx.load(str(path))
    set_metadata(m, base if md is None else md)
    if weights is not None:
        for init in m.graph.initializer:
            a = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(np.full_like(a, weights), init.name))
    out = d / f"{name}.onnx"
    onnx.save(m, str(out))
    return out


def test_loads_as_format_2(model):
    dec = hadml.Decayer(model[0])
    assert dec.format_version == 2
    assert dec.noise_dim == K
    assert dec._d.n_conditions == 9
    assert dec.metadata["hadml.angle_convention"] == "hadml-2"


def test_preprocess2_matches_python(model):
    path, _, scaler, _ = model
    data = sample(500, 2)
    cpp = hadml.Decayer(path).preprocess2(*data)
    py = py_conditions(scaler, *data)
    assert cpp.dtype == np.float32 and cpp.shape == (500, 9)
    # the same double formulas, rounded once to float: at most float32 rounding apart
    np.testing.assert_allclose(cpp, py, rtol=0, atol=3e-7)


def test_conditions_beyond_the_training_range_are_held_at_its_edge(model):
    """A cluster with three times the largest training momentum decays as one at the edge: the
    network is not asked to extrapolate (the 91.2 GeV model at 192 GeV). Both readers clip."""
    path, _, scaler, _ = model
    p_edge = np.expm1(scaler.maximum[1])
    n = np.array([0.48, -0.6, 0.64])
    M = np.array([2.0, 2.0])
    p = np.array([p_edge, 3.0 * p_edge])[:, None] * n
    c = np.column_stack([np.sqrt(M**2 + np.sum(p**2, axis=1)), p])
    # the same constituent direction in the rest frame (lab-parallel axes), so the same cos alpha
    q1, _ = two_body_decay(c, np.full(2, 0.325), np.full(2, 0.325), np.full(2, 1.1), np.full(2, 0.4))
    pid = np.array([[1, -2], [1, -2]], dtype=np.int32)
    pert = np.array([[1, 0], [1, 0]], dtype=np.uint8)
    m1 = m2 = np.full(2, PION)
    dec = hadml.Decayer(path)
    cond = dec.preprocess2(c, q1, pid, pert, m1, m2)
    assert scaler.transform(hadml2.raw_conditions(c, q1, pert, pid, np.column_stack([m1, m2])))[1, 1] == 1.0
    assert cond[1, 1] == np.float32(1.0)  # clipped: unclipped it is ~1.57
    np.testing.assert_allclose(cond[1], cond[0], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(cond, py_conditions(scaler, c, q1, pid, pert, m1, m2))
    z = np.tile(np.random.default_rng(4).standard_normal((1, K), dtype=np.float32), (2, 1))
    _, _, u, status = dec.decay2(c, q1, pid, pert, m1, m2, noise=z)
    assert np.all(status == DecayStatus.OK)
    np.testing.assert_allclose(u[1], u[0], atol=1e-5)


def test_preprocess2_refuses_a_gluon(model):
    data = list(sample(3, 2))
    data[2][1, 0] = 21
    with pytest.raises(ValueError, match="21"):
        hadml.Decayer(model[0]).preprocess2(*data)


def test_decay2_physics_and_direction(model):
    path, _, scaler, _ = model
    c, q1, pid, pert, m1, m2 = data = sample(1000, 3)
    z = np.random.default_rng(4).standard_normal((len(c), K), dtype=np.float32)
    h1, h2, u, status = hadml.Decayer(path).decay2(*data, noise=z)
    assert np.all(status == DecayStatus.OK)
    # four-momentum conservation, on-shell hadrons (hadron 1 has m1)
    assert np.max(np.abs(h1 + h2 - c) / c[:, :1]) < 1e-9
    np.testing.assert_allclose(np.sqrt(mass2(h1)), m1, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(mass2(h2)), m2, rtol=1e-6)
    # the direction: the network run by onnxruntime from Python, mapped by hadml2
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    v = sess.run([hadml2.OUTPUT], {hadml2.INPUT_CONDITIONS: py_conditions(scaler, *data),
                                   hadml2.INPUT_NOISE: z})[0]
    expected = hadml2.direction_from_output(v.astype(np.float64))
    recovered = recover_frame_direction(c, q1, h1, h2)
    np.testing.assert_allclose(recovered, expected, atol=1e-5)
    np.testing.assert_allclose(u, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(u, axis=1), 1.0, atol=1e-12)
    # the targets the training uses are this recovered direction
    np.testing.assert_allclose(hadml2.targets(c, q1, h1, h2), recovered)


def test_decay2_draws_noise_reproducibly(model):
    dec = hadml.Decayer(model[0])
    data = sample(20, 5)
    a = dec.decay2(*data, rng=7)
    b = dec.decay2(*data, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    assert np.all(a[3] == DecayStatus.OK)


def test_decay2_statuses(model):
    dec = hadml.Decayer(model[0])
    c, q1, pid, pert, m1, m2 = (np.array(x) for x in sample(8, 6))
    z = np.random.default_rng(8).standard_normal((8, K), dtype=np.float32)
    c[1, 2] = np.nan                       # NaN cluster
    c[2] = [0.25, 0.0, 0.0, 0.0]           # M = 0.25 < m1 + m2
    m1[2] = m2[2] = PION
    pid[3, 1] = 21                         # a gluon constituent: no flavour class
    q1[4, 0] = -1.0                        # constituent 1 with negative energy
    c[5] = [1.0, 0.0, 0.0, 2.0]            # space-like cluster
    h1, h2, u, status = dec.decay2(c, q1, pid, pert, m1, m2, noise=z)
    assert list(status) == [DecayStatus.OK, DecayStatus.INVALID_INPUT, DecayStatus.BELOW_THRESHOLD,
                            DecayStatus.INVALID_INPUT, DecayStatus.INVALID_INPUT, DecayStatus.INVALID_INPUT,
                            DecayStatus.OK, DecayStatus.OK]
    bad = status != DecayStatus.OK
    assert np.all(np.isnan(h1[bad])) and np.all(np.isnan(h2[bad])) and np.all(np.isnan(u[bad]))
    # the valid rows decay exactly as they do alone (the batch is compacted for one run)
    ok = ~bad
    alone = dec.decay2(c[ok], q1[ok], pid[ok], pert[ok], m1[ok], m2[ok], noise=z[ok])
    np.testing.assert_array_equal(h1[ok], alone[0])
    np.testing.assert_array_equal(u[ok], alone[2])


@pytest.mark.parametrize("value", [0.0, float("nan")])
def test_decay2_invalid_output(model, value):
    """A zero or NaN network output has no direction: invalid_output, NaN hadrons."""
    dec = hadml.Decayer(variant(model, f"w{value}", weights=value))
    h1, h2, u, status = dec.decay2(*sample(5, 9), rng=1)
    assert np.all(status == DecayStatus.INVALID_OUTPUT)
    assert np.all(np.isnan(h1)) and np.all(np.isnan(h2)) and np.all(np.isnan(u))


def test_in_domain(model):
    dec = hadml.Decayer(model[0])
    cases = [
        ((1, -2, 211, -211, 1.0), True),
        ((2, -1, 111, 111, 0.3), True),     # the mass range is closed
        ((2, -1, 211, -211, 5.0), True),
        ((2, -1, 211, -211, 5.01), False),
        ((2, -1, 211, -211, 0.29), False),
        ((3, -2, 211, -211, 1.0), False),   # an s quark
        ((1, 2101, 211, -211, 1.0), False),  # a diquark
        ((1, -2, 321, -211, 1.0), False),   # a kaon
        ((1, -2, 211, 321, 1.0), False),
        ((21, -2, 211, -211, 1.0), False),  # a gluon: no flavour class
    ]
    for args, want in cases:
        assert dec.in_domain(*args) is want, args
        if args[0] != 21:
            py = DOMAIN.contains(np.array([args[:2]]), np.array([args[2:4]]), np.array([args[4]]))
            assert bool(py[0]) is want, args


def check_both_refuse(model, md: dict[str, str], key: str, name: str) -> None:
    with pytest.raises(MetadataError, match=re.escape(f"'{key}'")):
        hadml2.parse_metadata(md)
    with pytest.raises(ModelError, match=re.escape(f"'{key}'")):
        hadml.Decayer(variant(model, name, md))


@pytest.mark.parametrize("key", list(hadml2.SCHEMA))
def test_metadata_missing_key(model, key):
    md = dict(model[1])
    del md[key]
    check_both_refuse(model, md, key, f"missing_{key}")


@pytest.mark.parametrize("key", list(hadml2.SCHEMA))
def test_metadata_tampered_key(model, key):
    md = dict(model[1])
    md[key] = "x"
    if hadml2.SCHEMA[key] == "text":  # any string is valid: both accept it
        assert hadml2.parse_metadata(md).raw[key] == "x"
        assert hadml.Decayer(variant(model, f"x_{key}", md)).metadata[key] == "x"
        return
    check_both_refuse(model, md, key, f"x_{key}")


@pytest.mark.parametrize("key,value", [
    ("hadml.noise_dim", "0"),
    ("hadml.noise_dim", "-3"),
    ("hadml.conditions", json.dumps(hadml2.CONDITIONS[::-1])),
    ("hadml.condition_min", json.dumps([0.0] * 8)),
    ("hadml.condition_min", "[0, 0, 0, 0, 0, 0, 0, 0, NaN]"),
    ("hadml.condition_max", json.dumps([-5.0] * 9)),  # not above the minimum
    ("hadml.output_names", json.dumps(["theta", "phi"])),
    ("hadml.domain_flavours", "[]"),
    ("hadml.domain_flavours", "[5]"),
    ("hadml.domain_flavours", "[1.5]"),
    ("hadml.domain_hadrons", "[-211]"),
    ("hadml.domain_hadrons", '["pi"]'),
    ("hadml.domain_mass", "[5.0, 1.0]"),
    ("hadml.domain_mass", "[1.0]"),
    ("hadml.input_noise", "z"),
    ("hadml.output", "angles"),
])
def test_metadata_bad_values(model, key, value):
    md = dict(model[1])
    md[key] = value
    check_both_refuse(model, md, key, f"bad_{key}_{abs(hash(value))}")


def test_format_1_still_loads_through_the_old_path(tmp_path):
    from hadml.ml.export import export_generator
    from hadml.ml.features import make_metadata, parse_metadata
    from hadml.ml.models import Generator

    vec = json.loads((Path(__file__).with_name("vectors") / "decayer.json").read_text())
    info = parse_metadata(dict(vec["metadata"]))
    info.scaler.minimum, info.scaler.maximum = info.scaler.minimum[:4], info.scaler.maximum[:4]
    md = make_metadata(info.names[:4], info.scaler, 10, "test", "test")
    torch.manual_seed(0)
    path = export_generator(Generator(4, 10, 64, 2).eval(), tmp_path / "g1.onnx", md, 4, 10)
    dec = hadml.Decayer(path)
    assert dec.format_version == 1
    c = np.array(vec["clusters"])
    h1, h2, theta, phi, status = dec.decay(c, vec["m1"], vec["m2"], rng=1)
    assert np.all(status == DecayStatus.OK)
    np.testing.assert_allclose(h1 + h2, c, rtol=1e-12, atol=1e-12)
    n = len(c)
    args = (c, c, np.ones((n, 2), np.int32), np.zeros((n, 2), np.uint8), vec["m1"], vec["m2"])
    with pytest.raises(ModelError, match="format"):
        dec.decay2(*args)
    with pytest.raises(ModelError, match="format"):
        dec.preprocess2(*args)


def test_format_2_refuses_the_format_1_calls(model):
    dec = hadml.Decayer(model[0])
    c = sample(3, 1)[0]
    with pytest.raises(ModelError, match="format"):
        dec.decay(c, PION, PION, rng=1)
    with pytest.raises(ModelError, match="format"):
        dec.preprocess(c)
    # the bare network gives the direction's three components
    out = dec.network(np.zeros((3, 9), np.float32), np.zeros((3, K), np.float32))
    assert out.shape == (3, 3)


def test_format_version_unknown_is_named(model):
    md = dict(model[1])
    md["hadml.format_version"] = "3"
    with pytest.raises(ModelError, match=re.escape("'hadml.format_version'")):
        hadml.Decayer(variant(model, "fv3", md))


def test_shipped_models_load_and_the_stress_fit_moved_towards_clsmr0():
    """Every model in models/ has a card and valid format-2 metadata and decays in the C++
    decayer conserving four-momentum. The ClSmrLight 0 stress fit (trained on hadrons only) sends
    hadron 1 closer along a perturbative constituent 1 than the nominal model does (Herwig:
    <cos theta*> 1 with ClSmrLight 0, ~0.6 with 0.78), and leaves clusters without one about as
    isotropic as before."""
    from hadml.data.gun import ClusterGun, GunConfig
    from hadml.data.table import hadron_mass

    root = Path(__file__).resolve().parents[1] / "models"
    shipped = sorted(p for p in root.glob("hadml_*.onnx"))
    assert {p.name for p in shipped} >= {"hadml_lep91_nominal.onnx", "hadml_lep91_clsmr0.onnx"}
    t = ClusterGun(GunConfig(parton_fraction=1.0)).sample(3000, seed=4)
    light = (np.abs(t.parton_pid) <= 2).all(1)
    t = t.select_events(np.add.reduceat(~light, np.r_[0, np.cumsum(t.counts)[:-1]]) == 0)
    pert = np.zeros((t.n_clusters, 2), np.uint8)
    pert[::2, 0] = 1
    m = hadron_mass(t.hadron_pid)
    mean_cos = {}
    for p in shipped:
        assert p.with_suffix(".md").is_file(), f"{p.name} has no model card"
        d = hadml.Decayer(str(p))
        hadml2.parse_metadata(d.metadata, p.name)
        h1, h2, u, status = d.decay2(t.cluster, t.parton[:, 0], t.parton_pid, pert, m[:, 0], m[:, 1], rng=5)
        ok = status == 0
        assert ok.mean() > 0.9, p.name
        np.testing.assert_allclose((h1 + h2)[ok], t.cluster[ok], atol=1e-9 * 45.6)
        mean_cos[p.stem] = (u[ok & (pert[:, 0] == 1), 2].mean(), u[ok & (pert[:, 0] == 0), 2].mean())
    nominal, clsmr0 = mean_cos["hadml_lep91_nominal"], mean_cos["hadml_lep91_clsmr0"]
    assert clsmr0[0] > nominal[0] + 0.1 and clsmr0[0] > 0.8, mean_cos
    assert abs(clsmr0[1] - nominal[1]) < 0.1, mean_cos


def test_benchmark2_times_the_decay_and_the_bare_network():
    """benchmarks/decayer_throughput.py's format-2 path: both rates and the 20 interleaved rounds'
    ratios come back positive for the shipped model, and a batch larger than the sample is refused."""
    from hadml.data.gun import ClusterGun, GunConfig
    from hadml.data.table import hadron_mass

    model = Path(__file__).resolve().parents[1] / "models" / "hadml_lep91_nominal.onnx"
    t = ClusterGun(GunConfig(labelled=True)).sample(50, seed=2)
    m = hadron_mass(t.hadron_pid)
    d = hadml.Decayer(str(model))
    r = d.benchmark2(t.cluster, t.parton[:, 0], t.parton_pid, t.perturbative, m[:, 0], m[:, 1], 8, 0.01)
    assert r["batch"] == 8 and r["decay_per_s"] > 0 and r["bare_per_s"] > 0
    assert len(r["ratios"]) == 20 and all(x > 0 for x in r["ratios"])
    with pytest.raises(ValueError, match=r"batch must be in \[1, len\(clusters\)\]"):
        d.benchmark2(t.cluster, t.parton[:, 0], t.parton_pid, t.perturbative, m[:, 0], m[:, 1], t.n_clusters + 1)
