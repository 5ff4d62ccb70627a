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
    from .data.io import load_any
    from .data.summary import summarise

    with console.status(f"reading {path}"):
        table = load_any(path, on_error="skip" if skip_bad else "raise")
    summarise(table, console)


def _fail(message: str) -> None:
    console.print(f"[red]error:[/red] {message}")
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
