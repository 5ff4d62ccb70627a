"""Conditions, scaling and the output mapping: the pre/post-processing that the ONNX metadata
carries to C++ (``cpp/src/decayer.cpp`` mirrors every formula here).

Conditions (raw, per cluster), in this order:
    cluster_E, cluster_px, cluster_py, cluster_pz              (always)
    parton_dx, parton_dy, parton_dz, has_partons               (``use_partons``)
where (parton_dx, dy, dz) is the unit rest-frame direction of constituent 1 (zeros when the
constituents are unknown) and has_partons is 1 or 0. Scaling: x_s = 2 (x - min) / (max - min) - 1
with min/max from the training set (fixed to [-1, 1] and [0, 1] for the parton features).
Output: the network returns t in (-1, 1)^2 (tanh); theta = offset_0 + scale_0 t_0 and
phi = offset_1 + scale_1 t_1 with offsets (pi/2, 0) and scales (pi/2, pi/2).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from ..kinematics import boost

CLUSTER_FEATURES = ["cluster_E", "cluster_px", "cluster_py", "cluster_pz"]
PARTON_FEATURES = ["parton_dx", "parton_dy", "parton_dz", "has_partons"]
OUTPUT_NAMES = ["theta", "phi"]
OUTPUT_OFFSET = [math.pi / 2, 0.0]
OUTPUT_SCALE = [math.pi / 2, math.pi / 2]
ANGLE_CONVENTION = "hadml-1"
ANGLE_CONVENTION_TEXT = (
    "hadml-1: rest frame by the pure boost along the cluster momentum, axes parallel to the lab; "
    "(theta, phi) of the first hadron, the one with rest-frame p_x > 0; theta in [0, pi], "
    "phi in (-pi/2, pi/2]"
)
FORMAT_VERSION = "1"
INPUT_CONDITIONS = "conditions"
INPUT_NOISE = "noise"
OUTPUT = "angles"


def feature_names(use_partons: bool) -> list[str]:
    return CLUSTER_FEATURES + (PARTON_FEATURES if use_partons else [])


def raw_conditions(
    cluster: np.ndarray, parton1: np.ndarray | None, has_partons: np.ndarray | None, use_partons: bool
) -> np.ndarray:
    """(N, d) raw condition features (float64)."""
    cluster = np.asarray(cluster, dtype=np.float64)
    if not use_partons:
        return cluster.copy()
    if parton1 is None or has_partons is None:
        raise ValueError("use_partons needs parton1 and has_partons")
    has = np.asarray(has_partons, dtype=bool)
    d = np.zeros((cluster.shape[0], 3))
    if has.any():
        q = boost(parton1[has], cluster[has], to_rest=True)[:, 1:]
        d[has] = q / np.linalg.norm(q, axis=1, keepdims=True)
    return np.column_stack([cluster, d, has.astype(np.float64)])


@dataclass
class Scaler:
    """Min-max scaling of each feature to (-1, 1)."""

    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, names: list[str]) -> Scaler:
        lo = x.min(axis=0).astype(np.float64)
        hi = x.max(axis=0).astype(np.float64)
        for i, n in enumerate(names):
            if n in ("parton_dx", "parton_dy", "parton_dz"):
                lo[i], hi[i] = -1.0, 1.0
            elif n == "has_partons":
                lo[i], hi[i] = 0.0, 1.0
        same = hi <= lo
        hi[same] = lo[same] + 1.0
        return cls(lo, hi)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return 2.0 * (x - self.minimum) / (self.maximum - self.minimum) - 1.0


def unmap_angles(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(theta, phi) -> network space (N, 2) in [-1, 1]."""
    return np.column_stack(
        [(theta - OUTPUT_OFFSET[0]) / OUTPUT_SCALE[0], (phi - OUTPUT_OFFSET[1]) / OUTPUT_SCALE[1]]
    )


REQUIRED_METADATA = (
    "hadml.format_version",
    "hadml.version",
    "hadml.angle_convention",
    "hadml.conditions",
    "hadml.condition_min",
    "hadml.condition_max",
    "hadml.noise_dim",
    "hadml.output_names",
    "hadml.output_offset",
    "hadml.output_scale",
    "hadml.input_conditions",
    "hadml.input_noise",
    "hadml.output",
    "hadml.training_sample",
)


class MetadataError(ValueError):
    """A model file's hadml metadata is missing or inconsistent (the message names the entry)."""


def make_metadata(
    names: list[str],
    scaler: Scaler,
    noise_dim: int,
    version: str,
    training_sample: str,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    md = {
        "hadml.format_version": FORMAT_VERSION,
        "hadml.version": version,
        "hadml.angle_convention": ANGLE_CONVENTION,
        "hadml.angle_convention_text": ANGLE_CONVENTION_TEXT,
        "hadml.conditions": json.dumps(names),
        "hadml.condition_min": json.dumps([float(x) for x in scaler.minimum]),
        "hadml.condition_max": json.dumps([float(x) for x in scaler.maximum]),
        "hadml.noise_dim": str(int(noise_dim)),
        "hadml.output_names": json.dumps(OUTPUT_NAMES),
        "hadml.output_offset": json.dumps(OUTPUT_OFFSET),
        "hadml.output_scale": json.dumps(OUTPUT_SCALE),
        "hadml.input_conditions": INPUT_CONDITIONS,
        "hadml.input_noise": INPUT_NOISE,
        "hadml.output": OUTPUT,
        "hadml.training_sample": training_sample,
    }
    md.update(extra or {})
    return md


@dataclass
class ModelInfo:
    """Validated metadata of an exported generator."""

    names: list[str]
    scaler: Scaler
    noise_dim: int
    output_offset: list[float]
    output_scale: list[float]
    version: str
    training_sample: str
    raw: dict[str, str]

    @property
    def use_partons(self) -> bool:
        return self.names == CLUSTER_FEATURES + PARTON_FEATURES


def parse_metadata(md: dict[str, str], source: str = "model") -> ModelInfo:
    """Validate hadml metadata; MetadataError names the entry that is missing or wrong."""
    for key in REQUIRED_METADATA:
        if key not in md:
            raise MetadataError(f"{source}: missing metadata entry '{key}'")

    def js(key: str) -> list:
        try:
            v = json.loads(md[key])
        except json.JSONDecodeError:
            raise MetadataError(f"{source}: metadata entry '{key}' is not valid JSON") from None
        if not isinstance(v, list):
            raise MetadataError(f"{source}: metadata entry '{key}' must be a JSON list")
        return v

    if md["hadml.format_version"] != FORMAT_VERSION:
        raise MetadataError(
            f"{source}: metadata entry 'hadml.format_version' is "
            f"{md['hadml.format_version']!r}, this hadml reads {FORMAT_VERSION!r}"
        )
    if md["hadml.angle_convention"] != ANGLE_CONVENTION:
        raise MetadataError(
            f"{source}: metadata entry 'hadml.angle_convention' is "
            f"{md['hadml.angle_convention']!r}, expected {ANGLE_CONVENTION!r}"
        )
    names = js("hadml.conditions")
    if names not in (CLUSTER_FEATURES, CLUSTER_FEATURES + PARTON_FEATURES):
        raise MetadataError(
            f"{source}: metadata entry 'hadml.conditions' = {names} is not a known feature list"
        )
    lo, hi = js("hadml.condition_min"), js("hadml.condition_max")
    for key, v in (("hadml.condition_min", lo), ("hadml.condition_max", hi)):
        if len(v) != len(names) or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in v):
            raise MetadataError(f"{source}: metadata entry '{key}' must hold {len(names)} finite numbers")
    if any(h <= lo_ for lo_, h in zip(lo, hi, strict=True)):
        raise MetadataError(
            f"{source}: metadata entries 'hadml.condition_max' must exceed 'hadml.condition_min'"
        )
    try:
        noise = int(md["hadml.noise_dim"])
    except ValueError:
        raise MetadataError(f"{source}: metadata entry 'hadml.noise_dim' is not an integer") from None
    if noise < 1:
        raise MetadataError(f"{source}: metadata entry 'hadml.noise_dim' must be >= 1")
    if js("hadml.output_names") != OUTPUT_NAMES:
        raise MetadataError(f"{source}: metadata entry 'hadml.output_names' must be {OUTPUT_NAMES}")
    off, sc = js("hadml.output_offset"), js("hadml.output_scale")
    for key, v in (("hadml.output_offset", off), ("hadml.output_scale", sc)):
        if len(v) != 2:
            raise MetadataError(f"{source}: metadata entry '{key}' must hold 2 numbers")
    return ModelInfo(
        names,
        Scaler(np.asarray(lo, float), np.asarray(hi, float)),
        noise,
        [float(x) for x in off],
        [float(x) for x in sc],
        md["hadml.version"],
        md["hadml.training_sample"],
        dict(md),
    )
