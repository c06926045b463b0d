"""This machine's hardware: GPUs through NVML (as CUDA numbers them) and the CPU."""

from __future__ import annotations

from dataclasses import replace

from advisor.facts.fact import Fact
from advisor.facts.hardware import Hardware, unknown_cpu


def local_hardware() -> Hardware:
    """NVML for the GPUs, /proc for the CPU; a failing probe makes its facts unknown, never an error."""
    try:
        from advisor.facts.nvml import probe_nvml
    except ImportError:
        hw = Hardware(gpus=(), source="none", gpu_count=Fact.unknown("no NVML probe available", "none"),
                      cpu=unknown_cpu("no CPU probe available", "none"))
    else:
        hw = probe_nvml()
    try:
        from advisor.facts.cpu import probe_cpu
    except ImportError:
        return hw
    return replace(hw, cpu=probe_cpu())
