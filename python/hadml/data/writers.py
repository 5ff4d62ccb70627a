"""Writing a ClusterTable in any of the supported formats, chosen by the file suffix."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .events import to_awkward, write_root
from .table import ClusterTable


def write_cluster_file(path: str | Path, table: ClusterTable) -> None:
    """HadML cluster format (full double precision)."""
    start = np.concatenate([[0], np.cumsum(table.counts)])

    def obj(pid: int, p4: np.ndarray) -> str:
        return f"{pid}," + ",".join(repr(float(x)) for x in p4)

    with open(path, "w") as f:
        for e in range(table.n_events):
            parts = []
            for i in range(start[e], start[e + 1]):
                objs = [obj(int(table.parton_pid[i, k]), table.parton[i, k]) for k in range(2)]
                objs.append(obj(81, table.cluster[i]))
                objs += [obj(int(table.hadron_pid[i, k]), table.hadron[i, k]) for k in range(2)]
                parts.append(";".join(objs) + ";|")
            f.write("".join(parts) + "\n")


def write_any(path: str | Path, table: ClusterTable) -> None:
    name = str(path).lower()
    if name.endswith(".root"):
        write_root(path, to_awkward(table))
    elif ".hepmc" in name:
        from .hepmc import write_hepmc

        write_hepmc(path, table, "HepMC2" if "hepmc2" in name else "HepMC3")
    elif name.endswith(".dat"):
        write_cluster_file(path, table)
    else:
        raise ValueError(f"{path}: unknown output format (use .root, .hepmc3, .hepmc2 or .dat)")
