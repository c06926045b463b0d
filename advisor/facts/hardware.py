"""Hardware facts: the GPUs (as CUDA will number them) and the CPU."""

from __future__ import annotations

from typing import Any

from advisor.core.fact import Fact, jsonable
from advisor.core.frozen import field, frozen


@frozen
class Gpu:
    """One GPU as CUDA numbers it (index is what `device_map={"": index}` means)."""

    index: int
    name: Fact[str]
    compute_capability: Fact[tuple[int, int]]
    memory_total_bytes: Fact[int]
    memory_free_bytes: Fact[int]
    vendor: str = "nvidia"
    arch: Fact[str] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    bf16: Fact[bool] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    fp8: Fact[bool] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    uuid: Fact[str] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    physical_index: Fact[int] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    mig: Fact[bool] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    busy: Fact[bool] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    """Whether another process already holds memory on it."""
    gfx: Fact[str] = field(default_factory=lambda: Fact(None, "none"))
    """AMD's LLVM target (`gfx942`); None on other vendors."""
    unified_memory: Fact[bool] = field(default_factory=lambda: Fact.of(False, "none"))
    """The GPU shares the host's memory (Apple silicon): memory_total_bytes is the whole machine's."""

    @property
    def device(self) -> int | str:
        """What `device_map={"": ...}` names for it: the index, or `"mps"` on Apple silicon."""
        return "mps" if self.vendor == "apple" else self.index

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "vendor": self.vendor}
        for key in ("name", "compute_capability", "memory_total_bytes", "memory_free_bytes", "arch", "gfx", "bf16",
                    "fp8", "uuid", "physical_index", "mig", "busy", "unified_memory"):
            fact: Fact[Any] = getattr(self, key)
            out[key] = fact.to_json()
        return out


@frozen
class Cpu:
    """The host CPU: what matters when the model runs without a GPU."""

    cores: Fact[int]
    memory_total_bytes: Fact[int]
    bf16: Fact[bool]
    """Native bf16 arithmetic (AVX512-BF16 or AMX)."""

    def to_json(self) -> dict[str, Any]:
        return {"cores": self.cores.to_json(), "memory_total_bytes": self.memory_total_bytes.to_json(),
                "bf16": self.bf16.to_json()}


def unknown_cpu(reason: str, source: str) -> Cpu:
    return Cpu(Fact.unknown(reason, source), Fact.unknown(reason, source), Fact.unknown(reason, source))


@frozen
class Hardware:
    """The target machine: visible GPUs (possibly none), driver facts and the CPU."""

    gpus: tuple[Gpu, ...]
    source: str
    """Where the GPU list came from: `nvml`, `catalog:H100`, `profile:PATH`, `none`."""
    gpu_count: Fact[int]
    cpu: Cpu
    driver_version: Fact[str] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    cuda_driver_version: Fact[str] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    """The newest CUDA version the driver supports, e.g. `12.4`."""
    notes: tuple[str, ...] = ()
    macos: Fact[str] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    """The macOS release (`14.5`); None on another OS."""

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "gpu_count": self.gpu_count.to_json(),
            "gpus": [g.to_json() for g in self.gpus],
            "driver_version": self.driver_version.to_json(),
            "cuda_driver_version": self.cuda_driver_version.to_json(),
            "cpu": self.cpu.to_json(),
            "macos": self.macos.to_json(),
            "notes": jsonable(list(self.notes)),
        }
