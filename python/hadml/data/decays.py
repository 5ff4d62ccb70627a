"""Reader for the decay record that hadml's Herwig handler writes (``RecordClusters Yes``):
``RUN.clusters`` beside the run's log, plain or gzip.

Every two-body cluster decay the handler makes in every accepted event (not those inside
Herwig's partonic decays of heavy hadrons, which run a ClusterDecayer of their own), with
Herwig's own information::

    # hadml cluster decays, format 1: <run>
    E <event number> <decays>
    C <by> <fission> <cluster E px py pz>
      <q1 id E px py pz isPerturbative> <q2 id E px py pz isPerturbative>
      <h1 id E px py pz> <h2 id E px py pz>

(one ``C`` line per decay, 28 numbers; GeV). ``by``: 0 Herwig's ClusterDecayer, 1 the GAN;
``fission``: the cluster has a Cluster parent (a fission product, or a cluster that
ClusterFinder's three-to-two reduction or LightClusterDecayer's reshuffling redefined; such
clusters keep their constituents and isPerturbative flags); the hadrons are in Herwig's order (hadron *i*
carries constituent *i*'s flavour, ``HadronSelector::chooseHadronPair``). Event numbers are
ThePEG's, the ones of the HepMC file of the same run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import DataFormatError, SkipReport, check_mode
from .table import ClusterTable
from .textio import read_bytes

MAGIC = b"# hadml cluster decays, format "
FORMAT = 1
VALUES = 28  # numbers after "C"
# The record holds doubles (17 digits): conservation is checked to rounding of the lab momenta.
CONSERVATION_TOL = 1e-9


def is_decay_record(head: bytes) -> bool:
    return head.lstrip().startswith(MAGIC)


def read_decay_record(path: str | Path, on_error: str = "raise") -> ClusterTable:
    """The decays as a :class:`ClusterTable` with ``perturbative``, ``fission`` and ``by_gan``;
    a malformed line raises :class:`DataFormatError` naming file and line (``on_error='skip'``
    drops the event it belongs to and reports it in ``meta['skip_summary']``)."""
    check_mode(on_error)
    p = Path(path)
    lines = read_bytes(p).split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()  # the final newline
    if not lines or not is_decay_record(lines[0]):
        raise DataFormatError(str(p), "1", "not a hadml decay record (first line is not '# hadml cluster decays')")
    try:
        version = int(lines[0].strip()[len(MAGIC):].split(b":")[0])
    except ValueError:
        version = -1
    if version != FORMAT:
        raise DataFormatError(str(p), "1", f"decay record format {version}, this hadml reads format {FORMAT}")
    report = SkipReport(str(p))
    counts: list[int] = []
    numbers: list[int] = []
    rows: list[np.ndarray] = []
    i = 1
    n = len(lines)

    def fail(lineno: int, problem: str, event: int | None) -> None:
        where = f"{lineno}" if event is None else f"{lineno} (event {event})"
        if on_error == "raise":
            raise DataFormatError(str(p), where, problem)
        report.add(where, problem)

    while i < n:
        text = lines[i].strip()
        i += 1
        if not text or text.startswith(b"#"):
            continue
        head = text.split()
        if head[0] != b"E" or len(head) != 3:
            fail(i, f"expected 'E <event> <decays>', found {text[:60].decode(errors='replace')!r}", None)
            continue
        try:
            number, k = int(head[1]), int(head[2])
        except ValueError:
            fail(i, "event header with a non-integer field", None)
            continue
        start = i
        block = lines[i : i + k]
        i += k
        vals = []
        problem = None
        for j, line in enumerate(block):
            f = line.split()
            if len(f) != VALUES + 1 or f[0] != b"C":
                problem = (start + j + 1, f"expected 'C' and {VALUES} numbers, found {len(f)} fields"
                           + (" (truncated file?)" if j == len(block) - 1 else ""))
                break
            try:
                vals.append(np.array([float(x) for x in f[1:]]))
            except ValueError:
                problem = (start + j + 1, "not a number")
                break
        if problem is None and len(block) < k:
            problem = (n, f"event {number} announces {k} decays, the file ends after {len(block)} (truncated)")
        if problem is None and vals:
            a = np.stack(vals)
            bad = _physics_problem(a)
            if bad is not None:
                problem = (start + bad[0] + 1, bad[1])
        if problem is not None:
            fail(problem[0], problem[1], number)
            continue
        counts.append(k)
        numbers.append(number)
        rows.extend(vals)
    if not counts and not report.skipped:
        raise DataFormatError(str(p), "-", "no events in the decay record")
    a = np.stack(rows) if rows else np.zeros((0, VALUES))
    table = ClusterTable(
        counts=np.asarray(counts, dtype=np.int64),
        cluster=a[:, 2:6].copy(),
        parton_pid=a[:, [6, 12]].astype(np.int32),
        parton=np.stack([a[:, 7:11], a[:, 13:17]], axis=1),
        hadron_pid=a[:, [18, 23]].astype(np.int32),
        hadron=np.stack([a[:, 19:23], a[:, 24:28]], axis=1),
        source=str(p),
        line=np.asarray(numbers, dtype=np.int64),
        perturbative=a[:, [11, 17]].astype(bool),
        fission=a[:, 1].astype(bool),
        by_gan=a[:, 0].astype(bool),
    )
    table.meta["skip_summary"] = report.summary()
    return table


def _physics_problem(a: np.ndarray) -> tuple[int, str] | None:
    """The first decay (row index, problem) that is not physical, or None."""
    if not np.all(np.isfinite(a)):
        return int(np.flatnonzero(~np.all(np.isfinite(a), axis=1))[0]), "non-finite value"
    flags = a[:, [0, 1, 11, 17]]
    bad = np.flatnonzero(~np.all((flags == 0) | (flags == 1), axis=1))
    if bad.size:
        return int(bad[0]), "a flag (by, fission, isPerturbative) is not 0 or 1"
    c, h1, h2 = a[:, 2:6], a[:, 19:23], a[:, 24:28]
    scale = np.maximum(1.0, np.abs(c).max(axis=1))
    bad = np.flatnonzero(np.abs(c - h1 - h2).max(axis=1) > CONSERVATION_TOL * scale)
    if bad.size:
        return int(bad[0]), "four-momentum not conserved in the decay"
    return None
