"""probe_nvml() through the real pynvml, loading the stub libnvidia-ml.so.1 in a subprocess."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

RunNvml = Callable[..., dict[str, Any]]


def value(fact: dict[str, object]) -> object:
    return fact["value"]


def test_t4(nvml: RunNvml) -> None:
    hw = nvml("t4")
    assert value(hw["gpu_count"]) == 1
    assert value(hw["driver_version"]) == "550.54.15"
    assert value(hw["cuda_driver_version"]) == "12.4"
    (gpu,) = hw["gpus"]
    assert gpu["index"] == 0 and value(gpu["physical_index"]) == 0
    assert value(gpu["name"]) == "Tesla T4"
    assert value(gpu["compute_capability"]) == [7, 5]
    assert value(gpu["arch"]) == "Turing"
    assert value(gpu["bf16"]) is False and value(gpu["fp8"]) is False
    assert value(gpu["memory_total_bytes"]) == 16106127360
    assert value(gpu["memory_free_bytes"]) == 15642329088
    assert value(gpu["mig"]) is False and "not supported" in gpu["mig"]["source"]
    assert value(gpu["busy"]) is False


def test_two_a100_one_busy(nvml: RunNvml) -> None:
    hw = nvml("a100x2-one-busy")
    idle, busy = hw["gpus"]
    assert value(idle["busy"]) is False
    assert value(busy["busy"]) is True
    assert "pid 4242" in busy["busy"]["source"]
    assert value(busy["memory_free_bytes"]) == 20669530112
    assert value(idle["bf16"]) is True and value(idle["arch"]) == "Ampere"


def test_memory_in_use_without_a_listed_process_is_busy(nvml: RunNvml, tmp_path: Path) -> None:
    text = (Path(__file__).resolve().parents[2] / "fixtures/machines/a100x2-one-busy.nvml").read_text()
    machine = tmp_path / "hidden.nvml"
    machine.write_text(text.replace("gpu1.processes=4242:64424509440\n", ""))
    hw = nvml("t4", ADVISOR_NVML_STUB_MACHINE=str(machine))
    busy = hw["gpus"][1]["busy"]
    assert busy["value"] is True and "no process listed" in busy["source"]


def test_eight_h100_visible_3_1(nvml: RunNvml) -> None:
    hw = nvml("h100x8", visible="3,1")
    assert value(hw["gpu_count"]) == 2
    assert [g["index"] for g in hw["gpus"]] == [0, 1]
    assert [value(g["physical_index"]) for g in hw["gpus"]] == [3, 1]
    assert value(hw["gpus"][0]["uuid"]) == "GPU-3300aa00-4c3e-4f1a-9d2b-7e6f5a4b3c23"
    assert any("0→NVML 3" in note for note in hw["notes"])


def test_h100_visible_by_uuid_prefix_and_invalid_entries(nvml: RunNvml) -> None:
    assert [value(g["physical_index"]) for g in nvml("h100x8", visible="GPU-55,GPU-22")["gpus"]] == [5, 2]
    assert [value(g["physical_index"]) for g in nvml("h100x8", visible="2,99,4")["gpus"]] == [2]
    assert nvml("h100x8", visible="1,1")["gpus"] == []
    empty = nvml("h100x8", visible="")
    assert empty["gpus"] == [] and value(empty["gpu_count"]) == 0
    assert len(nvml("h100x8")["gpus"]) == 8


def test_a100_mig_instances_have_their_own_memory(nvml: RunNvml) -> None:
    hw = nvml("a100-mig")
    (gpu,) = hw["gpus"]
    assert value(gpu["mig"]) is True
    assert value(gpu["uuid"]) == "MIG-3f1d9a6e-5b2c-5d7e-9a1b-0c2d4e6f8a01"
    assert value(gpu["memory_total_bytes"]) == 21139292160
    assert value(gpu["compute_capability"]) == [8, 0]
    assert value(gpu["physical_index"]) == 0
    assert any("2 instance(s)" in n and "1g.5gb" in n for n in hw["notes"])
    second = nvml("a100-mig", visible="MIG-8b2e")["gpus"]
    assert [value(g["memory_total_bytes"]) for g in second] == [5100273664]
    both = nvml("a100-mig", visible="MIG-3f1d,MIG-8b2e")
    assert len(both["gpus"]) == 1
    assert any("one MIG instance at most" in n for n in both["notes"])


def test_b200(nvml: RunNvml) -> None:
    (gpu,) = nvml("b200")["gpus"]
    assert value(gpu["compute_capability"]) == [10, 0]
    assert value(gpu["arch"]) == "Blackwell"
    assert value(gpu["fp8"]) is True


def test_v100_old_driver(nvml: RunNvml) -> None:
    hw = nvml("v100-old-driver")
    assert value(hw["cuda_driver_version"]) == "11.4"
    (gpu,) = hw["gpus"]
    assert value(gpu["arch"]) == "Volta" and value(gpu["bf16"]) is False


def test_errors_on_single_calls_leave_the_rest(nvml: RunNvml) -> None:
    hw = nvml("nvml-errors")
    assert hw["cuda_driver_version"]["unknown"] == "NVML: Not Supported (nvmlSystemGetCudaDriverVersion)"
    assert value(hw["driver_version"]) == "550.54.15"
    lost, odd = hw["gpus"]
    assert "GPU is lost" in lost["memory_total_bytes"]["unknown"]
    assert "GPU is lost" in lost["memory_free_bytes"]["unknown"]
    assert value(lost["compute_capability"]) == [8, 9] and value(lost["fp8"]) is True
    assert value(odd["compute_capability"]) is None
    assert "Unknown Error" in odd["compute_capability"]["unknown"]
    assert "Unknown Error" in odd["bf16"]["unknown"] and "Unknown Error" in odd["arch"]["unknown"]
    assert value(odd["memory_total_bytes"]) == 24152899584
    assert value(odd["busy"]) is False and "process list unknown" in odd["busy"]["source"]


def test_failed_device_handle(nvml: RunNvml, tmp_path: Path) -> None:
    machine = tmp_path / "lost.nvml"
    machine.write_text("driver_version=550.54.15\ndevice_count=2\ngpu0.name=NVIDIA L4\ngpu0.cc=8.9\n"
                       "gpu0.uuid=GPU-a\ngpu1.error.handle=15\n")
    hw = nvml("t4", ADVISOR_NVML_STUB_MACHINE=str(machine))
    ok, lost = hw["gpus"]
    assert value(ok["name"]) == "NVIDIA L4"
    assert lost["index"] == 1 and "GPU is lost" in lost["name"]["unknown"]
    assert "GPU is lost" in lost["compute_capability"]["unknown"]


def test_driver_not_loaded(nvml: RunNvml) -> None:
    hw = nvml("driver-not-loaded")
    assert hw["gpus"] == []
    assert hw["gpu_count"]["unknown"] == "NVML: Driver Not Loaded"
    assert hw["driver_version"]["unknown"] == "NVML: Driver Not Loaded"
    assert value(hw["cpu"]["cores"]) >= 1  # type: ignore[operator]


def test_no_loadable_library(tmp_path: Path, nvml_with_lib_dir: RunNvml) -> None:
    """A libnvidia-ml.so.1 that cannot be loaded stops the loader's search, so this holds on any host."""
    (tmp_path / "libnvidia-ml.so.1").write_text("not a library\n")
    hw = nvml_with_lib_dir(tmp_path, "t4")
    assert hw["gpus"] == []
    for key in ("gpu_count", "driver_version", "cuda_driver_version"):
        assert hw[key]["unknown"] == "NVML: NVML Shared Library Not Found"
    assert value(hw["cpu"]["memory_total_bytes"]) is not None


def test_no_library_in_an_empty_dir(tmp_path: Path, nvml_with_lib_dir: RunNvml) -> None:
    hw = nvml_with_lib_dir(tmp_path, "t4")
    # With no driver installed the loader finds nothing; on a host with a driver it finds the real one.
    if hw["gpu_count"]["value"] is None:
        assert hw["gpu_count"]["unknown"] == "NVML: NVML Shared Library Not Found"
        assert hw["gpus"] == []
    else:
        assert len(hw["gpus"]) == hw["gpu_count"]["value"]
