"""Issue 4: models, configuration, training loops, checkpoints/resume, export with metadata."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner

from hadml.cli import main
from hadml.data.gun import ClusterGun
from hadml.data.reference import DecayParams, decay_table
from hadml.data.writers import write_cluster_file
from hadml.ml.config import load_config
from hadml.ml.export import export_checkpoint, read_model_info
from hadml.ml.features import MetadataError
from hadml.ml.models import DeepSetsDiscriminator, Generator
from hadml.ml.pipeline import OnnxGenerator, preprocess
from hadml.ml.train import CheckpointError, Trainer, load_checkpoint


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    d = tmp_path_factory.mktemp("samples")
    gun = ClusterGun()
    nominal = decay_table(gun.sample(400, seed=1), DecayParams(), seed=2)
    sharp = decay_table(gun.sample(400, seed=3), DecayParams(ClSmrLight=0.0), seed=4)
    write_cluster_file(d / "nominal.dat", nominal)
    write_cluster_file(d / "sharp.dat", sharp)
    return d


def tiny(samples: Path, out: Path, *extra: str):
    return load_config(
        None,
        [
            f"data.clusters={samples / 'nominal.dat'}",
            f"output={out}",
            "train.epochs=2",
            "train.batch_size=500",
            "train.eval_every=1",
            "train.checkpoint_every=1",
            "model.hidden=32",
            "model.disc_hidden=32",
            *extra,
        ],
    )


def test_config_overrides_and_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("train:\n  mode: event\n  epochs: 7\nmodel:\n  use_partons: true\n")
    cfg = load_config(p, ["train.lr_g=5e-7", "model.use_partons=false", "output=x"])
    assert cfg.train.mode == "event" and cfg.train.epochs == 7 and cfg.train.lr_g == 5e-7
    assert cfg.model.use_partons is False and cfg.output == "x"
    with pytest.raises(KeyError, match=r"train\.epoch"):
        load_config(p, ["train.epoch=3"])
    with pytest.raises(ValueError, match="not a boolean"):
        load_config(p, ["model.use_partons=maybe"])
    with pytest.raises(ValueError, match=r"train\.mode"):
        load_config(p, ["train.mode=pixel"])


def test_generator_output_range():
    G = Generator(8, 10, 32, 2).eval()
    t = G(torch.randn(100, 8), torch.randn(100, 10))
    assert t.shape == (100, 2) and torch.all(t.abs() < 1)


def test_deep_sets_is_permutation_invariant_and_handles_variable_lengths():
    D = DeepSetsDiscriminator(32, 2)
    h = torch.randn(9, 4)
    ev = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    out = D(h, ev, 3)
    perm = torch.tensor([8, 3, 0, 5, 1, 7, 4, 2, 6])
    out2 = D(h[perm], ev[perm], 3)
    torch.testing.assert_close(out, out2)
    # each event alone gives its own score: events do not leak into each other
    alone = D(h[3:5], torch.zeros(2, dtype=torch.long), 1)
    torch.testing.assert_close(alone[0], out[1])


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["cluster", "event"])
def test_training_checkpoint_and_resume(samples, tmp_path, mode):
    extra = [f"train.mode={mode}"]
    if mode == "event":
        extra.append(f"data.target={samples / 'sharp.dat'}")
    cfg = tiny(samples, tmp_path / mode, *extra)
    s = Trainer(cfg, resume=False, quiet=True).fit()
    assert s["epochs"] == 2 and np.isfinite(s["best_metric"])
    for f in ("best.pt", "last.pt", "history.jsonl", "history.png", "summary.json"):
        assert (tmp_path / mode / f).is_file(), f
    hist = [json.loads(x) for x in (tmp_path / mode / "history.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in hist] == [1, 2] and all("metric" in h for h in hist)
    # resume continues from the last checkpoint to the new epoch count
    cfg.train.epochs = 3
    s2 = Trainer(cfg, resume=True, quiet=True).fit()
    assert s2["epochs"] == 3
    hist = (tmp_path / mode / "history.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in hist] == [1, 2, 3]
    # a fresh start forgets the old history
    cfg.train.epochs = 1
    Trainer(cfg, resume=False, quiet=True).fit()
    hist = (tmp_path / mode / "history.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in hist] == [1]


class _RunsCode:
    """Unpickling this calls print: any object could as well call os.system."""

    def __reduce__(self):
        return (print, ("code from a checkpoint ran",))


def test_checkpoint_is_tensors_and_plain_data_and_code_is_refused(samples, tmp_path, capsys):
    cfg = tiny(samples, tmp_path / "run", "train.epochs=1")
    Trainer(cfg, resume=False, quiet=True).fit()
    best = tmp_path / "run" / "best.pt"
    ck = torch.load(best, weights_only=True)  # loads without unpickling any object

    def kinds(x):
        if isinstance(x, dict):
            return set().union(*(kinds(v) for v in x.values()), {dict})
        if isinstance(x, (list, tuple)):
            return set().union(*(kinds(v) for v in x), {list})
        return {type(x)}

    assert kinds(ck) <= {dict, list, str, int, float, bool, type(None), torch.Tensor}
    # the same checkpoint with a pickled object in it is refused, and the object never runs
    for where in ("top", "config"):
        bad = tmp_path / f"evil_{where}.pt"
        evil = dict(ck)
        if where == "top":
            evil["extra"] = _RunsCode()
        else:
            evil["config"] = dict(ck["config"], hook=_RunsCode())
        torch.save(evil, bad)
        msg = rf"evil_{where}\.pt: refused: .*only tensors and plain data"
        with pytest.raises(CheckpointError, match=msg) as err:
            load_checkpoint(bad)
        assert "(it imports print)" in str(err.value)  # names what it refused
        with pytest.raises(CheckpointError, match=rf"evil_{where}\.pt: refused"):
            export_checkpoint(bad, tmp_path / "m.onnx")
    r = CliRunner().invoke(main, ["export", str(tmp_path / "evil_top.pt"), str(tmp_path / "m.onnx")])
    assert r.exit_code == 2 and "evil_top.pt: refused" in r.output, r.output
    assert not (tmp_path / "m.onnx").exists()
    # resuming from a tampered last.pt is refused too
    torch.save(dict(ck, extra=_RunsCode()), tmp_path / "run" / "last.pt")
    with pytest.raises(CheckpointError, match=r"last\.pt: refused"):
        Trainer(cfg, resume=True, quiet=True)
    assert "code from a checkpoint ran" not in capsys.readouterr().out
    # files that are not hadml checkpoints are named as such
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pt: not a readable torch checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"other\.pt: not a hadml checkpoint \(no config, generator"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match=r"missing\.pt: no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_same_seed_same_training(samples, tmp_path):
    a = Trainer(tiny(samples, tmp_path / "a"), resume=False, quiet=True)
    a.fit()
    b = Trainer(tiny(samples, tmp_path / "b"), resume=False, quiet=True)
    b.fit()
    for (ka, va), (_, vb) in zip(a.G.state_dict().items(), b.G.state_dict().items(), strict=True):
        torch.testing.assert_close(va, vb, msg=ka)


@pytest.mark.parametrize("partons", [False, True])
def test_export_matches_torch_and_carries_metadata(samples, tmp_path, partons):
    cfg = tiny(samples, tmp_path / "run", f"model.use_partons={partons}")
    Trainer(cfg, resume=False, quiet=True).fit()
    path = export_checkpoint(tmp_path / "run" / "best.pt", tmp_path / "m.onnx")
    info = read_model_info(path)
    assert info.use_partons is partons and info.noise_dim == 10
    G, _, _ = load_checkpoint(tmp_path / "run" / "best.pt")
    gen = OnnxGenerator(path)
    rng = np.random.default_rng(0)
    table = decay_table(ClusterGun().sample(50, seed=9), DecayParams(), seed=1)
    cond = preprocess(info, table.cluster, table.parton[:, 0], table.has_partons)
    for n in (1, 7, len(cond)):  # dynamic batch axis
        noise = rng.normal(size=(n, 10))
        ref = (
            G(torch.as_tensor(cond[:n], dtype=torch.float32), torch.as_tensor(noise, dtype=torch.float32))
            .detach()
            .numpy()
        )
        np.testing.assert_allclose(gen.network(cond[:n], noise), ref, atol=1e-5, rtol=0)


def _tamper(src: Path, dst: Path, key: str, value: str | None) -> Path:
    m = onnx.load(str(src))
    props = {p.key: p.value for p in m.metadata_props}
    if value is None:
        props.pop(key)
    else:
        props[key] = value
    del m.metadata_props[:]
    for k, v in props.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, str(dst))
    return dst


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("hadml.noise_dim", None, "missing metadata entry 'hadml.noise_dim'"),
        ("hadml.format_version", "99", "'hadml.format_version'"),
        ("hadml.angle_convention", "other", "'hadml.angle_convention'"),
        ("hadml.condition_min", "[0, 1]", "'hadml.condition_min' must hold 4"),
        ("hadml.noise_dim", "12", "input 'noise' must have shape (batch, 12)"),
        ("hadml.conditions", "not json", "'hadml.conditions' is not valid JSON"),
    ],
)
def test_bad_metadata_is_named(samples, tmp_path, key, value, message):
    Trainer(tiny(samples, tmp_path / "run"), resume=False, quiet=True).fit()
    good = export_checkpoint(tmp_path / "run" / "best.pt", tmp_path / "m.onnx")
    bad = _tamper(good, tmp_path / "bad.onnx", key, value)
    with pytest.raises(MetadataError) as err:
        read_model_info(bad)
    assert message in str(err.value) and "bad.onnx" in str(err.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(MetadataError, match="no such model file"):
        read_model_info(tmp_path / "nope.onnx")


@pytest.mark.slow
def test_torchrun_two_processes(samples, tmp_path):
    """DistributedDataParallel on CPU (gloo) with two ranks through torchrun."""
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "hadml.cli",
        "train",
        str(samples / "cfg.yaml"),
    ]
    (samples / "cfg.yaml").write_text(
        f"data:\n  clusters: {samples / 'nominal.dat'}\nmodel:\n  hidden: 32\n  disc_hidden: 32\n"
        f"train:\n  epochs: 2\n  batch_size: 300\n  eval_every: 1\n  threads: 1\noutput: {out}\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "best.pt").is_file()
    assert json.loads((out / "summary.json").read_text())["epochs"] == 2


def test_no_held_out_split_is_a_clear_error(samples, tmp_path):
    with pytest.raises(ValueError, match="leaves no training or no held-out"):
        Trainer(tiny(samples, tmp_path / "x", "data.train_fraction=1.0"), resume=False, quiet=True)
