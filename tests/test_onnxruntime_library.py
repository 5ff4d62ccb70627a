"""Finding and loading ONNX Runtime at run time (issue 14): every failure is a clear
OnnxRuntimeError naming the path tried and the fix, never a crash. ONNX Runtime is loaded once
per process, so each case runs in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hadml
from hadml import _core

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "hadml_lep91_nominal.onnx"

def _open_in_subprocess(library: str | None, env_library: str | None = None) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import hadml
        try:
            hadml.Decayer({str(MODEL)!r}, onnxruntime_library_path={library!r})
        except hadml.ModelError as e:
            print(type(e).__name__ + ": " + str(e))
        else:
            print("opened")
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "HADML_ONNXRUNTIME_LIBRARY"}
    if env_library is not None:
        env["HADML_ONNXRUNTIME_LIBRARY"] = env_library
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_found_without_any_setting():
    """`pip install .` and nothing else: the library of the onnxruntime package beside hadml."""
    r = _open_in_subprocess(None)
    assert r.returncode == 0 and r.stdout.strip() == "opened", r.stdout + r.stderr
    path, source, _ = _core.locate_onnxruntime("")
    if not os.environ.get("HADML_ONNXRUNTIME_LIBRARY"):
        assert source == "the onnxruntime package beside hadml"
        assert re.search(r"onnxruntime/capi/libonnxruntime\.so", path)


def test_missing_library_is_a_clear_error(tmp_path):
    missing = str(tmp_path / "nowhere" / "libonnxruntime.so")
    r = _open_in_subprocess(missing)
    assert r.returncode == 0, r.stderr  # an exception, not a crash
    out = r.stdout
    assert out.startswith("OnnxRuntimeError: cannot load ONNX Runtime library"), out
    assert missing in out and "(from option)" in out
    assert "pip install 'onnxruntime>=1." in out and "MLHandler:OnnxRuntimeLibrary" in out


def test_environment_variable_is_named(tmp_path):
    missing = str(tmp_path / "env-lib.so")
    r = _open_in_subprocess(None, env_library=missing)
    assert r.returncode == 0, r.stderr
    assert missing in r.stdout and "(from HADML_ONNXRUNTIME_LIBRARY)" in r.stdout, r.stdout


def test_not_an_onnxruntime_library():
    import ctypes.util

    libz = ctypes.util.find_library("z")
    if libz is None:
        pytest.skip("no libz to stand in for a library that is not ONNX Runtime")
    r = _open_in_subprocess(libz)
    assert r.returncode == 0, r.stderr
    assert "is not an ONNX Runtime library (no OrtGetApiBase)" in r.stdout, r.stdout


def test_too_old_library(old_ort):
    r = _open_in_subprocess(str(old_ort))
    assert r.returncode == 0, r.stderr
    api = _core.onnxruntime_api_version()
    assert f"is version 1.2.0, which does not provide the C API version {api}" in r.stdout, r.stdout


def test_failed_load_leaves_the_process_usable(tmp_path):
    """A bad path first, then the right library: the second decayer opens and decays."""
    code = textwrap.dedent(
        f"""
        import numpy as np, hadml
        try:
            hadml.Decayer({str(MODEL)!r}, onnxruntime_library_path={str(tmp_path / "x.so")!r})
        except hadml.ModelError:
            pass
        d = hadml.Decayer({str(MODEL)!r})
        q = np.array([[1.0, 0.1, 0.2, 0.9]]); q[0, 0] = np.sqrt(0.325 ** 2 + 0.86)  # a u quark
        h1, h2, *_ , status = d.decay2(np.array([[10.0, 1, 2, 3]]), q, [[2, -2]], [[1, 0]], [0.135], [0.135], rng=1)
        print(int(status[0]), np.allclose(h1 + h2, [[10.0, 1, 2, 3]]))
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.split() == ["0", "True"], r.stdout + r.stderr


def test_onnxruntime_floor_matches_the_headers():
    """pyproject.toml's onnxruntime floor is the release whose C API the build's headers define."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    floor = next(re.match(r"onnxruntime>=1\.(\d+)", d) for d in deps if d.startswith("onnxruntime"))
    assert floor is not None
    assert int(floor.group(1)) == _core.onnxruntime_api_version()
    import onnxruntime

    assert int(onnxruntime.__version__.split(".")[1]) >= _core.onnxruntime_api_version()


def test_loaded_library_is_reported():
    hadml.Decayer(MODEL)
    assert _core.loaded_onnxruntime_library().endswith(tuple(f".so{s}" for s in ("", *_suffixes())))


def _suffixes() -> list[str]:
    import onnxruntime

    return ["." + onnxruntime.__version__]
