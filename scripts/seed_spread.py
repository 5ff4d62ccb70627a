"""How much of a verdict against the bar is the generator's own noise? (issue 15)

Reads the hadml2.json of several evaluations of one model on the same events with different noise
seeds (``evaluate_hadml2.py MODEL SAMPLE OUT --seed S``) and prints, per observable, the W1 / floor
ratio of each seed and its range, and the charge-flow pulls; then which seeds meet the bar.

    for s in 7 11 12 13; do python scripts/evaluate_hadml2.py MODEL samples/lep91_nominal.clusters runs/seed_$s --seed $s; done
    python scripts/seed_spread.py runs/seed_7 runs/seed_11 runs/seed_12 runs/seed_13
"""
import json
import sys
from pathlib import Path

runs = [json.loads((Path(d) / "hadml2.json").read_text()) for d in sys.argv[1:]]
names = [Path(d).name for d in sys.argv[1:]]
print(f"{'':16s} " + " ".join(f"{n[-10:]:>10s}" for n in names) + "   min-max")
rows = {k: [r["w1_ratios"][k] for r in runs] for k in runs[0]["w1_ratios"]}
# a frame row without a ratio (a delta in Herwig: ClSmrLight 0's perturbative cos theta*) reads nan
rows |= {k: [float("nan") if r["frame"][k]["ratio"] is None else r["frame"][k]["ratio"] for r in runs]
         for k in runs[0]["frame"]}
for k, v in rows.items():
    print(f"{k:16s} " + " ".join(f"{x:10.2f}" for x in v) + f"   {min(v):.2f}-{max(v):.2f}")
for k in runs[0]["charge_flow"]:
    v = [r["charge_flow"][k]["pull"] for r in runs]
    print(f"pull {k:11s} " + " ".join(f"{x:+10.2f}" for x in v) + f"   mean {sum(v) / len(v):+.2f}")
v = [r["auc"][0] for r in runs]
print(f"{'AUC':16s} " + " ".join(f"{x:10.3f}" for x in v))
for n, r in zip(names, runs, strict=True):
    miss = [k for k, x in rows.items() if x[names.index(n)] > 1.5]
    miss += [f"pull {k}" for k, c in r["charge_flow"].items() if abs(c["pull"]) > 3]
    miss += ["AUC"] if r["auc"][0] > 0.52 else []
    print(f"{n}: {'meets the bar' if not miss else 'misses: ' + ', '.join(miss)}")
