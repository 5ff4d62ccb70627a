"""``hadml.Decayer``: the C++ ONNX Runtime cluster decayer, from Python (numpy in and out)."""

from __future__ import annotations

import enum
import glob
import importlib.util
import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core

ModelError = _core.ModelError


class DecayStatus(enum.IntEnum):
    OK = 0
    BELOW_THRESHOLD = 1
    INVALID_INPUT = 2
    INVALID_OUTPUT = 3  # the network's output is not finite


def onnxruntime_library() -> str:
    """The libonnxruntime this interpreter's ``onnxruntime`` package ships ('' if none).

    The C++ side loads, in order: the library it is given, ``$HADML_ONNXRUNTIME_LIBRARY``, the
    onnxruntime package installed beside hadml, the build's ``-DHADML_ONNXRUNTIME_ROOT``
    (``_core.locate_onnxruntime``). From Python, the package this interpreter imports is given
    unless the environment variable is set."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is not None and spec.origin:
        libs = sorted(glob.glob(str(Path(spec.origin).parent / "capi" / "libonnxruntime.so*")))
        if libs:
            return libs[-1]
    return ""


def _requested_library(explicit: str | None) -> str:
    if explicit:
        return explicit
    return "" if os.environ.get("HADML_ONNXRUNTIME_LIBRARY") else onnxruntime_library()


class Decayer:
    """GAN two-body cluster decays through ONNX Runtime (C++), batched.

    ``decay`` takes N clusters (N, 4), the masses of Herwig's two hadrons, and optionally the
    noise (N, noise_dim) and flips (N,) that drive it (drawn from ``rng`` when omitted); it returns
    hadron 1 and 2 (N, 4), theta, phi and a status per cluster (see :class:`DecayStatus`; rows
    that are not OK hold NaN and must be decayed some other way).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        threads: int = 1,
        provider: str = "cpu",
        cuda_device: int = 0,
        onnxruntime_library_path: str | None = None,
    ):
        self._d = _core.Decayer(
            str(model_path), threads, provider, cuda_device, _requested_library(onnxruntime_library_path)
        )

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._d.metadata)

    @property
    def noise_dim(self) -> int:
        return int(self._d.noise_dim)

    @property
    def use_partons(self) -> bool:
        return bool(self._d.use_partons)

    @property
    def format_version(self) -> int:
        """1 (hadml-1: ``decay``/``preprocess``) or 2 (hadml-2: ``decay2``/``preprocess2``)."""
        return int(self._d.format_version)

    @staticmethod
    def _args2(
        clusters: ArrayLike, constituent1: ArrayLike, constituent_pid: ArrayLike, perturbative: ArrayLike,
        m1: ArrayLike, m2: ArrayLike,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32], NDArray[np.uint8],
               NDArray[np.float64], NDArray[np.float64]]:
        c = np.ascontiguousarray(clusters, dtype=np.float64)
        n = c.shape[0] if c.ndim == 2 else -1
        return (
            c,
            np.ascontiguousarray(constituent1, dtype=np.float64),
            np.ascontiguousarray(constituent_pid, dtype=np.int32),
            np.ascontiguousarray(np.asarray(perturbative).astype(np.uint8)),
            np.ascontiguousarray(np.broadcast_to(np.asarray(m1, dtype=np.float64), (n,))),
            np.ascontiguousarray(np.broadcast_to(np.asarray(m2, dtype=np.float64), (n,))),
        )

    def decay2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        *,
        noise: ArrayLike | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]]:
        """hadml-2 decays (format-2 model): N clusters (N, 4), constituent 1's lab four-momentum
        (N, 4), the constituents' pids (N, 2), Herwig's isPerturbative flags (N, 2) and the two
        hadrons' masses; noise (N, noise_dim) drawn from ``rng`` when omitted. Returns hadron 1
        (mass m1) and 2 (N, 4), hadron 1's unit direction in the decay frame (N, 3) and a status
        per cluster (rows not OK hold NaN)."""
        c, q, pid, pert, a, b = self._args2(clusters, constituent1, constituent_pid, perturbative, m1, m2)
        if noise is None:
            gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
            noise = gen.standard_normal((c.shape[0] if c.ndim == 2 else -1, self.noise_dim), dtype=np.float32)
        return self._d.decay2(c, q, pid, pert, a, b, noise)

    def preprocess2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
    ) -> NDArray[np.float32]:
        """The scaled hadml-2 conditions (N, 9) as the network sees them."""
        return self._d.preprocess2(*self._args2(clusters, constituent1, constituent_pid, perturbative, m1, m2))

    def in_domain(self, pid1: int, pid2: int, hadron1: int, hadron2: int, M: float) -> bool:
        """Whether a decay (constituent pids, hadron pids, cluster mass) lies in the hadml-2
        model's training domain (its metadata's domain_flavours, domain_hadrons, domain_mass)."""
        return bool(self._d.in_domain(int(pid1), int(pid2), int(hadron1), int(hadron2), float(M)))

    def decay(
        self,
        clusters: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        *,
        noise: ArrayLike | None = None,
        flip: ArrayLike | None = None,
        parton1: ArrayLike | None = None,
        has_partons: ArrayLike | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.uint8]
    ]:
        c = np.ascontiguousarray(clusters, dtype=np.float64)
        n = c.shape[0] if c.ndim == 2 else -1
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        z = gen.standard_normal((n, self.noise_dim), dtype=np.float32) if noise is None else noise
        f = gen.random(n) if flip is None else flip
        m1 = np.broadcast_to(np.asarray(m1, dtype=np.float64), (n,))
        m2 = np.broadcast_to(np.asarray(m2, dtype=np.float64), (n,))
        has = None if has_partons is None else np.asarray(has_partons).astype(np.uint8)
        return self._d.decay(c, m1, m2, z, f, parton1, has)

    def preprocess(
        self, clusters: ArrayLike, parton1: ArrayLike | None = None, has_partons: ArrayLike | None = None
    ) -> NDArray[np.float32]:
        has = None if has_partons is None else np.asarray(has_partons).astype(np.uint8)
        return self._d.preprocess(clusters, parton1, has)

    def network(self, conditions: ArrayLike, noise: ArrayLike) -> NDArray[np.float32]:
        return self._d.network(conditions, noise)

    def postprocess(self, t: ArrayLike, clusters: ArrayLike, m1: ArrayLike, m2: ArrayLike, flip: ArrayLike):  # type: ignore[no-untyped-def]
        return self._d.postprocess(t, clusters, m1, m2, flip)

    def benchmark(
        self,
        clusters: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        batch: int,
        seconds: float = 1.0,
        parton1: ArrayLike | None = None,
        has_partons: ArrayLike | None = None,
    ) -> dict[str, float | list[float]]:
        """Clusters/s of decay() and of the bare network on the same batches, timed in C++ in 20
        interleaved rounds (``ratios``: bare / decay of each round; benchmarks/decayer_throughput.py);
        parton-aware models need parton1 and has_partons."""
        return dict(self._d.benchmark(clusters, m1, m2, batch, seconds, 1, parton1, has_partons))

    def benchmark2(
        self,
        clusters: ArrayLike,
        constituent1: ArrayLike,
        constituent_pid: ArrayLike,
        perturbative: ArrayLike,
        m1: ArrayLike,
        m2: ArrayLike,
        batch: int,
        seconds: float = 1.0,
    ) -> dict[str, float | list[float]]:
        """The same for decay2() (a format-2 model): clusters/s of the whole decay and of the bare
        network on the same batches, timed in C++."""
        c, q, pid, pert, a, b = self._args2(clusters, constituent1, constituent_pid, perturbative, m1, m2)
        return dict(self._d.benchmark2(c, q, pid, pert, a, b, batch, seconds, 1))


def available_providers() -> list[str]:
    return list(_core.available_providers(_requested_library(None)))
