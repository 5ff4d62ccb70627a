"""Issue 5: the C++ ONNX Runtime decayer against the Python pipeline and the shared vectors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import hadml
from hadml import DecayStatus, ModelError
from hadml.decayer import available_providers
from hadml.kinematics import mass2, recover_angles, two_body_momentum
from hadml.ml.export import export_generator
from hadml.ml.features import make_metadata, parse_metadata
from hadml.ml.models import Generator
from hadml.ml.pipeline import OnnxGenerator, postprocess, preprocess

VECTORS = Path(__file__).with_name("vectors") / "decayer.json"
HAS_CUDA = "CUDAExecutionProvider" in available_providers()
needs_cuda = pytest.mark.skipif(
    not HAS_CUDA, reason="ONNX Runtime without CUDAExecutionProvider (install hadml[gpu] on a GPU machine)"
)


@pytest.fixture(scope="module")
def vec():
    return json.loads(VECTORS.read_text())


@pytest.fixture(scope="module")
def models(tmp_path_factory, vec):
    """A parton-aware and a plain generator (random weights), exported with full metadata."""
    d = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    out = {}
    for partons in (True, False):
        md = dict(vec["metadata"])
        if not partons:
            info = parse_metadata(md)
            info.scaler.minimum, info.scaler.maximum = info.scaler.minimum[:4], info.scaler.maximum[:4]
            md = make_metadata(info.names[:4], info.scaler, 10, "test", "test")
        G = Generator(8 if partons else 4, 10, 64, 2)
        # give batch norm non-trivial running statistics
        G.train()
        with torch.no_grad():
            for _ in range(5):
                G(torch.rand(256, 8 if partons else 4) * 2 - 1, torch.randn(256, 10))
        G.eval()
        path = export_generator(G, d / f"g_{partons}.onnx", md, 8 if partons else 4, 10)
        out[partons] = (path, G)
    return out


def arrays(vec):
    c = np.array(vec["clusters"])
    return (
        c,
        np.array(vec["parton1"]),
        np.array(vec["has_partons"], dtype=np.uint8),
        np.array(vec["m1"]),
        np.array(vec["m2"]),
        np.array(vec["network_output"], dtype=np.float32),
        np.array(vec["flip"]),
    )


def test_vectors_preprocess(vec, models):
    c, p1, has, *_ = arrays(vec)
    exp = np.array(vec["expected"]["conditions"])
    d = hadml.Decayer(models[True][0])
    cpp = d.preprocess(c, p1, has)
    # C++ casts the double result to float, exactly as the Python pipeline feeds ONNX Runtime
    np.testing.assert_array_equal(cpp, exp.astype(np.float32))
    py = preprocess(parse_metadata(vec["metadata"]), c, p1, has.astype(bool))
    np.testing.assert_allclose(py, exp, rtol=0, atol=1e-14)


def test_vectors_postprocess(vec, models):
    c, _, _, m1, m2, t, flip = arrays(vec)
    exp = vec["expected"]
    d = hadml.Decayer(models[True][0])
    h1, h2, theta, phi = d.postprocess(t, c, m1, m2, flip)
    E = c[:, :1]
    for got, key in ((h1, "h1"), (h2, "h2")):
        assert np.max(np.abs(got - np.array(exp[key])) / E) < 1e-12
    np.testing.assert_allclose(theta, exp["theta"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(phi, exp["phi"], rtol=1e-12, atol=1e-15)
    th, ph, a, b = postprocess(parse_metadata(vec["metadata"]), t, c, m1, m2, flip)
    assert np.max(np.abs(a - np.array(exp["h1"])) / E) < 1e-12
    assert np.max(np.abs(b - np.array(exp["h2"])) / E) < 1e-12
    # conservation, and the flip convention on what the C++ returns: below 0.5 the m2 hadron (h2)
    # is the first hadron, the one sent along (theta, phi); test_decayer_vectors.py checks the
    # expected values themselves without hadml
    assert np.max(np.abs(h1 + h2 - c) / E) < 1e-12
    rec_theta, rec_phi, first = recover_angles(c, h1, h2)
    np.testing.assert_array_equal(first, np.where(flip < 0.5, 1, 0))
    assert set(first) == {0, 1}

    def unit(t, p):
        return np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1)

    # lab hadrons to a few eps of E: the rest-frame direction to that over p* (measured 2 eps E/p*)
    tol = 16 * np.finfo(np.float64).eps * c[:, 0] / two_body_momentum(np.sqrt(mass2(c)), m1, m2)
    assert np.all(np.abs(unit(rec_theta, rec_phi) - unit(theta, phi)).max(1) <= tol)


@pytest.mark.parametrize("partons", [True, False])
def test_network_matches_torch(vec, models, partons):
    path, G = models[partons]
    d = hadml.Decayer(path)
    c, p1, has, *_ = arrays(vec)
    cond = d.preprocess(c, p1, has) if partons else d.preprocess(c)
    z = np.random.default_rng(3).standard_normal((len(c), 10)).astype(np.float32)
    ref = G(torch.as_tensor(cond), torch.as_tensor(z)).detach().numpy()
    np.testing.assert_allclose(d.network(cond, z), ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize("partons", [True, False])
def test_full_decay_matches_python_pipeline(vec, models, partons):
    path, _ = models[partons]
    c, p1, has, m1, m2, _, flip = arrays(vec)
    z = np.random.default_rng(4).standard_normal((len(c), 10)).astype(np.float32)
    d = hadml.Decayer(path)
    kw = {"parton1": p1, "has_partons": has} if partons else {}
    h1, h2, theta, phi, status = d.decay(c, m1, m2, noise=z, flip=flip, **kw)
    assert np.all(status == DecayStatus.OK)
    g = OnnxGenerator(path)
    th, ph, a, b = g.decay(c, m1, m2, z, flip, p1 if partons else None, has.astype(bool) if partons else None)
    np.testing.assert_allclose(theta, th, atol=1e-5 * math.pi)
    E = c[:, :1]
    assert np.max(np.abs(h1 - a) / E) < 1e-5
    assert np.max(np.abs(h1 + h2 - c) / E) < 1e-9
    # same noise and flips, same events
    again = d.decay(c, m1, m2, noise=z, flip=flip, **kw)
    np.testing.assert_array_equal(again[0], h1)


def test_bad_rows_are_reported_not_decayed(models):
    d = hadml.Decayer(models[False][0])
    c = np.array([[5.0, 1, 2, 3], [0.2, 0, 0, 0.01], [math.nan, 0, 0, 0], [3.0, 0, 0, 1.0], [1.0, 2.0, 0, 0]])
    h1, h2, theta, _, status = d.decay(c, 0.13957, 0.13957, rng=1)
    assert list(status) == [
        DecayStatus.OK,
        DecayStatus.BELOW_THRESHOLD,
        DecayStatus.INVALID_INPUT,
        DecayStatus.OK,
        DecayStatus.INVALID_INPUT,
    ]
    assert np.all(np.isnan(h1[[1, 2, 4]])) and np.all(np.isnan(theta[[1, 2, 4]]))
    ok = status == DecayStatus.OK
    np.testing.assert_allclose((h1 + h2)[ok], c[ok], rtol=0, atol=1e-14)


@pytest.mark.parametrize("partons", [True, False])
def test_bad_rows_do_not_change_the_others(vec, models, partons):
    """A batch with bad rows (compacted before the network) gives the good rows exactly what a
    batch of good rows alone (decayed in place) gives, and the same as the checked stages."""
    c, p1, has, m1, m2, _, flip = arrays(vec)
    m2 = np.where(np.arange(len(c)) % 2 == 0, 0.493677, m2)  # unequal masses: K pi pairs
    z = np.random.default_rng(6).standard_normal((len(c), 10)).astype(np.float32)
    d = hadml.Decayer(models[partons][0])
    kw = {"parton1": p1, "has_partons": has} if partons else {}
    alone = d.decay(c, m1, m2, noise=z, flip=flip, **kw)
    assert np.all(alone[4] == DecayStatus.OK)
    bad = np.array([[math.nan, 0, 0, 0], [0.2, 0, 0, 0.01]])
    at = [1, len(c)]  # before row 1 and at the end
    cb = np.insert(c, at, bad, axis=0)
    ins = lambda a, v: np.insert(a, at, v, axis=0)  # noqa: E731
    kwb = {"parton1": ins(p1, p1[:2]), "has_partons": ins(has, has[:2])} if partons else {}
    mixed = d.decay(cb, ins(m1, 0.14), ins(m2, 0.14), noise=ins(z, z[:2]), flip=ins(flip, 0.3), **kwb)
    keep = np.ones(len(cb), bool)
    keep[[1, len(cb) - 1]] = False
    assert list(mixed[4][~keep]) == [DecayStatus.INVALID_INPUT, DecayStatus.BELOW_THRESHOLD]
    for x, y in zip(mixed[:4], alone[:4], strict=True):
        np.testing.assert_array_equal(x[keep], y)
    staged = d.postprocess(d.network(d.preprocess(c, **kw), z), c, m1, m2, flip)
    for x, y in zip(staged, alone[:4], strict=True):
        np.testing.assert_array_equal(x, y)


def test_errors(models, tmp_path, vec):
    with pytest.raises(ModelError, match="no such model file"):
        hadml.Decayer(tmp_path / "missing.onnx")
    d = hadml.Decayer(models[True][0])
    c, *_ = arrays(vec)
    with pytest.raises(ValueError, match="parton information"):
        d.decay(c, 0.14, 0.14, rng=0)
    with pytest.raises(ValueError, match="noise must have shape"):
        d.decay(
            c, 0.14, 0.14, noise=np.zeros((len(c), 3), np.float32), parton1=c, has_partons=np.zeros(len(c))
        )
    md = dict(vec["metadata"])
    md.pop("hadml.output_scale")
    G = Generator(8, 10, 16, 2).eval()
    bad = export_generator(G, tmp_path / "bad.onnx", md, 8, 10)
    with pytest.raises(ModelError, match=r"bad\.onnx: missing metadata entry 'hadml\.output_scale'"):
        hadml.Decayer(bad)
    md = dict(vec["metadata"], **{"hadml.noise_dim": "7"})
    bad = export_generator(G, tmp_path / "bad2.onnx", md, 8, 10)
    with pytest.raises(ModelError, match=r"input 'noise' must have shape \(batch, 7\)"):
        hadml.Decayer(bad)
    with pytest.raises(ModelError, match="unknown execution provider"):
        hadml.Decayer(models[True][0], provider="tpu")


@pytest.mark.skipif(HAS_CUDA, reason="CUDA available: see test_cuda_*")
def test_cuda_request_without_cuda_is_clear(models):
    with pytest.raises(ModelError, match="offers only"):
        hadml.Decayer(models[False][0], provider="cuda")


@needs_cuda
@pytest.mark.parametrize("partons", [False, True])
def test_cuda_matches_cpu(models, vec, partons):
    """The CUDA execution provider gives the CPU's decays: same statuses, angles within float32
    rounding of the network, hadrons conserving the cluster's four-momentum."""
    c, p1, has, m1, m2, _, flip = arrays(vec)
    z = np.random.default_rng(5).standard_normal((len(c), 10)).astype(np.float32)
    kw = dict(noise=z, flip=flip, parton1=p1, has_partons=has) if partons else dict(noise=z, flip=flip)
    cpu = hadml.Decayer(models[partons][0]).decay(c, m1, m2, **kw)
    gpu = hadml.Decayer(models[partons][0], provider="cuda").decay(c, m1, m2, **kw)
    np.testing.assert_array_equal(gpu[4], cpu[4])
    ok = cpu[4] == DecayStatus.OK
    assert ok.sum() >= 2
    for g, h in zip(gpu[:4], cpu[:4], strict=True):
        np.testing.assert_allclose(g[ok], h[ok], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gpu[0][ok] + gpu[1][ok], c[ok], rtol=1e-12, atol=1e-12)


@needs_cuda
def test_cuda_bad_device_is_clear(models):
    with pytest.raises(ModelError, match=r"g_False\.onnx"):
        hadml.Decayer(models[False][0], provider="cuda", cuda_device=99)


@needs_cuda
def test_cuda_decayer_first_in_a_process(models):
    """A CUDA decayer may be the process's first use of ONNX Runtime (the provider's options need
    the environment's logger, which must exist by then)."""
    code = (
        "import sys\n"
        "from hadml.decayer import Decayer\n"
        "d = Decayer(sys.argv[1], provider='cuda')\n"
        "print(int(d.decay([[10.0, 1.0, 2.0, 3.0]], 0.13957, 0.13957, rng=1)[4][0]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(models[False][0])], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to count threads")
def test_opening_and_running_a_model_starts_no_thread(models):
    """With one intra-op thread the decayer adds no thread to its process. ONNX Runtime's telemetry
    would start one when its environment is created; inside Herwig any second thread puts glibc's
    malloc in its multi-threaded mode for the whole run (docs/benchmarks.md)."""
    code = (
        "import os, sys\n"
        "from hadml.decayer import Decayer\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "d = Decayer(sys.argv[1])\n"
        "d.decay([[10.0, 1.0, 2.0, 3.0]], 0.13957, 0.13957, rng=1)\n"
        "print(before, len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(models[False][0])], env=env, capture_output=True, text=True, check=True
    )
    before, after = map(int, out.stdout.split())
    assert after == before
