"""Issue 14: hadml installed the way a user installs it — `pip install .` into a fresh virtual
environment (no editable install, no second build, no environment variable) — then a short
Herwig + GAN run through the installed command. Slow (a full build): marked slow and herwig."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.herwig, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
TORCH = os.environ.get("TORCH", "torch==2.13.0")  # the CPU build (the Makefile's pin)


def _source_copy(dest: Path) -> Path:
    """The tracked files of the checkout as they are now (a fresh tree: no build directory)."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def test_pip_install_then_herwig_run(tmp_path):
    src = _source_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HADML_", "VIRTUAL_ENV", "PYTHONPATH"))}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    r = subprocess.run([*pip, TORCH, str(src)], capture_output=True, text=True, env=env, timeout=3000)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]

    work = tmp_path / "user"
    work.mkdir()
    hadml = str(venv / "bin" / "hadml")
    r = subprocess.run([hadml, "herwig", "run", "--events", "100", "--seed", "3", "--out", "x.hepmc"],
                       cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    log = next((work / "x.hepmc.work").glob("LEP-ML-S3.log")).read_text()
    line = next(x for x in log.splitlines() if x.startswith("hadml: "))
    assert int(line.split()[1]) > 300, line  # ~7 GAN decays per event
    # the installed package's model, cards and plugin are the ones used
    assert str(venv) in line, line
    # the plugin finds ONNX Runtime by itself too: the card as shipped, no OnnxRuntimeLibrary line
    r = subprocess.run([hadml, "herwig-lib", "--dir"], capture_output=True, text=True, env=env)
    libdir = r.stdout.strip()
    cards = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "from hadml.herwig import cards_dir; print(cards_dir())"],
                           capture_output=True, text=True, env=env).stdout.strip()
    r = subprocess.run(["Herwig", "read", "LEP-ML.in", "-i", cards, "-l", libdir], cwd=work,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["Herwig", "run", "LEP-ML.run", "-N", "20", "-s", "4", "-q", "-l", libdir], cwd=work,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (work / "LEP-ML-S4.hepmc").is_file()
