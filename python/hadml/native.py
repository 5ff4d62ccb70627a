"""The C++ kinematics core (``hadml._core``) behind the same signatures as
:mod:`hadml.kinematics`. Errors are raised as :class:`hadml.KinematicsError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from .kinematics import KinematicsError

__all__ = ["boost", "recover_angles", "two_body_decay", "two_body_momentum"]

_R = TypeVar("_R")


def _rows(a: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise KinematicsError(f"{name} must have shape (n, 4), got {arr.shape}")
    return arr


def _col(a: ArrayLike, n: int) -> NDArray[np.float64]:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(a, dtype=np.float64), (n,)))


def _call(fn: Callable[..., _R], *args: object) -> _R:
    try:
        return fn(*args)
    except _core.KinematicsError as err:
        raise KinematicsError(str(err)) from None


def two_body_decay(
    clusters: ArrayLike, m1: ArrayLike, m2: ArrayLike, theta: ArrayLike, phi: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    c = _rows(clusters, "clusters")
    n = c.shape[0]
    return _call(_core.two_body_decay, c, *(_col(x, n) for x in (m1, m2, theta, phi)))


def recover_angles(
    clusters: ArrayLike, h1: ArrayLike, h2: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int32]]:
    return _call(_core.recover_angles, _rows(clusters, "clusters"), _rows(h1, "h1"), _rows(h2, "h2"))


def boost(vectors: ArrayLike, frames: ArrayLike, to_rest: bool) -> NDArray[np.float64]:
    return _call(_core.boost, _rows(vectors, "vectors"), _rows(frames, "frames"), bool(to_rest))


def two_body_momentum(M: float, m1: float, m2: float) -> float:
    return float(_call(_core.two_body_momentum, float(M), float(m1), float(m2)))
