"""Assemble docs/results.md (hadml-2) from the JSON that scripts/results.sh copies into
docs/results/hadml2/<fit>/ (no number is typed by hand). Run after scripts/results.sh:

    python scripts/make_results_md.py

Each fit is judged as deployed (the C++ decayer on a test split the fit never saw, or the Herwig
plugin against native Herwig with independent seeds) against the bar of issue 15: classifier AUC
<= 0.52, every W1 <= 1.5x its split-half floor (the cluster-frame angles included, where labels
exist), charge-flow means within 3 standard errors. The hadml-1 page is docs/results_hadml1.md."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RES = ROOT / "docs" / "results" / "hadml2"
AUC_BAR, W1_BAR, PULL_BAR = 0.52, 1.5, 3.0

# (directory, title, what is judged, commands); the commands are scripts/results.sh's
CO = "class-only"  # hadml.ml.hadml2.blind_conditions
FITS = [
    ("closure_cluster", "Closure, cluster level (the shipped nominal model), test split",
     "`models/hadml_lep91_nominal.onnx` on the nominal sample's test split (Herwig's own decays of the same clusters). "
     "The test split's charge flow is a fluctuation of its 10 049 events' decays that a perfect model misses too "
     "(the perfect-model column; docs/results/hadml2/permutation_test.txt)",
     ["python scripts/train_hadml2.py samples/lep91_nominal.clusters runs/h2_hist_es --budget 600 --threads 1 \\",
      "    --adversarial-weight 0 --likelihood-weight 1 --energy-weight 1 --ema 0.999 --lr 1e-3 --lr-decay 0.98 \\",
      f"    --select-forward --blind {CO} --flat-azimuth --head histogram   # -> models/hadml_lep91_nominal.onnx",
      "python scripts/evaluate_hadml2.py models/hadml_lep91_nominal.onnx samples/lep91_nominal.clusters runs/results2/closure_cluster"]),
    ("closure_cluster_b", "Closure, cluster level (the shipped nominal model), independent sample",
     "`models/hadml_lep91_nominal.onnx` on every event of `lep91_nominal_b` (seed 9105, never read by a fit or a selection): floors 3x tighter than the test split's",
     ["python scripts/evaluate_hadml2.py models/hadml_lep91_nominal.onnx samples/lep91_nominal_b.clusters \\",
      "    runs/results2/closure_cluster_b --all-events"]),
    ("closure_event", "Closure, event level from the isotropic prior (HadML v2: hadron + pair Deep Sets, no labels)",
     "a class-only histogram-head generator started from the label-free prior 'every decay isotropic' (equal logits; non-perturbative clusters held there) fitted to the nominal sample's hadrons only, "
     "its discriminator in the events' own frame, the batch's charge-flow distances in its loss (moving only the clusters with a perturbative constituent), on its test split. "
     "The charge-flow rows are missed by the perfect model here too (pulls 2.0-2.9). The recipe was chosen among five on the independent sample (docs/hadml2.md)",
     ["python scripts/train_hadml2.py samples/lep91_nominal.clusters runs/ce_fp --strategy event --pairs \\",
      "    --init isotropic --anchor-weight 1.0 --anchor-clusters nonperturbative --budget 1200 --threads 1 \\",
      f"    --ema 0.999 --lr 1e-4 --lr-d 1e-3 --select-charge-flow --blind {CO} --flat-azimuth --head histogram \\",
      "    --disc-frame event --smooth-weight 1 --flow-weight 1 --flow-clusters perturbative",
      "python scripts/evaluate_hadml2.py runs/ce_fp/model.onnx samples/lep91_nominal.clusters runs/results2/closure_event"]),
    ("stress_clsmr0", "Stress: ClSmrLight 0 from its hadrons only (the shipped stress model)",
     "`models/hadml_lep91_clsmr0.onnx` on the ClSmrLight 0 sample's test split",
     ["git show 1ff3a65:models/hadml_lep91_nominal.onnx > runs/nominal_vector_head.onnx   # the vector-head nominal model",
      "python scripts/train_hadml2.py samples/lep91_nominal.clusters runs/s0_flat --strategy event --pairs \\",
      "    --target samples/lep91_clsmr0.clusters --init runs/nominal_vector_head.onnx --budget 1200 --threads 1 \\",
      "    --ema 0.999 --lr 1e-4 --lr-d 1e-3 --anchor-weight 1.0 --anchor-clusters nonperturbative --select-charge-flow \\",
      f"    --blind {CO} --flat-azimuth   # -> models/hadml_lep91_clsmr0.onnx",
      "python scripts/evaluate_hadml2.py models/hadml_lep91_clsmr0.onnx samples/lep91_clsmr0.clusters runs/results2/stress_clsmr0"]),
    ("stress_clsmr2", "Stress: ClSmrLight 2 from its hadrons only",
     "the same fit to ClSmrLight 2's hadrons, on its test split",
     ["python scripts/train_hadml2.py samples/lep91_nominal.clusters runs/s2_smooth --strategy event --pairs \\",
      "    --target samples/lep91_clsmr2.clusters --init models/hadml_lep91_nominal.onnx --budget 1200 --threads 1 \\",
      "    --ema 0.999 --lr 1e-4 --lr-d 1e-3 --anchor-weight 1.0 --anchor-clusters nonperturbative --select-charge-flow \\",
      f"    --blind {CO} --flat-azimuth --head histogram --smooth-weight 1",
      "python scripts/evaluate_hadml2.py runs/s2_smooth/model.onnx samples/lep91_clsmr2.clusters runs/results2/stress_clsmr2"]),
    ("universality_192", "Universality: the 91.2 GeV nominal model at 192 GeV, no retraining",
     "`models/hadml_lep91_nominal.onnx` on every event of the 192 GeV sample",
     ["python scripts/evaluate_hadml2.py models/hadml_lep91_nominal.onnx samples/lep192_nominal.clusters \\",
      "    runs/results2/universality_192 --all-events"]),
    ("herwig_nominal", "Inside Herwig: the plugin with the nominal model vs native Herwig",
     "20 000 events each, seeds 9201 (GAN) / 9202 (native), LEP 91.2 GeV mission card",
     ["hadml herwig run --model models/hadml_lep91_nominal.onnx --events 20000 --seed 9201 --out runs/results2/herwig_nominal.events/gan.hepmc",
      "hadml herwig run --native --events 20000 --seed 9202 --out runs/results2/herwig_nominal.events/native.hepmc",
      "hadml compare runs/results2/herwig_nominal.events/native.hepmc runs/results2/herwig_nominal.events/gan.hepmc --labels Herwig,hadml-2 \\",
      "    --out runs/results2/herwig_nominal --classifier-features p4+charge"]),
    ("herwig_clsmr0", "Inside Herwig: the ClSmrLight 0 model on the nominal card vs native Herwig with ClSmrLight 0",
     "20 000 events each, seeds 9211 (GAN) / 9212 (native)",
     ["hadml herwig run --model models/hadml_lep91_clsmr0.onnx --events 20000 --seed 9211 --out runs/results2/herwig_clsmr0.events/gan.hepmc",
      "hadml herwig run --native --events 20000 --seed 9212 --out runs/results2/herwig_clsmr0.events/native.hepmc \\",
      "    --set 'set /Herwig/Hadronization/ClusterDecayer:ClSmrLight 0'",
      "hadml compare runs/results2/herwig_clsmr0.events/native.hepmc runs/results2/herwig_clsmr0.events/gan.hepmc --labels 'Herwig ClSmr0,hadml-2 ClSmr0 fit' \\",
      "    --out runs/results2/herwig_clsmr0 --classifier-features p4+charge"]),
]
# the perfect-model references of each fit (results.sh's reference() and herwig_reference()): on
# labelled clusters Herwig's own directions permuted within class, the same events, seeds 7 and 8;
# inside Herwig a second native run with another seed against the fit's native events
_P = {"closure_cluster": "lep91_nominal", "closure_cluster_b": "lep91_nominal_b", "closure_event": "lep91_nominal",
      "stress_clsmr0": "lep91_clsmr0", "stress_clsmr2": "lep91_clsmr2", "universality_192": "lep192_nominal"}
PERFECT = {fit: [f"perfect_{sample}_s{seed}" for seed in (7, 8)] for fit, sample in _P.items()}
PERFECT |= {"herwig_nominal": ["perfect_herwig_nominal_s9204", "perfect_herwig_nominal_s9205"],
            "herwig_clsmr0": ["perfect_herwig_clsmr0_s9214", "perfect_herwig_clsmr0_s9215"]}


FRAME = {"w1_cos_all": "cos θ* (all)", "w1_phi_all": "φ* (all)", "w1_cos_pert": "cos θ* (perturbative)",
         "w1_phi_pert": "φ* (perturbative)", "w1_cos_nonpert": "cos θ* (no perturbative constituent)",
         "w1_phi_nonpert": "φ* (no perturbative constituent)",
         "w1_fwd_all": "angle to the flight direction (all)", "w1_fwd_pert": "angle to the flight direction (perturbative)",
         "w1_fwd_nonpert": "angle to the flight direction (no perturbative constituent)"}


def load(name: str) -> tuple[dict, dict | None] | None:
    d = RES / name
    if not (d / "summary.json").is_file():
        return None
    frame = json.loads((d / "hadml2.json").read_text())["frame"] if (d / "hadml2.json").is_file() else None
    return json.loads((d / "summary.json").read_text()), frame


def frame_cell(v: dict) -> str:
    if v["w1"] is None:
        return f"undefined (all {100 * v.get('on_axis', 1):.0f} % on the axis)"
    if v["ratio"] is None and v["floor"] is None:
        return f"W1 {v['w1']:.4f} (no floor: too few decays off the axis)"
    if v["ratio"] is None:
        return f"W1 {v['w1']:.4f} (Herwig: a δ, floor 0; unrated)"
    return f"{v['ratio']:.2f}"


def unrated(frame: dict | None) -> list[str]:
    """Frame angles with a W1 but no ratio to a floor (Herwig's decays a δ): the bar cannot judge them."""
    return [f"{FRAME[k]} W1 {v['w1']:.4f}" for k, v in (frame or {}).items() if v["w1"] is not None and v["ratio"] is None]


def misses(s: dict, frame: dict | None) -> list[str]:
    out = []
    auc = s["classifier_auc"]["auc"]
    if auc > AUC_BAR:
        out.append(f"AUC {auc:.3f}")
    out += [f"{k} {r['ratio']:.2f}x" for k, r in s["observables"].items() if r["ratio"] > W1_BAR]
    out += [f"{k} pull {c['pull']:.1f}" for k, c in s["charge_flow"].items() if abs(c["pull"]) > PULL_BAR]
    if frame:
        out += [f"{FRAME[k]} {v['ratio']:.2f}x" for k, v in frame.items() if v["ratio"] is not None and v["ratio"] > W1_BAR]
    return out


def perfect(name: str) -> list[tuple[dict, dict | None]]:
    """The perfect-model references of a fit that were run (none for the Herwig-level fits)."""
    return [got for ref in PERFECT.get(name, []) if (got := load(ref)) is not None]


def section(name: str, title: str, what: str, cmds: list[str], s: dict, frame: dict | None) -> list[str]:
    auc = s["classifier_auc"]
    refs = perfect(name)
    pc = " | perfect model" if refs else ""
    ph = "|---" if refs else ""

    def ref_cells(part: str, key: str, field: str) -> str:
        """The perfect references' value of summary[part][key][field], one per reference."""
        return (" | " + " / ".join(f"{r[0][part][key][field]:.{1 if field == 'pull' else 2}f}" for r in refs)) if refs else ""

    lines = [f"## {title}", "", what + ".", "", "```", *cmds, "```", "",
             f"Classifier AUC (Deep Sets, p4 + charge): **{auc['auc']:.3f} ± {auc['error']:.3f}**"
             + (" (perfect model: " + " / ".join(f"{r[0]['classifier_auc']['auc']:.3f}" for r in refs) + ")" if refs else ""),
             "", f"| charge flow | Herwig | model | pull{pc} pull |", f"|---|---|---|---{ph}|"]
    for k, c in s["charge_flow"].items():
        lines.append(f"| {k} | {c['mean_a']:.4f} ± {c['err_a']:.4f} | {c['mean_b']:.4f} ± {c['err_b']:.4f} | {c['pull']:.1f}"
                     + ref_cells("charge_flow", k, "pull") + " |")
    lines += ["", f"| observable | W1 | ± | floor | W1/floor{pc} W1/floor |", f"|---|---|---|---|---{ph}|"]
    for k, r in s["observables"].items():
        mark = " **(missed)**" if r["ratio"] > W1_BAR else ""
        lines.append(f"| {k} | {r['w1']:.4g} | {r['w1_err']:.2g} | {r['floor']:.4g} | {r['ratio']:.2f}{mark}"
                     + ref_cells("observables", k, "ratio") + " |")
    if frame:
        lines += ["", "| cluster-frame angle (labels) | W1/floor |", "|---|---|"]
        lines += [f"| {FRAME[k]} | {frame_cell(v)} |" for k, v in frame.items()]
    m, u = misses(s, frame), unrated(frame)
    lines += ["", "**Meets the bar.**" if not m else "**Misses the bar:** " + ", ".join(m) + ".", ""]
    if refs:
        pm = [misses(*r) for r in refs]
        how = ("a second native Herwig run, another seed" if name.startswith("herwig")
               else "Herwig's own directions permuted within class, seeds 7 / 8; its frame angles are Herwig's "
               "per class, W1 0 by construction")
        lines += [f"The perfect decay model ({how}): "
                  + "; ".join("meets the bar" if not x else "misses " + ", ".join(x) for x in pm) + ".", ""]
    if u:
        lines += ["Not judged by the bar (no floor): " + ", ".join(u) + ".", ""]
    return lines


def main() -> None:
    found = [(f, load(f[0])) for f in FITS]
    head = ["# Results (hadml-2): every fit of issue 15, judged as deployed", "",
            "Every number on this page was produced by `bash scripts/results.sh` (evaluations; `TRAIN=1` refits",
            "first) and assembled by `python scripts/make_results_md.py` from the JSON it copies into",
            "`docs/results/hadml2/<fit>/`. Samples: `bash scripts/make_samples.sh` (seeds in docs/samples.md).",
            "The bar (issue 15): classifier AUC ≤ 0.52, every W1 ≤ 1.5× its split-half floor (median of 10",
            "splits; the cluster-frame angles too, where labels exist; φ* only off the frame's axis), charge-flow",
            "means within 3 standard errors. Why each fit is set up as it is, and what was tried: docs/hadml2.md.",
            "The hadml-1 fits: docs/results_hadml1.md.",
            "Measured 2026-12-07 (every fit refitted that day: class-only generators, the shipped ones with the",
            "azimuth flat by construction; the event-level closure and the ClSmrLight 2 fit with the histogram head,",
            "docs/hadml2.md, third session). One noise seed per fit (7): the",
            "spread over seeds and why the test split's charge flow cannot be met even by a perfect model are",
            "in docs/hadml2.md.",
            "The last column and the *perfect model* columns: the same judge applied to Herwig's own decay",
            "directions permuted among the clusters of one decay class (constituents' perturbative flags and",
            "flavours, on which alone ClusterDecayer.cc makes the direction depend), rebuilt with Herwig's",
            "masses, two permutation seeds (`python scripts/evaluate_hadml2.py permuted SAMPLE OUT --seed S`);",
            "inside Herwig, native Herwig with two other seeds against the fit's native events.",
            "No decay model can do better in distribution; a row it misses as well is the sample's, not the model's.", "",
            "| fit | AUC | largest W1/floor | largest \\|pull\\| | frame angles, largest W1/floor | verdict | perfect model: rows missed (two references) |",
            "|---|---|---|---|---|---|---|"]
    body: list[str] = []
    for (name, title, what, cmds), got in found:
        if got is None:
            head.append(f"| {title} | not run | | | | | |")
            continue
        s, frame = got
        worst = max(s["observables"].items(), key=lambda kv: kv[1]["ratio"])
        pull = max(s["charge_flow"].items(), key=lambda kv: abs(kv[1]["pull"]))
        fr = "(no labels)"
        if frame:
            rated = [(v["ratio"], FRAME[k]) for k, v in frame.items() if v["ratio"] is not None]
            fr = f"{max(rated)[0]:.2f} ({max(rated)[1]})" if rated else "none rated"
            if unrated(frame):
                fr += f"; {len(unrated(frame))} unrated (δ)"
        m = misses(s, frame)
        head.append(f"| {title} | {s['classifier_auc']['auc']:.3f} | {worst[1]['ratio']:.2f} ({worst[0]}) | "
                    f"{abs(pull[1]['pull']):.1f} ({pull[0]}) | {fr} | {'meets' if not m else 'misses (' + str(len(m)) + ')'} | "
                    + (" / ".join(str(len(misses(*r))) for r in perfect(name)) or "–") + " |")
        body += section(name, title, what, cmds, s, frame)
    (ROOT / "docs" / "results.md").write_text("\n".join([*head, "", *body]))
    print(f"wrote {ROOT / 'docs' / 'results.md'} ({sum(g is not None for _, g in found)} of {len(FITS)} fits)")


if __name__ == "__main__":
    main()
