"""Parameter counts from config.json: the formula table (exact where a test verifies it against transformers'
own modules), else the generic estimate (errs high), else unknown with the reason.

The exact sources that need more than the config (safetensors headers, a meta-device build) are chosen by
the memory plan; this module counts from the config alone, fast and without importing anything heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from advisor.memory import arch_dense as dense
from advisor.memory import arch_seq2seq as s2s
from advisor.memory import arch_sparse as sparse
from advisor.memory.arch_generic import GAPS, generic_units, tower_units
from advisor.memory.config import Cfg, MissingSize
from advisor.memory.units import Count, Unit

Builder = Callable[[Cfg], list[Unit]]

FORMULAS: dict[str, Builder] = {
    "gpt2": dense.gpt2, "gpt_neox": dense.gpt_neox, "bloom": dense.bloom, "falcon": dense.falcon,
    "RefinedWebModel": dense.falcon, "RefinedWeb": dense.falcon, "phi": dense.phi, "phi-msft": dense.phi_msft,
    "qwen": dense.qwen_v1, "mixtral": sparse.mixtral, "qwen2_moe": sparse.qwen_moe, "qwen3_moe": sparse.qwen_moe,
    "deepseek_v2": sparse.deepseek, "deepseek_v3": sparse.deepseek, "llama4_text": sparse.llama4_text,
    "mamba": sparse.mamba, "jamba": sparse.jamba, "gpt_oss": sparse.gpt_oss,
    "t5": s2s.t5, "whisper": s2s.whisper,
}
WRAPPERS: dict[str, str] = {"llama4": "llama4_text"}
"""Multimodal types whose language model is in the table; their towers are counted apart."""
VERIFIED = {"gpt2", "gpt_neox", "bloom", "falcon", "phi", "mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2",
            "deepseek_v3", "llama4_text", "mamba", "jamba", "gpt_oss", "t5", "whisper", "bert",
            *dense.VERIFIED_LLAMA_LIKE}
"""Architectures whose formula tests/memory verify against a meta-device build of transformers' own modules;
only these counts are exact."""
TABLE = {*FORMULAS, *dense.LLAMA_LIKE, "bert", *WRAPPERS}
ARCHITECTURES = {"DeepseekV3ForCausalLM": "deepseek_v3", "DeepseekV2ForCausalLM": "deepseek_v2",
                 "Qwen3MoeForCausalLM": "qwen3_moe", "Qwen2MoeForCausalLM": "qwen2_moe",
                 "MixtralForCausalLM": "mixtral", "LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral",
                 "Qwen2ForCausalLM": "qwen2", "Qwen3ForCausalLM": "qwen3"}
"""Classes of the table a config of another (remote-code) model type may name in `architectures` (Kimi-K2 is
`kimi_k2` with DeepseekV3ForCausalLM): counted with that formula, as an estimate (the repository's own code
is not the verified one)."""


def in_table(model_type: str | None) -> bool:
    """Whether the formula table has MODEL_TYPE (a count from it needs no meta-device build)."""
    return (model_type or "") in TABLE


def count_parameters(top: dict[str, Any], text: dict[str, Any], model_type: str | None,
                     architecture: str | None) -> Count | str:
    """The parameter count from the config, or the reason it cannot be counted."""
    mt = model_type or ""
    cfg, tcfg = Cfg(text), Cfg(top)
    missing: list[str] = []
    notes: list[str] = []
    own = text.get("model_type") if text is not top else None
    inner = WRAPPERS.get(mt) or (own if isinstance(own, str) and own in TABLE else mt)
    formula_type = inner if inner in TABLE else ARCHITECTURES.get(architecture or "")
    if mt in GAPS:
        return (f"cannot count the parameters: `{mt}` is not in advisor's formula table and the generic estimate "
                f"cannot count {GAPS[mt]}")
    if formula_type:
        try:
            units, exact = _table(cfg, formula_type, architecture or "")
        except MissingSize as exc:
            return f"cannot count the parameters of `{mt or architecture}` with the {formula_type} formula: {exc}"
        verified = exact
        label = f"formula table ({formula_type}, verified against transformers' modules)"
        if not verified:
            label = f"formula table ({formula_type}, read from its modelling code, not verified): an estimate"
        if formula_type != inner:
            exact = False
            label = f"formula table ({formula_type}, as `architectures` names {architecture}): an estimate"
            notes.append(f"`{mt}` is not a model type of the table; counted with the {formula_type} formula because "
                         f"`architectures` names {architecture}, which the repository's own code may not match")
        if text is not top:  # a wrapper: its towers and projector are estimated, whatever the table says
            exact = False
            units.extend(tower_units(tcfg, cfg, missing))
            label = f"formula table ({formula_type}) for the language model, towers estimated: an estimate"
        return _finish(Count(tuple(units), label, exact, tuple(missing), tuple(notes)), tcfg, mt)
    try:
        units = generic_units(tcfg, cfg, mt, missing, notes)
    except MissingSize as exc:
        return (f"cannot count the parameters: `{mt or architecture}` is not in advisor's formula table and the "
                f"generic estimate cannot either: {exc}")
    label = (f"generic estimate (`{mt or architecture}` is not in the formula table): counts what config.json "
             "says and takes the larger choice where it says nothing")
    return _finish(Count(tuple(units), label, False, tuple(missing), tuple(notes)), tcfg, mt)


def _table(cfg: Cfg, mt: str, arch: str) -> tuple[list[Unit], bool]:
    if mt in dense.LLAMA_LIKE:
        return dense.llama_like(cfg, dense.LLAMA_LIKE[mt]), mt in VERIFIED
    if mt == "bert":
        return s2s.bert(cfg, arch), True
    return FORMULAS[mt](cfg), mt in VERIFIED


def _finish(count: Count, top: Cfg, mt: str) -> Count:
    mtp = top.opt("num_nextn_predict_layers", "mtp_num_hidden_layers", "num_mtp_layers") or 0
    text = top.sub("text_config")
    mtp = mtp or (text.opt("num_nextn_predict_layers", "mtp_num_hidden_layers") if text else 0) or 0
    if mtp:
        note = (f"the checkpoint's {mtp} multi-token-prediction layer(s) (`num_nextn_predict_layers`) are not "
                "built by transformers and are not counted")
        return Count(count.units, count.method, count.exact, count.missing, (*count.notes, note))
    return count
