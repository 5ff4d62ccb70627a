"""The reference (Herwig-like) cluster decayer and the cluster gun."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hadml.data import read_cluster_file
from hadml.data.gun import ClusterGun, GunConfig
from hadml.data.reference import (
    DecayParams,
    cos_smear_cdf,
    decay_directions,
    decay_table,
    sample_cos_smear,
)
from hadml.kinematics import boost, mass2


@pytest.mark.parametrize("smear", [0.78, 0.2, 2.0])
def test_cos_smear_matches_analytic_distribution(smear):
    c = sample_cos_smear(np.full(20000, smear), np.random.default_rng(11))
    assert c.min() >= -1.0 and c.max() <= 1.0
    res = stats.kstest(c, lambda x: cos_smear_cdf(x, smear))
    assert res.pvalue > 0.01, res
    # and a wrong parameter is rejected: the test has power
    wrong = stats.kstest(c, lambda x: cos_smear_cdf(x, smear * 1.3))
    assert wrong.pvalue < 1e-6


def test_smearing_about_the_parton_direction():
    """Full chain: the angle between hadron 1 and parton 1 in the cluster frame follows the
    analytic law when only constituent 1 is perturbative."""
    gun = ClusterGun(GunConfig(parton_fraction=1.0))
    t = gun.sample(3000, seed=3)
    pert = np.column_stack([np.ones(t.n_clusters, bool), np.zeros(t.n_clusters, bool)])
    u = decay_directions(t, DecayParams(ClSmrLight=0.78), np.random.default_rng(4), pert)
    q = boost(t.parton[:, 0], t.cluster, to_rest=True)[:, 1:]
    cos = np.sum(u * q, axis=1) / np.linalg.norm(q, axis=1)
    assert stats.kstest(cos, lambda x: cos_smear_cdf(x, 0.78)).pvalue > 0.01


def test_clsmr_zero_aligns_and_isotropic_without_partons():
    gun = ClusterGun(GunConfig(parton_fraction=1.0))
    t = gun.sample(500, seed=1)
    u = decay_directions(t, DecayParams(ClSmrLight=0.0), np.random.default_rng(2))
    q1 = boost(t.parton[:, 0], t.cluster, to_rest=True)[:, 1:]
    q1 /= np.linalg.norm(q1, axis=1, keepdims=True)
    # either hadron 1 along parton 1, or (coin) hadron 2 along parton 2 = hadron 1 along parton 1
    np.testing.assert_allclose(np.abs(np.sum(u * q1, axis=1)), 1.0, atol=1e-12)
    iso = decay_directions(t, DecayParams(ClDirLight=False), np.random.default_rng(2))
    assert stats.kstest(iso[:, 2], "uniform", args=(-1, 2)).pvalue > 0.01


def test_decay_table_is_physical():
    t = decay_table(ClusterGun().sample(1000, seed=8), DecayParams(), seed=9)
    np.testing.assert_allclose(t.hadron.sum(axis=1), t.cluster, rtol=0, atol=1e-12 * t.cluster[:, :1].max())
    m = np.sqrt(mass2(t.hadron.reshape(-1, 4)))
    assert np.all(np.isin(np.round(m, 6), [0.134978, 0.13957]))
    assert t.cluster[:, 0].max() <= 45.6


def test_variations_differ_in_energy_asymmetry():
    gun = ClusterGun()
    base = gun.sample(4000, seed=21)

    def asym(t):
        e = t.hadron[:, :, 0]
        return np.mean(np.abs(e[:, 0] - e[:, 1]) / e.sum(1))

    nominal = asym(decay_table(base, DecayParams(ClSmrLight=0.78), seed=1))
    sharp = asym(decay_table(base, DecayParams(ClSmrLight=0.0), seed=1))
    assert sharp > nominal + 0.02


def test_gun_from_real_sample(sample_1k):
    real = read_cluster_file(sample_1k)
    gun = ClusterGun.from_table(real)
    t = gun.sample(2000, seed=2)
    m_real = np.sqrt(mass2(real.cluster))
    m_gun = np.sqrt(mass2(t.cluster))
    assert stats.ks_2samp(m_real, m_gun).pvalue > 0.001  # rotations keep the masses
    assert abs(t.has_partons.mean() - real.has_partons.mean()) < 0.03
    d = decay_table(t, DecayParams(), seed=3)
    assert np.all(np.isfinite(d.hadron))


def test_recorded_perturbative_flags_decide_the_alignment():
    """A table that carries Herwig's isPerturbative flags (a decay record, or the gun drawing from
    one) is decayed with them, not with "constituents known": with ClSmrLight 0, hadron 1 is
    exactly along constituent 1 where its flag is set, and isotropic elsewhere although every
    cluster has constituents. The flags stay with the clusters through the gun and decay_table."""
    t = ClusterGun(GunConfig(parton_fraction=1.0)).sample(800, seed=5)
    t.perturbative = np.zeros((t.n_clusters, 2), bool)
    t.perturbative[:, 0] = np.random.default_rng(6).random(t.n_clusters) < 0.3
    t.fission = ~t.perturbative[:, 0]
    resampled = ClusterGun.from_table(t).sample(800, seed=7)
    assert resampled.perturbative is not None and resampled.fission is not None
    np.testing.assert_array_equal(resampled.fission, ~resampled.perturbative[:, 0])
    d = decay_table(resampled, DecayParams(ClSmrLight=0.0), seed=8)
    np.testing.assert_array_equal(d.perturbative, resampled.perturbative)
    q1 = boost(d.parton[:, 0], d.cluster, to_rest=True)[:, 1:]
    h1 = boost(d.hadron[:, 0], d.cluster, to_rest=True)[:, 1:]
    cos = np.sum(h1 * q1, axis=1) / np.linalg.norm(h1, axis=1) / np.linalg.norm(q1, axis=1)
    pert = d.perturbative[:, 0]
    np.testing.assert_allclose(cos[pert], 1.0, atol=1e-9)
    assert stats.kstest(cos[~pert], "uniform", args=(-1, 2)).pvalue > 0.01
