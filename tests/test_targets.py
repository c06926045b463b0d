"""Facts of another machine named by --gpu: this runner's CPU-only torch says nothing of the target's build."""

from __future__ import annotations

from advisor import api
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.software import TorchBuild
from advisor.facts.target import _as_gpu_target


def test_gpu_target_assumes_the_cuda_build_of_the_installed_torch() -> None:
    here = api.software_facts(api.Target())
    source = "installed (test: a CPU build)"
    cpu_build = replace(here, torch=TorchBuild(Fact(None, source), Fact(None, source), Fact.of((), source)))
    assert cpu_build.package("torch").version.value is not None
    target = _as_gpu_target(cpu_build)
    assert target.torch.cuda.value is not None and "assumed" in target.torch.cuda.source
    assert target.package("torch").version == cpu_build.package("torch").version
    assert _as_gpu_target(target) is target  # a CUDA build is left as it is


def test_profile_software_is_taken_as_written() -> None:
    sw = api.software_facts(api.Target(gpu="T4", software_file="fixtures/software/cuda-tf5.23.json"))
    assert sw.torch.cuda.value == "12.8"
    cpu = api.software_facts(api.Target(gpu="T4", software_file="fixtures/software/cuda-tf5.23.json",
                                        with_packages=("torch==2.13.0+cpu",)))
    assert cpu.torch.cuda.value is None and cpu.torch.hip.value is None
