"""Where a model's cos theta* misses Herwig's (issue 15): per class, the model's / Herwig's counts in
20 bins of cos theta* on every event of a labelled sample (decays by the C++ decayer), with Herwig's
statistical error per bin. A smooth offset and a ripple look alike in a W1; this tells them apart.

    python scripts/diagnose_cos.py models/hadml_lep91_nominal.onnx samples/lep91_nominal_b.clusters
"""
import sys

import numpy as np

from hadml.data.io import load_table
from hadml.ml.train2 import arrays
from hadml.workflows.evaluate import hadml2_decays

model, path = sys.argv[1], sys.argv[2]
t = load_table(path)
_, u = hadml2_decays(model, t, 7)
ref = arrays(t).target
pert = np.asarray(t.perturbative, bool)
for name, m in {"pert1 only": pert[:, 0] & ~pert[:, 1], "neither": ~pert.any(1)}.items():
    a, b = u[m, 2], ref[m, 2]
    ha, hb = np.histogram(a, 20, (-1, 1))[0], np.histogram(b, 20, (-1, 1))[0]
    print(f"{name}: {int(m.sum())} clusters; <cos theta*> model {a.mean():.4f}, Herwig {b.mean():.4f} "
          f"+- {b.std() / np.sqrt(len(b)):.4f}")
    print("  model / Herwig per bin (-1 .. 1):", " ".join(f"{x:.3f}" for x in ha / np.maximum(hb, 1)))
    print("  Herwig's error per bin:          ", " ".join(f"{x:.3f}" for x in 1 / np.sqrt(np.maximum(hb, 1))))
