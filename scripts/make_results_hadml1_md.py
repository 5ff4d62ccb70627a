"""Assemble docs/results_hadml1.md and models/README.md from the JSON that scripts/results_hadml1.sh writes
(no number is typed by hand). Run after scripts/results_hadml1.sh:  python scripts/make_results_hadml1_md.py"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hadml.compare.observables import LABELS
from hadml.ml.config import load_config

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "docs" / "results"
RUNS = ROOT / "runs"
KEY = list(LABELS)  # the observables hadml compare computes, in its order


def load(name: str) -> dict | None:
    p = RES / name / "summary.json"
    return json.loads(p.read_text()) if p.is_file() else None


def train_summary(run: str) -> dict | None:
    p = RUNS / run / "summary.json"
    return json.loads(p.read_text()) if p.is_file() else None


def verdict(s: dict) -> str:
    auc = s["classifier_auc"]["auc"]
    worst = max((r["ratio"], k) for k, r in s["observables"].items())
    ok = auc <= 0.52 and worst[0] <= 1.5
    return (
        f"AUC {auc:.3f} ± {s['classifier_auc']['error']:.3f}; largest W1/floor {worst[0]:.2f} ({worst[1]}): "
        + (
            "**meets** the bar (AUC ≤ 0.52, every W1 ≤ 1.5× floor)"
            if ok
            else "**does not meet** the bar (AUC ≤ 0.52, every W1 ≤ 1.5× floor)"
        )
    )


def table(cols: list[tuple[str, dict]]) -> list[str]:
    head = "| observable | " + " | ".join(f"{n} W1/floor" for n, _ in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for k in KEY:
        if all(k in s["observables"] for _, s in cols):
            lines.append(
                f"| {k} | " + " | ".join(f"{s['observables'][k]['ratio']:.2f}" for _, s in cols) + " |"
            )
    lines.append(
        "| classifier AUC | "
        + " | ".join(
            f"{s['classifier_auc']['auc']:.3f} ± {s['classifier_auc']['error']:.3f}" for _, s in cols
        )
        + " |"
    )
    return lines


def main() -> None:
    out = [
        "# Results",
        "",
        "Every number on this page was produced by `scripts/results_hadml1.sh` (training, export, evaluation) and",
        "assembled by `scripts/make_results_hadml1_md.py` from the JSON files in `docs/results/*/summary.json` and",
        "`runs/*/summary.json`. Machine: 2 CPU cores, no GPU (none was lent to this task).",
        "",
        "**These are the hadml-1 fits** (angle convention hadml-1, the default until 2026-12-03; the",
        "model is `models/hadml1_lep91_nominal.onnx`). The hadml-2 default's fits, judged the same way on",
        "labelled samples, are in `docs/results.md` (and why, in `docs/hadml2.md`).",
        "",
        "**Method.** Each fit is exported to ONNX and judged as deployed: the C++ decayer decays the held-out",
        "20 % of the nominal sample's clusters (held-out events, up to 20 000), and the resulting events are",
        "compared with held-out events of the target sample by `hadml compare`: per-observable W1, divided by",
        "the noise floor (W1 between two random halves of the target's held-out events), and the ROC AUC of",
        "an independent Deep Sets classifier (trained on one half of the events, scored on the other).",
        "The bar (issue 4): AUC ≤ 0.52 and every W1 ≤ 1.5× floor. Note on the floor: its two halves hold",
        "half as many events as the compared samples, so for identical distributions W1/floor averages",
        "about 1/√2 ≈ 0.71, not 1.",
        "",
    ]
    base0, base2 = load("herwig_nominal_vs_clsmr0"), load("herwig_nominal_vs_clsmr2")
    if base0 and base2:
        out += [
            "## The size of the effect: Herwig against Herwig",
            "",
            "Held-out nominal events against the ClSmrLight variations (no GAN involved):",
            "",
        ]
        out += [*table([("nominal vs ClSmr0", base0), ("nominal vs ClSmr2", base2)]), ""]
    cc, ce = load("closure_cluster"), load("closure_event")
    if cc or ce:
        out += [
            "## Closure: fits to 80 % of `lep91_nominal.dat.gz`, judged on the other 20 %",
            "",
            "Caveat: here the GAN decays the *same* held-out clusters whose Herwig decays it is compared with,",
            "so observables fixed by the clusters (multiplicity, and largely the event shapes and eta) agree better",
            "than two independent halves do (ratios below 1). The decay-sensitive observables (E, pT, px,",
            "nearest-neighbour and pair-frame angles, true cluster-frame theta and phi) and the classifier AUC",
            "are the tests that matter. In the stress tests below the samples are independent.",
            "",
        ]
        cols = [(n, s) for n, s in (("cluster-level GAN", cc), ("event-level GAN", ce)) if s]
        out += [*table(cols), ""]
        for n, s in cols:
            out.append(f"- {n}: {verdict(s)}")
        out.append("")
        for run in ("closure_cluster", "closure_event"):
            t = train_summary(run)
            if t:
                floor = ", ".join(f"{k} {v:.4g}" for k, v in t["floor"].items())
                out.append(
                    f"- `{run}` training: {t['epochs']} epochs in {t['seconds']:.0f} s "
                    f"({t['items_per_s']:.0f} clusters/s); best held-out selection W1 {t['best_metric']:.4g} "
                    f"(floor {floor}); history: `runs/{run}/history.png`."
                )
        out.append("")
    for v, base in (("clsmr0", base0), ("clsmr2", base2)):
        s = load(f"stress_{v}")
        if not s:
            continue
        out += [
            f"## Stress: event-level fit to the hadrons of `lep91_{v}.dat.gz`",
            "",
            "Clusters from the nominal sample, target hadrons only (as in the papers). Columns: the GAN",
            f"against held-out {v} events, and nominal Herwig against the same (where the fit starts from).",
            "",
        ]
        cols = [("GAN vs target", s)] + ([("nominal vs target", base)] if base else [])
        out += [*table(cols), "", f"- GAN: {verdict(s)}", ""]
        t = train_summary(f"stress_{v}")
        if t:
            out += [
                f"- training: {t['epochs']} epochs in {t['seconds']:.0f} s; best selection W1 "
                f"{t['best_metric']:.4g}; history `runs/stress_{v}/history.png`.",
                "",
            ]
    hw = load("herwig_native_vs_ml")
    if hw:
        out += [
            "## Inside Herwig: native LEP events against Herwig + GAN (the plugin)",
            "",
            "`hadml herwig run` at 91.2 GeV (OnShell, Trial 1), 5000 events each, the cluster-level closure",
            "model in `MLClusterHadronizationHandler`; independent seeds (42 native, 43 ML). Commands:",
            "",
            "```sh",
            "hadml herwig run --native --events 5000 --seed 42 --out runs/herwig/lep-native.hepmc",
            "hadml herwig run --model runs/closure_cluster/model.onnx --events 5000 --seed 43 \\",
            "    --out runs/herwig/lep-ml-s43.hepmc",
            "hadml compare runs/herwig/lep-native.hepmc runs/herwig/lep-ml-s43.hepmc \\",
            '    --labels "Herwig (seed 42),Herwig+GAN (seed 43)" --out docs/results/herwig_native_vs_ml',
            "```",
            "",
        ]
        out += [*table([("Herwig+GAN vs Herwig", hw)]), "", f"- {verdict(hw)}", ""]
    out += [
        "## Where it stands",
        "",
        "- No fit meets the whole bar within the CPU budgets used here (20 minutes cluster level, 10 minutes",
        "  event level, 2 cores; the papers trained for thousands of epochs on GPUs). The verdict lines above",
        "  say by how much.",
        "- The event-level fits reproduce the lab-frame hadron observables and the classifier cannot tell them",
        "  from their targets (closure, ClSmr2), yet the true cluster-frame angles are far off: a mean-pooled",
        "  Deep Sets discriminator over lab hadrons does not pin down the decay frame. The cluster-level fit",
        "  gets those angles right but not all lab observables (E, pT).",
        "- The ClSmr0 stress fit moves from nominal towards its target in every leading observable and in",
        "  AUC, but is far from converged; ClSmrLight = 0 changes the decays of clusters with a perturbative",
        "  constituent, which the cluster four-momentum alone hardly tells (the parton-information switch,",
        "  `model.use_partons`, exists for that and was not run here).",
        "",
    ]
    sweep = ROOT / "docs" / "tuning_sweep_cluster.txt"
    if sweep.is_file():
        out += [
            "## Finding defaults that converge on a laptop",
            "",
            "Cluster-level fits on 20 000 nominal events, 150 s each (`train.time_budget_s`), batch 5000;",
            "name = D steps, G steps, lr_D, lr_G; then epochs reached, best held-out W1 (mean of θ and φ), floor:",
            "",
            "```",
            sweep.read_text().strip(),
            "```",
            "",
            "The papers' 1:1 at 1e-4 oscillates here (D stays at chance while the generator drifts); a",
            "discriminator five times as busy at 1e-3 converges within the budget. These are the defaults.",
            "",
        ]
    out += [
        "## Commands",
        "",
        "```sh",
        "bash scripts/results_hadml1.sh            # fits, exports, evaluations",
        "python scripts/make_results_hadml1_md.py  # this page and models/hadml1_lep91_nominal.md",
        "```",
        "",
        "Per-observable plots (PNG, PDF), `summary.md` and a one-page `report.pdf` are in each",
        "`docs/results/<name>/`.",
        "",
    ]
    (ROOT / "docs" / "results_hadml1.md").write_text("\n".join(out))
    model_card(cc)


def model_card(cc: dict | None) -> None:
    src = RUNS / "closure_cluster" / "model.onnx"
    dst = ROOT / "models" / "hadml1_lep91_nominal.onnx"
    if src.is_file():
        shutil.copyfile(src, dst)
    t = train_summary("closure_cluster")
    m = load_config(ROOT / "configs" / "closure_cluster.yaml").model
    lines = [
        "# hadml1_lep91_nominal.onnx (hadml-1, format 1; superseded)",
        "",
        "A cluster-level (HadML v1) generator trained on real Herwig: 80 % of "
        "`../shared/data/herwig/lep91_nominal.dat.gz`",
        "(Herwig 7.2.3, e+e− at 91.2 GeV, OnShell, Trial 1, "
        "ClSmrLight 0.78; 100 000 events, 701 466 two-body clusters).",
        "",
        "- inputs: cluster four-momentum (min-max scaled, scales in the metadata), 10 Gaussian noise values;",
        "- output: (θ, φ) of the first hadron in the cluster rest frame (convention `hadml-1`, README);",
        f"- architecture: MLP {m.layers} × {m.hidden} with batch norm and LeakyReLU, tanh output;",
        "- training: `hadml train configs/closure_cluster.yaml` (5 D steps per G step, Adam 1e-3 / 1e-4,",
        "  batch 10 000, 20-minute CPU budget), model selection by held-out W1 of θ and φ;",
        "- export: `hadml export runs/closure_cluster/best.pt models/hadml1_lep91_nominal.onnx`.",
        "",
    ]
    if t:
        lines.append(
            f"Training: {t['epochs']} epochs in {t['seconds']:.0f} s on 2 CPU cores; best held-out W1 "
            f"{t['best_metric']:.4g} (floor "
            + ", ".join(f"{k} {v:.4g}" for k, v in t["floor"].items())
            + ")."
        )
        lines.append("")
    if cc:
        lines += ["## Closure figures (held-out Herwig, as deployed through the C++ decayer)", ""]
        lines += [
            *table([("GAN vs Herwig", cc)]),
            "",
            verdict(cc),
            "",
            "Reproduce: `bash scripts/results_hadml1.sh` then `python scripts/make_results_hadml1_md.py`.",
            "",
        ]
    hw = load("herwig_native_vs_ml")
    if hw:
        lines += [
            "## Inside Herwig",
            "",
            "5000 LEP events through `MLClusterHadronizationHandler` against 5000 native events (independent",
            "seeds; docs/results_hadml1.md):",
            "",
            *table([("Herwig+GAN vs Herwig", hw)]),
            "",
            verdict(hw),
            "",
        ]
    (ROOT / "models" / "hadml1_lep91_nominal.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
