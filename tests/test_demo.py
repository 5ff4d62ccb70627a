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
        "nominal.onnx",
        "gan.hepmc3",
        "demo.json",
        "compare_gan/summary.md",
        "compare_nominal/summary.json",
        "train/history.jsonl",
    ):
        assert (out / f).is_file(), f
    res = json.loads((out / "demo.json").read_text())
    assert res["gan_vs_target"]["classifier_auc"]["auc"] > 0
    assert set(res["frame"]["GAN"]) == {"w1_cos_all", "w1_phi_all", "w1_cos_pert", "w1_phi_pert", "w1_cos_nonpert",
                                        "w1_phi_nonpert", "w1_fwd_all", "w1_fwd_pert", "w1_fwd_nonpert"}
    assert res["frame"]["GAN"]["w1_cos_pert"]["ratio"] is None  # ClSmrLight 0: a delta at cos = 1, floor 0
    # ... on the axis, where phi* is no angle: left out, not compared
    assert res["frame"]["GAN"]["w1_phi_pert"]["w1"] is None and res["frame"]["GAN"]["w1_phi_pert"]["on_axis"] == 1.0
    assert "total time" in r.output
    # both models are hadml-2 and the stress fit says what it was trained on
    from hadml.decayer import Decayer

    md = Decayer(str(out / "model.onnx")).metadata
    assert md["hadml.angle_convention"] == "hadml-2" and md["hadml.training_mode"] == "event"
    assert "variation.root" in md["hadml.training_sample"]
    # the HepMC3 written from the C++ decays reads back
    from hadml.data.hepmc import read_hepmc

    table, _, _ = read_hepmc(out / "gan.hepmc3")
    assert table.n_clusters > 0


def test_demo_refuses_an_unlabelled_sample(tmp_path, sample_1k):
    """A HadML cluster file has no isPerturbative flags: the hadml-2 demo says so, naming the file."""
    r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--data", str(sample_1k), "--budget", "1"])
    assert r.exit_code != 0
    assert "no isPerturbative flags" in r.output and "--clusters" in r.output
