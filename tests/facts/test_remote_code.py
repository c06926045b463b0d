"""advisor.facts.remote_code on the samples in fixtures/remote-code: read with ast, never imported."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.version import Version

from advisor.facts.release_facts import helper_status
from advisor.facts.release_table import table_for
from advisor.facts.remote_code import (
    CodeRef,
    analyze_remote_code,
    remote_code_refs,
    required_distributions,
)

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "remote-code"


def sample(folder: str) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((SAMPLES / folder).glob("*.py"))}


def test_phi_msft_one_try_makes_flash_optional_and_reads_its_flags() -> None:
    rc = analyze_remote_code(sample("phi-msft"))
    assert rc.files == ("configuration_phi.py", "modeling_phi.py")
    assert "flash_attn" not in rc.hard_imports
    assert rc.optional_imports["flash_attn"] == "modeling_phi.py:18"
    assert rc.hard_imports["einops"] == "modeling_phi.py:10"
    assert rc.wraps_all_flash_imports_in_one_try
    assert {"flash_attn", "flash_rotary", "fused_dense", "checkpointing"} <= rc.config_keys
    assert rc.imported_names["flash_attn.ops.fused_dense.FusedDense"] == "modeling_phi.py:21"
    assert "flash_attn.modules.mha.FlashSelfAttention" in rc.imported_names
    assert required_distributions(rc) == {"einops": "modeling_phi.py:10", "torch": "modeling_phi.py:8",
                                          "transformers": "configuration_phi.py:7"}


def test_qwen_flash_parts_are_optional_imports_inside_a_function() -> None:
    rc = analyze_remote_code(sample("qwen"))
    assert "flash_attn" in rc.optional_imports and "flash_attn" not in rc.hard_imports
    assert "einops" in rc.optional_imports
    assert {"use_flash_attn", "bf16", "fp16", "fp32"} <= rc.config_keys
    assert "flash_attn.ops.rms_norm.rms_norm" in rc.imported_names
    assert "flash_attn.layers.rotary.apply_rotary_emb_func" in rc.imported_names
    assert not rc.wraps_all_flash_imports_in_one_try  # one try per part: each fails alone
    assert "flash-attn" not in required_distributions(rc)


def test_module_level_flash_import_is_hard_and_named_with_its_line() -> None:
    rc = analyze_remote_code(sample("flash-hard"))
    assert rc.hard_imports["flash_attn"] == "modeling_hardflash.py:7"
    assert rc.imported_names["flash_attn.flash_attn_func"] == "modeling_hardflash.py:7"
    assert required_distributions(rc)["flash-attn"] == "modeling_hardflash.py:7"
    assert rc.flash_attn_2_only_classes == ("HardFlashPreTrainedModel",)
    # a method call on the config is not a key read; getattr with a default is
    assert "to_dict" not in rc.config_keys and "sliding_window" in rc.config_keys
    # `if is_flash_attn_2_available():` guards the rotary import the way transformers' check does
    assert "flash_attn.layers.rotary.apply_rotary_emb" in rc.imported_names


def test_removed_transformers_helpers_depend_on_target_version() -> None:
    rc = analyze_remote_code(sample("old-helpers"))
    assert rc.transformers_names["is_torch_sdpa_available"] == "modeling_old.py:6"
    assert helper_status(rc.imported_names, table_for(Version("4.57.6"))) == ({}, {})
    removed, deprecated = helper_status(rc.imported_names, table_for(Version("5.0.0")))
    assert removed == {"is_torch_fx_available": "modeling_old.py:7, removed in 5.0.0; last in 4.57.6",
                       "is_torch_sdpa_available": "modeling_old.py:6, removed in 5.0.0; last in 4.57.6"}
    assert deprecated == {}
    assert rc.flash_attn_2_only_classes == ()  # sets both flags
    # an import inside a method is still required by transformers' check_imports
    assert rc.hard_imports["deepspeed"] == "modeling_old.py:27"
    assert "torch" in rc.hard_imports and "fx" not in rc.optional_imports


def test_mpt_nested_attn_config_keys() -> None:
    rc = analyze_remote_code(sample("mpt"))
    assert {"attn_config.attn_impl", "attn_config.alibi", "attn_config.clip_qkv", "d_model"} <= rc.config_keys
    assert rc.optional_imports == {"flash_attn": "attention.py:14"}


def test_malformed_file_is_reported_not_fatal() -> None:
    files = {**sample("malformed"), **sample("flash-hard")}
    rc = analyze_remote_code(files)
    assert len(rc.parse_errors) == 1 and rc.parse_errors[0].startswith("modeling_broken.py:4:")
    assert rc.hard_imports["flash_attn"] == "modeling_hardflash.py:7"  # the good file is still read
    assert analyze_remote_code({"nul.py": "x = 1\0"}).parse_errors[0].startswith("nul.py")


def test_nothing_is_imported_or_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"import os\nopen({str(marker)!r}, 'w').write('x')\nimport some_module_that_does_not_exist\n"
    rc = analyze_remote_code({"evil.py": code})
    assert not marker.exists()
    assert "some_module_that_does_not_exist" in rc.hard_imports
    assert "some_module_that_does_not_exist" not in sys.modules


def test_auto_map_refs_same_repo_other_repo_and_lists() -> None:
    config = {"auto_map": {
        "AutoConfig": "configuration_phi.PhiConfig",
        "AutoModelForCausalLM": "microsoft/phi-2--modeling_phi.PhiForCausalLM",
        "AutoTokenizer": ["tokenization_x.XTokenizer", None],
        "AutoModel": "../../etc.passwd",
        "AutoBad": "evil/../repo--modeling_x.X",
    }}
    refs = remote_code_refs(config)
    assert refs == (CodeRef("AutoConfig", "configuration_phi.py", "PhiConfig"),
                    CodeRef("AutoModelForCausalLM", "modeling_phi.py", "PhiForCausalLM", "microsoft/phi-2"),
                    CodeRef("AutoTokenizer", "tokenization_x.py", "XTokenizer"))
    assert refs[1].key == "microsoft/phi-2/modeling_phi.py"
    assert remote_code_refs({"auto_map": "nonsense"}) == ()


@pytest.mark.parametrize("name", ["is_torch_sdpa_available", "is_torch_fx_available", "is_tf_available",
                                  "is_flax_available", "is_safetensors_available", "is_torch_bf16_available",
                                  "is_bitsandbytes_multi_backend_available", "is_offline_mode",
                                  "is_torchdynamo_available", "is_torch_compile_available"])
def test_the_5x_removals_are_read_from_the_releases(name: str) -> None:
    imported = {f"transformers.utils.{name}": "modeling_x.py:1"}
    assert helper_status(imported, table_for(Version("4.57.6")))[0] == {}
    removed, _ = helper_status(imported, table_for(Version("5.0.0")))
    assert removed == {name: "modeling_x.py:1, removed in 5.0.0; last in 4.57.6"}


def test_a_helper_missing_in_one_release_and_announced_later() -> None:
    imported = {"transformers.utils.is_flash_attn_greater_or_equal_2_10": "modeling_x.py:3"}
    assert helper_status(imported, table_for(Version("5.3.0"))) == ({}, {})
    removed, _ = helper_status(imported, table_for(Version("5.4.0")))
    assert removed == {"is_flash_attn_greater_or_equal_2_10": "modeling_x.py:3, removed in 5.4.0; last in 5.3.0"}
    _, deprecated = helper_status(imported, table_for(Version("5.23.0")))
    assert "will be removed" in deprecated["is_flash_attn_greater_or_equal_2_10"]
