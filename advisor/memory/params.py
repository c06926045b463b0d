"""Parameter counts from config.json: which architecture formula applies, and what it cannot count."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.memory import arch_dense as dense
from advisor.memory import arch_seq2seq as s2s
from advisor.memory import arch_sparse as sparse
from advisor.memory.config import Cfg, MissingSize
from advisor.memory.units import Count, Unit

Builder = Callable[[Cfg], list[Unit]]

FORMULAS: dict[str, Builder] = {
    "gpt2": dense.gpt2, "gpt_neox": dense.gpt_neox, "bloom": dense.bloom, "falcon": dense.falcon,
    "RefinedWebModel": dense.falcon, "RefinedWeb": dense.falcon, "phi": dense.phi, "phi-msft": dense.phi_msft,
    "qwen": dense.qwen_v1, "mixtral": sparse.mixtral, "qwen2_moe": sparse.qwen_moe, "qwen3_moe": sparse.qwen_moe,
    "deepseek_v2": sparse.deepseek, "deepseek_v3": sparse.deepseek, "llama4": sparse.llama4_text,
    "llama4_text": sparse.llama4_text, "mamba": sparse.mamba, "jamba": sparse.jamba, "gpt_oss": sparse.gpt_oss,
    "t5": s2s.t5, "whisper": s2s.whisper,
}
VERIFIED = {"gpt2", "gpt_neox", "bloom", "falcon", "phi", "mixtral", "qwen3_moe", "deepseek_v3", "llama4", "mamba",
            "jamba", "t5", "whisper", "bert", *dense.VERIFIED_LLAMA_LIKE}
"""Architectures whose formula the tests check against transformers' own modules."""
GENERIC_KEYS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")


def count_parameters(top: dict[str, Any], text: dict[str, Any], model_type: str | None,
                     architecture: str | None) -> Count | str:
    """The parameter count from the config, or the reason it cannot be counted."""
    mt = model_type or ""
    cfg = Cfg(text)
    try:
        units, method, verified = _language_model(cfg, mt, architecture or "")
    except MissingSize as exc:
        return f"cannot count the parameters: {exc}"
    missing: list[str] = []
    notes: list[str] = []
    if text is not top:
        for unit in _towers(Cfg(top), mt, missing):
            units.append(unit)
            verified = False
    if mt == "deepseek_v3" and (Cfg(top).opt("num_nextn_predict_layers") or 0) > 0:
        notes.append("the checkpoint's multi-token-prediction layer (`num_nextn_predict_layers`) is not loaded "
                     "by transformers and is not counted")
    return Count(tuple(units), method, verified, tuple(missing), tuple(notes))


def _language_model(cfg: Cfg, mt: str, arch: str) -> tuple[list[Unit], str, bool]:
    if mt in dense.LLAMA_LIKE:
        return dense.llama_like(cfg, dense.LLAMA_LIKE[mt]), f"config.json, {mt} layout", mt in VERIFIED
    if mt == "bert":
        return s2s.bert(cfg, arch), "config.json, bert layout", True
    if mt in FORMULAS:
        return FORMULAS[mt](cfg), f"config.json, {mt} layout", mt in VERIFIED
    if all(cfg.has(k) for k in GENERIC_KEYS):
        return (dense.llama_like(cfg, dense.Traits()),
                f"config.json, generic Llama-style formula: `{mt or arch}` is not in advisor's table, "
                "so biases and extra norms may be missed", False)
    raise MissingSize(f"architecture `{mt or arch}` is not in advisor's table and config.json lacks the sizes "
                      f"of a standard decoder ({', '.join(GENERIC_KEYS)})")


def _towers(top: Cfg, mt: str, missing: list[str]) -> list[Unit]:
    """Vision and audio towers of a multimodal config: estimated when described, else named as missing."""
    out: list[Unit] = []
    vision = top.sub("vision_config")
    if vision is None:
        missing.append("vision tower: config.json has no `vision_config` (transformers would build its default)")
    else:
        try:
            out.append(s2s.vit_tower(vision))
        except MissingSize as exc:
            missing.append(f"vision tower: {exc}")
    for key in ("audio_config", "speech_config"):
        if top.sub(key) is not None:
            missing.append(f"audio tower (`{key}`): advisor has no formula for it")
    return out
