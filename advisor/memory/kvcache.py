"""What the generation cache holds per layer: keys and values per token, capped windows, recurrent states.

Figures are in elements; the ledger multiplies by the cache dtype (the compute dtype). They follow
transformers' `DynamicCache`: a sliding-window or chunked layer keeps the last `window - 1` tokens,
a full-attention layer every token, a Mamba layer a fixed convolution and SSM state per sequence, and
an encoder-decoder's cross-attention layers the keys and values of every encoder token.
"""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import frozen
from advisor.memory.arch_sparse import jamba_attention_layers
from advisor.memory.config import Cfg, MissingSize

SLIDING = ("sliding_attention", "chunked_attention", "hybrid_sliding", "reference_sliding_attention")
FULL = ("full_attention", "attention", "hybrid")
STATE = ("mamba", "linear_attention", "conv", "ssm")


@frozen
class LayerCache:
    """One layer's cache: `per_token` elements per token (up to `window` tokens), or a fixed `state`."""

    kind: str
    """full, window, state or none."""
    per_token: int = 0
    window: int | None = None
    """Tokens a windowed layer keeps (transformers keeps `sliding_window - 1`)."""
    state: int = 0
    """Elements of recurrent state per sequence."""


@frozen
class CacheSpec:
    """The cache of the whole model, plus cross-attention for encoder-decoders."""

    layers: tuple[LayerCache, ...]
    cross_per_token: int = 0
    """Elements per encoder token over all cross-attention layers."""
    encoder_tokens: int | None = None
    """Fixed encoder length (Whisper: 1500 frames); None means the encoder sees the context."""
    latent_per_token: int | None = None
    """MLA: what a serving engine caches per token (the compressed latent and the rope key)."""
    notes: tuple[str, ...] = ()

    def per_token(self, context: int | None = None) -> int:
        """Elements per token over the layers that still grow at this context (all, when None)."""
        return sum(c.per_token for c in self.layers
                   if c.kind == "full" or (c.kind == "window" and (context is None or c.window is None
                                                                   or context < (c.window or 0))))

    def elements(self, context: int) -> int:
        """Elements held for one sequence of `context` tokens (cross-attention included)."""
        total = 0
        for c in self.layers:
            if c.kind == "full":
                total += c.per_token * context
            elif c.kind == "window":
                total += c.per_token * min(context, c.window or context)
            elif c.kind == "state":
                total += c.state
        enc = self.encoder_tokens if self.encoder_tokens is not None else context
        return total + self.cross_per_token * enc

    @property
    def has_cache(self) -> bool:
        return any(c.kind != "none" for c in self.layers) or self.cross_per_token > 0


def cache_spec(top: dict[str, Any], text: dict[str, Any], model_type: str | None, architecture: str | None,
               mla_latent: bool = True) -> CacheSpec:
    """The cache layout from config.json; MissingSize when a size it needs is absent.

    `mla_latent`: the target transformers caches MLA's compressed latent (5.x) rather than the
    decompressed keys and values (4.x).
    """
    cfg, mt, arch = Cfg(text), model_type or "", architecture or ""
    if mt == "bert" or (arch.endswith(("ForMaskedLM", "ForSequenceClassification")) and not mt.startswith("t5")):
        n = cfg.opt("num_hidden_layers") or 0
        return CacheSpec(tuple(LayerCache("none") for _ in range(n)), notes=("an encoder keeps no generation cache",))
    if mt == "t5":
        return _t5(cfg)
    if mt == "whisper":
        return _whisper(cfg)
    if mt == "mamba":
        return _mamba(cfg)
    if mt == "jamba":
        return _jamba(cfg)
    if isinstance(cfg.get("kv_lora_rank"), int) and cfg.get("kv_lora_rank"):
        return _mla(cfg, mla_latent)
    return _decoder(cfg, mt)


def _kv(cfg: Cfg) -> int:
    heads = cfg.need("num_attention_heads", "n_head", "num_heads")
    kv = cfg.opt("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num")
    if kv is None:
        kv = 1 if cfg.flag("multi_query", False) and not cfg.flag("new_decoder_architecture", False) else heads
    hidden = cfg.need("hidden_size", "n_embd", "d_model")
    hd = cfg.opt("head_dim", "kv_channels") or hidden // heads
    return 2 * kv * hd


def layer_types(cfg: Cfg, mt: str, layers: int) -> list[str]:
    """Per layer: full_attention, sliding_attention or chunked_attention, as transformers derives them."""
    given = cfg.get("layer_types")
    if isinstance(given, list) and len(given) == layers and all(isinstance(t, str) for t in given):
        return list(given)
    window = cfg.opt("sliding_window")
    if mt in ("llama4", "llama4_text") and cfg.opt("attention_chunk_size"):
        interval = cfg.opt("no_rope_layer_interval") or 4
        return ["chunked_attention" if (i + 1) % interval else "full_attention" for i in range(layers)]
    if not window or cfg.get("use_sliding_window") is False:
        return ["full_attention"] * layers
    if mt == "gemma2":
        return ["sliding_attention" if (i + 1) % 2 else "full_attention" for i in range(layers)]
    if mt in ("gemma3", "gemma3_text"):
        pattern = cfg.opt("sliding_window_pattern") or 6
        return ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(layers)]
    if mt in ("qwen2", "qwen2_moe", "qwen3", "qwen3_moe"):
        first = cfg.opt("max_window_layers") or 0
        return ["sliding_attention" if cfg.get("use_sliding_window") and i >= first else "full_attention"
                for i in range(layers)]
    return ["sliding_attention"] * layers


def _decoder(cfg: Cfg, mt: str) -> CacheSpec:
    layers = cfg.need("num_hidden_layers", "n_layer", "num_layers")
    per = _kv(cfg)
    out: list[LayerCache] = []
    for t in layer_types(cfg, mt, layers):
        if t in SLIDING:
            w = cfg.need("attention_chunk_size") if t == "chunked_attention" else cfg.need("sliding_window")
            out.append(LayerCache("window", per, max(w - 1, 1)))
        elif t in STATE:
            raise MissingSize(f"layer type `{t}` keeps a recurrent state advisor has no formula for")
        elif t in ("moe", "mlp", "dummy"):
            out.append(LayerCache("none"))
        else:
            out.append(LayerCache("full", per))
    return CacheSpec(tuple(out))


def _mla(cfg: Cfg, latent: bool) -> CacheSpec:
    layers, heads = cfg.need("num_hidden_layers"), cfg.need("num_attention_heads")
    nope, rope, v = cfg.need("qk_nope_head_dim"), cfg.need("qk_rope_head_dim"), cfg.need("v_head_dim")
    full = heads * (nope + rope) + heads * v
    small = cfg.need("kv_lora_rank") + rope
    if latent:
        note = (f"multi-head latent attention: transformers 5 caches the compressed latent ({small} elements "
                f"per token per layer, as vLLM does), not the {full} of decompressed keys and values")
    else:
        note = (f"multi-head latent attention: transformers 4.x caches the decompressed keys and values ({full} "
                f"elements per token per layer); a serving engine such as vLLM caches the latent ({small})")
    per = small if latent else full
    return CacheSpec(tuple(LayerCache("full", per) for _ in range(layers)), latent_per_token=small * layers,
                     notes=(note,))


def _mamba_state(inner: int, conv: int, state: int) -> int:
    return inner * conv + inner * state


def _mamba(cfg: Cfg) -> CacheSpec:
    layers, hidden = cfg.need("num_hidden_layers", "n_layer"), cfg.need("hidden_size", "d_model")
    inner = cfg.opt("intermediate_size") or cfg.need("expand") * hidden
    st = _mamba_state(inner, cfg.opt("conv_kernel") or 4, cfg.need("state_size"))
    return CacheSpec(tuple(LayerCache("state", state=st) for _ in range(layers)),
                     notes=("Mamba layers keep a fixed convolution and SSM state per sequence, not a growing cache",))


def _jamba(cfg: Cfg) -> CacheSpec:
    hidden = cfg.need("hidden_size")
    inner = (cfg.opt("mamba_expand") or 2) * hidden
    st = _mamba_state(inner, cfg.opt("mamba_d_conv") or 4, cfg.opt("mamba_d_state") or 16)
    per = _kv(cfg)
    out = [LayerCache("full", per) if attn else LayerCache("state", state=st) for attn in jamba_attention_layers(cfg)]
    return CacheSpec(tuple(out), notes=("hybrid: only the attention layers grow with the context; "
                                        "the Mamba layers keep a fixed state per sequence",))


def _t5(cfg: Cfg) -> CacheSpec:
    per = 2 * cfg.need("num_heads") * cfg.need("d_kv")
    layers = cfg.opt("num_decoder_layers") or cfg.need("num_layers")
    return CacheSpec(tuple(LayerCache("full", per) for _ in range(layers)), cross_per_token=per * layers,
                     notes=("encoder-decoder: the decoder caches its own tokens and, per layer, the keys and values "
                            "of every encoder token (cross-attention); the encoder input is taken as long as the "
                            "context",))


def _whisper(cfg: Cfg) -> CacheSpec:
    d, layers = cfg.need("d_model"), cfg.need("decoder_layers")
    frames = cfg.need("max_source_positions")
    return CacheSpec(tuple(LayerCache("full", 2 * d) for _ in range(layers)), cross_per_token=2 * d * layers,
                     encoder_tokens=frames,
                     notes=(f"encoder-decoder: cross-attention caches keys and values of the {frames} encoder "
                            "frames in every decoder layer; the decoder's own cache grows with the output",))
