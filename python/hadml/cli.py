"""The ``hadml`` command line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from . import __version__

console = Console(stderr=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hadml")
def main() -> None:
    """hadml: machine-learned hadronization for Herwig 7."""


@main.group()
def data() -> None:
    """Read, inspect and convert cluster and event samples."""


@data.command("info")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Skip malformed events instead of failing.")
def data_info(path: Path, skip_bad: bool) -> None:
    """Summarise a sample: events, clusters, pids, mass and energy ranges, conservation."""
    from .data.summary import summarise

    with _progress(f"reading {path}"):
        events = _load_or_fail(path, skip_bad)
    summarise(events, console, title=str(path))


@data.command("convert")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Skip malformed events instead of failing.")
def data_convert(src: Path, dst: Path, skip_bad: bool) -> None:
    """Convert any supported input (cluster .dat[.gz], history, hadron-only, HepMC) to ROOT."""
    from .data.events import write_root

    if dst.suffix != ".root":
        _fail(f"{dst}: the output must be a .root file")
    with _progress(f"reading {src}"):
        events = _load_or_fail(src, skip_bad)
    with _progress(f"writing {dst}"):
        write_root(dst, events)
    console.print(f"wrote {len(events)} events to {dst}")


@data.command("gun")
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--events", "n_events", type=int, default=10000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--clsmr", type=float, default=0.78, show_default=True, help="ClSmrLight.")
@click.option("--cldir/--no-cldir", default=True, show_default=True, help="ClDirLight.")
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Derive cluster kinematics from this real sample instead of the embedded default.",
)
def data_gun(dst: Path, n_events: int, seed: int, clsmr: float, cldir: bool, template: Path | None) -> None:
    """Make a synthetic sample: cluster gun + reference (Herwig-like) decayer. Writes .root,
    .hepmc/.hepmc3 (with cluster history) or .dat (HadML cluster format)."""
    from .data.gun import ClusterGun
    from .data.reference import DecayParams, decay_table
    from .data.writers import write_any

    gun = ClusterGun()
    if template is not None:
        from .data.hadml_format import read_cluster_file

        gun = ClusterGun.from_table(read_cluster_file(template))
    with _progress("generating"):
        table = decay_table(
            gun.sample(n_events, seed), DecayParams(ClDirLight=cldir, ClSmrLight=clsmr), seed + 1
        )
        write_any(dst, table)
    console.print(f"wrote {table.n_events} events ({table.n_clusters} clusters) to {dst}")


def _load_or_fail(path: Path, skip_bad: bool):  # type: ignore[no-untyped-def]
    from .data.errors import DataFormatError
    from .data.io import load_events

    try:
        events = load_events(path, on_error="skip" if skip_bad else "raise")
    except DataFormatError as err:
        _fail(str(err))
    if skip_bad and "skipped" in events.attrs:
        console.print(f"[yellow]{events.attrs['skipped']}[/yellow]")
    return events


def _progress(text: str):  # type: ignore[no-untyped-def]
    return console.status(text, spinner="dots")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hadml-out"),
    show_default=True,
    help="Output directory.",
)
def demo(out: Path) -> None:
    """Run the main job end to end on the embedded default."""
    from .demo import run_demo

    t0 = time.perf_counter()
    run_demo(out, console)
    console.print(f"[bold]total time[/bold] {time.perf_counter() - t0:.1f} s")


def _np_summary(x: np.ndarray) -> str:
    return f"{x.min():.4g} .. {x.max():.4g} (mean {x.mean():.4g})"


__all__ = ["Table", "main"]
