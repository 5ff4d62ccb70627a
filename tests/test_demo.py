"""Issue 8: the main job end to end, on a tiny budget."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hadml.cli import main


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    r = CliRunner().invoke(main, ["demo", "--out", str(out), "--events", "300", "--budget", "3"])
    assert r.exit_code == 0, r.output
    for f in (
        "model.onnx",
        "gan.hepmc3",
        "demo.json",
        "compare_gan/summary.md",
        "compare_nominal/summary.json",
        "train/history.png",
    ):
        assert (out / f).is_file(), f
    res = json.loads((out / "demo.json").read_text())
    assert res["gan_vs_target"]["classifier_auc"]["auc"] > 0
    assert "total time" in r.output
    # the HepMC3 written from the C++ decays reads back
    from hadml.data.hepmc import read_hepmc

    table, _, _ = read_hepmc(out / "gan.hepmc3")
    assert table.n_clusters > 0
