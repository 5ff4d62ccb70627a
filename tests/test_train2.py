"""The hadml-2 trainer (issue 15): the conditional energy score fits a conditional distribution,
not its mean; the event-level strategy trains on hadrons only and says so in the metadata."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hadml.blocks.losses import energy_score
from hadml.blocks.networks import PairSetsDiscriminator
from hadml.data.errors import DataFormatError
from hadml.ml import hadml2 as H
from hadml.ml.train2 import EventLevel, Settings, Trainer2

from .test_hadml2 import _labelled


def test_energy_score_is_proper() -> None:
    """Draws from the data's own distribution score better than a collapsed (mean) model or a
    too wide one."""
    g = torch.Generator().manual_seed(0)
    y = torch.randn(20000, 2, generator=g)

    def score(x1: torch.Tensor, x2: torch.Tensor) -> float:
        return float(energy_score(x1, x2, y))

    same = score(torch.randn(20000, 2, generator=g), torch.randn(20000, 2, generator=g))
    mean = score(torch.zeros(20000, 2), torch.zeros(20000, 2))
    wide = score(2 * torch.randn(20000, 2, generator=g), 2 * torch.randn(20000, 2, generator=g))
    assert same < mean - 0.1 and same < wide - 0.05


def _fit(tmp_path, **kw) -> Trainer2:
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=kw.pop("epochs", 25), threads=1, batch_size=256,
                          seed=1, lr_g=kw.pop("lr", 2e-3), **kw), table=_labelled(2000, smear=0.2))
    t.fit()
    return t


def test_energy_score_fit_learns_the_conditional_distribution(tmp_path) -> None:
    """Herwig-like toy (ClSmr 0.2: hadron 1 along a perturbative constituent 1, <cos> = 0.8;
    isotropic otherwise): without a discriminator, the energy-score fit puts perturbative decays
    forward and keeps the isotropic ones spread (std of cos theta* of a uniform: 0.577), which a
    mean-seeking loss would collapse."""
    t = _fit(tmp_path, adversarial_weight=0.0, energy_weight=1.0, ema=0.9)
    v = t.parts["validation"]
    pert = v.table.perturbative[:, 0].astype(bool)
    c = torch.as_tensor(t.scaler.transform(v.raw), dtype=torch.float32)
    with torch.no_grad():
        u = H.direction_from_output(t.G(c, t.noise(len(c)))).numpy()
    assert u[pert, 2].mean() > 0.65, u[pert, 2].mean()
    assert abs(u[~pert, 2].mean()) < 0.15 and 0.45 < u[~pert, 2].std() < 0.7, (u[~pert, 2].mean(), u[~pert, 2].std())
    assert 1.6 < np.std(np.arctan2(u[~pert, 1], u[~pert, 0])) < 2.0  # flat phi*: pi / sqrt(3) = 1.81


@pytest.mark.parametrize("pairs", [False, True])
def test_event_level_fit_runs_on_hadrons_and_says_so(tmp_path, pairs) -> None:
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=2, threads=1, batch_size=256, pairs=pairs), EventLevel,
                 table=_labelled(600))
    assert isinstance(t.strategy.D, PairSetsDiscriminator) == pairs  # type: ignore[attr-defined]
    s = t.fit()
    assert set(t.validate()) == {"w1_E", "w1_pt", "w1_abs_cos", "w1_pair_mass", "w1_pair_abs_cos", "w1_pair_charged_cos",
                                 "metric"}
    assert s["epochs"] == 2 and np.isfinite(s["best_metric"])
    md = t.metadata()
    assert md["hadml.training_mode"] == "event" and "event-level fit" in md["hadml.training_sample"]


def test_event_level_fit_in_the_events_own_frame(tmp_path) -> None:
    """disc_frame "event": D sees the hadrons about each event's axis (scaled on the target),
    pooled per hemisphere; a frame it does not know is refused."""
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256, pairs=True,
                          disc_frame="event"), EventLevel, table=_labelled(400))
    e = t.strategy
    assert e.D.phi[0].in_features == 4 and e.D.hemispheres  # type: ignore[attr-defined]
    assert float(e.sd[1]) > 0  # type: ignore[attr-defined]
    assert np.isfinite(t.fit()["best_metric"])
    with pytest.raises(ValueError, match="disc_frame 'beam'"):
        Trainer2(Settings("mem", output=str(tmp_path), disc_frame="beam", threads=1), EventLevel, table=_labelled(100))


def test_event_level_target_must_exist(tmp_path) -> None:
    bad = tmp_path / "nope.clusters"
    with pytest.raises(DataFormatError, match=r"nope\.clusters.*no such file"):
        Trainer2(Settings("mem", output=str(tmp_path), target=str(bad)), EventLevel, table=_labelled(100))


def test_start_from_refuses_another_scaling(tmp_path) -> None:
    """A checkpoint starts a fit on the data it was scaled for, and is refused (naming the file
    and the conditions) on data whose condition scaling differs."""
    a = Trainer2(Settings("mem", output=str(tmp_path / "a"), epochs=1, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    a.fit()
    ck = tmp_path / "a" / "best.pt"
    same = Trainer2(Settings("mem", output=str(tmp_path / "b"), threads=1), table=_labelled(300, seed=3))
    same.start_from(ck)
    for p, q in zip(same.G.parameters(), a.G.parameters(), strict=True):
        assert torch.equal(p, q)
    other = Trainer2(Settings("mem", output=str(tmp_path / "c"), threads=1), table=_labelled(300, seed=4))
    with pytest.raises(ValueError, match=r"best\.pt: its condition scaling does not match .*log_cluster_mass"):
        other.start_from(ck)


def test_start_from_an_exported_model(tmp_path) -> None:
    """An exported hadml-2 model starts a fit (its weights, checked against its recorded scaling):
    a stress fit can begin from the shipped model on a clean clone. Its generator then gives the
    exported model's outputs; a model of another width, or for other data, is refused."""
    import onnxruntime as ort

    a = Trainer2(Settings("mem", output=str(tmp_path / "a"), epochs=1, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    a.fit()
    onnx_path = a.export(tmp_path / "a.onnx")
    b = Trainer2(Settings("mem", output=str(tmp_path / "b"), threads=1, seed=7), table=_labelled(300, seed=3))
    b.start_from(onnx_path)
    c, z = b.cond[:64].numpy(), b.noise(64).numpy()
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    [ref] = sess.run(None, {"conditions": c, "noise": z})
    with torch.no_grad():
        out = b.G.eval()(torch.as_tensor(c), torch.as_tensor(z)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    narrow = Trainer2(Settings("mem", output=str(tmp_path / "n"), threads=1, hidden=16), table=_labelled(300, seed=3))
    with pytest.raises(ValueError, match=r"a\.onnx: its generator is not this one \(hidden 16"):
        narrow.start_from(onnx_path)
    other = Trainer2(Settings("mem", output=str(tmp_path / "o"), threads=1), table=_labelled(300, seed=4))
    with pytest.raises(ValueError, match=r"a\.onnx: its condition scaling does not match"):
        other.start_from(onnx_path)


def test_a_diverged_fit_stops_and_keeps_its_best_epoch(tmp_path, monkeypatch) -> None:
    """A non-finite loss in epoch 3 ends the fit there (no crash in validation), keeps the best
    earlier epoch and says why; diverging before any epoch was validated is an error naming it."""
    t = Trainer2(Settings("mem", output=str(tmp_path / "a"), epochs=6, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    step, calls = t.strategy.step, {"n": 0}
    per_epoch = len(t.strategy.batches())

    def bad_step(idx):
        calls["n"] += 1
        d, g = step(idx)
        return (d, float("nan")) if calls["n"] > 2 * per_epoch else (d, g)

    monkeypatch.setattr(t.strategy, "step", bad_step)
    s = t.fit()
    assert s["epochs"] == 2 and s["best_epoch"] in (1, 2) and "diverged in epoch 3" in s["stopped"]
    u = Trainer2(Settings("mem", output=str(tmp_path / "b"), epochs=3, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    ustep = u.strategy.step
    monkeypatch.setattr(u.strategy, "step", lambda idx: (ustep(idx)[0], float("nan")))
    with pytest.raises(RuntimeError, match=r"diverged in epoch 1 .*before any epoch was validated"):
        u.fit()


def test_the_anchor_pulls_the_generator_back_to_its_start(tmp_path) -> None:
    """anchor_weight: the energy score of G's directions against the starting generator's is
    smallest while G is its start and grows when G moves away; steps that minimise it alone
    bring a moved generator back. Without a start it is refused, with weight 0 it is zero."""
    t = Trainer2(Settings("mem", output=str(tmp_path / "a"), epochs=1, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    t.fit()
    b = Trainer2(Settings("mem", output=str(tmp_path / "b"), threads=1, anchor_weight=1.0, lr_g=3e-3),
                 table=_labelled(300, seed=3))
    idx = torch.arange(len(b.cond))
    with pytest.raises(ValueError, match="anchor_weight > 0 needs a starting generator"):
        b.anchor_loss(idx, b.G(b.cond, b.noise(len(idx))))
    b.start_from(tmp_path / "a" / "best.pt")

    def anchor() -> float:
        torch.manual_seed(5)
        with torch.no_grad():
            return float(b.anchor_loss(idx, b.G(b.cond, b.noise(len(idx)))))

    at_start = anchor()
    with torch.no_grad():
        b.G.net[-1].bias += torch.tensor([0.0, 0.0, 3.0])  # every direction pushed towards +z*
    moved = anchor()
    assert moved > at_start + 0.1
    for _ in range(150):
        loss = b.anchor_loss(idx, b.G(b.cond, b.noise(len(idx))))
        b.opt_g.zero_grad()
        loss.backward()
        b.opt_g.step()
    assert anchor() < at_start + 0.3 * (moved - at_start)
    b.s.anchor_weight = 0.0
    assert float(b.anchor_loss(idx, b.G(b.cond, b.noise(len(idx))))) == 0.0


def test_the_anchor_can_hold_only_the_clusters_without_a_perturbative_constituent(tmp_path) -> None:
    """anchor_clusters="nonperturbative": the clusters with a perturbative constituent (those
    ClDir/ClSmr act on) are free, the others are held; an unknown choice is refused."""
    t = Trainer2(Settings("mem", output=str(tmp_path / "a"), epochs=1, threads=1, batch_size=256),
                 table=_labelled(300, seed=3))
    t.fit()
    with pytest.raises(ValueError, match="anchor_clusters 'perturbative'"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), anchor_clusters="perturbative"), table=_labelled(20))
    b = Trainer2(Settings("mem", output=str(tmp_path / "b"), threads=1, anchor_weight=1.0,
                          anchor_clusters="nonperturbative"), table=_labelled(300, seed=3))
    b.start_from(tmp_path / "a" / "best.pt")
    pert = torch.as_tensor(b.parts["train"].table.perturbative.astype(bool).any(1))
    assert torch.equal(b.anchored, ~pert) and 0.3 < float(pert.float().mean()) < 0.7
    free, held = torch.nonzero(pert).ravel(), torch.nonzero(~pert).ravel()

    def anchor(idx: torch.Tensor) -> float:
        torch.manual_seed(5)
        with torch.no_grad():
            return float(b.anchor_loss(idx, b.G(b.cond[idx], b.noise(len(idx)))))

    held_start = anchor(held)
    with torch.no_grad():
        b.G.net[-1].bias += torch.tensor([0.0, 0.0, 3.0])
    assert anchor(free) == 0.0
    assert anchor(held) > held_start + 0.1
    # the mixed batch scores its held rows only: the same as those rows alone, same draws
    mixed = torch.cat([free[:40], held[:40]])
    torch.manual_seed(5)
    u = b.G(b.cond[held[:40]], b.noise(40))
    torch.manual_seed(5)
    u_mixed = torch.cat([torch.zeros(40, 3), u])
    with torch.no_grad():
        torch.manual_seed(6)
        alone = float(b.anchor_loss(held[:40], u))
        torch.manual_seed(6)
        assert float(b.anchor_loss(mixed, u_mixed)) == pytest.approx(alone, rel=1e-6)


def test_event_level_selection_can_see_the_charge_flow(tmp_path) -> None:
    """select_charge_flow: the validation adds the charge-flow W1s (hemisphere charge products,
    leading charged hadrons) with their split-half floors; a generator whose hadron 1 always
    flies along constituent 1 (charge flow exaggerated) scores worse on them than the start."""
    table = _labelled(3000, seed=3)
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256,
                          select_charge_flow=True), EventLevel, table=table)
    d = t.validate()
    names = {"w1_qfqb_k0.5", "w1_qfqb_k1", "w1_lead_qq"}
    assert names <= set(d) and names <= set(t.strategy.floor)
    with torch.no_grad():
        t.G.net[-1].weight.zero_()
        t.G.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 1.0]))  # u = +z*: along constituent 1
    aligned = t.validate()
    assert aligned["w1_qfqb_k1"] > 2 * d["w1_qfqb_k1"]
    plain = Trainer2(Settings("mem", output=str(tmp_path / "p"), epochs=1, threads=1, batch_size=256),
                     EventLevel, table=table)
    assert not names & set(plain.validate())


def test_phi_is_compared_only_where_the_reference_defines_it() -> None:
    """A decay on the frame's axis has no azimuth (Herwig's perturbative decays with ClSmrLight 0:
    |u_T| ~ 1e-13): phi* of such clusters is left out (undefined, NaN, not a distance between
    round-off and a model's spread), while phi* elsewhere still sees a wrong azimuth."""
    from hadml.ml.train2 import direction_distances, phi_defined

    rng = np.random.default_rng(1)
    n = 4000

    def directions(phi_centre: float) -> np.ndarray:
        c = rng.uniform(-1, 1, n)
        f = rng.normal(phi_centre, 0.5, n)
        s = np.sqrt(1 - c * c)
        return np.stack([s * np.cos(f), s * np.sin(f), c], axis=1)

    pert = np.zeros((2 * n, 2), bool)
    pert[n:, 0] = True
    ref = np.concatenate([directions(0.0), np.tile([0.0, 0.0, 1.0], (n, 1)) + rng.normal(0, 1e-13, (n, 3))])
    cone = np.stack([0.05 * np.cos(rng.uniform(-np.pi, np.pi, n)), 0.05 * np.sin(rng.uniform(-np.pi, np.pi, n)),
                     np.full(n, np.sqrt(1 - 0.05**2))], axis=1)
    good = np.concatenate([directions(0.0), cone])
    assert phi_defined(ref).tolist() == [True] * n + [False] * n
    d = direction_distances(good, pert, ref, pert, phi_u=phi_defined(ref))
    assert np.isnan(d["w1_phi_pert"])
    assert d["w1_phi_all"] < 0.1 and d["w1_cos_pert"] == pytest.approx(1 - np.sqrt(1 - 0.05**2), rel=1e-6)
    bad = np.concatenate([directions(1.0), cone])  # the azimuth of the off-axis decays turned by 1 rad
    assert direction_distances(bad, pert, ref, pert, phi_u=phi_defined(ref))["w1_phi_all"] > 0.8


def test_cluster_level_validation_skips_what_has_no_floor(tmp_path) -> None:
    """ClSmrLight 0 labels: the perturbative decays lie on the axis (cos theta* a delta, its
    split-half floor round-off; phi* undefined): the validation metric leaves both out instead of
    dividing by ~1e-18 or averaging a NaN."""
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256),
                 table=_labelled(300, seed=3, smear=0.0))
    with torch.no_grad():
        d = t.strategy.validate()
    assert np.isnan(d["w1_phi_pert"]) and t.floor["w1_cos_pert"] < 1e-9
    assert np.isfinite(d["metric"]) and d["metric"] < 1e3


def test_forward_cosine_is_the_angle_to_the_flight_direction() -> None:
    """train2.forward_cos of a frame direction is its cosine to the cluster's flight direction,
    computed here in lab-parallel rest-frame coordinates from hadml.kinematics.decay_frame's axes;
    forward_distances vanishes for the same directions and sees a flipped azimuth."""
    from hadml import kinematics as K
    from hadml.ml.train2 import forward_cos, forward_distances

    rng = np.random.default_rng(3)
    n = 500
    p = rng.normal(size=(n, 3)) * 5
    cluster = np.column_stack([np.sqrt(1.5**2 + (p**2).sum(1)), p])
    q = rng.normal(size=(n, 3)) * 3
    constituent = np.column_stack([np.sqrt(0.3**2 + (q**2).sum(1)), q])
    axes, cos_alpha = K.decay_frame(cluster, constituent)
    u = rng.normal(size=(n, 3))
    u /= np.linalg.norm(u, axis=1)[:, None]
    lab = np.einsum("ni,nij->nj", u, axes)  # rows of axes are x*, y*, z* in lab-parallel coordinates
    flight = p / np.linalg.norm(p, axis=1)[:, None]
    np.testing.assert_allclose(forward_cos(u, cos_alpha), (lab * flight).sum(1), atol=1e-12)
    pert = np.zeros((n, 2), bool)
    pert[: n // 2, 0] = True
    assert forward_distances(u, cos_alpha, pert, u, cos_alpha, pert) == {"w1_fwd_all": 0.0, "w1_fwd_pert": 0.0,
                                                                         "w1_fwd_nonpert": 0.0}
    # along the flight direction: (sin alpha, 0, cos alpha) in the frame, forward cosine 1; with
    # phi* -> pi - phi* it is cos(2 alpha): the frame's x* must be the side the cluster flies to
    along = np.column_stack([np.sqrt(1 - cos_alpha**2), np.zeros(n), cos_alpha])
    np.testing.assert_allclose(forward_cos(along, cos_alpha), 1.0, atol=1e-12)
    flipped = along * np.array([-1.0, 1.0, 1.0])
    assert forward_distances(flipped, cos_alpha, pert, along, cos_alpha, pert)["w1_fwd_all"] > 0.1


def test_cluster_level_selection_can_see_the_forward_angle(tmp_path) -> None:
    """select_forward: the cluster-level validation adds the forward-cosine W1s with their floors.
    A generator with Herwig's own directions, but handed to the perturbative clusters in the wrong
    order (the most aligned decays to the clusters whose constituent flies most sideways), has
    exactly the target's cos theta* and phi* distributions, and the forward cosine sees it."""

    class Fixed(torch.nn.Module):  # "generator" returning preset directions for the validation rows
        def __init__(self, u: np.ndarray):
            super().__init__()
            self.u = torch.as_tensor(u, dtype=torch.float32)

        def forward(self, c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
            return self.u

    table = _labelled(1500, seed=3, smear=1.0)
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256, select_forward=True),
                 table=table)
    names = {"w1_fwd_all", "w1_fwd_pert"}
    assert names <= set(t.floor) and all(t.floor[k] > 0 for k in names)
    u = t.val_target.copy()
    t.G = Fixed(u)
    right = t.validate()
    p = np.flatnonzero(t.val_pert.any(1))
    by_alpha = p[np.argsort(np.abs(t.val_cos_alpha[p]))]  # most sideways constituent first
    u[by_alpha] = t.val_target[p[np.argsort(-t.val_target[p, 2])]]  # ... gets the most aligned decay
    t.G = Fixed(u)
    wrong = t.validate()
    assert names <= set(right) and right["w1_fwd_pert"] < 1e-6
    for k in ("w1_cos_all", "w1_cos_pert"):
        assert wrong[k] < 1e-6  # the same directions, so the same marginals
    assert wrong["w1_fwd_pert"] > 2 * t.floor["w1_fwd_pert"]
    plain = Trainer2(Settings("mem", output=str(tmp_path / "p"), epochs=1, threads=1, batch_size=256), table=table)
    assert not names & set(plain.validate())


def test_the_isotropic_start_is_isotropic_and_anchors(tmp_path) -> None:
    """start_isotropic: the label-free prior. Before it the untrained generator's directions are far
    from isotropic; after it cos theta* is uniform within sampling noise, and it is the anchor."""
    from hadml.ml.train2 import w1_to_uniform

    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256, seed=2),
                 table=_labelled(1500, seed=3))
    assert w1_to_uniform(np.linspace(-1, 1, 10001)) < 1e-3 and abs(w1_to_uniform(np.ones(100)) - 1.0) < 1e-12
    with torch.no_grad():
        u0 = H.direction_from_output(t.G(t.val_cond, t.noise(len(t.val_cond)))).numpy()
    before = w1_to_uniform(u0[:, 2])
    assert t.G0 is None
    r = t.start_isotropic(steps=1500)
    assert before > 0.1 and r["w1_cos_uniform"] < 0.03 and abs(r["mean_cos"]) < 0.03, (before, r)
    assert t.G0 is not None and not any(q.requires_grad for q in t.G0.parameters())


def test_the_isotropic_start_of_the_histogram_head_is_exact(tmp_path) -> None:
    """start_isotropic with the histogram head: equal logits for every condition (not a fit), so
    cos theta* is the noise's uniform draw; before it the random head is not flat."""
    t = Trainer2(Settings("mem", output=str(tmp_path), epochs=1, threads=1, batch_size=256, seed=2,
                          flat_azimuth=True, head="histogram"), table=_labelled(1500, seed=3))
    zero = t.val_cond.new_zeros(len(t.val_cond), t.G.noise_dim)

    def logits() -> torch.Tensor:
        with torch.no_grad():
            return t.G.net(torch.cat([t.val_cond, zero], dim=1))

    assert float(logits().std(dim=1).max()) > 1e-3
    t.start_isotropic()
    assert float(logits().abs().max()) == 0.0
    z = torch.linspace(-3, 3, 7)[:, None].expand(7, t.G.noise_dim).contiguous()
    with torch.no_grad():
        u = t.G(t.val_cond[:7], z).numpy()
    from hadml.ml.train2 import _phi

    np.testing.assert_allclose(u[:, 2], 2 * _phi(z[:, 0]).numpy() - 1, atol=1e-5)
    assert t.G0 is not None


def test_frame_report_sees_the_angle_to_the_flight_direction() -> None:
    """workflows.evaluate.frame_report: Herwig's own directions are at zero distance everywhere; the
    same directions handed to the perturbative clusters in the wrong order (most aligned decay to
    the most sideways constituent) keep cos theta* and phi* exactly, and the forward-angle rows
    (w1_fwd_*, with split-half floors) report it."""
    from hadml.ml.train2 import arrays
    from hadml.workflows.evaluate import frame_report

    table = _labelled(1500, seed=4, smear=1.0)
    a = arrays(table)
    ref, cos_alpha = a.target, a.raw[:, H.CONDITIONS.index("cos_alpha")]
    same = frame_report(ref.copy(), table, splits=4)
    assert {"w1_fwd_all", "w1_fwd_pert", "w1_fwd_nonpert"} <= set(same)
    assert all(v["w1"] == 0.0 for v in same.values() if v["w1"] is not None)
    p = np.flatnonzero(np.asarray(table.perturbative, bool).any(1))
    u = ref.copy()
    u[p[np.argsort(np.abs(cos_alpha[p]))]] = ref[p[np.argsort(-ref[p, 2])]]
    wrong = frame_report(u, table, splits=4)
    assert wrong["w1_cos_all"]["w1"] < 1e-12 and wrong["w1_cos_pert"]["w1"] < 1e-12
    assert wrong["w1_fwd_pert"]["ratio"] > 2 and wrong["w1_fwd_nonpert"]["w1"] == 0.0


def test_the_permuted_reference_keeps_each_class_and_rebuilds_its_decays() -> None:
    """workflows.evaluate.permuted_decays (evaluate_hadml2.py's ``permuted``): Herwig's directions
    are exchanged only among clusters of one class (the multiset per class is kept, the rows move),
    and the rebuilt hadrons carry those directions with Herwig's masses and the cluster's
    four-momentum."""
    from hadml.data.table import hadron_mass
    from hadml.ml.train2 import arrays
    from hadml.workflows.evaluate import class_key, permuted_decays

    table = _labelled(1500, seed=5, smear=1.0)
    ref = arrays(table).target
    key = class_key(table)
    pert = np.asarray(table.perturbative, bool)
    assert len(np.unique(key)) >= 3  # the sample has perturbative and non-perturbative classes
    # the key separates the perturbative flags (the class Herwig's ClDir / ClSmr look at)
    for c in np.unique(key):
        assert len(np.unique(pert[key == c], axis=0)) == 1
    out, u = permuted_decays(table, seed=3)
    assert not np.array_equal(u, ref)
    for c in np.unique(key):
        s = key == c
        np.testing.assert_array_equal(np.sort(u[s], axis=0), np.sort(ref[s], axis=0))
    again = arrays(out).target
    np.testing.assert_allclose(again, u, atol=1e-9)
    np.testing.assert_allclose(out.hadron.sum(1), table.cluster, rtol=0, atol=1e-9)
    h = out.hadron
    m = np.sqrt(h[..., 0] ** 2 - (h[..., 1:] ** 2).sum(-1))
    np.testing.assert_allclose(m, hadron_mass(table.hadron_pid), rtol=1e-9)


def test_a_blind_generator_ignores_its_blind_conditions_as_exported(tmp_path) -> None:
    """--blind log1p_cluster_p,cos_alpha: after a fit (Adam, EMA) and through ONNX, the model's
    direction does not move when only those conditions change, and does move with the others;
    a start from a model that saw them forgets them; an unknown name is refused."""
    import onnxruntime as ort

    blind = ("log1p_cluster_p", "cos_alpha")
    t = Trainer2(Settings("mem", output=str(tmp_path / "b"), epochs=2, threads=1, batch_size=256, ema=0.9,
                          energy_weight=1.0, blind=blind), table=_labelled(300, seed=3))
    t.fit()
    path = t.export(tmp_path / "b.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    c, z = t.cond[:64].numpy(), t.noise(64).numpy()
    moved = c.copy()
    for name in blind:
        moved[:, H.CONDITIONS.index(name)] = np.random.default_rng(1).uniform(-1, 1, 64)
    other = c.copy()
    other[:, H.CONDITIONS.index("log_cluster_mass")] *= -1.0
    [a] = sess.run(None, {"conditions": c, "noise": z})
    [b] = sess.run(None, {"conditions": moved, "noise": z})
    [o] = sess.run(None, {"conditions": other, "noise": z})
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - o).max() > 1e-4
    seeing = Trainer2(Settings("mem", output=str(tmp_path / "s"), epochs=1, threads=1, batch_size=256),
                      table=_labelled(300, seed=3))
    seeing.fit()
    start = seeing.export(tmp_path / "s.onnx")
    again = Trainer2(Settings("mem", output=str(tmp_path / "a"), threads=1, blind=blind), table=_labelled(300, seed=3))
    again.start_from(start)
    with torch.no_grad():
        d = again.G(torch.as_tensor(c), torch.as_tensor(z)) - again.G(torch.as_tensor(moved), torch.as_tensor(z))
    assert float(d.abs().max()) == 0.0
    with pytest.raises(ValueError, match=r"blind condition.*'cluster_pt'.*not hadml-2 conditions"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), threads=1, blind=("cluster_pt",)),
                 table=_labelled(300, seed=3))


def test_blind_class_only_is_every_condition_but_the_constituents_class() -> None:
    """--blind class-only (scripts/results.sh's fits): blind to the cluster's mass, momentum, flight
    angle and the hadron masses, seeing the flags and flavours; names checked once, in hadml2."""
    assert H.blind_conditions(H.CLASS_ONLY) == ("log_cluster_mass", "log1p_cluster_p", "cos_alpha",
                                                "hadron1_mass", "hadron2_mass")
    assert set(H.blind_conditions(H.CLASS_ONLY)).isdisjoint(H.CLASS_CONDITIONS)
    assert H.blind_conditions(" cos_alpha, pert1 ") == ("cos_alpha", "pert1")
    assert H.blind_conditions("") == ()
    with pytest.raises(ValueError, match=r"'class_only'.*not hadml-2 conditions"):
        H.blind_conditions("class_only")


def test_a_flat_azimuth_generator_draws_phi_flat_as_exported(tmp_path) -> None:
    """--flat-azimuth: through ONNX Runtime the last noise value only turns the direction about the
    frame's z axis (u_z and the length stay, the azimuth moves by psi = pi (1 + erf(z / sqrt 2))),
    and phi* of many draws for one cluster is flat although the network alone is not; a generator
    without the option is not flat (the check can fail)."""
    import math

    import onnxruntime as ort

    def fitted(flat: bool, name: str):
        t = Trainer2(Settings("mem", output=str(tmp_path / name), epochs=1, threads=1, batch_size=256,
                              energy_weight=1.0, flat_azimuth=flat), table=_labelled(300, seed=3))
        t.fit()
        return t, ort.InferenceSession(str(t.export(tmp_path / f"{name}.onnx")), providers=["CPUExecutionProvider"])

    t, sess = fitted(True, "f")
    n = 20000
    c = np.repeat(t.cond[:1].numpy(), n, axis=0)
    z = t.noise(n).numpy()
    turned = z.copy()
    turned[:, -1] = np.random.default_rng(2).normal(size=n)
    [a] = sess.run(None, {"conditions": c, "noise": z})
    [b] = sess.run(None, {"conditions": c, "noise": turned})
    np.testing.assert_allclose(a[:, 2], b[:, 2], rtol=0, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1), rtol=1e-5)
    psi = lambda x: math.pi * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))  # noqa: E731
    dphi = np.angle(np.exp(1j * (np.arctan2(b[:, 1], b[:, 0]) - np.arctan2(a[:, 1], a[:, 0])
                                  - psi(turned[:, -1]) + psi(z[:, -1]))))
    assert np.abs(dphi).max() < 1e-4
    counts = np.histogram(np.arctan2(a[:, 1], a[:, 0]), bins=10, range=(-math.pi, math.pi))[0]
    chi2 = float(np.sum((counts - n / 10) ** 2 / (n / 10)))
    assert chi2 < 40, chi2  # 9 degrees of freedom: flat
    # a later fit starts from the exported model (its rotation's constants are no weights)
    again = Trainer2(Settings("mem", output=str(tmp_path / "a"), threads=1, flat_azimuth=True), table=_labelled(300, seed=3))
    again.start_from(tmp_path / "f.onnx")
    with torch.no_grad():
        np.testing.assert_allclose(again.G(torch.as_tensor(c[:64]), torch.as_tensor(z[:64])).numpy(), a[:64],
                                   rtol=1e-5, atol=1e-6)
    _, plain = fitted(False, "p")
    [p] = plain.run(None, {"conditions": c, "noise": z})
    counts = np.histogram(np.arctan2(p[:, 1], p[:, 0]), bins=10, range=(-math.pi, math.pi))[0]
    assert float(np.sum((counts - n / 10) ** 2 / (n / 10))) > 100  # a network alone is not flat


def test_the_histogram_head_draws_its_histogram_as_exported(tmp_path) -> None:
    """--head histogram: through ONNX Runtime, cos theta* of one cluster is the inverse of the
    piecewise-linear CDF that the softmax bin probabilities define (computed here from the weights,
    for a fitted generator), unit vectors, phi* flat; equal logits give the isotropic decay exactly
    (cos theta* = 2 Phi(z) - 1); a likelihood fit is refused without the head."""
    import math

    import onnxruntime as ort

    from hadml.ml.train2 import HISTOGRAM_BINS

    t = Trainer2(Settings("mem", output=str(tmp_path / "q"), epochs=1, threads=1, batch_size=256,
                          likelihood_weight=1.0, flat_azimuth=True, head="histogram", lr_g=1e-2),
                 table=_labelled(300, seed=3))
    t.fit()
    sess = ort.InferenceSession(str(t.export(tmp_path / "q.onnx")), providers=["CPUExecutionProvider"])
    n = 20000
    c = np.repeat(t.cond[:1].numpy(), n, axis=0)
    z = t.noise(n).numpy()
    [a] = sess.run(None, {"conditions": c, "noise": z})
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    with torch.no_grad():
        p = torch.softmax(t.G.net(torch.cat([t.cond[:1], torch.zeros(1, t.s.noise_dim)], dim=1)), dim=1)[0].numpy()
    assert p.std() > 0.05 * p.mean()  # the fit moved the histogram off the isotropic start
    cdf = np.concatenate([[0.0], np.cumsum(p.astype(np.float64))])
    tq = 0.5 * (1 + np.vectorize(math.erf)(z[:, 0].astype(np.float64) / math.sqrt(2)))
    expected = np.interp(tq, cdf, np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1))
    np.testing.assert_allclose(a[:, 2], expected, rtol=0, atol=2e-5)
    counts = np.histogram(np.arctan2(a[:, 1], a[:, 0]), bins=10, range=(-math.pi, math.pi))[0]
    assert float(np.sum((counts - n / 10) ** 2 / (n / 10))) < 40  # 9 degrees of freedom: flat
    with torch.no_grad():  # equal logits: the isotropic decay
        for q in t.G.net[-1].parameters():
            q.zero_()
        iso = t.G(torch.as_tensor(c[:1000]), torch.as_tensor(z[:1000])).numpy()
    np.testing.assert_allclose(iso[:, 2], 2 * tq[:1000] - 1, atol=2e-6)
    with pytest.raises(ValueError, match=r"histogram head.*flat_azimuth"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), threads=1, head="histogram"), table=_labelled(300, seed=3))
    with pytest.raises(ValueError, match=r"likelihood_weight needs the histogram head"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), threads=1, likelihood_weight=1.0, flat_azimuth=True),
                 table=_labelled(300, seed=3))


def test_the_histogram_likelihood_is_the_binned_density_of_the_observed_cos_theta() -> None:
    """Generator.histogram_nll = mean of -log(p_k K / 2) over the bins k the observed cos theta*
    fall in (edges -1 + 2 j / K; cos theta* = 1 in the last bin), computed here by hand."""
    from hadml.ml.train2 import HISTOGRAM_BINS, Generator

    torch.manual_seed(1)
    G = Generator(4, 16, 2, flat_azimuth=True, head="histogram")
    cond = torch.randn(50, len(H.CONDITIONS))
    cos = torch.cat([torch.rand(47) * 2 - 1, torch.tensor([-1.0, 1.0, 0.0])])
    with torch.no_grad():
        p = torch.softmax(G.net(torch.cat([cond, torch.zeros(50, 4)], dim=1)), dim=1).double().numpy()
        nll = float(G.histogram_nll(cond, cos))
    k = np.minimum(((cos.double().numpy() + 1) * HISTOGRAM_BINS / 2).astype(int), HISTOGRAM_BINS - 1)
    expected = -np.mean(np.log(p[np.arange(50), k] * HISTOGRAM_BINS / 2))
    assert abs(nll - expected) < 1e-5, (nll, expected)
    with pytest.raises(ValueError, match="histogram head"):
        Generator(4, 16, 2).histogram_nll(cond, cos)


def test_the_histogram_roughness_is_the_squared_second_difference_of_the_log_probabilities(tmp_path) -> None:
    """Generator.histogram_roughness: sum over bins of (l_(k-1) - 2 l_k + l_(k+1))^2 of the logits,
    averaged over rows, by hand; zero for a log-linear histogram (Herwig's exponential smearing) and
    for the isotropic one, whatever the normalisation; Trainer2 adds smooth_weight times it to G's
    loss and refuses it without the histogram head."""
    from hadml.ml.train2 import HISTOGRAM_BINS, Generator

    torch.manual_seed(2)
    G = Generator(4, 16, 2, flat_azimuth=True, head="histogram")
    cond = torch.randn(30, len(H.CONDITIONS))
    with torch.no_grad():
        lg = G.net(torch.cat([cond, torch.zeros(30, 4)], dim=1)).double().numpy()
        got = float(G.histogram_roughness(cond))
    expected = np.mean(np.sum((lg[:, :-2] - 2 * lg[:, 1:-1] + lg[:, 2:]) ** 2, axis=1))
    assert got > 1e-3 and abs(got - expected) < 1e-4 * expected, (got, expected)
    last = G.net[-1]
    with torch.no_grad():  # logits a + b * cos theta*: a log-linear density
        last.weight.zero_()
        last.bias.copy_(3.0 + 0.7 * torch.linspace(-1, 1, HISTOGRAM_BINS))
        assert float(G.histogram_roughness(cond)) < 1e-9
        last.bias[HISTOGRAM_BINS // 2] += 0.1  # one bin 10 % up: 0.1^2 (1 + 4 + 1)
        assert abs(float(G.histogram_roughness(cond)) - 0.06) < 1e-5
    with pytest.raises(ValueError, match="histogram head"):
        Generator(4, 16, 2).histogram_roughness(cond)
    t = Trainer2(Settings("mem", output=str(tmp_path / "a"), threads=1, flat_azimuth=True, head="histogram",
                          smooth_weight=2.0), table=_labelled(300, seed=3))
    with torch.no_grad():
        _, logits = t.G.forward_with_logits(t.cond, t.noise(len(t.cond)))
        assert abs(float(t.smooth_loss(logits)) - 2.0 * float(t.G.histogram_roughness(t.cond))) < 1e-4
    t.s.smooth_weight = 0.0
    assert float(t.smooth_loss(logits)) == 0.0
    with pytest.raises(ValueError, match="smooth_weight needs the histogram head"):
        Trainer2(Settings("mem", output=str(tmp_path / "b"), threads=1, smooth_weight=1.0), table=_labelled(300, seed=3))
    # an event-level step takes it: a strong weight smooths a rough head within a few steps
    e = Trainer2(Settings("mem", output=str(tmp_path / "e"), epochs=1, threads=1, batch_size=256, flat_azimuth=True,
                          head="histogram", smooth_weight=100.0, lr_g=1e-2), EventLevel, table=_labelled(600))
    with torch.no_grad():
        before = float(e.G.histogram_roughness(e.cond))
    for idx in e.strategy.batches()[:5]:
        e.strategy.step(idx)
    with torch.no_grad():
        assert float(e.G.histogram_roughness(e.cond)) < 0.2 * before, before


def test_a_silu_generator_exports_what_torch_computes(tmp_path) -> None:
    """--activation silu: the exported graph gives the trainer's directions (no LeakyReLU left in
    it), the metadata says so; an unknown activation is refused by name."""
    import onnx
    import onnxruntime as ort

    from hadml.blocks.networks import mlp

    t = Trainer2(Settings("mem", output=str(tmp_path / "s"), epochs=1, threads=1, batch_size=256,
                          energy_weight=1.0, activation="silu"), table=_labelled(300, seed=3))
    t.fit()
    path = t.export(tmp_path / "s.onnx")
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "LeakyRelu" not in ops and "Sigmoid" in ops, ops
    c, z = t.cond[:64].numpy(), t.noise(64).numpy()
    [a] = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"conditions": c, "noise": z})
    with torch.no_grad():
        np.testing.assert_allclose(t.G(torch.as_tensor(c), torch.as_tensor(z)).numpy(), a, rtol=1e-5, atol=1e-6)
    assert "silu generator" in t.metadata()["hadml.training_sample"]
    with pytest.raises(ValueError, match="activation 'tanh'"):
        mlp(3, 4, 1, False, activation="tanh")


def test_the_flow_statistics_are_the_charge_flow_observables(tmp_path, monkeypatch) -> None:
    """EventLevel.flow_statistics: Q_F Q_B as blocks.charge defines them (about the same axes), and
    the smooth leading-hadron product tends to lead_qq as its scale goes to zero; the flow loss has
    a finite gradient (events with an empty hemisphere included) and vanishes for one sample."""
    import hadml.ml.train2 as T
    from hadml.blocks.charge import charge_flow
    from hadml.blocks.networks import event_axes
    from hadml.blocks.ragged import gather_events

    t = Trainer2(Settings("mem", output=str(tmp_path), threads=1, flow_weight=1.0), EventLevel, table=_labelled(300))
    e = t.strategy
    n = 60
    ri, ev = gather_events(e.real_starts, e.real_counts, torch.arange(n))  # type: ignore[attr-defined]
    f = e.real[ri].double()  # type: ignore[attr-defined]
    counts = torch.bincount(ev, minlength=n).numpy()
    want = charge_flow(counts, f[:, 4].numpy(), f[:, :4].numpy(), event_axes(f[:, 1:4], ev, n).numpy())
    monkeypatch.setattr(T, "FLOW_LEAD_SCALE", 1e-4)
    got = e.flow_statistics(f, ev, n)  # type: ignore[attr-defined]
    for g, k in zip(got, ("qfqb_k0.5", "qfqb_k1", "lead_qq"), strict=True):
        w = want[k][np.isfinite(want[k])]
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-9, atol=1e-12, err_msg=k)
    monkeypatch.setattr(T, "FLOW_LEAD_SCALE", 1.0)
    x = f.clone().requires_grad_(True)
    loss = e.flow_loss(x, ev, n, e.flow_statistics(f, ev, n))  # type: ignore[attr-defined]
    assert float(loss.detach()) == pytest.approx(0.0, abs=1e-12)
    shifted = f.clone()
    shifted[:, 1:4] *= torch.linspace(0.5, 1.5, len(f), dtype=f.dtype)[:, None]
    x = shifted.clone().requires_grad_(True)
    loss = e.flow_loss(x, ev, n, e.flow_statistics(f, ev, n))  # type: ignore[attr-defined]
    loss.backward()
    assert float(loss.detach()) > 0 and torch.isfinite(x.grad).all() and float(x.grad.abs().sum()) > 0


def test_the_target_flow_table_gives_each_batch_its_statistics(tmp_path) -> None:
    """EventLevel.target_flow: the statistics of any batch of target events, read from the table
    made once at start, are those of the batch computed on its own (about the same axes), in the
    events' order; without the flow loss there is no table, and asking says so."""
    from hadml.blocks.ragged import gather_events

    t = Trainer2(Settings("mem", output=str(tmp_path), threads=1, flow_weight=1.0), EventLevel, table=_labelled(300))
    e = t.strategy
    sel = torch.randperm(len(e.real_counts), generator=torch.Generator().manual_seed(3))[:70]  # type: ignore[attr-defined]
    ri, ev = gather_events(e.real_starts, e.real_counts, sel)  # type: ignore[attr-defined]
    want = e.flow_statistics(e.real[ri], ev, len(sel), e.real_axes[sel])  # type: ignore[attr-defined]
    got = e.target_flow(sel)  # type: ignore[attr-defined]
    assert len(got) == len(want) == 3
    for g, w in zip(got, want, strict=True):
        assert len(w) > 50
        torch.testing.assert_close(g, w, rtol=0, atol=0)
    t0 = Trainer2(Settings("mem", output=str(tmp_path / "n"), threads=1), EventLevel, table=_labelled(300))
    with pytest.raises(ValueError, match="flow_weight > 0"):
        t0.strategy.target_flow(sel)  # type: ignore[attr-defined]


def test_the_flow_loss_can_move_only_the_perturbative_clusters(tmp_path) -> None:
    """flow_clusters="perturbative": the flow loss's gradient reaches only the hadrons of clusters
    with a perturbative constituent (the others still count in the statistics, so the loss itself
    is unchanged); the training step's mask is the training clusters' flags; an unknown choice is
    refused by name."""
    from hadml.blocks.ragged import gather_events

    with pytest.raises(ValueError, match="flow_clusters 'none'"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), flow_clusters="none"), EventLevel, table=_labelled(300))
    t = Trainer2(Settings("mem", output=str(tmp_path), threads=1, flow_weight=1.0, flow_clusters="perturbative"),
                 EventLevel, table=_labelled(300))
    e = t.strategy
    pert = torch.as_tensor(t.parts["train"].table.perturbative.astype(bool).any(1))
    assert torch.equal(e.flow_moves, pert) and 0 < int(pert.sum()) < len(pert)  # type: ignore[attr-defined]
    n = 60
    ci, ev_c = gather_events(e.starts, e.counts, torch.arange(n))  # type: ignore[attr-defined]
    ev = torch.repeat_interleave(ev_c, 2)
    ri, ev_r = gather_events(e.real_starts, e.real_counts, torch.arange(n))  # type: ignore[attr-defined]
    real = e.real[ri].double()  # type: ignore[attr-defined]
    with torch.no_grad():
        fake = e._fake(ci)[0].double()  # type: ignore[attr-defined]
    moves = e.flow_moves[ci].repeat_interleave(2)  # type: ignore[attr-defined]
    grads, losses = [], []
    for m in (None, moves):
        x = fake.clone().requires_grad_(True)
        loss = e.flow_loss(x, ev, n, e.flow_statistics(real, ev_r, n), m)  # type: ignore[attr-defined]
        loss.backward()
        grads.append(x.grad)
        losses.append(float(loss.detach()))
    assert losses[0] == pytest.approx(losses[1], rel=1e-12) and losses[0] > 0
    assert float(grads[0][~moves].abs().sum()) > 0  # without the mask the unflagged hadrons move
    assert float(grads[1][~moves].abs().sum()) == 0.0
    torch.testing.assert_close(grads[1][moves], grads[0][moves])


def test_the_targets_event_axes_are_computed_once_and_match_each_batchs(tmp_path) -> None:
    """EventLevel.real_axes (the target's events' axes, computed once at start): for any selection
    of events, the axes event_axes gives for the gathered hadrons, up to their arbitrary sign."""
    from hadml.blocks.networks import event_axes
    from hadml.blocks.ragged import gather_events

    e = Trainer2(Settings("mem", output=str(tmp_path), threads=1, disc_frame="event"), EventLevel,
                 table=_labelled(300)).strategy
    sel = torch.randperm(len(e.real_counts))[:50]  # type: ignore[attr-defined]
    ri, ev = gather_events(e.real_starts, e.real_counts, sel)  # type: ignore[attr-defined]
    want = event_axes(e.real[ri, 1:4].double(), ev, len(sel))  # type: ignore[attr-defined]
    got = e.real_axes[sel].double()  # type: ignore[attr-defined]
    np.testing.assert_allclose((got * want).sum(1).abs().numpy(), 1.0, atol=1e-5)


def test_the_perturbative_masks_need_the_records_flags() -> None:
    """has_perturbative (the anchor's and the flow loss's mask): a record without Herwig's
    perturbative flags is refused by a message naming the setting, not an AttributeError."""
    import dataclasses

    from hadml.ml.train2 import has_perturbative

    t = _labelled(50)
    assert torch.equal(has_perturbative(t, "x"), torch.as_tensor(t.perturbative.astype(bool).any(1)))
    with pytest.raises(ValueError, match="flow_clusters 'perturbative' needs the clusters' perturbative flags"):
        has_perturbative(dataclasses.replace(t, perturbative=None), "flow_clusters 'perturbative'")


def test_a_degree_one_histogram_head_is_herwigs_smearing_exactly_through_onnx(tmp_path) -> None:
    """--histogram-degree D: the head's log-probabilities are D Legendre coefficients times P_1..P_D
    at the bin centres. With degree 1 and coefficient 1 / s, the exported graph's cos theta* at the
    quantile t = F(e_k) of Herwig's smeared law (density exp((c - 1) / s) on [-1, 1], F computed
    here in closed form) is the bin edge e_k itself: the basis is in the graph and holds Herwig's
    smearing exactly. Zero coefficients are the isotropic decay; a checkpoint of another degree is
    refused by name; the degree needs the histogram head."""
    import math

    import onnxruntime as ort
    from scipy.special import ndtri

    from hadml.ml.train2 import HISTOGRAM_BINS, Generator, legendre_basis

    b = legendre_basis(3)
    x = -1.0 + (np.arange(HISTOGRAM_BINS) + 0.5) * (2.0 / HISTOGRAM_BINS)
    np.testing.assert_allclose(b, [x, (3 * x**2 - 1) / 2, (5 * x**3 - 3 * x) / 2], atol=1e-12)
    s = 0.78  # ClSmrLight of Herwig 7.2's default
    t = Trainer2(Settings("mem", output=str(tmp_path / "d"), epochs=1, threads=1, batch_size=256, flat_azimuth=True,
                          head="histogram", histogram_degree=1), table=_labelled(300, seed=3))
    t.start_isotropic()
    with torch.no_grad():
        t.G.net[-1].bias.fill_(1.0 / s)
    sess = ort.InferenceSession(str(t.export(tmp_path / "d.onnx")), providers=["CPUExecutionProvider"])
    edges = np.linspace(-1.0, 1.0, HISTOGRAM_BINS + 1)[1:-1:7]
    cdf = (np.exp((edges - 1) / s) - math.exp(-2 / s)) / (1 - math.exp(-2 / s))
    z = np.zeros((len(edges), t.s.noise_dim), dtype=np.float32)
    z[:, 0] = ndtri(cdf)  # the standard normal quantiles: Phi(z) = F(e_k)
    c = np.repeat(t.cond[:1].numpy(), len(edges), axis=0)
    [a] = sess.run(None, {"conditions": c, "noise": z})
    np.testing.assert_allclose(a[:, 2], edges, atol=3e-5)
    assert float(np.max(np.abs(edges - (2 * cdf - 1)))) > 0.3  # Herwig's law is far from isotropic here
    with torch.no_grad():
        t.G.net[-1].bias.zero_()
        iso = t.G(torch.as_tensor(c), torch.as_tensor(z)).numpy()
    np.testing.assert_allclose(iso[:, 2], 2 * np.asarray(cdf) - 1, atol=2e-5)
    free = Trainer2(Settings("mem", output=str(tmp_path / "f"), threads=1, flat_azimuth=True, head="histogram"),
                    table=_labelled(300, seed=3))
    with pytest.raises(ValueError, match="histogram degree 0"):
        free.start_from(tmp_path / "d.onnx")
    with pytest.raises(ValueError, match="histogram_degree 2 needs the histogram head"):
        Generator(4, 16, 2, histogram_degree=2)



def test_the_flow_loss_takes_the_energy_distance_when_asked(tmp_path) -> None:
    """Settings.flow_distance 'energy': EventLevel.flow_loss is the sum over the charge-flow
    statistics of energy_distance_1d(generated, target) / the target's spread (not the W1's);
    another name is refused."""
    from hadml.blocks.distances import energy_distance_1d
    from hadml.blocks.ragged import gather_events

    t = Trainer2(Settings("mem", output=str(tmp_path / "e"), threads=1, flow_weight=1.0, flow_distance="energy"),
                 EventLevel, table=_labelled(300))
    e = t.strategy
    n = 60
    ri, ev = gather_events(e.real_starts, e.real_counts, torch.arange(n))  # type: ignore[attr-defined]
    f = e.real[ri].double()  # type: ignore[attr-defined]
    shifted = f.clone()
    shifted[:, 1:4] *= torch.linspace(0.5, 1.5, len(f), dtype=f.dtype)[:, None]
    ref = e.flow_statistics(f, ev, n)  # type: ignore[attr-defined]
    gen = e.flow_statistics(shifted, ev, n)  # type: ignore[attr-defined]
    want = sum(float(energy_distance_1d(g, r) / r.std()) for g, r in zip(gen, ref, strict=True))
    got = float(e.flow_loss(shifted, ev, n, ref))  # type: ignore[attr-defined]
    assert got == pytest.approx(want, rel=1e-9)  # (an unbiased estimate: it may be below zero)
    t.s.flow_distance = "w1"
    assert float(e.flow_loss(shifted, ev, n, ref)) != pytest.approx(want, rel=1e-3)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="flow_distance 'cramer'"):
        Trainer2(Settings("mem", output=str(tmp_path / "x"), threads=1, flow_distance="cramer"), EventLevel,
                 table=_labelled(300))


def test_the_flow_loss_takes_the_means_against_every_target_event_when_asked(tmp_path) -> None:
    """Settings.flow_distance 'mean': EventLevel.flow_loss is the sum over the charge-flow
    statistics of |mean(generated) - mean(ref)| / ref's spread, and a training step compares its
    batch with the statistics of every target training event, not the batch's."""
    from hadml.blocks.ragged import gather_events

    t = Trainer2(Settings("mem", output=str(tmp_path / "m"), threads=1, flow_weight=1.0, flow_distance="mean",
                          batch_size=256), EventLevel, table=_labelled(300))
    e = t.strategy
    n = 60
    ri, ev = gather_events(e.real_starts, e.real_counts, torch.arange(n))  # type: ignore[attr-defined]
    f = e.real[ri].double()  # type: ignore[attr-defined]
    shifted = f.clone()
    shifted[1::3, 1:4] *= -1.0  # a third of the hadrons to the other hemisphere
    ref = e.flow_statistics(f, ev, n)  # type: ignore[attr-defined]
    gen = e.flow_statistics(shifted, ev, n)  # type: ignore[attr-defined]
    want = sum(abs(float(g.mean() - r.mean())) / float(r.std()) for g, r in zip(gen, ref, strict=True))
    got = float(e.flow_loss(shifted, ev, n, ref))  # type: ignore[attr-defined]
    assert want > 0.1
    assert got == pytest.approx(want, rel=1e-9)
    t.s.flow_distance = "w1"
    assert float(e.flow_loss(shifted, ev, n, ref)) != pytest.approx(want, rel=1e-3)  # type: ignore[attr-defined]
    t.s.flow_distance = "mean"
    # the step's reference: every training event's statistics (the table made once at start)
    table = e.real_flow  # type: ignore[attr-defined]
    seen: list[list[torch.Tensor]] = []
    flow_loss = e.flow_loss  # type: ignore[attr-defined]
    e.flow_loss = lambda *a: (seen.append(a[3]), flow_loss(*a))[1]  # type: ignore[attr-defined]
    t.start_isotropic()
    e.step(e.batches()[0])
    assert len(seen) == 1
    for k, r in enumerate(seen[0]):
        whole = table[torch.isfinite(table[:, k]), k]
        assert len(r) == len(whole) > e.batches()[0].shape[1]
        assert torch.equal(r, whole)
