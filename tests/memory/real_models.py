"""Run as a subprocess by the tests: build real transformers models and report what they hold.

`params FILE...`: the parameter count of each config built on the meta device (shared tensors once).
`kv`: scaled-down random models run on the CPU with a real cache; the bytes each cache holds.
Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")


def meta_params(path: str) -> int | None:
    import torch
    import transformers
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING
    from truth import count_parameters  # the sibling module (this file runs as a script from its folder)

    raw = json.loads(Path(path).read_text())
    if raw.get("model_type") not in CONFIG_MAPPING:
        return None
    data = {k: v for k, v in raw.items() if k not in ("quantization_config", "auto_map")}
    config = AutoConfig.for_model(**data)
    cls = getattr(transformers, raw["architectures"][0])
    with torch.device("meta"):
        model = cls(config)
    return count_parameters(model)


def cache_bytes(cache: Any) -> dict[str, int]:
    """Bytes per kind of cache layer: keys/values of attention layers, conv/ssm states, cross-attention."""
    out: dict[str, int] = {}

    def flat(t: Any) -> list[Any]:
        if isinstance(t, dict):
            return [x for v in t.values() for x in flat(v)]
        if isinstance(t, list | tuple):
            return [x for v in t for x in flat(v)]
        return [t] if hasattr(t, "nbytes") else []

    def add(kind: str, *tensors: Any) -> None:
        out[kind] = out.get(kind, 0) + sum(x.nbytes for t in tensors for x in flat(t))

    inner = [("self", cache)]
    if hasattr(cache, "self_attention_cache"):
        inner = [("self", cache.self_attention_cache), ("cross", cache.cross_attention_cache)]
    for prefix, c in inner:
        for layer in c.layers:
            name = type(layer).__name__
            keys, values = getattr(layer, "keys", None), getattr(layer, "values", None)
            if keys is not None and getattr(keys, "numel", lambda: 0)():
                add(f"{prefix}:{'window' if 'Sliding' in name else 'full'}", keys, values)
            conv, rec = getattr(layer, "conv_states", None), getattr(layer, "recurrent_states", None)
            if conv is not None or rec is not None:
                add(f"{prefix}:state", conv, rec)
    return out


TINY: dict[str, dict[str, Any]] = {
    "llama": {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 128},
    "mistral": {"model_type": "mistral", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "sliding_window": 16},
    "gemma2": {"model_type": "gemma2", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
               "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 128,
               "sliding_window": 16},
    "deepseek_v3": {"model_type": "deepseek_v3", "hidden_size": 64, "intermediate_size": 128,
                    "moe_intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
                    "num_key_value_heads": 4, "n_routed_experts": 4, "n_shared_experts": 1, "num_experts_per_tok": 2,
                    "n_group": 1, "topk_group": 1, "first_k_dense_replace": 1, "kv_lora_rank": 16, "q_lora_rank": 24,
                    "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "vocab_size": 128},
    "jamba": {"model_type": "jamba", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 4,
              "num_attention_heads": 4, "num_key_value_heads": 2, "num_experts": 2, "num_experts_per_tok": 1,
              "attn_layer_period": 2, "attn_layer_offset": 1, "expert_layer_period": 2, "expert_layer_offset": 1,
              "mamba_d_state": 8, "mamba_d_conv": 4, "mamba_expand": 2, "mamba_dt_rank": 8, "vocab_size": 128,
              "use_mamba_kernels": False},
    "mamba": {"model_type": "mamba", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "state_size": 8, "conv_kernel": 4, "expand": 2, "time_step_rank": 8, "vocab_size": 128},
    "t5": {"model_type": "t5", "d_model": 64, "d_kv": 16, "d_ff": 128, "num_layers": 2, "num_decoder_layers": 2,
           "num_heads": 4, "vocab_size": 128, "is_encoder_decoder": True},
}
SEQ, BATCH = 40, 2


def kv_run() -> dict[str, Any]:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM

    torch.manual_seed(0)
    out: dict[str, Any] = {}
    for name, cfg in TINY.items():
        data = dict(cfg)
        config = AutoConfig.for_model(**data)
        cls = AutoModelForSeq2SeqLM if data.get("is_encoder_decoder") else AutoModelForCausalLM
        model = cls.from_config(config).eval()  # type: ignore[no-untyped-call]
        ids = torch.randint(0, 128, (BATCH, SEQ))
        with torch.no_grad():
            if data.get("is_encoder_decoder"):
                res = model(input_ids=ids, decoder_input_ids=ids, use_cache=True)
            else:
                res = model(input_ids=ids, use_cache=True)
        cache = getattr(res, "past_key_values", None) or getattr(res, "cache_params", None)
        out[name] = {"bytes": cache_bytes(cache), "config": data, "seq": SEQ, "batch": BATCH,
                     "dtype_bytes": next(model.parameters()).element_size()}
    return out


if __name__ == "__main__":
    if sys.argv[1] == "params":
        print(json.dumps({p: meta_params(p) for p in sys.argv[2:]}))
    else:
        print(json.dumps(kv_run()))
