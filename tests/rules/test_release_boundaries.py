"""Each corrected version boundary, on both sides: the last release without the behaviour and the first with it.

The releases come from reading the wheels (the knowledge tables): for each boundary the rule must hold on one
side and fire on the other, with everything else equal. A rule that still wrote the old, wrong boundary by
hand would fail on one of the two sides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.rules.test_rule_cases import run_case, statuses

GEMMA2 = "fixtures/configs/google__gemma-2-9b-it.json"
FP8 = "fixtures/configs/Qwen__Qwen3-32B-FP8.json"
GPT_OSS = "fixtures/configs/openai__gpt-oss-20b.json"
QWEN3_MOE = "fixtures/configs/Qwen__Qwen3-30B-A3B.json"
BERT = "fixtures/configs/google-bert__bert-base-uncased.json"


def dtype(version: str) -> str:
    """The dtype keyword the release takes (from 4.56 `dtype`)."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


# (rule, the case without `with`, packages beside transformers, last release where it holds, first where it fires)
BOUNDARIES: list[tuple[str, dict[str, Any], list[str], str, str]] = [
    ("FA2-MIN", {"flags": {"attn_implementation": "flash_attention_2"}}, ["flash-attn==2.2.0"], "5.3.0", "5.4.0"),
    ("FA3-CC", {"gpu": "A100-80GB", "flags": {"attn_implementation": "flash_attention_3"}}, ["flash-attn-3==3.0.0"],
     "5.4.0", "5.3.0"),
    ("FA4-VERSION", {"gpu": "B200", "flags": {"attn_implementation": "flash_attention_4"}},
     ["flash-attn-4==4.0.0b36"], "5.4.0", "5.3.0"),
    ("FA3-ALIBI-DROPOUT", {"gpu": "H100", "override": {"attention_dropout": 0.1},
                           "flags": {"attn_implementation": "flash_attention_3"}}, ["flash-attn-3==3.0.0"],
     "5.4.0", "5.3.0"),
    ("SDPA-SOFTCAP", {"model": GEMMA2, "flags": {"attn_implementation": "sdpa"}}, [], "5.20.2", "5.21.0"),
    ("SDPA-SOFTCAP-DROPPED", {"model": GEMMA2, "flags": {"attn_implementation": "sdpa"}}, [], "5.21.0", "5.20.2"),
    ("SDPA-TORCH", {"flags": {"attn_implementation": "sdpa"}}, ["torch==2.1.0+cu121"], "4.56.0", "4.55.4"),
    ("FLEX-CLASS", {"model": "fixtures/configs/EleutherAI__pythia-14m.json", "flags": {
        "attn_implementation": "flex_attention"}}, ["torch==2.5.1+cu124"], "4.47.0", "4.46.3"),
    ("FLEX-CLASS", {"flags": {"attn_implementation": "flex_attention"}}, ["torch==2.5.1+cu124"], "4.48.0", "4.47.1"),
    ("KERNELS-HUB", {"flags": {"attn_implementation": "kernels-community/flash-attn2"}}, ["kernels==0.17.2"],
     "5.22.2", "5.23.0"),
    ("TORCH-MIN", {}, ["torch==2.4.1+cu124"], "5.14.1", "5.15.0"),
    ("TORCH-MIN", {}, ["torch==2.2.2+cu121"], "5.0.0", "5.1.0"),
    ("LOAD-ACCELERATE", {"flags": {"device_map": "auto"}}, ["accelerate==0.21.0"], "4.44.2", "4.45.0"),
    ("LOAD-LOW-CPU-MEM-IGNORED", {"flags": {"low_cpu_mem_usage": True}}, [], "4.50.3", "4.51.0"),
    ("KWARG-USE-FA2-REMOVED", {"flags": {"use_flash_attention_2": True}}, ["flash-attn==2.6.3"], "4.52.4", "4.53.0"),
    ("KWARG-LOAD-IN-BITS-DEPRECATED", {"flags": {"load_in_4bit": True}}, ["bitsandbytes==0.45.0"], "4.37.2",
     "4.38.0"),
    ("KWARG-OUTPUT-ATTENTIONS", {"flags": {"attn_implementation": "sdpa", "output_attentions": True}}, [],
     "4.52.4", "4.53.0"),
    ("KWARG-OUTPUT-ATTENTIONS", {"flags": {"output_attentions": True}}, [], "4.54.0", "4.53.3"),
    ("DTYPE-V5-AUTO", {"flags": {"attn_implementation": "sdpa", "dtype": None}}, [], "4.57.6", "5.0.0"),
    ("QUANT-METHOD-UNKNOWN", {"model": FP8, "gpu": "H100"}, [], "4.49.0", "4.48.3"),
    ("QUANT-CC", {"model": FP8, "gpu": "L4"}, [], "4.51.0", "4.50.3"),
    ("QUANT-CC", {"model": FP8, "gpu": "A100-80GB"}, [], "5.0.0", "4.57.6"),
    ("QUANT-CC", {"model": GPT_OSS, "gpu": "A100-80GB"}, ["triton==3.4.0", "kernels==0.9.1"], "4.55.1", "4.55.0"),
    ("QUANT-FP8-ACTIVATION", {"model": FP8, "gpu": "H100", "override": {"quantization_config": {
        "quant_method": "fp8", "activation_scheme": "static", "weight_block_size": [128, 128]}}}, [], "5.0.0",
     "4.57.6"),
    ("QUANT-GPTQ-PKG", {"model": "fixtures/configs/DariaaaS__fanfiction-largedataset-test-ft__gptq.json"},
     ["auto-gptq==0.7.1", "optimum==1.23.3"], "4.57.6", "5.0.0"),
    ("QUANT-AWQ-PKG", {"model": "fixtures/configs/TheBloke__LLaMA-13b-AWQ.json"}, ["autoawq==0.2.7"], "4.57.6",
     "5.0.0"),
    ("QUANT-NO-GPU", {"model": "fixtures/configs/chohtet__qwen2_7b_instruct_4bit_r128__bnb.json", "gpu": "none"},
     ["bitsandbytes==0.46.1"], "4.45.0", "4.44.2"),
    ("MODEL-TYPE-UNKNOWN", {"model": QWEN3_MOE}, [], "4.51.0", "4.50.3"),
    ("ROPE-TYPE-REFUSED", {}, [], "4.43.0", "4.42.4"),
    ("REMOTE-FA2-ONLY", {"model": "fixtures/models/hardflash", "flags": {
        "trust_remote_code": True, "attn_implementation": "flash_attention_2"}}, ["flash-attn==2.6.3"], "5.3.0",
     "5.4.0"),
    ("REMOTE-REMOVED-HELPER", {"model": "fixtures/models/dephelper", "flags": {"trust_remote_code": True}}, [],
     "5.3.0", "5.4.0"),
    ("BT-REFUSED", {"model": BERT, "flags": {"to_bettertransformer": True}}, ["optimum==1.23.2"], "4.46.0",
     "4.46.0"),
]


def case(base: dict[str, Any], packages: list[str], release: str) -> dict[str, Any]:
    flags = dict(base.get("flags", {}))
    if "dtype" in flags and flags["dtype"] is None:  # the case is about leaving the dtype out
        del flags["dtype"]
    else:
        flags.setdefault(dtype(release), "float32" if base.get("model") == BERT else "bfloat16")
    return {**base, "with": [f"transformers=={release}", *packages], "flags": flags}


@pytest.mark.parametrize(("rule_id", "base", "packages", "holds", "fires"), BOUNDARIES,
                         ids=[f"{b[0]}:{b[3]}|{b[4]}" for b in BOUNDARIES])
def test_the_boundary_holds_on_one_side_and_fires_on_the_other(
    rule_id: str, base: dict[str, Any], packages: list[str], holds: str, fires: str, tmp_path: Path
) -> None:
    if rule_id == "BT-REFUSED":  # optimum's boundary: 1.23.2 converts BERT, 1.23.3 refuses it (sdpa)
        passing = run_case(case(base, packages, holds), tmp_path)
        failing = run_case(case(base, ["optimum==1.23.3"], fires), tmp_path)
    else:
        passing = run_case(case(base, packages, holds), tmp_path)
        failing = run_case(case(base, packages, fires), tmp_path)
    assert ("fail", True) not in statuses(passing, rule_id), (holds, statuses(passing, rule_id))
    assert statuses(passing, rule_id), f"{rule_id} was not evaluated on {holds}"
    assert ("fail", True) in statuses(failing, rule_id), (fires, statuses(failing, rule_id))
