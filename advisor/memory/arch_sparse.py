"""Mixture-of-experts, latent-attention and state-space architectures (all experts are resident)."""

from __future__ import annotations

import math

from advisor.memory.config import Cfg, MissingSize
from advisor.memory.units import Acc, Unit, attn_gqa, mlp, norm, stack


def _moe(acc: Acc, hidden: int, inter: int, experts: int, router_bias: bool = False) -> None:
    """Routed experts (gate, up, down per expert) and the router."""
    acc.expert(hidden, inter, experts * 2)
    acc.expert(inter, hidden, experts)
    acc.add(experts * hidden + (experts if router_bias else 0))


def mixtral(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    inter, layers = cfg.need("intermediate_size"), cfg.need("num_hidden_layers")
    experts = cfg.need("num_local_experts")

    def layer(_: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, False, False)
        _moe(acc, hidden, inter, experts)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))


def qwen_moe(cfg: Cfg) -> list[Unit]:
    """qwen2_moe and qwen3_moe: sparse every `decoder_sparse_step` layers, except `mlp_only_layers`."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, experts = cfg.need("num_hidden_layers"), cfg.need("num_experts", "num_local_experts")
    moe_inter, inter = cfg.need("moe_intermediate_size"), cfg.need("intermediate_size")
    step = cfg.opt("decoder_sparse_step") or 1
    dense_only = set(cfg.get("mlp_only_layers") or [])
    shared = cfg.opt("shared_expert_intermediate_size") or 0
    qwen3 = cfg.get("model_type") == "qwen3_moe"
    heads = cfg.need("num_attention_heads")
    hd = cfg.opt("head_dim") or hidden // heads
    qkv_bias = cfg.flag("attention_bias", False) if qwen3 else cfg.flag("qkv_bias", True)

    def layer(i: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, qkv_bias, cfg.flag("attention_bias", False) if qwen3 else False)
        if qwen3:
            acc.add(2 * hd)
        if i not in dense_only and experts > 0 and (i + 1) % step == 0:
            _moe(acc, hidden, moe_inter, experts)
            if shared:
                mlp(acc, hidden, shared, True, False)
                acc.add(hidden)
        else:
            mlp(acc, hidden, inter, True, False)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))


def _mla(acc: Acc, cfg: Cfg, hidden: int) -> None:
    """Multi-head latent attention (DeepSeek-V2/V3): low-rank q and a compressed kv latent."""
    heads = cfg.need("num_attention_heads")
    nope, rope = cfg.need("qk_nope_head_dim"), cfg.need("qk_rope_head_dim")
    v_dim, kv_rank = cfg.need("v_head_dim"), cfg.need("kv_lora_rank")
    q_rank = cfg.opt("q_lora_rank")
    bias = cfg.flag("attention_bias", False)
    if q_rank:
        acc.lin(hidden, q_rank, bias)
        acc.add(q_rank)
        acc.lin(q_rank, heads * (nope + rope))
    else:
        acc.lin(hidden, heads * (nope + rope))
    acc.lin(hidden, kv_rank + rope, bias)
    acc.add(kv_rank)
    acc.lin(kv_rank, heads * (nope + v_dim))
    acc.lin(heads * v_dim, hidden, bias)


def deepseek(cfg: Cfg) -> list[Unit]:
    """deepseek_v2 / deepseek_v3: dense for the first `first_k_dense_replace` layers, then routed + shared."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")
    experts, moe_inter = cfg.need("n_routed_experts"), cfg.need("moe_intermediate_size")
    shared = cfg.opt("n_shared_experts") or 0
    first_dense = cfg.opt("first_k_dense_replace") or 0
    freq = cfg.opt("moe_layer_freq") or 1
    bias = cfg.flag("mlp_bias", False)

    def layer(i: int) -> Acc:
        acc = Acc()
        _mla(acc, cfg, hidden)
        if i >= first_dense and i % freq == 0:
            _moe(acc, hidden, moe_inter, experts)
            if shared:
                mlp(acc, hidden, moe_inter * shared, True, bias)
        else:
            mlp(acc, hidden, inter, True, bias)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))


def llama4_text(cfg: Cfg) -> list[Unit]:
    """Llama 4's language model: MoE layers (routed + one shared expert) every `interleave_moe_layer_step`."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    layers, inter = cfg.need("num_hidden_layers"), cfg.need("intermediate_size")
    dense_inter = cfg.opt("intermediate_size_mlp") or inter
    experts, step = cfg.need("num_local_experts"), cfg.opt("interleave_moe_layer_step") or 1
    moe_layers = set(cfg.get("moe_layers") or range(step - 1, layers, step))

    def layer(i: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, cfg.flag("attention_bias", False), cfg.flag("attention_bias", False))
        if i in moe_layers:
            _moe(acc, hidden, inter, experts)
            mlp(acc, hidden, inter, True, False)
        else:
            mlp(acc, hidden, dense_inter, True, False)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))


def _mamba_mixer(acc: Acc, hidden: int, inner: int, state: int, conv: int, dt_rank: int, proj_bias: bool,
                 conv_bias: bool, dt_norms: bool) -> None:
    acc.lin(hidden, 2 * inner, proj_bias)
    acc.add(inner * conv + (inner if conv_bias else 0))
    acc.lin(inner, dt_rank + 2 * state)
    acc.lin(dt_rank, inner, True)
    acc.add(inner * state + inner)
    acc.lin(inner, hidden, proj_bias)
    if dt_norms:
        acc.add(dt_rank + 2 * state)


def mamba(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size", "d_model")
    layers, state = cfg.need("num_hidden_layers", "n_layer"), cfg.need("state_size")
    inner = cfg.opt("intermediate_size") or cfg.need("expand") * hidden
    rank = cfg.get("time_step_rank", "auto")
    dt_rank = math.ceil(hidden / 16) if rank == "auto" else cfg.need("time_step_rank")
    conv = cfg.opt("conv_kernel") or 4

    def layer(_: int) -> Acc:
        acc = Acc()
        _mamba_mixer(acc, hidden, inner, state, conv, dt_rank, cfg.flag("use_bias", False),
                     cfg.flag("use_conv_bias", True), False)
        norm(acc, hidden, False)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", True))


def jamba_attention_layers(cfg: Cfg) -> list[bool]:
    """Per layer: True for attention, False for Mamba."""
    layers = cfg.need("num_hidden_layers")
    period, offset = cfg.need("attn_layer_period"), cfg.opt("attn_layer_offset") or 0
    return [i % period == offset for i in range(layers)]


def jamba(cfg: Cfg) -> list[Unit]:
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    inter, experts = cfg.need("intermediate_size"), cfg.opt("num_experts") or 1
    e_period, e_offset = cfg.opt("expert_layer_period") or 1, cfg.opt("expert_layer_offset") or 0
    inner = (cfg.opt("mamba_expand") or 2) * hidden
    state, conv = cfg.opt("mamba_d_state") or 16, cfg.opt("mamba_d_conv") or 4
    rank = cfg.get("mamba_dt_rank", "auto")
    dt_rank = math.ceil(hidden / 16) if rank == "auto" else cfg.need("mamba_dt_rank")
    kinds = jamba_attention_layers(cfg)

    def layer(i: int) -> Acc:
        acc = Acc()
        if kinds[i]:
            attn_gqa(acc, cfg, hidden, False, False)
        else:
            _mamba_mixer(acc, hidden, inner, state, conv, dt_rank, cfg.flag("mamba_proj_bias", False),
                         cfg.flag("mamba_conv_bias", True), True)
        if experts > 1 and i % e_period == e_offset:
            _moe(acc, hidden, inter, experts)
        else:
            mlp(acc, hidden, inter, True, False)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, len(kinds), cfg.flag("tie_word_embeddings", False))


def gpt_oss(cfg: Cfg) -> list[Unit]:
    """gpt-oss: experts with biases, a router with bias, attention sinks per head."""
    vocab, hidden = cfg.need("vocab_size"), cfg.need("hidden_size")
    inter, layers = cfg.need("intermediate_size"), cfg.need("num_hidden_layers")
    experts, heads = cfg.need("num_local_experts"), cfg.need("num_attention_heads")

    bias = cfg.flag("attention_bias", True)

    def layer(_: int) -> Acc:
        acc = Acc()
        attn_gqa(acc, cfg, hidden, bias, bias)
        acc.add(heads)
        acc.expert(hidden, inter, experts * 2, True)
        acc.expert(inter, hidden, experts, True)
        acc.add(experts * hidden + experts)
        norm(acc, hidden, False, 2)
        return acc

    return stack(vocab, hidden, layer, layers, cfg.flag("tie_word_embeddings", False))


__all__ = ["MissingSize", "deepseek", "gpt_oss", "jamba", "jamba_attention_layers", "llama4_text", "mamba",
           "mixtral", "qwen_moe"]
