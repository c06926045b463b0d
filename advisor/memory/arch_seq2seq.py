"""Encoders and encoder-decoders: BERT, T5, Whisper; and vision towers of multimodal configs."""

from __future__ import annotations

from advisor.memory.config import Cfg
from advisor.memory.units import Acc, Unit, head, mlp, norm


def _mha(acc: Acc, d: int, inner: int, bias: bool, k_bias: bool | None = None) -> None:
    """q, k, v and output projections of width `inner`."""
    acc.lin(d, inner, bias)
    acc.lin(d, inner, bias if k_bias is None else k_bias)
    acc.lin(d, inner, bias)
    acc.lin(inner, d, bias)


def bert(cfg: Cfg, arch: str) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")
    positions, types = cfg.need("max_position_embeddings"), cfg.opt("type_vocab_size", default=2) or 0
    units = [Unit("embeddings", "embed", (vocab + positions + types) * hidden + 2 * hidden)]
    for i in range(layers):
        acc = Acc()
        _mha(acc, hidden, hidden, True)
        mlp(acc, hidden, inter, False, True)
        norm(acc, hidden, True, 2)
        units.append(acc.unit(f"layer {i}", "layer"))
    if arch.endswith(("ForMaskedLM", "ForPreTraining", "LMHeadModel")):  # BertLMHeadModel: no pooler
        tied = cfg.flag("tie_word_embeddings", True)
        extra = hidden * hidden + hidden + 2 * hidden + vocab * (1 if tied else 2)  # untied: decoder.bias apart
        if arch.endswith("ForPreTraining"):
            extra += hidden * hidden + hidden + 2 * hidden + 2
        units.append(head(vocab, hidden, tied, extra=extra))
    else:
        units.append(Unit("pooler", "head", hidden * hidden + hidden))
    return units


def t5(cfg: Cfg) -> list[Unit]:
    vocab, d = cfg.need("vocab_size"), cfg.need("d_model")
    d_kv, heads, d_ff = cfg.need("d_kv"), cfg.need("num_heads"), cfg.need("d_ff")
    enc_layers = cfg.need("num_layers")
    dec_layers = cfg.opt("num_decoder_layers") or enc_layers
    buckets = cfg.opt("relative_attention_num_buckets") or 32
    proj = str(cfg.get("feed_forward_proj", "relu"))
    gated = proj.startswith("gated-") or cfg.flag("is_gated_act", False)
    inner = heads * d_kv
    units = [Unit("shared embeddings", "embed", vocab * d)]

    def block(acc: Acc, i: int) -> None:
        _mha(acc, d, inner, False)
        if i == 0:
            acc.add(buckets * heads)
        mlp(acc, d, d_ff, gated, False)

    for i in range(enc_layers):
        acc = Acc()
        block(acc, i)
        norm(acc, d, False, 2)
        units.append(acc.unit(f"encoder layer {i}", "encoder"))
    units.append(Unit("encoder final norm", "encoder", d))
    for i in range(dec_layers):
        acc = Acc()
        block(acc, i)
        _mha(acc, d, inner, False)
        norm(acc, d, False, 3)
        units.append(acc.unit(f"decoder layer {i}", "layer"))
    # transformers 5 always ties T5's head to the shared embeddings (models/t5/configuration_t5.py sets
    # `tie_word_embeddings = True`; the config's value only chooses `scale_decoder_outputs`)
    units.append(head(vocab, d, True, extra=d))
    return units


def whisper(cfg: Cfg) -> list[Unit]:
    vocab, d = cfg.need("vocab_size"), cfg.need("d_model")
    mels, src, tgt = cfg.need("num_mel_bins"), cfg.need("max_source_positions"), cfg.need("max_target_positions")
    enc_ffn, dec_ffn = cfg.need("encoder_ffn_dim"), cfg.need("decoder_ffn_dim")
    conv = Acc()
    conv.add(mels * d * 3 + d + d * d * 3 + d + src * d)
    units = [conv.unit("encoder convolutions and positions", "encoder")]
    for i in range(cfg.need("encoder_layers")):
        acc = Acc()
        _mha(acc, d, d, True, k_bias=False)
        mlp(acc, d, enc_ffn, False, True)
        norm(acc, d, True, 2)
        units.append(acc.unit(f"encoder layer {i}", "encoder"))
    units.append(Unit("encoder final norm", "encoder", 2 * d))
    units.append(Unit("decoder embeddings", "embed", vocab * d + tgt * d))
    for i in range(cfg.need("decoder_layers")):
        acc = Acc()
        _mha(acc, d, d, True, k_bias=False)
        _mha(acc, d, d, True, k_bias=False)
        mlp(acc, d, dec_ffn, False, True)
        norm(acc, d, True, 3)
        units.append(acc.unit(f"decoder layer {i}", "layer"))
    units.append(head(vocab, d, cfg.flag("tie_word_embeddings", True), extra=2 * d))
    return units


def vit_tower(cfg: Cfg) -> Unit:
    """A generic ViT tower (patch embedding, pre-norm blocks with biased projections, final norm).

    Vision towers differ in details (class token, gated MLPs, 2-D rotary, merger layers), so this
    count is an estimate; the ledger says so.
    """
    hidden, layers = cfg.need("hidden_size"), cfg.need("num_hidden_layers", "depth")
    inter = cfg.need("intermediate_size")
    patch = cfg.need("patch_size")
    channels = cfg.opt("num_channels", "in_channels", default=3) or 3
    acc = Acc()
    acc.add(channels * patch * patch * hidden + hidden)
    image = cfg.opt("image_size")
    if image:
        acc.add(((image // patch) ** 2 + 1) * hidden)
    for _ in range(layers):
        _mha(acc, hidden, hidden, True)
        mlp(acc, hidden, inter, False, True)
        norm(acc, hidden, True, 2)
    norm(acc, hidden, True)
    return acc.unit("vision tower (estimate)", "tower")
