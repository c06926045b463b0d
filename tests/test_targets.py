"""Facts of another machine named by --gpu: this runner's CPU-only torch says nothing of the target's build."""

from __future__ import annotations

from advisor import api


def test_gpu_target_assumes_the_cuda_build_of_the_installed_torch() -> None:
    here = api.software_facts(api.Target())
    target = api.software_facts(api.Target(gpu="T4"))
    torch = here.package("torch").version.value
    assert torch is not None
    if here.torch.cuda.value is None:  # this runner has a CPU build (as CI does)
        assert target.torch.cuda.value is not None
        assert "assumed" in target.torch.cuda.source
    assert target.package("torch").version.value == torch


def test_profile_software_is_taken_as_written() -> None:
    sw = api.software_facts(api.Target(gpu="T4", software_file="fixtures/software/cuda-tf5.23.json"))
    assert sw.torch.cuda.value == "12.8"
    cpu = api.software_facts(api.Target(gpu="T4", software_file="fixtures/software/cuda-tf5.23.json",
                                        with_packages=("torch==2.13.0+cpu",)))
    assert cpu.torch.cuda.value is None and cpu.torch.hip.value is None
