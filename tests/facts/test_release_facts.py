"""The facts read from a target release's table: what they say across releases, and what follows from them
(the memory plan of a dequantized checkpoint, the keyword a flag is emitted under, a target newer than the
tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from advisor import api
from advisor.core.errors import InputError
from advisor.core.frozen import replace
from advisor.engine.namespace import build_namespace
from advisor.engine.pack import load_flags
from advisor.facts.bundle import Facts, Request
from advisor.facts.locate import load_model
from advisor.facts.release_table import newest, table_for
from advisor.memory.plan import plan_memory

ROOT = Path(__file__).resolve().parents[2]
SOFTWARE = ROOT / "fixtures/software/cuda-tf5.23.json"
LLAMA = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
FP8 = "fixtures/configs/Qwen__Qwen3-32B-FP8.json"
GPT_OSS = "fixtures/configs/openai__gpt-oss-20b.json"


def facts(model: str, gpu: str, *packages: str, override: dict[str, Any] | None = None) -> Facts:
    source = load_model(str(ROOT / model))
    if override:
        source = replace(source, config={**source.config, **override})
    target = api.Target(gpu=gpu, software_file=SOFTWARE, with_packages=packages)
    return api.facts_for(source, api.hardware_facts(target), api.software_facts(target), Request())


def fact(f: Facts, name: str) -> Any:
    found = f.fact(name)
    assert found is not None and found.known, (name, found)
    return found.value


@pytest.mark.parametrize(("gpu", "release", "dequantized", "below_cc"), [
    ("A100-80GB", "5.23.0", True, "dequantize"), ("H100", "5.23.0", False, "dequantize"),
    ("A100-80GB", "4.57.6", False, "raise"), ("none", "5.23.0", True, "dequantize"),
])
def test_fp8_is_dequantized_or_refused_by_release(gpu: str, release: str, dequantized: bool, below_cc: str) -> None:
    f = facts(FP8, gpu, f"transformers=={release}")
    assert fact(f, "quant.dequantized") is dequantized
    assert fact(f, "quant.below_cc") == below_cc and fact(f, "quant.cc_min") == Version("8.9")


def test_the_memory_plan_follows_a_dequantized_checkpoint() -> None:
    def weights(gpu: str) -> int:
        f = facts(FP8, gpu)
        found: int = plan_memory(f).report(build_namespace(f)).to_json()["weights_bytes"]
        return found

    ratio = weights("A100-80GB") / weights("H100")
    assert 1.8 < ratio < 2.1, ratio  # fp8 (1 byte) against bfloat16 (2 bytes) for the linear weights


@pytest.mark.parametrize(("release", "packages", "dequantized"), [
    ("5.23.0", (), True),
    ("5.23.0", ("kernels==0.17.2", "triton==3.4.0"), True),  # 5.23 needs kernels >= 0.18.2, < 0.19
    ("5.23.0", ("kernels==0.18.2", "triton==3.4.0"), False),
    ("4.57.6", ("kernels==0.9.1", "triton==3.4.0"), False),  # 4.57 takes any kernels that imports
    ("4.57.6", ("kernels==0.9.1", "triton==3.3.1"), True),  # but triton 3.4
])
def test_mxfp4_stays_4bit_only_with_its_kernels(release: str, packages: tuple[str, ...], dequantized: bool) -> None:
    f = facts(GPT_OSS, "H100", f"transformers=={release}", *packages)
    assert fact(f, "quant.dequantized") is dequantized


@pytest.mark.parametrize(("release", "rope", "override", "outcome"), [
    ("4.42.4", "llama3", None, "refused"),  # LlamaConfig._rope_scaling_validation: linear, dynamic
    ("4.43.0", "llama3", None, "ok"),
    ("5.23.0", "foo", {"rope_scaling": {"rope_type": "foo", "factor": 2.0}}, "refused"),
    ("5.4.0", "proportional", {"rope_scaling": {"rope_type": "proportional", "factor": 2.0}}, "refused"),
    ("5.5.0", "proportional", {"rope_scaling": {"rope_type": "proportional", "factor": 2.0}}, "ok"),
])
def test_rope_types_by_release(release: str, rope: str, override: dict[str, Any] | None, outcome: str) -> None:
    f = facts(LLAMA, "A100-80GB", f"transformers=={release}", override=override)
    assert f.model.rope_type.value == rope
    assert fact(f, "rope.outcome") == outcome


def test_rope_settings_a_config_class_does_not_hold_are_ignored() -> None:
    mixtral = "fixtures/configs/mistralai__Mixtral-8x7B-v0.1.json"
    override = {"rope_scaling": {"type": "linear", "factor": 2.0}}
    assert fact(facts(mixtral, "A100-80GB", "transformers==4.36.0", override=override), "rope.outcome") == "ignored"
    assert fact(facts(mixtral, "A100-80GB", override=override), "rope.outcome") == "ok"


def test_where_a_model_type_is_known() -> None:
    qwen3_moe = "fixtures/configs/Qwen__Qwen3-30B-A3B.json"
    old = facts(qwen3_moe, "A100-80GB", "transformers==4.46.0")
    assert fact(old, "arch.known_in") == "it is native from transformers 4.51.0"
    assert fact(old, "arch.added_in") == Version("4.51.0")
    gone = facts(LLAMA, "A100-80GB", override={"model_type": "nezha", "architectures": ["NezhaModel"]})
    assert fact(gone, "arch.known_in") == "transformers 5.0.0 removed it (the last release with it is 4.57.6)"
    never = facts(LLAMA, "A100-80GB", override={"model_type": "no-such-type", "architectures": []})
    assert fact(never, "arch.known_in").startswith("no transformers release from 4.36.0 to")


@pytest.mark.parametrize(("release", "flag", "keyword"), [
    ("4.46.0", "dtype", "torch_dtype"), ("4.56.0", "dtype", "dtype"), ("5.23.0", "dtype", "dtype"),
    ("4.50.3", "low_cpu_mem_usage", "low_cpu_mem_usage"), ("4.51.0", "low_cpu_mem_usage", None),
    ("4.36.0", "attn_implementation", "attn_implementation"),  # read through the config in 4.36.0
    ("5.23.0", "trust_remote_code", "trust_remote_code"),
])
def test_the_keyword_a_flag_is_emitted_under_is_the_releases(release: str, flag: str, keyword: str | None) -> None:
    spec = next(s for s in load_flags() if s.name == flag)
    assert spec.kwarg(build_namespace(facts(LLAMA, "A100-80GB", f"transformers=={release}"))) == keyword


def test_a_target_newer_than_the_tables_uses_the_newest() -> None:
    target = Version(f"{newest().major}.{newest().minor + 1}.0")
    table = table_for(target)
    assert table.release == newest() and table.newer and table.note
    f = facts(LLAMA, "A100-80GB", f"transformers=={target}")
    assert fact(f, "transformers.table") == newest()
    assert "newer than" in fact(f, "transformers.table_note")
    assert fact(facts(LLAMA, "A100-80GB"), "transformers.table_note") is None


def test_a_target_older_than_the_tables_is_refused() -> None:
    with pytest.raises(InputError, match=r"older than 4\.36\.0"):
        facts(LLAMA, "A100-80GB", "transformers==4.35.2")


def test_a_misspelt_keyword_gets_a_suggestion() -> None:
    result = api.check(facts(LLAMA, "A100-80GB"), {"dtype": "bfloat16", "attn_implmentation": "sdpa"})
    typo = next(f for f in result.findings if f.rule == "KWARG-TYPO")
    assert "attn_implmentation (did you mean attn_implementation?)" in typo.message
    assert typo.severity == "error"
