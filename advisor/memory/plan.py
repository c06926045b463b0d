"""The memory plan: figures that follow the flags being tried, for the rules and for the JSON ledger."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from advisor.core.frozen import field, record, replace
from advisor.core.ledger import MemoryLedger, TensorParallel
from advisor.core.logic import Unknown
from advisor.core.once import once_per
from advisor.facts.bundle import Facts
from advisor.facts.config_defaults import installed_reader
from advisor.facts.meta_count import available, meta_count
from advisor.memory.config import Cfg, MissingSize
from advisor.memory.figures import FIGURES, LEDGER
from advisor.memory.kvcache import CacheSpec, cache_spec, mla_latent_for
from advisor.memory.ledger import Group, Ledger, Setting, compute, groups
from advisor.memory.overhead import (
    CATALOG_RESERVE,
    CUDA_CONTEXT_BYTES,
    ESTIMATE_MARGIN,
    GIB,
    MARGIN,
    UNIFIED_GPU_SHARE,
    UNIFIED_SOURCE,
    Shape,
)
from advisor.memory.params import count_parameters
from advisor.memory.placement import Device, gib, single_gpu_index, spread
from advisor.memory.quant import (
    DTYPE_BYTES,
    Scheme,
    bnb_scheme,
    checkpoint_scheme,
    safetensors_bytes,
    weight_bytes,
)
from advisor.memory.report import ledger_report
from advisor.memory.units import Count, Unit

_NONE = object()
DEFAULT_CONTEXT = 4096
MACHINE_GPUS = 8
"""GPUs in the largest single machine considered (HGX/DGX boards carry 8)."""
PCIE_BYTES_PER_S = 25e9
"""Host-to-GPU bandwidth assumed for offloaded weights (PCIe 4.0 x16, effective)."""
DISK_BYTES_PER_S = 3e9
"""NVMe read bandwidth assumed for weights offloaded to disk."""


@record
class ModelSide:
    """What the memory plan reads of the model and the target release: the same on every GPU target."""

    model_type: str | None
    quant_method: str | None
    qcfg: dict[str, Any]
    count: Count | None
    reason: str | None
    spec: CacheSpec | None
    spec_reason: str | None
    exact: dict[str, int] | None
    exact_source: str | None
    shape: Shape
    groups: tuple[Group, ...]
    checkpoint_dtype: str | None
    max_positions: int | None


def model_side(facts: Facts) -> tuple[ModelSide, str]:
    """The model's side of the plan and what of it the figures read (`_side_key`), once per model facts and
    target release (a policy matrix plans one model on every GPU target)."""
    key = (id(facts.model), facts.transformers.value)
    hit = _SIDES.get(key)
    if hit is None or hit[0] is not facts.model:
        if len(_SIDES) > 512:
            _SIDES.clear()
        side = _model_side(facts)
        hit = _SIDES[key] = (facts.model, side, _side_key(side))
    return hit[1], hit[2]


_SIDES: dict[tuple[int, Any], tuple[Any, ModelSide, str]] = {}


def _model_side(facts: Facts) -> ModelSide:
    m = facts.model
    top, text = m.top, m.config
    quant_method = m.quant_method.value if m.quant_method.known else None
    tf = facts.transformers.value
    counted, spec, spec_reason = _static(top, text, m.model_type.value, m.architecture.value, mla_latent_for(tf))
    count: Count | None = counted if isinstance(counted, Count) else None
    reason: str | None = counted if isinstance(counted, str) else None
    exact = m.source.parameters
    if exact and quant_method is None:
        count = _with_exact(count, sum(exact.values()), m.source.parameters_source or "safetensors metadata")
        reason = None
    elif m.source.exact_parameters is not None:
        # a logical count (quantization left out), so it holds for a quantized checkpoint too
        count = _with_exact(count, m.source.exact_parameters, m.source.exact_parameters_source or "an exact count",
                            complete=True)
        reason = None
    elif count is None or not count.exact:
        count, reason = _meta(count, reason, m.source.config, m.model_type.value, m.architecture.value, tf)
    grouped = (_groups(count, spec) if count is counted else groups(count, spec)) if count else ()
    return ModelSide(m.model_type.value, quant_method, top.get("quantization_config") or {}, count, reason, spec,
                     spec_reason, exact, m.source.parameters_source, _shape(Cfg(text), m.num_layers.value, count),
                     grouped, m.checkpoint_dtype.value,
                     Cfg(text).opt("max_position_embeddings", "n_positions", "max_target_positions", "seq_length"))


def _meta(count: Count | None, reason: str | None, top: dict[str, Any], model_type: str | None,
          architecture: str | None, target: Any) -> tuple[Count | None, str | None]:
    """The exact count from a meta-device build with the installed transformers, when it can run here (of
    config.json as written: transformers fills the defaults itself); else COUNT and REASON as they were."""
    if not model_type:
        return count, reason
    found = installed_reader() if available() else None
    if found is None or model_type not in found[0].config_names():
        return count, reason
    built = meta_count(top, model_type, architecture)
    if not built.known or built.value is None:
        if count is None:
            reason = f"{reason}; {built.reason}" if reason else built.reason
        return count, reason
    meta = built.value
    label = f"meta-device build (transformers {meta.version}, {meta.model_class})"
    notes: tuple[str, ...] = ()
    if target is not None and str(target) != meta.version:
        notes = (f"counted with the installed transformers {meta.version}; the target is {target}",)
    return _with_meta(count, meta, label, notes), None


@record
class Figures:
    """What plans that read the same compute: ledgers by setting, GPU fits by setting, figures by name and flags."""

    hardware: Any
    """The hardware facts the plans read (their GPUs and CPU memory), held: figures are keyed by its identity."""
    ledgers: dict[tuple[Any, ...], Ledger | Unknown] = field(default_factory=dict)
    fits: dict[tuple[Any, ...], bool | Unknown] = field(default_factory=dict)
    values: dict[tuple[Any, ...], Any] = field(default_factory=dict)


def _side_key(side: ModelSide) -> str:
    """Everything of a model side the figures read (the count's notes, which only the ledger report shows,
    left out: they name the target release)."""
    count, parts = side.count, (side.count, side.spec, side.groups)
    key = tuple(map(id, parts))
    hit = _LARGE.get(key)  # the long parts, once per their objects (sides that read alike share them: _static)
    if hit is None or any(a is not b for a, b in zip(hit[0], parts, strict=True)):
        if len(_LARGE) > 512:
            _LARGE.clear()
        hit = _LARGE[key] = (parts, repr(((count.units, count.method, count.exact, count.missing) if count else None,
                                          side.spec, side.groups)))
    return hit[1] + repr((side.reason, side.spec_reason, side.exact, side.exact_source, side.shape,
                          side.checkpoint_dtype, side.max_positions, side.quant_method, side.qcfg, side.model_type))


_LARGE: dict[tuple[int, ...], tuple[tuple[Any, ...], str]] = {}


_FIGURES: dict[tuple[Any, ...], Figures] = {}


def _shared_figures(side_key: str, hardware: Any, plan: MemoryPlan) -> Figures:
    """The figures of every plan with the same model side (SIDE_KEY: by value), hardware facts (by identity:
    its GPUs and CPU memory), request and native quantization: what a figure reads of the plan."""
    key = (side_key, id(hardware), plan.request, plan.fp8_native, plan.mxfp4_native)
    found = _FIGURES.get(key)
    if found is None or found.hardware is not hardware:
        if len(_FIGURES) > 2048:
            _FIGURES.clear()
        found = _FIGURES[key] = Figures(hardware)
    return found


_LEDGER_NAMES = tuple(f"flag.{flag}" for flag in LEDGER)


def flags_key(scope: Mapping[str, Any]) -> tuple[str, ...]:
    """What every figure reads of SCOPE: the ledger's flags, as a key (repr: a dict has no hash, and True is not
    1). A scope whose flags no longer change keeps it (`Scope.flags_key`)."""
    return tuple(map(repr, map(scope.get, _LEDGER_NAMES)))


class MemoryPlan:
    """Weights, cache and overhead for a model on a target; `lookup` answers `memory.*` facts for rules."""

    def __init__(self, facts: Facts) -> None:
        side, side_key = model_side(facts)
        self.model_type, self.request = side.model_type, facts.request
        self.quant_method, self.qcfg = side.quant_method, side.qcfg
        self.count, self.reason, self.spec, self.spec_reason = side.count, side.reason, side.spec, side.spec_reason
        self.exact, self.exact_source, self.shape, self.groups = side.exact, side.exact_source, side.shape, side.groups
        self.checkpoint_dtype, self.max_positions = side.checkpoint_dtype, side.max_positions
        self.devices = list(_devices(facts.hardware))
        self.has_gpu = facts.hardware.has_gpu
        self.gpu_known = facts.hardware.gpu_count.known
        # Whether an FP8 or MXFP4 checkpoint stays quantized is the target release's answer (its table, the GPU,
        # triton and kernels: advisor.facts.release_facts); dequantized, it takes the compute dtype's memory.
        dequantized = facts.fact("quant.dequantized")
        native = None if dequantized is None or not dequantized.known else not dequantized.value
        self.fp8_native: bool | None = native
        self.mxfp4_native: bool | None = native
        cpu = facts.hardware.cpu.memory_total_bytes
        self.cpu_capacity = cpu.value if cpu.known else None
        if self.cpu_capacity is not None and any(g.unified_memory.value for g in facts.hardware.gpus):
            # one pool: what the GPU may use is not there for CPU offload as well
            self.cpu_capacity = max(0, self.cpu_capacity - sum(d.capacity or 0 for d in self.devices))
        self.figures = _shared_figures(side_key, facts.hardware, self)
        """The ledgers and figures computed so far: shared by the plans that compute the same (another software
        target with the same model side, GPUs and request)."""

    # --- settings and ledgers ---------------------------------------------------------------------

    def setting(self, scope: Mapping[str, Any], context: int | None = None,
                quant: Any = "scope", device_map: Any = "scope") -> Setting | Unknown:
        dtype = scope.get("flag.dtype")
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            dtype = self.checkpoint_dtype
        if dtype not in DTYPE_BYTES:
            return Unknown("memory", "the dtype is unknown, so the size of the weights is too")
        q = scope.get("flag.quantization_config") if quant == "scope" else quant
        scheme = self.scheme(q)
        if isinstance(scheme, str):
            return Unknown("memory", scheme)
        attn = scope.get("flag.attn_implementation")
        slack = ESTIMATE_MARGIN if self.count is not None and not self.count.exact else 0.0
        return Setting(dtype, DTYPE_BYTES[dtype], scheme,
                       scope.get("flag.device_map") if device_map == "scope" else device_map,
                       attn == "eager", context or self.context, self.request.batch,
                       self.request.task == "training", slack)

    def scheme(self, flag: Any) -> Scheme | str | None:
        if self.quant_method is not None:
            return checkpoint_scheme(self.quant_method, self.qcfg, self.fp8_native, self.mxfp4_native)
        if isinstance(flag, dict):
            return bnb_scheme(flag) or "quantization_config asks for neither 4-bit nor 8-bit"
        return None

    @property
    def context(self) -> int:
        if self.request.context is not None:
            return self.request.context
        return min(DEFAULT_CONTEXT, self.max_positions or DEFAULT_CONTEXT)

    def ledger(self, s: Setting | Unknown) -> Ledger | Unknown:
        if isinstance(s, Unknown):
            return s
        if self.count is None:
            return Unknown("memory", self.reason or "the parameters could not be counted")
        if self.spec is None and not s.training:
            return Unknown("memory", self.spec_reason or "the cache could not be sized")
        key = s.key()
        hit = self.figures.ledgers.get(key)
        if hit is None:
            hit = compute(self.groups, self.spec, self.shape, s, self.devices, self.cpu_capacity)
            self.figures.ledgers[key] = hit
        return hit

    def fits_gpus(self, s: Setting | Unknown) -> bool | Unknown:
        """Whether the GPUs together hold it, weights and cache, with nothing on the CPU."""
        if isinstance(s, Unknown):
            return s
        if not self.devices:
            return False if self.gpu_known else Unknown("memory.fits_gpus", "the GPUs are unknown")
        key = s.key()
        if key in self.figures.fits:
            return self.figures.fits[key]
        led = self.ledger(s)
        if isinstance(led, Unknown):
            return led
        placed = spread(led.runs(), self.devices, led.activations, None, allow_cpu=False)
        answer: bool | Unknown = placed.fits if placed.fits is not None else Unknown("memory.fits_gpus", placed.why)
        self.figures.fits[key] = answer
        return answer

    def max_context(self, scope: Mapping[str, Any]) -> int | Unknown:
        """The longest context (at the requested batch) that fits with the flags in scope."""
        limit = self.max_positions or (1 << 20)
        base = self.setting(scope)

        def ok(n: int) -> bool | None:
            if isinstance(base, Unknown) or self.count is None or (self.spec is None and not base.training):
                return None
            s = replace(base, context=n)
            return compute(self.groups, self.spec, self.shape, s, self.devices, self.cpu_capacity).placement.fits

        first = ok(1)
        if first is None:
            led = self.ledger(self.setting(scope, context=1))
            reason = led.reason if isinstance(led, Unknown) else led.placement.why
            return Unknown("memory.max_context", reason)
        if not first:
            return 0
        if ok(limit):
            return limit
        lo, hi = 1, limit
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        return lo

    # --- the names rules read ---------------------------------------------------------------------

    def lookup(self, name: str, scope: Mapping[str, Any]) -> Any:
        key = name.removeprefix("memory.")
        # A figure reads nothing of the scope but the ledger's flags (setting): remember its value by their
        # values (repr: a dict has no hash, and True is not 1), as every rule and fix about every flag asks
        # again. A dict or list answer is computed afresh each time: it may be put in a scope and changed.
        memo = (key, getattr(scope, "flags_key", None) or flags_key(scope))
        hit = self.figures.values.get(memo, _NONE)
        if hit is not _NONE:
            return hit
        fn = getattr(self, f"_f_{key}", None) if key in FIGURES else None
        if fn is None:
            return Unknown(name, f"the memory plan has no figure `{key}`")
        value = fn(scope)
        if isinstance(value, Unknown):
            value = Unknown(name, value.reason)
        if not isinstance(value, dict | list):
            self.figures.values[memo] = value
        return value

    def _led(self, scope: Mapping[str, Any], **kw: Any) -> Ledger | Unknown:
        return self.ledger(self.setting(scope, **kw))

    def _f_fits(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        if isinstance(led, Unknown):
            return led
        return led.placement.fits if led.placement.fits is not None else Unknown("", led.placement.why)

    def _f_fits_gpus(self, scope: Mapping[str, Any]) -> Any:
        return self.fits_gpus(self.setting(scope))

    def _f_fits_gpus_4bit(self, scope: Mapping[str, Any]) -> Any:
        if self.quant_method is not None:
            return False
        return self.fits_gpus(self.setting(scope, quant=self._f_bnb_4bit(scope)))

    def _f_count_known(self, scope: Mapping[str, Any]) -> Any:
        return self.count is not None

    def _f_count_estimated(self, scope: Mapping[str, Any]) -> Any:
        return self.count is not None and not self.count.exact

    def _f_count_source(self, scope: Mapping[str, Any]) -> Any:
        if self.count is None:
            return self.reason or "the parameters could not be counted"
        return self.count.method + ("" if self.count.exact else " (an estimate)")

    def _f_single_gpu(self, scope: Mapping[str, Any]) -> Any:
        """Whether the device_map in scope puts everything on one GPU."""
        return single_gpu_index(scope.get("flag.device_map")) is not None

    def _f_quant_bits(self, scope: Mapping[str, Any]) -> Any:
        q = scope.get("flag.quantization_config")
        if not isinstance(q, dict):
            return None
        return 4 if q.get("load_in_4bit") else 8 if q.get("load_in_8bit") else None

    def _f_single_gpu_map(self, scope: Mapping[str, Any]) -> Any:
        known = [d for d in self.devices if d.capacity is not None]
        if not known:
            return None
        best = max(known, key=lambda d: (d.capacity or 0, -d.index))
        return {"": best.key}

    def _f_bnb_8bit(self, scope: Mapping[str, Any]) -> Any:
        return {"load_in_8bit": True}

    def _f_bnb_4bit(self, scope: Mapping[str, Any]) -> Any:
        dtype = scope.get("flag.dtype")
        compute_dtype = dtype if isinstance(dtype, str) and dtype in DTYPE_BYTES else "bfloat16"
        return {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_compute_dtype": compute_dtype}

    def _f_max_memory(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope, device_map="auto")
        if isinstance(led, Unknown) or len(self.devices) == 0:
            return led if isinstance(led, Unknown) else None
        return max_memory(led, self.devices)

    def _f_offload_gib(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        return led if isinstance(led, Unknown) else gib(led.placement.cpu + led.placement.disk)

    def _f_gpu_split(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        if isinstance(led, Unknown):
            return led
        return ", ".join(f"GPU {self.devices[i].index}: {gib(ld.total)} GiB"
                         for i, ld in sorted(led.placement.loads.items()))

    def _f_gpus_used(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        return led if isinstance(led, Unknown) else len(led.placement.loads)

    def _f_need_gib(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        return led if isinstance(led, Unknown) else gib(led.total)

    def _f_need_gpus_gib(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope, device_map="auto")
        return led if isinstance(led, Unknown) else gib(led.total)

    def _f_have_gib(self, scope: Mapping[str, Any]) -> Any:
        caps = [d.capacity for d in self.devices]
        if not caps or any(c is None for c in caps):
            return Unknown("", "the GPUs' memory is unknown")
        return gib(sum(c or 0 for c in caps))

    def _f_weights_gib(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        return led if isinstance(led, Unknown) else gib(led.weights)

    def _f_unquantized_gib(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope, quant=None)
        return led if isinstance(led, Unknown) else gib(led.weights)

    def _f_slowdown(self, scope: Mapping[str, Any]) -> Any:
        led = self._led(scope)
        if isinstance(led, Unknown):
            return led
        secs = led.placement.cpu / PCIE_BYTES_PER_S + led.placement.disk / DISK_BYTES_PER_S
        return f"{secs:.2f} s"

    def _f_single_machine(self, scope: Mapping[str, Any]) -> Any:
        tp = self.tensor_parallel(scope)
        return tp if isinstance(tp, Unknown) else tp.single_machine

    def _f_tp_sizes(self, scope: Mapping[str, Any]) -> Any:
        tp = self.tensor_parallel(scope)
        if isinstance(tp, Unknown):
            return tp
        fit = tp.smallest_fitting
        sizes = ", ".join(str(s) for s in tp.sizes)
        where = (f"; the smallest that holds it is {fit} ({math.ceil(fit / MACHINE_GPUS)} machines of "
                 f"{MACHINE_GPUS})" if fit else "; none of them holds it")
        return f"{sizes}{where}"

    # --- tensor parallelism -----------------------------------------------------------------------

    def tensor_parallel(self, scope: Mapping[str, Any]) -> TensorParallel | Unknown:
        """Sizes that divide the attention and key/value heads, and whether 8 GPUs of this kind hold it."""
        led = self._led(scope)
        if isinstance(led, Unknown):
            return led
        if not self.devices or self.devices[0].capacity is None:
            return Unknown("", "the GPU's memory is unknown")
        cap = self.devices[0].capacity
        heads, kv = self.shape.heads, _kv_heads(self.spec, self.shape)
        need = led.weights + led.cache + led.training

        def per_gpu(n: int) -> int:
            return int((need / n + led.activations) * (1 + MARGIN)) + CUDA_CONTEXT_BYTES

        sizes = [n for n in (2 ** i for i in range(11)) if heads % n == 0 and (kv % n == 0 or n % kv == 0)]
        fitting = [n for n in sizes if per_gpu(n) <= cap]
        return TensorParallel(per_gpu(MACHINE_GPUS) <= cap or bool(fitting and fitting[0] <= MACHINE_GPUS),
                              tuple(sizes), fitting[0] if fitting else None, {str(n): per_gpu(n) for n in sizes},
                              cap, heads, kv)

    # --- the JSON ledger --------------------------------------------------------------------------

    def report(self, scope: Mapping[str, Any]) -> MemoryLedger:
        """The typed ledger for the flags in SCOPE."""
        return ledger_report(self, scope)


def max_memory(led: Ledger, devices: list[Device]) -> dict[str, str]:
    """accelerate's `max_memory` for "auto": per GPU what its weights may take once its cache,
    activations, CUDA context and margin are set aside (GPU 0 also keeps the generation headroom)."""
    out: dict[str, str] = {}
    for i, dev in enumerate(devices):
        if dev.capacity is None:
            continue
        ld = led.placement.loads.get(i)
        cache = ld.cache if ld else 0
        act = led.activations
        room = int((dev.capacity - CUDA_CONTEXT_BYTES) / (1 + MARGIN)) - cache - act
        out[str(dev.key)] = f"{max(room, 0) / GIB:.2f}GiB"
    if led.placement.cpu or led.placement.disk:
        out["cpu"] = f"{math.ceil(led.placement.cpu / GIB)}GiB"
    return out


def _kv_heads(spec: CacheSpec | None, shape: Shape) -> int:
    return shape.kv_heads if shape.kv_heads else shape.heads


_DEVICES: dict[int, tuple[Any, Any]] = {}


def _devices(hardware: Any) -> tuple[Device, ...]:
    """The GPUs of HARDWARE as placement devices, once per hardware facts (every model of a matrix asks)."""
    return once_per(_DEVICES, hardware, lambda: tuple(_device(g) for g in hardware.gpus))


def _device(g: Any) -> Device:
    name = g.name.value or f"GPU {g.index}"
    free, total = g.memory_free_bytes, g.memory_total_bytes
    if g.unified_memory.value and total.value is not None:
        return Device(g.index, name, int(total.value * UNIFIED_GPU_SHARE), UNIFIED_SOURCE, g.device)
    if free.known and free.value is not None:
        return Device(g.index, name, free.value, "free memory (NVML)")
    if total.known and total.value is not None:
        reserve = int(total.value * CATALOG_RESERVE)
        return Device(g.index, name, total.value - reserve,
                      f"total minus a {int(CATALOG_RESERVE * 100)} % reserve (no free-memory reading)")
    return Device(g.index, name, None, free.reason or total.reason or "unknown")


def _shape(cfg: Cfg, layers: int | None, count: Count | None) -> Shape:
    hidden = cfg.opt("hidden_size", "n_embd", "d_model") or 0
    heads = cfg.opt("num_attention_heads", "n_head", "num_heads", "decoder_attention_heads") or 1
    kv = cfg.opt("num_key_value_heads", "num_kv_heads", "n_head_kv") or (
        1 if cfg.flag("multi_query", False) and not cfg.flag("new_decoder_architecture", False) else heads)
    inter = cfg.opt("intermediate_size", "n_inner", "ffn_hidden_size", "d_ff", "decoder_ffn_dim") or 4 * hidden
    topk = cfg.opt("num_experts_per_tok", "moe_topk")
    moe_inter = cfg.opt("moe_intermediate_size")
    if topk and moe_inter:
        inter = topk * moe_inter + (cfg.opt("n_shared_experts") or 0) * moe_inter + (
            cfg.opt("shared_expert_intermediate_size") or 0)
    elif topk and cfg.opt("num_local_experts", "num_experts"):
        inter = topk * inter
    n_layers = layers or (sum(1 for u in count.units if u.kind == "layer") if count else 0)
    return Shape(hidden, inter, heads, n_layers, cfg.opt("vocab_size") or 0, kv)


def _static(top: dict[str, Any], text: dict[str, Any], model_type: str | None, arch: str | None,
            mla_latent: bool | None) -> tuple[Count | str, CacheSpec | None, str | None]:
    """The parameter count and cache layout of a config (they do not depend on the target, and a loaded config
    is never changed): once per config object, and shared by the configs that read alike (the same model
    completed for two releases whose config classes default alike). The count does not read MLA_LATENT; a
    cache layout equal to one already made is that one. So what is derived from them by identity (`_groups`,
    the side key) is shared too."""
    key = (id(top), id(text), model_type, arch, mla_latent)
    hit = _STATIC.get(key)
    if hit is None or hit[0] is not top or hit[1] is not text:
        alike = _ALIKE.setdefault((model_type, arch), [])
        entry = next((e for e in alike if e.top == top and e.text == text), None)
        if entry is None:
            entry = _Static(top, text, count_parameters(top, text, model_type, arch))
            alike.append(entry)
        if mla_latent not in entry.caches:
            try:
                made: tuple[CacheSpec | None, str | None] = (
                    cache_spec(top, text, model_type, arch, mla_latent=mla_latent), None)
            except MissingSize as exc:
                made = (None, f"cannot size the cache: {exc}")
            entry.caches[mla_latent] = next((c for c in entry.caches.values() if c == made), made)
        if len(_STATIC) > 256:
            _STATIC.clear()
            _ALIKE.clear()
        hit = _STATIC[key] = (top, text, (entry.count, *entry.caches[mla_latent]))
    return hit[2]


@record
class _Static:
    """A config as read (TOP, TEXT), its count, and its cache layout (or why it has none) by `mla_latent`."""

    top: dict[str, Any]
    text: dict[str, Any]
    count: Count | str
    caches: dict[bool | None, tuple[CacheSpec | None, str | None]] = field(default_factory=dict)


_STATIC: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any],
                                     tuple[Count | str, CacheSpec | None, str | None]]] = {}
_ALIKE: dict[tuple[str | None, str | None], list[_Static]] = {}


_GROUPS: dict[tuple[int, int], tuple[Count, CacheSpec | None, tuple[Group, ...]]] = {}


def _groups(count: Count, spec: CacheSpec | None) -> tuple[Group, ...]:
    """Groups of a memoized count and cache layout (keyed by identity; the objects are kept alive)."""
    key = (id(count), id(spec))
    hit = _GROUPS.get(key)
    if hit is None or hit[0] is not count or hit[1] is not spec:
        if len(_GROUPS) > 256:
            _GROUPS.clear()
        hit = (count, spec, groups(count, spec))
        _GROUPS[key] = hit
    return hit[2]


def _with_exact(count: Count | None, total: int, method: str, complete: bool = False) -> Count:
    """The config's units scaled to an exact TOTAL counted by METHOD (one unit when the config gave none).

    COMPLETE: the total is of the whole model as transformers builds it, so the parts config.json alone
    could not size are in it and are no longer listed as missing.
    """
    if count is None or count.total == 0:
        return Count((Unit("weights", "layer", total),), method, True)
    ratio = total / count.total
    units = [replace(u, params=round(u.params * ratio), linear=round(u.linear * ratio),
                     experts=round(u.experts * ratio)) for u in count.units]
    units[-1] = replace(units[-1], params=units[-1].params + total - sum(u.params for u in units))
    note: tuple[str, ...] = () if total == count.total else (
        f"{method} counts {total}, config.json {count.total}: the exact figure is used",)
    if complete and count.missing:
        note += (f"the parts config.json could not size ({'; '.join(count.missing)}) are in the exact figure",)
    return Count(tuple(units), method, True, () if complete else count.missing, count.notes + note)


def _with_meta(count: Count | None, meta: Any, label: str, notes: tuple[str, ...]) -> Count:
    """The meta-device build's units: its decoder layers and the rest, with its quantizable parts spread over
    them; the config's notes are kept."""
    layers = list(meta.layers)
    rest = meta.total - sum(layers)
    raw = [Unit("embeddings, towers and head", "embed", rest), *(Unit(f"layer {i}", "layer", n)
                                                                 for i, n in enumerate(layers))]
    if rest < 0 or not layers:
        raw = [Unit("weights", "layer", meta.total)]
    share = [u.params / meta.total if meta.total else 0.0 for u in raw]
    units = [replace(u, linear=round(meta.linear * f), experts=round(meta.experts * f)) for u, f in zip(raw, share,
                                                                                                      strict=True)]
    kept = count.notes if count is not None else ()
    return Count(tuple(units), label, True, (), (*kept, *notes))


def plan_memory(facts: Facts) -> MemoryPlan:
    """The memory plan for the facts (figures are computed per flag set, on demand), once per what
    `MemoryPlan.__init__` reads of them (keep the two in step): a policy matrix checks one model on one GPU
    against several software targets, which differ in nothing the plan reads but the transformers major
    and kernels/triton, and each plan remembers the figures it computed."""
    tf = facts.transformers.value
    kernels, triton = facts.software.package("kernels").version, facts.software.package("triton").version
    key = (id(facts.model), id(facts.hardware), id(facts.request), tf is None or tf.major >= 5,
           kernels.known, kernels.value, triton.known, triton.value)
    hit = _PLANS.get(key)
    if hit is None or hit[0] is not facts.model or hit[1] is not facts.hardware or hit[2] is not facts.request:
        if len(_PLANS) > 512:
            _PLANS.clear()
        hit = _PLANS[key] = (facts.model, facts.hardware, facts.request, MemoryPlan(facts))
    return hit[3]


_PLANS: dict[tuple[Any, ...], tuple[Any, Any, Any, MemoryPlan]] = {}


__all__ = ["MemoryPlan", "plan_memory", "safetensors_bytes", "weight_bytes"]
