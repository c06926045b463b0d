"""The memory ledger of a recommendation, typed: what is counted, where it lands, and what is unknown.

`advisor.memory` computes it; the emitters and the TUI read its fields (never string keys), and
`to_json` writes the `memory` object of the JSON output (schema_version 1).
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import frozen


@frozen
class ParameterCount:
    """How many parameters the model has and where the figure came from."""

    total: int
    source: str
    """How it was counted: safetensors headers or the Hub's metadata, a meta-device build, the formula table, the
    generic estimate."""
    exact: bool
    """Exact (safetensors, meta-device build, or a table formula verified against transformers); else an estimate
    that errs high."""
    by_part: dict[str, int]
    uncounted: tuple[str, ...] = ()
    """Parts of the model the count leaves out, each with the reason."""
    notes: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        """The former name of `exact` (JSON keeps `parameters_verified` beside `parameters_exact`)."""
        return self.exact


@frozen
class KvCache:
    """The generation cache per token, at the planned context."""

    bytes_per_token_at_context: int
    figure_for: str
    layers: dict[str, int]
    """How many layers keep each kind of cache (`full_attention`, `window_4095`, `recurrent_state`, ...)."""
    serving_latent_bytes_per_token: int | None = None
    notes: tuple[str, ...] = ()
    exact: bool = True
    """The layout transformers builds; False: an upper bound (a layer pattern had to be assumed)."""
    state_bytes_per_sequence: int = 0
    """Fixed recurrent state (linear attention, state-space and convolution layers) per sequence."""
    cross_bytes_per_encoder_token: int = 0
    encoder_tokens: int | None = None
    """Encoder or image tokens the cross-attention holds; None: as many as the context."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bytes_per_token_at_context": self.bytes_per_token_at_context,
                               "figure_for": self.figure_for, "exact": self.exact, "layers": dict(self.layers),
                               "state_bytes_per_sequence": self.state_bytes_per_sequence,
                               "cross_bytes_per_encoder_token": self.cross_bytes_per_encoder_token,
                               "encoder_tokens": self.encoder_tokens}
        if self.serving_latent_bytes_per_token is not None:
            out["serving_latent_bytes_per_token"] = self.serving_latent_bytes_per_token
        out["notes"] = list(self.notes)
        return out


@frozen
class GpuLoad:
    """What lands on one GPU against what it has."""

    index: int
    name: str
    has_bytes: int | None
    has_source: str
    weights_bytes: int
    kv_cache_bytes: int
    training_bytes: int
    activations_bytes: int
    cuda_context_bytes: int
    margin_bytes: int
    total_bytes: int
    estimate_margin_bytes: int = 0
    """The estimate's own margin on the weights here (0 when the count is exact)."""

    @property
    def fits(self) -> bool | None:
        return None if self.has_bytes is None else self.total_bytes <= self.has_bytes

    @property
    def overhead_bytes(self) -> int:
        """Everything but weights and cache: activations, CUDA context, training state and margins."""
        return (self.activations_bytes + self.cuda_context_bytes + self.training_bytes + self.margin_bytes
                + self.estimate_margin_bytes)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "has_bytes": self.has_bytes, "has_source": self.has_source,
                "weights_bytes": self.weights_bytes, "kv_cache_bytes": self.kv_cache_bytes,
                "training_bytes": self.training_bytes, "activations_bytes": self.activations_bytes,
                "cuda_context_bytes": self.cuda_context_bytes, "margin_bytes": self.margin_bytes,
                "estimate_margin_bytes": self.estimate_margin_bytes, "total_bytes": self.total_bytes,
                "fits": self.fits}


@frozen
class TensorParallel:
    """Tensor-parallel sizes that divide the heads, and the smallest that holds the model."""

    single_machine: bool
    sizes: tuple[int, ...]
    smallest_fitting: int | None
    per_gpu_bytes: dict[str, int]
    gpu_capacity_bytes: int
    attention_heads: int
    kv_heads: int

    def to_json(self) -> dict[str, Any]:
        return {"single_machine": self.single_machine, "sizes": list(self.sizes),
                "smallest_fitting": self.smallest_fitting, "per_gpu_bytes": dict(self.per_gpu_bytes),
                "gpu_capacity_bytes": self.gpu_capacity_bytes, "attention_heads": self.attention_heads,
                "kv_heads": self.kv_heads}


@frozen
class Placement:
    """The figures of the chosen flags: weights, cache and overhead, and where they land."""

    dtype: str
    quantization: str | None
    quantization_note: str | None
    weights_bytes: int
    weights_source: str
    kv_cache_bytes: int
    activations_bytes: int
    training_bytes: int | None
    """None for inference."""
    total_bytes: int
    device_map: Any
    per_gpu: tuple[GpuLoad, ...]
    cpu_bytes: int
    disk_bytes: int
    fits: bool | None
    fits_reason: str
    max_context: int | None
    max_memory: dict[str, str] | None = None
    """accelerate's `max_memory` for `device_map="auto"`, when it applies."""
    max_memory_applies: bool = False
    tensor_parallel: TensorParallel | None = None


@frozen
class MemoryLedger:
    """The `memory` object: parameters, cache per token, the placement, and every figure that is unknown."""

    context: int
    batch: int
    task: str
    parameters: ParameterCount | None
    safetensors_parameters: dict[str, int] | None
    kv_cache_bytes_per_token: int | None
    kv_cache: KvCache | None
    placement: Placement | None
    unknown: tuple[tuple[str, str], ...]
    """(figure, why it is unknown), in the order they were found."""
    assumptions: dict[str, Any]
    tensor_parallel_advice: str = ""

    @property
    def fits(self) -> bool | None:
        return self.placement.fits if self.placement else None

    @property
    def per_gpu(self) -> tuple[GpuLoad, ...]:
        return self.placement.per_gpu if self.placement else ()

    def unknown_reason(self, figure: str) -> str | None:
        return next((why for what, why in self.unknown if what == figure), None)

    def to_json(self) -> dict[str, Any]:
        p = self.placement
        out: dict[str, Any] = {"parameters": None, "weights_bytes": None, "kv_cache_bytes_per_token": None,
                               "total_bytes": None, "per_gpu": [], "fits": None, "max_context": None}
        unknown = dict(self.unknown)
        order = [what for what, _ in self.unknown]

        def note(figure: str) -> None:
            if figure in unknown:
                out["unknown"] = {k: unknown[k] for k in order[: order.index(figure) + 1]}

        c = self.parameters
        if c is not None:
            out["parameters"] = c.total
            out["parameters_source"] = c.source
            out["parameters_exact"] = c.exact
            out["parameters_verified"] = c.exact
            if c.uncounted:
                out["uncounted"] = list(c.uncounted)
            if c.notes:
                out["notes"] = list(c.notes)
            out["parameters_by_part"] = dict(c.by_part)
        note("parameters")
        if self.safetensors_parameters:
            out["safetensors_parameters"] = dict(self.safetensors_parameters)
        out["context"], out["batch"], out["task"] = self.context, self.batch, self.task
        if self.kv_cache is not None:
            out["kv_cache_bytes_per_token"] = self.kv_cache_bytes_per_token
            out["kv_cache"] = self.kv_cache.to_json()
        note("kv_cache_bytes_per_token")
        note("ledger")
        if p is None:
            out["assumptions"] = self.assumptions
            return out
        out.update({
            "dtype": p.dtype, "quantization": p.quantization, "quantization_note": p.quantization_note,
            "weights_bytes": p.weights_bytes, "weights_source": p.weights_source,
            "kv_cache_bytes": p.kv_cache_bytes, "activations_bytes": p.activations_bytes,
            "training_bytes": p.training_bytes, "total_bytes": p.total_bytes, "device_map": p.device_map,
            "per_gpu": [g.to_json() for g in p.per_gpu], "cpu_bytes": p.cpu_bytes, "disk_bytes": p.disk_bytes,
            "fits": p.fits, "fits_reason": p.fits_reason,
        })
        out["max_context"] = p.max_context
        note("max_context")
        if p.max_memory_applies:
            out["max_memory"] = p.max_memory
        if p.tensor_parallel is not None:
            out["tensor_parallel"] = {**p.tensor_parallel.to_json(), "advice": self.tensor_parallel_advice}
        out["assumptions"] = self.assumptions
        return out
