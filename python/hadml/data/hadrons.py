"""Reader for hadron-only events (``pions_lep91_2k.dat``): one line per event, hadrons separated
by ``;``, each ``pid,E,px,py,pz``. No cluster information: the "data" of an event-level fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataFormatError, SkipReport, check_mode
from .textio import parse_numbers, read_bytes


def _line_problem(line: bytes) -> str | None:
    for k, obj in enumerate(o for o in line.strip().split(b";") if o.strip()):
        fields = obj.split(b",")
        if len(fields) != 5:
            return f"hadron {k}: expected 5 fields 'pid,E,px,py,pz', found {len(fields)}"
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            return f"hadron {k}: not a number in {obj.decode(errors='replace')!r}"
        if not np.all(np.isfinite(vals)):
            return f"hadron {k}: non-finite value"
        if vals[1] <= 0:
            return f"hadron {k}: non-positive energy"
    return None


def read_hadron_file(
    path: str | Path, on_error: str = "raise"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, SkipReport]:
    """Returns (counts per event, pid, p4 (n, 4), skip report)."""
    check_mode(on_error)
    lines = [ln for ln in read_bytes(path).split(b"\n")]
    idx = [i for i, ln in enumerate(lines) if ln.strip()]
    if not idx:
        raise DataFormatError(str(path), "-", "file holds no events")
    counts = np.array([sum(1 for o in lines[i].split(b";") if o.strip()) for i in idx])
    values = parse_numbers(b",".join(lines[i].replace(b";", b",").strip(b", ") for i in idx))
    report = SkipReport(str(path))
    ok = (
        values is not None
        and values.size == 5 * counts.sum()
        and np.all(np.isfinite(values))
        and np.all(values.reshape(-1, 5)[:, 1] > 0)
    )
    if not ok:
        keep = []
        for i in idx:
            problem = _line_problem(lines[i])
            if problem is None:
                keep.append(i)
            elif on_error == "raise":
                raise DataFormatError(str(path), f"line {i + 1}", problem)
            else:
                report.add(f"line {i + 1}", problem)
        idx = keep
        counts = np.array([sum(1 for o in lines[i].split(b";") if o.strip()) for i in idx])
        values = parse_numbers(b",".join(lines[i].replace(b";", b",").strip(b", ") for i in idx))
    assert values is not None  # ok, or parsed again without the bad lines
    a = values.reshape(-1, 5)
    return counts.astype(np.int64), a[:, 0].astype(np.int32), a[:, 1:].copy(), report
