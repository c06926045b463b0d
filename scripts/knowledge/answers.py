"""Answers: the flat facts the rules ask, derived from the sections of one release table."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.source import Json


def _rows(table: Json, key: str) -> list[list[str]]:
    rows: list[list[str]] = table.get("messages", {}).get(key, [])
    return rows


def _first_version(pattern: str, texts: Iterable[str]) -> str | None:
    for text in texts:
        if m := re.search(pattern, text):
            return m.group(1)
    return None


def derive_answers(table: Json) -> Json:
    """One flat block of answers a rule needs for this release, each derived from the sections (and the
    messages) of the same table; `None` where the release has no such thing.

    fa2_min / fa2_min_rocm   flash-attn version floor that flash_attention_2 checks (CUDA / ROCm)
    fa3_cc_min / fa4_cc_min  compute capability FA3 / FA4 require ("9.0", "8" = major only, ...)
    fa2_flag                 class flags that count as FA2 support (legacy `_supports_flash_attn_2`?)
    fa_device_check_at_load  flash_attention_2 raises at load for a device_map holding cpu/disk
    fa_dtype_fp32            what flash attention does with a float32 model: raise | warn
    sdpa_softcap / fa_softcap   raise (ValueError at run time) or drop (softcap silently ignored)
    sdpa_torch_min / flex_torch_min   torch floor checked when sdpa / flex_attention is requested
    hub_kernels              `org/repo` | `org/repo:fn` | `org/repo[@rev][:fn]` forms accepted, or None
    kernels                  [min, max or None] of the `kernels` package, [] = any importable version
    torch_min / accelerate_min / bitsandbytes_min   floors checked at import / load
    unknown_model_type       ValueError (does not recognize this architecture) | KeyError
    unknown_rope_type        raise | warn (then KeyError in ROPE_INIT_FUNCTIONS) | per-model
    unknown_quant_method     raise | warn-skip (checkpoint config)
    default_dtype            "auto" (checkpoint dtype) or None (float32)
    dtype_kwarg              "dtype" or "torch_dtype"
    bettertransformer        model.to_bettertransformer() exists
    resolves_revision        from_pretrained resolves the revision to a commit once
    fa3_alibi_dropout        flash_attention_3 refuses ALiBi and attention dropout (ValueError)
    flex_dropout             flex_attention refuses attention dropout in training (ValueError)
    flex_sinks_cpu           flex_attention refuses attention sinks on the CPU (ValueError)
    compatible_swap          a class's `_compatible_flash_implementations` replace the flash implementation asked
    hub_kernel_needs_flash   a Hub flash kernel also needs the class's `_supports_flash_attn` (ValueError)
    output_attentions        {explicit, default}: output_attentions=True with a non-eager implementation asked
                             for / left to the default: raise | eager (dispatched) | fallback (per call, warned)
    gc_disables_cache        `use_cache=True` with gradient checkpointing in training is switched off (warning)
    bnb_min_4bit / bnb_min_8bit   the bitsandbytes version 4-bit / 8-bit loading checks
    evidence                 file:line where each answer was read, where one place says it
    """
    attn = table["attention"]
    kw = table["from_pretrained"].get("keywords", {})
    pk = table["packages"]
    minv = pk.get("min_versions", {})
    fa_min_texts = [r[2] for r in _rows(table, "fa_min_version")]
    fa2_min = _first_version(r"requires at least version `(\d[\d.]*)`", fa_min_texts) or _first_version(
        r"greater or equal than (2\.1\.0)", fa_min_texts
    )
    rocm = _first_version(r"greater or equal than (2\.0\.4)", fa_min_texts)
    matrix = attn.get("flash_matrix", {})
    cc_texts = [r[2] for r in _rows(table, "fa_compute_capability")]
    fa3_cc = _first_version(r"Flash Attention 3 requires compute capability >= ([\d.]+)", cc_texts)
    if fa3_cc is None and "3" in matrix and "cuda_min_major" in matrix["3"]:
        fa3_cc = str(matrix["3"]["cuda_min_major"])
    fa4_cc = str(matrix["4"]["cuda_min_major"]) if "4" in matrix and "cuda_min_major" in matrix["4"] else None
    dtype_rows = _rows(table, "fa_dtype")
    patterns = attn.get("hub_kernel_patterns", [])
    hub = None
    if patterns:
        p = patterns[-1]
        hub = "org/repo[@rev][:fn]" if "@" in p else "org/repo[:fn]" if ":?" in p else "org/repo:fn"
    kernels: list[str | None] | None = None
    if "KERNELS_MIN_VERSION" in minv:
        kernels = [minv["KERNELS_MIN_VERSION"], minv.get("KERNELS_MAX_VERSION")]
    elif "is_kernels_available" in pk.get("available", {}) or any(
        "kernels" in r[2] for r in _rows(table, "kernels_missing")
    ):
        kernels = []
    helpers = set(table["helpers"]["names"])
    if "is_kernels_available" in helpers and kernels is None:
        kernels = []
    accelerate = minv.get("ACCELERATE_MIN_VERSION") or pk.get("available", {}).get("is_accelerate_available", {}).get(
        "min_version"
    )
    bnb = minv.get("BITSANDBYTES_MIN_VERSION")
    sdpa_torch = _first_version(r"torch>=(\d+(?:\.\d+)*)", [r[2] for r in _rows(table, "sdpa_torch")])
    flex_torch = _first_version(r"torch>=(\d+(?:\.\d+)*)", [r[2] for r in _rows(table, "flex_requirements")])
    rope_rows = _rows(table, "rope_unknown_type")
    rope = "per-model" if not rope_rows else "raise" if rope_rows[0][0].startswith("raise") else "warn"
    quant_rows = _rows(table, "unknown_quantization")
    summary = table["quantization"].get("summary", {}).get("bnb", {})
    bnb_4 = _newest(bnb, summary.get("min_4bit"))
    bnb_8 = _newest(bnb, summary.get("min_8bit"))
    swap_rows = _rows(table, "fa_compatible_swap")
    hub_flash_rows = [r for r in _rows(table, "fa_class_unsupported") if "cannot use the" in r[2]]
    gc_rows = _rows(table, "use_cache_gradient_checkpointing")
    alibi_rows = [r for r in _rows(table, "fa3_alibi_dropout") if r[0].startswith("raise")]
    flex_rows = [r for r in _rows(table, "flex_dropout") if r[0].startswith("raise")]
    sink_rows = [r for r in _rows(table, "flex_sinks_cpu") if r[0].startswith("raise")]
    evidence = {
        "fa2_min": _place(table, "fa_min_version", r"2\.3\.3|2\.1\.0"),
        "fa2_min_rocm": _place(table, "fa_min_version", r"2\.0\.4"),
        "fa3_cc_min": _place(table, "fa_compute_capability", r"Flash Attention 3"),
        "fa3_alibi_dropout": alibi_rows[0][1] if alibi_rows else None,
        "flex_dropout": flex_rows[0][1] if flex_rows else None,
        "flex_sinks_cpu": sink_rows[0][1] if sink_rows else None,
        "sdpa_softcap": _place(table, "sdpa_softcap", ""),
        "fa_softcap": _place(table, "fa_softcap", r"flash attention implementation"),
        "sdpa_torch_min": _place(table, "sdpa_torch", ""),
        "flex_torch_min": _place(table, "flex_requirements", r"torch>="),
        "hub_kernels": attn.get("hub_kernel_where"),
        "compatible_swap": swap_rows[0][1] if swap_rows else None,
        "hub_kernel_needs_flash": hub_flash_rows[0][1] if hub_flash_rows else None,
        "output_attentions": attn.get("output_attentions", {}).get("where"),
        "gc_disables_cache": gc_rows[0][1] if gc_rows else None,
        "torch_min": _place(table, "torch_min", ""),
        "unknown_model_type": _place(table, "unknown_architecture", ""),
        "unknown_rope_type": _place(table, "rope_unknown_type", ""),
        "unknown_quant_method": _place(table, "unknown_quantization", ""),
        "default_dtype": (table["from_pretrained"].get("default_dtype") or [None, None])[1],
        "fa_dtype_fp32": dtype_rows[0][1] if dtype_rows else None,
    }
    return {
        "fa2_min": fa2_min,
        "fa2_min_rocm": rocm,
        "fa3_cc_min": fa3_cc,
        "fa4_cc_min": fa4_cc,
        "fa2_flag": attn["era"]["fa2"],
        "fa_device_check_at_load": any("dispatched on CPU or disk" in r[2] for r in _rows(table, "fa_not_on_cpu")),
        "fa_dtype_fp32": "raise"
        if any(r[0].startswith("raise") for r in dtype_rows)
        else "warn"
        if dtype_rows
        else None,
        "sdpa_softcap": "raise" if _rows(table, "sdpa_softcap") else "drop",
        "fa_softcap": "raise"
        if any("flash attention implementation" in r[2] for r in _rows(table, "fa_softcap"))
        else "drop",
        "sdpa_torch_min": sdpa_torch,
        "flex_torch_min": flex_torch,
        "hub_kernels": hub,
        "kernels": kernels,
        "torch_min": pk.get("torch_min"),
        "accelerate_min": accelerate,
        "bitsandbytes_min": bnb,
        "unknown_model_type": "ValueError" if _rows(table, "unknown_architecture") else "KeyError",
        "unknown_rope_type": rope,
        "unknown_quant_method": "warn-skip"
        if any(r[0].startswith("log") for r in quant_rows)
        else "raise"
        if quant_rows
        else None,
        "default_dtype": (table["from_pretrained"].get("default_dtype") or [None])[0],
        "dtype_kwarg": "dtype" if "dtype" in kw else "torch_dtype",
        "bettertransformer": "bettertransformer" in attn,
        "resolves_revision": "resolve_revision" in table["from_pretrained"].get("calls", []),
        "fa3_alibi_dropout": bool(alibi_rows),
        "flex_dropout": bool(flex_rows),
        "flex_sinks_cpu": bool(sink_rows),
        "compatible_swap": bool(swap_rows),
        "hub_kernel_needs_flash": bool(hub_flash_rows),
        "output_attentions": {k: v for k, v in attn.get("output_attentions", {}).items() if k != "where"},
        "gc_disables_cache": bool(gc_rows),
        "bnb_min_4bit": bnb_4,
        "bnb_min_8bit": bnb_8,
        "evidence": {k: v for k, v in evidence.items() if v},
    }


def _newest(*versions: str | None) -> str | None:
    """The highest of some version strings (None when there is none)."""
    from packaging.version import Version

    found = [v for v in versions if v]
    return max(found, key=Version) if found else None


def _place(table: Json, key: str, pattern: str) -> str | None:
    """`file:line` of the first message under `key` whose text matches `pattern`."""
    for row in _rows(table, key):
        if re.search(pattern, row[2]):
            return row[1]
    return None

