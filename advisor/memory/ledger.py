"""The ledger for one set of flags: weights, cache, activations, training state, and where they land."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from advisor.memory.kvcache import CacheSpec
from advisor.memory.overhead import (
    Shape,
    inference_activations,
    training_activations,
    training_state,
)
from advisor.memory.placement import Device, Piece, Placement, on_cpu, on_one, single_gpu_index, spread
from advisor.memory.quant import Scheme, unit_bytes
from advisor.memory.units import Count


@dataclass(frozen=True, slots=True)
class Setting:
    """The flags and request the ledger is computed for."""

    dtype: str
    dtype_bytes: int
    scheme: Scheme | None
    device_map: Any
    eager: bool
    context: int
    batch: int
    training: bool


@dataclass(frozen=True, slots=True)
class Ledger:
    """Every figure of the memory plan for one setting."""

    setting: Setting
    weights: int
    cache: int
    activations: int
    """Per GPU in use (each computes its layers' working set)."""
    training: int
    """Gradients, optimizer state and stored activations (0 for inference)."""
    pieces: tuple[Piece, ...]
    placement: Placement

    @property
    def total(self) -> int:
        """What the whole run needs, over all devices (contexts and margins included)."""
        on_gpus = sum(ld.total for ld in self.placement.loads.values())
        return on_gpus + self.placement.cpu + self.placement.disk


def build_pieces(count: Count, spec: CacheSpec | None, shape: Shape, s: Setting) -> list[Piece]:
    """Per unit: weights in bytes, the cache its layer holds, and its training state."""
    layer_caches = list(spec.layers) if spec else []
    n_layers = sum(1 for u in count.units if u.kind == "layer")
    cross = 0
    if spec and spec.cross_per_token and n_layers:
        enc = spec.encoder_tokens if spec.encoder_tokens is not None else s.context
        cross = spec.cross_per_token * enc // n_layers
    train_act = training_activations(shape, s.batch, s.context, s.dtype_bytes) if s.training else 0
    pieces: list[Piece] = []
    li = 0
    for u in count.units:
        w = unit_bytes(u.params, u.linear, u.experts, s.dtype_bytes, s.scheme)
        cache = extra = 0
        if u.kind == "layer":
            if not s.training and spec is not None and n_layers != len(layer_caches):
                # the units do not follow the layers (an exact total without a layout): all on the first
                cache = s.batch * spec.elements(s.context) * s.dtype_bytes if li == 0 else 0
            elif not s.training and li < len(layer_caches):
                one = CacheSpec((layer_caches[li],)).elements(s.context) + cross
                cache = s.batch * one * s.dtype_bytes
            li += 1
            if s.training and n_layers:
                extra = train_act // n_layers
        if s.training:
            extra += training_state(u.params, s.dtype_bytes)
        pieces.append(Piece(w, cache, extra))
    return pieces


def compute(count: Count, spec: CacheSpec | None, shape: Shape, s: Setting, devices: list[Device],
            cpu_capacity: int | None) -> Ledger:
    pieces = build_pieces(count, spec, shape, s)
    act = 0 if s.training else inference_activations(shape, s.batch, s.context, s.dtype_bytes, s.eager)
    dm = s.device_map
    one = single_gpu_index(dm)
    if one is not None:
        pos = next((i for i, d in enumerate(devices) if d.index == one), None)
        if pos is None:
            placement = Placement(fits=False, why=f"device_map names GPU {one}, which the target does not have")
        else:
            placement = on_one(pieces, devices[pos], pos, act)
    elif dm is None or dm == "cpu" or dm == {"": "cpu"} or not devices:
        placement = on_cpu(pieces, cpu_capacity)
    else:
        placement = spread(pieces, devices, act, cpu_capacity)
    weights = sum(p.weights for p in pieces)
    cache = sum(p.cache for p in pieces)
    training = sum(p.extra for p in pieces)
    return Ledger(s, weights, cache, act, training, tuple(pieces), placement)
