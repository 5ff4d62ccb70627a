"""``hadml compare A B``: observables, W1 distances with a noise floor, a classifier test, plots,
and a summary (markdown, JSON, a one-page PDF)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import awkward as ak
import numpy as np

from ..blocks.charge import NAMES as CHARGE_NAMES
from ..blocks.charge import summary as charge_summary
from .observables import LABELS, compute, hadrons_of
from .stats import classifier_auc, w1_bootstrap


@dataclass
class Comparison:
    labels: tuple[str, str]
    n_events: tuple[int, int]
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    auc: tuple[float, float] | None = None
    plots: list[str] = field(default_factory=list)
    charge_flow: dict[str, dict[str, float]] = field(default_factory=dict)
    classifier_features: str = "p4"

    def to_json(self) -> dict:
        return {
            "labels": list(self.labels),
            "n_events": list(self.n_events),
            "observables": self.rows,
            "classifier_auc": None if self.auc is None else {"auc": self.auc[0], "error": self.auc[1]},
            "classifier_features": self.classifier_features,
            "charge_flow": self.charge_flow,
            "plots": self.plots,
        }

    def markdown(self) -> str:
        a, b = self.labels
        lines = [f"# {a} vs {b}", "", f"Events: {a} {self.n_events[0]}, {b} {self.n_events[1]}.", ""]
        if self.auc is not None:
            lines += [
                f"Deep Sets classifier ROC AUC ({a} vs {b}, held-out half, hadron features "
                f"{self.classifier_features}): "
                f"**{self.auc[0]:.4f} ± {self.auc[1]:.4f}** (0.5: indistinguishable)",
                "",
            ]
        lines += ["| observable | W1(A, B) | ± | floor W1(A/2, A/2) | ratio |", "|---|---|---|---|---|"]
        for k, r in self.rows.items():
            lines.append(f"| {k} | {r['w1']:.4g} | {r['w1_err']:.2g} | {r['floor']:.4g} | {r['ratio']:.2f} |")
        lines += [
            "",
            "W1: 1-Wasserstein distance (bootstrap uncertainty); floor: the same distance between "
            "two random halves of A (its statistical noise), median over 10 random splits by event; "
            "ratio = W1 / floor.",
        ]
        if self.charge_flow:
            lines += [
                "",
                "## Charge flow",
                "",
                f"| observable | mean {a} | mean {b} | (B - A) / error | events {a} (dropped) "
                f"| events {b} (dropped) |",
                "|---|---|---|---|---|---|",
            ]
            for k, r in self.charge_flow.items():
                lines.append(
                    f"| {k} | {r['mean_a']:.4f} ± {r['err_a']:.4f} | {r['mean_b']:.4f} ± {r['err_b']:.4f} "
                    f"| {r['pull']:.1f} | {r['n_a']} ({r['dropped_a']}) | {r['n_b']} ({r['dropped_b']}) |"
                )
            lines += [
                "",
                "Thrust hemispheres F (p.n_T >= 0) and B; Q_h = sum q_i |p_i.n_T|^kappa / "
                "sum |p_i.n_T|^kappa over all hadrons of h; qfqb_k<kappa> = Q_F Q_B; lead_qq: the "
                "charge product of the highest-|p| charged hadron of each hemisphere. Events with "
                "an empty hemisphere (lead_qq: no charged hadron in one) are dropped. Errors: "
                "standard errors of the means; W1 against the floor in the table above.",
            ]
        return "\n".join(lines) + "\n"


def _hist_plot(name: str, a: np.ndarray, b: np.ndarray, labels: tuple[str, str], out: Path) -> list[str]:
    import hist
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    lo, hi = np.percentile(np.concatenate([a, b]), [0.5, 99.5])
    if name == "multiplicity":
        lo, hi = np.floor(min(a.min(), b.min())) - 0.5, np.ceil(max(a.max(), b.max())) + 0.5
    if hi <= lo:
        hi = lo + 1.0
    bins = int(min(50, hi - lo)) if name == "multiplicity" else 40
    axis = hist.axis.Regular(max(bins, 1), lo, hi, name=name)
    ha = hist.Hist(axis, storage=hist.storage.Weight()).fill(a, weight=np.full(len(a), 1.0 / len(a)))
    hb = hist.Hist(axis, storage=hist.storage.Weight()).fill(b, weight=np.full(len(b), 1.0 / len(b)))
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    mplhep.histplot([ha, hb], ax=top, label=list(labels), yerr=True, histtype="step")
    top.set_ylabel("fraction")
    top.legend()
    va, vb = ha.values(), hb.values()
    ea, eb = np.sqrt(ha.variances()), np.sqrt(hb.variances())
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = vb / va
        err = ratio * np.sqrt((ea / va) ** 2 + (eb / vb) ** 2)
    centers = axis.centers
    bottom.errorbar(centers, ratio, yerr=err, fmt="o", ms=2, color="k")
    bottom.axhline(1.0, color="grey", lw=1)
    bottom.set_ylim(0.5, 1.5)
    bottom.set_ylabel(f"{labels[1]} / {labels[0]}", fontsize=8)
    bottom.set_xlabel(LABELS.get(name, name))
    fig.tight_layout()
    files = []
    for ext in ("png", "pdf"):
        f = out / f"{name}.{ext}"
        fig.savefig(f, dpi=90)
        files.append(str(f))
    plt.close(fig)
    return files


def compare(
    a: ak.Array,
    b: ak.Array,
    labels: tuple[str, str],
    out: Path,
    classifier: bool = True,
    n_boot: int = 20,
    seed: int = 0,
    classifier_epochs: int = 10,
    plots: bool = True,
    classifier_features: str = "p4",
    floor_splits: int = 10,
) -> Comparison:
    """``floor_splits``: the floor is the median W1 between the two halves of A over this many
    random splits by event (one split alone scatters by a factor 2-4 at ~10^5 entries)."""
    out.mkdir(parents=True, exist_ok=True)
    oa, ob = compute(a, labels[0]), compute(b, labels[1])
    cmp = Comparison(labels, (len(a), len(b)), classifier_features=classifier_features)
    halves = [np.random.default_rng(seed + 1 + k).random(len(a)) < 0.5 for k in range(max(1, floor_splits))]
    ha = hadrons_of(a)
    for name in oa:
        if name not in ob:
            continue
        x, y = oa[name], ob[name]
        if name in CHARGE_NAMES:
            cmp.charge_flow[name] = charge_summary(x, y)
        # per-event observables that are undefined for some events (charge flow) are NaN there
        keep_x = np.isfinite(x)
        if len(x) == len(a):
            masks = [h[keep_x] for h in halves]
        elif len(x) == len(ha.p4):
            masks = [np.repeat(h, ha.counts)[keep_x] for h in halves]
        else:
            masks = [np.random.default_rng(seed + 2 + k).random(int(keep_x.sum())) < 0.5 for k in range(len(halves))]
        x, y = x[keep_x], y[np.isfinite(y)]
        if len(x) < 2 or len(y) < 1:
            continue
        value, err = w1_bootstrap(x, y, n_boot, seed)
        floor = float(np.median([w1_bootstrap(x[m], x[~m], 0, seed)[0] for m in masks]))
        cmp.rows[name] = {
            "w1": value,
            "w1_err": err,
            "floor": floor,
            "ratio": value / floor if floor > 0 else float("inf"),
            "mean_a": float(np.mean(x)),
            "mean_b": float(np.mean(y)),
        }
        if plots:
            cmp.plots += _hist_plot(name, x, y, labels, out)
    if classifier:
        cmp.auc = classifier_auc(
            ha, hadrons_of(b), epochs=classifier_epochs, seed=seed, features=classifier_features
        )
    (out / "summary.json").write_text(json.dumps(cmp.to_json(), indent=1) + "\n")
    (out / "summary.md").write_text(cmp.markdown())
    if plots:
        one_page(cmp, oa, ob, out / "report.pdf")
    return cmp


def one_page(cmp: Comparison, oa: dict, ob: dict, path: Path) -> None:
    """A one-page PDF: the key distributions and the distance table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [
        n
        for n in ("E", "pt", "eta", "multiplicity", "nn_dr", "pair_theta", "thrust", "sphericity")
        if n in oa and n in ob
    ]
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.suptitle(f"hadml compare: {cmp.labels[0]} vs {cmp.labels[1]}", fontsize=13)
    for k, n in enumerate(names):
        ax = fig.add_subplot(5, 2, k + 1)
        lo, hi = np.percentile(np.concatenate([oa[n], ob[n]]), [0.5, 99.5])
        bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
        ax.hist(oa[n], bins.tolist(), density=True, histtype="step", label=cmp.labels[0])
        ax.hist(ob[n], bins.tolist(), density=True, histtype="step", label=cmp.labels[1])
        ax.set_title(LABELS.get(n, n), fontsize=8)
        ax.tick_params(labelsize=6)
        if k == 0:
            ax.legend(fontsize=6)
    ax = fig.add_subplot(5, 1, 5)
    ax.axis("off")
    text = [f"{'observable':<16}{'W1':>10}{'floor':>10}{'ratio':>8}"]
    for n, r in cmp.rows.items():
        text.append(f"{n:<16}{r['w1']:>10.4g}{r['floor']:>10.4g}{r['ratio']:>8.2f}")
    if cmp.auc is not None:
        text.append(f"classifier AUC {cmp.auc[0]:.4f} +- {cmp.auc[1]:.4f}")
    ax.text(0, 1, "\n".join(text), family="monospace", fontsize=6, va="top")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
