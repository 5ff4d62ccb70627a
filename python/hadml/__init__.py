"""hadml: machine-learned hadronization (GAN cluster decays) for Herwig 7."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hadml")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from .kinematics import KinematicsError

__all__ = ["KinematicsError", "__version__"]
