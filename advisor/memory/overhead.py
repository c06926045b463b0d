"""Runtime overhead beyond weights and cache: CUDA context, activations, training state, margin.

The constants, and why:
- CUDA_CONTEXT_BYTES, 0.5 GiB per GPU in use: torch's CUDA context (with lazy module loading) plus the
  cuBLAS workspace measure 300-600 MiB on current drivers; the upper half is taken.
- CATALOG_RESERVE, 5 % of a catalog GPU's total: without an NVML reading the free memory is unknown;
  the display, other processes and the driver's own pools usually hold a few percent.
- UNIFIED_GPU_SHARE, 75 % of an Apple silicon machine's memory for the GPU: torch's MPS allocator budgets
  against Metal's recommendedMaxWorkingSetSize, "typically 75% of the total system memory" (torch 2.13
  include/ATen/mps/MPSAllocator.h L421); its high watermark (1.7x that, L354) lets allocations go on into
  swap, so the plan stops at the recommended size. The rest of the pool is what CPU offload can use.
- MARGIN, 10 % of what lands on a GPU: the caching allocator's fragmentation and this estimate's own
  error (the activation figure is a model, not a measurement).
- ESTIMATE_MARGIN, 5 % more of the weights when the parameter count is an estimate, not exact.
- Inference activations: one decoder layer's prefill working set, batch x context x (4 hidden + 3
  intermediate) elements (residual, normed input, attention output; gate, up and their product),
  plus fp32 logits of the last position (transformers 5 computes only those while generating).
  Eager attention adds the batch x heads x context^2 score matrix in the compute dtype and its fp32
  softmax; sdpa and flash kernels never build it.
- Training: gradients in the weights' dtype, AdamW's two fp32 moments (8 bytes per parameter) and,
  for 16-bit weights, an fp32 master copy (4 bytes): 16 bytes per parameter in mixed precision.
  Activations without checkpointing: 34 x batch x context x hidden bytes per layer at 16 bits
  (Korthikanti et al. 2022, with a fused attention kernel), plus fp32 logits and their gradient.
"""

from __future__ import annotations

from advisor.core.frozen import frozen

GIB = 1 << 30
CUDA_CONTEXT_BYTES = GIB // 2
CATALOG_RESERVE = 0.05
MARGIN = 0.10
UNIFIED_GPU_SHARE = 0.75
UNIFIED_SOURCE = ("75 % of the unified memory: Metal's recommendedMaxWorkingSetSize, typically 75 % "
                  "(torch MPSAllocator.h)")
ESTIMATE_MARGIN = 0.05
"""Added to the weights of an estimated count (beside MARGIN): the estimate errs high and the tests hold it to at
most 1 % below transformers' own count on every architecture transformers has, but a real config can differ
from the default ones it is checked on."""
ADAM_BYTES = 8
MASTER_BYTES = 4
TRAIN_ACT_PER_LAYER = 34


@frozen
class Shape:
    """The sizes the overhead model needs."""

    hidden: int
    intermediate: int
    """Active MLP width per token (MoE: routed top-k times the expert width, plus shared experts)."""
    heads: int
    layers: int
    vocab: int
    kv_heads: int = 0


def inference_activations(shape: Shape, batch: int, context: int, dtype_bytes: int, eager: bool) -> int:
    """Peak working set of one layer during prefill, plus the last position's fp32 logits."""
    tokens = batch * context
    work = tokens * (4 * shape.hidden + 3 * shape.intermediate) * dtype_bytes
    if eager:
        work += batch * shape.heads * context * context * (dtype_bytes + 4)
    return work + batch * shape.vocab * 4 * 3


def training_state(params: int, dtype_bytes: int) -> int:
    """Gradients, AdamW moments and (for 16-bit weights) the fp32 master copy."""
    return params * (dtype_bytes + ADAM_BYTES + (MASTER_BYTES if dtype_bytes < 4 else 0))


def training_activations(shape: Shape, batch: int, context: int, dtype_bytes: int) -> int:
    """Stored activations for the backward pass, without gradient checkpointing."""
    per_layer = TRAIN_ACT_PER_LAYER * batch * context * shape.hidden * dtype_bytes // 2
    return per_layer * shape.layers + 2 * batch * context * shape.vocab * 4
