"""The generic parameter estimate: what any config says about its model, counted so that it errs high.

For an architecture outside the formula table this counts, per layer, the mixer the layer pattern gives
(attention with its per-layer head geometry, multi-head latent attention with its indexer, Gated-DeltaNet and
Kimi delta attention, Mamba-1/-2 blocks, short convolutions), the feed-forward (a gated MLP unless the config
shows a plain one; routed and shared experts with their router on the layers the config makes sparse), norms,
the embeddings and an untied head, and the vision and audio towers of a wrapper from their sub-configs. Where a
detail is not in the config (biases, a gate, a tower's projector) the larger choice is taken, so the figure is
an upper bound within a margin; it is labelled an estimate, never exact.
"""

from __future__ import annotations

import math

from advisor.memory.config import Cfg, MissingSize
from advisor.memory.kvcache import HIDDEN_KEYS, head_dims, kv_heads
from advisor.memory.layers import SSM_TYPES, Layer, layer_cfg, pattern
from advisor.memory.units import Acc, Unit, head

ALLOWANCE = 0.01
"""Added to every generic estimate: the tests hold each estimate to at most 1 % below transformers' own count,
and small parts no config names (gates, poolers, position tables) would otherwise leave some just under it."""
GAPS = {
    "blip-2": "a Q-Former bridge and language projection the tower estimate cannot size",
    "dia": "one embedding and head per audio codebook (`num_channels`)",
    "hrm_text": "hierarchical module stacks run in cycles (`H_cycles`, `L_cycles`, `num_layers_per_stack`)",
    "moss_transcribe_diarize": "an audio encoder and projector unlike a ViT-style tower",
    "muse_spark": "expert and residual-gate layers the generic layer model over-counts",
    "muse_glimmer": "expert and residual-gate layers the generic layer model does not describe",
    "nemo_speechlm": "a FastConformer speech encoder beside a block-typed Nemotron-H decoder",
    "paddleocr_vl": "a vision encoder and projector unlike a ViT-style tower",
    "pix2struct": "a vision encoder with its own patch projection inside an encoder-decoder",
    "pp_formulanet": "a windowed vision encoder inside an encoder-decoder",
    "recurrent_gemma": "Griffin recurrent blocks (`lru_width`, `block_types`)",
    "zamba": "Mamba-1 layers with one attention block shared every `attn_layer_period` layers",
    "canary": "a FastConformer speech encoder (convolution modules) inside an encoder-decoder",
    "cohere_asr": "a FastConformer speech encoder (convolution modules) inside an encoder-decoder",
    "encoder-decoder": "an encoder and a decoder assembled from two sub-configs",
    "speech-encoder-decoder": "a speech encoder and a text decoder assembled from two sub-configs",
    "evolla": "a protein-language encoder and a resampler",
    "florence2": "a DaViT vision encoder with per-stage widths",
    "git": "an image encoder and visual projection the tower estimate cannot size",
    "granite_docling": "a connector the tower estimate cannot size",
    "idefics": "a perceiver resampler and gated cross-attention layers",
    "idefics2": "a perceiver resampler and connector",
    "jetmoe": "mixture-of-attention experts (attention projections per expert)",
    "led": "Longformer-style global-attention projections",
    "longcat_flash": "zero-computation experts and two attention blocks per layer",
    "modernbert-decoder": "a GeGLU MLP with a fused input projection",
    "phi4_multimodal": "image and audio embedding modules inside the text model",
    "roc_bert": "pronunciation and shape embeddings beside the word embeddings",
    "xmod": "per-language adapter modules",
    "speech_to_text": "a convolutional subsampler in front of the encoder",
    "speecht5": "speech pre-nets and post-nets",
    "t5gemma": "an encoder and a decoder that are each a Gemma stack with its own config",
    "t5gemma2": "an encoder and a decoder that are each a Gemma stack with its own config",
    "trocr": "a decoder-only stack of encoder-decoder blocks with a layernorm embedding",
    "unlimited_ocr": "a vision encoder and projector unlike a ViT-style tower",
    "vibevoice": "acoustic and semantic tokenizers (VAE encoders and decoders)",
    "vibevoice_asr": "acoustic and semantic tokenizers (VAE encoders)",
    "video_llava": "separate image and video towers",
    "step3p7": "expert counts under two keys whose class defaults disagree (`num_local_experts`, `moe_num_experts`)",
}
"""Architectures transformers has whose parts config.json does not describe in a way the generic estimate
reads (tests/memory/test_coverage.py finds each one outside its bounds): their count is unknown unless
safetensors headers or a meta-device build give it."""
TOWER_ALLOWANCE = 0.10
"""A tower's own allowance: projectors, mergers and extra layers differ most between wrappers."""
PLAIN_ACTS = {"relu2", "gelu_new", "gelu_fast", "quick_gelu", "relu", "gelu", "xielu"}
"""Activations of plain (two-matrix) MLPs in the families that use them; a gated MLP is taken otherwise."""
PLAIN_KEYS = ("n_inner", "ffn_dim", "decoder_ffn_dim", "encoder_ffn_dim", "ffn_hidden_size", "d_ff", "dff")
NULL_WIDTH_KEYS = ("n_inner", "intermediate_size")
"""A width written as null means four times the hidden size in every family that writes one (transformers 5.23
gpt2, gptj, codegen, gpt_bigcode: `inner_dim = config.n_inner if config.n_inner is not None else 4 * hidden`;
gpt_neo the same with `intermediate_size`)."""
VOCAB_KEYS = ("vocab_size", "n_vocab", "padded_vocab_size")
INTER_KEYS = ("intermediate_size", "n_inner", "ffn_hidden_size", "d_ff", "ffn_dim", "dim_ff", "decoder_ffn_dim", "dff",
              "mlp_dim", "feed_forward_size", "inner_hidden_size")
EXPERT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts", "n_experts",
               "num_routed_experts")
EXPERT_WIDTH_KEYS = ("moe_intermediate_size", "expert_intermediate_size", "moe_ffn_hidden_size",
                     "expert_ffn_hidden_size", "moe_hidden_size", "expert_hidden_size")
SHARED_WIDTH_KEYS = ("shared_expert_intermediate_size", "moe_shared_expert_intermediate_size",
                     "shared_experts_intermediate_size", "shared_intermediate_size", "share_expert_dim")
SHARED_COUNT_KEYS = ("n_shared_experts", "num_shared_experts", "moe_num_shared_experts")
TOWER_KEYS = ("vision_config", "audio_config", "speech_config", "vision_tower_config", "audio_encoder_config",
              "visual", "vision_encoder_config", "encoder_config")


def _bias(cfg: Cfg, *keys: str) -> bool:
    """A bias unless the config says there is none (the larger choice)."""
    for key in keys:
        value = cfg.get(key)
        if isinstance(value, bool):
            return value
    return True


def _gated(cfg: Cfg) -> bool:
    """A gated MLP (three matrices) unless the config shows a plain one (the larger choice when unsure)."""
    if cfg.get("feed_forward_proj") is not None:
        return str(cfg.get("feed_forward_proj")).startswith("gated") or cfg.flag("is_gated_act", False)
    act = next((cfg.get(k) for k in ("mlp_hidden_act", "hidden_act", "activation_function", "hidden_activation")
                if isinstance(cfg.get(k), str)), None)
    if (cfg.has(*PLAIN_KEYS) or "n_inner" in cfg.data) and not cfg.has("intermediate_size"):
        return False  # the GPT-2 family's `n_inner` (null: 4 x hidden) is a plain MLP's width
    return not (isinstance(act, str) and act in PLAIN_ACTS)


def generic_units(top: Cfg, text: Cfg, model_type: str, missing: list[str], notes: list[str]) -> list[Unit]:
    """Units of the whole model (language model first, then towers), every one an upper-bound estimate."""
    if model_type in GAPS:
        raise MissingSize(GAPS[model_type])
    if top.flag("is_encoder_decoder", False) or text.flag("is_encoder_decoder", False):
        units = encoder_decoder_units(top, text, missing)
    else:
        units = decoder_units(text, model_type, notes)
        if text.data is not top.data:
            units.extend(tower_units(top, text, missing))
    allowance = math.ceil(sum(u.params for u in units) * ALLOWANCE)
    units.insert(-1, Unit(f"allowance ({ALLOWANCE:.0%}) for parts config.json does not name", "layer", allowance))
    return units


def _first(*cfgs: Cfg | None) -> Cfg:
    return next(c for c in cfgs if c is not None)


def encoder_decoder_units(top: Cfg, text: Cfg, missing: list[str]) -> list[Unit]:
    """An encoder-decoder: encoder layers, decoder layers with cross-attention, shared embeddings and positions,
    the head; a speech or vision encoder sub-config is counted as a tower."""
    dec = _first(top.sub("decoder"), top.sub("decoder_config"), text)
    enc_sub = top.sub("encoder") or top.sub("encoder_config")
    d = dec.need("d_model", "hidden_size")
    vocab = dec.opt(*VOCAB_KEYS) or top.need(*VOCAB_KEYS)
    dec_layers = dec.need("decoder_layers", "num_decoder_layers", "decoder_num_hidden_layers", "num_layers",
                          "num_hidden_layers")
    heads = dec.need("decoder_attention_heads", "num_decoder_attention_heads", "decoder_num_attention_heads",
                     "num_heads", "num_attention_heads")
    inner = heads * (dec.opt("d_kv", "head_dim") or d // heads)
    ffn = dec.opt("decoder_ffn_dim", "d_ff", "intermediate_size", "ffn_dim") or 4 * d
    gated = _gated(dec)
    experts = dec.opt("num_experts", "num_local_experts")
    units = [Unit("shared embeddings", "embed", vocab * d + 2 * (dec.opt("max_position_embeddings") or 0) * d)]

    def block(acc: Acc, width: int, cross: bool, i: int) -> None:
        acc.lin(d, 3 * inner, True)
        acc.lin(inner, d, True)
        if cross:
            acc.lin(d, 3 * inner, True)
            acc.lin(inner, d, True)
        n = 3 if gated else 2
        step = dec.opt("decoder_sparse_step" if cross else "encoder_sparse_step")
        # sparse every `step` layers: i % step == 1 in Switch, (i + 1) % step == 0 in NLLB-MoE
        # (models/switch_transformers/modeling_switch_transformers.py, models/nllb_moe/modeling_nllb_moe.py)
        switch = dec.get("model_type") == "switch_transformers" or top.get("model_type") == "switch_transformers"
        sparse = step is None or (step > 0 and ((i % step == 1 or step == 1) if switch else (i + 1) % step == 0))
        if experts and experts > 1 and sparse:
            acc.expert(d, width, n * experts, True)
            acc.add(experts * d)
        else:
            acc.lin(d, width, True, n=n)
        acc.add(6 * d + 32 * heads)  # norms, relative position buckets

    if enc_sub is not None and not enc_sub.has(*VOCAB_KEYS):
        try:
            units.append(Unit("encoder (estimate)", "encoder", encoder_estimate(enc_sub)))
        except MissingSize as exc:
            missing.append(f"encoder: {exc}")
    else:
        enc = enc_sub or dec
        enc_layers = enc.need("encoder_layers", "num_layers", "num_encoder_layers", "encoder_num_hidden_layers",
                              "num_hidden_layers")
        enc_ffn = enc.opt("encoder_ffn_dim", "d_ff", "intermediate_size", "ffn_dim") or ffn
        for i in range(enc_layers):
            acc = Acc()
            block(acc, enc_ffn, False, i)
            units.append(acc.unit(f"encoder layer {i}", "encoder"))
    for i in range(dec_layers):
        acc = Acc()
        block(acc, ffn, True, i)
        units.append(acc.unit(f"decoder layer {i}", "layer"))
    tied = dec.flag("tie_word_embeddings", top.flag("tie_word_embeddings", False))
    units.append(head(vocab, d, tied, extra=vocab + 4 * d))
    for key in ("vision_config", "audio_config", "speech_config"):
        sub = top.sub(key)
        if sub is not None:
            try:
                units.append(Unit(f"{key.removesuffix('_config')} tower (estimate)", "tower", encoder_estimate(sub)))
            except MissingSize as exc:
                missing.append(f"{key}: {exc}")
    return units


def decoder_units(cfg: Cfg, mt: str, notes: list[str]) -> list[Unit]:
    vocab = cfg.need(*VOCAB_KEYS)
    hidden = cfg.need(*HIDDEN_KEYS)
    pat = pattern(cfg, mt, weights_only=True)
    embed = vocab * hidden
    if not cfg.has("rope_theta", "rope_parameters", "rope_scaling", "rotary_dim", "rotary_pct",
                   "partial_rotary_factor", "rotary_emb_base", "position_embedding_type"):
        positions = cfg.opt("max_position_embeddings", "n_positions")
        if positions and positions <= 8192:
            embed += positions * hidden  # learned positions (their tables are short) when no rotary setting
    esize = cfg.opt("embedding_size")
    if esize and esize != hidden:  # ELECTRA-style factorised embeddings and their projection
        embed += vocab * esize - vocab * hidden + esize * hidden + hidden
    per_vocab, per_hidden = cfg.opt("vocab_size_per_layer_input"), cfg.opt("hidden_size_per_layer_input")
    if per_vocab and per_hidden:  # Gemma-3n / Gemma-4 per-layer input embeddings and their projection
        embed += per_vocab * per_hidden * len(pat.layers) + hidden * per_hidden * len(pat.layers) + per_hidden
    units = [Unit("embeddings", "embed", embed)]
    gated = _gated(cfg)
    shared_blocks = cfg.opt("num_mem_blocks")
    seen_hybrid = 0
    for layer in pat.layers:
        lc = layer_cfg(cfg, layer.index)
        acc = Acc()
        if layer.mixer == "hybrid" and shared_blocks is not None:
            # Zamba: hybrid layers share `num_mem_blocks` transformer blocks beside their own Mamba block
            _state_block(acc, lc, hidden)
            if seen_hybrid < shared_blocks:
                _attention(acc, lc, layer, 2 * hidden if lc.has("attention_hidden_size") else hidden)
                _ffn(acc, lc, layer, hidden, gated)
            acc.add(2 * hidden * hidden + 4 * hidden)  # the block's input projection and norms
            seen_hybrid += 1
        else:
            _mixer(acc, lc, layer, hidden, mt)
            if not ((shared_blocks is not None or mt in SSM_TYPES) and layer.mixer == "linear"):
                _ffn(acc, lc, layer, hidden, gated)
        if per_vocab and per_hidden:
            acc.add(2 * hidden * per_hidden + hidden)
        acc.add(4 * hidden)  # pre/post norms (up to four per layer)
        units.append(acc.unit(f"layer {layer.index}", "layer"))
    tied = cfg.flag("tie_word_embeddings", False)
    units.append(head(vocab, hidden, tied, extra=2 * hidden))
    return units


def _attention(acc: Acc, cfg: Cfg, layer: Layer, hidden: int) -> None:
    heads = cfg.need("num_attention_heads", "n_head", "num_heads", "n_heads", "attention_heads",
                     "decoder_attention_heads")
    k, v = head_dims(cfg, layer)
    kv = kv_heads(cfg, layer)
    bias = _bias(cfg, "attention_bias", "qkv_bias", "bias", "use_bias", "add_bias_linear")
    gate = 2 if cfg.has("linear_num_value_heads") else 1  # Qwen3-Next-style hybrids gate attention by a 2nd query
    acc.lin(hidden, gate * heads * k, bias)
    acc.lin(hidden, kv * k, bias)
    acc.lin(hidden, kv * v, bias)
    acc.lin(heads * v, hidden, bias)
    acc.add(2 * k + heads)  # q/k norms, sinks or gates a config may not name


def _mla(acc: Acc, cfg: Cfg, layer: Layer, hidden: int) -> None:
    heads = cfg.need("num_attention_heads")
    nope, rope = cfg.need("qk_nope_head_dim"), cfg.need("qk_rope_head_dim")
    v_dim, kv_rank = cfg.need("v_head_dim"), cfg.need("kv_lora_rank")
    q_rank = cfg.opt("q_lora_rank")
    if q_rank:
        acc.lin(hidden, q_rank, True)
        acc.add(q_rank)
        acc.lin(q_rank, heads * (nope + rope))
    else:
        acc.lin(hidden, heads * (nope + rope))
    acc.lin(hidden, kv_rank + rope, True)
    acc.add(kv_rank)
    acc.lin(kv_rank, heads * (nope + v_dim))
    acc.lin(heads * v_dim, hidden, True)
    ih, idim = cfg.opt("index_n_heads"), cfg.opt("index_head_dim")
    if ih and idim:  # sparse-attention indexer: queries, one key, per-head weights
        acc.lin(q_rank or hidden, ih * idim)
        acc.lin(hidden, idim, True)
        acc.add(2 * idim)
        acc.lin(hidden, ih, True)


def _state_block(acc: Acc, cfg: Cfg, hidden: int) -> None:
    """A linear-attention or state-space mixer (Gated DeltaNet, Kimi delta attention, Mamba-1/-2)."""
    if cfg.has("linear_num_value_heads", "linear_value_head_dim"):
        nk, dk = cfg.need("linear_num_key_heads"), cfg.need("linear_key_head_dim")
        nv, dv = cfg.need("linear_num_value_heads"), cfg.need("linear_value_head_dim")
        kernel = cfg.need("linear_conv_kernel_dim")
        conv = 2 * nk * dk + nv * dv
        acc.lin(hidden, conv + nv * dv + 2 * nv, True)  # q, k, v, the output gate z, b and a
        acc.add(conv * (kernel + 1) + 4 * nv + 2 * dv)
        acc.lin(nv * dv, hidden, True)
        return
    if cfg.has("linear_num_heads", "linear_head_dim"):
        h, d = cfg.need("linear_num_heads"), cfg.need("linear_head_dim")
        kernel = cfg.need("linear_conv_kernel_dim", "short_conv_kernel_size")
        acc.lin(hidden, 3 * h * d, True)  # q, k, v
        acc.add(3 * h * d * kernel)
        acc.lin(hidden, h * d, True)  # the forget gate, low-rank or not
        acc.lin(hidden, 2 * h + h * d, True)  # beta and the output gate
        acc.add(4 * h + 2 * d)
        acc.lin(h * d, hidden, True)
        return
    groups = cfg.opt("n_groups", "mamba_n_groups", "mamba_ngroups")
    state = cfg.opt("ssm_state_size", "mamba_d_state", "state_size")
    if state is None:
        attn_heads = cfg.need("num_attention_heads")
        k, _ = head_dims(cfg)
        acc.lin(hidden, 4 * attn_heads * k, True)  # lightning attention: q, k, v and an output gate
        acc.lin(attn_heads * k, hidden, True)
        acc.add(attn_heads * k)
        return
    conv = cfg.opt("conv_kernel", "mamba_d_conv", "d_conv") or 4
    if groups is not None:
        heads = cfg.opt("mamba_num_heads", "mamba_n_heads", "n_mamba_heads", "num_heads")
        hd = cfg.opt("mamba_head_dim", "mamba_d_head", "mamba_headdim", "head_dim")
        inner = cfg.opt("mamba_d_ssm") or (heads * hd if heads and hd else None) or (
            cfg.need("mamba_expand", "expand") * hidden)
        heads = heads or inner // cfg.need("mamba_head_dim", "mamba_d_head", "mamba_headdim", "head_dim")
        conv_dim = inner + 2 * groups * state
        acc.lin(hidden, inner + conv_dim + heads, True)
        acc.add(conv_dim * (conv + 1) + 3 * heads + inner)
        acc.lin(inner, hidden, True)
        return
    width = cfg.opt("intermediate_size") if cfg.has("state_size") else None
    inner = width or cfg.need("mamba_expand", "expand") * hidden
    rank = cfg.opt("time_step_rank", "mamba_dt_rank") or math.ceil(hidden / 16)
    acc.lin(hidden, 2 * inner, True)
    acc.add(inner * (conv + 1))
    acc.lin(inner, rank + 2 * state)
    acc.lin(rank, inner, True)
    acc.add(inner * state + inner + rank + 2 * state)
    acc.lin(inner, hidden, True)


def _mixer(acc: Acc, cfg: Cfg, layer: Layer, hidden: int, mt: str) -> None:
    if layer.mixer in ("attention", "cross"):
        if not layer.shared_kv or mt.startswith("gemma3n"):
            _attention(acc, cfg, layer, hidden)
        else:
            _attention(acc, cfg, layer, hidden)
    elif layer.mixer.startswith("mla"):
        _mla(acc, cfg, layer, hidden)
    elif layer.mixer == "linear":
        _state_block(acc, cfg, hidden)
    elif layer.mixer == "hybrid":
        _attention(acc, cfg, layer, hidden)
        _state_block(acc, cfg, hidden)
    elif layer.mixer == "conv":
        acc.lin(hidden, 3 * hidden, True)
        acc.add(hidden * (cfg.opt("conv_L_cache") or 4))
        acc.lin(hidden, hidden, True)
    elif layer.mixer != "none":
        raise MissingSize(f"layer {layer.index} is of type `{layer.mixer}`, which advisor cannot count")


def _width(cfg: Cfg, i: int, *keys: str) -> int | None:
    """An MLP width: an integer, or a per-layer list's entry."""
    for key in keys:
        value = cfg.get(key)
        if isinstance(value, list) and i < len(value) and isinstance(value[i], int):
            width: int = value[i]
            return width
        found = cfg.opt(key)
        if found is not None:
            return found
    return None


def _ffn(acc: Acc, cfg: Cfg, layer: Layer, hidden: int, gated: bool) -> None:
    if layer.ffn == "none":
        return
    bias = _bias(cfg, "mlp_bias", "bias", "use_bias", "add_bias_linear")
    if layer.ffn == "moe":
        experts = cfg.need(*EXPERT_KEYS)
        width = _width(cfg, layer.index, *EXPERT_WIDTH_KEYS) or cfg.need(*INTER_KEYS)
        groups = next((cfg.get(k) for k in EXPERT_WIDTH_KEYS if isinstance(cfg.get(k), list)), None)
        if isinstance(groups, list) and len(groups) != cfg.opt("num_hidden_layers") and all(
                isinstance(x, int) for x in groups):
            width = sum(groups)  # one set of experts per modality (ERNIE-4.5-VL: text and vision experts)
        mats = 3 if gated else 2  # Nemotron-H's relu2 experts are plain, most others gated
        acc.expert(hidden, width, mats * experts, bias)
        acc.add(experts * hidden + experts)  # router (with bias)
        shared_w = _width(cfg, layer.index, *SHARED_WIDTH_KEYS)
        shared_n = cfg.opt(*SHARED_COUNT_KEYS)
        if shared_w:
            acc.lin(hidden, shared_w, bias, n=mats * (shared_n or 1))
            acc.add(hidden)  # the shared expert's gate
        elif shared_n:
            acc.lin(hidden, width, bias, n=mats * shared_n)
        return
    inter = _width(cfg, layer.index, *INTER_KEYS)
    if inter is None and any(k in cfg.data and cfg.get(k) is None for k in NULL_WIDTH_KEYS):
        inter = 4 * hidden
    if inter is None:
        raise MissingSize(f"{cfg.where} gives no feed-forward width (`intermediate_size`)")
    if cfg.flag("block_auto_adjust_ff_dim", False):  # LFM2: two thirds, scaled, rounded up to a multiple
        inter = int(2 * inter / 3)
        mult = cfg.get("block_ffn_dim_multiplier")
        if isinstance(mult, int | float) and not isinstance(mult, bool):
            inter = int(mult * inter)
        step = cfg.opt("block_multiple_of") or 1
        inter = step * ((inter + step - 1) // step)
    acc.lin(hidden, inter, bias, n=3 if gated else 2)


def tower_units(top: Cfg, text: Cfg, missing: list[str]) -> list[Unit]:
    """Vision and audio towers of a wrapper from their sub-configs (a ViT-style estimate each), with a projector."""
    out: list[Unit] = []
    text_hidden = text.opt(*HIDDEN_KEYS) or 0
    for key in TOWER_KEYS:
        sub = top.sub(key)
        if sub is None:
            continue
        try:
            params = encoder_estimate(sub)
        except MissingSize as exc:
            missing.append(f"{key}: {exc}")
            continue
        width = sub.opt("hidden_size", "d_model", "embed_dim", "width", "hidden_dim") or text_hidden
        merge = (sub.opt("spatial_merge_size", "merge_size", "downsample_ratio") or 1) ** 2
        params += (width * merge + text_hidden) * text_hidden + 2 * width * merge  # a two-layer projector
        params += math.ceil(params * TOWER_ALLOWANCE)
        out.append(Unit(f"{key.removesuffix('_config')} tower (estimate)", "tower", params))
    return out


def encoder_estimate(cfg: Cfg) -> int:
    """A transformer encoder (ViT, audio encoder) from its sub-config: patch or feature embedding, blocks with
    biased attention and a gated-or-plain MLP (the larger), norms."""
    hidden = cfg.need("hidden_size", "d_model", "embed_dim", "width", "hidden_dim")
    if isinstance(cfg.get("depth"), int) or cfg.has("num_hidden_layers", "encoder_layers", "num_layers", "layers"):
        layers = cfg.need("num_hidden_layers", "depth", "encoder_layers", "num_layers", "layers")
    else:
        raise MissingSize("the sub-config gives no layer count")
    inter = cfg.opt("intermediate_size", "encoder_ffn_dim", "mlp_dim", "ffn_dim") or 4 * hidden
    if not cfg.has("intermediate_size", "encoder_ffn_dim", "mlp_dim", "ffn_dim") and cfg.opt("mlp_ratio"):
        inter = int(hidden * float(cfg.get("mlp_ratio")))
    patch = cfg.opt("patch_size", "spatial_patch_size") or 16
    channels = cfg.opt("num_channels", "in_channels", "num_mel_bins") or 3
    temporal = cfg.opt("temporal_patch_size") or 1
    acc = Acc()
    acc.add(channels * patch * patch * temporal * hidden + hidden)
    image = cfg.opt("image_size")
    if image:
        acc.add(((image // patch) ** 2 + 1) * hidden)
    positions = cfg.opt("max_source_positions", "max_position_embeddings", "num_position_embeddings")
    if positions:
        acc.add(positions * hidden)
    for _ in range(layers):
        acc.lin(hidden, 4 * hidden, True)
        acc.lin(hidden, inter, True, n=3)
        acc.add(4 * hidden)
    acc.add(2 * hidden)
    return acc.params
