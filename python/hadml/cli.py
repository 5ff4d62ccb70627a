"""The ``hadml`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from rich.console import Console

from . import __version__

if TYPE_CHECKING:
    import awkward as ak
    from rich.status import Status

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


def _load_or_fail(path: Path, skip_bad: bool) -> ak.Array:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .data.errors import DataFormatError
    from .data.io import load_events, sniff

    mode = "skip" if skip_bad else "raise"
    try:
        kind = sniff(path)
        if kind == "hepmc":  # read event by event: a progress bar
            with Progress(
                TextColumn(f"reading {path.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("read", total=None)
                events = load_events(
                    path, on_error=mode, progress=lambda n: bar.update(task, completed=n), kind=kind
                )
        else:  # one vectorised pass
            with _progress(f"reading {path}"):
                events = load_events(path, on_error=mode, kind=kind)
    except DataFormatError as err:
        _fail(str(err))
    if skip_bad and "skipped" in events.attrs:
        console.print(f"[yellow]{events.attrs['skipped']}[/yellow]")
    return events


def _progress(text: str) -> Status:
    return console.status(text, spinner="dots")


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a configuration entry, e.g. --set train.epochs=50 (repeatable).",
)
@click.option("--no-resume", is_flag=True, help="Start afresh even if OUTPUT/last.pt exists.")
def train(config: Path, overrides: tuple[str, ...], no_resume: bool) -> None:
    """Train a GAN from a YAML configuration (see configs/)."""
    from .ml.config import load_config
    from .ml.train import CheckpointError, Trainer

    try:
        cfg = load_config(config, overrides)
    except (KeyError, ValueError) as err:
        _fail(str(err).strip("'\""))
    try:
        trainer = Trainer(cfg, resume=not no_resume)
    except CheckpointError as err:
        _fail(str(err))
    summary = trainer.fit()
    if trainer.dist.main:
        floor = ", ".join(f"{k} {v:.3g}" for k, v in summary["floor"].items())
        console.print(
            f"best held-out W1 {summary['best_metric']:.5g} (noise floor {floor}); "
            f"{summary['items_per_s']:.0f} clusters/s; checkpoints in {summary['output']}"
        )


@main.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("onnx_path", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--description", default="", help="Training-sample description for the metadata.")
def export_cmd(checkpoint: Path, onnx_path: Path, description: str) -> None:
    """Export a checkpoint's generator to ONNX with hadml metadata."""
    from .ml.export import export_checkpoint, read_model_info
    from .ml.train import CheckpointError

    try:
        export_checkpoint(checkpoint, onnx_path, description)
    except CheckpointError as err:
        _fail(str(err))
    info = read_model_info(onnx_path)
    console.print(f"wrote {onnx_path}: conditions {info.names}, noise {info.noise_dim}")


@main.command("compare")
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--labels", default="A,B", show_default=True, help="Two comma-separated sample names.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Output directory."
)
@click.option("--max-events", type=int, default=0, help="Use at most this many events of each sample.")
@click.option("--no-classifier", is_flag=True, help="Skip the Deep Sets classifier test.")
@click.option(
    "--classifier-features",
    type=click.Choice(["p4", "p4+charge"]),
    default="p4",
    show_default=True,
    help="What the classifier sees of each hadron: its four-momentum, or that and its charge.",
)
@click.option("--skip-bad", is_flag=True, help="Skip malformed events instead of failing.")
def compare_cmd(
    a: Path,
    b: Path,
    labels: str,
    out: Path,
    max_events: int,
    no_classifier: bool,
    classifier_features: str,
    skip_bad: bool,
) -> None:
    """Compare two event samples (HepMC, ROOT datasets, cluster or hadron files): observables
    (charge flow between the thrust hemispheres included), W1 distances against the split-half
    floor, a classifier AUC, plots and a summary."""
    from .compare.report import compare

    names = tuple(x.strip() for x in labels.split(","))
    if len(names) != 2 or not all(names):
        _fail("--labels needs two comma-separated names")
    ea = _load_or_fail(a, skip_bad)
    eb = _load_or_fail(b, skip_bad)
    if max_events:
        ea, eb = ea[:max_events], eb[:max_events]
    try:
        with _progress("comparing"):
            result = compare(
                ea, eb, names, out, classifier=not no_classifier, classifier_features=classifier_features
            )
    except ValueError as err:
        _fail(str(err))
    console.print(result.markdown())
    console.print(f"plots, summary.md, summary.json and report.pdf in {out}")


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hadml-out"),
    show_default=True,
    help="Output directory.",
)
@click.option(
    "--data",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A labelled sample (a decay record from 'hadml herwig run --native --clusters F', or its ROOT "
    "conversion) instead of the embedded default.",
)
@click.option(
    "--target",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --data: the labelled sample whose hadrons only the stress fit fits (default: --data itself).",
)
@click.option("--events", type=int, default=20000, show_default=True, help="Events per synthetic sample.")
@click.option("--budget", type=float, default=180.0, show_default=True, help="Training time budget [s].")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--herwig", is_flag=True, help="Add native-vs-ML Herwig LEP runs through the plugin.")
def demo(
    out: Path, data: Path | None, target: Path | None, events: int, budget: float, seed: int, herwig: bool
) -> None:
    """Run the main job end to end (hadml-2): labelled samples, nominal and stress fits, ONNX, C++
    decays, HepMC3, comparison."""
    from .workflows.demo import run_demo

    if herwig:
        from .herwig import herwig_available

        if not herwig_available():
            _fail("--herwig: Herwig is not installed (Herwig not on PATH, nor where the plugin was built against)")
    from .data.errors import DataFormatError

    try:
        run_demo(out, console, data, target, events, budget, seed, herwig)
    except (ValueError, DataFormatError) as err:
        _fail(str(err))


@main.command("herwig-lib")
@click.option("--dir", "as_dir", is_flag=True, help="Print the directory (for Herwig's -l option).")
def herwig_lib(as_dir: bool) -> None:
    """Print the path of the Herwig plugin, for a card's 'library' line or Herwig -l."""
    from .herwig import plugin_path

    try:
        p = plugin_path()
    except FileNotFoundError as err:
        _fail(str(err))
    click.echo(str(p.parent if as_dir else p))


@main.group("herwig")
def herwig_group() -> None:
    """Herwig 7 runs with the GAN (needs Herwig installed)."""


@herwig_group.command("run")
@click.option(
    "--model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Exported generator (default: the model shipped in models/).",
)
@click.option("--events", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HepMC output file."
)
@click.option("--native", is_flag=True, help="Herwig's own cluster decays (no GAN).")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="LINE",
    help="Extra card line, e.g. 'set /Herwig/Hadronization/ClusterDecayer:ClSmrLight 0' (repeatable).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Herwig's parallel jobs (Herwig run -j N; EVENTS are shared out among them): OUT-1.hepmc .. OUT-N.hepmc.",
)
@click.option(
    "--clusters",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write every two-body cluster decay with Herwig's own labels (constituents, isPerturbative, "
    "fission, hadrons in Herwig's order) to this file (with --jobs: one per job, like OUT).",
)
def herwig_run(
    model: Path | None,
    events: int,
    seed: int,
    out: Path,
    native: bool,
    settings: tuple[str, ...],
    jobs: int,
    clusters: Path | None,
) -> None:
    """Herwig read + run of LEP.in at 91.2 GeV (OnShell, Trial 1), with or without the GAN."""
    import shutil as _sh

    from .herwig import herwig_available, run_lep

    if not herwig_available():
        _fail("Herwig is not installed (Herwig not on PATH, nor where the plugin was built against)")
    work = out.parent / (out.name + ".work")
    try:
        with _progress(f"Herwig: {events} events x {jobs} jobs, seed {seed}" if jobs > 1 else
                       f"Herwig: {events} events, seed {seed}"):
            files = run_lep(work, events, seed, model=model, ml=not native, settings=list(settings), jobs=jobs,
                            record=clusters is not None)
    except (RuntimeError, FileNotFoundError) as err:
        _fail(str(err))
    def per_job(path: Path) -> list[Path]:
        return [path] if jobs == 1 else [path.with_name(f"{path.stem}-{j}{path.suffix}") for j in range(1, jobs + 1)]

    moves = list(zip(files, per_job(out), strict=True))
    if clusters is not None:
        moves += zip([f.with_suffix(".clusters") for f in files], per_job(clusters), strict=True)
    for src, dst in moves:
        _sh.move(str(src), str(dst))
        console.print(f"wrote {dst}")
    console.print(f"logs in {work}")


__all__ = ["main"]


if __name__ == "__main__":
    main()
