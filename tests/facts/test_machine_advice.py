"""Each machine fixture, read through the real pynvml and the NVML stub, and the advice it must lead to.

The probe and the engine run in a subprocess (the stub is found through LD_LIBRARY_PATH). The software
is this environment's, with torch's build set to a CUDA 12.8 torch 2.13 (archs from the wheel table), so
that GPU advice is about the GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MACHINES = ROOT / "fixtures" / "machines"
CONFIG = ROOT / "fixtures" / "configs" / "Qwen__Qwen2.5-7B.json"

ADVISE = """
import json, sys
sys.path[1:1] = json.loads(sys.argv[3])  # the fake site folder, as an environment folder (never PYTHONPATH)
from advisor.core.frozen import replace
from packaging.version import Version
from advisor.api import facts_for, recommend
from advisor.facts.bundle import Request
from advisor.core.fact import Fact
from advisor.facts.installed import detect_software
from advisor.facts.local_hardware import local_hardware
from advisor.facts.model_source import load_local
from advisor.facts.software import TorchBuild
from advisor.facts.torch_build import table_archs

software = detect_software(probe=sys.argv[2] == "probe")
torch = TorchBuild(Fact.of("12.8", "test"), Fact(None, "test"), table_archs(Version("2.13.0")))
software = replace(software, torch=torch)
rec = recommend(facts_for(load_local(sys.argv[1]), local_hardware(), software, Request()))
print(json.dumps({
    "flags": rec.flags,
    "hardware": rec.target["hardware"],
    "findings": [f.rule for f in rec.findings],
    "rejected": {d.flag: {str(r.value): [x.rule for x in r.reasons] for r in d.rejected}
                 for d in rec.decisions},
}, default=str))
"""


def advise(lib_dir: Path | None, machine: str | None, visible: str | None = None,
           site: Path | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")}
    env["PYTHONPATH"] = str(ROOT)
    env["LD_LIBRARY_PATH"] = str(lib_dir) if lib_dir else ""
    if machine:
        env["ADVISOR_NVML_STUB_MACHINE"] = str(MACHINES / f"{machine}.nvml")
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    done = subprocess.run([sys.executable, "-c", ADVISE, str(CONFIG), "probe" if site else "no-probe",
                           json.dumps([str(site)] if site else [])],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_t4_no_flash_attention_2_and_float16(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "t4")
    assert out["flags"]["attn_implementation"] == "sdpa"
    assert "FA2-CC" in out["rejected"]["attn_implementation"]["flash_attention_2"]
    assert out["flags"]["dtype"] == "float16"
    assert "DTYPE-BF16-GPU" in out["rejected"]["dtype"]["bfloat16"]
    assert "TORCH-ARCH" not in out["findings"]


def test_h100_visible_3_1_maps_cuda_indices_to_physical(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "h100x8", visible="3,1")
    gpus = out["hardware"]["gpus"]
    assert [(g["index"], g["physical_index"]["value"]) for g in gpus] == [(0, 3), (1, 1)]
    assert out["flags"]["dtype"] == "bfloat16"
    if isinstance(out["flags"].get("device_map"), dict):
        assert set(out["flags"]["device_map"].values()) <= {0, 1}  # CUDA indices, never NVML's 3


def test_v100_with_torch_2_13_cannot_run(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "v100-old-driver")
    assert "TORCH-ARCH" in out["findings"]
    assert out["hardware"]["cuda_driver_version"]["value"] == "11.4"
    assert out["flags"]["dtype"] != "bfloat16"


def test_b200_runs_torch_2_13_in_bfloat16(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "b200")
    assert "TORCH-ARCH" not in out["findings"]
    assert out["flags"]["dtype"] == "bfloat16"


def test_a100_mig_advice_is_for_the_instance(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "a100-mig", visible="MIG-8b2e")
    (gpu,) = out["hardware"]["gpus"]
    assert gpu["memory_total_bytes"]["value"] == 5100273664 and gpu["mig"]["value"] is True
    assert out["flags"]["dtype"] == "bfloat16"


def test_two_a100_one_busy(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "a100x2-one-busy")
    assert [g["busy"]["value"] for g in out["hardware"]["gpus"]] == [False, True]
    assert out["flags"]["dtype"] == "bfloat16"


def test_nvml_errors_still_give_advice(stub_lib_dir: Path) -> None:
    out = advise(stub_lib_dir, "nvml-errors")
    assert out["flags"]["attn_implementation"] in ("sdpa", "eager")
    assert "dtype" in out["flags"]


@pytest.mark.parametrize("machine", ["driver-not-loaded", None])
def test_without_nvml_the_advice_is_for_the_cpu(stub_lib_dir: Path, tmp_path: Path,
                                                machine: str | None) -> None:
    lib = stub_lib_dir
    if machine is None:
        lib = tmp_path / "lib"
        lib.mkdir()
        (lib / "libnvidia-ml.so.1").write_text("not a library\n")
    out = advise(lib, machine)
    assert out["hardware"]["gpus"] == []
    assert out["flags"]["attn_implementation"] == "sdpa"
    assert out["flags"]["dtype"] in ("float32", "bfloat16")
    assert "device_map" not in out["flags"] or out["flags"]["device_map"] in ("cpu", {"": "cpu"})


def test_broken_flash_attn_is_rejected_with_its_import_error(stub_lib_dir: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "flash_attn").mkdir(parents=True)
    (site / "flash_attn" / "__init__.py").write_text(
        "raise ImportError('/x/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: "
        "_ZN3c104cuda9SetDeviceEi')\n")
    (site / "flash_attn-2.6.3.dist-info").mkdir()
    (site / "flash_attn-2.6.3.dist-info" / "METADATA").write_text("Name: flash-attn\nVersion: 2.6.3\n")
    out = advise(stub_lib_dir, "a100x2-one-busy", site=site)
    assert out["flags"]["attn_implementation"] != "flash_attention_2"
    assert "FA2-IMPORT" in out["rejected"]["attn_implementation"]["flash_attention_2"]
