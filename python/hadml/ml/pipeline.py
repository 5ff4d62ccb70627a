"""The Python inference pipeline (reference for the C++ decayer): conditions -> network ->
(theta, phi) -> hadron pair in the lab. Same steps, same order as ``cpp/src/decayer.cpp``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kinematics import two_body_decay
from .features import ModelInfo, raw_conditions


def preprocess(
    info: ModelInfo,
    cluster: np.ndarray,
    parton1: np.ndarray | None = None,
    has_partons: np.ndarray | None = None,
) -> np.ndarray:
    raw = raw_conditions(cluster, parton1, has_partons, info.use_partons)
    return info.scaler.transform(raw)


def postprocess(
    info: ModelInfo, t: np.ndarray, cluster: np.ndarray, m1: np.ndarray, m2: np.ndarray, flip: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Network output -> (theta, phi, hadron 1, hadron 2). ``flip`` (N,) uniform in [0, 1):
    below 0.5 hadron 2 (mass m2) is the first hadron, else hadron 1."""
    t = np.asarray(t, dtype=np.float64)
    theta = info.output_offset[0] + info.output_scale[0] * t[:, 0]
    phi = info.output_offset[1] + info.output_scale[1] * t[:, 1]
    second_first = np.asarray(flip) < 0.5
    mf = np.where(second_first, m2, m1)
    ms = np.where(second_first, m1, m2)
    a, b = two_body_decay(cluster, mf, ms, theta, phi)
    h1 = np.where(second_first[:, None], b, a)
    h2 = np.where(second_first[:, None], a, b)
    return theta, phi, h1, h2


class OnnxGenerator:
    """onnxruntime session + metadata: the Python twin of the C++ decayer."""

    def __init__(self, path: str | Path, threads: int = 1):
        import onnxruntime as ort

        from .export import read_model_info

        self.info = read_model_info(path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def network(self, cond: np.ndarray, noise: np.ndarray) -> np.ndarray:
        return self.session.run(
            None, {"conditions": cond.astype(np.float32), "noise": noise.astype(np.float32)}
        )[0]

    def decay(
        self,
        cluster: np.ndarray,
        m1: np.ndarray,
        m2: np.ndarray,
        noise: np.ndarray,
        flip: np.ndarray,
        parton1: np.ndarray | None = None,
        has_partons: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(theta, phi, hadron 1, hadron 2), as :func:`postprocess`."""
        cond = preprocess(self.info, cluster, parton1, has_partons)
        return postprocess(self.info, self.network(cond, noise), cluster, m1, m2, flip)
