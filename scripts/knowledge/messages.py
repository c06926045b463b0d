"""Messages: every raise, logger call and `warnings.warn` of a file, and the curated keys worth matching."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from knowledge.source import Json, Source, call_name, render, where

# ---------------------------------------------------------------------------------------------------
# Messages: every raise / logger call / warnings.warn of a file
# ---------------------------------------------------------------------------------------------------

LOG_METHODS = {"warning", "warning_once", "warn", "error", "info", "info_once", "warning_advice", "critical"}


@dataclass(frozen=True)
class Message:
    kind: str
    """`raise ValueError`, `log.warning`, `warn FutureWarning`, ..."""
    where: str
    text: str
    function: str

    def row(self) -> list[str]:
        return [self.kind, self.where, self.text]


def scope_of(func: ast.AST) -> dict[str, ast.expr]:
    """Local `name = <string expression>` assignments of a function (first one wins), plus `+=` parts."""
    scope: dict[str, ast.expr] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name not in scope and isinstance(node.value, ast.Constant | ast.JoinedStr | ast.BinOp):
                scope[name] = node.value
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id in scope
            and isinstance(node.op, ast.Add)
        ):
            scope[node.target.id] = ast.BinOp(scope[node.target.id], ast.Add(), node.value)
    return scope


def file_messages(src: Source, rel: str) -> list[Message]:
    """Every raised exception, logger message and `warnings.warn` of one file, in source order."""
    module = src.ast(rel)
    if module is None:
        return []
    out: list[Message] = []
    # module-level message constants (`_MISSING_KERNELS_MESSAGE = (...)`) resolve inside functions too
    module_scope: dict[str, ast.expr] = {
        t.id: stmt.value
        for stmt in module.body
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant | ast.JoinedStr | ast.BinOp)
        for t in stmt.targets
        if isinstance(t, ast.Name)
    }

    def visit(node: ast.AST, qual: str, scope: dict[str, ast.expr]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, f"{qual}.{child.name}" if qual else child.name, {**module_scope, **scope_of(child)})
                continue
            if isinstance(child, ast.ClassDef):
                visit(child, f"{qual}.{child.name}" if qual else child.name, scope)
                continue
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                exc = call_name(child.exc)
                msg = child.exc.args[0] if child.exc.args else None
                out.append(Message(f"raise {exc}", where(rel, child), render(msg, scope), qual))
            elif isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                f = child.func
                owner = f.value.id if isinstance(f.value, ast.Name) else ""
                if f.attr in LOG_METHODS and owner in ("logger", "logging", "log") and child.args:
                    out.append(Message(f"log.{f.attr}", where(rel, child), render(child.args[0], scope), qual))
                elif f.attr == "warn" and owner == "warnings" and child.args:
                    category = child.args[1] if len(child.args) > 1 else None
                    for kw in child.keywords:
                        if kw.arg == "category":
                            category = kw.value
                    cat = ast.unparse(category) if category is not None else "UserWarning"
                    out.append(Message(f"warn {cat}", where(rel, child), render(child.args[0], scope), qual))
            visit(child, qual, scope)

    visit(module, "", module_scope)
    return out


# Files whose messages are indexed (relative to the package; folders end with "/").
MESSAGE_FILES = (
    "modeling_utils.py",
    "modeling_layers.py",
    "models/llama/modeling_llama.py",
    "configuration_utils.py",
    "modeling_flash_attention_utils.py",
    "modeling_rope_utils.py",
    "dynamic_module_utils.py",
    "pytorch_utils.py",
    "utils/import_utils.py",
    "utils/quantization_config.py",
    "utils/generic.py",
    "utils/hub.py",
    "models/auto/",
    "integrations/",
    "quantizers/",
)

# Curated messages worth matching: key -> (regex over the message text, regex over the file or "").
MESSAGE_PATTERNS: dict[str, tuple[str, str]] = {
    "unknown_architecture": (r"does not recognize this architecture", r"configuration_auto"),
    "unknown_model_type_cfg": (r"Unrecognized model in|Should have a `model_type` key", r"configuration_auto"),
    "remote_code_needed": (
        r"trust_remote_code=True|execute the configuration file in that repo",
        r"dynamic_module_utils|auto/",
    ),
    "fa_class_unsupported": (r"does not support Flash Attention", r"modeling_utils"),
    "fa_not_installed": (r"seems to be not installed|doesn't seem to be installed", r"modeling_utils|flash_attention"),
    "fa_min_version": (r"greater or equal than 2\.|requires at least version", r"modeling_utils|flash_attention"),
    "fa_not_on_cpu": (
        r"not available on CPU|model not initialized on GPU|dispatched on CPU or disk",
        r"modeling_utils",
    ),
    "fa_compute_capability": (r"[Ff]lash ?[Aa]ttention ?\d? requires compute capability", r"modeling_utils"),
    "fa3_alibi_dropout": (r"not supported by Flash Attention 3", r"modeling_utils"),
    "fa_dtype": (r"only supports torch\.float16 and torch\.bfloat16", r"modeling_utils"),
    "fa_compatible_swap": (r"compatible with the following flash attention implementations", r"modeling_utils"),
    "fa_softcap": (r"does not support `softcap`", r"flash_attention|integrations/"),
    "fa_bettertransformer": (r"BetterTransformer", r"modeling_utils"),
    "sdpa_class_unsupported": (r"scaled_dot_product_attention yet", r"modeling_utils"),
    "sdpa_torch": (r"PyTorch SDPA requirements", r"modeling_utils"),
    "sdpa_softcap": (r"`sdpa` attention does not support `softcap`|sdpa.*softcap", r"sdpa_attention"),
    "sdpa_output_attentions": (
        r"output_attentions",
        r"sdpa_attention|configuration_utils|modeling_utils|models/llama/",
    ),
    "use_cache_gradient_checkpointing": (
        r"incompatible with gradient checkpointing",
        r"modeling_layers|models/llama/",
    ),
    "flex_class_unsupported": (r"through torch's flex_attention", r"modeling_utils"),
    "flex_requirements": (r"Flex Attention (requirements|is not supported)", r"modeling_utils"),
    "flex_sinks_cpu": (r"Attention sinks cannot be run on CPU", r"flex_attention"),
    "flex_dropout": (r"`flex_attention` does not support `dropout`|flex_attention.*dropout", r"flex_attention"),
    "bettertransformer_optimum": (r"optimum>=|Better ?Transformer", r"modeling_utils"),
    "attn_impl_invalid": (r"is not supported\. The only possible arguments", r"modeling_utils"),
    "paged_prefix": (r"`paged\|` prefix", r"modeling_utils|utils/generic"),
    "use_flash_attention_2": (r"use_flash_attention_2", r"modeling_utils"),
    "kernels_missing": (
        r"kernels` is either not installed|kernels is not installed|pip install kernels|install .*kernels",
        r"hub_kernels|modeling_utils|flash_attention",
    ),
    "dtype_deprecated": (r"`torch_dtype` is deprecated", r""),
    "dtype_invalid": (r"`(torch_)?dtype` can be|`dtype` provided as a `str`", r"modeling_utils"),
    "load_in_bits_deprecated": (
        r"load_in_4bit` and `load_in_8bit` arguments are deprecated"
        r"|load_in_4bit`or `load_in_8bit`|`load_in_8bit` or any other",
        r"modeling_utils",
    ),
    "low_cpu_mem_usage": (r"low_cpu_mem_usage", r"modeling_utils|integrations/accelerate"),
    "accelerate_required": (
        r"requires [`']?[Aa]ccelerate|requires `accelerate`",
        r"modeling_utils|integrations/accelerate",
    ),
    "torch_min": (r"Disabling PyTorch because", r"import_utils"),
    "torch_load_unsafe": (r"vulnerability issue in `torch\.load`", r"import_utils|modeling_utils"),
    "unknown_quantization": (r"Unknown quantization type", r"quantizers/auto"),
    "quant_config_conflict": (
        r"You passed `quantization_config`|quantization_config.*already|different quantization config",
        r"quantizers/auto",
    ),
    "fp8_compute_capability": (
        r"FP8 quantized models is only supported on GPUs with compute capability",
        r"quantizer_finegrained_fp8",
    ),
    "fp8_no_gpu": (r"FP8 quantized models requires a GPU|No GPU (or XPU )?found", r"quantizer_finegrained_fp8"),
    "fp8_activation_scheme": (r"Activation scheme", r"quantization_config"),
    "mxfp4": (r".", r"quantizer_mxfp4"),
    "gptq": (r"(?i)gptq|optimum", r"quantizer_gptq|modeling_utils|integrations/gptq"),
    "awq": (r"(?i)awq", r"quantizer_awq|modeling_utils|integrations/awq"),
    "bnb_backend": (
        r"CUDA is required but not available for bitsandbytes|None of the available devices|No GPU found|requires CUDA",
        r"bitsandbytes|quantizer_bnb",
    ),
    "bnb_version": (
        r"bitsandbytes>=|bitsandbytes version|latest version of bitsandbytes",
        r"quantizer_bnb|bitsandbytes|quantization_config",
    ),
    "bnb_cpu_offload": (r"Some modules are dispatched on the CPU or the disk", r"quantizer_bnb"),
    "rope_unknown_type": (r"Missing validation function", r"modeling_rope_utils|configuration"),
    "rope_bad_keys": (r"(Missing required|Unrecognized) keys in `rope_(scaling|parameters)`", r"modeling_rope_utils"),
    "helper_deprecated": (r"is deprecated and will be removed", r"utils/import_utils|utils/generic"),
    "device_map_invalid": (
        r"When passing device_map as a string|You can't pass device_map as a negative int",
        r"modeling_utils|integrations/accelerate",
    ),
    "gguf": (r"accelerate is required when loading a GGUF|gguf", r"modeling_utils|integrations/ggml|modeling_gguf"),
}


def read_messages(src: Source) -> Json:
    """Curated messages: `{key: [[kind, "file:line", text], ...]}` (only keys with a match)."""
    rels: list[str] = []
    for entry in MESSAGE_FILES:
        rels.extend(src.files(entry) if entry.endswith("/") else [entry] if src.exists(entry) else [])
    messages = [m for rel in rels for m in file_messages(src, rel)]
    out: Json = {}
    for key, (text_re, file_re) in MESSAGE_PATTERNS.items():
        t, f = re.compile(text_re), re.compile(file_re) if file_re else None
        rows: list[list[str]] = []
        seen: set[tuple[str, str]] = set()
        for m in messages:
            if (f is None or f.search(m.where)) and t.search(m.text) and (m.kind, m.text) not in seen:
                if key in ("mxfp4", "gptq", "awq") and not m.kind.startswith(("raise", "log.warning", "warn")):
                    continue
                seen.add((m.kind, m.text))
                rows.append(m.row())
        if rows:
            out[key] = rows
    return out


# ---------------------------------------------------------------------------------------------------
# Requirements (METADATA, dependency_versions_table.py)
