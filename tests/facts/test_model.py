"""Model facts derived from real config.json files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.core.errors import InputError
from advisor.facts.model import ModelFacts, model_facts
from advisor.facts.model_source import ModelSource, load_local

ROOT = Path(__file__).resolve().parents[2]


def facts(name: str) -> ModelFacts:
    return model_facts(load_local(str(ROOT / "fixtures" / "configs" / name)))


def test_llama_gqa_and_rope() -> None:
    m = facts("meta-llama__Meta-Llama-3.1-8B.json")
    assert (m.num_heads.value, m.num_kv_heads.value, m.head_dim.value) == (32, 8, 128)
    assert m.rope_type.value == "llama3" and m.checkpoint_dtype.value == "bfloat16"
    assert m.sliding_window.value is None and m.softcap.value is None and not m.remote_code


def test_gemma2_softcap_window_explicit_head_dim() -> None:
    m = facts("google__gemma-2-9b-it.json")
    assert m.softcap.value == 50.0 and m.sliding_window.value == 4096 and m.head_dim.value == 256


def test_qwen25_window_switched_off() -> None:
    m = facts("Qwen__Qwen2.5-7B.json")
    assert m.sliding_window.value is None and "use_sliding_window" in m.sliding_window.source


def test_deepseek_v3_mla_moe_fp8() -> None:
    m = facts("deepseek-ai__DeepSeek-V3.json")
    assert m.mla.value and m.moe.value and m.quant_method.value == "fp8"
    assert m.head_dim.value == 192  # qk_nope_head_dim + qk_rope_head_dim
    assert m.remote_code


def test_llama4_nested_text_config() -> None:
    m = facts("meta-llama__Llama-4-Scout-17B-16E-Instruct.json")
    assert m.model_type.value == "llama4" and m.num_kv_heads.value == 8 and m.moe.value


def test_falcon_multi_query_and_alibi_bloom() -> None:
    assert facts("tiiuae__falcon-7b__RW-remote-code.json").num_kv_heads.value == 1
    bloom = facts("bigscience__bloomz-560m.json")
    assert bloom.alibi.value and bloom.head_dim.value == 64


def test_phi_msft_legacy_keys_and_mamba_without_attention() -> None:
    phi = facts("microsoft__phi-2__phi-msft-remote-code.json")
    assert {"flash_attn", "flash_rotary", "fused_dense"} <= phi.legacy_keys
    assert facts("Qwen__Qwen-7B.json").legacy_keys == {"use_flash_attn"}
    mamba = facts("RandomNameAnd6__DharMamba__mamba-130m-hf.json")
    assert mamba.has_attention.value is False and not mamba.num_heads.known


def test_config_level_attn_implementation_and_quantization() -> None:
    src = load_local(str(ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"))
    cfg = {**src.config, "_attn_implementation": "flash_attention_2"}
    m = model_facts(ModelSource(id="x", config=cfg, source="local"))
    assert m.config_attn_impl.value == "flash_attention_2"
    assert facts("TheBloke__LLaMA-13b-AWQ.json").quant_method.value == "awq"
    assert facts("DariaaaS__fanfiction-largedataset-test-ft__gptq.json").quant_method.value == "gptq"


def test_unknown_sizes_stay_unknown() -> None:
    m = model_facts(ModelSource(id="x", config={"model_type": "llama"}, source="local"))
    assert not m.num_heads.known and not m.head_dim.known and m.num_heads.reason


@pytest.mark.parametrize("cfg", [{}, {"model_type": 3}, {"architectures": "X"},
                                 {"model_type": "llama", "hidden_size": True},
                                 {"model_type": "llama", "num_hidden_layers": 10 ** 9},
                                 {"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 3}])
def test_bad_configs(cfg: dict[str, object]) -> None:
    with pytest.raises(InputError):
        model_facts(ModelSource(id="bad", config=json.loads(json.dumps(cfg)), source="local"))


def test_auto_map_never_reads_outside_the_model_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.py"
    outside.write_text("TOKEN = 'do not read'\n")
    model = tmp_path / "model"
    model.mkdir()
    (model / "modeling_x.py").write_text("import torch\n")
    config = {"model_type": "x", "architectures": ["XForCausalLM"],
              "auto_map": {"AutoModel": "../secret.X", "AutoModelForCausalLM": "modeling_x.XForCausalLM",
                           "AutoConfig": "/etc/passwd.Y"}}
    (model / "config.json").write_text(json.dumps(config))
    src = load_local(str(model))
    assert set(src.files) == {"modeling_x.py"}


def test_name_matching_of_a_config_without_model_type_reads_as_the_expression() -> None:
    """The plain `str.find` matching of a model type in a name agrees with the expression it replaces,
    `(?<![a-z0-9])TYPE(?![a-z0-9])`, on every type transformers knows and names that hold them oddly."""
    import re

    from packaging.version import Version

    from advisor.facts.gather import _names_type
    from advisor.facts.transformers_support import installed_transformers, native_model_types

    known = native_model_types(Version("5.23.0"), installed_transformers()).value
    assert known and len(known) > 300
    names = ["meta-llama/llama-3.1-8b", "x/gpt2", "a/gpt2-xl", "a/xgpt2", "a/gpt2x", "bert/bert", "t5", "my-t5_small",
             "qwen2/qwen2_moe", "org/mistral7b", "org/mixtral-8x7b", "café-llama", "llamallama-llama", ""]
    for model_type in sorted(known):
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(model_type)}(?![a-z0-9])")
        for name in [*names, f"org/{model_type}", f"{model_type}{model_type}", f"1{model_type}-{model_type}"]:
            assert _names_type(name, model_type) == bool(pattern.search(name)), (name, model_type)
