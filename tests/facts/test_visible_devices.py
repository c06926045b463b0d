"""CUDA_VISIBLE_DEVICES parsing against NVML devices."""

from __future__ import annotations

from advisor.facts.visible_devices import PhysicalDevice, map_visible

GPUS = [PhysicalDevice(i, f"GPU-{i}{i}aa-{i}") for i in range(4)]
MIGGED = [PhysicalDevice(0, "GPU-00aa", ("MIG-aaa1", "MIG-bbb2")), PhysicalDevice(1, "GPU-11bb")]


def physical(value: str | None, devices: list[PhysicalDevice] = GPUS) -> list[int]:
    return [d.physical_index for d in map_visible(devices, value).devices]


def test_unset_means_all_in_nvml_order() -> None:
    assert physical(None) == [0, 1, 2, 3]


def test_indices_reorder_and_cuda_numbers_from_zero() -> None:
    vis = map_visible(GPUS, "3,1")
    assert [(d.cuda_index, d.physical_index) for d in vis.devices] == [(0, 3), (1, 1)]


def test_empty_value_means_no_gpu() -> None:
    vis = map_visible(GPUS, "")
    assert vis.devices == () and "no GPU" in vis.notes[0]
    assert physical("  ") == []


def test_invalid_entry_truncates() -> None:
    assert physical("2,7,0") == [2]
    assert physical("1,-1,0") == [1]
    assert physical("x,0") == []
    assert physical("1gpu,2") == [1, 2]  # read like strtoul


def test_duplicate_empties_the_list() -> None:
    assert physical("0,2,0") == []


def test_uuid_prefixes() -> None:
    assert physical("GPU-22,GPU-00aa-0") == [2, 0]
    assert physical("GPU-33aa-3") == [3]
    assert physical("GPU-") == []  # ambiguous: it matches every device
    assert physical("GPU-11,GPU-99") == [1]


def test_mig_instances_replace_their_gpu_and_only_one_is_used() -> None:
    vis = map_visible(MIGGED, None)
    assert [(d.physical_index, d.mig_slot) for d in vis.devices] == [(0, 0), (1, None)]
    assert [(d.physical_index, d.mig_slot) for d in map_visible(MIGGED, "MIG-bbb").devices] == [(0, 1)]
    both = map_visible(MIGGED, "MIG-aaa1,MIG-bbb2")
    assert len(both.devices) == 1 and any("one MIG instance" in n for n in both.notes)


def test_mig_gpu_without_instances_is_not_visible() -> None:
    vis = map_visible([PhysicalDevice(0, "GPU-0", ()), PhysicalDevice(1, "GPU-1")], None)
    assert [d.physical_index for d in vis.devices] == [1]
    assert any("without instances" in n for n in vis.notes)
