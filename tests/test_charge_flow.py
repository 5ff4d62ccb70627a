"""Issue 15, part 4: hadron charges from PDG ids, charge flow between the thrust hemispheres,
and the classifier that sees charges."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from hadml.blocks.charge import NAMES, charge_flow, mean_with_error, summary
from hadml.cli import main
from hadml.compare.observables import compute, hadrons_of
from hadml.compare.stats import classifier_auc, hadron_features
from hadml.data.io import hadrons_only_events
from hadml.data.pdg import charge, three_charge

KNOWN = {
    # light and strange mesons
    211: 1, -211: -1, 111: 0, 221: 0, 113: 0, 213: 1, 321: 1, -321: -1, 311: 0, -311: 0,
    323: 1, 130: 0, 310: 0, 331: 0, 333: 0,
    # excited states: radial and orbital digits do not change the charge
    10211: 1, 20213: 1, 100211: 1, 9000211: 1, 10321: 1, 225: 0, 215: 1,
    # charm and bottom mesons
    411: 1, -411: -1, 421: 0, 431: 1, -431: -1, 443: 0, 521: 1, -521: -1, 511: 0, 531: 0,
    541: 1, 553: 0,
    # baryons
    2212: 1, -2212: -1, 2112: 0, 3122: 0, -3122: 0, 3222: 1, 3212: 0, 3112: -1, 3322: 0,
    3312: -1, -3312: 1, 3334: -1, 2224: 2, 2214: 1, 2114: 0, 1114: -1, 4122: 1, 4222: 2,
    4232: 1, 4132: 0, 4332: 0, 5122: 0, 5222: 1, 5112: -1, 5132: -1, 5332: -1,
    # not hadrons
    11: -1, -11: 1, 13: -1, 12: 0, 22: 0, 21: 0, 23: 0, 24: 1, -24: -1, 81: 0, 88: 0,
    1000020040: 2,  # alpha
}


def test_charge_of_known_particles():
    pid = np.array(list(KNOWN))
    np.testing.assert_array_equal(charge(pid), np.array(list(KNOWN.values()), dtype=float))
    assert charge(2212) == 1.0 and three_charge(-2212) == -3
    # quarks and diquarks: fractional
    np.testing.assert_allclose(charge([1, 2, 3, 4, 5, 6, -2]), [-1 / 3, 2 / 3, -1 / 3, 2 / 3, -1 / 3, 2 / 3, -2 / 3])
    np.testing.assert_allclose(charge([2101, 2203, 1103, 3101]), [1 / 3, 4 / 3, -2 / 3, -2 / 3])


def _event(*hadrons):
    """[(pid, px, py, pz), ...] -> (pid, p4) with E of a 0.14 GeV mass."""
    pid = np.array([h[0] for h in hadrons])
    p3 = np.array([h[1:] for h in hadrons], dtype=float)
    return pid, np.column_stack([np.sqrt((p3**2).sum(1) + 0.14**2), p3])


def _flat(events):
    counts = np.array([len(e[0]) for e in events])
    return counts, np.concatenate([e[0] for e in events]), np.concatenate([e[1] for e in events])


# hand-built events, all along z (thrust axis +-z)
BACK_TO_BACK = _event((211, 0, 0, 5), (-211, 0, 0, -5))
KAPPA = _event((211, 0, 0, 4), (111, 0, 0, 1), (-211, 0, 0, -1), (111, 0, 0, -4))
ONE_HADRON = _event((211, 0, 0, 5))
NEUTRAL_B = _event((211, 0, 0, 5), (111, 0, 0, -3), (22, 0, 0, -2))


def test_hemisphere_charge_exact():
    counts, pid, p4 = _flat([BACK_TO_BACK, KAPPA, ONE_HADRON, NEUTRAL_B])
    out = charge_flow(counts, charge(pid), p4)
    # back to back pi+ pi-: Q_F Q_B = -1 for every kappa, leading charges -1
    # KAPPA: Q_F = 4^k / (4^k + 1), Q_B = -1 / (1 + 4^k)
    for k, name in ((0.5, "qfqb_k0.5"), (1.0, "qfqb_k1")):
        expect = -(4**k) / (4**k + 1) ** 2
        np.testing.assert_allclose(out[name][:2], [-1.0, expect], rtol=1e-14)
    assert out["qfqb_k1"][1] == pytest.approx(-0.16) and out["qfqb_k0.5"][1] == pytest.approx(-2 / 9)
    np.testing.assert_array_equal(out["lead_qq"][:2], [-1.0, -1.0])
    # one hadron: the other hemisphere is empty, every observable undefined
    assert all(np.isnan(out[n][2]) for n in NAMES)
    # no charged hadron in B: Q_B = 0 (defined), no leading charged hadron there (undefined)
    assert out["qfqb_k1"][3] == 0.0 and out["qfqb_k0.5"][3] == 0.0 and np.isnan(out["lead_qq"][3])


def test_leading_is_largest_momentum_and_axis_sign_free():
    # with the axis given: the K- has the largest |p| in F (its p.n_T is the smallest): leading
    ev = _event((211, 0, 0, 2), (-321, 5, 0, 0.5), (-211, 0, 0, -3), (111, 1, 0, -0.5))
    counts, pid, p4 = _flat([ev])
    z = np.array([[0.0, 0.0, 1.0]])
    out = charge_flow(counts, charge(pid), p4, z)
    assert out["lead_qq"][0] == 1.0
    # Q_F = (2 - 0.5) / 2.5, Q_B = -3 / 3.5 at kappa = 1
    assert out["qfqb_k1"][0] == pytest.approx(-(1.5 / 2.5) * (3 / 3.5), rel=1e-14)
    flipped = charge_flow(counts, charge(pid), p4, -z)
    for n in NAMES:
        assert flipped[n][0] == pytest.approx(out[n][0], rel=1e-14)


def test_compute_reports_charge_flow_and_drops():
    counts, pid, p4 = _flat([BACK_TO_BACK, KAPPA, ONE_HADRON, NEUTRAL_B])
    obs = compute(hadrons_only_events(counts, pid, p4))
    np.testing.assert_allclose(obs["qfqb_k1"], [-1.0, -0.16, np.nan, 0.0])
    np.testing.assert_allclose(obs["lead_qq"], [-1.0, -1.0, np.nan, np.nan])
    s = summary(obs["lead_qq"], obs["qfqb_k1"])
    assert (s["n_a"], s["dropped_a"], s["n_b"], s["dropped_b"]) == (2, 2, 3, 1)
    m, e = mean_with_error(np.array([1.0, 2.0, 3.0, np.nan]))
    assert m == 2.0 and e == pytest.approx(1.0 / np.sqrt(3))


def _ordered_sample(n_events: int, seed: int):
    """Herwig-like charge ordering: per event two clusters back to back along a random axis,
    F of charge +1 and B of charge -1, each decaying into a fast hadron h1 along the axis and a
    slower h2 about it; in 80 % of clusters the charge rides the fast h1 (the hadron of the
    perturbative constituent). A soft pi+ pi- pair in random directions adds noise."""
    rng = np.random.default_rng(seed)
    pid, p3 = [], []
    for _ in range(n_events):
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        for sign, charged in ((1, 211), (-1, -211)):
            h = (charged, 111) if rng.random() < 0.8 else (111, charged)
            for k, size in enumerate((rng.uniform(6, 12), rng.uniform(1, 3))):
                pid.append(h[k])
                p3.append(sign * size * n + rng.normal(scale=0.3 * (k + 1), size=3))
        for soft in (211, -211):
            pid.append(soft)
            p3.append(rng.normal(scale=0.4, size=3))
    p3a = np.array(p3)
    p4 = np.column_stack([np.sqrt((p3a**2).sum(1) + 0.14**2), p3a])
    return np.full(n_events, 6), np.array(pid), p4


def test_charge_flow_sees_what_four_momenta_cannot():
    counts, pid, p4 = _ordered_sample(1500, 5)
    swapped = pid.reshape(-1, 6).copy()
    swapped[:, [0, 1, 2, 3]] = swapped[:, [1, 0, 3, 2]]  # swap the two hadrons of each cluster
    a = hadrons_only_events(counts, pid, p4)
    b = hadrons_only_events(counts, swapped.reshape(-1), p4)
    oa, ob = compute(a), compute(b)
    for name in oa:
        if name not in NAMES:  # every four-momentum observable: identical
            np.testing.assert_array_equal(oa[name], ob[name], err_msg=name)
    for name in ("qfqb_k0.5", "qfqb_k1"):
        s = summary(oa[name], ob[name])
        assert s["dropped_a"] == s["dropped_b"] == 0
        assert s["mean_a"] < s["mean_b"] < 0 and abs(s["pull"]) > 10, (name, s)
    # the leading charged hadron is the charged cluster hadron either way, unless the soft pair
    # outruns a slow one (measured -0.999 +- 0.001 and -0.967 +- 0.007)
    lead = summary(oa["lead_qq"], ob["lead_qq"])
    assert lead["mean_a"] < lead["mean_b"] < lead["mean_a"] + 0.1, lead


@pytest.mark.slow
def test_classifier_with_charges():
    counts, pid, p4 = _ordered_sample(1200, 6)
    swapped = pid.reshape(-1, 6).copy()
    swapped[:, [0, 1, 2, 3]] = swapped[:, [1, 0, 3, 2]]
    a = hadrons_of(hadrons_only_events(counts, pid, p4))
    b = hadrons_of(hadrons_only_events(counts, swapped.reshape(-1), p4))
    assert hadron_features(a, "p4+charge").shape == (len(p4), 5)
    np.testing.assert_array_equal(hadron_features(a, "p4+charge")[:, 4], charge(pid))
    with pytest.raises(ValueError, match="p4\\+charge"):
        hadron_features(a, "p4+pid")
    # the four-momenta are the same: blind without charges (a random permutation of events is
    # all that differs), separating with them (measured 0.477 +- 0.015 and 0.822 +- 0.011)
    blind, err = classifier_auc(a, b, epochs=4, max_events=1200)
    assert abs(blind - 0.5) < 0.05 + 3 * err, (blind, err)
    sees, err = classifier_auc(a, b, epochs=4, max_events=1200, features="p4+charge")
    assert sees > 0.5 + 5 * err and sees > 0.6, (sees, err)


@pytest.mark.slow
def test_compare_command_charge_flow(tmp_path):
    from hadml.data.events import write_root

    counts, pid, p4 = _ordered_sample(300, 7)
    swapped = pid.reshape(-1, 6).copy()
    swapped[:, [0, 1, 2, 3]] = swapped[:, [1, 0, 3, 2]]
    write_root(tmp_path / "a.root", hadrons_only_events(counts, pid, p4))
    write_root(tmp_path / "b.root", hadrons_only_events(counts, swapped.reshape(-1), p4))
    r = CliRunner().invoke(
        main,
        ["compare", str(tmp_path / "a.root"), str(tmp_path / "b.root"), "--out", str(tmp_path / "o"),
         "--labels", "ordered,swapped", "--classifier-features", "p4+charge"],
    )
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["classifier_features"] == "p4+charge" and s["classifier_auc"]["auc"] > 0.5
    assert set(s["charge_flow"]) == set(NAMES)
    for name in NAMES:
        assert name in s["observables"] and s["observables"][name]["floor"] > 0
    assert s["charge_flow"]["qfqb_k1"]["pull"] > 5
    md = (tmp_path / "o" / "summary.md").read_text()
    assert "## Charge flow" in md and "qfqb_k0.5" in md
    assert (tmp_path / "o" / "qfqb_k1.png").is_file()
    bad = CliRunner().invoke(
        main,
        ["compare", str(tmp_path / "a.root"), str(tmp_path / "b.root"), "--out", str(tmp_path / "o2"),
         "--classifier-features", "pid"],
    )
    assert bad.exit_code == 2 and "pid" in bad.output


def test_hemisphere_charges_have_a_finite_gradient_for_a_hadron_across_the_axis() -> None:
    """A hadron with p.n = 0 weighs nothing (kappa 0.5 included) and leaves no infinite gradient."""
    import torch

    from hadml.blocks.charge import hemisphere_charges

    p3 = torch.tensor([[0.0, 0.0, 3.0], [1.0, 0.0, 0.0], [0.0, 0.0, -2.0]], dtype=torch.float64, requires_grad=True)
    q = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    axes = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float64)
    qh = hemisphere_charges(q, p3, torch.zeros(3, dtype=torch.long), 1, axes, 0.5)
    assert qh.tolist() == [[1.0, -1.0]]
    (qh[0, 0] * qh[0, 1]).backward()
    assert torch.isfinite(p3.grad).all()


def test_the_differentiable_w1_is_the_w1() -> None:
    """blocks.distances.w1_quantiles, the flow loss' distance, agrees with the exact W1 (two shifted,
    differently wide samples) and is zero for one sample."""
    import torch

    from hadml.blocks.distances import w1, w1_quantiles

    rng = np.random.default_rng(7)
    a, b = rng.normal(0.0, 1.0, 20000), rng.normal(0.3, 1.5, 15000)
    got = float(w1_quantiles(torch.as_tensor(a), torch.as_tensor(b), 1024))
    assert got == pytest.approx(w1(a, b), rel=0.02)
    assert float(w1_quantiles(torch.as_tensor(a), torch.as_tensor(a))) == pytest.approx(0.0, abs=1e-12)


def test_the_energy_distance_is_unbiased_on_small_batches_where_the_sample_w1_is_not() -> None:
    """blocks.distances.energy_distance_1d, the flow loss's other distance: the U-statistic by hand
    on a small sample; for batches of 8 values +-1 (a charge product) with P(+1) = p against
    P(+1) = q = 0.3, its expectation (exact: every pair of batch compositions weighted by its
    binomial probability) is the population distance 4 (p - q)^2, zero at p = q; the expectation of
    the sample W1 (``w1_quantiles``, the flow loss's default) is smallest at p = 0.27 instead, a
    narrower distribution than the target's: the bias the energy distance removes. Red with the
    diagonal counted in the within-sample terms (a V-statistic)."""
    from hadml.blocks.distances import energy_distance_1d, w1_quantiles

    x = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0], dtype=torch.float64)
    xy = np.mean([abs(a - b) for a in (0, 1, 3) for b in (1, 2)])
    xx = (1 + 3 + 2) * 2 / 6
    yy = 1 * 2 / 2
    assert abs(float(energy_distance_1d(x, y)) - (2 * xy - xx - yy)) < 1e-12
    with pytest.raises(ValueError, match="two values"):
        energy_distance_1d(x[:1], y)
    n, q = 8, 0.3
    batch = [torch.tensor([1.0] * k + [-1.0] * (n - k), dtype=torch.float64) for k in range(n + 1)]

    def pmf(p: float) -> np.ndarray:
        return np.array([math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)])

    def expected(dist, p: float) -> float:  # type: ignore[no-untyped-def]
        table = np.array([[float(dist(a, b)) for b in batch] for a in batch])
        return float(pmf(p) @ table @ pmf(q))

    for p in (0.3, 0.5, 0.1):
        assert abs(expected(energy_distance_1d, p) - 4 * (p - q) ** 2) < 1e-12, p
    grid = np.round(np.arange(0.2, 0.36, 0.01), 2)
    w = [expected(lambda a, b: w1_quantiles(a, b, 64), p) for p in grid]
    assert abs(grid[int(np.argmin(w))] - q) >= 0.02, dict(zip(grid, w, strict=True))
