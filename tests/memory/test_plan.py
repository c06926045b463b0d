"""Placement and flags from the memory plan, through the real engine (recommend and check)."""

from __future__ import annotations

from advisor import api
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.core.logic import Unknown
from advisor.core.results import Recommendation
from advisor.facts.hardware import Gpu, Hardware, unknown_cpu
from advisor.facts.locate import load_model
from advisor.facts.model_source import ModelSource
from advisor.memory.ledger import Ledger
from advisor.memory.plan import plan_memory
from tests.memory.conftest import CONFIGS, facts

GIB = 1 << 30
LLAMA8, LLAMA70 = "meta-llama__Meta-Llama-3.1-8B", "meta-llama__Llama-3.3-70B-Instruct"
DSV3 = "deepseek-ai__DeepSeek-V3"


def rec(config: str, gpu: str, *with_packages: str, **request: object) -> Recommendation:
    return api.recommend(facts(config, gpu, with_packages, **request))


def rules(r: Recommendation) -> dict[str, str]:
    return {f.rule: f.message for f in r.findings}


def test_l4_llama8b_long_context_batch4_offloads_without_bitsandbytes() -> None:
    r = rec(LLAMA8, "L4", context=8192, batch=4)
    m = r.memory.to_json() if r.memory else None
    assert m is not None
    assert m["parameters"] == 8_030_261_248
    assert m["kv_cache_bytes_per_token"] == 32 * 2 * 8 * 128 * 2
    assert m["kv_cache_bytes"] == 4 * 8192 * m["kv_cache_bytes_per_token"]
    assert r.flags["device_map"] == "auto" and "quantization_config" not in r.flags
    assert set(r.flags["max_memory"]) == {0, "cpu"}  # ready for from_pretrained: a GPU index is an int
    assert set(r.json_flags()["max_memory"]) == {"0", "cpu"}  # JSON keys are strings
    assert m["fits"] is False and m["cpu_bytes"] > 0
    found = rules(r)
    assert "GiB of weights do not fit" in found["MEM-OFFLOAD"]
    assert "MEM-QUANT-WOULD-HELP" in found
    gpu = m["per_gpu"][0]
    assert gpu["total_bytes"] <= gpu["has_bytes"]
    assert 0 < m["max_context"] < 8192


def test_l4_llama8b_with_bitsandbytes_quantizes_to_8bit_on_one_gpu() -> None:
    r = rec(LLAMA8, "L4", "bitsandbytes==0.50.2", context=8192, batch=4)
    assert r.flags["quantization_config"] == {"load_in_8bit": True}
    assert r.flags["device_map"] == {"": 0} and "max_memory" not in r.flags
    assert r.memory is not None and r.memory.placement is not None
    assert r.memory.fits is True and r.memory.placement.quantization == "bitsandbytes 8-bit"
    assert "MEM-QUANT-TRADE" in rules(r)
    assert "BitsAndBytesConfig(load_in_8bit=True)" in r.python
    assert "from transformers import AutoModelForCausalLM, BitsAndBytesConfig" in r.python
    assert r.memory.to_json()["max_context"] >= 8192


def test_four_bit_compute_dtype_follows_the_dtype() -> None:
    r = rec(LLAMA70, "A100-80GB", "bitsandbytes==0.50.2", dtype="float16", context=2048)
    assert r.flags["quantization_config"] == {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
                                              "bnb_4bit_compute_dtype": "float16"}
    assert "bnb_4bit_compute_dtype=torch.float16" in r.python
    m = r.memory.to_json() if r.memory else None
    assert m is not None and m["fits"] is True
    assert m["weights_bytes"] < 40 * GIB


def test_fits_on_one_gpu_without_any_quantization() -> None:
    r = rec(LLAMA8, "A100-80GB", "bitsandbytes==0.50.2")
    assert r.flags["device_map"] == {"": 0}
    assert "quantization_config" not in r.flags and "max_memory" not in r.flags
    assert r.memory is not None and r.memory.to_json()["fits"] is True and len(r.memory.to_json()["per_gpu"]) == 1


def test_70b_on_h100x8_spreads_with_max_memory_per_gpu() -> None:
    r = rec(LLAMA70, "H100x8", context=8192, batch=4)
    m = r.memory.to_json() if r.memory else None
    assert m is not None and m["fits"] is True
    assert r.flags["device_map"] == "auto"
    mm = r.flags["max_memory"]
    assert set(mm) == set(range(8)) and all(v.endswith("GiB") for v in mm.values())
    used = m["per_gpu"]
    assert len(used) >= 2 and m["cpu_bytes"] == 0
    assert all(g["total_bytes"] <= g["has_bytes"] for g in used)
    assert "GPU 0:" in rules(r)["MEM-SPLIT"]
    assert "max_memory={0: " in r.python


def test_70b_on_one_l4_offloads_even_when_4bit_would_not_fit() -> None:
    r = rec(LLAMA70, "L4", "bitsandbytes==0.50.2")
    assert "quantization_config" not in r.flags
    assert r.flags["device_map"] == "auto" and "cpu" in r.flags["max_memory"]
    m = r.memory.to_json() if r.memory else None
    assert m is not None and m["cpu_bytes"] > 100 * GIB
    assert "MEM-OFFLOAD" in rules(r) and "MEM-QUANT-WOULD-HELP" not in rules(r)


def test_deepseek_v3_fits_no_single_machine_and_gets_tensor_parallel_sizes() -> None:
    r = rec(DSV3, "H100")
    m = r.memory.to_json() if r.memory else None
    assert m is not None
    assert m["parameters"] == 671_026_404_352
    tp = m["tensor_parallel"]
    assert tp["sizes"] == [1, 2, 4, 8, 16, 32, 64, 128]
    assert tp["smallest_fitting"] == 16
    assert "the smallest that holds it is 16 (2 machines of 8)" in rules(r)["MEM-NO-SINGLE-MACHINE"]
    assert m["kv_cache_bytes_per_token"] == 61 * (512 + 64) * 2
    assert m["quantization"] == "fp8 (e4m3)"


def test_fp8_checkpoint_is_dequantized_below_compute_capability_8_9() -> None:
    on_a100 = plan_memory(facts("Qwen__Qwen3-32B-FP8", "A100-80GB"))
    on_h100 = plan_memory(facts("Qwen__Qwen3-32B-FP8", "H100"))
    scope = {"flag.dtype": "bfloat16"}
    a, h = on_a100.ledger(on_a100.setting(scope)), on_h100.ledger(on_h100.setting(scope))
    assert isinstance(a, Ledger) and isinstance(h, Ledger)
    assert a.weights == 32_762_123_264 * 2
    assert h.weights < a.weights * 0.6


def test_training_adds_gradients_and_adamw_state() -> None:
    scope = {"flag.dtype": "bfloat16", "flag.device_map": {"": 0}}
    inference = plan_memory(facts(LLAMA8, "H100", context=2048)).report(scope).to_json()
    training = plan_memory(facts(LLAMA8, "H100", task="training", context=2048)).report(scope).to_json()
    assert inference["training_bytes"] is None
    assert training["training_bytes"] >= 8_030_261_248 * 14
    assert training["kv_cache_bytes"] == 0
    assert inference["fits"] is True and training["fits"] is False
    assert training["total_bytes"] > 80 * GIB > inference["total_bytes"]


def test_max_context_is_the_longest_that_fits() -> None:
    plan = plan_memory(facts(LLAMA8, "L4", batch=2))
    scope = {"flag.dtype": "bfloat16", "flag.device_map": {"": 0}}
    best = plan.max_context(scope)
    assert isinstance(best, int) and 1000 < best < 131072

    def fits(n: int) -> object:
        led = plan.ledger(plan.setting(scope, context=n))
        return led.placement.fits if isinstance(led, Ledger) else None

    assert fits(best) is True and fits(best + 1) is False


def test_device_map_uses_the_cuda_index_of_the_gpu_with_room() -> None:
    def gpu(i: int, free_gib: float) -> Gpu:
        src = "test"
        return Gpu(index=i, name=Fact.of("A100", src), compute_capability=Fact.of((8, 0), src),
                   memory_total_bytes=Fact.of(80 * GIB, src), memory_free_bytes=Fact.of(int(free_gib * GIB), src))

    hw = Hardware(gpus=(gpu(0, 3.0), gpu(1, 78.0)), source="test", gpu_count=Fact.of(2, "test"),
                  cpu=unknown_cpu("test", "test"))
    base = facts(LLAMA8, "A100-80GB")
    f = api.facts_for(base.model.source, hw, base.software, base.request)
    r = api.recommend(f)
    assert r.flags["device_map"] == {"": 1}
    assert r.memory is not None and r.memory.to_json()["per_gpu"][0]["index"] == 1
    assert r.memory.to_json()["per_gpu"][0]["has_source"] == "free memory (NVML)"


def test_sizes_that_cannot_be_known_are_unknown_with_the_reason() -> None:
    src = load_model(str(CONFIGS / f"{LLAMA8}.json"))
    cfg = {k: v for k, v in src.config.items() if k not in ("intermediate_size",)}
    cfg["model_type"] = "mystery"
    f = facts(LLAMA8, "L4")
    f2 = api.facts_for(replace(src, config=cfg), f.hardware, f.software, f.request)
    r = api.recommend(f2)
    m = r.memory.to_json() if r.memory else None
    assert m is not None and m["parameters"] is None and m["fits"] is None
    assert "mystery" in m["unknown"]["parameters"]
    assert r.flags.get("device_map") != {"": 0}
    plan = plan_memory(f2)
    assert isinstance(plan.lookup("memory.fits", {"flag.dtype": "bfloat16"}), Unknown)


def test_exact_safetensors_counts_replace_the_config_estimate() -> None:
    src = load_model(str(CONFIGS / f"{LLAMA8}.json"))
    exact = ModelSource(src.id, src.config, "hub", parameters={"BF16": 8_030_261_000})
    f = facts(LLAMA8, "H100")
    ledger = api.recommend(api.facts_for(exact, f.hardware, f.software, f.request)).memory
    assert ledger is not None and ledger.parameters is not None and ledger.placement is not None
    assert ledger.parameters.total == 8_030_261_000 and ledger.placement.weights_bytes == 8_030_261_000 * 2
    m = ledger.to_json()
    assert m["parameters"] == 8_030_261_000 and m["weights_bytes"] == 8_030_261_000 * 2
    assert m["weights_source"] == "safetensors metadata"


def test_check_mode_flags_one_gpu_that_cannot_hold_it() -> None:
    result = api.check(facts(LLAMA70, "H100"), {"dtype": "bfloat16", "device_map": {"": 0}})
    assert any(f.rule == "MEM-SINGLE-GPU" and f.severity == "error" for f in result.findings)
