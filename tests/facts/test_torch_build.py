"""torch's build facts read from its files, and whether a build runs on a GPU."""

from __future__ import annotations

import json
import os
from pathlib import Path

from packaging.version import Version

from advisor.core.fact import Fact
from advisor.facts.hardware import Gpu, Hardware, unknown_cpu
from advisor.facts.software import Software, TorchBuild
from advisor.facts.torch_build import build_runs_on, read_torch_build, runs_on, table_archs, torch_runs_on

GENCODE = (b"\x00\x7fELF junk\x00-gencode;arch=compute_75,code=sm_75;-gencode;arch=compute_90,code=[sm_90,"
           b"compute_90];-gencode;arch=compute_100,code=sm_100\x00more\x00arch=compute_80\x00")


def fake_torch(root: Path, version: str, cuda: str | None, hip: str | None = None,
               library: bytes | None = None) -> Path:
    """A torch distribution with only its metadata, version.py and (optionally) a CUDA library."""
    (root / f"torch-{version}.dist-info").mkdir(parents=True)
    (root / f"torch-{version}.dist-info" / "METADATA").write_text(f"Name: torch\nVersion: {version}\n")
    pkg = root / "torch"
    (pkg / "lib").mkdir(parents=True)
    (pkg / "version.py").write_text(
        "from typing import Optional\n"
        f"__version__ = '{version}'\n"
        f"cuda: Optional[str] = {cuda!r}\n"
        f"hip: Optional[str] = {hip!r}\n")
    if library is not None:
        (pkg / "lib" / "libtorch_cuda.so").write_bytes(library)
    return root


def test_installed_cpu_torch() -> None:
    version, build = read_torch_build()
    assert version.value is not None and version.value.release[:2] == (2, 13)
    assert build.cuda.known and build.cuda.value is None
    assert build.archs.value == () and "CPU build" in build.archs.source
    assert build_runs_on(build, Fact.of((8, 0), "test")).value is False


def test_archs_read_from_the_cuda_library(tmp_path: Path, private_cache: Path) -> None:
    fake_torch(tmp_path, "2.10.0", "12.8", library=GENCODE)
    version, build = read_torch_build([str(tmp_path)])
    assert version.value == Version("2.10.0")
    assert build.cuda.value == "12.8"
    assert build.archs.value == ("sm_75", "sm_90", "compute_90", "sm_100")
    assert "-gencode" in build.archs.source
    ccs = [(7, 0), (7, 5), (8, 9), (9, 0), (12, 0)]
    runs = {cc: build_runs_on(build, Fact.of(cc, "t")).value for cc in ccs}
    assert runs == {(7, 0): False, (7, 5): True, (8, 9): False, (9, 0): True, (12, 0): True}


def test_library_scan_is_cached_and_invalidated_by_mtime(tmp_path: Path, private_cache: Path) -> None:
    fake_torch(tmp_path, "2.10.0", "12.8", library=GENCODE)
    read_torch_build([str(tmp_path)])
    cached = json.loads((private_cache / "torch-archs.json").read_text())
    assert list(cached.values()) == [["sm_75", "sm_90", "compute_90", "sm_100"]]
    lib = tmp_path / "torch" / "lib" / "libtorch_cuda.so"
    lib.write_bytes(b"\x00-gencode arch=compute_80,code=sm_80\x00")
    os.utime(lib, ns=(1, 1))
    _, build = read_torch_build([str(tmp_path)])
    assert build.archs.value == ("sm_80",)


def test_table_when_the_library_says_nothing(tmp_path: Path) -> None:
    fake_torch(tmp_path, "2.13.0", "13.0", library=b"\x00no flags here\x00")
    _, build = read_torch_build([str(tmp_path)])
    assert build.archs.value == ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")
    assert "table" in build.archs.source
    v100 = build_runs_on(build, Fact.of((7, 0), "nvml"))
    assert v100.value is False and "7.0" in v100.source
    assert build_runs_on(build, Fact.of((7, 5), "nvml")).value is True
    assert build_runs_on(build, Fact.of((10, 0), "nvml")).value is True
    assert build_runs_on(build, Fact.unknown("NVML: GPU is lost", "nvml")).reason == "NVML: GPU is lost"


def test_arch_table_by_version() -> None:
    def on(version: str, cc: tuple[int, int]) -> bool:
        archs = table_archs(Version(version)).value
        assert archs is not None
        return runs_on(archs, cc)

    assert on("2.10.0", (7, 0)) and not on("2.11.0", (7, 0)) and not on("2.13.0", (7, 0))
    assert on("2.11.0+cu126", (7, 0))
    assert not on("2.7.1", (10, 0)) and on("2.7.1+cu128", (10, 0)) and on("2.8.0", (10, 0))
    assert not on("2.0.1", (9, 0)) and on("2.1.2", (9, 0))
    assert on("2.13.0", (8, 9)) and on("2.13.0", (12, 1))
    assert table_archs(Version("1.13.1")).value is None
    assert table_archs(None).reason == "torch's version is unknown"


def test_runs_on_rules() -> None:
    assert runs_on(["sm_80"], (8, 6)) and not runs_on(["sm_86"], (8, 0))
    assert not runs_on(["sm_80"], (9, 0))
    assert runs_on(["sm_90a"], (9, 0)) and not runs_on(["sm_90a"], (10, 0))
    assert runs_on(["compute_90"], (12, 0)) and not runs_on(["compute_90"], (8, 9))
    assert not runs_on([], (8, 0)) and not runs_on(["garbage"], (8, 0))


def test_rocm_and_missing_and_broken(tmp_path: Path) -> None:
    fake_torch(tmp_path / "rocm", "2.9.0", None, hip="6.4")
    _, rocm = read_torch_build([str(tmp_path / "rocm")])
    assert rocm.hip.value == "6.4" and rocm.cuda.value is None and rocm.cuda.known
    assert "ROCm" in (rocm.archs.reason or "")
    version, missing = read_torch_build([str(tmp_path / "nothing")])
    assert version.reason == "torch is not installed" and missing.archs.reason == "torch is not installed"
    fake_torch(tmp_path / "broken", "2.9.0", "12.8")
    (tmp_path / "broken" / "torch" / "version.py").write_text("garbage = 1\n")
    _, broken = read_torch_build([str(tmp_path / "broken")])
    assert "no `cuda = ...` line" in (broken.cuda.reason or "")


def machine(*ccs: tuple[int, int]) -> Hardware:
    gpus = tuple(Gpu(i, Fact.of(f"GPU{i}", "t"), Fact.of(cc, "t"), Fact.of(1, "t"), Fact.of(1, "t"))
                 for i, cc in enumerate(ccs))
    return Hardware(gpus, "test", Fact.of(len(gpus), "test"), unknown_cpu("not read", "test"))


def test_torch_runs_on_the_targets_gpus() -> None:
    build = TorchBuild(Fact.of("12.8", "t"), Fact(None, "t"), table_archs(Version("2.13.0")))
    software = Software({}, {}, "test", Fact.of("3.11", "t"), build)
    on_v100 = torch_runs_on(software, machine((8, 0), (7, 0)))
    assert on_v100.value is False and on_v100.source.startswith("GPU 1 (GPU1)")
    assert torch_runs_on(software, machine((7, 5), (9, 0))).value is True
    assert torch_runs_on(software, machine()).known is False
