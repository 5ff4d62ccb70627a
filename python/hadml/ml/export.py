"""ONNX export of the generator, with everything the C++ side needs in the file's metadata."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from .. import __version__
from .features import (
    INPUT_CONDITIONS,
    INPUT_NOISE,
    OUTPUT,
    MetadataError,
    ModelInfo,
    Scaler,
    make_metadata,
    parse_metadata,
)
from .train import load_checkpoint


def export_generator(
    G: nn.Module,
    path: str | Path,
    metadata: dict[str, str],
    n_conditions: int,
    noise_dim: int,
    output_name: str = OUTPUT,
) -> Path:
    """Export ``G`` (eval mode) with a dynamic batch axis; inputs 'conditions' (N, d) and 'noise'
    (N, noise_dim), output 'angles' (N, 2) in network space; attach ``metadata``."""
    path = Path(path)
    G = G.eval()
    c = torch.zeros(4, n_conditions)
    z = torch.zeros(4, noise_dim)
    batch = torch.export.Dim("batch")
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(
            G,
            (c, z),
            input_names=[INPUT_CONDITIONS, INPUT_NOISE],
            output_names=[output_name],
            dynamic_shapes=({0: batch}, {0: batch}),
            dynamo=True,
            verbose=False,
        )
    quiet.setLevel(level)
    if prog is None:  # only without dynamo=True
        raise RuntimeError("torch.onnx.export returned no ONNX program")
    model = prog.model_proto
    del model.metadata_props[:]
    for k, v in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    model.producer_name = "hadml"
    model.producer_version = __version__
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def export_checkpoint(checkpoint: str | Path, path: str | Path, description: str = "") -> Path:
    G, cfg, ck = load_checkpoint(checkpoint)
    scaler = Scaler(np.asarray(ck["scaler_min"]), np.asarray(ck["scaler_max"]))
    sample = description or f"{cfg.train.mode}-level fit; {ck['sample']}; epoch {ck['epoch']}"
    md = make_metadata(
        ck["names"],
        scaler,
        cfg.model.noise_dim,
        __version__,
        sample,
        {"hadml.training_mode": cfg.train.mode, "hadml.selection_metric": f"{ck['best']:.6g}"},
    )
    return export_generator(G, path, md, len(ck["names"]), cfg.model.noise_dim)


def read_model_info(path: str | Path) -> ModelInfo:
    """Read and validate the hadml metadata of an exported model (and its I/O signature)."""
    p = Path(path)
    if not p.is_file():
        raise MetadataError(f"{p}: no such model file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as err:
        raise MetadataError(f"{p}: not an ONNX model ({err})") from None
    info = parse_metadata({e.key: e.value for e in model.metadata_props}, str(p))
    inputs = {i.name: i for i in model.graph.input}
    for name, width in ((INPUT_CONDITIONS, len(info.names)), (INPUT_NOISE, info.noise_dim)):
        if name not in inputs:
            raise MetadataError(f"{p}: the model has no input '{name}'")
        dims = inputs[name].type.tensor_type.shape.dim
        if len(dims) != 2 or dims[1].dim_value != width:
            raise MetadataError(f"{p}: input '{name}' must have shape (batch, {width}) to match the metadata")
    outs = {o.name: o for o in model.graph.output}
    if OUTPUT not in outs or outs[OUTPUT].type.tensor_type.shape.dim[1].dim_value != 2:
        raise MetadataError(f"{p}: the model must have an output '{OUTPUT}' of shape (batch, 2)")
    return info
