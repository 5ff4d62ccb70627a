"""Reader for the HadML full-history format (``AllClusters_lep91_10.dat``).

One line per event; groups separated by ``|``; objects by ``;``, each
``(index),pid,[ child indices ], E,px,py,pz``. Clusters (pid 81) may have cluster children
(fission) before their hadrons.
"""

from __future__ import annotations

import re
from pathlib import Path

import awkward as ak
import numpy as np

from .errors import DataFormatError
from .pdg import is_hadron, is_parton
from .table import CLUSTER_PID, PLACEHOLDER_PID, ClusterTable
from .textio import read_bytes

_OBJ = re.compile(
    r"^\s*\((\d+)\)\s*,\s*(-?\d+)\s*,\s*\[([\d\s]*)\]\s*,\s*([^,]+),([^,]+),([^,]+),([^,]+?)\s*$"
)


def _parse_line(line: str, path: str, lineno: int) -> list[tuple[int, int, list[int], list[float]]]:
    objs = []
    for text in re.split(r"[;|]", line):
        if not text.strip():
            continue
        m = _OBJ.match(text)
        if m is None:
            raise DataFormatError(path, f"line {lineno}", f"malformed object {text.strip()!r}")
        try:
            p4 = [float(m.group(i)) for i in range(4, 8)]
        except ValueError:
            raise DataFormatError(path, f"line {lineno}", f"not a number in {text.strip()!r}") from None
        if not np.all(np.isfinite(p4)):
            raise DataFormatError(path, f"line {lineno}", f"non-finite momentum in {text.strip()!r}")
        objs.append((int(m.group(1)), int(m.group(2)), [int(c) for c in m.group(3).split()], p4))
    return objs


def read_history_file(
    path: str | Path,
) -> tuple[ClusterTable, ak.Array, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Returns (two-body clusters as a ClusterTable, the full history as awkward
    ``var * {index, pid, children: var * int, E, px, py, pz}``, event hadrons (counts, pid, p4))."""
    text = read_bytes(path).decode("ascii", errors="replace")
    events: list[list] = []
    counts, pids, partons, ppids, clusters, hadrons, hpids, lines = [], [], [], [], [], [], [], []
    fs_counts: list[int] = []
    fs_pid: list[int] = []
    fs_p4: list[list[float]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        objs = _parse_line(line, str(path), lineno)
        byidx: dict[int, tuple] = {}
        for o in objs:
            if o[0] in byidx:
                raise DataFormatError(str(path), f"line {lineno}", f"index ({o[0]}) appears twice")
            byidx[o[0]] = o
        parents: dict[int, list[int]] = {}
        for o in objs:
            for c in o[2]:
                if c not in byidx:
                    raise DataFormatError(
                        str(path), f"line {lineno}", f"({o[0]}) names child ({c}), which is not listed"
                    )
                parents.setdefault(c, []).append(o[0])
        n = 0
        for o in objs:
            if o[1] != CLUSTER_PID or len(o[2]) != 2:
                continue
            kids = [byidx[c] for c in o[2]]
            if not all(is_hadron(k[1]) for k in kids):
                continue
            par = [byidx[i] for i in parents.get(o[0], [])]
            if len(par) == 2 and all(is_parton(p[1]) for p in par):
                ppids.append([par[0][1], par[1][1]])
                partons.append([par[0][3], par[1][3]])
            else:
                ppids.append([PLACEHOLDER_PID, PLACEHOLDER_PID])
                partons.append([[0.0] * 4, [0.0] * 4])
            clusters.append(o[3])
            hpids.append([kids[0][1], kids[1][1]])
            hadrons.append([kids[0][3], kids[1][3]])
            n += 1
        counts.append(n)
        lines.append(lineno)
        final = [o for o in objs if not o[2] and is_hadron(o[1])]
        fs_counts.append(len(final))
        fs_pid.extend(o[1] for o in final)
        fs_p4.extend(o[3] for o in final)
        events.append(objs)
        pids.append(len(objs))
    if not events:
        raise DataFormatError(str(path), "-", "file holds no events")
    table = ClusterTable.from_rows(counts, ppids, partons, clusters, hpids, hadrons, str(path), lines)
    history = ak.Array(
        [
            [
                {
                    "index": o[0],
                    "pid": o[1],
                    "children": o[2],
                    "E": o[3][0],
                    "px": o[3][1],
                    "py": o[3][2],
                    "pz": o[3][3],
                }
                for o in objs
            ]
            for objs in events
        ]
    )
    fs = (
        np.asarray(fs_counts, dtype=np.int64),
        np.asarray(fs_pid, dtype=np.int32),
        np.asarray(fs_p4, dtype=np.float64).reshape(-1, 4),
    )
    return table, history, fs
