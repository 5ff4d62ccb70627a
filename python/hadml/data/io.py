"""One entry point for every input format: ``load_events(path)`` -> awkward event sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import awkward as ak
import numpy as np

from .errors import DataFormatError
from .events import read_root, to_awkward
from .table import ClusterTable
from .textio import read_bytes

HEPMC_SUFFIXES = (".hepmc", ".hepmc2", ".hepmc3", ".hepmc.gz", ".hepmc2.gz", ".hepmc3.gz")


def sniff(path: str | Path) -> str:
    """'root', 'hepmc', 'clusters', 'history' or 'hadrons'."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".root"):
        return "root"
    if name.endswith(HEPMC_SUFFIXES):
        return "hepmc"
    head = read_bytes(p)[:4096]
    if head.lstrip().startswith((b"HepMC::", b"E ")):
        return "hepmc"
    first = next((ln for ln in head.split(b"\n") if ln.strip()), b"")
    if first.lstrip().startswith(b"("):
        return "history"
    if b"|" in first:
        return "clusters"
    if first.strip():
        return "hadrons"
    raise DataFormatError(str(p), "-", "file holds no events (no non-blank line)")


def hadrons_only_events(counts: np.ndarray, pid: np.ndarray, p4: np.ndarray) -> ak.Array:
    empty = ClusterTable(
        np.zeros(counts.size, dtype=np.int64),
        np.zeros((0, 4)),
        np.zeros((0, 2), np.int32),
        np.zeros((0, 2, 4)),
        np.zeros((0, 2), np.int32),
        np.zeros((0, 2, 4)),
    )
    return to_awkward(empty, (counts, pid, p4))


def load_events(
    path: str | Path, on_error: str = "raise", progress: Callable[[int], None] | None = None
) -> ak.Array:
    """Read any supported file into the awkward event representation (see events.py).

    With ``on_error='skip'`` the returned array's ``attrs['skipped']`` says what was dropped."""
    events = _load(path, on_error, progress)
    if "source" not in events.attrs:
        events.attrs["source"] = str(path)
    return events


def _with_report(events: ak.Array, summary: str) -> ak.Array:
    events.attrs["skipped"] = summary
    return events


def _load(path: str | Path, on_error: str, progress: Callable[[int], None] | None = None) -> ak.Array:
    kind = sniff(path)
    if kind == "root":
        return read_root(path)
    if kind == "hepmc":
        from .hepmc import read_hepmc

        table, hadrons, report = read_hepmc(path, on_error=on_error, progress=progress)
        return _with_report(to_awkward(table, hadrons), report.summary())
    if kind == "history":
        from .history import read_history_file

        table, _, hadrons = read_history_file(path)
        return to_awkward(table, hadrons)
    if kind == "clusters":
        from .hadml_format import read_cluster_file

        table = read_cluster_file(path, on_error=on_error)
        return _with_report(to_awkward(table), table.meta["skip_summary"])
    from .hadrons import read_hadron_file

    counts, pid, p4, report = read_hadron_file(path, on_error=on_error)
    return _with_report(hadrons_only_events(counts, pid, p4), report.summary())
