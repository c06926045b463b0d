"""The GPU catalog: lenient names, counts, `none`, and helpful errors."""

from __future__ import annotations

import pytest

from advisor.core.errors import InputError
from advisor.facts.gpu_catalog import catalog_hardware, load_catalog, parse_gpu_spec

KERNELS_MD_SECTION_10 = ["V100", "T4", "RTX2080Ti", "QuadroRTX8000", "A100-40GB", "A100-80GB", "A30", "A10", "A10G",
                         "A40", "RTXA6000", "RTX3090", "JetsonAGXOrin", "L4", "L40", "L40S", "RTX4090", "RTX6000Ada",
                         "H100-PCIe", "H100", "H100-NVL", "H200", "GH200", "B200", "B300", "RTX5090", "RTXPRO6000",
                         "GB10"]


@pytest.mark.parametrize("spec,name", [
    ("a100-80gb", "A100-80GB"), ("A100 80GB", "A100-80GB"), ("NVIDIA A100-SXM4-80GB", "A100-80GB"),
    ("A100", "A100-40GB"), ("tesla t4", "T4"), ("NVIDIA GeForce RTX 4090", "RTX4090"), ("h100", "H100"),
    ("NVIDIA H100 80GB HBM3", "H100"), ("l40s", "L40S"), ("b200", "B200"), ("Tesla V100-SXM2-32GB", "V100-32GB"),
])
def test_lenient_names(spec: str, name: str) -> None:
    gpu, count = parse_gpu_spec(spec)
    assert gpu is not None and gpu.name == name and count == 1


@pytest.mark.parametrize("spec,name,count", [("H100x8", "H100", 8), ("8xH100", "H100", 8),
                                             ("a100-80gb x 4", "A100-80GB", 4), ("T4*2", "T4", 2),
                                             ("RTX3090", "RTX3090", 1), ("QuadroRTX8000", "QuadroRTX8000", 1)])
def test_counts(spec: str, name: str, count: int) -> None:
    gpu, n = parse_gpu_spec(spec)
    assert gpu is not None and gpu.name == name and n == count


def test_none_means_no_gpu() -> None:
    hw = catalog_hardware("none")
    assert hw.gpus == () and hw.gpu_count.value == 0 and hw.gpu_count.known


def test_catalog_has_the_knowledge_table_with_traits() -> None:
    for name in KERNELS_MD_SECTION_10:
        assert parse_gpu_spec(name)[0] is not None, name
    by = {g.name: g for g in load_catalog()}
    assert by["T4"].cc == (7, 5) and not by["T4"].bf16 and not by["T4"].fp8
    assert by["A100-80GB"].bf16 and not by["A100-80GB"].fp8
    assert by["L4"].fp8 and by["H100"].fp8 and by["B200"].cc == (10, 0)
    assert 70 < by["H100"].memory_gib < 80


def test_catalog_hardware_facts() -> None:
    hw = catalog_hardware("A10Gx4")
    assert [g.index for g in hw.gpus] == [0, 1, 2, 3]
    assert hw.gpus[0].compute_capability.value == (8, 6)
    assert not hw.gpus[0].memory_free_bytes.known and "catalog" in (hw.gpus[0].memory_free_bytes.reason or "")
    assert not hw.cpu.bf16.known


def test_abbreviation_of_one_gpu() -> None:
    gpu, _ = parse_gpu_spec("A100-80G")
    assert gpu is not None and gpu.name == "A100-80GB"


@pytest.mark.parametrize("spec,hint", [("T5", "T4"), ("H10", "H100"), ("H100x0", None), ("H100x5000", None),
                                       ("voodoo", None), ("A100-96GB", None)])
def test_unknown_or_bad(spec: str, hint: str | None) -> None:
    with pytest.raises(InputError) as info:
        parse_gpu_spec(spec)
    if hint:
        assert hint in str(info.value)
