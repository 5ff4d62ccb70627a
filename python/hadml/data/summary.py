"""``hadml data info``: a summary of an event sample."""

from __future__ import annotations

from collections import Counter

import awkward as ak
import numpy as np
from rich.console import Console
from rich.table import Table

from ..kinematics import mass2


def _range(x: np.ndarray) -> str:
    if x.size == 0:
        return "-"
    return f"{x.min():.4g} .. {x.max():.4g}  (mean {x.mean():.4g})"


def summarise(events: ak.Array, console: Console, title: str = "") -> dict[str, object]:
    cl = events["clusters"]
    had = events["hadrons"]
    nclu = ak.to_numpy(ak.num(cl, axis=1))
    nhad = ak.to_numpy(ak.num(had, axis=1))

    def flat(a: ak.Array, f: str) -> np.ndarray:
        return ak.to_numpy(ak.flatten(a[f], axis=1))

    info: dict[str, object] = {"events": len(events), "clusters": int(nclu.sum()), "hadrons": int(nhad.sum())}
    t = Table(title=title or "sample summary", show_header=False)
    t.add_row("events", str(len(events)))
    t.add_row("clusters (two-body)", f"{nclu.sum()}  ({nclu.mean():.3f} per event)" if len(events) else "0")
    t.add_row("final-state hadrons", f"{nhad.sum()}  ({nhad.mean():.3f} per event)" if len(events) else "0")
    if nclu.sum():
        c4 = np.column_stack([flat(cl, f) for f in ("E", "px", "py", "pz")])
        h1 = np.column_stack([flat(cl, "h1_" + f) for f in ("E", "px", "py", "pz")])
        h2 = np.column_stack([flat(cl, "h2_" + f) for f in ("E", "px", "py", "pz")])
        M = np.sqrt(np.clip(mass2(c4), 0, None))
        has = flat(cl, "has_partons")
        viol = np.abs(c4 - h1 - h2).max(axis=1) / np.maximum(np.abs(c4).max(axis=1), 1.0)
        t.add_row("clusters with partons", f"{has.sum()}  (placeholders: {(~has).sum()})")
        t.add_row("cluster mass [GeV]", _range(M))
        t.add_row("cluster energy [GeV]", _range(c4[:, 0]))
        t.add_row("conservation max |c - h1 - h2| / scale", f"{viol.max():.2e}")
        info.update(mass_mean=float(M.mean()), conservation=float(viol.max()), with_partons=int(has.sum()))
    pids = Counter(flat(had, "pid").tolist()) if nhad.sum() else Counter()
    if pids:
        t.add_row("hadron pids", ", ".join(f"{p}: {n}" for p, n in pids.most_common(12)))
        t.add_row("hadron energy [GeV]", _range(flat(had, "E")))
    info["pids"] = dict(pids)
    console.print(t)
    return info
