"""Build a small model with a config's architecture and attention shape (worker side: imports torch).

Kept from the real config: the model class, head_dim, attention heads and KV heads (so the GQA ratio),
the kinds of layer (sliding and full), softcap, rope settings. Shrunk always: layers (enough to hold one
of each layer kind), vocabulary, the sliding window when the test sequence would not cross it, and the
width the attention never sees: experts, FFN width and hidden size (where the class takes head_dim on its
own). Shrunk only while over the parameter budget: heads (keeping their ratio). Every change is written as
a note.
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import field, frozen, record

VOCAB = 1024
FFN_KEYS = ("intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size", "ffn_dim",
            "d_ff", "n_inner", "intermediate_size_mlp", "encoder_ffn_dim", "decoder_ffn_dim",
            "ffn_hidden_size")
EXPERT_KEYS = ("num_local_experts", "num_experts", "n_routed_experts")
TOPK_KEYS = ("num_experts_per_tok", "num_experts_per_token", "moe_topk")
LAYER_KEYS = ("num_hidden_layers", "num_layers", "num_decoder_layers", "encoder_layers", "decoder_layers")
DROP_KEYS = ("quantization_config", "auto_map", "_attn_implementation", "attn_implementation",
             "_name_or_path", "transformers_version")
TOKEN_KEYS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id", "sep_token_id",
              "cls_token_id", "mask_token_id", "unk_token_id")


class Unbuildable(Exception):
    """The config cannot be turned into a small native model (the message says why)."""


@record
class Plan:
    """The small config, its notes, and the attention shape it keeps."""

    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def base_plan(config: dict[str, Any], layers: int, seq_len: int) -> Plan:
    """The changes made whatever the budget: layers, vocabulary, sliding window, dropped keys."""
    cfg = {k: v for k, v in config.items() if k not in DROP_KEYS}
    plan = Plan(cfg)
    dropped = [k for k in ("quantization_config", "auto_map") if k in config]
    if "quantization_config" in dropped:
        plan.notes.append("quantization_config removed: attention and dtype are tried on unquantized weights")
    if "auto_map" in dropped:
        plan.notes.append("auto_map removed: the native class is used, remote code is never run")
    _shrink_layers(plan, layers)
    vocab = cfg.get("vocab_size")
    if isinstance(vocab, int) and vocab > VOCAB:
        cfg["vocab_size"] = VOCAB
        plan.notes.append(f"vocab_size {vocab} → {VOCAB}")
        for key in TOKEN_KEYS:
            value = cfg.get(key)
            if isinstance(value, int) and value >= VOCAB:
                cfg[key] = VOCAB - 1 - TOKEN_KEYS.index(key)
            elif isinstance(value, list):
                cfg[key] = [v if not isinstance(v, int) or v < VOCAB else VOCAB - 1 for v in value]
    for key in ("suppress_tokens", "begin_suppress_tokens", "forced_decoder_ids"):
        if cfg.get(key):
            cfg[key] = None
    for key in ("sliding_window", "attention_chunk_size"):
        window = cfg.get(key)
        if isinstance(window, int) and window >= seq_len and cfg.get("use_sliding_window", True) is not False:
            small = max(4, seq_len // 2)
            cfg[key] = small
            plan.notes.append(f"{key} {window} → {small}, so that the {seq_len}-token test crosses it")
    if isinstance(cfg.get("max_source_positions"), int) and cfg["max_source_positions"] > 64:
        plan.notes.append(f"max_source_positions {cfg['max_source_positions']} → 64 (audio frames)")
        cfg["max_source_positions"] = 64
    return plan


def _shrink_layers(plan: Plan, layers: int) -> None:
    cfg = plan.config
    kinds = cfg.get("layer_types")
    keep = layers
    if isinstance(kinds, list) and kinds:
        distinct = list(dict.fromkeys(kinds))
        keep = max(layers, len(distinct))
        kept = kinds[:keep]
        missing = [k for k in distinct if k not in kept]
        cfg["layer_types"] = kept[: keep - len(missing)] + missing
    for key in LAYER_KEYS:
        value = cfg.get(key)
        if isinstance(value, int) and value > keep:
            cfg[key] = keep
            plan.notes.append(f"{key} {value} → {keep}")
    for key in ("n_layer", "n_layers"):
        value = cfg.get(key)
        if isinstance(value, int) and value > keep:
            cfg[key] = keep
            plan.notes.append(f"{key} {value} → {keep}")
    if isinstance(cfg.get("first_k_dense_replace"), int) and cfg["first_k_dense_replace"] >= keep:
        plan.notes.append(f"first_k_dense_replace {cfg['first_k_dense_replace']} → 1, so a MoE layer is kept")
        cfg["first_k_dense_replace"] = 1
    for prefix in ("attn", "expert"):
        period, offset = f"{prefix}_layer_period", f"{prefix}_layer_offset"
        if isinstance(cfg.get(period), int) and cfg[period] > keep:
            plan.notes.append(f"{period}/{offset} {cfg[period]}/{cfg.get(offset)} → 2/1, "
                              "so the layer kind is kept")
            cfg[period], cfg[offset] = 2, 1


FFN_WIDTH = 256
"""The FFN width of a stand-in: the candidates exercise attention, which never sees the FFN."""


def shrink_steps(plan: Plan, real: Shape) -> list[Plan]:
    """Variants of PLAN in the order to try them, each with its notes: the caller takes the first that builds,
    keeps head_dim and fits the parameter budget.

    What the candidates exercise is the attention shape (heads, KV heads, head_dim, windows, softcap), so the
    width around it goes first, whatever the budget: experts to 4, the FFN to FFN_WIDTH, then the hidden
    size to 256 where the class takes head_dim on its own (else the FFN alone). Fewer heads (in the same GQA
    ratio) only while over the budget. The wider variants follow, for a class that cannot be narrowed.
    """
    wide = [plan]
    cfg = dict(plan.config)
    notes = list(plan.notes)
    experts = [(k, cfg[k]) for k in EXPERT_KEYS if isinstance(cfg.get(k), int) and cfg[k] > 4]
    if experts:
        for key, value in experts:
            cfg[key] = 4
            notes.append(f"{key} {value} → 4")
        for key in TOPK_KEYS:
            if isinstance(cfg.get(key), int) and cfg[key] > 2:
                notes.append(f"{key} {cfg[key]} → 2")
                cfg[key] = 2
        for key in ("n_group", "topk_group"):
            if isinstance(cfg.get(key), int) and cfg[key] > 1:
                cfg[key] = 1
        wide.append(Plan(dict(cfg), list(notes)))
    hidden = _hidden(cfg)
    for width in (4 * hidden, hidden, FFN_WIDTH):
        ffn = [(k, cfg[k]) for k in FFN_KEYS if isinstance(cfg.get(k), int) and cfg[k] > width]
        if ffn:
            for key, value in ffn:
                cfg[key] = width
                notes.append(f"{key} {value} → {width}")
            notes = _dedupe(notes)
            wide.append(Plan(dict(cfg), list(notes)))
    narrow = _narrow_steps(cfg, notes, real)
    keeps_heads = [p for p in narrow if p.config.get("hidden_size") != cfg.get("hidden_size")
                   and all(p.config.get(k) == cfg.get(k) for k in ("num_attention_heads", "num_key_value_heads"))]
    fewer_heads = [p for p in narrow if p not in keeps_heads]
    narrowest = wide[-1] if len(wide) > 1 else plan
    first = [*keeps_heads, narrowest]
    return first + fewer_heads + [p for p in reversed(wide) if p is not narrowest]


def _narrow_steps(cfg: dict[str, Any], notes: list[str], real: Shape) -> list[Plan]:
    """Smaller hidden size with head_dim kept explicit, then fewer heads in the same GQA ratio."""
    out: list[Plan] = []
    if real.head_dim is None or real.heads is None:
        return out
    hidden = _hidden(cfg)
    small = 256
    mla = "qk_rope_head_dim" in cfg  # head_dim means the rope part there: never overwrite it
    if hidden > small and "hidden_size" in cfg:
        c = dict(cfg, hidden_size=small) if mla else dict(cfg, hidden_size=small, head_dim=real.head_dim)
        out.append(Plan(c, [*notes, f"hidden_size {hidden} → {small} (head_dim {real.head_dim} and "
                                    f"{real.heads} heads kept)"]))
    kv = real.kv_heads or real.heads
    ratio = max(1, real.heads // kv)
    for new_kv in (2, 1):
        if kv <= new_kv:
            continue
        heads = new_kv * ratio
        c = dict(cfg)
        for key in ("num_attention_heads", "num_heads", "n_head", "encoder_attention_heads",
                    "decoder_attention_heads"):
            if key in c:
                c[key] = heads
        for key in ("num_key_value_heads", "num_kv_heads"):
            if key in c:
                c[key] = new_kv
        width = heads * real.head_dim
        for key in ("hidden_size", "d_model", "n_embd", "n_embed"):
            if key in c:
                c[key] = width
        if not mla and "head_dim" in c:
            c["head_dim"] = real.head_dim
        for key in FFN_KEYS:
            if isinstance(c.get(key), int):
                c[key] = min(c[key], 2 * width)
        if "parallel_attn" in c and c.get("ffn_hidden_size") is None:
            c["ffn_hidden_size"] = 2 * width  # falcon: the FFN is 4 x hidden unless given
        out.append(Plan(c, [*notes, f"heads {real.heads}/{kv} (query/KV) → {heads}/{new_kv}, hidden "
                                    f"{hidden} → {width}: head_dim {real.head_dim} and the GQA ratio "
                                    f"{ratio} kept"]))
    return out


def _dedupe(notes: list[str]) -> list[str]:
    """Keep one note per key (the last change of a key sums up the earlier ones)."""
    first: dict[str, str] = {}
    for note in notes:
        key = note.split(" ", 1)[0]
        if key in first and "→" in note:
            start = first[key].split("→")[0]
            first[key] = f"{start}→{note.split('→', 1)[1]}"
        else:
            first[key] = note
    return list(first.values())


def _hidden(cfg: dict[str, Any]) -> int:
    for key in ("hidden_size", "d_model", "n_embd", "n_embed"):
        if isinstance(cfg.get(key), int):
            return int(cfg[key])
    return 1024


@frozen
class Shape:
    """The attention shape of a built config."""

    hidden: int | None
    heads: int | None
    kv_heads: int | None
    head_dim: int | None

    def to_json(self) -> dict[str, Any]:
        return {"hidden_size": self.hidden, "num_attention_heads": self.heads,
                "num_key_value_heads": self.kv_heads, "head_dim": self.head_dim}


def shape_of(config: Any) -> Shape:
    """Read the attention shape from a transformers config object."""
    hidden = _attr(config, "hidden_size", "d_model", "n_embd")
    heads = _attr(config, "num_attention_heads", "num_heads", "n_head", "encoder_attention_heads")
    kv = _attr(config, "num_key_value_heads", "num_kv_heads", "multi_query_group_num")
    multi_query = getattr(config, "multi_query", False)
    if kv is None and multi_query and not getattr(config, "new_decoder_architecture", False):
        kv = 1
    head_dim = _attr(config, "qk_head_dim", "head_dim", "d_kv")  # MLA: the query-key width
    if head_dim is None and hidden and heads:
        head_dim = hidden // heads
    return Shape(hidden, heads, kv if kv is not None else heads, head_dim)


def _attr(config: Any, *names: str) -> int | None:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
