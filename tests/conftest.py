"""Shared fixtures; optional dependencies and external resources are skipped here, in one place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
VECTORS = Path(__file__).with_name("vectors") / "kinematics.json"


def shared_file(rel: str) -> Path:
    p = SHARED / rel
    if not p.is_file():
        pytest.skip(f"shared sample {p} not present (expected at ../shared/data beside the repo)")
    return p


@pytest.fixture(scope="session")
def vectors() -> list[dict]:
    return json.loads(VECTORS.read_text())["cases"]


@pytest.fixture(scope="session")
def sample_1k() -> Path:
    return shared_file("herwig/ClusterTo2Pi0_lep91_1k.dat")


def herwig_available() -> bool:
    return shutil.which("herwig-config") is not None and shutil.which("Herwig") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if herwig_available():
        return
    skip = pytest.mark.skip(reason="Herwig 7 not installed (herwig-config / Herwig not on PATH)")
    for item in items:
        if "herwig" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared():
    """``shared("herwig/x.dat")``: path of a shared sample, or skip when it is absent."""
    return shared_file
