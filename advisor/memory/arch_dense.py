"""Dense decoder-only architectures: Llama-likes, GPT-2, GPT-NeoX, BLOOM, Falcon, Phi, and remote-code kin."""

from __future__ import annotations

from collections.abc import Callable

from advisor.core.frozen import frozen
from advisor.memory.config import Cfg
from advisor.memory.units import Acc, Unit, attn_gqa, cfg_bool, mlp, norm, stack


@frozen
class Traits:
    """How a llama-like decoder differs from Llama."""

    qkv_bias: bool | str = "attention_bias"
    """True/False, or the config key that says."""
    o_bias: bool | str = "attention_bias"
    mlp_bias: bool | str = "mlp_bias"
    gated: bool = True
    norm_bias: bool = False
    norms: int = 2
    qk_norm: str = ""
    """"head": q/k norms over one head's dimension; "full": over all query / key-value heads."""
    tie: bool = False
    """transformers' default for `tie_word_embeddings`."""
    lm_head_bias: bool = False
    q_gate: bool = False
    """The query projection also yields an output gate (twice as wide)."""
    sub_norms: bool = False
    """BitNet's extra norms inside attention (hidden) and the MLP (intermediate)."""
    positions: bool = False
    """Learned absolute position embeddings (`max_position_embeddings`)."""
    final_norm: bool = True


LLAMA_LIKE: dict[str, Traits] = {
    "llama": Traits(),
    "mistral": Traits(qkv_bias=False, o_bias=False, mlp_bias=False),
    "qwen2": Traits(qkv_bias=True, o_bias=False, mlp_bias=False),
    "qwen3": Traits(mlp_bias=False, qk_norm="head"),
    "gemma": Traits(mlp_bias=False, tie=True),
    "gemma2": Traits(mlp_bias=False, norms=4, tie=True),
    "gemma3_text": Traits(mlp_bias=False, norms=4, qk_norm="head", tie=True),
    "vaultgemma": Traits(mlp_bias=False, tie=True),
    "olmo": Traits(mlp_bias=False, norms=0, final_norm=False),
    "olmo2": Traits(mlp_bias=False, qk_norm="full"),
    "olmo3": Traits(mlp_bias=False, qk_norm="full"),
    "granite": Traits(),
    "internlm2": Traits(qkv_bias="bias", o_bias="bias", mlp_bias=False),
    "internlm3": Traits(),
    "iquestcoder": Traits(),
    "arcee": Traits(gated=False),
    "bitnet": Traits(mlp_bias=False, sub_norms=True),
    "cohere": Traits(mlp_bias=False, norms=1, tie=True),
    "cohere2": Traits(mlp_bias=False, norms=1, tie=True),
    "cwm": Traits(qkv_bias=False, o_bias=False),
    "ernie4_5": Traits(qkv_bias="use_bias", o_bias="use_bias", mlp_bias="use_bias", tie=True),
    "exaone4": Traits(qkv_bias=False, o_bias=False, mlp_bias=False, qk_norm="head"),
    "glm": Traits(o_bias=False, mlp_bias=False),
    "glm4": Traits(o_bias=False, mlp_bias=False, norms=4),
    "helium": Traits(o_bias=False),
    "hyperclovax": Traits(norms=4),
    "jais2": Traits(gated=False, norm_bias=True),
    "ministral3": Traits(qkv_bias=False, o_bias=False, mlp_bias=False),
    "nanochat": Traits(mlp_bias=False, gated=False, norms=0, final_norm=False),
    "persimmon": Traits(qkv_bias=False, o_bias=False, mlp_bias=True, gated=False, norm_bias=True, norms=4,
                        qk_norm="head"),
    "phi3": Traits(qkv_bias=False, o_bias=False, mlp_bias=False),
    "seed_oss": Traits(o_bias=False),
    "smollm3": Traits(tie=True),
    "stablelm": Traits(qkv_bias=False, o_bias=False, mlp_bias=False, norm_bias=True),
    "starcoder2": Traits(qkv_bias="use_bias", o_bias="use_bias", mlp_bias="use_bias", gated=False, norm_bias=True,
                         tie=True),
}
"""Decoders that are Llama's layout with the differences named. Each entry is verified in tests/memory against
transformers 5.23's modules on the type's default config and on one with other sizes, flipped bias keys and
tying (a meta-device build), so a count from it is exact."""
VERIFIED_LLAMA_LIKE = set(LLAMA_LIKE) - {"internlm2"}
"""internlm2 is remote code (not in transformers): its traits are read from its modelling file, not verified."""


def llama_like(cfg: Cfg, t: Traits) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    inter, layers = cfg.need("intermediate_size"), cfg.need("num_hidden_layers")
    heads = cfg.need("num_attention_heads")
    kv = cfg.opt("num_key_value_heads", default=heads) or heads
    hd = cfg.opt("head_dim") or hidden // heads
    qkv_bias, o_bias, mlp_bias = cfg_bool(cfg, t.qkv_bias), cfg_bool(cfg, t.o_bias), cfg_bool(cfg, t.mlp_bias)

    def layer(_: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, qkv_bias, o_bias)
        if t.q_gate:
            acc.lin(hidden, heads * hd, qkv_bias)
        if t.qk_norm == "head":
            norm(acc, hd, t.norm_bias, 2)
        elif t.qk_norm == "full":
            norm(acc, (heads + kv) * hd, t.norm_bias)
        mlp(acc, hidden, inter, t.gated, mlp_bias)
        norm(acc, hidden, t.norm_bias, t.norms)
        if t.sub_norms:
            norm(acc, hidden, t.norm_bias)
            norm(acc, inter, t.norm_bias)
        return acc

    tied = cfg.flag("tie_word_embeddings", t.tie)
    extra = cfg.need("max_position_embeddings") * hidden if t.positions else 0
    return stack(vocab, hidden, layer, layers, tied, t.norm_bias, t.lm_head_bias, embed_extra=extra,
                 final_norm=t.final_norm)


def gpt2(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("n_embd", "hidden_size")
    layers, positions = cfg.need("n_layer", "num_hidden_layers"), cfg.need("n_positions")
    inner = cfg.opt("n_inner") or 4 * hidden
    return stack(vocab, hidden, _fused_qkv_layer(hidden, inner, norms=2), layers,
                 cfg.flag("tie_word_embeddings", True), True, embed_extra=positions * hidden)


def _fused_qkv_layer(hidden: int, inner: int, norms: int) -> Callable[[int], Acc]:
    """A GPT-2 style block: fused q/k/v and output projections with biases, a biased GELU MLP."""

    def layer(_: int) -> Acc:
        acc = Acc()
        acc.lin(hidden, 3 * hidden, True)
        acc.lin(hidden, hidden, True)
        mlp(acc, hidden, inner, False, True)
        norm(acc, hidden, True, norms)
        return acc

    return layer


def gpt_neox(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")
    bias = cfg.flag("attention_bias", True)

    def layer(_: int) -> Acc:
        acc = Acc()
        acc.lin(hidden, 3 * hidden, bias)
        acc.lin(hidden, hidden, bias)
        mlp(acc, hidden, inter, False, True)
        norm(acc, hidden, True, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False), True)


def bloom(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size", "n_embed")
    layers = cfg.need("n_layer", "num_hidden_layers")

    def layer(_: int) -> Acc:
        acc = Acc()
        acc.lin(hidden, 3 * hidden, True)
        acc.lin(hidden, hidden, True)
        mlp(acc, hidden, 4 * hidden, False, True)
        norm(acc, hidden, True, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", True), True,
                  embed_extra=2 * hidden)


def falcon(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers = cfg.need("num_hidden_layers", "n_layer")
    heads = cfg.need("num_attention_heads", "n_head")
    hd = hidden // heads
    bias = cfg.flag("bias", False)
    new = cfg.flag("new_decoder_architecture", False)
    parallel = cfg.flag("parallel_attn", True)
    if new:
        qkv = (2 * cfg.need("num_kv_heads", "n_head_kv") + heads) * hd
        norms = 2 if (cfg.opt("num_ln_in_parallel_attn") or 2) == 2 else 1
    else:
        qkv = hidden + 2 * hd if cfg.flag("multi_query", True) else 3 * hidden
        norms = 1 if parallel else 2
    ffn = cfg.opt("ffn_hidden_size") or 4 * hidden

    def layer(_: int) -> Acc:
        acc = Acc()
        acc.lin(hidden, qkv, bias)
        acc.lin(hidden, hidden, bias)
        mlp(acc, hidden, ffn, False, bias)
        norm(acc, hidden, True, norms)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", True), True)


def phi(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")
    heads = cfg.need("num_attention_heads")
    hd = hidden // heads
    qk_norm = cfg.flag("qk_layernorm", False)

    def layer(_: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, True, True)
        if qk_norm:
            norm(acc, hd, True, 2)
        mlp(acc, hidden, inter, False, True)
        norm(acc, hidden, True, 1)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False), True,
                  lm_head_bias=True)


def phi_msft(cfg: Cfg) -> list[Unit]:
    """phi-msft remote code (`MHA` with fused Wqkv, `CausalLMHead` with its own LayerNorm and bias)."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("n_embd")
    layers = cfg.need("n_layer")
    inner = cfg.opt("n_inner") or 4 * hidden
    return stack(vocab, hidden, _fused_qkv_layer(hidden, inner, norms=1), layers, False, True, lm_head_bias=True)


def qwen_v1(cfg: Cfg) -> list[Unit]:
    """Qwen (v1) remote code: fused c_attn with bias, w1/w2/c_proj of half the intermediate size."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")

    def layer(_: int) -> Acc:
        acc = Acc()
        acc.lin(hidden, 3 * hidden, True)
        acc.lin(hidden, hidden, False)
        mlp(acc, hidden, inter // 2, True, False)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))
