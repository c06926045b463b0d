"""This Mac's Apple silicon GPU, without torch: the chip and its unified memory from `sysctl`, macOS from the OS.

`machdep.cpu.brand_string` is what torch (torch/utils/collect_env.py) and accelerate (commands/env.py) read
for the chip name ("Apple M2 Max"); `hw.memsize` is the machine's memory in bytes and
`sysctl.proc_translated` is 1 under Rosetta, where an x86_64 Python (and its torch) cannot use the GPU.
"""

from __future__ import annotations

import platform
import re
import subprocess
from collections.abc import Callable, Sequence

from advisor.core.fact import Fact
from advisor.facts.gpu_catalog import find_gpu
from advisor.facts.hardware import Cpu, Gpu, Hardware

SOURCE = "sysctl"
_CHIP = re.compile(r"^Apple (M\d+)(?: (Pro|Max|Ultra))?$")

Run = Callable[[Sequence[str]], str | None]


def sysctl(names: Sequence[str]) -> str | None:
    """`sysctl -n NAMES` (one value a line), or None when it cannot run."""
    try:
        done = subprocess.run(["sysctl", "-n", *names], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def probe_apple(cpu: Cpu, run: Run = sysctl, macos: str | None = None) -> Hardware | None:
    """Apple silicon here, or None when `sysctl` names no Apple chip (an Intel Mac, another OS)."""
    out = run(["machdep.cpu.brand_string", "hw.memsize"])
    lines = (out or "").splitlines()
    if len(lines) < 2:
        return None
    brand, memsize = lines[0].strip(), lines[1].strip()
    m = _CHIP.match(brand)
    if not brand.startswith("Apple "):
        return None
    release = macos if macos is not None else platform.mac_ver()[0]
    os_fact: Fact[str] = Fact.of(release, "platform.mac_ver") if release else Fact.unknown(
        "platform.mac_ver() gave no macOS release", "platform.mac_ver")
    memory: Fact[int] = Fact.of(int(memsize), f"{SOURCE} hw.memsize") if memsize.isdigit() else Fact.unknown(
        f"hw.memsize is not a number: {memsize!r}", SOURCE)
    notes: list[str] = []
    translated = (run(["sysctl.proc_translated"]) or "").strip()
    if translated == "1":
        notes.append("this Python runs under Rosetta (x86_64): its torch cannot use the Apple GPU")
    gb = round(memory.value / 2**30) if memory.value else None
    entry = find_gpu(f"{m.group(1)}-{m.group(2)}-{gb}GB" if m and m.group(2) else f"{m.group(1)}-{gb}GB") \
        if m and gb else None
    where = f"{SOURCE} + catalog {entry.name}" if entry else SOURCE
    name = entry.name if entry else brand
    why = f"{brand} with {gb} GiB is not in the catalog"
    gpu = Gpu(index=0, name=Fact.of(name, f"{SOURCE} machdep.cpu.brand_string"),
              compute_capability=Fact(None, f"{SOURCE} (Apple GPUs have no CUDA compute capability)"),
              memory_total_bytes=memory, memory_free_bytes=Fact.unknown(
                  "macOS gives no free-memory reading for the GPU's share", SOURCE),
              vendor="apple",
              arch=Fact.of(entry.arch, where) if entry else Fact.unknown(why, SOURCE),
              bf16=Fact.of(bool(entry.bf16), where) if entry else Fact.unknown(why, SOURCE),
              fp8=Fact.of(False, f"{SOURCE}: no Apple GPU family has fp8 matrix units"),
              physical_index=Fact.of(0, SOURCE), mig=Fact.of(False, SOURCE), busy=Fact.unknown(
                  "macOS lists no GPU processes", SOURCE),
              unified_memory=Fact.of(True, SOURCE))
    host = Cpu(cores=cpu.cores, memory_total_bytes=memory, bf16=cpu.bf16)
    return Hardware(gpus=(gpu,), source=SOURCE, gpu_count=Fact.of(1, SOURCE), cpu=host,
                    driver_version=Fact(None, SOURCE), cuda_driver_version=Fact(None, SOURCE), notes=tuple(notes),
                    macos=os_fact)
