"""AMD, Apple silicon and CPU-only targets through every face: the catalog, check, recommend, CI policy,
and what the real transformers 5.23 says of the boundaries the rules draw."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor import api
from advisor.core.errors import InputError
from advisor.facts.gpu_catalog import catalog_hardware, load_catalog, parse_gpu_spec
from tests.ci.conftest import LLAMA, Run, write_policy

ROOT = Path(__file__).resolve().parents[2]
ROCM = ROOT / "fixtures/software/rocm-tf5.23.json"
MPS = ROOT / "fixtures/software/mps-tf5.23.json"
PYTHIA = ROOT / "fixtures/configs/EleutherAI__pythia-14m.json"


def recommend(config: Path, **target: object) -> api.Recommendation:
    t = api.Target(**target)  # type: ignore[arg-type]
    facts = api.facts_for(api.load_source(str(config)), api.hardware_facts(t), api.software_facts(t), api.Request())
    return api.recommend(facts)


def test_catalog_counts_boards_and_names_unified_memory() -> None:
    mi250 = catalog_hardware("MI250Xx4")
    assert len(mi250.gpus) == 8 and {g.memory_total_bytes.value for g in mi250.gpus} == {64 * 2**30}
    assert {g.gfx.value for g in mi250.gpus} == {"gfx90a"} and mi250.gpu_count.value == 8
    mi300 = catalog_hardware("MI300Xx8")
    assert len(mi300.gpus) == 8 and mi300.gpus[0].compute_capability.value is None
    mac = catalog_hardware("M3-Max-64GB")
    assert mac.gpus[0].unified_memory.value is True and mac.cpu.memory_total_bytes.value == 64 * 2**30
    assert not mac.macos.known
    with pytest.raises(InputError, match="Apple silicon is one machine"):
        catalog_hardware("M3-Max-64GBx2")
    with pytest.raises(InputError, match="did you mean M3-Max-"):
        parse_gpu_spec("M3-Max")
    for spelled in ("Apple M3 Max 64GB", "m3-max-64gb", "AMD Instinct MI300X", "Radeon RX 7900 XTX"):
        assert parse_gpu_spec(spelled)[0] is not None, spelled
    for gpu in load_catalog():
        assert (gpu.cc is not None) == (gpu.vendor == "nvidia"), gpu.name
        assert (gpu.gfx is not None) == (gpu.vendor == "amd"), gpu.name


def test_amd_target_assumes_the_rocm_build_and_recommends_flash_attention_2_by_arch() -> None:
    mi300 = recommend(LLAMA, gpu="MI300Xx8", software_file=ROCM, with_packages=("flash-attn==2.8.3",))
    assert mi300.flags["attn_implementation"] == "flash_attention_2" and mi300.flags["dtype"] == "bfloat16"
    rdna = recommend(LLAMA, gpu="W7900", software_file=ROCM, with_packages=("flash-attn==2.8.3",))
    assert rdna.flags["attn_implementation"] == "sdpa"
    reasons = {x.rule for d in rdna.decisions if d.flag == "attn_implementation" for r in d.rejected
               if r.value == "flash_attention_2" for x in r.reasons}
    assert "ROCM-FA2-ARCH" in reasons
    # this machine's CPU torch stands for the ROCm build of the same version on an AMD target
    here = api.software_facts(api.Target(gpu="MI300X"))
    assert here.torch.hip.value is not None and "ROCm build" in here.torch.hip.source


def test_a_rocm_torch_on_an_nvidia_gpu_never_gets_flash_attention_2() -> None:
    rec = recommend(LLAMA, gpu="H100", software_file=ROCM, with_packages=("flash-attn==2.8.3",))
    assert rec.flags.get("attn_implementation") != "flash_attention_2"
    assert any(f.rule == "VENDOR-TORCH-BUILD" for f in rec.findings)


def test_a_mac_target_maps_to_mps_within_three_quarters_of_its_memory() -> None:
    rec = recommend(PYTHIA, hardware_file=ROOT / "fixtures/hardware/mac-m3-max-64gb.json", software_file=MPS)
    assert rec.flags["device_map"] == {"": "mps"} and rec.flags["attn_implementation"] == "sdpa"
    assert rec.flags["dtype"] == "float16"  # pythia is saved in float16
    assert rec.memory is not None
    (gpu,) = rec.memory.to_json()["per_gpu"]
    assert gpu["has_bytes"] == 48 * 2**30 and "recommendedMaxWorkingSetSize" in gpu["has_source"]


def test_cpu_profiles_decide_bfloat16_from_the_instruction_set() -> None:
    arm = recommend(PYTHIA, hardware_file=ROOT / "fixtures/hardware/cpu-arm64-bf16.json", with_packages=())
    x86 = recommend(PYTHIA, hardware_file=ROOT / "fixtures/hardware/cpu-x86-avx2.json", with_packages=())
    facts_arm = api.hardware_facts(api.Target(hardware_file=ROOT / "fixtures/hardware/cpu-arm64-bf16.json"))
    assert facts_arm.cpu.bf16.value is True and "bf16" in facts_arm.cpu.bf16.source
    facts_x86 = api.hardware_facts(api.Target(hardware_file=ROOT / "fixtures/hardware/cpu-x86-avx2.json"))
    assert facts_x86.cpu.bf16.value is False
    assert "device_map" not in arm.flags and "device_map" not in x86.flags


def test_check_and_policy_accept_the_new_targets(advisor: Callable[..., Run], tmp_path: Path) -> None:
    flags = json.dumps({"attn_implementation": "flash_attention_2", "dtype": "bfloat16"})
    ok = advisor("check", LLAMA, "--gpu", "MI300X", "--software", ROCM, "--with", "flash-attn==2.8.3",
                 "--flags", flags, "--format", "json")
    assert ok.code == 0, ok.out + ok.err
    bad = advisor("check", LLAMA, "--gpu", "H100", "--software", ROCM, "--with", "flash-attn==2.8.3",
                  "--flags", flags, "--format", "json")
    assert bad.code == 1 and {"VENDOR-TORCH-BUILD", "VENDOR-FLASH-TORCH"} <= {f["rule"] for f in
                                                                           json.loads(bad.out)["findings"]}
    policy = write_policy(tmp_path, f"""\
offline = true
gpus = ["MI300Xx8", "M3-Max-64GB", "RX7900XTX"]

[[model]]
id = "{{LLAMA}}"
flags = {{ attn_implementation = "flash_attention_2", dtype = "bfloat16" }}

[[software]]
name = "rocm"
profile = "{ROCM.as_posix()}"
""")
    r = advisor("check", "--policy", policy, "--format", "json")
    data = json.loads(r.out)
    failing = {(f["rule"], f["target"]) for f in data["findings"]}
    assert ("APPLE-FLASH", "M3-Max-64GB") in failing
    assert ("APPLE-TORCH-MPS", "M3-Max-64GB") in failing  # a ROCm torch on a Mac
    assert ("FA2-PKG", "MI300Xx8") in failing  # no flash-attn in the profile
    assert not any(t == "MI300Xx8" and rule.startswith("VENDOR-") for rule, t in failing)
    assert r.code == 1


def test_gpus_lists_vendors_and_what_gates_their_kernels(advisor: Callable[..., Run]) -> None:
    text = advisor("gpus").out
    mi300 = next(line for line in text.splitlines() if line.startswith("MI300X "))
    assert "amd" in mi300 and "gfx942" in mi300 and "192.0 GiB" in mi300
    assert any(line.startswith("M3-Max-64GB") and "apple" in line and "Apple9" in line for line in text.splitlines())
    data = json.loads(advisor("gpus", "--format", "json").out)
    rx = next(g for g in data if g["name"] == "RX7900XTX")
    assert rx["gfx"] == "gfx1100" and rx["bf16"] is None and rx["compute_capability"] is None


def test_transformers_5_23_swaps_in_the_aiter_kernel_on_a_rocm_torch() -> None:
    """The real transformers, imported on a CPU torch that says it is a ROCm build (torch.version.hip):
    what ROCM-AITER and VENDOR-FLASH-NVIDIA say of FLASH_ATTN_KERNEL_FALLBACK and its devices."""
    code = """
import json, torch
torch.version.hip = "7.1.0"
from transformers import modeling_flash_attention_utils as m
from transformers.utils.import_utils import is_rocm_platform
print(json.dumps({"rocm": is_rocm_platform(), "fallback": m.FLASH_ATTN_KERNEL_FALLBACK,
                  "devices": {k: list(v) for k, v in m.FLASH_ATTN_KERNEL_DEVICES.items()},
                  "fa2_devices": [d for _, d in m.FLASH_ATTENTION_COMPATIBILITY_MATRIX[2]["supported_devices"]],
                  "fa3_devices": [d for _, d in m.FLASH_ATTENTION_COMPATIBILITY_MATRIX[3]["supported_devices"]]}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["rocm"] is True
    assert seen["fallback"]["flash_attention_2"] == "kernels-community/aiter-flash-attn"
    assert seen["fallback"]["flash_attention_3"] == "kernels-community/aiter-flash-attn"
    assert seen["devices"]["kernels-community/aiter-flash-attn"] == ["rocm"]
    assert seen["devices"]["kernels-community/flash-attn2"] == ["cuda", "xpu"]
    assert seen["devices"]["kernels-community/metal-flash-sdpa"] == ["mps"]
    assert "mps" not in seen["fa2_devices"] and seen["fa3_devices"] == ["cuda"]
