"""CPU facts from /proc-style files."""

from __future__ import annotations

from pathlib import Path

from advisor.facts.cpu import probe_cpu

MEMINFO = "MemTotal:       32803872 kB\nMemFree:         1000 kB\n"
SAPPHIRE = "processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_bf16 amx_tile\n"
SKYLAKE = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bf16_cpu(tmp_path: Path) -> None:
    cpu = probe_cpu(write(tmp_path, "meminfo", MEMINFO), write(tmp_path, "cpuinfo", SAPPHIRE))
    assert cpu.memory_total_bytes.value == 32803872 * 1024
    assert cpu.bf16.value is True and "avx512_bf16 amx_bf16" in cpu.bf16.source
    assert cpu.cores.value is not None and cpu.cores.value >= 1


def test_cpu_without_bf16(tmp_path: Path) -> None:
    cpu = probe_cpu(write(tmp_path, "meminfo", MEMINFO), write(tmp_path, "cpuinfo", SKYLAKE))
    assert cpu.bf16.value is False and cpu.bf16.known


def test_unreadable_files_are_unknown_with_reason(tmp_path: Path) -> None:
    cpu = probe_cpu(tmp_path / "missing-meminfo", tmp_path / "missing-cpuinfo")
    assert cpu.memory_total_bytes.value is None
    assert "cannot read" in (cpu.memory_total_bytes.reason or "")
    assert "cannot read" in (cpu.bf16.reason or "")


def test_malformed_files(tmp_path: Path) -> None:
    meminfo = write(tmp_path, "meminfo", "MemFree: 12 kB\n")
    cpuinfo = write(tmp_path, "cpuinfo", "processor: 0\n")
    cpu = probe_cpu(meminfo, cpuinfo)
    assert cpu.memory_total_bytes.reason == f"{tmp_path / 'meminfo'} has no MemTotal line"
    assert cpu.bf16.reason == f"{tmp_path / 'cpuinfo'} lists no CPU flags"
    odd = probe_cpu(write(tmp_path, "m2", "MemTotal: lots\n"), write(tmp_path, "c2", SKYLAKE))
    assert "not a number" in (odd.memory_total_bytes.reason or "")


def test_this_machine() -> None:
    cpu = probe_cpu()
    assert cpu.cores.known and cpu.memory_total_bytes.known and cpu.bf16.known
