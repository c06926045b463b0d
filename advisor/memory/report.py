"""The typed memory ledger (`advisor.core.ledger`) for the flags that were chosen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advisor.core.ledger import GpuLoad, KvCache, MemoryLedger, ParameterCount, Placement, TensorParallel
from advisor.core.logic import Unknown
from advisor.memory.ledger import Ledger
from advisor.memory.overhead import CATALOG_RESERVE, CUDA_CONTEXT_BYTES, MARGIN
from advisor.memory.quant import DTYPE_BYTES, safetensors_bytes

if TYPE_CHECKING:
    from advisor.memory.plan import MemoryPlan

ASSUMPTIONS = {
    "cuda_context_bytes_per_gpu": CUDA_CONTEXT_BYTES,
    "catalog_reserve_fraction": CATALOG_RESERVE,
    "margin_fraction": MARGIN,
    "activations": "one layer's prefill working set, batch x context x (4 hidden + 3 intermediate) in the "
                   "compute dtype, plus fp32 logits of the last position; eager attention adds the "
                   "context x context scores",
    "training": "full fine-tuning with AdamW: gradients in the weights' dtype, two fp32 moments and an fp32 "
                "master copy for 16-bit weights (16 bytes per parameter in mixed precision); activations "
                "34 x batch x context x hidden bytes per layer at 16 bits, no gradient checkpointing",
    "offload_bandwidth": "PCIe 25 GB/s for CPU offload, NVMe 3 GB/s for disk",
}


def ledger_report(plan: MemoryPlan, scope: Mapping[str, Any]) -> MemoryLedger:
    """The typed ledger for the flags in SCOPE (the `memory` object of the answer)."""
    unknown: list[tuple[str, str]] = []
    count = plan.count
    parameters = None
    if count is not None:
        parameters = ParameterCount(count.total, count.method, count.exact, _parts(count), tuple(count.missing),
                                    tuple(count.notes))
    else:
        unknown.append(("parameters", plan.reason or "unknown"))
    setting = plan.setting(scope)
    led = plan.ledger(setting)
    spec = plan.spec
    per_token: int | None = None
    kv: KvCache | None = None
    if spec is not None and not isinstance(setting, Unknown):
        per_token = spec.per_token() * setting.dtype_bytes
        latent = spec.latent_per_token * setting.dtype_bytes if spec.latent_per_token else None
        notes = tuple(spec.notes) + ((spec.encoder_note,) if spec.encoder_note else ())
        kv = KvCache(spec.per_token(plan.context) * setting.dtype_bytes, FIGURE_FOR, _layer_summary(spec), latent,
                     notes, spec.exact, spec.state * setting.dtype_bytes, spec.cross_per_token * setting.dtype_bytes,
                     spec.encoder_tokens)
    elif plan.spec_reason:
        unknown.append(("kv_cache_bytes_per_token", plan.spec_reason))
    placement = None
    if isinstance(led, Unknown):
        unknown.append(("ledger", led.reason))
    else:
        mc = plan.max_context(scope)
        if isinstance(mc, Unknown):
            unknown.append(("max_context", mc.reason))
        placement = _placement(plan, led, scope, None if isinstance(mc, Unknown) else mc)
    return MemoryLedger(plan.context, plan.request.batch, plan.request.task, parameters,
                        dict(plan.exact) if plan.exact else None, per_token, kv, placement, tuple(unknown),
                        ASSUMPTIONS, TP_ADVICE)


FIGURE_FOR = "transformers' DynamicCache in the compute dtype"
TP_ADVICE = "vLLM --tensor-parallel-size (with --pipeline-parallel-size across machines); advisor does not run it"


_MEMO: dict[int, tuple[Any, dict[str, int]]] = {}


def _memo(obj: Any, fn: Any) -> dict[str, int]:
    """fn(obj), remembered per object (counts and cache layouts are shared between plans)."""
    hit = _MEMO.get(id(obj))
    if hit is None or hit[0] is not obj:
        if len(_MEMO) > 512:
            _MEMO.clear()
        hit = (obj, fn(obj))
        _MEMO[id(obj)] = hit
    return dict(hit[1])


def _parts(count: Any) -> dict[str, int]:
    return _memo(count, _parts_of)


def _layer_summary(spec: Any) -> dict[str, int]:
    return _memo(spec, _layers_of)


def _parts_of(count: Any) -> dict[str, int]:
    parts: dict[str, int] = {}
    for u in count.units:
        key = {"layer": "layers", "encoder": "encoder", "embed": "embeddings", "head": "head",
               "tower": "towers"}.get(u.kind, u.kind)
        parts[key] = parts.get(key, 0) + u.params
    return parts


def _layers_of(spec: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in spec.layers:
        key = {"full": "full_attention", "window": f"window_{c.window}", "state": "recurrent_state",
               "none": "no_cache"}[c.kind]
        if c.kind == "none" and c.cross:
            key = "cross_attention_only"
        out[key] = out.get(key, 0) + 1
        if c.kind == "full" and c.state:
            out["recurrent_state"] = out.get("recurrent_state", 0) + 1
    if spec.cross_per_token:
        out["cross_attention"] = sum(1 for c in spec.layers if c.cross)
    return out


def _placement(plan: MemoryPlan, led: Ledger, scope: Mapping[str, Any], max_context: int | None) -> Placement:
    s, p = led.setting, led.placement
    per_gpu = []
    for i, ld in sorted(p.loads.items()):
        dev = plan.devices[i]
        per_gpu.append(GpuLoad(dev.index, dev.name, dev.capacity, dev.capacity_source, ld.weights, ld.cache, ld.extra,
                               ld.activations, ld.context, ld.margin, ld.total, ld.slack))
    exact = None
    if plan.exact and plan.quant_method is None:
        exact = safetensors_bytes(plan.exact, DTYPE_BYTES[s.dtype], False)
    count = plan.count
    source = ("safetensors " + ("headers" if plan.exact_source == "safetensors headers" else "metadata")
              if exact is not None else count.method if count is not None else "unknown")
    applies = bool(p.loads) and bool(len(plan.devices)) and scope.get("flag.device_map") == "auto"
    mm = scope.get("flag.max_memory") if applies else None
    tp = plan.tensor_parallel(scope)
    return Placement(
        dtype=s.dtype, quantization=s.scheme.name if s.scheme else None,
        quantization_note=s.scheme.note if s.scheme else None, weights_bytes=led.weights,
        weights_source=source,
        kv_cache_bytes=led.cache, activations_bytes=led.activations,
        training_bytes=led.training if s.training else None, total_bytes=led.total, device_map=s.device_map,
        per_gpu=tuple(per_gpu), cpu_bytes=p.cpu, disk_bytes=p.disk, fits=p.fits, fits_reason=p.why,
        max_context=max_context, max_memory=mm if isinstance(mm, dict) else None, max_memory_applies=applies,
        tensor_parallel=tp if isinstance(tp, TensorParallel) and not tp.single_machine else None)
