"""Reader for the HadML cluster text format (plain or gzip), see ``../shared/data/README.md``.

One line per event; clusters separated by ``|``; each cluster is five ``;``-separated objects
``pid,E,px,py,pz``: parton1; parton2; cluster (pid 81); hadron1; hadron2. Parsing is
vectorised (one numpy pass over the whole file); only when that pass finds something wrong is
the file walked line by line to name the first bad line (or, with ``on_error='skip'``, every one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataFormatError, SkipReport, check_mode
from .table import CLUSTER_PID, PLACEHOLDER_PID, ClusterTable
from .textio import parse_numbers, read_bytes

VALUES_PER_CLUSTER = 25
# Printed with 6 significant digits: sums of three rounded numbers agree to ~1.5e-5 relative.
CONSERVATION_TOL = 1e-4


def _line_problem(line: bytes) -> str | None:
    """Check one event line in isolation; return a description of the first problem."""
    text = line.strip()
    if not text.endswith(b"|"):
        return "line does not end with '|' (truncated?)"
    for ic, chunk in enumerate(text.rstrip(b"|").split(b"|")):
        objs = [o for o in chunk.split(b";") if o.strip()]
        if len(objs) != 5:
            return f"cluster {ic}: expected 5 objects 'pid,E,px,py,pz', found {len(objs)}"
        for io, obj in enumerate(objs):
            fields = obj.split(b",")
            if len(fields) != 5:
                return f"cluster {ic}, object {io}: expected 5 comma-separated fields, found {len(fields)}"
            try:
                vals = [float(f) for f in fields]
            except ValueError:
                return f"cluster {ic}, object {io}: not a number in {obj.decode(errors='replace')!r}"
            if not all(np.isfinite(vals)):
                return f"cluster {ic}, object {io}: non-finite momentum {obj.decode(errors='replace')!r}"
    return None


def _physics_problems(a: np.ndarray) -> list[str | None]:
    """Per-cluster physics checks on parsed values (N, 5, 5); None where fine."""
    pid = a[:, :, 0]
    p4 = a[:, :, 1:]
    msgs: list[str | None] = [None] * a.shape[0]

    def flag(mask: np.ndarray | np.bool_, text: str) -> None:
        for i in np.flatnonzero(mask):
            if msgs[i] is None:
                msgs[i] = text

    flag(~np.all(np.isfinite(a), axis=(1, 2)), "non-finite value")
    flag(pid[:, 2] != CLUSTER_PID, "third object is not a cluster (pid 81)")
    ph = pid[:, :2] == PLACEHOLDER_PID
    flag(ph[:, 0] != ph[:, 1], "only one of the two partons is a placeholder (88)")
    bad_h = np.isin(np.abs(pid[:, 3:]), [0, CLUSTER_PID, PLACEHOLDER_PID]).any(axis=1)
    flag(bad_h, "hadron pid is 0, 81 or 88")
    flag((p4[:, 2:, 0] <= 0).any(axis=1), "cluster or hadron with non-positive energy")
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(p4[:, 2:]).max(axis=(1, 2)), 1.0)
        viol = np.abs(p4[:, 2] - p4[:, 3] - p4[:, 4]).max(axis=1) / scale
    flag(viol > CONSERVATION_TOL, "four-momentum not conserved: cluster != hadron1 + hadron2")
    return msgs


def read_cluster_file(path: str | Path, on_error: str = "raise") -> ClusterTable:
    """Read a HadML cluster file into a :class:`ClusterTable`.

    ``on_error='raise'`` (default): the first malformed or unphysical line raises
    :class:`DataFormatError` naming ``file:line`` and the problem. ``'skip'``: such events are
    dropped; the table's ``meta['skipped']`` says how many and why.
    """
    check_mode(on_error)
    data = read_bytes(path)
    lines = data.split(b"\n")
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    if not nonblank:
        raise DataFormatError(str(path), "-", "file holds no events")
    counts = np.fromiter((lines[i].count(b"|") for i in nonblank), dtype=np.int64, count=len(nonblank))
    body = data.replace(b";|", b",").replace(b";", b",").replace(b"|", b",")
    values = parse_numbers(body)
    report = SkipReport(str(path))
    good_text = values is not None and values.size == VALUES_PER_CLUSTER * counts.sum()
    if not good_text:
        keep = np.ones(len(nonblank), dtype=bool)
        for k, i in enumerate(nonblank):
            problem = _line_problem(lines[i])
            if problem is None:
                continue
            if on_error == "raise":
                raise DataFormatError(str(path), f"line {i + 1}", problem)
            report.add(f"line {i + 1}", problem)
            keep[k] = False
        if keep.all():
            raise DataFormatError(str(path), "-", "could not parse the file (no bad line found)")
        good = b"\n".join(lines[i] for i, k in zip(nonblank, keep, strict=True) if k)
        good = good.replace(b";|", b",").replace(b";", b",").replace(b"|", b",")
        values = parse_numbers(good)
        nonblank = [i for i, k in zip(nonblank, keep, strict=True) if k]
        counts = counts[keep]
    assert values is not None  # good_text, or parsed again without the bad lines
    a = values.reshape(-1, 5, 5)
    problems = _physics_problems(a)
    event_of = np.repeat(np.arange(counts.size), counts)
    first_in_event = np.concatenate([[0], np.cumsum(counts)[:-1]])
    bad_events = np.zeros(counts.size, dtype=bool)
    for ic, msg in enumerate(problems):
        if msg is None:
            continue
        ev = event_of[ic]
        where = f"line {nonblank[ev] + 1}"
        text = f"cluster {ic - first_in_event[ev]}: {msg}"
        if on_error == "raise":
            raise DataFormatError(str(path), where, text)
        if not bad_events[ev]:
            report.add(where, text)
        bad_events[ev] = True
    table = ClusterTable(
        counts=counts,
        cluster=a[:, 2, 1:].copy(),
        parton_pid=a[:, :2, 0].astype(np.int32),
        parton=a[:, :2, 1:].copy(),
        hadron_pid=a[:, 3:, 0].astype(np.int32),
        hadron=a[:, 3:, 1:].copy(),
        source=str(path),
        line=np.asarray(nonblank, dtype=np.int64) + 1,
    )
    if bad_events.any():
        table = table.select_events(~bad_events)
    table.meta["skipped"] = str(len(report))
    table.meta["skip_summary"] = report.summary()
    return table
