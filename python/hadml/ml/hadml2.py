"""The hadml-2 decay model: conditions, scaling, the output mapping and the metadata schema
(format 2), in one place. ``cpp/src/decayer.cpp`` mirrors every formula here (issue 15).

Convention ``hadml-2``: the generator gives the direction of Herwig's hadron 1 (the hadron that
carries constituent 1's flavour; no coin, no fold) in the cluster rest frame, in the frame of
:func:`hadml.kinematics.decay_frame`: z* along constituent 1's rest-frame direction (constituent
2 is back to back), x* in the plane of z* and the cluster's flight direction. The network's
output is an unbounded 3-vector v; the direction is v / |v| (the only output mapping,
:func:`direction_from_output`, numpy and torch alike).

Conditions (raw, per cluster), all invariant under rotations of the event, in this order:

    log_cluster_mass   ln(M / GeV)
    log1p_cluster_p    ln(1 + |p| / GeV), |p| the cluster's lab momentum
    cos_alpha          n . z*, n the flight direction (decay_frame's cos_alpha)
    pert1, pert2       Herwig's Cluster::isPerturbative(i), 0 or 1
    flavour1, flavour2 flavour class of each constituent (FLAVOUR_CLASSES)
    hadron1_mass, hadron2_mass   Herwig's masses of the two hadrons (species come first)

Scaling: x_s = 2 (x - min) / (max - min) - 1, min/max from the training set except where the range
is fixed (FIXED_RANGES), stored in the metadata. A condition outside [min, max] is first clipped to
it: the network is never asked to extrapolate (a 91.2 GeV model at 192 GeV sees clusters with twice
the momentum it was trained on; Herwig's decay in the cluster rest frame does not depend on it, and
an extrapolated network does).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from ..kinematics import decay_frame, recover_frame_direction

FORMAT_VERSION = "2"
ANGLE_CONVENTION = "hadml-2"
ANGLE_CONVENTION_TEXT = (
    "hadml-2: direction of Herwig's hadron 1 (constituent 1's flavour) in the cluster rest frame, "
    "axes z* = constituent 1's rest-frame direction, x* = flight direction minus its z* part, "
    "y* = z* x x*; output an unbounded 3-vector v, direction v/|v|"
)
CONDITIONS = [
    "log_cluster_mass",
    "log1p_cluster_p",
    "cos_alpha",
    "pert1",
    "pert2",
    "flavour1",
    "flavour2",
    "hadron1_mass",
    "hadron2_mass",
]
FIXED_RANGES = {"cos_alpha": (-1.0, 1.0), "pert1": (0.0, 1.0), "pert2": (0.0, 1.0),
                "flavour1": (0.0, 4.0), "flavour2": (0.0, 4.0)}
FLAVOUR_CLASSES = ["light", "s", "c", "b", "diquark"]
# Herwig's ClusterDecayer draws the decay direction from the constituents' class alone (their
# perturbative flags and flavour), before the species: a "class-only" generator is blind to the rest.
CLASS_CONDITIONS = ("pert1", "pert2", "flavour1", "flavour2")
CLASS_ONLY = "class-only"


def check_blind(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The names as a tuple; ValueError naming those that are not hadml-2 conditions."""
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise ValueError(f"blind condition(s) {unknown}: not hadml-2 conditions ({', '.join(CONDITIONS)})")
    return tuple(names)


def blind_conditions(spec: str) -> tuple[str, ...]:
    """``--blind``'s value as condition names: comma-separated names, or ``class-only`` (every
    condition but the constituents' class, ``CLASS_CONDITIONS``)."""
    if spec.strip() == CLASS_ONLY:
        return tuple(c for c in CONDITIONS if c not in CLASS_CONDITIONS)
    return check_blind([n.strip() for n in spec.split(",") if n.strip()])
OUTPUT_NAMES = ["ux", "uy", "uz"]
INPUT_CONDITIONS = "conditions"
INPUT_NOISE = "noise"
OUTPUT = "direction"


def flavour_class(pid: np.ndarray) -> np.ndarray:
    """0 light (d, u), 1 s, 2 c, 3 b, 4 diquark (|pid| > 1000); ValueError for anything else."""
    a = np.abs(np.asarray(pid, dtype=np.int64))
    out = np.select([(a == 1) | (a == 2), a == 3, a == 4, a == 5, (a > 1000) & (a < 10000)],
                    [0, 1, 2, 3, 4], -1)
    if np.any(out < 0):
        bad = sorted({int(x) for x in a[out < 0]})
        raise ValueError(f"constituent pid(s) {bad} are no quark or diquark: no hadml-2 flavour class")
    return out


def raw_conditions(cluster: np.ndarray, constituent1: np.ndarray, perturbative: np.ndarray,
                   constituent_pid: np.ndarray, hadron_mass: np.ndarray) -> np.ndarray:
    """(N, 9) raw conditions (float64); inputs (N, 4), (N, 4), (N, 2), (N, 2), (N, 2)."""
    c = np.asarray(cluster, dtype=np.float64)
    _, cos_alpha = decay_frame(c, constituent1)
    M = np.sqrt(np.maximum(c[:, 0] ** 2 - np.sum(c[:, 1:] ** 2, axis=1), 0.0))
    p = np.sqrt(np.sum(c[:, 1:] ** 2, axis=1))
    fl = flavour_class(constituent_pid)
    pert = np.asarray(perturbative, dtype=np.float64)
    m = np.asarray(hadron_mass, dtype=np.float64)
    return np.column_stack([np.log(M), np.log1p(p), cos_alpha, pert[:, 0], pert[:, 1],
                            fl[:, 0], fl[:, 1], m[:, 0], m[:, 1]])


@dataclass
class Scaler:
    """Min-max scaling of each condition to (-1, 1)."""

    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        lo = x.min(axis=0).astype(np.float64)
        hi = x.max(axis=0).astype(np.float64)
        for i, name in enumerate(CONDITIONS):
            if name in FIXED_RANGES:
                lo[i], hi[i] = FIXED_RANGES[name]
        same = hi <= lo
        hi[same] = lo[same] + 1.0
        return cls(lo, hi)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(clip(x, min, max) - min) * (2 / (max - min)) - 1: the C++ decayer's formula, operation
        for operation (NaN stays NaN)."""
        return (np.clip(x, self.minimum, self.maximum) - self.minimum) * (2.0 / (self.maximum - self.minimum)) - 1.0

    def matches(self, other: Scaler) -> bool:
        return bool(np.array_equal(self.minimum, other.minimum) and np.array_equal(self.maximum, other.maximum))


A = TypeVar("A")


def direction_from_output(v: A) -> A:
    """The one output mapping: network output (..., 3) -> unit direction in the hadml-2 frame
    (numpy arrays or torch tensors)."""
    x: Any = v
    return x / (x * x).sum(-1, keepdims=True) ** 0.5


def targets(cluster: np.ndarray, constituent1: np.ndarray, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """Herwig's hadron 1 direction (N, 3) in the hadml-2 frame (the training target)."""
    return recover_frame_direction(cluster, constituent1, h1, h2)


# ---- the metadata schema (format 2): one table, read by both readers ---------------------------
# key -> kind: "const:<value>" fixed string, "text" any string, "names" the CONDITIONS list,
# "numbers:<n>" JSON list of n finite numbers ("conditions": one per condition), "int>=1",
# "outputs" the OUTPUT_NAMES list, "ints" JSON list of integers, "range" 2 increasing numbers.
SCHEMA: dict[str, str] = {
    "hadml.format_version": f"const:{FORMAT_VERSION}",
    "hadml.version": "text",
    "hadml.angle_convention": f"const:{ANGLE_CONVENTION}",
    "hadml.conditions": "names",
    "hadml.condition_min": "numbers:conditions",
    "hadml.condition_max": "numbers:conditions",
    "hadml.noise_dim": "int>=1",
    "hadml.output_names": "outputs",
    "hadml.input_conditions": f"const:{INPUT_CONDITIONS}",
    "hadml.input_noise": f"const:{INPUT_NOISE}",
    "hadml.output": f"const:{OUTPUT}",
    "hadml.training_sample": "text",
    "hadml.domain_flavours": "ints",
    "hadml.domain_hadrons": "ints",
    "hadml.domain_mass": "range",
}


class MetadataError(ValueError):
    """A model file's hadml metadata is missing or inconsistent (the message names the entry)."""


@dataclass
class Domain:
    """What the model was trained on: constituent flavour classes, hadron |pid|s, cluster mass."""

    flavours: list[int]
    hadrons: list[int]
    mass: tuple[float, float]

    @classmethod
    def of(cls, constituent_pid: np.ndarray, hadron_pid: np.ndarray, M: np.ndarray) -> Domain:
        return cls(sorted({int(x) for x in np.unique(flavour_class(constituent_pid))}),
                   sorted({int(x) for x in np.unique(np.abs(hadron_pid))}), (float(M.min()), float(M.max())))

    def contains(self, constituent_pid: np.ndarray, hadron_pid: np.ndarray, M: np.ndarray) -> np.ndarray:
        fl = flavour_class(constituent_pid)
        return (np.isin(fl, self.flavours).all(1) & np.isin(np.abs(hadron_pid), self.hadrons).all(1)
                & (M >= self.mass[0]) & (M <= self.mass[1]))


def make_metadata(scaler: Scaler, noise_dim: int, version: str, training_sample: str, domain: Domain,
                  extra: dict[str, str] | None = None) -> dict[str, str]:
    md = {
        "hadml.format_version": FORMAT_VERSION,
        "hadml.version": version,
        "hadml.angle_convention": ANGLE_CONVENTION,
        "hadml.angle_convention_text": ANGLE_CONVENTION_TEXT,
        "hadml.conditions": json.dumps(CONDITIONS),
        "hadml.condition_min": json.dumps([float(x) for x in scaler.minimum]),
        "hadml.condition_max": json.dumps([float(x) for x in scaler.maximum]),
        "hadml.noise_dim": str(int(noise_dim)),
        "hadml.output_names": json.dumps(OUTPUT_NAMES),
        "hadml.input_conditions": INPUT_CONDITIONS,
        "hadml.input_noise": INPUT_NOISE,
        "hadml.output": OUTPUT,
        "hadml.training_sample": training_sample,
        "hadml.domain_flavours": json.dumps(domain.flavours),
        "hadml.domain_hadrons": json.dumps(domain.hadrons),
        "hadml.domain_mass": json.dumps(list(domain.mass)),
    }
    md.update(extra or {})
    return md


@dataclass
class ModelInfo:
    scaler: Scaler
    noise_dim: int
    domain: Domain
    version: str
    training_sample: str
    raw: dict[str, str]


def parse_metadata(md: dict[str, str], source: str = "model") -> ModelInfo:
    """Validate format-2 metadata against SCHEMA; MetadataError names the entry. A hadml-1 model
    (format 1) is refused with the reason."""
    if md.get("hadml.format_version") == "1":
        raise MetadataError(
            f"{source}: metadata entry 'hadml.format_version' is '1': a hadml-1 model (lab-frame angles "
            "of a coin-picked 'first' hadron, folded azimuth), which loses Herwig's charge flow; the "
            "hadml-2 reader takes format 2 (retrain with hadml train-hadml2)")
    values: dict[str, Any] = {}
    for key, kind in SCHEMA.items():
        if key not in md:
            raise MetadataError(f"{source}: missing metadata entry '{key}'")
        text = md[key]

        def bad(what: str, key: str = key) -> MetadataError:
            return MetadataError(f"{source}: metadata entry '{key}' {what}")

        if kind.startswith("const:"):
            if text != kind[6:]:
                raise bad(f"is {text!r}, expected {kind[6:]!r}")
            continue
        if kind == "text":
            values[key] = text
            continue
        if kind == "int>=1":
            if not text.isdigit() or int(text) < 1:
                raise bad("must be an integer >= 1")
            values[key] = int(text)
            continue
        try:
            v = json.loads(text)
        except json.JSONDecodeError:
            raise bad("is not valid JSON") from None
        if not isinstance(v, list):
            raise bad("must be a JSON list")
        if kind == "names" and v != CONDITIONS:
            raise bad(f"must be {CONDITIONS}")
        if kind == "outputs" and v != OUTPUT_NAMES:
            raise bad(f"must be {OUTPUT_NAMES}")
        if kind.startswith("numbers") and (len(v) != len(CONDITIONS) or not all(
                isinstance(x, (int, float)) and math.isfinite(x) for x in v)):
            raise bad(f"must hold {len(CONDITIONS)} finite numbers")
        if kind == "ints" and (not v or not all(isinstance(x, int) and x >= 0 for x in v)):
            raise bad("must be a non-empty list of non-negative integers")
        if kind == "range" and (len(v) != 2 or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in v)
                                or not v[0] <= v[1]):
            raise bad("must be [min, max], finite, min <= max")
        values[key] = v
    lo, hi = values["hadml.condition_min"], values["hadml.condition_max"]
    if any(h <= low for low, h in zip(lo, hi, strict=True)):
        raise MetadataError(f"{source}: metadata entry 'hadml.condition_max' must exceed 'hadml.condition_min'")
    if any(f >= len(FLAVOUR_CLASSES) for f in values["hadml.domain_flavours"]):
        raise MetadataError(f"{source}: metadata entry 'hadml.domain_flavours' holds an unknown flavour class")
    return ModelInfo(
        Scaler(np.asarray(lo, float), np.asarray(hi, float)),
        values["hadml.noise_dim"],
        Domain(values["hadml.domain_flavours"], values["hadml.domain_hadrons"],
               (float(values["hadml.domain_mass"][0]), float(values["hadml.domain_mass"][1]))),
        values["hadml.version"],
        values["hadml.training_sample"],
        dict(md),
    )
