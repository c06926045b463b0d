"""The `memory` object of the JSON output: the whole ledger for the flags that were chosen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from advisor.engine.logic import Unknown
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


def ledger_json(plan: MemoryPlan, scope: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"parameters": None, "weights_bytes": None, "kv_cache_bytes_per_token": None,
                           "total_bytes": None, "per_gpu": [], "fits": None, "max_context": None}
    out.update(_parameters(plan))
    setting = plan.setting(scope)
    led = plan.ledger(setting)
    out["context"], out["batch"], out["task"] = plan.context, plan.request.batch, plan.request.task
    spec = plan.spec
    if spec is not None and not isinstance(setting, Unknown):
        per = spec.per_token(plan.context) * setting.dtype_bytes
        out["kv_cache_bytes_per_token"] = spec.per_token() * setting.dtype_bytes
        out["kv_cache"] = {
            "bytes_per_token_at_context": per,
            "figure_for": "transformers' DynamicCache in the compute dtype",
            "layers": _layer_summary(spec),
            **({"serving_latent_bytes_per_token": spec.latent_per_token * setting.dtype_bytes}
               if spec.latent_per_token else {}),
            "notes": list(spec.notes),
        }
    elif plan.spec_reason:
        out["unknown"] = {**out.get("unknown", {}), "kv_cache_bytes_per_token": plan.spec_reason}
    if isinstance(led, Unknown):
        out["unknown"] = {**out.get("unknown", {}), "ledger": led.reason}
        out["assumptions"] = ASSUMPTIONS
        return out
    out.update(_ledger(plan, led))
    mc = plan.max_context(scope)
    out["max_context"] = None if isinstance(mc, Unknown) else mc
    if isinstance(mc, Unknown):
        out["unknown"] = {**out.get("unknown", {}), "max_context": mc.reason}
    if led.placement.loads and len(plan.devices) and scope.get("flag.device_map") == "auto":
        mm = scope.get("flag.max_memory")
        out["max_memory"] = mm if isinstance(mm, dict) else None
    tp = plan.tensor_parallel(scope)
    if isinstance(tp, dict) and not tp["single_machine"]:
        out["tensor_parallel"] = {**tp, "advice": "vLLM --tensor-parallel-size (with --pipeline-parallel-size "
                                                  "across machines); advisor does not run it"}
    out["assumptions"] = ASSUMPTIONS
    return out


def _parameters(plan: MemoryPlan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    count = plan.count
    if count is not None:
        out["parameters"] = count.total
        out["parameters_source"] = count.method
        out["parameters_verified"] = count.verified
        if count.missing:
            out["uncounted"] = list(count.missing)
        if count.notes:
            out["notes"] = list(count.notes)
        out["parameters_by_part"] = _parts(count)
    else:
        out["unknown"] = {"parameters": plan.reason}
    if plan.exact:
        out["safetensors_parameters"] = dict(plan.exact)
    return out


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
        out[key] = out.get(key, 0) + 1
    if spec.cross_per_token:
        out["cross_attention"] = sum(1 for c in spec.layers if c.kind == "full")
    return out


def _ledger(plan: MemoryPlan, led: Ledger) -> dict[str, Any]:
    s, p = led.setting, led.placement
    per_gpu = []
    for i, ld in sorted(p.loads.items()):
        dev = plan.devices[i]
        per_gpu.append({
            "index": dev.index, "name": dev.name, "has_bytes": dev.capacity, "has_source": dev.capacity_source,
            "weights_bytes": ld.weights, "kv_cache_bytes": ld.cache, "training_bytes": ld.extra,
            "activations_bytes": ld.activations, "cuda_context_bytes": ld.context, "margin_bytes": ld.margin,
            "total_bytes": ld.total,
            "fits": None if dev.capacity is None else ld.total <= dev.capacity,
        })
    exact = None
    if plan.exact and plan.quant_method is None:
        exact = safetensors_bytes(plan.exact, DTYPE_BYTES[s.dtype], False)
    return {
        "dtype": s.dtype,
        "quantization": s.scheme.name if s.scheme else None,
        "quantization_note": s.scheme.note if s.scheme else None,
        "weights_bytes": led.weights,
        "weights_source": "safetensors metadata" if exact is not None else "computed from config.json",
        "kv_cache_bytes": led.cache,
        "activations_bytes": led.activations,
        "training_bytes": led.training if s.training else None,
        "total_bytes": led.total,
        "device_map": s.device_map,
        "per_gpu": per_gpu,
        "cpu_bytes": p.cpu,
        "disk_bytes": p.disk,
        "fits": p.fits,
        "fits_reason": p.why,
    }
