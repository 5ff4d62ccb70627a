"""hadml: machine-learned hadronization (GAN cluster decays) for Herwig 7."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hadml")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .kinematics import KinematicsError


def __getattr__(name: str) -> object:  # lazy: importing hadml does not load ONNX Runtime
    if name in ("Decayer", "DecayStatus", "ModelError"):
        from . import decayer

        return getattr(decayer, name)
    raise AttributeError(f"module 'hadml' has no attribute {name!r}")


__all__ = ["DecayStatus", "Decayer", "KinematicsError", "ModelError", "__version__"]
