"""Does Herwig's cluster decay, in the hadml-2 frame, depend on how the cluster moves? (issue 15)

Herwig's ClusterDecayer picks hadron 1's direction in the cluster rest frame (along the boosted
perturbative constituent, smeared by ClSmr, azimuth flat; isotropic otherwise) and then boosts:
the rest-frame direction relative to constituent 1 should not depend on the cluster's lab momentum
|p| or on cos alpha (constituent 1 against the flight direction). This measures it on a labelled
record: per class (pert1 only, pert2 only, both, neither) and per bin of |p| and of cos alpha, the
means of cos theta*, cos phi* and cos 2 phi* with their standard errors, and the chi2 / ndf of
"the same in every bin". Hence `train_hadml2.py --blind log1p_cluster_p,cos_alpha`.

    python scripts/check_rest_frame.py samples/lep91_nominal.clusters
"""
import itertools
import sys

import numpy as np

from hadml.data.io import load_table
from hadml.ml import hadml2 as H
from hadml.ml.train2 import arrays, frame_angles

t = load_table(sys.argv[1])
a = arrays(t)
u = a.target
cos_t, phi = frame_angles(u)
pert = np.asarray(t.perturbative, bool)
p = np.expm1(a.raw[:, H.CONDITIONS.index("log1p_cluster_p")])
ca = a.raw[:, H.CONDITIONS.index("cos_alpha")]
classes = {"pert1 only": pert[:, 0] & ~pert[:, 1], "pert2 only": ~pert[:, 0] & pert[:, 1],
           "both": pert[:, 0] & pert[:, 1], "neither": ~pert.any(1)}
obs = {"cos theta*": cos_t, "cos phi*": np.cos(phi), "cos 2phi*": np.cos(2 * phi)}
bins = {"|p| / GeV": (p, [0, 2, 5, 10, 20, 30, 50]), "cos alpha": (ca, [-1, -0.5, 0, 0.5, 0.8, 0.95, 1.0001])}
print(f"{sys.argv[1]}: {t.n_events} events, {t.n_clusters} clusters")
for cname, cm in classes.items():
    print(f"\n{cname}: {cm.sum()} clusters")
    for bname, (x, edges) in bins.items():
        for oname, o in obs.items():
            means, errs = [], []
            for lo, hi in itertools.pairwise(edges):
                m = cm & (x >= lo) & (x < hi)
                if m.sum() < 50:
                    continue
                means.append(o[m].mean())
                errs.append(o[m].std() / np.sqrt(m.sum()))
            mu, e = np.array(means), np.array(errs)
            w = 1 / e**2
            avg = np.sum(w * mu) / np.sum(w)
            chi2 = float(np.sum(((mu - avg) / e) ** 2))
            row = " ".join(f"{m_:+.3f}({e_:.3f})" for m_, e_ in zip(mu, e, strict=True))
            print(f"  {oname:10s} vs {bname:9s} chi2/ndf {chi2:6.1f}/{len(mu) - 1}: {row}")
