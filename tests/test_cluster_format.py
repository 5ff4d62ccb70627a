"""The HadML cluster-format reader: the shared samples, and bad files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from hadml.data import DataFormatError, read_cluster_file
from hadml.kinematics import mass2, recover_angles, two_body_decay

LINE = "1,2.0,0.5,0.5,1.0;-2,1.0,0.1,0.2,0.3;81,3.0,0.6,0.7,1.3;211,1.6,0.3,0.3,0.6;-211,1.4,0.3,0.4,0.7;|\n"


def test_shared_1k_counts(sample_1k):
    t = read_cluster_file(sample_1k)
    assert t.n_events == 1000
    assert t.n_clusters == 7063
    assert int((~t.has_partons).sum()) == 5131
    assert set(np.unique(np.abs(t.hadron_pid))) == {111, 211}
    assert t.counts.min() == 3 and t.counts.max() == 18


def test_shared_1k_round_trip_to_printed_precision(sample_1k):
    """Recover (theta, phi) from the listed hadrons of every cluster, decay again with the
    listed masses, and reproduce the listed hadron momenta to the file's printed precision."""
    t = read_cluster_file(sample_1k)
    frame = t.decay_frame()
    h1, h2 = t.hadron[:, 0], t.hadron[:, 1]
    theta, phi, first = recover_angles(frame, h1, h2)
    m1, m2 = np.sqrt(mass2(h1)), np.sqrt(mass2(h2))
    mf, ms = np.where(first == 0, m1, m2), np.where(first == 0, m2, m1)
    g_first, g_second = two_body_decay(frame, mf, ms, theta, phi)
    g1 = np.where((first == 0)[:, None], g_first, g_second)
    g2 = np.where((first == 0)[:, None], g_second, g_first)
    # 6 significant digits printed: half a unit in the 6th digit of each component
    precision = 5e-6 * np.maximum(np.abs(h1), np.abs(h2)).max(axis=1, keepdims=True)
    assert np.all(np.abs(g1 - h1) <= precision)
    assert np.all(np.abs(g2 - h2) <= precision)
    # and the listed cluster equals the sum to printed precision as well
    scale = np.abs(t.cluster).max(axis=1, keepdims=True)
    assert np.all(np.abs(frame - t.cluster) <= 2e-5 * scale)


def test_gzip_and_plain_agree(tmp_path):
    plain = tmp_path / "a.dat"
    plain.write_text(LINE * 3)
    gz = tmp_path / "a.dat.gz"
    gz.write_bytes(gzip.compress((LINE * 3).encode()))
    a, b = read_cluster_file(plain), read_cluster_file(gz)
    np.testing.assert_array_equal(a.hadron, b.hadron)
    assert a.n_events == 3 and a.n_clusters == 3


BAD = {
    "text": (LINE.replace("0.7;|", "x;|"), "line 2: cluster 0, object 4: not a number"),
    "fields": (LINE.replace("211,1.6,0.3,", "211,1.6,"), "line 2: cluster 0, object 3: expected 5"),
    "truncated": (LINE[:60] + "\n", "line 2: line does not end with '|'"),
    "nan": (LINE.replace("0.6,0.7,1.3", "nan,0.7,1.3"), "line 2: cluster 0: non-finite value"),
    "conservation": (LINE.replace("81,3.0", "81,3.5"), "line 2: cluster 0: four-momentum not conserved"),
    "not cluster": (LINE.replace(";81,", ";82,"), "line 2: cluster 0: third object is not a cluster"),
    "one placeholder": (LINE.replace("1,2.0,0.5,0.5,1.0", "88,0,0,0,0"), "only one of the two partons"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_lines_name_file_and_line(tmp_path, case):
    text, message = BAD[case]
    p = tmp_path / "bad.dat"
    p.write_text(LINE + text + LINE)
    with pytest.raises(DataFormatError) as err:
        read_cluster_file(p)
    assert str(p) in str(err.value)
    assert message in str(err.value)
    t = read_cluster_file(p, on_error="skip")
    assert t.n_events == 2
    assert t.meta["skipped"] == "1"
    assert "line 2" not in str(t.line.tolist()) and list(t.line) == [1, 3]


def test_truncated_gzip(tmp_path):
    p = tmp_path / "t.dat.gz"
    p.write_bytes(gzip.compress((LINE * 50).encode())[:-20])
    with pytest.raises(DataFormatError, match="cannot read file"):
        read_cluster_file(p)


def test_missing_and_empty(tmp_path):
    with pytest.raises(DataFormatError, match="no such file"):
        read_cluster_file(tmp_path / "nope.dat")
    (tmp_path / "e.dat").write_text("\n")
    with pytest.raises(DataFormatError, match="no events"):
        read_cluster_file(tmp_path / "e.dat")
    with pytest.raises(ValueError, match="on_error"):
        read_cluster_file(tmp_path / "e.dat", on_error="ignore")
