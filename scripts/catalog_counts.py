"""Exact parameter counts for the model catalog: the model transformers builds, on the meta device.

No weights, no network, no remote code. The config dict (less `quantization_config`, `auto_map` and
the loader-only keys) becomes a transformers config with `AutoConfig.for_model`; when its `model_type`
is not native, the config class of the native class named in `architectures` is tried instead, and
accepted only if it understands the file's own size keys and reproduces its layer, hidden and vocabulary
sizes (so that equal sizes cannot be that class's defaults). The model is built with the Auto class of
the entry's kind under `torch.device("meta")` and `sum(p.numel() for p in model.parameters())` is taken:
`parameters()` yields a tied or shared tensor once. A quantized checkpoint counts as its logical
(unquantized) parameters. Where config.json says the embeddings are untied but the config class ties
them anyway (T5 and mT5 in transformers 5.x), the checkpoint's separate lm_head is added: the count is of
what the checkpoint holds, as its safetensors metadata would give it.

Imports torch and transformers: a build-time helper of `scripts/build_model_catalog.py`, never imported
by advisor itself.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass
from typing import Any

AUTO_BY_KIND: dict[str, tuple[str, ...]] = {
    "text-generation": ("AutoModelForCausalLM", "AutoModelForImageTextToText", "AutoModel"),
    "quantized": ("AutoModelForCausalLM", "AutoModelForImageTextToText", "AutoModel"),
    "vision-language": ("AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForCausalLM",
                        "AutoModel"),
    "seq2seq": ("AutoModelForSeq2SeqLM", "AutoModel"),
    "speech": ("AutoModelForSpeechSeq2Seq", "AutoModelForCTC", "AutoModel"),
    "embedding": ("AutoModel",),
    "encoder": ("AutoModel",),
}
"""The Auto classes tried for each kind of catalog entry, in order: the head a user loads it with."""
KINDS = tuple(AUTO_BY_KIND)
DROPPED = ("quantization_config", "auto_map", "_attn_implementation", "attn_implementation", "_commit_hash",
           "_name_or_path")
SIZE_KEYS = (("layers", ("num_hidden_layers", "n_layer", "num_layers")),
             ("hidden", ("hidden_size", "n_embd", "d_model")),
             ("vocab", ("vocab_size",)))
LEGACY_SIZE_KEYS = ("n_layer", "n_embd", "n_head", "num_layers", "d_model")


@dataclass(frozen=True)
class Counted:
    """A count (None when it could not be made), how it was made or why not, and what to know about it."""

    parameters: int | None
    method: str
    note: str = ""


def transformers_version() -> str:
    import transformers

    return str(transformers.__version__)


def native(model_type: object) -> bool:
    """Whether the installed transformers has MODEL_TYPE natively (no remote code needed)."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES  # type: ignore[attr-defined]

    return isinstance(model_type, str) and model_type in CONFIG_MAPPING_NAMES


def count(config: dict[str, Any], kind: str) -> Counted:
    """The exact parameter count of CONFIG built for KIND, or the reason there is none."""
    with _quiet():
        try:
            return _count(config, kind)
        except Exception as exc:  # any failure of a third-party build is a reason, not a crash
            text = str(exc).strip().splitlines()
            return Counted(None, f"not counted: {type(exc).__name__}: {text[0][:200] if text else ''}")


def _count(raw: dict[str, Any], kind: str) -> Counted:
    import transformers
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES  # type: ignore[attr-defined]

    version = transformers.__version__
    d = {k: v for k, v in raw.items() if k not in DROPPED}
    model_type = d.get("model_type")
    archs = [a for a in d.get("architectures") or [] if isinstance(a, str)]
    notes: list[str] = []
    if model_type in CONFIG_MAPPING_NAMES:
        cfg = AutoConfig.for_model(**d)
    else:
        named = [a for a in archs if hasattr(transformers, a)]
        if not named:
            return Counted(None, f"not counted: model_type {model_type!r} is remote code only (not in transformers "
                                 f"{version}) and advisor never runs remote code")
        cls = getattr(transformers, named[0])
        cfg = cls.config_class(**{k: v for k, v in d.items() if k != "model_type"})
        refused = _fallback_refused(raw, cfg, cls.config_class)
        if refused:
            return Counted(None, f"not counted: {cls.config_class.__name__} (the config class of "
                                 f"architectures[0] {named[0]}) {refused}")
        notes.append(f"model_type {model_type!r} is not in transformers {version}: built as {named[0]}, the "
                     f"native class its architectures name")
    model, used = _build(cfg, auto_classes(raw, kind), archs)
    total = sum(p.numel() for p in model.parameters())
    method = f"meta-device build, transformers {version} ({used} → {type(model).__name__})"
    src = _text(raw)
    if src.get("tie_word_embeddings") is False:
        inp, out = model.get_input_embeddings(), model.get_output_embeddings()
        weight: Any = getattr(out, "weight", None)
        tied: Any = getattr(inp, "weight", None)
        if weight is not None and weight is tied:
            # the checkpoint holds both tensors (its safetensors metadata counts both): count what it holds
            head = int(weight.numel())
            notes.append(f"config.json says tie_word_embeddings=false but {type(cfg).__name__} in transformers "
                         f"{version} ties the output embedding to the input one, so the model it builds has "
                         f"{total:,} parameters; the checkpoint's separate lm_head ({head:,}) is counted here")
            total += head
            method += ", plus the checkpoint's separate lm_head"
    if "quantization_config" in raw or "quantization_config" in src:
        notes.append("quantization_config left out: the logical (unquantized) parameter count")
    return Counted(int(total), method, "; ".join(notes))


def auto_classes(config: dict[str, Any], kind: str) -> tuple[str, ...]:
    """The Auto classes to try: the kind's, or the vision-language ones for a checkpoint with a vision tower
    (a quantized or text-generation entry can be a multimodal checkpoint, whose weights hold the tower)."""
    if kind in ("text-generation", "quantized") and isinstance(config.get("vision_config"), dict):
        return AUTO_BY_KIND["vision-language"]
    return AUTO_BY_KIND.get(kind, ("AutoModel",))


def _build(cfg: Any, autos: tuple[str, ...], archs: list[str]) -> tuple[Any, str]:
    import torch
    import transformers

    errors: list[str] = []
    for name in autos:
        auto = getattr(transformers, name, None)
        if auto is None:
            continue
        for kwargs in ({"attn_implementation": "eager"}, {}):
            try:
                with torch.device("meta"):
                    return auto.from_config(cfg, **kwargs), name
            except Exception as exc:
                errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
    for arch in archs:  # the exact class the checkpoint names
        cls = getattr(transformers, arch, None)
        if cls is not None and getattr(cls, "config_class", None) is type(cfg):
            with torch.device("meta"):
                return cls(cfg), arch
    raise RuntimeError("no Auto class builds it: " + " | ".join(errors[-2:]))


def _text(raw: dict[str, Any]) -> dict[str, Any]:
    text = raw.get("text_config")
    return text if isinstance(text, dict) else raw


def _fallback_refused(raw: dict[str, Any], cfg: Any, config_class: Any) -> str | None:
    """Why the config class named by `architectures` does not describe the file (None: it does)."""
    want = _file_sizes(raw)
    if not want:
        return "cannot be checked: the file states no layer, hidden or vocabulary size"
    known = set(getattr(config_class, "attribute_map", {}) or {}) | set(config_class().to_dict())
    unknown = [k for k in LEGACY_SIZE_KEYS if k in _text(raw) and k not in known]
    if unknown:
        return f"does not understand the file's size keys {unknown}"
    got = _config_sizes(cfg)
    wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
    return f"reads other sizes than the file states {wrong}" if wrong else None


def _file_sizes(raw: dict[str, Any]) -> dict[str, int]:
    src = _text(raw)
    out: dict[str, int] = {}
    for name, keys in SIZE_KEYS:
        for key in keys:
            if isinstance(src.get(key), int):
                out[name] = src[key]
                break
    return out


def _config_sizes(cfg: Any) -> dict[str, int]:
    src = cfg.get_text_config() if callable(getattr(cfg, "get_text_config", None)) else cfg
    out: dict[str, int] = {}
    for name, attr in (("layers", "num_hidden_layers"), ("hidden", "hidden_size"), ("vocab", "vocab_size")):
        value = getattr(src, attr, None)
        if isinstance(value, int):
            out[name] = value
    return out


@contextlib.contextmanager
def _quiet() -> Any:
    """transformers' warnings and prints about a config stay out of the build's output."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield
