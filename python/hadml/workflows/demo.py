"""``hadml demo``: the whole story on an embedded default, in a few minutes on a laptop (hadml-2).

1. samples: the cluster gun makes labelled clusters as Herwig's handler records them (constituents,
   fission flag, Herwig-like isPerturbative flags) and the reference (Herwig-like) decayer decays
   them: a nominal sample (ClSmrLight 0.78) and a variation (ClSmrLight 0) of other clusters; with
   --data, a labelled sample (``hadml herwig run --native --clusters F``) is used instead;
2. the nominal model: a cluster-level fit (conditional energy score) on the nominal decays;
3. the stress fit: an event-level fit (Deep Sets over hadrons and hadron pairs) of the variation's
   *hadrons only*, started from the nominal model, within the rest of the time budget; the
   clusters without a perturbative constituent (whose decays ClSmr never changes) are held at the
   nominal model's decays (``anchor_clusters="nonperturbative"``, docs/hadml2.md);
4. export to ONNX; the C++ decayer (ONNX Runtime) decays the variation's test-split clusters with
   both models; the stress fit's events are written as HepMC3;
5. judged against the variation's own decays of those clusters: ``hadml compare`` (W1 against the
   split-half floor, charge flow, classifier AUC on p4 + charge) and the cluster-frame angles, for
   the stress fit and for the nominal model (the gap the fit has to close).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..data.events import to_awkward, write_root
from ..data.gun import ClusterGun, GunConfig
from ..data.hepmc import write_hepmc
from ..data.io import load_table
from ..data.reference import DecayParams, decay_table


def _step(console: Console, text: str) -> None:
    console.rule(f"[bold]{text}")


def _labelled(path: Path) -> None:
    t = load_table(path)
    if t.perturbative is None:
        raise ValueError(f"{path}: no isPerturbative flags (not a labelled record): the demo fits hadml-2 "
                         "models, which need Herwig's labels; make one with "
                         "'hadml herwig run --native --events N --out F.hepmc --clusters F.clusters'")


def run_demo(
    out: Path,
    console: Console,
    data: Path | None = None,
    target: Path | None = None,
    events: int = 20000,
    budget_s: float = 180.0,
    seed: int = 1,
    herwig: bool = False,
    herwig_events: int = 500,
) -> dict[str, Any]:
    from ..compare.report import compare
    from ..ml.train2 import ClusterLevel, EventLevel, Settings, Trainer2, split_labels
    from .evaluate import frame_report, hadml2_decays

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _step(console, "1. samples")
    if data is None:
        gun = ClusterGun(GunConfig(labelled=True))
        with console.status("cluster gun + reference decayer"):
            nominal = decay_table(gun.sample(events, seed), DecayParams(ClSmrLight=0.78), seed + 1)
            variation = decay_table(gun.sample(events, seed + 2), DecayParams(ClSmrLight=0.0), seed + 3)
            clusters_file, target_file = out / "nominal.root", out / "variation.root"
            write_root(clusters_file, to_awkward(nominal))
            write_root(target_file, to_awkward(variation))
        console.print(
            f"nominal (ClSmrLight 0.78) and variation (ClSmrLight 0): {events} events each, "
            f"{nominal.n_clusters} and {variation.n_clusters} labelled clusters -> {out}"
        )
    else:
        clusters_file, target_file = data, target or data
        for f in {clusters_file, target_file}:
            _labelled(f)
        console.print(f"clusters from {clusters_file}; target hadrons from {target_file}")
    common: dict[str, Any] = {"epochs": 100000, "threads": 2, "seed": seed, "ema": 0.999}
    _step(console, "2. nominal model: cluster-level fit (energy score)")
    nominal_fit = Trainer2(Settings(str(clusters_file), output=str(out / "nominal_fit"), time_budget_s=0.4 * budget_s,
                                    adversarial_weight=0.0, energy_weight=1.0, lr_g=1e-3, lr_decay=0.93, **common),
                           ClusterLevel)
    s_nominal = nominal_fit.fit()
    nominal_model = nominal_fit.export(out / "nominal.onnx")
    console.print(f"{s_nominal['epochs']} epochs, best {s_nominal['best_epoch']} -> {nominal_model}")
    _step(console, "3. stress fit: event level on the target's hadrons only (hadrons + pairs)")
    stress = Trainer2(Settings(str(clusters_file), output=str(out / "train"), time_budget_s=0.6 * budget_s,
                               target=str(target_file), pairs=True, lr_g=1e-4, lr_d=1e-3, anchor_weight=1.0,
                               anchor_clusters="nonperturbative", **common), EventLevel)
    stress.start_from(nominal_model)
    summary = stress.fit()
    _step(console, "4. export to ONNX; C++ decayer on the target's test-split clusters -> HepMC3")
    model = stress.export(out / "model.onnx")
    tt = load_table(target_file)
    test = tt.select_events(split_labels(tt.n_events, 1) == 2)  # events neither fit nor selection saw
    with console.status("decaying with ONNX Runtime (C++)"):
        t_dec = time.perf_counter()
        gen, u_gen = hadml2_decays(model, test, seed)
        t_dec = time.perf_counter() - t_dec
        nom, u_nom = hadml2_decays(nominal_model, test, seed)
        write_hepmc(out / "gan.hepmc3", gen)
    console.print(f"{model}; {gen.n_clusters} clusters decayed in {t_dec:.2f} s -> {out / 'gan.hepmc3'}")
    _step(console, "5. compare with the target's own decays of the same clusters")
    ref = to_awkward(test)
    with console.status("stress fit vs target"):
        gan_cmp = compare(ref, to_awkward(gen), ("target", "GAN"), out / "compare_gan",
                          classifier_features="p4+charge", classifier_epochs=5)
    with console.status("nominal model vs target (the gap to close)"):
        base_cmp = compare(ref, to_awkward(nom), ("target", "nominal model"), out / "compare_nominal",
                           classifier_features="p4+charge", classifier_epochs=5)
    frames = {"GAN": frame_report(u_gen, test), "nominal": frame_report(u_nom, test)}
    results: dict[str, Any] = {"gan_vs_target": gan_cmp.to_json(), "nominal_vs_target": base_cmp.to_json(),
                               "frame": frames}
    if herwig:
        from ..herwig import run_pair

        with console.status("Herwig native and ML LEP runs"):
            results["herwig"] = run_pair(model, herwig_events, seed, out / "herwig")
    total = time.perf_counter() - t0
    results["seconds"] = total
    results["training"] = {"nominal": s_nominal, "stress": summary}
    (out / "demo.json").write_text(json.dumps(results, indent=1, default=str))
    table = Table(title="hadml demo: distances to the target (its test-split clusters, C++ decays)")
    table.add_column("observable")
    table.add_column("stress fit W1/floor", justify="right")
    table.add_column("nominal model W1/floor", justify="right")
    for k, r in gan_cmp.rows.items():
        table.add_row(k, f"{r['ratio']:.2f}", f"{base_cmp.rows[k]['ratio']:.2f}" if k in base_cmp.rows else "")

    def fmt(x: dict[str, float | None]) -> str:
        if x["w1"] is None:
            return "undefined (on the axis)"
        return f"{x['ratio']:.2f}" if x["ratio"] is not None else f"W1 {x['w1']:.3g} (floor 0)"

    for k in frames["GAN"]:
        table.add_row(f"frame {k[3:]}", fmt(frames["GAN"][k]), fmt(frames["nominal"][k]))
    for k, c in gan_cmp.charge_flow.items():
        table.add_row(f"{k} pull", f"{c['pull']:.1f}", f"{base_cmp.charge_flow[k]['pull']:.1f}")
    console.print(table)
    if gan_cmp.auc is not None and base_cmp.auc is not None:
        console.print(f"classifier AUC vs target (p4 + charge): stress fit {gan_cmp.auc[0]:.3f} ± {gan_cmp.auc[1]:.3f}, "
                      f"nominal model {base_cmp.auc[0]:.3f} ± {base_cmp.auc[1]:.3f}")
    if "herwig" in results:
        hauc = results["herwig"]["comparison"]["classifier_auc"]
        console.print(f"Herwig native vs Herwig+GAN ({herwig_events} LEP events each): classifier AUC "
                      f"{hauc['auc']:.3f} ± {hauc['error']:.3f}; HepMC and plots in {out / 'herwig'}")
    console.print(f"outputs: {out}/ (model.onnx, nominal.onnx, gan.hepmc3, train/, compare_gan/, demo.json)")
    console.print(f"[bold]total time {total:.0f} s[/bold]")
    return results
