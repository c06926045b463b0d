"""The ledger for one set of flags: weights, cache, activations, training state, and where they land.

Identical consecutive units (decoder layers of the same shape and cache) are kept as one group with a
multiplicity, so the totals cost a few operations per group, and spreading layers over several devices
places a run of equal units a GPU at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.core.frozen import field, frozen, record
from advisor.memory.kvcache import CacheSpec, LayerCache, layer_elements
from advisor.memory.overhead import Shape, inference_activations, training_activations, training_state
from advisor.memory.placement import Device, Load, Piece, Placement, on_cpu, on_one, single_gpu_index, spread
from advisor.memory.quant import Scheme, unit_bytes
from advisor.memory.units import Count


@frozen
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
    estimate_margin: float = 0.0
    """Share of the weights added because the parameter count is an estimate (0 when exact)."""

    def key(self) -> tuple[Any, ...]:
        """The setting as a dict key (the quantization and device_map by repr: a dict has no hash, and True is
        not 1)."""
        return (self.dtype, self.dtype_bytes, repr(self.scheme), repr(self.device_map), self.eager, self.context,
                self.batch, self.training, self.estimate_margin)


@frozen
class Group:
    """`n` consecutive units with the same weights and cache."""

    n: int
    params: int
    linear: int
    experts: int
    layer: bool
    cache: LayerCache | None
    whole_cache: bool = False
    """Carries the whole model's cache (units that do not follow the layers)."""


def groups(count: Count, spec: CacheSpec | None) -> tuple[Group, ...]:
    caches = list(spec.layers) if spec else []
    n_layers = sum(1 for u in count.units if u.kind == "layer")
    follow = n_layers == len(caches)
    out: list[Group] = []
    li = 0
    for u in count.units:
        cache = None
        whole = False
        if u.kind == "layer":
            if follow:
                cache = caches[li]
            else:
                whole = li == 0 and spec is not None
            li += 1
        g = Group(1, u.params, u.linear, u.experts, u.kind == "layer", cache, whole)
        if out and out[-1].n and _same(out[-1], g):
            prev = out[-1]
            out[-1] = Group(prev.n + 1, prev.params, prev.linear, prev.experts, prev.layer, prev.cache)
        else:
            out.append(g)
    return tuple(out)


def _same(a: Group, b: Group) -> bool:
    return (a.params, a.linear, a.experts, a.layer, a.cache, a.whole_cache, b.whole_cache) == (
        b.params, b.linear, b.experts, b.layer, b.cache, False, False)


@record
class Ledger:
    """Every figure of the memory plan for one setting."""

    setting: Setting
    weights: int
    cache: int
    activations: int
    """Per GPU in use (each computes its layers' working set)."""
    training: int
    """Gradients, optimizer state and stored activations (0 for inference)."""
    grouped: tuple[Group, ...]
    spec: CacheSpec | None
    shape: Shape
    placement: Placement = field(default_factory=Placement)

    def runs(self) -> list[tuple[int, Piece]]:
        """The units in order, as runs of equal pieces (each group's piece with its multiplicity)."""
        runs: list[tuple[int, Piece]] = _sized(per_unit, self.grouped, self.spec, self.shape, self.setting)
        return runs

    @property
    def total(self) -> int:
        """What the whole run needs, over all devices (contexts and margins included)."""
        on_gpus = sum(ld.total for ld in self.placement.loads.values())
        return on_gpus + self.placement.cpu + self.placement.disk


def _encoder(spec: CacheSpec, s: Setting) -> int:
    return spec.encoder_tokens if spec.encoder_tokens is not None else s.context


def _piece(g: Group, spec: CacheSpec | None, shape: Shape, s: Setting, train_act: int, n_layers: int) -> Piece:
    w = unit_bytes(g.params, g.linear, g.experts, s.dtype_bytes, s.scheme)
    cache = extra = 0
    if g.layer and not s.training and spec is not None:
        if g.whole_cache:
            cache = s.batch * spec.elements(s.context) * s.dtype_bytes
        elif g.cache is not None:
            cache = s.batch * layer_elements(g.cache, s.context, _encoder(spec, s)) * s.dtype_bytes
    if s.training:
        extra = training_state(g.params, s.dtype_bytes) + (train_act // n_layers if g.layer and n_layers else 0)
    return Piece(w, cache, extra, int(w * s.estimate_margin))


def totals(grouped: tuple[Group, ...], spec: CacheSpec | None, shape: Shape, s: Setting) -> Piece:
    """Weights, cache and training state of the whole model, without per-unit pieces."""
    n_layers = sum(g.n for g in grouped if g.layer)
    weights = sum(g.n * unit_bytes(g.params, g.linear, g.experts, s.dtype_bytes, s.scheme) for g in grouped)
    extra = cache = 0
    if s.training:
        params = sum(g.n * g.params for g in grouped)
        extra = training_state(params, s.dtype_bytes) + (
            training_activations(shape, s.batch, s.context, s.dtype_bytes) // n_layers * n_layers if n_layers else 0)
    elif spec is not None:
        ctx, enc, elems = s.context, _encoder(spec, s), 0
        for g in grouped:
            if not g.layer:
                continue
            if g.whole_cache:
                elems += spec.elements(ctx)
            elif (c := g.cache) is not None:
                elems += g.n * layer_elements(c, ctx, enc)
        cache = s.batch * elems * s.dtype_bytes
    return Piece(weights, cache, extra, int(weights * s.estimate_margin))


_SIZES: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}


def _sized(size: Callable[..., Any], grouped: tuple[Group, ...], spec: CacheSpec | None, shape: Shape,
           s: Setting) -> Any:
    """SIZE (`totals` or `per_unit`) of a model for a setting, once per model and setting: they do not depend on
    the devices, and a policy matrix places the same model on every GPU target. Keyed by the identity of the
    model's groups, cache layout and shape (held) and the setting's key."""
    key = (size, id(grouped), id(spec), id(shape), s.key())
    hit = _SIZES.get(key)
    if hit is None or hit[0][0] is not grouped or hit[0][1] is not spec or hit[0][2] is not shape:
        if len(_SIZES) > 4096:
            _SIZES.clear()
        hit = _SIZES[key] = ((grouped, spec, shape), size(grouped, spec, shape, s))
    return hit[1]


def compute(grouped: tuple[Group, ...], spec: CacheSpec | None, shape: Shape, s: Setting, devices: list[Device],
            cpu_capacity: int | None) -> Ledger:
    act = 0 if s.training else inference_activations(shape, s.batch, s.context, s.dtype_bytes, s.eager)
    total: Piece = _sized(totals, grouped, spec, shape, s)
    per_group: list[tuple[int, Piece]] = []
    dm = s.device_map
    one = single_gpu_index(dm)
    if one is not None:
        pos = next((i for i, d in enumerate(devices) if d.index == one), None)
        if pos is None:
            placement = Placement(fits=False, why=f"device_map names GPU {one}, which the target does not have")
        else:
            placement = on_one([total], devices[pos], pos, act)
    elif dm is None or dm == "cpu" or dm == {"": "cpu"} or not devices:
        placement = on_cpu([total], cpu_capacity)
    else:
        per_group = _sized(per_unit, grouped, spec, shape, s)
        placement = spread(per_group, devices, act, cpu_capacity)
    return Ledger(s, total.weights, total.cache, act, total.extra, grouped, spec, shape, placement)


def per_unit(grouped: tuple[Group, ...], spec: CacheSpec | None, shape: Shape, s: Setting,
             ) -> list[tuple[int, Piece]]:
    """Each group's piece (one unit's weights, cache and training state) with its multiplicity."""
    n_layers = sum(g.n for g in grouped if g.layer)
    train_act = training_activations(shape, s.batch, s.context, s.dtype_bytes) if s.training else 0
    return [(g.n, _piece(g, spec, shape, s, train_act, n_layers)) for g in grouped]


__all__ = ["Group", "Ledger", "Load", "Setting", "compute", "groups"]
