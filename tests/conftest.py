"""Shared fixtures; optional dependencies and external resources are skipped here, in one place."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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
def boost_vectors() -> list[dict]:
    return json.loads(VECTORS.read_text())["boosts"]


@pytest.fixture(scope="session")
def sample_1k() -> Path:
    return shared_file("herwig/ClusterTo2Pi0_lep91_1k.dat")


def herwig_available() -> bool:
    return shutil.which("herwig-config") is not None and shutil.which("Herwig") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if herwig_available():
        return
    if os.environ.get("HADML_REQUIRE_HERWIG"):  # CI installed Herwig: its tests must run
        raise pytest.UsageError("HADML_REQUIRE_HERWIG is set, but herwig-config / Herwig are not on PATH")
    skip = pytest.mark.skip(reason="Herwig 7 not installed (herwig-config / Herwig not on PATH)")
    for item in items:
        if "herwig" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared():
    """``shared("herwig/x.dat")``: path of a shared sample, or skip when it is absent."""
    return shared_file


# A library that looks like ONNX Runtime 1.2 to the loader: OrtGetApiBase exists, but it offers
# no C API of the version hadml was built with.
OLD_ORT_C = r"""
#include <stddef.h>
typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } Base;
static const void* get_api(unsigned v) { (void)v; return NULL; }
static const char* version(void) { return "1.2.0"; }
static const Base base = {get_api, version};
const Base* OrtGetApiBase(void) { return &base; }
"""


@pytest.fixture(scope="session")
def old_ort(tmp_path_factory) -> Path:
    """A fake libonnxruntime too old for hadml (see OLD_ORT_C)."""
    d = tmp_path_factory.mktemp("old_ort")
    (d / "old.c").write_text(OLD_ORT_C)
    lib = d / "libonnxruntime.so.1.2.0"
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(d / "old.c")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no C compiler to build the fake library ({cc}): {r.stderr[-300:]}")
    return lib
