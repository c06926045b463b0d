"""The memory figures rules may read (`memory.NAME`): each with its kind, what it says, and the flags it reads.

The rule loader refuses a `memory.*` name that is not here, as it refuses any unknown fact, and refuses a
rule about one flag that reads a figure depending on a flag decided after it. `MemoryPlan` computes
each figure in a method `_f_NAME` (a test keeps the two in step).
"""

from __future__ import annotations

from advisor.core.frozen import frozen

LEDGER = ("dtype", "attn_implementation", "quantization_config", "device_map")
"""The flags a full ledger depends on: weights (dtype, quantization), activations (eager attention),
placement (device_map)."""
SPREAD = ("dtype", "attn_implementation", "quantization_config")
"""A placement over every GPU whatever the device_map says."""


@frozen
class Figure:
    """One figure of the memory plan."""

    kind: str
    doc: str
    reads: tuple[str, ...]
    """The flags (canonical names) whose values the figure depends on."""


FIGURES: dict[str, Figure] = {
    "fits": Figure("bool", "everything fits where the device_map puts it (GPUs, CPU within host memory)", LEDGER),
    "fits_gpus": Figure("bool", "the GPUs together hold weights, cache and overhead, nothing on the CPU", SPREAD),
    "fits_gpus_4bit": Figure("bool", "the GPUs together would hold it quantized to bitsandbytes 4-bit",
                             ("dtype", "attn_implementation")),
    "single_gpu": Figure("bool", "the device_map puts the whole model on one GPU", ("device_map",)),
    "count_known": Figure("bool", "the parameters are counted (exactly or as an estimate)", ()),
    "count_source": Figure("str", "how the parameters were counted, or why they could not be", ()),
    "count_estimated": Figure("bool", "the parameter count is an estimate (it errs high), not exact", ()),
    "quant_bits": Figure("number", "bits of the bitsandbytes quantization asked for; None when none",
                         ("quantization_config",)),
    "single_gpu_map": Figure("any", "the device_map for the GPU with the most room", ()),
    "bnb_8bit": Figure("any", "the quantization_config for bitsandbytes 8-bit", ()),
    "bnb_4bit": Figure("any", "the quantization_config for bitsandbytes 4-bit NF4 in the compute dtype", ("dtype",)),
    "max_memory": Figure("any", "accelerate's max_memory per GPU for device_map=\"auto\"", SPREAD),
    "offload_gib": Figure("number", "GiB that land on the CPU or disk", LEDGER),
    "gpu_split": Figure("str", "GiB on each GPU used, in words", LEDGER),
    "gpus_used": Figure("number", "how many GPUs hold part of the model", LEDGER),
    "need_gib": Figure("number", "GiB the whole run needs, over every device, where the device_map puts it", LEDGER),
    "need_gpus_gib": Figure("number", "GiB the whole run needs spread over the GPUs (device_map=\"auto\")", SPREAD),
    "have_gib": Figure("number", "GiB the GPUs have for the model, together", ()),
    "weights_gib": Figure("number", "GiB of the weights once loaded", ("dtype", "quantization_config")),
    "unquantized_gib": Figure("number", "GiB of the weights without quantization", ("dtype",)),
    "slowdown": Figure("str", "seconds per forward pass spent streaming offloaded weights", LEDGER),
    "single_machine": Figure("bool", "eight GPUs of this kind (one machine) hold it with tensor parallelism",
                             LEDGER),
    "tp_sizes": Figure("str", "the tensor-parallel sizes that divide the heads, and the smallest that holds it",
                       LEDGER),
}


def figure_kind(name: str) -> str | None:
    """The kind of `memory.NAME`, or None when there is no such figure."""
    found = FIGURES.get(name.removeprefix("memory."))
    return found.kind if found is not None and name.startswith("memory.") else None
