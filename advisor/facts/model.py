"""Model facts derived from config.json: attention shape, windows, softcap, rope, remote code, dtype."""

from __future__ import annotations

from typing import Any

from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import frozen
from advisor.facts.model_source import ModelSource, finite_number

NESTED_TEXT_KEYS = ("text_config", "llm_config", "language_config", "thinker_config")
TEXT_SIZE_KEYS = ("hidden_size", "num_hidden_layers", "d_model", "n_embd", "embed_dim", "num_layers", "layers",
                  "n_layer")
LEGACY_FLASH_KEYS = ("flash_attn", "flash_rotary", "fused_dense", "use_flash_attn", "attn_config.attn_impl")
FLOAT_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16", "fp32": "float32",
                "fp16": "float16", "bf16": "bfloat16", "half": "float16", "float": "float32"}

# Upper bounds well beyond any real model: a value above them is a broken or hostile config.
LIMITS = {"hidden": 1 << 20, "layers": 10_000, "heads": 1 << 16, "head_dim": 1 << 16, "vocab": 1 << 27,
          "positions": 1 << 31, "window": 1 << 31, "experts": 1 << 14}


@frozen
class ModelFacts:
    """What the rules need to know about a model, each fact with where it came from."""

    id: str
    source: ModelSource
    config: dict[str, Any]
    """The config the language model reads: the nested text config for multimodal wrappers."""
    top: dict[str, Any]
    """The whole config.json as transformers completes it (absent keys from the config class's defaults)."""
    model_type: Fact[str]
    architecture: Fact[str]
    hidden_size: Fact[int]
    num_layers: Fact[int]
    num_heads: Fact[int]
    num_kv_heads: Fact[int]
    head_dim: Fact[int]
    max_head_dim: Fact[int]
    """The widest head any attention layer uses, keys or values (Gemma-4's `global_head_dim`, MLA's query-key
    dimension, `per_layer_config` overrides); what a FlashAttention kernel must take."""
    sliding_window: Fact[int]
    """None when no layer uses a window."""
    softcap: Fact[float]
    rope_type: Fact[str]
    alibi: Fact[bool]
    mla: Fact[bool]
    moe: Fact[bool]
    num_experts: Fact[int]
    encoder_decoder: bool
    has_attention: Fact[bool]
    attention_dropout: Fact[float]
    checkpoint_dtype: Fact[str]
    quant_method: Fact[str]
    config_attn_impl: Fact[str]
    """`_attn_implementation` (or `attn_implementation`) written in config.json."""
    auto_map: dict[str, Any]
    legacy_keys: frozenset[str]
    """Legacy remote-code flash switches the config carries (`flash_attn`, `use_flash_attn`, ...)."""

    @property
    def remote_code(self) -> bool:
        return bool(self.auto_map)

    def summary(self) -> dict[str, Any]:
        """The `model` object of the JSON output."""
        return {
            "id": self.id,
            "revision": self.source.revision,
            "commit": self.source.commit,
            "source": self.source.source,
            "architecture": self.architecture.value,
            "model_type": self.model_type.value,
            "head_dim": self.head_dim.value,
            "max_head_dim": self.max_head_dim.value,
            "num_attention_heads": self.num_heads.value,
            "num_key_value_heads": self.num_kv_heads.value,
            "sliding_window": self.sliding_window.value,
            "softcap": self.softcap.value,
            "rope_type": self.rope_type.value,
            "checkpoint_dtype": self.checkpoint_dtype.value,
            "quantization": self.quant_method.value,
            "remote_code": self.remote_code,
            **({"catalog_date": self.source.catalog_date} if self.source.catalog_date else {}),
            **(_catalog_fields(self.source) if self.source.source == "catalog" else {}),
            **({"notes": list(self.source.notes)} if self.source.notes else {}),
        }


def _catalog_fields(src: ModelSource) -> dict[str, Any]:
    """The catalog entry's count and provenance, for the `model` object."""
    return {"parameters": src.exact_parameters, "parameters_source": src.exact_parameters_source,
            "provenance": src.provenance, "verbatim": src.verbatim}


def model_facts(src: ModelSource, completed: dict[str, Any] | None = None) -> ModelFacts:
    """Derive the model facts from a loaded config, refusing configs that cannot describe a model.

    COMPLETED is the config with the keys transformers fills from its config class (facts.gather does it).
    """
    top = completed if completed is not None else src.config
    where = src.id
    model_type_raw = top.get("model_type")
    archs = top.get("architectures")
    if model_type_raw is not None and not isinstance(model_type_raw, str):
        raise InputError(f"{where}: `model_type` must be a string, not {type(model_type_raw).__name__}")
    if archs is not None and not (isinstance(archs, list) and all(isinstance(a, str) for a in archs)):
        raise InputError(f"{where}: `architectures` must be a list of class names")
    if not model_type_raw and not archs:
        raise InputError(f"{where}: config.json has neither `model_type` nor `architectures`, "
                         "so it does not describe a model")
    cfg = _text_config(top)
    origin = f"config.json ({src.source})"
    r = _Reader(cfg, where, origin)

    model_type = Fact.of(model_type_raw, origin) if model_type_raw else Fact.unknown(
        "config.json has no `model_type`", origin)
    architecture = Fact.of(archs[0], origin) if archs else Fact.unknown("config.json has no `architectures`", origin)
    encoder_decoder = bool(top.get("is_encoder_decoder") or cfg.get("is_encoder_decoder"))

    hidden = r.int("hidden", "hidden_size", "n_embd", "n_embed", "d_model", "model_dim", "dim")
    layers = r.int("layers", "num_hidden_layers", "n_layer", "num_layers", "n_layers", "decoder_layers")
    heads = r.int("heads", "num_attention_heads", "n_head", "num_heads", "n_heads", "decoder_attention_heads")
    raw_attn = cfg.get("attn_config")
    attn_cfg: dict[str, Any] = raw_attn if isinstance(raw_attn, dict) else {}

    kv = _kv_heads(cfg, r, heads, attn_cfg, origin)
    head_dim = _head_dim(cfg, r, hidden, heads, origin)
    if heads.known and kv.known and heads.value and kv.value and heads.value % kv.value:
        raise InputError(f"{where}: {heads.value} attention heads cannot be shared by {kv.value} key/value heads")

    ssm = _is_ssm(cfg, model_type_raw)
    has_attention = Fact.of(not ssm or "attn_layer_period" in cfg or "layers_block_type" in cfg, origin)

    return ModelFacts(
        id=src.id,
        source=src,
        config=cfg,
        top=top,
        model_type=model_type,
        architecture=architecture,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        num_kv_heads=kv,
        head_dim=head_dim,
        max_head_dim=_max_head_dim(cfg, head_dim, origin),
        sliding_window=_sliding_window(cfg, r, origin),
        softcap=_softcap(cfg, r, origin),
        rope_type=_rope_type(cfg, origin),
        alibi=Fact.of(bool(cfg.get("alibi") or attn_cfg.get("alibi") or cfg.get("position_embedding_type") == "alibi"
                           or (model_type_raw in ("bloom", "mpt", "baichuan") and not cfg.get("rope_theta"))), origin),
        mla=Fact.of(isinstance(cfg.get("kv_lora_rank"), int) and cfg["kv_lora_rank"] > 0, origin),
        moe=Fact.of(_num_experts(cfg, r).get(0) > 1, origin),
        num_experts=_num_experts(cfg, r),
        encoder_decoder=encoder_decoder,
        has_attention=has_attention,
        attention_dropout=r.float("attention_dropout", "attn_pdrop", "attention_probs_dropout_prob",
                                  default=0.0),
        checkpoint_dtype=_checkpoint_dtype(top, cfg, origin),
        quant_method=_quant_method(top, origin),
        config_attn_impl=_config_attn_impl(top, origin),
        auto_map=top["auto_map"] if isinstance(top.get("auto_map"), dict) else {},
        legacy_keys=frozenset(k for k in LEGACY_FLASH_KEYS if _has_key(top, k)),
    )


class _Reader:
    """Reads numeric fields under their many names, rejecting wrong types and absurd values."""

    def __init__(self, cfg: dict[str, Any], where: str, origin: str) -> None:
        self.cfg, self.where, self.origin = cfg, where, origin

    def int(self, kind: str, *keys: str, minimum: int = 1) -> Fact[int]:
        for key in keys:
            if key not in self.cfg or self.cfg[key] is None:
                continue
            value = self.cfg[key]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"{self.where}: `{key}` must be an integer, not {value!r}"[:200])
            if value < minimum or value > LIMITS[kind]:
                raise InputError(f"{self.where}: `{key}` = {value} is not a plausible value "
                                 f"(expected {minimum} to {LIMITS[kind]})")
            return Fact.of(value, f"{self.origin} `{key}`")
        return Fact.unknown(f"config.json has none of {', '.join(f'`{k}`' for k in keys)}", self.origin)

    def float(self, *keys: str, default: float | None = None) -> Fact[float]:
        for key in keys:
            if key in self.cfg and self.cfg[key] is not None:
                value = self.cfg[key]
                if not finite_number(value) or value < 0:
                    raise InputError(f"{self.where}: `{key}` must be a non-negative number, not {value!r}"[:200])
                return Fact.of(float(value), f"{self.origin} `{key}`")
        if default is not None:
            return Fact.of(default, f"{self.origin} (absent: transformers' default)")
        return Fact.unknown(f"config.json has none of {', '.join(keys)}", self.origin)


def _text_config(top: dict[str, Any]) -> dict[str, Any]:
    """The language model's config: nested `text_config` for multimodal wrappers, else the top level."""
    for key in NESTED_TEXT_KEYS:
        nested = top.get(key)
        if isinstance(nested, dict) and any(k in nested for k in TEXT_SIZE_KEYS):
            return nested
    return top


def _kv_heads(cfg: dict[str, Any], r: _Reader, heads: Fact[int], attn_cfg: dict[str, Any],
              origin: str) -> Fact[int]:
    explicit = r.int("heads", "num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
    if cfg.get("multi_query_group_num") is not None and not cfg.get("multi_query_attention", True):
        explicit = Fact.unknown("multi_query_attention is off", origin)
    if explicit.known:
        return explicit
    if attn_cfg.get("kv_n_heads"):
        value = attn_cfg["kv_n_heads"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LIMITS["heads"]:
            return Fact.of(value, f"{origin} `attn_config.kv_n_heads`")
    if cfg.get("multi_query") is True:
        return Fact.of(1, f"{origin} `multi_query`")
    if heads.value is not None:
        return Fact.of(heads.value, f"{origin} (no key/value head count: one per attention head)")
    return Fact.unknown("the number of attention heads is unknown", origin)


def _head_dim(cfg: dict[str, Any], r: _Reader, hidden: Fact[int], heads: Fact[int], origin: str) -> Fact[int]:
    if isinstance(cfg.get("qk_nope_head_dim"), int) and isinstance(cfg.get("qk_rope_head_dim"), int):
        value = cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
        if 0 < value <= LIMITS["head_dim"]:
            return Fact.of(value, f"{origin} `qk_nope_head_dim` + `qk_rope_head_dim` (MLA)")
    explicit = r.int("head_dim", "head_dim", "d_kv", "kv_channels", "attention_head_size")
    if explicit.known:
        return explicit
    if hidden.known and heads.known and hidden.value and heads.value:
        if hidden.value % heads.value:
            return Fact.unknown(f"hidden size {hidden.value} is not a multiple of {heads.value} heads "
                                "and config.json has no `head_dim`", origin)
        return Fact.of(hidden.value // heads.value, f"{origin} (hidden_size / num_attention_heads)")
    return Fact.unknown("needs `head_dim`, or the hidden size and the number of heads", origin)


HEAD_DIM_KEYS = ("global_head_dim", "swa_head_dim", "swa_v_head_dim", "v_head_dim", "head_dim")


def _max_head_dim(cfg: dict[str, Any], head_dim: Fact[int], origin: str) -> Fact[int]:
    """The largest of every head dimension the config gives (per layer too) and the shared one."""
    found: list[tuple[int, str]] = []
    if head_dim.known and head_dim.value:
        found.append((head_dim.value, head_dim.source))
    holders = [(cfg, "")]
    per = cfg.get("per_layer_config")
    if isinstance(per, dict):
        holders += [(v, f"per_layer_config.{k}.") for k, v in per.items() if isinstance(v, dict)]
    mla = isinstance(cfg.get("kv_lora_rank"), int) and cfg.get("kv_lora_rank")
    for holder, prefix in holders:
        for key in HEAD_DIM_KEYS:
            value = holder.get(key)
            if key == "head_dim" and mla:
                continue  # MLA's `head_dim` is the rope part; its heads are `qk_nope_head_dim` + `qk_rope_head_dim`
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LIMITS["head_dim"]:
                found.append((value, f"{origin} `{prefix}{key}`"))
    if not found:
        return Fact.unknown(head_dim.reason or "no head dimension is known", origin)
    value, where = max(found)
    return Fact.of(value, where)


def _sliding_window(cfg: dict[str, Any], r: _Reader, origin: str) -> Fact[int]:
    if cfg.get("use_sliding_window") is False:
        return Fact(None, f"{origin} `use_sliding_window: false`")
    window = r.int("window", "sliding_window", "attention_window_size", minimum=1)
    if not window.known:
        return Fact(None, f"{origin} (no `sliding_window`)")
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and layer_types and not any(
            isinstance(t, str) and "sliding" in t for t in layer_types):
        return Fact(None, f"{origin} `layer_types` (no sliding layer)")
    return window


def _softcap(cfg: dict[str, Any], r: _Reader, origin: str) -> Fact[float]:
    fact = r.float("attn_logit_softcapping")
    if fact.known and fact.value:
        return fact
    return Fact(None, f"{origin} (no attention logit softcapping)")


def _rope_type(cfg: dict[str, Any], origin: str) -> Fact[str]:
    for key in ("rope_parameters", "rope_scaling"):
        spec = cfg.get(key)
        if isinstance(spec, dict):
            kind = spec.get("rope_type") or spec.get("type")
            if isinstance(kind, str):
                return Fact.of(kind, f"{origin} `{key}`")
    if cfg.get("rope_theta") is not None or cfg.get("rotary_dim") is not None or cfg.get("rotary_emb_base"):
        return Fact.of("default", f"{origin} (rotary, no scaling)")
    if cfg.get("use_rotary_emb") or cfg.get("rotary_pct") is not None or cfg.get("partial_rotary_factor"):
        return Fact.of("default", f"{origin} (rotary, no scaling)")
    return Fact(None, f"{origin} (no rope settings in config.json)")


def _is_ssm(cfg: dict[str, Any], model_type: object) -> bool:
    return model_type in ("mamba", "mamba2", "falcon_mamba", "rwkv", "xlstm") or ("state_size" in cfg and \
        "num_attention_heads" not in cfg)


def _num_experts(cfg: dict[str, Any], r: _Reader) -> Fact[int]:
    fact = r.int("experts", "num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")
    return fact if fact.known else Fact.of(1, f"{r.origin} (dense: no experts)")


def _checkpoint_dtype(top: dict[str, Any], cfg: dict[str, Any], origin: str) -> Fact[str]:
    for holder in (top, cfg):
        for key in ("dtype", "torch_dtype"):
            value = holder.get(key)
            if isinstance(value, str):
                name = FLOAT_DTYPES.get(value.removeprefix("torch.").lower())
                if name:
                    return Fact.of(name, f"{origin} `{key}`")
                return Fact.unknown(f"`{key}` is {value!r}, not a floating-point dtype", origin)
    if top.get("bf16") is True:
        return Fact.of("bfloat16", f"{origin} `bf16`")
    if top.get("fp16") is True:
        return Fact.of("float16", f"{origin} `fp16`")
    return Fact.unknown("config.json names no dtype (`torch_dtype` or `dtype`)", origin)


def _quant_method(top: dict[str, Any], origin: str) -> Fact[str]:
    q = top.get("quantization_config")
    if q is None:
        return Fact(None, f"{origin} (no quantization_config)")
    if not isinstance(q, dict):
        raise InputError(f"config.json: `quantization_config` must be an object, not {type(q).__name__}")
    method = q.get("quant_method")
    if isinstance(method, str):
        return Fact.of(method.lower(), f"{origin} `quantization_config.quant_method`")
    if q.get("load_in_4bit") or q.get("load_in_8bit"):
        return Fact.of("bitsandbytes", f"{origin} `quantization_config`")
    return Fact.unknown("`quantization_config` has no `quant_method`", origin)


def _config_attn_impl(top: dict[str, Any], origin: str) -> Fact[str]:
    for key in ("_attn_implementation", "attn_implementation"):
        value = top.get(key)
        if isinstance(value, str) and value:
            return Fact.of(value, f"{origin} `{key}`")
    return Fact(None, f"{origin} (no attention implementation written in it)")


def _has_key(cfg: dict[str, Any], dotted: str) -> bool:
    head, _, tail = dotted.partition(".")
    if head not in cfg:
        return False
    return not tail or (isinstance(cfg[head], dict) and tail in cfg[head])
