"""Running Herwig 7 with hadml's plugin: where the plugin and cards are, and LEP runs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

PLUGIN = "HadmlHerwig.so"
DEFAULT_MODEL = "hadml_lep91_nominal.onnx"


def _package_dir() -> Path:
    spec = importlib.util.find_spec("hadml._core")
    assert spec is not None and spec.origin
    return Path(spec.origin).parent


def _repo_dir() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "herwig_inputs").is_dir() else None


def herwig_executable() -> str | None:
    """Herwig on PATH, else the Herwig that the plugin was built against (herwig_bindir.txt,
    written by the build beside the plugin); None when neither exists."""
    found = shutil.which("Herwig")
    if found is not None:
        return found
    record = _package_dir() / "herwig" / "herwig_bindir.txt"
    if record.is_file():
        exe = Path(record.read_text().strip()) / "Herwig"
        if exe.is_file() and os.access(exe, os.X_OK):
            return str(exe)
    return None


def herwig_available() -> bool:
    return herwig_executable() is not None


def plugin_path() -> Path:
    """The installed ThePEG plugin (built only where herwig-config was found)."""
    p = _package_dir() / "herwig" / PLUGIN
    if not p.is_file():
        raise FileNotFoundError(
            f"{p} does not exist: hadml was built without Herwig (herwig-config not on PATH at build "
            "time); install Herwig 7, then reinstall hadml"
        )
    return p


def _data_dir(name: str) -> Path:
    # a source checkout (editable install) first: its cards and models are the current ones
    for base in (_repo_dir(), _package_dir() / "share"):
        if base is not None and (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"hadml's {name}/ directory was not found")


def cards_dir() -> Path:
    return _data_dir("herwig_inputs")


def default_model() -> Path:
    return _data_dir("models") / DEFAULT_MODEL


def run_lep(
    out: Path,
    events: int,
    seed: int,
    model: Path | None = None,
    ml: bool = True,
    settings: list[str] | None = None,
    name: str | None = None,
    jobs: int = 1,
    record: bool = False,
) -> list[Path]:
    """Herwig read + run of the LEP card (native, or with the GAN when ``ml``) in ``out``; returns
    the HepMC (IO_GenEvent) files, one per job (``Herwig run -j jobs`` shares ``events`` out; seeds
    chosen by Herwig from ``seed``). ``settings``: extra card lines (e.g. 'set ...:ClSmrLight 0').
    ``record``: hadml's handler also writes every two-body cluster decay with Herwig's own
    information to ``<hepmc stem>.clusters`` beside each HepMC file (hadml.data.decays); a native
    run then goes through the handler with ``Enabled No`` (Herwig decays every cluster)."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = name or ("LEP-ML" if ml else "LEP")
    lines = ["read LEP-common.in"]
    libdir: list[str] = []
    if record:
        lines += ["read ML.in", "set /Herwig/Hadronization/MLHandler:RecordClusters Yes"]
        if not ml:
            lines.append("set /Herwig/Hadronization/MLHandler:Enabled No")
        libdir = ["-l", str(plugin_path().parent)]
    if ml:
        from .decayer import onnxruntime_library

        model = Path(model or default_model()).resolve()
        lines += [*([] if record else ["read ML.in"]), f"set /Herwig/Hadronization/MLHandler:ModelFile {model}"]
        # the ONNX Runtime of the Python environment that runs this, unless the environment
        # variable names one (the plugin also finds the onnxruntime package beside hadml by itself)
        ort = onnxruntime_library()
        if ort and not os.environ.get("HADML_ONNXRUNTIME_LIBRARY"):
            lines.append(f"set /Herwig/Hadronization/MLHandler:OnnxRuntimeLibrary {ort}")
        libdir = ["-l", str(plugin_path().parent)]
    lines += list(settings or [])
    lines += ["cd /Herwig/Generators", f"saverun {name} EventGenerator"]
    card = out / f"{name}.in"
    card.write_text("\n".join(lines) + "\n")
    exe = herwig_executable()
    if exe is None:
        raise FileNotFoundError("Herwig is not installed (not on PATH, and not where the plugin was built against)")
    read = [exe, "read", card.name, "-i", str(cards_dir()), *libdir]
    _check(subprocess.run(read, cwd=out, capture_output=True, text=True), "Herwig read", out)
    stem = f"{name}-S{seed}"
    expected = [out / f"{stem}.hepmc"] if jobs == 1 else [out / f"{stem}-{j}.hepmc" for j in range(1, jobs + 1)]
    for f in expected:
        f.unlink(missing_ok=True)
    run = [exe, "run", f"{name}.run", "-N", str(events), "-s", str(seed), "-q", *libdir]
    if jobs > 1:
        run += ["-j", str(jobs)]
    _check(subprocess.run(run, cwd=out, capture_output=True, text=True), "Herwig run", out)
    if record:
        expected_records = [f.with_suffix(".clusters") for f in expected]
        missing = [f.name for f in expected_records if not f.is_file()]
        if missing:
            raise RuntimeError(f"Herwig run in {out} wrote no {', '.join(missing)} (see the logs there)")
    missing = [f.name for f in expected if not f.is_file()]
    if missing:
        raise RuntimeError(f"Herwig run in {out} wrote no {', '.join(missing)} (see the logs there)")
    return expected


def _check(r: subprocess.CompletedProcess, what: str, out: Path) -> None:
    (out / f"{what.replace(' ', '_')}.log").write_text(r.stdout + r.stderr)
    if r.returncode != 0:
        tail = "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {r.returncode}) in {out}:\n{tail}")


def run_pair(model: Path, events: int, seed: int, out: Path) -> dict:
    """Native and ML LEP runs with the same seed, and their comparison."""
    from .compare.report import compare
    from .data.io import load_events

    [native] = run_lep(out / "native", events, seed, ml=False)
    [ml] = run_lep(out / "ml", events, seed, model=model, ml=True)
    cmp = compare(load_events(native), load_events(ml), ("Herwig", "Herwig+GAN"), out / "compare")
    return {"native": str(native), "ml": str(ml), "comparison": cmp.to_json()}
