"""This machine's hardware: GPUs through NVML (as CUDA numbers them) and the CPU, each read once."""

from __future__ import annotations

from advisor.facts.cpu import probe_cpu
from advisor.facts.hardware import Hardware
from advisor.facts.nvml import probe_nvml


def local_hardware() -> Hardware:
    """NVML for the GPUs, /proc for the CPU; a failing probe makes its facts unknown, never an error."""
    return probe_nvml(cpu=probe_cpu())
