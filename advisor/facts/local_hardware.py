"""This machine's hardware: Apple silicon through sysctl, NVIDIA GPUs through NVML (as CUDA numbers them),
AMD GPUs through AMD SMI (as HIP numbers them), and the CPU, each read once."""

from __future__ import annotations

import sys

from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.amdsmi import probe_amdsmi
from advisor.facts.apple import probe_apple
from advisor.facts.cpu import probe_cpu
from advisor.facts.hardware import Hardware
from advisor.facts.nvml import probe_nvml


def local_hardware() -> Hardware:
    """The GPUs of whichever vendor answers; a failing probe makes its facts unknown, never an error."""
    cpu = probe_cpu()
    if sys.platform == "darwin":
        apple = probe_apple(cpu)
        if apple is not None:
            return apple
    nvidia = replace(probe_nvml(cpu=cpu), macos=Fact(None, f"platform {sys.platform}"))
    if nvidia.gpus:
        return nvidia
    amd = probe_amdsmi(cpu)
    if amd is not None and amd.gpus:
        return amd
    if amd is not None and not nvidia.gpu_count.known:
        return replace(nvidia, notes=nvidia.notes + amd.notes)
    return nvidia
