#!/usr/bin/env bash
# The labelled training samples of the hadml-2 model (issue 15): native Herwig 7.2 LEP runs
# (OnShell, Trial 1) through hadml's handler with RecordClusters Yes, so that every two-body
# cluster decay comes with Herwig's own labels (constituents, isPerturbative, fission, hadrons in
# Herwig's order) beside the HepMC of the same events. Never committed: they are made here.
#   samples/<name>.hepmc      the events (IO_GenEvent)
#   samples/<name>.clusters   the decay record (hadml.data.decays; `hadml data convert` -> ROOT)
# EVENTS (default 100000) per sample; the seeds are fixed here and stated in docs/samples.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${EVENTS:-100000}
OUT=${OUT:-samples}
mkdir -p "$OUT"
CLSMR=/Herwig/Hadronization/ClusterDecayer:ClSmrLight
ENERGY=/Herwig/Generators/EventGenerator:EventHandler:LuminosityFunction:Energy
run() {  # name seed extra-card-lines...
  local name=$1 seed=$2; shift 2
  local sets=()
  for line in "$@"; do sets+=(--set "$line"); done
  echo "== $(date +%T) $name: $N events, seed $seed"
  hadml herwig run --native --events "$N" --seed "$seed" --out "$OUT/$name.hepmc" \
    --clusters "$OUT/$name.clusters" "${sets[@]}"
}
run lep91_nominal 9101
run lep91_clsmr0 9102 "set $CLSMR 0"
run lep91_clsmr2 9103 "set $CLSMR 2"
run lep192_nominal 9104 "set $ENERGY 192"
# a second nominal sample no fit ever reads: the judge of the cluster-level closure on events
# independent of the training sample (its test split alone fluctuates; docs/hadml2.md, 2026-12-07)
run lep91_nominal_b 9105
echo "== $(date +%T) done"
