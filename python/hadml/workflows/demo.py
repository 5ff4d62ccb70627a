"""``hadml demo``: the whole story on an embedded default, in a few minutes on a laptop.

1. samples: the cluster gun and the reference (Herwig-like) decayer make a nominal sample
   (ClSmrLight 0.78) and a variation (ClSmrLight 0); with --data, the given real sample is used;
2. fit: an event-level GAN (Deep Sets discriminator) learns the variation's hadrons from the
   nominal clusters, within a fixed time budget;
3. export to ONNX with its metadata;
4. the C++ decayer (ONNX Runtime) decays held-out nominal clusters; events written as HepMC3;
5. ``hadml compare``: GAN vs the variation, and nominal vs the variation for scale.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..data.events import to_awkward, write_root
from ..data.gun import ClusterGun
from ..data.hepmc import write_hepmc
from ..data.io import load_table
from ..data.reference import DecayParams, decay_table
from ..data.writers import write_cluster_file


def _step(console: Console, text: str) -> None:
    console.rule(f"[bold]{text}")


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
    from ..ml.config import load_config
    from ..ml.export import export_checkpoint
    from ..ml.train import Trainer
    from .evaluate import gan_events, held_out, target_events

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    _step(console, "1. samples")
    if data is None:
        gun = ClusterGun()
        with console.status("cluster gun + reference decayer"):
            nominal = decay_table(gun.sample(events, seed), DecayParams(ClSmrLight=0.78), seed + 1)
            variation = decay_table(gun.sample(events, seed + 2), DecayParams(ClSmrLight=0.0), seed + 3)
            clusters_file, target_file = out / "nominal.dat", out / "variation.dat"
            write_cluster_file(clusters_file, nominal)
            write_cluster_file(target_file, variation)
            write_root(out / "nominal.root", to_awkward(nominal))
        console.print(
            f"nominal (ClSmrLight 0.78) and variation (ClSmrLight 0): {events} events each, "
            f"{nominal.n_clusters} and {variation.n_clusters} clusters -> {out}"
        )
    else:
        clusters_file = data
        target_file = target or data
        console.print(f"clusters from {clusters_file}; target hadrons from {target_file}")
    _step(console, "2. event-level GAN fit")
    cfg = load_config(
        None,
        [
            f"data.clusters={clusters_file}",
            f"data.target={target_file}",
            "train.mode=event",
            "train.epochs=10000",
            f"train.time_budget_s={budget_s}",
            "train.eval_every=2",
            "train.batch_size=5000",
            "train.eval_clusters=50000",
            f"train.seed={seed}",
            f"output={out / 'train'}",
        ],
    )
    summary = Trainer(cfg, resume=False).fit()
    _step(console, "3. export to ONNX")
    model = export_checkpoint(
        out / "train" / "best.pt",
        out / "model.onnx",
        f"hadml demo: event-level fit, clusters {Path(clusters_file).name}, target {Path(target_file).name}",
    )
    console.print(f"{model}")
    _step(console, "4. C++ decayer on held-out clusters -> HepMC3")
    held = held_out(load_table(str(clusters_file)), cfg.data.train_fraction, cfg.data.split_seed)
    with console.status("decaying with ONNX Runtime (C++)"):
        t_dec = time.perf_counter()
        gen_events, gen_table = gan_events(model, held)
        t_dec = time.perf_counter() - t_dec
        write_hepmc(out / "gan.hepmc3", gen_table)
    console.print(f"{gen_table.n_clusters} clusters decayed in {t_dec:.2f} s -> {out / 'gan.hepmc3'}")
    _step(console, "5. compare")
    same = Path(target_file).resolve() == Path(clusters_file).resolve()
    tgt = target_events(
        str(target_file), cfg.data.train_fraction, cfg.data.split_seed if same else cfg.data.split_seed + 1, 0
    )
    n = min(len(tgt), len(gen_events))
    with console.status("GAN vs target"):
        gan_cmp = compare(tgt[:n], gen_events[:n], ("target", "GAN"), out / "compare_gan")
    results: dict[str, Any] = {"gan_vs_target": gan_cmp.to_json()}
    if not same:
        nom = target_events(str(clusters_file), cfg.data.train_fraction, cfg.data.split_seed, 0)
        m = min(len(tgt), len(nom))
        with console.status("nominal vs target (the effect to resolve)"):
            base_cmp = compare(tgt[:m], nom[:m], ("target", "nominal"), out / "compare_nominal")
        results["nominal_vs_target"] = base_cmp.to_json()
    if herwig:
        from ..herwig import run_pair

        with console.status("Herwig native and ML LEP runs"):
            results["herwig"] = run_pair(model, herwig_events, seed, out / "herwig")
    total = time.perf_counter() - t0
    results["seconds"] = total
    results["training"] = summary
    (out / "demo.json").write_text(json.dumps(results, indent=1, default=str))
    table = Table(title="hadml demo: distances to the target (held-out events)")
    table.add_column("observable")
    table.add_column("GAN W1/floor", justify="right")
    if "nominal_vs_target" in results:
        table.add_column("nominal W1/floor", justify="right")
    for k, r in gan_cmp.rows.items():
        row = [k, f"{r['ratio']:.2f}"]
        if "nominal_vs_target" in results:
            row.append(f"{results['nominal_vs_target']['observables'][k]['ratio']:.2f}")
        table.add_row(*row)
    console.print(table)
    if gan_cmp.auc is not None:
        line = f"classifier AUC vs target: GAN {gan_cmp.auc[0]:.3f} ± {gan_cmp.auc[1]:.3f}"
        if "nominal_vs_target" in results and results["nominal_vs_target"]["classifier_auc"]:
            line += f", nominal {results['nominal_vs_target']['classifier_auc']['auc']:.3f}"
        console.print(line)
    if "herwig" in results:
        hauc = results["herwig"]["comparison"]["classifier_auc"]
        console.print(f"Herwig native vs Herwig+GAN ({herwig_events} LEP events each): classifier AUC "
                      f"{hauc['auc']:.3f} ± {hauc['error']:.3f}; HepMC and plots in {out / 'herwig'}")
    console.print(f"outputs: {out}/ (model.onnx, gan.hepmc3, train/, compare_gan/, demo.json)")
    console.print(f"[bold]total time {total:.0f} s[/bold]")
    return results
