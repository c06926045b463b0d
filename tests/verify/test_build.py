"""Shrinking a config: what is kept (the attention shape), what is scaled, and the notes saying so."""

from __future__ import annotations

import json
from pathlib import Path

from advisor.verify.build import FFN_WIDTH, VOCAB, Shape, base_plan, shrink_steps

ROOT = Path(__file__).resolve().parents[2]


def config(name: str) -> dict[str, object]:
    return dict(json.loads((ROOT / "fixtures/configs" / name).read_text()))


def test_base_plan_layers_vocab_window() -> None:
    plan = base_plan(config("google__gemma-2-9b-it.json"), layers=2, seq_len=32)
    assert plan.config["num_hidden_layers"] == 2
    assert plan.config["vocab_size"] == VOCAB
    assert plan.config["sliding_window"] == 16
    assert plan.config["final_logit_softcapping"] == 30.0 and plan.config["attn_logit_softcapping"] == 50.0
    assert plan.config["head_dim"] == 256
    assert any(n.startswith("sliding_window 4096 → 16") for n in plan.notes)
    assert all(isinstance(v, int) and v < VOCAB for k, v in plan.config.items() if k.endswith("token_id")
               and isinstance(v, int))


def test_layer_kinds_are_all_kept() -> None:
    cfg = {"model_type": "x", "num_hidden_layers": 8, "layer_types": ["sliding"] * 7 + ["full"]}
    plan = base_plan(cfg, layers=2, seq_len=32)
    assert plan.config["layer_types"] == ["sliding", "full"] and plan.config["num_hidden_layers"] == 2


def test_quantization_and_remote_code_are_dropped_with_notes() -> None:
    plan = base_plan(config("ai21labs__Jamba-v0.1.json"), layers=2, seq_len=32)
    assert "auto_map" not in plan.config
    assert plan.config["attn_layer_period"] == 2 and plan.config["attn_layer_offset"] == 1
    assert any("remote code is never run" in n for n in plan.notes)
    plan = base_plan(config("TheBloke__LLaMA-13b-AWQ.json"), layers=2, seq_len=32)
    assert "quantization_config" not in plan.config and any("unquantized" in n for n in plan.notes)


def test_steps_narrow_the_width_first_and_heads_only_after_keeping_the_ratio() -> None:
    cfg = config("mistralai__Mixtral-8x7B-v0.1.json")
    steps = shrink_steps(base_plan(cfg, 2, 32), Shape(4096, 32, 8, 128))
    first = steps[0].config  # the width attention never sees goes whatever the budget; the heads stay
    assert first["num_local_experts"] == 4 and first["num_experts_per_tok"] == 2
    assert first["intermediate_size"] == FFN_WIDTH and first["hidden_size"] == 256
    assert (first["num_attention_heads"], first["num_key_value_heads"], first["head_dim"]) == (32, 8, 128)
    assert any(n.startswith("hidden_size 4096 → 256") for n in steps[0].notes)
    second = steps[1].config  # for a class that does not take head_dim on its own: the hidden size stays
    assert second["hidden_size"] == 4096 and second["intermediate_size"] == FFN_WIDTH
    fewer = [s.config for s in steps if s.config["num_attention_heads"] != 32]
    assert fewer and fewer[-1]["num_key_value_heads"] == 1 and fewer[-1]["num_attention_heads"] == 4  # ratio kept
    assert fewer[-1]["hidden_size"] == 4 * 128  # hidden = heads x head_dim, so head_dim stays 128
    assert steps.index(next(s for s in steps if s.config["num_attention_heads"] != 32)) == 2
    assert steps[-1].config["num_local_experts"] == 8  # the full width last, for a class that cannot narrow
