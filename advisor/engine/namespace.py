"""The names rules read, their kinds, and the namespace built from a Facts bundle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from packaging.version import InvalidVersion, Version

from advisor.core.fact import Fact
from advisor.core.logic import Unknown
from advisor.engine.keywords import SETS as KEYWORD_SETS
from advisor.facts.bundle import Facts, Request
from advisor.facts.software import EXTENSION_MODULES, RELEVANT_DISTS
from advisor.memory.figures import figure_kind

FACT_KINDS: dict[str, tuple[str, str]] = {
    "gpu.present": ("bool", "the target has at least one GPU"),
    "gpu.count": ("number", "number of GPUs visible to CUDA"),
    "gpu.name": ("str", "name of the first GPU"),
    "gpu.cc": ("version", "lowest compute capability among the visible GPUs, e.g. 8.0; None on AMD and Apple"),
    "gpu.vendor": ("str", "nvidia, amd or apple (the first GPU's; mixed vendors make it unknown)"),
    "gpu.gfx": ("str", "AMD LLVM target of the first GPU, e.g. gfx942; None on other vendors"),
    "gpu.unified_memory": ("bool", "the GPU shares the machine's memory (Apple silicon)"),
    "os.macos": ("version", "the macOS release; None on another OS"),
    "env.flash_attn_triton_amd": ("bool", "FLASH_ATTENTION_TRITON_AMD_ENABLE=TRUE (flash-attn's Triton backend, ROCm)"),
    "torch.mps": ("bool", "the torch wheel is a macOS arm64 build (it drives Apple GPUs through MPS)"),
    "gpu.memory_gib": ("number", "smallest total memory among the visible GPUs, GiB"),
    "gpu.bf16": ("bool", "every GPU computes bfloat16 natively (compute capability 8.0+)"),
    "gpu.fp8": ("bool", "every GPU has fp8 tensor cores (compute capability 8.9+)"),
    "gpu.arch": ("str", "architecture family of the first GPU"),
    "gpu.mig": ("bool", "a GPU is split into MIG instances"),
    "gpu.busy": ("bool", "another process already holds memory on a GPU"),
    "driver.cuda": ("version", "newest CUDA version the driver supports"),
    "cpu.bf16": ("bool", "the CPU computes bfloat16 natively (AVX512-BF16, AMX-BF16, arm64 bf16)"),
    "cpu.cores": ("number", "CPU cores available"),
    "cpu.memory_gib": ("number", "host memory, GiB"),
    "torch.cuda": ("version", "CUDA version torch was built with; None for CPU or ROCm builds"),
    "torch.hip": ("version", "ROCm version torch was built with"),
    "torch.runs_on_gpu": ("bool", "the torch wheel holds kernels for the GPU's architecture"),
    "transformers.version": ("version", "the target transformers version"),
    "transformers.table": ("version", "the release whose knowledge table answers for the target"),
    "transformers.table_note": ("str", "why that table is not the target's own (newer, unpublished); None if it is"),
    "transformers.attn_implementations": ("set", "attn_implementation names the target accepts"),
    "transformers.fa2_min": ("version", "flash-attn version the target checks for flash_attention_2"),
    "transformers.fa2_min_rocm": ("version", "the same on ROCm; None when the target has no separate floor"),
    "transformers.fa2_flags": ("set", "class attributes the target reads as FA2 support (_supports_flash_attn...)"),
    "transformers.fa3_cc_min": ("version", "compute capability the target requires for flash_attention_3"),
    "transformers.fa4_cc_min": ("version", "compute capability the target requires for flash_attention_4"),
    "transformers.fa3_alibi_dropout": ("bool", "the target refuses flash_attention_3 with ALiBi or attention dropout"),
    "transformers.fa_dtype_fp32": ("str", "flash attention with float32 at load: raise or warn"),
    "transformers.fa_softcap": ("str", "flash attention with attention softcapping: raise or drop"),
    "transformers.sdpa_softcap": ("str", "sdpa with attention softcapping: raise or drop (silently)"),
    "transformers.sdpa_torch_min": ("version", "torch version the target checks for sdpa; None when none"),
    "transformers.flex_torch_min": ("version", "torch version the target checks for flex_attention; None when none"),
    "transformers.flex_dropout": ("bool", "the target refuses flex_attention with attention dropout in training"),
    "transformers.flex_sinks_cpu": ("bool", "the target refuses flex_attention with attention sinks on the CPU"),
    "transformers.hub_kernel_forms": ("set", "Hub kernel forms attn_implementation accepts (org/repo, org/repo:fn)"),
    "transformers.hub_kernel_needs_flash": ("bool", "a Hub flash kernel also needs the class's flash support"),
    "transformers.kernels": ("bool", "the target uses the kernels package (Hub kernels, MXFP4)"),
    "transformers.kernels_min": ("version", "lowest kernels version the target accepts; None: any that imports"),
    "transformers.kernels_max": ("version", "kernels version the target refuses from; None: no upper bound"),
    "transformers.kernels_range": ("str", "the kernels versions the target accepts, as text"),
    "transformers.rocm_kernel_fallback": ("set", "flash implementations the target serves on ROCm from the aiter "
                                              "Hub kernel when flash-attn is missing (FLASH_ATTN_KERNEL_FALLBACK)"),
    "transformers.fa_kernel_fallback": ("set", "flash implementations the target serves from a Hub kernel "
                                               "when flash-attn is missing and kernels is installed"),
    "transformers.compatible_swap": ("bool", "a class's _compatible_flash_implementations replace other flash "
                                             "implementations"),
    "transformers.torch_min": ("version", "torch below which the target disables torch; None when it has none"),
    "transformers.accelerate_min": ("version", "accelerate version the target requires"),
    "transformers.bnb_min_4bit": ("version", "bitsandbytes version the target checks for 4-bit; None when none"),
    "transformers.bnb_min_8bit": ("version", "bitsandbytes version the target checks for 8-bit; None when none"),
    "transformers.bnb_cpu": ("str", "bitsandbytes without a GPU: raise, multi_backend or supported_torch_devices "
                                    "(bitsandbytes decides)"),
    "transformers.keywords": ("set", "keywords from_pretrained, the Auto classes or the config consume"),
    "transformers.keywords_ignored": ("set", "keywords from_pretrained pops and drops"),
    "transformers.keywords_deprecated": ("set", "keywords from_pretrained warns are deprecated"),
    "transformers.deprecations": ("any", "the deprecation warning of each deprecated keyword"),
    "transformers.default_dtype": ("str", "the dtype from_pretrained uses when none is given (auto); None: float32"),
    "transformers.bettertransformer": ("bool", "models have to_bettertransformer()"),
    "transformers.resolves_revision": ("bool", "from_pretrained resolves the revision to one commit per load"),
    "transformers.output_attentions_explicit": ("str", "output_attentions=True with a non-eager implementation "
                                                       "asked for: raise or fallback"),
    "transformers.output_attentions_default": ("str", "output_attentions=True with the default implementation: "
                                                      "eager (dispatched), raise or fallback"),
    "transformers.gc_disables_cache": ("bool", "gradient checkpointing in training switches use_cache off"),
    "transformers.quant_methods": ("set", "quantization methods the target knows"),
    "transformers.unknown_quant_method": ("str", "an unknown quant_method: raise or warn-skip (loads unquantized)"),
    "transformers.fp8_activation_schemes": ("set", "FP8 activation schemes the target accepts"),
    "transformers.mxfp4_triton_min": ("version", "triton version MXFP4 kernels need"),
    "transformers.mxfp4_kernels": ("bool", "MXFP4 kernels also need the kernels package"),
    "transformers.mxfp4_missing_kernels": ("str", "MXFP4 without its kernels: dequantize or raise"),
    "transformers.gptq_backends": ("set", "distributions the target loads GPTQ through"),
    "transformers.gptq_needs_optimum": ("bool", "GPTQ also needs optimum"),
    "transformers.gptqmodel_min": ("version", "gptqmodel version the GPTQ quantizer checks"),
    "transformers.gptq_optimum_min": ("version", "optimum version the GPTQ quantizer checks with gptqmodel"),
    "transformers.auto_gptq_min": ("version", "auto-gptq version the GPTQ quantizer checks"),
    "transformers.awq_backends": ("set", "distributions the target loads AWQ through"),
    "transformers.rope_types": ("set", "rope types the target validates or builds (4.43+); empty: per model"),
    "transformers.unknown_rope_type": ("str", "an unknown rope type: raise, warn (then KeyError) or per-model"),
    "transformers.unknown_model_type": ("str", "what an unknown model_type raises: ValueError or KeyError"),
    "flash_attn.install_hint": ("str", "the flash-attn wheel that fits the target's torch, or why none does"),
    "model.model_type": ("str", "config.json model_type"),
    "model.architecture": ("str", "config.json architectures[0]"),
    "model.head_dim": ("number", "attention head dimension"),
    "model.max_head_dim": ("number", "the widest attention head any layer uses, keys or values (per-layer too)"),
    "model.num_heads": ("number", "query heads"),
    "model.num_kv_heads": ("number", "key/value heads"),
    "model.sliding_window": ("number", "attention window; None when no layer uses one"),
    "model.softcap": ("number", "attention logit softcapping; None when absent"),
    "model.rope_type": ("str", "rotary scaling type"),
    "model.alibi": ("bool", "ALiBi position biases"),
    "model.mla": ("bool", "multi-head latent attention"),
    "model.moe": ("bool", "mixture of experts"),
    "model.encoder_decoder": ("bool", "encoder-decoder model"),
    "model.has_attention": ("bool", "the model has attention layers (SSMs may not)"),
    "model.attention_dropout": ("number", "attention dropout probability"),
    "model.checkpoint_dtype": ("str", "dtype the checkpoint was saved in"),
    "model.quant_method": ("str", "quantization method of a pre-quantized checkpoint; None if not"),
    "model.config_attn_impl": ("str", "attention implementation written in config.json"),
    "model.remote_code": ("bool", "config.json has auto_map (remote code)"),
    "model.config_keys": ("set", "the top-level keys of config.json (attributes the config takes keywords for)"),
    "model.legacy_keys": ("set", "legacy remote-code flash switches in the config or read by its code"),
    "model.source": ("str", "local, hub, cache or catalog"),
    "model.commit": ("str", "commit the revision resolved to"),
    "model.revision": ("str", "revision as requested"),
    "model.revision_kind": ("str", "commit, branch, tag or pr"),
    "model.native_equivalent": ("str", "native model_type that replaced this remote-code model_type"),
    "arch.native": ("bool", "model_type is native in the target transformers"),
    "arch.model_type_known": ("bool", "the target transformers has the config's model_type (CONFIG_MAPPING)"),
    "arch.native_equivalent": ("bool", "the native equivalent model_type exists in the target transformers"),
    "arch.sdpa": ("bool", "the model class supports sdpa in the target transformers"),
    "arch.flash2": ("bool", "the model class supports flash_attention_2 in the target transformers"),
    "arch.flash3": ("bool", "the model class supports flash_attention_3 in the target transformers"),
    "arch.flex": ("bool", "the model class supports flex_attention in the target transformers"),
    "arch.compatible_flash": ("set", "flash implementations the class lists as compatible"),
    "arch.known_in": ("str", "which transformers releases have the model_type (when the target does not)"),
    "arch.added_in": ("version", "the release that adds the model_type, when one newer than the target does"),
    "arch.attention_sinks": ("bool", "the model's attention passes sinks (s_aux) to the attention functions"),
    "arch.flash_swap": ("str", "what the class puts in place of another flash implementation; None: no swap"),
    "arch.flash_swap_kernel": ("bool", "that replacement is a Hub kernel (org/repo)"),
    "rope.outcome": ("str", "the target with the model's rope type: ok, refused, ignored or unchecked"),
    "rope.accepted": ("set", "rope types the model's config class accepts in the target"),
    "rope.where": ("str", "where the target checks the rope type"),
    "quant.known": ("bool", "the target knows the checkpoint's quantization method"),
    "quant.cc_min": ("version", "compute capability the target's quantizer checks for this method"),
    "quant.below_cc": ("str", "below it: raise or dequantize"),
    "quant.no_gpu": ("str", "without a GPU: raise or dequantize; None when the quantizer does not check"),
    "quant.where": ("str", "where the target's quantizer checks those"),
    "quant.activation_scheme": ("str", "quantization_config.activation_scheme of the checkpoint"),
    "quant.dequantized": ("bool", "the checkpoint loads dequantized to the compute dtype on this target"),
    "quant.bnb_min": ("version", "bitsandbytes version the target checks for this checkpoint's bits"),
    "optimum.bettertransformer": ("bool", "the installed optimum has BetterTransformer"),
    "optimum.bt_refusal": ("str", "why the installed optimum refuses this model; None when it converts it"),
    "optimum.bt_deprecated": ("bool", "the installed optimum warns that BetterTransformer is deprecated"),
    "remote.hard_imports": ("set", "modules the remote code imports at module level"),
    "remote.optional_imports": ("set", "modules the remote code imports inside try/except or functions"),
    "remote.names": ("set", "dotted names the remote code imports"),
    "remote.removed_helpers": ("set", "transformers.utils names the remote code imports that the target lacks"),
    "remote.deprecated_helpers": ("set", "transformers.utils names the remote code imports that the target "
                                         "announces as removed"),
    "remote.missing_dists": ("set", "distributions the remote code needs that are not installed"),
    "remote.fa2_only": ("bool", "remote classes set only the legacy _supports_flash_attn_2"),
    "request.dtype": ("str", "dtype asked for"),
    "request.task": ("str", "inference or training"),
    "request.offline": ("bool", "no network at load time"),
    "request.context": ("number", "context length asked for"),
    "request.batch": ("number", "batch size asked for"),
    "kwargs.unknown": ("set", "keywords passed that the target does not consume (with a close match, if any)"),
    "kwargs.typos": ("set", "keywords passed that look like a misspelt known keyword"),
    "kwargs.ignored": ("set", "keywords passed that the target pops and drops"),
    "kwargs.deprecated": ("set", "keywords passed that the target warns are deprecated, with its warning"),
    "value": ("any", "the candidate value of the flag being decided"),
}
PREFIX_KINDS: dict[str, tuple[str, str]] = {
    "pkg.": ("version", "installed version of a distribution; None when not installed"),
    "imports.": ("bool", "the distribution's modules import without error"),
    "module.": ("bool", "the compiled extension module is importable"),
    "flag.": ("any", "the value of a from_pretrained flag (canonical name)"),
    "kwarg.": ("any", "a keyword exactly as passed (e.g. kwarg.torch_dtype)"),
    "import_error.": ("str", "first line of the error when the distribution failed to import"),
}


def fact_kind(name: str) -> str | None:
    """The kind of a fact name, or None when rules may not use it."""
    if name in FACT_KINDS:
        return FACT_KINDS[name][0]
    if name.startswith("memory."):
        return figure_kind(name)
    for prefix, (kind, _) in PREFIX_KINDS.items():
        if name.startswith(prefix) and len(name) > len(prefix):
            rest = name[len(prefix):]
            if prefix in ("pkg.", "imports.", "import_error.") and rest.replace("_", "-") not in RELEVANT_DISTS:
                return None
            if prefix == "module." and rest not in EXTENSION_MODULES:
                return None
            return kind
    return None


def _v(fact: Fact[Any], name: str) -> Any:
    if not fact.known:
        return Unknown(name, fact.reason or "unknown")
    return fact.value


def _version(value: object) -> Version | None:
    if value is None or isinstance(value, Version):
        return value
    try:
        return Version(str(value))
    except InvalidVersion:
        return None


def build_namespace(facts: Facts) -> dict[str, Any]:
    """Flatten a Facts bundle into the names rules read (values, None, or Unknown)."""
    ns: dict[str, Any] = {}
    ns.update(_part(_hardware, facts, (facts.hardware,)))
    ns.update(_part(_software, facts, (facts.software, facts.transformers)))
    ns.update(_part(_model, facts, (facts.model, facts.remote, facts.arch)))
    ns.update(_request(facts.request))
    ns.update(dict.fromkeys(KEYWORD_SETS, frozenset()))  # check mode fills them from the keywords passed
    ns.update(_named(facts.extra))
    ns.update(_named(facts.gpu_extra))
    return ns


def _named(extra: dict[str, Fact[Any]]) -> dict[str, Any]:
    """The further facts as the rules read them (`_v`, inlined)."""
    return {name: fact.value if fact.reason is None else Unknown(name, fact.reason or "unknown")
            for name, fact in extra.items()}


def namespace_layers(facts: Facts) -> tuple[dict[str, Any], dict[str, Any]]:
    """The namespace in two layers, BASE and the hardware LAYER laid over it ({**base, **layer} has
    build_namespace's names and values): BASE reads nothing of the hardware (software, model, request, the
    derived facts of `extra`), once per those parts, so every GPU target of a matrix shares it; LAYER is the
    hardware's names and the derived facts that read it (`gpu_extra`). Neither may be changed."""
    software = _part(_software, facts, (facts.software, facts.transformers))
    model = _part(_model, facts, (facts.model, facts.remote, facts.arch))
    parts = (software, model, facts.request, facts.extra)
    key = tuple(map(id, parts))
    hit = _BASES.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], parts, strict=True)):
        if len(_BASES) > 1024:
            _BASES.clear()
        base = {**software, **model, **_request(facts.request), **dict.fromkeys(KEYWORD_SETS, frozenset()),
                **_named(facts.extra)}
        hit = _BASES[key] = (parts, base)
    return hit[1], {**_part(_hardware, facts, (facts.hardware,)), **_named(facts.gpu_extra)}


_BASES: dict[tuple[int, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}


def _request(req: Request) -> dict[str, Any]:
    return {"request.dtype": req.dtype, "request.task": req.task, "request.offline": req.offline,
            "request.context": req.context, "request.batch": req.batch}


_PARTS: dict[tuple[Any, ...], tuple[tuple[Any, ...], dict[str, Any]]] = {}


def _part(fill: Callable[[dict[str, Any], Facts], None], facts: Facts, reads: tuple[Any, ...]) -> dict[str, Any]:
    """The names FILL writes, from the parts of FACTS it READS (and nothing else), once per those parts: a
    policy matrix builds a namespace per case from a few hardware, software and model parts. Each part writes
    only its own names, so merging them in order gives the same namespace as filling one dict."""
    key = (fill, *map(id, reads))
    hit = _PARTS.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], reads, strict=True)):
        if len(_PARTS) > 1024:
            _PARTS.clear()
        part: dict[str, Any] = {}
        fill(part, facts)
        hit = _PARTS[key] = (reads, part)
    return hit[1]


def _hardware(ns: dict[str, Any], facts: Facts) -> None:
    hw = facts.hardware
    ns["gpu.count"] = _v(hw.gpu_count, "gpu.count")
    ns["gpu.present"] = ns["gpu.count"] if isinstance(ns["gpu.count"], Unknown) else bool(ns["gpu.count"])
    gpus = hw.gpus
    if not gpus:
        reason = "there is no GPU" if hw.gpu_count.known else (hw.gpu_count.reason or "unknown")
        for key in ("name", "cc", "memory_gib", "bf16", "fp8", "arch", "mig", "busy", "vendor", "gfx",
                    "unified_memory"):
            ns[f"gpu.{key}"] = None if hw.gpu_count.known else Unknown(f"gpu.{key}", reason)
    else:
        ns["gpu.name"] = _v(gpus[0].name, "gpu.name")
        vendors = {g.vendor for g in gpus}
        ns["gpu.vendor"] = gpus[0].vendor if len(vendors) == 1 else Unknown(
            "gpu.vendor", f"the GPUs are of several vendors ({', '.join(sorted(vendors))})")
        ns["gpu.gfx"] = _v(gpus[0].gfx, "gpu.gfx")
        ns["gpu.unified_memory"] = _v(gpus[0].unified_memory, "gpu.unified_memory")
        ccs = [_v(g.compute_capability, "gpu.cc") for g in gpus]
        ns["gpu.cc"] = next((c for c in ccs if isinstance(c, Unknown)), None) or (
            None if any(c is None for c in ccs) else min(Version(f"{c[0]}.{c[1]}") for c in ccs))
        mems = [_v(g.memory_total_bytes, "gpu.memory_gib") for g in gpus]
        ns["gpu.memory_gib"] = next((m for m in mems if isinstance(m, Unknown)), None) or min(
            m / 2**30 for m in mems)
        for key in ("bf16", "fp8", "mig", "busy"):
            vals = [_v(getattr(g, key), f"gpu.{key}") for g in gpus]
            unknown = next((v for v in vals if isinstance(v, Unknown)), None)
            if key in ("bf16", "fp8"):
                ns[f"gpu.{key}"] = unknown or all(vals)
            else:
                ns[f"gpu.{key}"] = True if any(v is True for v in vals) else (unknown or False)
        ns["gpu.arch"] = _v(gpus[0].arch, "gpu.arch")
    ns["driver.cuda"] = _version(_v(hw.cuda_driver_version, "driver.cuda")) if hw.cuda_driver_version.known \
        else Unknown("driver.cuda", hw.cuda_driver_version.reason or "unknown")
    ns["os.macos"] = _version(_v(hw.macos, "os.macos")) if hw.macos.known else Unknown(
        "os.macos", hw.macos.reason or "unknown")
    ns["cpu.bf16"] = _v(hw.cpu.bf16, "cpu.bf16")
    ns["cpu.cores"] = _v(hw.cpu.cores, "cpu.cores")
    mem = _v(hw.cpu.memory_total_bytes, "cpu.memory_gib")
    ns["cpu.memory_gib"] = mem if isinstance(mem, Unknown) or mem is None else mem / 2**30


def _software(ns: dict[str, Any], facts: Facts) -> None:
    sw = facts.software
    for dist in RELEVANT_DISTS:
        pkg = sw.package(dist)
        key = dist.replace("-", "_")
        ns[f"pkg.{key}"] = _v(pkg.version, f"pkg.{key}")
        if pkg.version.known and pkg.version.value is None:
            ns[f"imports.{key}"] = False
        else:
            ns[f"imports.{key}"] = _v(pkg.imports, f"imports.{key}")
        ns[f"import_error.{key}"] = pkg.import_error
    ns["pkg.transformers"] = _v(facts.transformers, "pkg.transformers")
    ns["transformers.version"] = ns["pkg.transformers"]
    for mod in EXTENSION_MODULES:
        present = sw.modules.get(mod)
        ns[f"module.{mod}"] = _v(present, f"module.{mod}") if present is not None else Unknown(
            f"module.{mod}", "not looked for")
    for key, build in (("torch.cuda", sw.torch.cuda), ("torch.hip", sw.torch.hip)):
        # a build known to be ROCm whose release is not (`rocm`) stays a string: present, not comparable
        ns[key] = (_version(build.value) or build.value) if build.known else Unknown(key, build.reason or "unknown")
    ns["torch.mps"] = _v(sw.torch.mps, "torch.mps")
    ns.setdefault("torch.runs_on_gpu", Unknown("torch.runs_on_gpu", "not computed"))
    ns.setdefault("env.flash_attn_triton_amd", Unknown("env.flash_attn_triton_amd", "not read"))


def _model(ns: dict[str, Any], facts: Facts) -> None:
    m = facts.model
    for key in ("model_type", "architecture", "head_dim", "max_head_dim", "num_heads", "num_kv_heads", "sliding_window",
                "softcap", "rope_type", "alibi", "mla", "moe", "has_attention", "attention_dropout",
                "checkpoint_dtype", "quant_method", "config_attn_impl"):
        ns[f"model.{key}"] = _v(getattr(m, key), f"model.{key}")
    ns["model.encoder_decoder"] = m.encoder_decoder
    ns["model.config_keys"] = frozenset(m.source.config)
    ns["model.remote_code"] = m.remote_code
    src = m.source
    ns["model.source"] = src.source
    ns["model.commit"] = src.commit
    ns["model.revision"] = src.revision
    ns["model.revision_kind"] = revision_kind(src.revision, src.commit)
    ns["model.native_equivalent"] = None
    legacy = set(m.legacy_keys)
    remote = facts.remote
    if remote is not None:
        legacy |= {k for k in getattr(remote, "config_keys", ()) if k in
                   ("flash_attn", "flash_rotary", "fused_dense", "use_flash_attn", "attn_config.attn_impl")}
        ns["remote.hard_imports"] = frozenset(getattr(remote, "hard_imports", {}))
        ns["remote.optional_imports"] = frozenset(getattr(remote, "optional_imports", {}))
        ns["remote.names"] = frozenset(getattr(remote, "imported_names", {}))
        ns["remote.fa2_only"] = bool(getattr(remote, "flash_attn_2_only_classes", ()))
    else:
        reason = "the model has no remote code" if not m.remote_code else "its remote code was not read"
        empty: Any = frozenset() if not m.remote_code else Unknown("remote", reason)
        for key in ("hard_imports", "optional_imports", "names"):
            ns[f"remote.{key}"] = empty
        ns["remote.fa2_only"] = False if not m.remote_code else Unknown("remote.fa2_only", reason)
    # Derived facts fill these from the remote code; the default is nothing, or unknown when the remote
    # code was not read (the same as its imports).
    default: Any = ns["remote.hard_imports"] if isinstance(ns["remote.hard_imports"], Unknown) else frozenset()
    for key in ("remote.removed_helpers", "remote.deprecated_helpers", "remote.missing_dists"):
        ns.setdefault(key, default)
    ns["model.legacy_keys"] = frozenset(legacy)
    arch = facts.arch
    if arch.known and arch.value is not None:
        a = arch.value
        for key in ("native", "sdpa", "flash2", "flash3", "flex"):
            ns[f"arch.{key}"] = bool(getattr(a, key))
        ns["arch.compatible_flash"] = frozenset(getattr(a, "compatible_flash", ()))
    else:
        for key in ("native", "sdpa", "flash2", "flash3", "flex", "compatible_flash"):
            ns[f"arch.{key}"] = Unknown(f"arch.{key}", arch.reason or "unknown")
    ns.setdefault("arch.native_equivalent", None)
    ns.setdefault("arch.model_type_known", Unknown("arch.model_type_known", "not computed"))


def revision_kind(revision: str | None, commit: str | None) -> str | None:
    """Classify a requested revision: a commit sha, a PR ref, or a branch/tag name."""
    if revision is None:
        return None if commit is None else "branch"
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision.lower()):
        return "commit"
    if revision.startswith("refs/pr/"):
        return "pr"
    if revision.startswith("v") and any(c.isdigit() for c in revision):
        return "tag"
    return "branch"
