"""Facts of the target transformers release, read from its knowledge table, and what they mean for this model.

Release facts (`transformers.*`) are the table's answers as rules read them: versions as versions, lists as
sets, each with the release file (and the file:line it was read from, where one place says it). Model facts
that need the release (`arch.known_in`, `rope.*`, `quant.*`, `optimum.*`, the helpers remote code imports)
combine the table with the model's config and the target's packages. Nothing here writes a version boundary:
every one comes from the table of the target release.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from packaging.version import Version

from advisor.core.fact import Fact
from advisor.core.once import once_per
from advisor.facts.bundle import Facts
from advisor.facts.model import NESTED_TEXT_KEYS
from advisor.facts.release_table import (
    ReleaseTable,
    _table,
    helper_history,
    index,
    model_type_history,
    newest,
    oldest,
    optimum_entry,
    parse_version,
    presence,
    table_for,
)

RELEASE_FACTS = (
    "transformers.table", "transformers.table_note", "transformers.attn_implementations", "transformers.fa2_min",
    "transformers.fa2_min_rocm", "transformers.fa2_flags", "transformers.fa3_cc_min", "transformers.fa4_cc_min",
    "transformers.fa3_alibi_dropout", "transformers.fa_dtype_fp32", "transformers.fa_softcap",
    "transformers.sdpa_softcap", "transformers.sdpa_torch_min", "transformers.flex_torch_min",
    "transformers.flex_dropout", "transformers.flex_sinks_cpu", "transformers.hub_kernel_forms",
    "transformers.hub_kernel_needs_flash",
    "transformers.kernels", "transformers.kernels_min", "transformers.kernels_max", "transformers.kernels_range",
    "transformers.fa_kernel_fallback", "transformers.rocm_kernel_fallback", "transformers.compatible_swap",
    "transformers.torch_min",
    "transformers.accelerate_min", "transformers.bnb_min_4bit", "transformers.bnb_min_8bit", "transformers.bnb_cpu",
    "transformers.keywords", "transformers.keywords_ignored", "transformers.keywords_deprecated",
    "transformers.deprecations", "transformers.default_dtype", "transformers.bettertransformer",
    "transformers.resolves_revision", "transformers.output_attentions_explicit",
    "transformers.output_attentions_default", "transformers.gc_disables_cache", "transformers.quant_methods",
    "transformers.unknown_quant_method", "transformers.fp8_activation_schemes", "transformers.mxfp4_triton_min",
    "transformers.mxfp4_kernels", "transformers.mxfp4_missing_kernels", "transformers.gptq_backends",
    "transformers.gptq_needs_optimum", "transformers.gptqmodel_min", "transformers.gptq_optimum_min",
    "transformers.auto_gptq_min", "transformers.awq_backends",
    "transformers.rope_types", "transformers.unknown_rope_type", "transformers.unknown_model_type",
)  # fmt: skip
"""Every `transformers.*` fact this module fills (engine/namespace.py names each with its kind and doc)."""

MODEL_FACTS = (
    "arch.known_in", "arch.added_in", "arch.attention_sinks", "arch.flash_swap", "arch.flash_swap_kernel",
    "rope.outcome", "rope.accepted",
    "rope.where", "quant.known", "quant.cc_min", "quant.below_cc", "quant.no_gpu", "quant.where",
    "quant.activation_scheme", "quant.dequantized", "quant.bnb_min", "optimum.bettertransformer", "optimum.bt_refusal",
    "optimum.bt_deprecated",
)  # fmt: skip


DEQUANTIZABLE = ("fp8", "mxfp4", "mxfp8")
"""Checkpoint quantizations that a release may load dequantized, by the GPU (the others never are)."""


def dequantized(facts: Facts, release: dict[str, Fact[Any]]) -> Fact[Any]:
    """`quant.dequantized`, the one model fact of the release that reads the GPUs, given the rest (RELEASE:
    `release_facts_without_gpu`)."""
    target, m = facts.transformers.value, facts.model
    if target is None or not m.quant_method.known:
        return release["quant.dequantized"]  # unknown whatever the GPUs
    if m.quant_method.value not in DEQUANTIZABLE:
        return Fact.of(False, release["transformers.table"].source)
    table = table_for(target)
    method = m.quant_method.value
    return _dequantized(facts, method, _gate(table, method), release, table.source)


def release_facts_without_gpu(facts: Facts) -> dict[str, Fact[Any]]:
    """The release facts of the target and the model facts that need them (unknown when the target is), but
    for `quant.dequantized`, which reads the GPUs (`dequantized`; here only when it is unknown whatever they
    are): what a policy matrix computes once per model and software target."""
    target = facts.transformers.value
    if target is None:
        reason = facts.transformers.reason or "the target transformers version is unknown"
        return {name: Fact.unknown(reason, facts.transformers.source) for name in (*RELEASE_FACTS, *MODEL_FACTS)}
    table = table_for(target)
    out = dict(_release_of(table))
    out.update(_model_type(facts, table, target))
    out.update(_rope(facts, table))
    out.update(_quantization(facts, table, out))
    out.update(_optimum(facts))
    return out


# -- the release ----------------------------------------------------------------------------------------


def _versions(value: Any) -> Version | None:
    return parse_version(value)


def _cc(value: Any) -> Version | None:
    """A compute capability (`8` → 8.0: FLASH_ATTENTION_COMPATIBILITY_MATRIX names majors only)."""
    text = str(value) if value is not None else None
    return parse_version(text if text is None or "." in text else f"{text}.0")


def _keywords(kw: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The keywords a release's from_pretrained section accepts and those it ignores."""
    states: dict[str, Any] = kw.get("keywords", {})
    auto = set(kw.get("auto_keywords", ()))
    config = set(kw.get("config_keywords", ()))
    ignored = {k for k, s in states.items() if s == "ignored"} - auto - config
    return ({k for k, s in states.items() if s != "ignored"} | auto | config) - ignored, ignored


@cache
def keywords_every_release() -> frozenset[str]:
    """The from_pretrained keywords that every release read accepts: the ones a snippet may use when the
    target's release is unknown (`torch_dtype` is accepted by all, `dtype` only from 4.56). Reads every
    table (about 70 ms), so only that case asks."""
    common: set[str] | None = None
    for release, file in index()["files"].items():
        accepted, _ = _keywords(_table(Version(release), release, file, None).section("from_pretrained"))
        common = accepted if common is None else common & accepted
    return frozenset(common or ())


_RELEASES: dict[int, tuple[Any, Any]] = {}


def _release_of(table: ReleaseTable) -> dict[str, Fact[Any]]:
    """`_release`, once per table (every model of a matrix on the same release reads the same); read-only."""
    return once_per(_RELEASES, table, lambda: _release(table))


def _release(table: ReleaseTable) -> dict[str, Fact[Any]]:
    a = table.answers
    attn = table.section("attention")
    quant = table.section("quantization")
    summary = quant.get("summary", {})
    kw = table.section("from_pretrained")
    src = table.source

    def of(value: Any, answer: str | None = None) -> Fact[Any]:
        return Fact.of(value, table.evidence(answer) if answer else src)

    kernels = a.get("kernels")
    kernels_min = _versions(kernels[0]) if kernels else None
    kernels_max = _versions(kernels[1]) if kernels and len(kernels) > 1 else None
    states: dict[str, Any] = kw.get("keywords", {})
    deprecated = {k: s[1] for k, s in states.items() if isinstance(s, list) and s[0] == "deprecated"}
    accepted, ignored = _keywords(kw)
    methods = set(quant.get("methods", {})) | set(quant.get("methods_enum", ()))
    if methods & {"bitsandbytes_4bit", "bitsandbytes_8bit"}:
        methods.add("bitsandbytes")
    rope = table.section("rope")
    rope_types = set(rope.get("init", ())) | set(rope.get("validate", ()))
    gptq, awq = summary.get("gptq", {}), summary.get("awq", {})
    mx, fp8 = summary.get("mxfp4", {}), summary.get("fp8", {})
    output = a.get("output_attentions", {})
    note = table.note
    return {
        "transformers.table": of(table.release),
        "transformers.table_note": of(note),
        "transformers.attn_implementations": of(frozenset(attn.get("implementations", ()))),
        "transformers.fa2_min": of(_versions(a.get("fa2_min")), "fa2_min"),
        "transformers.fa2_min_rocm": of(_versions(a.get("fa2_min_rocm")), "fa2_min_rocm"),
        "transformers.fa2_flags": of(frozenset(a.get("fa2_flag", ()))),
        "transformers.fa3_cc_min": of(_cc(a.get("fa3_cc_min")), "fa3_cc_min"),
        "transformers.fa4_cc_min": of(_cc(a.get("fa4_cc_min"))),
        "transformers.fa3_alibi_dropout": of(bool(a.get("fa3_alibi_dropout")), "fa3_alibi_dropout"),
        "transformers.fa_dtype_fp32": of(a.get("fa_dtype_fp32"), "fa_dtype_fp32"),
        "transformers.fa_softcap": of(a.get("fa_softcap"), "fa_softcap"),
        "transformers.sdpa_softcap": of(a.get("sdpa_softcap"), "sdpa_softcap"),
        "transformers.sdpa_torch_min": of(_versions(a.get("sdpa_torch_min")), "sdpa_torch_min"),
        "transformers.flex_torch_min": of(_versions(a.get("flex_torch_min")), "flex_torch_min"),
        "transformers.flex_dropout": of(bool(a.get("flex_dropout")), "flex_dropout"),
        "transformers.flex_sinks_cpu": of(bool(a.get("flex_sinks_cpu")), "flex_sinks_cpu"),
        "transformers.hub_kernel_forms": of(_hub_forms(a.get("hub_kernels")), "hub_kernels"),
        "transformers.hub_kernel_needs_flash": of(bool(a.get("hub_kernel_needs_flash")), "hub_kernel_needs_flash"),
        "transformers.kernels": of(kernels is not None),
        "transformers.kernels_min": of(kernels_min),
        "transformers.kernels_max": of(kernels_max),
        "transformers.kernels_range": of(_range_text(kernels)),
        "transformers.fa_kernel_fallback": of(frozenset(attn.get("kernel_fallback", {}))),
        "transformers.rocm_kernel_fallback": of(frozenset(impl for impl, repo in attn.get("kernel_fallback", {}).items()
                                                          if "aiter" in str(repo))),
        "transformers.compatible_swap": of(bool(a.get("compatible_swap")), "compatible_swap"),
        "transformers.torch_min": of(_versions(a.get("torch_min")), "torch_min"),
        "transformers.accelerate_min": of(_versions(a.get("accelerate_min"))),
        "transformers.bnb_min_4bit": of(_versions(a.get("bnb_min_4bit"))),
        "transformers.bnb_min_8bit": of(_versions(a.get("bnb_min_8bit"))),
        "transformers.bnb_cpu": of(summary.get("bnb", {}).get("no_gpu")),
        "transformers.keywords": of(frozenset(accepted)),
        "transformers.keywords_ignored": of(frozenset(ignored)),
        "transformers.keywords_deprecated": of(frozenset(deprecated)),
        "transformers.deprecations": of(deprecated),
        "transformers.default_dtype": of(a.get("default_dtype"), "default_dtype"),
        "transformers.bettertransformer": of(bool(a.get("bettertransformer"))),
        "transformers.resolves_revision": of(bool(a.get("resolves_revision"))),
        "transformers.output_attentions_explicit": of(output.get("explicit"), "output_attentions"),
        "transformers.output_attentions_default": of(output.get("default"), "output_attentions"),
        "transformers.gc_disables_cache": of(bool(a.get("gc_disables_cache")), "gc_disables_cache"),
        "transformers.quant_methods": of(frozenset(methods)),
        "transformers.unknown_quant_method": of(a.get("unknown_quant_method"), "unknown_quant_method"),
        "transformers.fp8_activation_schemes": of(frozenset(fp8.get("activation_schemes", ()))),
        "transformers.mxfp4_triton_min": of(_versions(mx.get("triton_min"))),
        "transformers.mxfp4_kernels": of(bool(mx.get("kernels"))),
        "transformers.mxfp4_missing_kernels": of(mx.get("missing_kernels")),
        "transformers.gptq_backends": of(frozenset(gptq.get("backends", ()))),
        "transformers.gptq_needs_optimum": of(bool(gptq.get("optimum"))),
        "transformers.gptqmodel_min": of(_versions(gptq.get("mins", {}).get("gptqmodel"))),
        "transformers.gptq_optimum_min": of(_versions(gptq.get("mins", {}).get("optimum"))),
        "transformers.auto_gptq_min": of(_versions(gptq.get("mins", {}).get("auto-gptq"))),
        "transformers.awq_backends": of(frozenset(awq.get("backends", ()))),
        "transformers.rope_types": of(frozenset(rope_types | {"default"}) if rope_types else frozenset()),
        "transformers.unknown_rope_type": of(a.get("unknown_rope_type"), "unknown_rope_type"),
        "transformers.unknown_model_type": of(a.get("unknown_model_type"), "unknown_model_type"),
    }


def _hub_forms(pattern: object) -> frozenset[str]:
    """The `attn_implementation` forms of a Hub kernel a release accepts (from its kernel-name pattern)."""
    if not isinstance(pattern, str):
        return frozenset()
    forms = {"org/repo:fn"}
    if "[:fn]" in pattern:
        forms.add("org/repo")
    if "@rev" in pattern:
        forms |= {"org/repo@rev", "org/repo@rev:fn"}
    return frozenset(forms)


def _range_text(kernels: list[str | None] | None) -> str:
    if kernels is None:
        return "no version (this release does not use the kernels package)"
    if not kernels:
        return "any version that imports"
    low, high = kernels[0], kernels[1] if len(kernels) > 1 else None
    return f">={low},<{high}" if high else f">={low}"


# -- the model type ---------------------------------------------------------------------------------------


def _model_type(facts: Facts, table: ReleaseTable, target: Version) -> dict[str, Fact[Any]]:
    mt = facts.model.model_type.value
    src = "rules/transformers/model_types_since.json"
    out: dict[str, Fact[Any]] = {}
    if not mt:
        reason = "config.json has no model_type"
        return {"arch.known_in": Fact.unknown(reason, src), "arch.added_in": Fact.unknown(reason, src),
                "arch.attention_sinks": Fact.unknown(reason, src),
                "arch.flash_swap": Fact(None, src), "arch.flash_swap_kernel": Fact.of(False, src)}
    native = mt in table.native()
    history = model_type_history().get(mt)
    added = last = removed = None
    if not native and history:
        added, last, removed = presence(history, target)
    if native:
        text = f"transformers {table.release} has it"
    elif removed:
        text = f"transformers {removed} removed it (the last release with it is {last})"
        if added:
            text += f"; {added} brings it back"
    elif added:
        text = f"it is native from transformers {added}"
    else:
        text = f"no transformers release from {oldest()} to {newest()} has it"
    out["arch.known_in"] = Fact.of(text, src)
    sinks = table.section("attention").get("sinks", ())
    out["arch.attention_sinks"] = Fact.of(mt.replace("-", "_") in sinks, table.source)
    out["arch.added_in"] = Fact.of(parse_version(added), src)
    swap, is_kernel = _flash_swap(facts, table)
    out["arch.flash_swap"] = Fact.of(swap, table.source)
    out["arch.flash_swap_kernel"] = Fact.of(is_kernel, table.source)
    return out


def _flash_swap(facts: Facts, table: ReleaseTable) -> tuple[str | None, bool]:
    """The implementation a class's `_compatible_flash_implementations` puts in place of another flash
    implementation (the first one listed), and whether it is a Hub kernel (`org/repo`)."""
    arch = facts.arch.value
    compatible = tuple(getattr(arch, "compatible_flash", ()) or ()) if facts.arch.known else ()
    if not compatible or not table.answers.get("compatible_swap"):
        return None, False
    first = compatible[0]
    return first, "/" in first


# -- rope -----------------------------------------------------------------------------------------------------


def _rope(facts: Facts, table: ReleaseTable) -> dict[str, Fact[Any]]:
    """What the target does with the model's rope type: ok, refused (raises, or warns and then fails building
    the rotary embedding), ignored (the config class does not hold rope settings and the model never reads
    them) or unchecked (held but not validated by this release)."""
    m = facts.model
    kind = m.rope_type.value if m.rope_type.known else None
    src = table.source
    rope = table.section("rope")
    entry = table.model_type(m.model_type.value or "") if m.model_type.known else None
    config = entry.config if entry else ""
    nested = any(isinstance(m.source.config.get(k), dict) for k in NESTED_TEXT_KEYS)  # a wrapper's text config
    accepted = frozenset(rope.get("init", ())) | frozenset(rope.get("validate", ())) | {"default"}
    where = ""
    local = rope.get("per_config", {}).get(config)
    if local:
        types, _, where = local.removeprefix("raise:").partition("@")
        accepted = frozenset(t for t in types.split(",") if t)
        where = f"models/{where}"
    if kind in (None, "default") or entry is None:
        outcome = "ok"
    elif local:
        outcome = "ok" if kind in accepted else "refused"
    elif config not in rope.get("configs", ()) and config not in rope.get("read_by_model", ()):
        outcome = "unchecked" if nested else "ignored"
    elif rope.get("validation") in (None, "per-model"):
        outcome = "unchecked"
    else:
        outcome = "ok" if kind in accepted else "refused"
        where = next((w for what, w in rope.get("behaviour", ()) if "config validation" in what), "")
    if where:
        where = f"transformers {table.release} {where}"
    return {"rope.outcome": Fact.of(outcome, src), "rope.accepted": Fact.of(accepted, src),
            "rope.where": Fact.of(where or src, src)}


# -- quantization ----------------------------------------------------------------------------------------


def _method_keys(method: str) -> Iterable[str]:
    """The quantizer keys a checkpoint's quant_method maps to in the tables."""
    if method == "bitsandbytes":
        return ("bitsandbytes_4bit", "bitsandbytes_8bit", "bitsandbytes")
    return (method,)


def _quantization(facts: Facts, table: ReleaseTable, release: dict[str, Fact[Any]]) -> dict[str, Fact[Any]]:
    m = facts.model
    src = table.source
    method = m.quant_method.value if m.quant_method.known else None
    qcfg = m.source.config.get("quantization_config")
    scheme = qcfg.get("activation_scheme") if isinstance(qcfg, dict) else None
    out: dict[str, Fact[Any]] = {"quant.activation_scheme": Fact.of(scheme if isinstance(scheme, str) else None,
                                                                    "config.json `quantization_config`")}
    if not m.quant_method.known:
        reason = m.quant_method.reason or "the quantization method is unknown"
        for name in ("quant.known", "quant.cc_min", "quant.below_cc", "quant.no_gpu", "quant.where",
                     "quant.dequantized", "quant.bnb_min"):
            out[name] = Fact.unknown(reason, m.quant_method.source)
        return out
    known = method is None or method in (release["transformers.quant_methods"].value or ())
    out["quant.known"] = Fact.of(known, src)
    gate = _gate(table, method)
    where = gate.get("where", {})
    out["quant.cc_min"] = Fact.of(_cc(gate.get("cc_min")), src)
    out["quant.below_cc"] = Fact.of(gate.get("below_cc"), src)
    out["quant.no_gpu"] = Fact.of(gate.get("no_gpu"), src)
    places = [f"{what.replace('_', ' ')}: {w}" for what, w in where.items()]
    out["quant.where"] = Fact.of(f"transformers {table.release} " + "; ".join(places) if places else src, src)
    eight = isinstance(qcfg, dict) and bool(qcfg.get("load_in_8bit"))
    out["quant.bnb_min"] = release["transformers.bnb_min_8bit" if eight else "transformers.bnb_min_4bit"]
    return out


def _gate(table: ReleaseTable, method: str | None) -> dict[str, Any]:
    """The release's quantizer gate for METHOD (empty when it has none)."""
    gates = table.section("quantization").get("summary", {}).get("gates", {})
    return next((gates[k] for k in _method_keys(method or "") if k in gates), {})


def _dequantized(facts: Facts, method: str | None, gate: dict[str, Any], release: dict[str, Fact[Any]],
                 src: str) -> Fact[bool]:
    """Whether the checkpoint loads dequantized to the compute dtype here (the memory plan follows)."""
    if method not in DEQUANTIZABLE:
        return Fact.of(False, src)
    hw = facts.hardware
    if not hw.gpu_count.known:
        return Fact.unknown(hw.gpu_count.reason or "whether the target has a GPU is unknown", src)
    if not hw.has_gpu:
        return Fact.of(gate.get("no_gpu") == "dequantize", src)
    ccs = [g.compute_capability.value for g in hw.gpus]
    cc_min = parse_version(gate.get("cc_min"))
    if cc_min is not None and gate.get("below_cc") == "dequantize":
        if any(c is None for c in ccs):
            return Fact.unknown("a GPU's compute capability is unknown", src)
        if any(Version(f"{c[0]}.{c[1]}") < cc_min for c in ccs if c):
            return Fact.of(True, src)
    if method != "mxfp4" or release["transformers.mxfp4_missing_kernels"].value != "dequantize":
        return Fact.of(False, src)
    sw = facts.software
    triton, kernels = sw.package("triton").version, sw.package("kernels").version
    if not triton.known or not kernels.known:
        return Fact.unknown("whether triton and kernels are installed is unknown", src)
    floor = release["transformers.mxfp4_triton_min"].value
    if triton.value is None or (floor is not None and triton.value < floor):
        return Fact.of(True, src)
    if release["transformers.mxfp4_kernels"].value:
        low, high = release["transformers.kernels_min"].value, release["transformers.kernels_max"].value
        k = kernels.value
        if k is None or (low is not None and k < low) or (high is not None and k >= high):
            return Fact.of(True, src)
    return Fact.of(False, src)


# -- optimum's BetterTransformer ------------------------------------------------------------------------------


def _optimum(facts: Facts) -> dict[str, Fact[Any]]:
    """optimum's BetterTransformer for the installed optimum and this model (read from optimum's wheels)."""
    pkg = facts.software.package("optimum").version
    src = "rules/transformers/optimum.json"
    names = ("optimum.bettertransformer", "optimum.bt_refusal", "optimum.bt_deprecated")
    if not pkg.known:
        return {n: Fact.unknown(pkg.reason or "optimum's version is unknown", pkg.source) for n in names}
    if pkg.value is None:
        return {"optimum.bettertransformer": Fact.of(False, f"{src} (optimum is not installed)"),
                "optimum.bt_refusal": Fact.of(None, src), "optimum.bt_deprecated": Fact.of(False, src)}
    found = optimum_entry(pkg.value)
    if found is None:
        reason = f"optimum {pkg.value} is older than every optimum release advisor has read"
        return {n: Fact.unknown(reason, src) for n in names}
    entry, read = found
    where = f"{src} (optimum {read})"
    mt = facts.model.model_type.value or ""
    refusal: str | None = None
    if entry.get("bettertransformer"):
        arch = facts.arch.value if facts.arch.known else None
        sdpa = bool(getattr(arch, "sdpa", False))
        if mt in entry.get("refused", ()):
            refusal = (f"optimum {pkg.value} refuses model type {mt}: transformers runs it natively with sdpa "
                       f"(optimum {read} {entry.get('refused_where', '')})")
        elif entry.get("refuses_sdpa") and sdpa:
            refusal = (f"optimum {pkg.value} refuses a model that already uses sdpa, which {mt} does by default "
                       f"(optimum {read} {entry['refuses_sdpa']})")
        elif mt in entry.get("cannot", ()):
            refusal = f"optimum {pkg.value} says {mt} can not be supported by BetterTransformer"
        elif mt not in entry.get("supported", ()):
            refusal = f"optimum {pkg.value} has no BetterTransformer conversion for model type {mt}"
    deprecated = entry.get("deprecated")
    return {"optimum.bettertransformer": Fact.of(bool(entry.get("bettertransformer")), where),
            "optimum.bt_refusal": Fact.of(refusal, where),
            "optimum.bt_deprecated": Fact.of(bool(deprecated), f"optimum {read} {deprecated[1]}" if deprecated
                                             else where)}


# -- helpers that remote code imports ---------------------------------------------------------------------


def helper_status(imported: dict[str, str], table: ReleaseTable) -> tuple[dict[str, str], dict[str, str]]:
    """(removed, deprecated): names imported from `transformers.utils` (or one of its modules) that the target
    no longer exports, each with where it is imported and the release that removed it, and those it only
    announces as removed. A name no release from the oldest read has exported is not judged."""
    helpers = table.section("helpers")
    names = set(helpers.get("names", ()))
    deprecated: dict[str, Any] = helpers.get("deprecated", {})
    history = helper_history()
    removed_out: dict[str, str] = {}
    deprecated_out: dict[str, str] = {}
    for dotted, where in sorted(imported.items()):
        module, _, name = dotted.rpartition(".")
        if module != "transformers.utils" and not module.startswith("transformers.utils."):
            continue
        if name in names:
            if name in deprecated:
                deprecated_out[name] = f"{where}: {deprecated[name][2]}"
            continue
        row = history.get(name)
        if row is None:
            continue
        added, last, removed = presence(row, table.target)
        if removed:
            removed_out[name] = f"{where}, removed in {removed}; last in {last}"
        elif added:
            removed_out[name] = f"{where}, first exported in {added}"
    return removed_out, deprecated_out
