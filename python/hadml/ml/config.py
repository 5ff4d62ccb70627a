"""Training configuration: a YAML file, dataclass defaults, and ``--set key=value`` overrides."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass
class DataConfig:
    # clusters the generator decays (cluster level: also the targets)
    clusters: str = "../shared/data/herwig/lep91_nominal.dat.gz"
    # event level: the file whose hadrons are the "data"; empty = the hadrons of `clusters`
    target: str = ""
    train_fraction: float = 0.8  # event-level split of each file; the rest is held out
    max_events: int = 0  # 0 = all
    split_seed: int = 12345


@dataclass
class ModelConfig:
    noise_dim: int = 10
    hidden: int = 256
    layers: int = 2
    use_partons: bool = False
    disc_hidden: int = 256
    disc_layers: int = 2


@dataclass
class TrainConfig:
    mode: str = "cluster"  # "cluster" (HadML v1) or "event" (HadML v2, Deep Sets)
    epochs: int = 200
    batch_size: int = 10000  # clusters per step (event level: events are grouped to ~this many)
    # Defaults that converge on a laptop-sized CPU run (docs/results_hadml1.md). The papers used 1:1 at
    # 1e-4 (v1) and 1 D : 5 G with lr_g 5e-7 (v2) for thousands of GPU epochs.
    lr_g: float = 1e-4
    lr_d: float = 1e-3
    d_steps: int = 5
    g_steps: int = 1
    beta1: float = 0.5
    seed: int = 1
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", or "auto"
    eval_every: int = 5
    eval_clusters: int = 100000
    checkpoint_every: int = 10
    time_budget_s: float = 0.0  # stop after this wall time (0 = no limit)
    threads: int = 0  # torch intra-op threads (0 = torch's default)


@dataclass
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    output: str = "runs/hadml"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: str, typ: Any) -> Any:
    if typ in (bool, "bool"):
        v = value.strip().lower()
        if v in ("1", "true", "yes", "on"):
            return True
        if v in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if typ in (int, "int"):
        return int(value)
    if typ in (float, "float"):
        return float(value)
    return value


def _apply(cfg: Config, key: str, value: Any, origin: str) -> None:
    parts = key.split(".")
    if len(parts) == 1:
        parts = ["", parts[0]]
    section, name = parts[0], parts[-1]
    target: Any = cfg if section == "" else getattr(cfg, section, None)
    if target is None or len(parts) != 2 or not dataclasses.is_dataclass(target):
        raise KeyError(f"{origin}: unknown configuration key '{key}'")
    types = {f.name: f.type for f in dataclasses.fields(target)}
    if name not in types:
        raise KeyError(
            f"{origin}: unknown configuration key '{key}' (known in '{section}': {', '.join(types)})"
        )
    if isinstance(value, str):
        value = _coerce(value, types[name])
    setattr(target, name, value)


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    cfg = Config()
    if path is not None:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: a configuration file must be a mapping")
        for section, body in raw.items():
            if isinstance(body, dict):
                for k, v in body.items():
                    _apply(cfg, f"{section}.{k}", v, str(path))
            else:
                _apply(cfg, section, body, str(path))
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        _apply(cfg, k.strip(), v.strip(), "--set")
    if cfg.train.mode not in ("cluster", "event"):
        raise ValueError(f"train.mode must be 'cluster' or 'event', not {cfg.train.mode!r}")
    return cfg


def from_dict(d: dict[str, Any]) -> Config:
    cfg = Config()
    for section in ("data", "model", "train"):
        for k, v in d.get(section, {}).items():
            setattr(getattr(cfg, section), k, v)
    cfg.output = d.get("output", cfg.output)
    return cfg
