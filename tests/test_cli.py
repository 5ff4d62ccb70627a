"""The command line: data info / convert / gun, and clear errors."""

from __future__ import annotations

import re

from click.testing import CliRunner

from hadml.cli import main


def info_row(output: str, label: str) -> str:
    """The value (up to the closing border) in ``data info``'s table row ``label``."""
    m = re.search(rf"^\W*{re.escape(label)}\s*[│|]\s*(.*?)\s*[│|]?$", output, re.MULTILINE)
    assert m, f"no row {label!r} in:\n{output}"
    return m.group(1)


def test_data_info_and_convert(sample_1k, tmp_path):
    r = CliRunner().invoke(main, ["data", "info", str(sample_1k)])
    assert r.exit_code == 0, r.output
    rows = {k: info_row(r.output, k) for k in ("events", "clusters (two-body)", "clusters with partons")}
    assert rows == {
        "events": "1000",
        "clusters (two-body)": "7063  (7.063 per event)",
        "clusters with partons": "1932  (placeholders: 5131)",
    }
    out = tmp_path / "s.root"
    r = CliRunner().invoke(main, ["data", "convert", str(sample_1k), str(out)])
    assert r.exit_code == 0 and out.is_file()
    r = CliRunner().invoke(main, ["data", "info", str(out)])
    assert r.exit_code == 0, r.output
    assert {k: info_row(r.output, k) for k in rows} == rows  # the conversion keeps it all


def test_gun_writes_every_format(tmp_path):
    """Each format, read back by ``data info``, holds the 50 events and the clusters the gun made
    (the same seed: the same clusters in each), two hadrons per cluster."""
    for name in ("g.root", "g.hepmc3", "g.dat"):
        r = CliRunner().invoke(main, ["data", "gun", str(tmp_path / name), "--events", "50", "--clsmr", "0"])
        assert r.exit_code == 0, r.output
        m = re.match(r"wrote 50 events \((\d+) clusters\) to", r.output)
        assert m, r.output
        clusters = int(m.group(1))
        r = CliRunner().invoke(main, ["data", "info", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        assert info_row(r.output, "events") == "50", name
        assert int(info_row(r.output, "clusters (two-body)").split()[0]) == clusters > 50 * 3, name
        assert int(info_row(r.output, "final-state hadrons").split()[0]) == 2 * clusters, name


def test_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("1,2,3;|\n")
    r = CliRunner().invoke(main, ["data", "info", str(bad)])
    assert r.exit_code == 2
    assert "bad.dat:line 1" in r.output
