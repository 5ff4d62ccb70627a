"""Where a model's charge flow goes wrong (issue 15): hadron 1's direction, the model's (C++ decayer)
against Herwig's, on the test split, for perturbative clusters binned in |p|, by flag and fission, for
the highest-|p| cluster of each event; then the cosine to the flight direction (train2.forward_cos).

    python scripts/diagnose_leading.py models/hadml_lep91_nominal.onnx samples/lep91_nominal.clusters
"""
import sys

import numpy as np

from hadml.blocks.distances import w1
from hadml.data.io import load_table
from hadml.ml.train2 import arrays, forward_cos, split_labels
from hadml.workflows.evaluate import hadml2_decays

model, path = sys.argv[1], sys.argv[2]
t = load_table(path)
t = t.select_events(split_labels(t.n_events, 1) == 2)
gan, u = hadml2_decays(model, t, 7)
ref = arrays(t).target
pert = np.asarray(t.perturbative, bool)
anyp = pert.any(1)
p = np.linalg.norm(t.cluster[:, 1:], axis=1)
rng = np.random.default_rng(0)
def cmp(mask, name):
    a, b = u[mask, 2], ref[mask, 2]
    h = rng.random(mask.sum()) < 0.5
    fl = w1(b[h], b[~h])
    print(f"{name:32s} n={mask.sum():7d} <cos> model {a.mean():+.4f} herwig {b.mean():+.4f} "
          f"(err {b.std()/np.sqrt(len(b)):.4f})  W1 {w1(a,b):.4f} halves {fl:.4f}")
for lo, hi in [(0, 5), (5, 10), (10, 20), (20, 30), (30, 50)]:
    m = anyp & (p >= lo) & (p < hi)
    cmp(m, f"pert, |p| in [{lo},{hi})")
    cmp(~anyp & (p >= lo) & (p < hi), f"nonpert, |p| in [{lo},{hi})")
# which of the two constituents is perturbative
cmp(pert[:, 0] & ~pert[:, 1], "pert1 only")
cmp(~pert[:, 0] & pert[:, 1], "pert2 only")
cmp(pert[:, 0] & pert[:, 1], "both")
fis = np.asarray(t.fission, bool)
cmp(anyp & fis, "pert & fission")
cmp(anyp & ~fis, "pert & not fission")
# leading cluster of each event
starts = np.cumsum(t.counts) - t.counts
lead = np.array([s + np.argmax(p[s:s + c]) for s, c in zip(starts, t.counts, strict=True) if c > 0])
lm = np.zeros(len(p), bool)
lm[lead] = True
cmp(lm & anyp, "leading cluster, pert")
cmp(lm & ~anyp, "leading cluster, nonpert")
print("--- forwardness u.n (n = flight direction in the frame) and phi*")
ca = arrays(t).raw[:, 2]
sa = np.sqrt(np.clip(1 - ca**2, 0, None))
def fw(v): return forward_cos(v, ca)
fu, fr = fw(u), fw(ref)
phu, phr = np.arctan2(u[:, 1], u[:, 0]), np.arctan2(ref[:, 1], ref[:, 0])
for name, m in [("all pert", anyp), ("pert |p|>30", anyp & (p > 30)), ("pert |p|<20", anyp & (p < 20)),
                ("leading pert", lm & anyp), ("nonpert", ~anyp)]:
    h = rng.random(m.sum()) < 0.5
    print(f"{name:14s} <u.n> model {fu[m].mean():+.4f} herwig {fr[m].mean():+.4f} (err {fr[m].std()/np.sqrt(m.sum()):.4f}) "
          f"W1 {w1(fu[m], fr[m]):.4f} halves {w1(fr[m][h], fr[m][~h]):.4f} | <cos phi> model {np.cos(phu[m]).mean():+.4f} herwig {np.cos(phr[m]).mean():+.4f}"
          f" W1phi {w1(phu[m], phr[m]):.4f} halves {w1(phr[m][h], phr[m][~h]):.4f}")
