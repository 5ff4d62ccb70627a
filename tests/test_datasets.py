"""Issue 3: every input format into one awkward representation; ROOT and HepMC round trips."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from hadml.data import DataFormatError, read_cluster_file
from hadml.data.events import read_root, to_awkward, to_table, write_root
from hadml.data.gun import ClusterGun
from hadml.data.hadrons import read_hadron_file
from hadml.data.hepmc import read_hepmc, write_hepmc
from hadml.data.history import read_history_file
from hadml.data.io import load_events, sniff
from hadml.data.reference import DecayParams, decay_table
from hadml.data.writers import write_cluster_file


@pytest.fixture(scope="module")
def synthetic():
    return decay_table(ClusterGun().sample(300, seed=5), DecayParams(), seed=6)


def test_awkward_layout(sample_1k):
    ev = to_awkward(read_cluster_file(sample_1k))
    assert len(ev) == 1000
    assert ak.sum(ak.num(ev.clusters, axis=1)) == 7063
    assert ak.sum(~ev.clusters.has_partons) == 5131
    assert set(ev.clusters.fields) >= {"E", "q1_pid", "h2_pz", "theta", "phi", "first", "has_partons"}
    assert ak.all(ak.num(ev.hadrons, axis=1) == 2 * ak.num(ev.clusters, axis=1))
    first = ak.to_numpy(ak.flatten(ev.clusters.first))
    assert 0.45 < first.mean() < 0.55  # "first" is hadron 1 about half the time


def test_dat_to_root_to_arrays_is_exact(sample_1k, tmp_path):
    table = read_cluster_file(sample_1k)
    ev = to_awkward(table)
    write_root(tmp_path / "s.root", ev)
    back = read_root(tmp_path / "s.root")
    assert ak.array_equal(ev, back)
    t2 = to_table(back)
    for name in ("counts", "cluster", "parton_pid", "parton", "hadron_pid", "hadron"):
        np.testing.assert_array_equal(getattr(t2, name), getattr(table, name))


@pytest.mark.parametrize("fmt,suffix", [("HepMC3", "hepmc3"), ("HepMC2", "hepmc2.gz")])
def test_hepmc_round_trip_is_exact(synthetic, tmp_path, fmt, suffix):
    path = tmp_path / f"s.{suffix}"
    write_hepmc(path, synthetic, fmt)
    table, (hc, hpid, hp4), report = read_hepmc(path)
    assert len(report) == 0
    for name in ("counts", "cluster", "parton_pid", "parton", "hadron_pid", "hadron"):
        np.testing.assert_array_equal(getattr(table, name), getattr(synthetic, name))
    np.testing.assert_array_equal(hc, 2 * synthetic.counts)
    np.testing.assert_array_equal(hp4, synthetic.hadron.reshape(-1, 4))
    np.testing.assert_array_equal(hpid, synthetic.hadron_pid.reshape(-1))
    ev = load_events(path)
    assert ak.array_equal(ev, to_awkward(synthetic))


def test_hepmc_bad_input(tmp_path):
    bad = tmp_path / "bad.hepmc3"
    bad.write_text("this is not hepmc\n")
    with pytest.raises(DataFormatError):
        read_hepmc(bad)
    with pytest.raises(DataFormatError, match="no such file"):
        read_hepmc(tmp_path / "missing.hepmc3")


def test_history_file(shared):
    table, history, (counts, pid, p4) = read_history_file(shared("herwig/AllClusters_lep91_10.dat"))
    assert table.n_events == 10 == len(history)
    assert table.n_clusters > 0
    # every two-body cluster conserves four-momentum to printed precision
    viol = np.abs(table.cluster - table.hadron.sum(axis=1)).max(axis=1)
    assert viol.max() < 1e-3
    # fission chains: some two-body clusters have a cluster parent (placeholder partons)
    assert 0 < (~table.has_partons).sum() < table.n_clusters
    assert len(np.unique(np.abs(table.hadron_pid))) > 5  # all species, not only pions
    idx = ak.flatten(history.index)
    assert ak.all(ak.num(history.children, axis=2) >= 0) and len(idx) > 0
    assert counts.sum() == len(pid) == len(p4)


def test_history_bad_child(tmp_path):
    p = tmp_path / "h.dat"
    p.write_text("(1),1,[ 9 ], 1.0,0.1,0.2,0.3;|\n")
    with pytest.raises(DataFormatError, match=r"line 1: \(1\) names child \(9\)"):
        read_history_file(p)


def test_hadron_only_file_truncated_last_line(shared):
    path = shared("pythia/pions_lep91_2k.dat")
    with pytest.raises(DataFormatError, match="line 1983"):
        read_hadron_file(path)
    counts, pid, p4, report = read_hadron_file(path, on_error="skip")
    assert counts.size == 1982 and len(report) == 1 and p4.shape == (counts.sum(), 4)
    assert set(np.unique(pid)) == {111, 211, -211}
    ev = load_events(path, on_error="skip")
    assert len(ev) == 1982 and ak.sum(ak.num(ev.clusters, axis=1)) == 0


def test_sniff(sample_1k, tmp_path, synthetic, shared):
    assert sniff(sample_1k) == "clusters"
    assert sniff(shared("herwig/AllClusters_lep91_10.dat")) == "history"
    assert sniff(shared("pythia/pions_lep91_2k.dat")) == "hadrons"
    write_hepmc(tmp_path / "x.txt", synthetic)
    assert sniff(tmp_path / "x.txt") == "hepmc"


def test_write_cluster_file_round_trip(synthetic, tmp_path):
    write_cluster_file(tmp_path / "s.dat", synthetic)
    back = read_cluster_file(tmp_path / "s.dat")
    np.testing.assert_array_equal(back.hadron, synthetic.hadron)
    np.testing.assert_array_equal(back.parton, synthetic.parton)


@pytest.mark.slow
def test_nominal_100k_reads_fast_enough_to_use(shared):
    path = shared("herwig/lep91_nominal.dat.gz")
    t = read_cluster_file(path)
    assert t.n_events == 100_000
    assert t.n_clusters == 701_466


@pytest.mark.parametrize("fmt,suffix", [("HepMC3", "hepmc3"), ("HepMC2", "hepmc2")])
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_hepmc_damaged_file_is_named(synthetic, tmp_path, fmt, suffix, damage):
    """HepMC3's readers only print a parse error and stop as at the end of the file: hadml turns
    that into an error naming file and event, or with on_error='skip' keeps the events before it
    and reports the rest as dropped; never a short file read as if it were whole."""
    good = tmp_path / f"good.{suffix}"
    write_hepmc(good, synthetic, fmt)
    lines = good.read_text().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("E ")]
    k = 120  # the broken event
    if damage == "truncated":  # cut inside event k's particle lines, as a killed writer leaves it
        cut = next(i for i in range(starts[k], starts[k + 1]) if lines[i].startswith("P "))
        text = "".join(lines[: cut + 1])
        text = text[: len(text) - 7]  # and inside that line
    else:  # one particle line of event k garbled
        i = next(i for i in range(starts[k], starts[k + 1]) if lines[i].startswith("P "))
        lines[i] = "P this is not a particle\n"
        text = "".join(lines)
    bad = tmp_path / f"bad.{suffix}"
    bad.write_text(text)
    with pytest.raises(DataFormatError, match=rf"bad\.{suffix}:event {k} \(after event number \d+\): "
                                              r"unreadable HepMC event: .*truncated or corrupt"):
        read_hepmc(bad)
    table, _, report = read_hepmc(bad, on_error="skip")
    assert table.n_events == k
    assert len(report) == 1 and f"reading stopped there, {k} events kept" in report.skipped[0][1]
    whole, _, report = read_hepmc(good)
    assert whole.n_events == synthetic.n_events and len(report) == 0


def _write_record(path, table, rng):
    """A decay record as hadml's Herwig handler writes it, for a synthetic table."""
    pert = rng.random((table.n_clusters, 2)) < 0.4
    fission = rng.random(table.n_clusters) < 0.7
    out = ["# hadml cluster decays, format 1: test", "# columns"]
    i = 0
    for ev, k in enumerate(table.counts):
        out.append(f"E {ev + 1} {k}")
        for _ in range(k):
            q = [f"{table.parton_pid[i, j]} " + " ".join(repr(float(x)) for x in table.parton[i, j]) + f" {int(pert[i, j])}"
                 for j in range(2)]
            h = [f"{table.hadron_pid[i, j]} " + " ".join(repr(float(x)) for x in table.hadron[i, j]) for j in range(2)]
            c = " ".join(repr(float(x)) for x in table.hadron[i].sum(axis=0))
            out.append(f"C 0 {int(fission[i])} {c} {q[0]} {q[1]} {h[0]} {h[1]}")
            i += 1
    path.write_text("\n".join(out) + "\n")
    return pert, fission


def test_decay_record_round_trip(synthetic, tmp_path):
    """The Herwig handler's decay record -> the awkward representation -> ROOT -> back, labels
    (isPerturbative, fission, by GAN) included, exactly."""
    from hadml.data.decays import read_decay_record
    from hadml.data.io import load_events, sniff

    rec = tmp_path / "run.clusters"
    pert, fission = _write_record(rec, synthetic, np.random.default_rng(3))
    assert sniff(rec) == "decays"
    table = read_decay_record(rec)
    np.testing.assert_array_equal(table.perturbative, pert)
    np.testing.assert_array_equal(table.fission, fission)
    np.testing.assert_array_equal(table.hadron, synthetic.hadron)
    assert list(table.line) == list(range(1, synthetic.n_events + 1))
    write_root(tmp_path / "r.root", load_events(rec))
    back = to_table(read_root(tmp_path / "r.root"))
    np.testing.assert_array_equal(back.perturbative, pert)
    np.testing.assert_array_equal(back.fission, fission)
    assert not back.by_gan.any()
    np.testing.assert_array_equal(back.hadron, synthetic.hadron)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("truncate", r"run\.clusters:\d+ \(event \d+\): event \d+ announces \d+ decays, the file ends after"),
        ("flag", r"run\.clusters:\d+ \(event 3\): a flag .* is not 0 or 1"),
        ("momentum", r"run\.clusters:\d+ \(event 3\): four-momentum not conserved"),
        ("header", r"run\.clusters:1: not a hadml decay record"),
    ],
)
def test_decay_record_bad_input(synthetic, tmp_path, damage, message):
    from hadml.data.decays import read_decay_record

    rec = tmp_path / "run.clusters"
    _write_record(rec, synthetic, np.random.default_rng(4))
    lines = rec.read_text().splitlines()
    third = lines.index(next(x for x in lines if x.startswith("E 3 "))) + 1  # event 3's first decay
    f = lines[third].split()
    if damage == "truncate":
        lines = lines[:-1]
    elif damage == "flag":
        f[2] = "2"
    elif damage == "momentum":
        f[3] = repr(float(f[3]) + 0.1)
    else:
        lines[0] = "# something else"
    if damage in ("flag", "momentum"):
        lines[third] = " ".join(f)
    rec.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=message):
        read_decay_record(rec)
    if damage != "header":
        table = read_decay_record(rec, on_error="skip")
        assert table.n_events == synthetic.n_events - 1 and "skipped 1 event" in table.meta["skip_summary"]
