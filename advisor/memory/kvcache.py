"""What the generation cache holds per layer: keys and values per token, capped windows, recurrent states,
cross-attention per encoder (or image) token.

Figures are in elements; the ledger multiplies by the cache dtype (the compute dtype). They follow
transformers' caches (cache_utils.py, 5.23): a full-attention layer keeps every token; a sliding-window or
chunked layer the last `window - 1` (DynamicSlidingWindowLayer); linear attention, state-space and short
convolution layers a fixed state per sequence (LinearAttentionLayer: convolution state and recurrent state);
layers that only hold an MLP or reuse another layer's cache nothing (DummyLayer); a cross-attention layer the
keys and values of every encoder or image token. Head dimensions are read per layer (`per_layer_config`,
Gemma-4's `global_head_dim`, MiMo's `swa_*`); multi-head latent attention keeps the compressed latent from
transformers 5.15.0 and the expanded keys and values before (see `mla_latent`), and a sparse-attention
indexer (DeepSeek-V3.2, GLM-5) one key of `index_head_dim` more per token.
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import frozen
from advisor.memory.config import Cfg, MissingSize
from advisor.memory.layers import Layer, layer_cfg, pattern

MLA_LATENT_SINCE = (5, 15, 0)
"""transformers caches MLA's compressed latent from 5.15.0 on; 5.0-5.14 (and 4.x) cache the keys and values
after `kv_b_proj`. Read in every MLA model of the wheels (models/<type>/modeling_<type>.py: whether
`kv_b_proj` runs before `past_key_values.update`): expanded in 5.0.0, 5.10.0 and 5.14.0 (deepseek_v2,
deepseek_v3, deepseek_v32, glm4_moe_lite, glm_moe_dsa, longcat_flash, minicpm3, mistral4, youtu), latent in
5.15.0 through 5.23.0 for every MLA model they hold."""
HEAD_KEYS = ("num_attention_heads", "n_head", "num_heads", "n_heads", "attention_heads", "decoder_attention_heads")
HIDDEN_KEYS = ("hidden_size", "n_embd", "d_model", "n_embed", "embed_dim", "dim")
NO_CACHE = {"openai-gpt"}
UNKNOWN_CACHES = {
    "xlstm": "xLSTM keeps its own recurrent cache (xLSTMCache), which advisor has no formula for",
    "recurrent_gemma": "RecurrentGemma keeps its recurrent and local-attention states inside its layers",
    "reformer": "Reformer's LSH attention keeps buckets and states advisor has no formula for",
    "rwkv": "RWKV keeps a recurrent state advisor has no formula for",
}
"""Causal LMs whose forward returns no cache (models/openai/modeling_openai.py takes no past_key_values)."""
ENCODERS = {"bert", "roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "electra", "ernie", "data2vec-text",
            "megatron-bert", "rembert", "roformer", "roc_bert", "big_bird", "xmod", "roberta-prelayernorm",
            "bert-generation", "nezha", "qdqbert", "mra", "ibert", "nystromformer", "yoso", "canine",
            "distilbert", "albert", "mpnet", "deberta", "deberta-v2", "funnel", "layoutlm", "luke", "splinter",
            "squeezebert", "mobilebert", "convbert"}
"""Encoder stacks whose causal-LM head caches only as a decoder (`is_decoder`, BertLMHeadModel and kin)."""


@frozen
class LayerCache:
    """One layer's cache: `per_token` elements per token (up to `window` tokens), a fixed `state`, and
    `cross` elements per encoder or image token."""

    kind: str
    """full, window, state or none."""
    per_token: int = 0
    window: int | None = None
    """Tokens a windowed layer keeps (transformers keeps `sliding_window - 1`)."""
    state: int = 0
    """Elements of recurrent state per sequence."""
    cross: int = 0
    """Elements per encoder (or image) token of its cross-attention."""


@frozen
class CacheSpec:
    """The cache of the whole model."""

    layers: tuple[LayerCache, ...]
    exact: bool = True
    """The layout is what transformers builds; False: an upper bound (a pattern that had to be guessed)."""
    encoder_tokens: int | None = None
    """Encoder (or image) tokens the cross-attention holds; None: as many as the context."""
    encoder_note: str = ""
    latent_per_token: int | None = None
    """MLA: what a serving engine caches per token (the compressed latent and the rope key)."""
    notes: tuple[str, ...] = ()

    @property
    def cross_per_token(self) -> int:
        """Elements per encoder token over all cross-attention layers."""
        return sum(c.cross for c in self.layers)

    @property
    def state(self) -> int:
        return sum(c.state for c in self.layers)

    def per_token(self, context: int | None = None) -> int:
        """Elements per token over the layers that still grow at this context (all, when None)."""
        return sum(c.per_token for c in self.layers
                   if c.kind == "full" or (c.kind == "window" and (context is None or c.window is None
                                                                   or context < (c.window or 0))))

    def elements(self, context: int) -> int:
        """Elements held for one sequence of `context` tokens (cross-attention included)."""
        enc = self.encoder_tokens if self.encoder_tokens is not None else context
        return sum(layer_elements(c, context, enc) for c in self.layers)

    @property
    def has_cache(self) -> bool:
        return any(c.kind != "none" or c.cross for c in self.layers)


def layer_elements(c: LayerCache, context: int, encoder: int) -> int:
    own = (c.per_token * context if c.kind == "full" else c.per_token * min(context, c.window or context)
           if c.kind == "window" else 0)
    return own + c.state + c.cross * encoder


def mla_latent_for(version: Any) -> bool | None:
    """Whether transformers VERSION caches MLA's latent; None when the version is unknown."""
    release = getattr(version, "release", None)
    return None if release is None else tuple(release[:3]) >= MLA_LATENT_SINCE


def cache_spec(top: dict[str, Any], text: dict[str, Any], model_type: str | None, architecture: str | None,
               mla_latent: bool | None = True) -> CacheSpec:
    """The cache layout from config.json; MissingSize when a size it needs is absent or a layer is of a kind
    whose cache is not known.

    `mla_latent`: the target transformers caches MLA's compressed latent (True), the expanded keys and values
    (False), or the version is unknown (None: the larger, expanded figure).
    """
    cfg, mt, arch = Cfg(text), model_type or "", architecture or ""
    tcfg = Cfg(top)
    if (mt in ENCODERS or mt.startswith("bert")) and not cfg.flag("is_decoder", False) and not tcfg.flag(
            "is_encoder_decoder", False):
        n = cfg.opt("num_hidden_layers") or 0
        return CacheSpec(tuple(LayerCache("none") for _ in range(n)),
                         notes=("an encoder stack keeps no generation cache unless `is_decoder` is set",))
    if mt in NO_CACHE or arch.endswith(("ForMaskedLM", "ForSequenceClassification", "ForTokenClassification")):
        n = cfg.opt("num_hidden_layers") or 0
        return CacheSpec(tuple(LayerCache("none") for _ in range(n)), notes=("an encoder keeps no generation cache",))
    if tcfg.flag("is_encoder_decoder", False) or cfg.flag("is_encoder_decoder", False):
        return _encoder_decoder(tcfg, cfg, mt)
    pat = pattern(cfg, mt)
    layers, notes = [], list(pat.notes)
    latent_total = 0
    mla_note = ""
    for layer in pat.layers:
        lc, note = _layer(layer, layer_cfg(cfg, layer.index), mt, mla_latent)
        layers.append(lc)
        if layer.mixer.startswith("mla") and not layer.shared_kv:
            latent_total += _latent(layer_cfg(cfg, layer.index))
            mla_note = note or mla_note
    if mla_note:
        notes.append(mla_note)
    if not pat.exact:
        notes.append(f"an upper bound: {pat.source}")
    enc_tokens, enc_note = None, ""
    if any(c.cross for c in layers):
        enc_tokens, enc_note = _image_tokens(tcfg)
    return CacheSpec(tuple(layers), pat.exact, enc_tokens, enc_note, latent_total or None, tuple(notes))


def kv_heads(cfg: Cfg, layer: Layer | None = None) -> int:
    """Key/value heads of a layer (multi-query, grouped, or one per attention head)."""
    heads = cfg.need(*HEAD_KEYS)
    if layer is not None and layer.window is not None and cfg.opt("swa_num_key_value_heads"):
        return cfg.need("swa_num_key_value_heads")
    if layer is not None and layer.window is not None and cfg.get("model_type") == "mimo_v2_flash":
        # "num_key_value_heads * 2 if is_swa" (models/mimo_v2_flash/modeling_mimo_v2_flash.py)
        return 2 * cfg.need("num_key_value_heads")
    if layer is not None and layer.window is None and _global_geometry(cfg):
        glob = cfg.opt("num_global_key_value_heads")
        if glob and cfg.flag("attention_k_eq_v", True):
            return glob
    if cfg.flag("multi_query", False) and not cfg.flag("new_decoder_architecture", False):
        return 1
    if cfg.get("multi_query_group_num") is not None and cfg.flag("multi_query_attention", True):
        return cfg.need("multi_query_group_num")
    attn = cfg.sub("attn_config")
    found = cfg.opt("num_key_value_heads", "num_kv_heads", "n_head_kv", "num_query_groups")
    if found is None and attn is not None:
        found = attn.opt("kv_n_heads")
    return found or heads


def _global_geometry(cfg: Cfg) -> bool:
    """Gemma-4's full-attention layers: `global_head_dim` (and `num_global_key_value_heads`) unless the config
    already lists per-layer overrides (models/gemma4/configuration_gemma4.py `__post_init__`)."""
    return cfg.opt("global_head_dim") is not None and not isinstance(cfg.get("per_layer_config"), dict)


def head_dims(cfg: Cfg, layer: Layer | None = None) -> tuple[int, int]:
    """(key, value) head dimensions of an attention layer."""
    heads = cfg.need(*HEAD_KEYS)
    hidden = cfg.opt(*HIDDEN_KEYS)
    if layer is not None and layer.window is not None and cfg.opt("swa_head_dim"):
        k = cfg.need("swa_head_dim")
        return k, cfg.opt("swa_v_head_dim") or k
    if layer is not None and layer.window is None and _global_geometry(cfg):
        g = cfg.need("global_head_dim")
        return g, g
    found = cfg.opt("head_dim", "d_kv", "attention_head_dim", "kv_channels", "dim_head", "attention_head_size")
    if not found:
        if not hidden:
            raise MissingSize(f"{cfg.where} gives neither `head_dim` nor the hidden size")
        found = hidden // heads
    k = found
    v = k if cfg.has("kv_lora_rank") else (cfg.opt("v_head_dim") or k)
    return k, v


def _latent(cfg: Cfg) -> int:
    return cfg.need("kv_lora_rank") + cfg.need("qk_rope_head_dim")


def _indexer(cfg: Cfg, layer: Layer) -> int:
    """Indexer keys a DeepSeek-sparse-attention layer caches per token (none where it shares another's)."""
    kinds = cfg.get("indexer_types")
    if isinstance(kinds, list) and layer.index < len(kinds) and kinds[layer.index] == "shared":
        return 0
    i = layer.index
    if kinds is None and cfg.get("model_type") == "hy_v4" and not (i == 0 or (i - 1) % 4 == 0):
        return 0  # "full" if layer_idx == 0 or (layer_idx - 1) % 4 == 0 else "shared" (configuration_hy_v4.py)
    return cfg.opt("index_head_dim") or 0


def _layer(layer: Layer, cfg: Cfg, mt: str, mla_latent: bool | None) -> tuple[LayerCache, str]:
    if layer.shared_kv and layer.mixer == "mla-indexed" and _indexer(cfg, layer):
        # shares the latent of another layer but keeps its own indexer keys ("reuse_but_indexer")
        return LayerCache("full", _indexer(cfg, layer)), ""
    if layer.shared_kv or layer.mixer == "none":
        return LayerCache("none"), ""
    if mt in UNKNOWN_CACHES:
        raise MissingSize(UNKNOWN_CACHES[mt])
    if cfg.opt("index_kpool"):
        raise MissingSize("the pooled sparse-attention indexer (`index_kpool`) keeps a cache advisor has no "
                          "formula for")
    kind = "window" if layer.window is not None else "full"
    window = max((layer.window or 1) - 1, 1) if kind == "window" else None
    if layer.mixer == "attention" and mt == "xlnet":
        return LayerCache("full", cfg.need("d_model")), ""  # XLNet's `mems`: one hidden state per token
    if layer.mixer == "attention":
        k, v = head_dims(cfg, layer)
        per = kv_heads(cfg, layer) * (k + v)
        prompt = cfg.opt("prompt_length") if mt == "cpmant" else None  # CPM-Ant prefixes its prompt tokens
        return LayerCache(kind, per, window, per * (prompt or 0)), ""
    if layer.mixer.startswith("mla"):
        heads = cfg.need("num_attention_heads")
        nope, rope, vd = cfg.need("qk_nope_head_dim"), cfg.need("qk_rope_head_dim"), cfg.need("v_head_dim")
        latent, full = _latent(cfg), heads * (nope + rope) + heads * vd
        no_rope = cfg.get("no_rope_layers")
        if isinstance(no_rope, list) and layer.index < len(no_rope) and not no_rope[layer.index]:
            latent -= rope  # a no-RoPE layer keeps no rope key (models/mistral_large4/modeling_mistral_large4.py)
        extra = _indexer(cfg, layer) if layer.mixer == "mla-indexed" else 0
        per = (latent if mla_latent else full) + extra
        note = (f"multi-head latent attention: the target transformers caches the compressed latent ({latent} "
                f"elements per token and layer), not the {full} of expanded keys and values" if mla_latent else
                f"multi-head latent attention: transformers before 5.15 caches the expanded keys and values ({full} "
                f"elements per token and layer); 5.15 and later, like vLLM, the latent ({latent})")
        if mla_latent is None:
            note += "; the target transformers version is unknown, so the larger figure is used"
        if extra:
            note += f"; the sparse-attention indexer caches {extra} more per token"
        return LayerCache(kind, per, window), note
    if layer.mixer == "linear":
        return LayerCache("state", state=recurrent_state(cfg, mt)), ""
    if layer.mixer == "conv":
        return LayerCache("state", state=_conv_state(cfg)), ""
    if layer.mixer == "hybrid":
        k, v = head_dims(cfg, layer)
        return LayerCache("full", kv_heads(cfg, layer) * (k + v), None, recurrent_state(cfg, mt)), ""
    if layer.mixer == "cross":
        k, v = head_dims(cfg, layer)
        return LayerCache("none", cross=kv_heads(cfg, layer) * (k + v)), ""
    raise MissingSize(f"layer {layer.index} is of type `{layer.mixer}`, whose cache advisor has no formula for")


def recurrent_state(cfg: Cfg, mt: str) -> int:
    """Elements of a linear-attention or state-space layer's state per sequence (convolution + recurrent)."""
    if cfg.has("linear_num_value_heads", "linear_value_head_dim"):
        # Gated DeltaNet (Qwen3-Next, Qwen3.5, OLMo-hybrid): conv over q, k, v; state heads x dk x dv
        nk, dk = cfg.need("linear_num_key_heads"), cfg.need("linear_key_head_dim")
        nv, dv = cfg.need("linear_num_value_heads"), cfg.need("linear_value_head_dim")
        kernel = cfg.need("linear_conv_kernel_dim")
        return (2 * nk * dk + nv * dv) * kernel + nv * dk * dv
    if cfg.has("linear_num_heads", "linear_head_dim"):
        # Kimi delta attention (Kimi-Linear, Ling hybrid, GLM-5-next): three short convs, heads x d x d
        h, d = cfg.need("linear_num_heads"), cfg.need("linear_head_dim")
        kernel = cfg.need("linear_conv_kernel_dim", "short_conv_kernel_size")
        return 3 * h * d * kernel + h * d * d
    groups = cfg.opt("n_groups", "mamba_n_groups", "mamba_ngroups")
    state = cfg.opt("ssm_state_size", "mamba_d_state", "state_size")
    if state is not None and groups is not None:
        # Mamba-2: conv over x, B, C; state heads x head_dim x state
        hidden = cfg.need("hidden_size", "d_model")
        heads = cfg.opt("mamba_num_heads", "mamba_n_heads", "n_mamba_heads", "num_heads")
        hd = cfg.opt("mamba_head_dim", "mamba_d_head", "mamba_headdim", "head_dim")
        inner = cfg.opt("mamba_d_ssm") or (heads * hd if heads and hd else None) or (
            cfg.need("mamba_expand", "expand") * hidden)
        if not heads:
            heads = inner // cfg.need("mamba_head_dim", "mamba_d_head", "mamba_headdim", "head_dim")
        if not hd:
            hd = inner // heads
        kernel = cfg.need("conv_kernel", "mamba_d_conv")
        return (inner + 2 * groups * state) * kernel + heads * hd * state
    if state is not None:
        # Mamba-1: conv over the inner width, state inner x state
        hidden = cfg.need("hidden_size", "d_model")
        inner = (cfg.opt("intermediate_size") if mt in ("mamba", "falcon_mamba") else None) or (
            cfg.need("mamba_expand", "expand") * hidden)
        return inner * cfg.need("conv_kernel", "mamba_d_conv") + inner * state
    if mt == "minimax" or cfg.has("linear_attn_alpha_factor"):
        # MiniMax lightning attention: one heads x d x d state (MiniMaxCache.linear_cache)
        heads = cfg.need("num_attention_heads")
        k, _ = head_dims(cfg)
        return heads * k * k
    raise MissingSize(f"{cfg.where} describes a linear-attention or state-space layer advisor has no formula for")


def _conv_state(cfg: Cfg) -> int:
    """LFM short convolution: the hidden width x the cached length `conv_L_cache`."""
    return cfg.need("hidden_size") * cfg.need("conv_L_cache")


def _image_tokens(top: Cfg) -> tuple[int | None, str]:
    """Vision tokens one image gives a cross-attention decoder (mllama: every tile's patches and a class token)."""
    vision = top.sub("vision_config")
    if vision is None:
        return None, "cross-attention holds as many image tokens as the context"
    tiles = vision.opt("max_num_tiles") or 1
    size, patch = vision.opt("image_size"), vision.opt("patch_size")
    if not size or not patch:
        return None, "cross-attention holds as many image tokens as the context"
    tokens = tiles * ((size // patch) ** 2 + 1)
    return tokens, (f"cross-attention holds the keys and values of one image's {tokens} vision tokens "
                    f"({tiles} tiles of {(size // patch) ** 2} patches and a class token) per sequence")


def _decoder_of(top: Cfg, cfg: Cfg) -> Cfg:
    """The decoder's config of an encoder-decoder: a `decoder` / `decoder_config` / text sub-config, or the top."""
    for key in ("decoder", "decoder_config"):
        sub = top.sub(key)
        if sub is not None:
            return sub
    return cfg


def _encoder_decoder(top: Cfg, cfg: Cfg, mt: str) -> CacheSpec:
    """Decoder self-attention per generated token, cross-attention per encoder token."""
    dec = _decoder_of(top, cfg)
    n = dec.need("decoder_layers", "num_decoder_layers", "decoder_num_hidden_layers", "num_layers",
                 "num_hidden_layers")
    heads = dec.need("decoder_attention_heads", "num_decoder_attention_heads", "decoder_num_attention_heads",
                     "num_heads", "num_attention_heads")
    kv = dec.opt("decoder_num_key_value_heads", "num_key_value_heads") or heads
    d = dec.need("d_model", "hidden_size")
    hd = dec.opt("d_kv", "head_dim") or d // heads
    per = 2 * kv * hd
    frames = top.opt("max_source_positions") if mt == "whisper" else None
    note = (f"encoder-decoder: cross-attention caches keys and values of the {frames} encoder frames in every "
            "decoder layer" if frames else "encoder-decoder: the decoder caches its own tokens and, per layer, the "
            "keys and values of every encoder token (the encoder input is taken as long as the context)")
    return CacheSpec(tuple(LayerCache("full", per, cross=per) for _ in range(n)), True, frames, "", None, (note,))
