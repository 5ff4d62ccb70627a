"""One entry point for every input format. The format is detected here, once per read, from the
file name and the first 4 KiB of the contents (:func:`sniff`):

``load_events(path)``   -> awkward event sample (see events.py)
``load_table(path)``    -> :class:`ClusterTable` (cluster files read directly, fast)
``load_hadrons(path)``  -> (counts, p4) of each event's hadrons
``load_sample(path)``   -> a cluster file's table, any other file's hadrons
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import awkward as ak
import numpy as np

from .decays import is_decay_record
from .errors import DataFormatError
from .events import event_hadrons, read_root, to_awkward, to_table
from .table import ClusterTable
from .textio import read_head

HEPMC_SUFFIXES = (".hepmc", ".hepmc2", ".hepmc3", ".hepmc.gz", ".hepmc2.gz", ".hepmc3.gz")
HEAD_BYTES = 4096  # what format detection reads (of a gzip file: decompressed)


def sniff(path: str | Path) -> str:
    """'root', 'hepmc', 'decays', 'clusters', 'history' or 'hadrons': from the name, else from the
    first :data:`HEAD_BYTES` of the contents (a gzip file is decompressed only that far)."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith(".root"):
        return "root"
    if name.endswith(HEPMC_SUFFIXES):
        return "hepmc"
    head = read_head(p, HEAD_BYTES)
    if is_decay_record(head):
        return "decays"
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
    path: str | Path,
    on_error: str = "raise",
    progress: Callable[[int], None] | None = None,
    kind: str | None = None,
) -> ak.Array:
    """Read any supported file into the awkward event representation (see events.py).

    With ``on_error='skip'`` the returned array's ``attrs['skipped']`` says what was dropped.
    ``kind``: the format, when the caller has already asked :func:`sniff` (not detected again);
    ``progress`` is called with the number of events read so far by the readers that go event by
    event (HepMC)."""
    events = _load(path, kind or sniff(path), on_error, progress)
    if "source" not in events.attrs:
        events.attrs["source"] = str(path)
    return events


def _with_report(events: ak.Array, summary: str) -> ak.Array:
    events.attrs["skipped"] = summary
    return events


def load_table(path: str | Path, max_events: int = 0) -> ClusterTable:
    """Any supported file -> :class:`ClusterTable` of its first ``max_events`` events (0: all);
    cluster files are read directly (fast)."""
    return _table(path, sniff(path), max_events)


def load_sample(path: str | Path, max_events: int = 0) -> ClusterTable | tuple[np.ndarray, np.ndarray]:
    """What an event-level fit or comparison reads of a file: a cluster file's table (its two-body
    decays are the events' hadrons), any other file's final-state hadrons as (counts, p4), with
    malformed events skipped. ``max_events``: the first so many events (0: all)."""
    kind = sniff(path)
    if kind == "clusters":
        return _table(path, kind, max_events)
    events = _load(path, kind, "skip")
    if max_events:
        events = events[:max_events]
    counts, _, p4 = event_hadrons(events)
    return counts, p4


def load_hadrons(path: str | Path, max_events: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The "data" of an event-level fit: (counts, p4) of each event's hadrons. For cluster files
    these are the two-body decay products (what the generator produces); otherwise the file's
    final-state hadrons."""
    sample = load_sample(path, max_events)
    if isinstance(sample, ClusterTable):
        return 2 * sample.counts, sample.hadron.reshape(-1, 4)
    return sample


def _table(path: str | Path, kind: str, max_events: int) -> ClusterTable:
    if kind == "clusters":
        from .hadml_format import read_cluster_file

        table = read_cluster_file(path)
    else:
        table = to_table(_load(path, kind, "raise"), source=str(path))
    return table.head(max_events) if max_events and max_events < table.n_events else table


def _load(
    path: str | Path, kind: str, on_error: str, progress: Callable[[int], None] | None = None
) -> ak.Array:
    if kind == "root":
        return read_root(path)
    if kind == "hepmc":
        from .hepmc import read_hepmc

        table, hadrons, report = read_hepmc(path, on_error=on_error, progress=progress)
        return _with_report(to_awkward(table, hadrons), report.summary())
    if kind == "decays":
        from .decays import read_decay_record

        table = read_decay_record(path, on_error=on_error)
        return _with_report(to_awkward(table), table.meta["skip_summary"])
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
