#!/usr/bin/env bash
# The commands behind docs/results_hadml1.md, in order (CPU: about 1.5 hours on 2 cores).
# Trains the closure and stress fits on the real Herwig samples in ../shared, exports them, and
# evaluates each exported model (C++ decayer on held-out nominal clusters) against held-out
# Herwig events, next to Herwig-vs-Herwig baselines. Outputs under runs/ and docs/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
H=../shared/data/herwig
EV=${EVAL_EVENTS:-20000}
mkdir -p docs/results runs
step() { echo "== $(date +%T) $*"; }

if [ "${SKIP_CLUSTER:-0}" != 1 ]; then
  step "cluster-level closure fit"
  hadml train configs/closure_cluster.yaml --no-resume
fi
hadml export runs/closure_cluster/best.pt runs/closure_cluster/model.onnx
for cfg in closure_event stress_clsmr0 stress_clsmr2; do
  step "event-level fit $cfg"
  hadml train configs/$cfg.yaml --no-resume
  hadml export runs/$cfg/best.pt runs/$cfg/model.onnx
done

step "evaluations"
python scripts/evaluate.py gan runs/closure_cluster/model.onnx $H/lep91_nominal.dat.gz $H/lep91_nominal.dat.gz docs/results/closure_cluster --max-events $EV
python scripts/evaluate.py gan runs/closure_event/model.onnx $H/lep91_nominal.dat.gz $H/lep91_nominal.dat.gz docs/results/closure_event --max-events $EV
python scripts/evaluate.py gan runs/stress_clsmr0/model.onnx $H/lep91_nominal.dat.gz $H/lep91_clsmr0.dat.gz docs/results/stress_clsmr0 --max-events $EV
python scripts/evaluate.py gan runs/stress_clsmr2/model.onnx $H/lep91_nominal.dat.gz $H/lep91_clsmr2.dat.gz docs/results/stress_clsmr2 --max-events $EV
step "Herwig vs Herwig baselines"
python scripts/evaluate.py baseline $H/lep91_nominal.dat.gz $H/lep91_clsmr0.dat.gz docs/results/herwig_nominal_vs_clsmr0 --max-events $EV
python scripts/evaluate.py baseline $H/lep91_nominal.dat.gz $H/lep91_clsmr2.dat.gz docs/results/herwig_nominal_vs_clsmr2 --max-events $EV
step "done"
