"""CPU facts for the no-GPU case: usable cores, memory, native bf16 (from /proc)."""

from __future__ import annotations

import os
from pathlib import Path

from advisor.core.fact import Fact
from advisor.facts.hardware import Cpu

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16", "svebf16")
"""bfloat16 arithmetic as /proc/cpuinfo names it: x86 `avx512_bf16`, `amx_bf16`; arm64 `bf16`, `svebf16` (Linux
arch/arm64/kernel/cpuinfo.c hwcap_str). torch's CPU bf16 path checks the same (oneDNN on x86, cpuinfo_has_arm_bf16
on arm64: aten/src/ATen/native/mkldnn/Utils.h)."""


def probe_cpu(meminfo: Path | str = "/proc/meminfo", cpuinfo: Path | str = "/proc/cpuinfo") -> Cpu:
    """Read this machine's CPU; anything unreadable is unknown with the reason."""
    return Cpu(cores=_cores(), memory_total_bytes=read_meminfo(Path(meminfo)), bf16=read_bf16(Path(cpuinfo)))


def _cores() -> Fact[int]:
    source = "os.sched_getaffinity"
    try:
        return Fact.of(len(os.sched_getaffinity(0)), source)
    except (AttributeError, OSError):
        count = os.cpu_count()
        if count is None:
            return Fact.unknown("the number of CPUs could not be read", "os.cpu_count")
        return Fact.of(count, "os.cpu_count")


def read_meminfo(path: Path) -> Fact[int]:
    """`MemTotal` from a /proc/meminfo-style file, in bytes."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return Fact.unknown(f"cannot read {path}: {exc.strerror or exc}", source)
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key.strip() == "MemTotal":
            parts = rest.split()
            if parts and parts[0].isdigit():
                unit = parts[1].lower() if len(parts) > 1 else "b"
                scale = {"kb": 1024, "mb": 1024**2, "gb": 1024**3, "b": 1}.get(unit)
                if scale is not None:
                    return Fact.of(int(parts[0]) * scale, source)
            return Fact.unknown(f"MemTotal in {path} is not a number with a unit: {rest.strip()!r}", source)
    return Fact.unknown(f"{path} has no MemTotal line", source)


def read_bf16(path: Path) -> Fact[bool]:
    """Whether the CPU flags in a /proc/cpuinfo-style file include AVX512-BF16 or AMX-BF16."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return Fact.unknown(f"cannot read {path}: {exc.strerror or exc}", source)
    flags: set[str] | None = None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key.strip() in ("flags", "Features"):
            flags = set(rest.split())
            break
    if flags is None:
        return Fact.unknown(f"{path} lists no CPU flags", source)
    return bf16_from_flags(flags, source)


def bf16_from_flags(flags: set[str], source: str) -> Fact[bool]:
    """Whether a set of CPU instruction-set flags includes bfloat16 arithmetic."""
    found = [f for f in BF16_FLAGS if f in flags]
    if found:
        return Fact.of(True, f"{source}: flags {' '.join(found)}")
    return Fact.of(False, f"{source}: flags lack {', '.join(BF16_FLAGS)}")
