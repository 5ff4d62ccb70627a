"""Issue 16: the package's structure as checked contracts. Imports go one way through the layers
of pyproject.toml's [tool.importlinter] (lint-imports); the compiled core's stub names what the
extension has (stubtest); an input's format is detected once per read, from its first bytes."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hadml.data.io as io
from hadml.data.errors import DataFormatError
from hadml.data.events import to_awkward, write_root
from hadml.data.gun import ClusterGun
from hadml.data.reference import DecayParams, decay_table
from hadml.data.writers import write_cluster_file

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -e '.[test]'"
    return found


def _lint(cwd: Path, env_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = None if env_path is None else {**os.environ, "PYTHONPATH": str(env_path)}
    return subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_import_layers_kept():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hadml layers KEPT" in r.stdout, r.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("compare/stats.py", "from ..ml import train", "hadml_copy.compare is not allowed to import hadml_copy.ml"),
        ("ml/features.py", "from ..compare import report", "hadml_copy.ml is not allowed to import hadml_copy.compare"),
        ("data/pdg.py", "from ..blocks import ragged", "hadml_copy.data is not allowed to import hadml_copy.blocks"),
        ("blocks/ragged.py", "from ..workflows import demo", "hadml_copy.blocks is not allowed to import hadml_copy.workflows"),
        ("stray.py", "", "hadml_copy.stray"),  # a new module must be given a layer
    ],
)
def test_import_layers_bite(tmp_path, module, line, broken):
    """The contract is not vacuous: on a copy of the package (renamed, so that the installed one is
    not analysed instead), one import against the layers breaks it."""
    shutil.copytree(ROOT / "python" / "hadml", tmp_path / "hadml_copy", ignore=shutil.ignore_patterns("*.so"))
    target = tmp_path / "hadml_copy" / module
    target.write_text((target.read_text() if target.exists() else "") + f"\n{line}\n")
    config = (ROOT / "pyproject.toml").read_text()
    config = config.replace('root_package = "hadml"', 'root_package = "hadml_copy"')
    config = config.replace('containers = ["hadml"]', 'containers = ["hadml_copy"]')
    (tmp_path / "pyproject.toml").write_text(config)
    r = _lint(tmp_path, tmp_path)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout + r.stderr
    assert broken in r.stdout, r.stdout


def test_core_stub_matches_extension():
    """python/hadml/_core.pyi (what mypy checks the bindings' callers against) names exactly what
    the compiled hadml._core has."""
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "hadml._core", "--allowlist", "tests/stubtest-allowlist.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    table = decay_table(ClusterGun().sample(3000, 5), DecayParams(), 6)
    d = tmp_path_factory.mktemp("detect")
    write_cluster_file(d / "s.dat", table)
    with open(d / "s.dat", "rb") as src, gzip.open(d / "s.dat.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    write_root(d / "s.root", to_awkward(table))
    return d, table


def test_detection_reads_only_the_head(sample):
    """A gzip file's format is told from its first bytes: with the compressed stream cut off in
    the middle, detection still works (it never got that far), reading the file does not."""
    d, _ = sample
    whole = (d / "s.dat.gz").read_bytes()
    assert len(gzip.decompress(whole)) > 50 * io.HEAD_BYTES
    cut = d / "cut.dat.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    assert io.sniff(cut) == "clusters"
    with pytest.raises(DataFormatError, match="cannot read file"):
        io.load_table(cut)


@pytest.mark.parametrize("name", ["s.dat", "s.dat.gz", "s.root"])
def test_detected_once_per_read(sample, monkeypatch, name):
    d, table = sample
    calls: list[str] = []
    real = io.sniff

    def counting(path: str | Path) -> str:
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(io, "sniff", counting)
    from hadml.workflows.evaluate import target_events

    path = str(d / name)
    t = io.load_table(path, 100)
    counts, p4 = io.load_hadrons(path, 100)
    events = io.load_events(path)
    held = target_events(path, 0.8, 1, 50)
    assert calls == [path] * 4
    assert t.n_events == 100 and counts.size == 100 and len(events) == table.n_events and len(held) == 50
    np.testing.assert_array_equal(counts, 2 * table.counts[:100])
    np.testing.assert_allclose(p4, table.hadron[: t.n_clusters].reshape(-1, 4))
