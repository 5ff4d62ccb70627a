"""HepMC event files (HepMC3 ascii and HepMC2 IO_GenEvent, plain or compressed) via pyhepmc.

Reading: from each event take the clusters (pid 81) that decay into exactly two hadrons, with
their parent partons when both parents are partons (quarks or diquarks; otherwise, e.g. after
fission, the placeholder 88), and every final-state (status 1) hadron.

Writing (for synthetic samples): each cluster gets the history Herwig records —
partons -> cluster -> two hadrons, or parent cluster -> cluster -> two hadrons for clusters
without known partons (a simplified fission vertex whose parent carries the cluster's momentum).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .errors import DataFormatError, SkipReport, check_mode
from .hadml_format import CONSERVATION_TOL
from .pdg import is_hadron, is_parton
from .table import CLUSTER_PID, PLACEHOLDER_PID, ClusterTable

HepMCHadrons = tuple[np.ndarray, np.ndarray, np.ndarray]


def _p4(p) -> list[float]:  # type: ignore[no-untyped-def]
    m = p.momentum
    return [m.e, m.px, m.py, m.pz]


@contextlib.contextmanager
def _hepmc3_messages() -> Iterator[list[str]]:
    """Collect what HepMC3's C++ readers print on stderr (file descriptor 2) while the block runs:
    a parse error is reported only there, and the reader then just stops as at the end of the
    file. The lines are yielded (filled on exit); anything but HepMC3's own messages is passed on
    to stderr. (HepMC3's debug lines go to stdout and are left alone.)"""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode(errors="replace")
            lines.extend(text.splitlines())
            other = [x for x in lines if not x.startswith(("ERROR::", "WARNING::", "DEBUG("))]
            if other:
                sys.stderr.write("\n".join(other) + "\n")


def read_hepmc(
    path: str | Path,
    on_error: str = "raise",
    max_events: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ClusterTable, HepMCHadrons, SkipReport]:
    """``progress(n)`` is called with the number of events read, every 200 events."""
    import pyhepmc

    check_mode(on_error)
    p = Path(path)
    if not p.is_file():
        raise DataFormatError(str(p), "-", "no such file")
    counts: list[int] = []
    lines: list[int] = []
    ppid: list[list[int]] = []
    hpid: list[list[int]] = []
    parton: list[list[list[float]]] = []
    had: list[list[list[float]]] = []
    cl: list[list[float]] = []
    fs_counts: list[int] = []
    fs_pid: list[int] = []
    fs_p4: list[list[float]] = []
    report = SkipReport(str(p))
    n_read = 0
    try:
        f = pyhepmc.open(p)
    except Exception as err:
        raise DataFormatError(str(p), "-", f"not a readable HepMC file: {err}") from None
    last_number = None
    with f, _hepmc3_messages() as hepmc3:
        for ievent, ev in enumerate(f):
            if max_events is not None and n_read >= max_events:
                break
            n_read += 1
            if progress is not None and n_read % 200 == 0:
                progress(n_read)
            last_number = ev.event_number
            if ev.momentum_unit != pyhepmc.Units.GEV:
                ev.set_units(pyhepmc.Units.GEV, ev.length_unit)
            rows = []
            problem = None
            for part in ev.particles:
                if part.pid != CLUSTER_PID:
                    continue
                end = part.end_vertex
                if end is None:
                    continue
                kids = end.particles_out
                if len(kids) != 2 or not all(is_hadron(k.pid) for k in kids):
                    continue
                pv = part.production_vertex
                pars = list(pv.particles_in) if pv is not None else []
                if len(pars) == 2 and all(is_parton(q.pid) for q in pars):
                    qp, q4 = [pars[0].pid, pars[1].pid], [_p4(pars[0]), _p4(pars[1])]
                else:
                    qp, q4 = [PLACEHOLDER_PID] * 2, [[0.0] * 4, [0.0] * 4]
                row = (qp, q4, _p4(part), [kids[0].pid, kids[1].pid], [_p4(kids[0]), _p4(kids[1])])
                vals = np.array([row[2], *row[4]])
                if not np.all(np.isfinite(vals)):
                    problem = f"cluster {part.id}: non-finite momentum"
                elif np.abs(vals[0] - vals[1] - vals[2]).max() > CONSERVATION_TOL * max(
                    1.0, np.abs(vals).max()
                ):
                    problem = f"cluster {part.id}: four-momentum not conserved in its decay"
                rows.append(row)
            final = [q for q in ev.particles if q.status == 1 and is_hadron(q.pid)]
            if problem is not None:
                where = f"event {ievent} (number {ev.event_number})"
                if on_error == "raise":
                    raise DataFormatError(str(p), where, problem)
                report.add(where, problem)
                continue
            counts.append(len(rows))
            lines.append(ev.event_number)
            for qp, q4, c4, hp, h4 in rows:
                ppid.append(qp)
                parton.append(q4)
                cl.append(c4)
                hpid.append(hp)
                had.append(h4)
            fs_counts.append(len(final))
            fs_pid.extend(q.pid for q in final)
            fs_p4.extend(_p4(q) for q in final)
    errors = [x for x in hepmc3 if x.startswith("ERROR::")]
    if errors and (max_events is None or n_read < max_events):
        # the reader stopped at a broken event: nothing after it can be read
        after = "at the start of the file" if last_number is None else f"after event number {last_number}"
        where = f"event {n_read} ({after})"
        detail = "; ".join(dict.fromkeys(x.removeprefix("ERROR::") for x in errors))
        problem = f"unreadable HepMC event: {detail}"
        if on_error == "raise":
            raise DataFormatError(str(p), where, problem + "; the file is truncated or corrupt")
        report.add(where, problem + f"; reading stopped there, {n_read} events kept")
    if n_read == 0:
        raise DataFormatError(str(p), "-", "no HepMC events in file")
    table = ClusterTable.from_rows(counts, ppid, parton, cl, hpid, had, str(p), lines)
    hadrons = (
        np.asarray(fs_counts, dtype=np.int64),
        np.asarray(fs_pid, dtype=np.int32),
        np.asarray(fs_p4, dtype=np.float64).reshape(-1, 4),
    )
    return table, hadrons, report


def write_hepmc(path: str | Path, table: ClusterTable, fmt: str = "HepMC3") -> None:
    """Write a cluster table as HepMC (``fmt`` 'HepMC3' or 'HepMC2'), full double precision."""
    import pyhepmc

    start = np.concatenate([[0], np.cumsum(table.counts)])
    with pyhepmc.open(path, "w", precision=17, format=fmt) as f:
        for iev in range(table.n_events):
            ev = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
            ev.event_number = iev
            for i in range(start[iev], start[iev + 1]):
                cluster = pyhepmc.GenParticle(
                    pyhepmc.FourVector(*table.cluster[i, 1:], table.cluster[i, 0]), CLUSTER_PID, 2
                )
                prod = pyhepmc.GenVertex()
                if table.has_partons[i]:
                    for k in range(2):
                        q = table.parton[i, k]
                        prod.add_particle_in(
                            pyhepmc.GenParticle(
                                pyhepmc.FourVector(*q[1:], q[0]), int(table.parton_pid[i, k]), 2
                            )
                        )
                else:
                    c = table.cluster[i]
                    prod.add_particle_in(
                        pyhepmc.GenParticle(pyhepmc.FourVector(*c[1:], c[0]), CLUSTER_PID, 2)
                    )
                prod.add_particle_out(cluster)
                ev.add_vertex(prod)
                dec = pyhepmc.GenVertex()
                dec.add_particle_in(cluster)
                for k in range(2):
                    h = table.hadron[i, k]
                    dec.add_particle_out(
                        pyhepmc.GenParticle(pyhepmc.FourVector(*h[1:], h[0]), int(table.hadron_pid[i, k]), 1)
                    )
                ev.add_vertex(dec)
            f.write(ev)
