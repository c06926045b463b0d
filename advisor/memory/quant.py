"""Bytes per weight: plain dtypes, pre-quantized checkpoints and bitsandbytes on the fly.

Only the `nn.Linear` weights inside the layers are quantized; embeddings, norms, biases and the LM
head stay in the compute dtype. Per-scheme storage (from the quantizers' layouts):
- bitsandbytes 8-bit (LLM.int8): 1 byte per weight (+ an fp32 scale per output row, < 0.1 %, left out);
- bitsandbytes 4-bit: half a byte per weight + an fp32 absmax per block of 64 (double quantization:
  an 8-bit absmax per 64 plus an fp32 per 256 blocks);
- GPTQ / AWQ: `bits`/8 bytes per weight + a 16-bit scale and a `bits`-wide zero point per group;
- fine-grained FP8: 1 byte + an fp32 scale per 128x128 block; dequantized to the compute dtype on a
  GPU below compute capability 8.9 or on the CPU;
- MXFP4 (gpt-oss experts): half a byte + a one-byte scale per 32; dequantized without its kernels.
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import frozen
from advisor.memory.units import Count

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
SAFETENSORS_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4,
                     "I16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F4": 0.5, "U32": 4, "U16": 2}


@frozen
class Scheme:
    """How the quantizable weights are stored once loaded."""

    name: str
    per_weight: float
    """Bytes per quantized weight, scales included."""
    applies_to: str = "linear"
    """linear (layer projections) or experts (MoE expert weights only)."""
    note: str = ""


def bnb_scheme(config: dict[str, Any]) -> Scheme | None:
    """The scheme of a BitsAndBytesConfig given as JSON (the quantization_config flag)."""
    if config.get("load_in_4bit"):
        dq = bool(config.get("bnb_4bit_use_double_quant"))
        per = 0.5 + (1 / 64 + 4 / (64 * 256) if dq else 4 / 64)
        kind = str(config.get("bnb_4bit_quant_type", "fp4"))
        return Scheme(f"bitsandbytes 4-bit {kind}", per, note="0.5 byte per weight + absmax per block of 64")
    if config.get("load_in_8bit"):
        return Scheme("bitsandbytes 8-bit", 1.0, note="1 byte per weight (row scales left out, < 0.1 %)")
    return None


def checkpoint_scheme(method: str | None, qcfg: dict[str, Any], fp8_native: bool | None,
                      mxfp4_native: bool | None) -> Scheme | str | None:
    """The scheme of a pre-quantized checkpoint; a string says why it is unknown; None: not quantized."""
    if method is None:
        return None
    if method == "bitsandbytes":
        return bnb_scheme(qcfg) or "quantization_config names bitsandbytes but neither 4-bit nor 8-bit"
    if method in ("gptq", "awq"):
        bits = qcfg.get("bits", qcfg.get("w_bit", 4))
        group = qcfg.get("group_size", qcfg.get("q_group_size", 128))
        if not isinstance(bits, int) or not isinstance(group, int) or bits <= 0:
            return f"{method}: `bits` / `group_size` are not integers"
        g = group if group > 0 else 1 << 30
        per = bits / 8 + (2 + bits / 8) / g
        return Scheme(f"{method} {bits}-bit, group {group}", per, note="packed weights + fp16 scale and zero per group")
    if method in ("fp8", "fbgemm_fp8"):
        if fp8_native is None:
            return "FP8 stays FP8 only on a GPU with compute capability 8.9+, and the GPU is unknown"
        if fp8_native:
            return Scheme("fp8 (e4m3)", 1 + 4 / (128 * 128), note="1 byte per weight + fp32 scale per 128x128 block")
        return Scheme("fp8 dequantized", 0.0, note="no fp8 tensor cores here: transformers dequantizes to the "
                      "compute dtype")
    if method == "mxfp4":
        if mxfp4_native is None:
            return "MXFP4 stays 4-bit only with its kernels (triton, kernels, compute capability 7.5+), unknown here"
        if mxfp4_native:
            return Scheme("mxfp4", 0.5 + 1 / 32, "experts", "0.5 byte per expert weight + a scale per 32")
        return Scheme("mxfp4 dequantized", 0.0, "experts", "MXFP4 kernels missing: dequantized to bfloat16")
    return f"quantization method `{method}`: advisor does not know its storage layout"


def weight_bytes(count: Count, dtype_bytes: int, scheme: Scheme | None) -> int:
    """Bytes of the weights once loaded."""
    if scheme is None or scheme.per_weight == 0.0:
        return count.total * dtype_bytes
    quantized = count.experts if scheme.applies_to == "experts" else count.linear
    return int((count.total - quantized) * dtype_bytes + quantized * scheme.per_weight)


def unit_bytes(params: int, linear: int, experts: int, dtype_bytes: int, scheme: Scheme | None) -> int:
    """Bytes of one placeable unit."""
    if scheme is None or scheme.per_weight == 0.0:
        return params * dtype_bytes
    q = experts if scheme.applies_to == "experts" else linear
    return int((params - q) * dtype_bytes + q * scheme.per_weight)


def safetensors_bytes(parameters: dict[str, int], dtype_bytes: int, quantized: bool) -> int | None:
    """Bytes from the checkpoint's per-dtype counts: floats in the load dtype, or as stored when quantized."""
    total = 0.0
    for name, n in parameters.items():
        size = SAFETENSORS_BYTES.get(name.upper())
        if size is None:
            return None
        float_type = name.upper() in ("F64", "F32", "F16", "BF16")
        total += n * (dtype_bytes if float_type and not quantized else size)
    return int(total)
