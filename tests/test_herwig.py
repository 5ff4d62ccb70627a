"""Issue 6: the Herwig plugin. Runs only where Herwig 7 is installed (marker 'herwig')."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from hadml.data.hepmc import read_hepmc
from hadml.kinematics import recover_angles

pytestmark = pytest.mark.herwig


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A trained-looking generator with random weights, and one with a deliberately extreme
    output: theta ~ 0.002 for every cluster (all decays along the z axis)."""
    from hadml.ml.export import export_generator
    from hadml.ml.features import CLUSTER_FEATURES, Scaler, make_metadata
    from hadml.ml.models import Generator

    d = tmp_path_factory.mktemp("hw_models")
    md = make_metadata(
        CLUSTER_FEATURES,
        Scaler(np.array([0.2, -46, -46, -46.0]), np.array([46, 46, 46, 46.0])),
        10,
        "test",
        "herwig tests",
    )
    torch.manual_seed(0)
    G = Generator(4, 10, 32, 2).eval()
    normal = export_generator(G, d / "normal.onnx", md, 4, 10)
    X = Generator(4, 10, 32, 2).eval()
    with torch.no_grad():
        last = X.net[-2]
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-7.0, 0.0]))  # tanh(-7) = -0.99999834: theta = 2.6e-6 rad
    extreme = export_generator(X, d / "extreme.onnx", md, 4, 10)
    return normal, extreme


def _run(tmp: Path, events: int, seed: int, model: Path | None, ml: bool, name: str) -> Path:
    from hadml.herwig import run_lep

    return run_lep(tmp / name, events, seed, model=model, ml=ml, name=name)


def test_plugin_is_installed():
    from hadml.herwig import plugin_path

    assert plugin_path().is_file()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, models):
    tmp = tmp_path_factory.mktemp("hw_runs")
    return {
        "native": _run(tmp, 200, 11, None, False, "native"),
        "ml": _run(tmp, 200, 11, models[0], True, "ml"),
        "ml_again": _run(tmp, 200, 11, models[0], True, "ml_again"),
        "extreme": _run(tmp, 200, 11, models[1], True, "extreme"),
    }


@pytest.mark.parametrize("which", ["native", "ml"])
def test_events_are_physical(runs, which):
    import pyhepmc

    n = 0
    with pyhepmc.open(runs[which]) as f:
        for ev in f:
            n += 1
            final = [p for p in ev.particles if p.status == 1]
            assert not any(p.pid == 81 for p in final), "cluster left in the final state"
            tot = np.sum([[p.momentum.e, p.momentum.px, p.momentum.py, p.momentum.pz] for p in final], axis=0)
            np.testing.assert_allclose(tot, [91.2, 0, 0, 0], atol=1e-6 * 91.2)
    assert n == 200
    table, hadrons, _ = read_hepmc(runs[which])
    assert table.n_clusters > 0
    assert np.abs(table.hadron.sum(axis=1) - table.cluster).max() < 1e-6 * 91.2


def test_same_seed_same_events(runs):
    digest = [hashlib.sha256(runs[k].read_bytes()).hexdigest() for k in ("ml", "ml_again")]
    assert digest[0] == digest[1]


def test_decays_are_the_gans(runs):
    """The extreme model puts every decay axis along z; Herwig's own decays are isotropic."""
    ext, _, _ = read_hepmc(runs["extreme"])
    nat, _, _ = read_hepmc(runs["native"])
    theta_ext = recover_angles(ext.decay_frame(), ext.hadron[:, 0], ext.hadron[:, 1])[0]
    theta_nat = recover_angles(nat.decay_frame(), nat.hadron[:, 0], nat.hadron[:, 1])[0]
    # the two-body decays read back from HepMC include fission products; the ClusterDecayer's are the GAN's
    assert np.mean(np.minimum(theta_ext, np.pi - theta_ext) < 1e-3) > 0.8
    assert np.mean(np.minimum(theta_nat, np.pi - theta_nat) < 1e-3) < 0.01


def test_missing_model_is_a_setup_error(tmp_path):
    from hadml.herwig import run_lep

    with pytest.raises(RuntimeError, match=r"ModelFile: no such file"):
        run_lep(tmp_path / "bad", 10, 1, model=tmp_path / "nope.onnx", ml=True)


def test_cli_herwig_lib():
    out = subprocess.run([sys.executable, "-m", "hadml.cli", "herwig-lib"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("HadmlHerwig.so")


@pytest.mark.parametrize("which", ["ml", "extreme"])
def test_run_is_clean_and_counted(runs, which):
    """Herwig's Cluster/PartonSplitter never fall back to a default handler (they would say so on
    stderr), and the run log counts the GAN's decays."""
    out = runs[which].parent
    assert "Creating new ClusterHadronizationHandler" not in (out / "Herwig_run.log").read_text()
    log = next(out.glob(f"{which}-S*.log")).read_text()
    line = next(x for x in log.splitlines() if x.startswith("hadml: "))
    assert int(line.split()[1]) > 1000, line  # ~7 per event, 200 events


def test_report_timing(tmp_path, models):
    from hadml.herwig import run_lep

    run_lep(tmp_path, 50, 3, model=models[0], ml=True, name="timed",
            settings=["set /Herwig/Hadronization/MLHandler:ReportTiming Yes"])
    log = next(tmp_path.glob("timed-S3.log")).read_text()
    m = re.search(r"hadml: timing: (\d+) ONNX Runtime batches .*?; ([\d.e+-]+) us per event .*? of which "
                  r"([\d.e+-]+) us in the decayer", log)
    assert m, log[-2000:]
    batches, per_event, in_decayer = int(m.group(1)), float(m.group(2)), float(m.group(3))
    assert batches >= 50  # one ONNX Runtime batch per event (discarded attempts may add a few)
    assert 0 < in_decayer < per_event


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to count threads")
def test_run_stays_single_threaded(runs):
    """Herwig is single-threaded, and with the GAN it must stay so: a second thread (ONNX
    Runtime's telemetry, or intra-op threads) switches glibc's malloc to its multi-threaded mode
    for the whole run, ~2 % of Herwig's time (docs/benchmarks.md)."""
    from hadml.herwig import plugin_path

    out = runs["ml"].parent
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    cmd = ["Herwig", "run", "ml.run", "-N", "300", "-s", "5", "-q", "-l", str(plugin_path().parent)]
    proc = subprocess.Popen(cmd, cwd=out, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most, polls = 0, 0
    while proc.poll() is None:
        try:
            most = max(most, len(os.listdir(f"/proc/{proc.pid}/task")))
            polls += 1
        except FileNotFoundError:
            break
        time.sleep(0.01)
    assert proc.wait() == 0
    assert polls > 20  # the run was watched while it generated events
    assert most == 1
