"""Apple silicon from `sysctl` and the OS, without torch: a `sysctl` executable on PATH answers as a Mac would."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from advisor import api
from advisor.facts.apple import probe_apple, sysctl
from advisor.facts.cpu import probe_cpu


def fake_sysctl(folder: Path, values: dict[str, str]) -> None:
    """Write a `sysctl` that prints `-n NAME...` values one a line (exit 1 for an unknown name)."""
    cases = "".join(f'    {name}) echo "{text}" ;;\n' for name, text in values.items())
    script = folder / "sysctl"
    script.write_text(f'#!/bin/sh\n[ "$1" = "-n" ] && shift\nfor n in "$@"; do\n  case "$n" in\n{cases}'
                      "    *) exit 1 ;;\n  esac\ndone\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def mac(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def test_m3_max_64gb_is_the_catalog_entry_with_its_unified_memory(mac: Path) -> None:
    fake_sysctl(mac, {"machdep.cpu.brand_string": "Apple M3 Max", "hw.memsize": "68719476736",
                      "sysctl.proc_translated": "0"})
    hw = probe_apple(probe_cpu(), sysctl, macos="14.5")
    assert hw is not None and hw.source == "sysctl"
    gpu = hw.gpus[0]
    assert gpu.vendor == "apple" and gpu.name.value == "M3-Max-64GB" and gpu.arch.value == "Apple9"
    assert gpu.unified_memory.value is True and gpu.memory_total_bytes.value == 64 * 2**30
    assert hw.cpu.memory_total_bytes.value == 64 * 2**30
    assert hw.macos.value == "14.5" and not hw.notes


def test_rosetta_is_noted_and_an_unknown_size_keeps_the_chip_name(mac: Path) -> None:
    fake_sysctl(mac, {"machdep.cpu.brand_string": "Apple M2 Pro", "hw.memsize": str(40 * 2**30),
                      "sysctl.proc_translated": "1"})
    hw = probe_apple(probe_cpu(), sysctl, macos="13.6")
    assert hw is not None
    gpu = hw.gpus[0]
    assert gpu.name.value == "Apple M2 Pro" and gpu.arch.value is None
    assert "not in the catalog" in (gpu.arch.reason or "")
    assert any("Rosetta" in n for n in hw.notes)


def test_an_intel_mac_or_no_sysctl_is_not_apple_silicon(mac: Path) -> None:
    fake_sysctl(mac, {"machdep.cpu.brand_string": "Intel(R) Core(TM) i9-9980HK CPU @ 2.40GHz",
                      "hw.memsize": "34359738368"})
    assert probe_apple(probe_cpu(), sysctl, macos="13.0") is None
    assert probe_apple(probe_cpu(), lambda names: None, macos="13.0") is None


def test_the_probed_mac_gets_mps_advice(mac: Path) -> None:
    fake_sysctl(mac, {"machdep.cpu.brand_string": "Apple M1", "hw.memsize": str(16 * 2**30),
                      "sysctl.proc_translated": "0"})
    hw = probe_apple(probe_cpu(), sysctl, macos="13.6")
    assert hw is not None
    root = Path(__file__).resolve().parents[2]
    software = api.software_facts(api.Target(software_file=root / "fixtures/software/mps-tf5.23.json",
                                             with_packages=("torch==2.8.0",)))
    def advise(config: str) -> api.Recommendation:
        source = api.load_source(str(root / "fixtures/configs" / config))
        return api.recommend(api.facts_for(source, hw, software, api.Request()))

    small = advise("EleutherAI__pythia-14m.json")
    assert small.flags["device_map"] == {"": "mps"}
    # 16 GiB of unified memory: 12 GiB for the GPU (75 %), the rest is all CPU offload can have
    large = advise("meta-llama__Meta-Llama-3.1-8B.json")
    assert large.flags["device_map"] == "auto"
    assert set(large.flags["max_memory"]) == {"mps", "cpu"}
    assert large.flags["max_memory"]["cpu"] == "4GiB"
    assert large.flags["dtype"] == "float16"  # macOS 13: no bfloat16 on MPS (APPLE-BF16-MACOS)
    rejected = {r.value: [x.rule for x in r.reasons] for d in large.decisions if d.flag == "dtype" for r in d.rejected}
    assert "APPLE-BF16-MACOS" in rejected["bfloat16"]
