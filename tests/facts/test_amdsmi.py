"""AMD GPUs through the real `amdsmi` binding (PyPI amdsmi 7.0.2) over a compiled stub libamd_smi.so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.facts.conftest import run_amdsmi

Probe = Callable[..., dict[str, Any] | None]


def value(fact: dict[str, Any]) -> Any:
    return fact["value"]


def test_two_mi300x_in_hip_order_with_catalog_traits(amdsmi_probe: Probe) -> None:
    hw = amdsmi_probe("mi300x-x2")
    assert hw is not None and hw["source"] == "amdsmi"
    assert value(hw["gpu_count"]) == 2
    first, second = hw["gpus"]
    # AMD SMI lists the busy GPU first; HIP numbers it 1, so it comes second
    assert value(first["physical_index"]) == 0 and value(second["physical_index"]) == 1
    assert first["vendor"] == "amd" and value(first["name"]) == "AMD Instinct MI300X"
    assert value(first["gfx"]) == "gfx942" and value(first["arch"]) == "CDNA3"
    assert value(first["bf16"]) is True and value(first["fp8"]) is True
    assert value(first["compute_capability"]) is None
    assert value(first["memory_total_bytes"]) == 206141652992
    assert value(first["memory_free_bytes"]) == 206141652992 - 298127360
    assert value(first["busy"]) is False
    assert value(second["busy"]) is True and "pid 4242" in second["busy"]["source"]
    assert value(hw["driver_version"]) == "6.10.5"
    assert any("partitioned SPX" in n for n in hw["notes"])


def test_hip_visible_devices_picks_and_renumbers(amdsmi_probe: Probe) -> None:
    hw = amdsmi_probe("mi300x-x2", HIP_VISIBLE_DEVICES="1")
    assert hw is not None
    assert [g["index"] for g in hw["gpus"]] == [0]
    assert value(hw["gpus"][0]["physical_index"]) == 1
    assert value(hw["gpus"][0]["busy"]) is True


def test_mi250x_is_two_devices_without_partitions(amdsmi_probe: Probe) -> None:
    hw = amdsmi_probe("mi250x")
    assert hw is not None and value(hw["gpu_count"]) == 2
    assert {value(g["gfx"]) for g in hw["gpus"]} == {"gfx90a"}
    assert {value(g["fp8"]) for g in hw["gpus"]} == {False}
    assert not any("partitioned" in n for n in hw["notes"])


def test_driver_not_loaded_makes_the_gpus_unknown(amdsmi_probe: Probe) -> None:
    hw = amdsmi_probe("amd-driver-not-loaded")
    assert hw is not None and hw["gpus"] == []
    assert value(hw["gpu_count"]) is None
    assert "AMDSMI_STATUS_DRIVER_NOT_LOADED" in hw["gpu_count"]["unknown"]


def test_a_failing_call_makes_only_its_fact_unknown(amdsmi_probe: Probe) -> None:
    hw = amdsmi_probe("amd-errors")
    assert hw is not None
    radeon, other = hw["gpus"]
    assert value(radeon["gfx"]) == "gfx1100" and value(radeon["arch"]) == "RDNA3"
    assert value(radeon["bf16"]) is None  # the catalog has no established bf16 for RDNA3
    assert value(radeon["memory_total_bytes"]) == 25753026560
    assert value(radeon["memory_free_bytes"]) is None
    assert "AMDSMI_STATUS_NO_PERM" in radeon["memory_free_bytes"]["unknown"]
    assert value(radeon["busy"]) is None
    assert value(other["name"]) is None and "NOT_SUPPORTED" in other["name"]["unknown"]
    assert value(other["gfx"]) is None
    assert value(other["memory_total_bytes"]) == 536870912


def test_no_library_means_no_amd_probe_and_a_clean_stdout() -> None:
    # the real binding prints to stdout and raises KeyError when libamd_smi.so is missing
    assert run_amdsmi(None, None) is None


def test_the_library_is_looked_for_where_the_binding_looks(amdsmi_root: Path, tmp_path: Path) -> None:
    from advisor.facts.amdsmi import library_present

    no_cache = tmp_path / "ld.so.cache"
    assert library_present({"ROCM_PATH": str(amdsmi_root)}, no_cache)
    assert library_present({"ROCM_HOME": str(amdsmi_root), "ROCM_PATH": "/nonexistent"}, no_cache)
    assert library_present({"LD_LIBRARY_PATH": f"/nonexistent:{amdsmi_root / 'lib'}"}, no_cache)
    assert not library_present({"ROCM_PATH": str(tmp_path)}, no_cache)
    no_cache.write_bytes(b"\x00ld.so-1.7.0\x00libamd_smi.so\x00/opt/rocm-7.0.2/lib/libamd_smi.so\x00")
    assert library_present({"ROCM_PATH": str(tmp_path)}, no_cache)
