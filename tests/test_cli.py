"""The command line: data info / convert / gun, and clear errors."""

from __future__ import annotations

from click.testing import CliRunner

from hadml.cli import main


def test_data_info_and_convert(sample_1k, tmp_path):
    r = CliRunner().invoke(main, ["data", "info", str(sample_1k)])
    assert r.exit_code == 0, r.output
    assert "7063" in r.output and "5131" in r.output
    out = tmp_path / "s.root"
    r = CliRunner().invoke(main, ["data", "convert", str(sample_1k), str(out)])
    assert r.exit_code == 0 and out.is_file()
    r = CliRunner().invoke(main, ["data", "info", str(out)])
    assert "7063" in r.output


def test_gun_writes_every_format(tmp_path):
    for name in ("g.root", "g.hepmc3", "g.dat"):
        r = CliRunner().invoke(main, ["data", "gun", str(tmp_path / name), "--events", "50", "--clsmr", "0"])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(main, ["data", "info", str(tmp_path / name)])
        assert r.exit_code == 0 and "50" in r.output


def test_bad_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.dat"
    bad.write_text("1,2,3;|\n")
    r = CliRunner().invoke(main, ["data", "info", str(bad)])
    assert r.exit_code == 2
    assert "bad.dat:line 1" in r.output
