"""The import probe on fake distributions: broken, working, hanging and crashing modules."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version

from advisor.core.fact import Fact
from advisor.facts import probe
from advisor.facts.probe import apply_probe, probe_imports
from advisor.facts.software import Package, Software, unknown_torch_build
from advisor.facts.wheels import install_hint, wheel_hint, wheel_tag_cuda
from tests.facts.fake_dists import UNDEFINED, package


@pytest.fixture
def broken_flash_attn(tmp_path: Path) -> tuple[Path, Path]:
    site = tmp_path / "site"
    init = package(site, "flash_attn", "flash-attn", "2.6.3",
                   f"raise ImportError({UNDEFINED!r} + '\\nsecond line')\n")
    return site, init


def test_broken_flash_attn_reports_the_first_line(broken_flash_attn: tuple[Path, Path]) -> None:
    site, _ = broken_flash_attn
    result = probe_imports(["flash_attn", "bitsandbytes"], path=[str(site)])
    fa = result["flash_attn"]
    assert fa.installed and fa.imports is False
    assert fa.error == f"ImportError: {UNDEFINED}"
    assert fa.fact().value is False and "undefined symbol: _ZN3c104cuda9SetDeviceEi" in fa.fact().source
    assert result["bitsandbytes"].installed is False and result["bitsandbytes"].imports is False


def test_cache_hit_then_invalidated_by_mtime(broken_flash_attn: tuple[Path, Path],
                                             private_cache: Path) -> None:
    site, init = broken_flash_attn
    first = probe_imports(["flash_attn"], path=[str(site)])["flash_attn"]
    assert first.cached is False
    stored = json.loads((private_cache / probe.CACHE_FILE).read_text())
    assert [v["error"] for v in stored.values()] == [f"ImportError: {UNDEFINED}"]
    second = probe_imports(["flash_attn"], path=[str(site)])["flash_attn"]
    assert second.cached is True and second.error == first.error
    init.write_text("VALUE = 1\n")
    os.utime(init, ns=(10**18, 10**18))
    third = probe_imports(["flash_attn"], path=[str(site)])["flash_attn"]
    assert third.cached is False and third.imports is True and third.error is None


def test_cache_invalidated_by_a_package_version(broken_flash_attn: tuple[Path, Path]) -> None:
    site, _ = broken_flash_attn
    probe_imports(["flash_attn"], path=[str(site)])
    (site / "flash_attn-2.6.3.dist-info").rename(site / "flash_attn-2.7.0.dist-info")
    meta = site / "flash_attn-2.7.0.dist-info" / "METADATA"
    meta.write_text(meta.read_text().replace("2.6.3", "2.7.0"))
    assert probe_imports(["flash_attn"], path=[str(site)])["flash_attn"].cached is False


def test_corrupt_cache_is_ignored(broken_flash_attn: tuple[Path, Path], private_cache: Path) -> None:
    site, _ = broken_flash_attn
    private_cache.mkdir(parents=True)
    (private_cache / probe.CACHE_FILE).write_text("{not json")
    result = probe_imports(["flash_attn"], path=[str(site)])["flash_attn"]
    assert result.cached is False and result.error == f"ImportError: {UNDEFINED}"
    (private_cache / probe.CACHE_FILE).write_text('["a list"]')
    assert probe_imports(["flash_attn"], path=[str(site)])["flash_attn"].cached is False


def test_hang_and_crash_are_blamed_on_their_module(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package(site, "xformers", "xformers", "0.0.35", "import time\ntime.sleep(60)\n")
    package(site, "fused_dense_lib", "fused-dense-lib", "0.0.0",
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    package(site, "bitsandbytes", "bitsandbytes", "0.50.2", "print('noise on stdout')\n")
    result = probe_imports(["xformers", "fused_dense_lib", "bitsandbytes"], timeout=3.0, path=[str(site)])
    assert result["xformers"].imports is None and "did not finish" in (result["xformers"].error or "")
    assert result["xformers"].fact().known is False
    assert result["fused_dense_lib"].imports is False and "SIGSEGV" in (result["fused_dense_lib"].error or "")
    assert result["bitsandbytes"].imports is True


def test_nothing_installed_starts_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    result = probe_imports(["flash_attn_interface", "rotary_emb"], path=[str(tmp_path)])
    assert {name: r.installed for name, r in result.items()} == {"flash_attn_interface": False,
                                                                "rotary_emb": False}
    assert result["rotary_emb"].fact().value is False


def test_wheel_tag_follows_flash_attn_setup() -> None:
    assert wheel_tag_cuda(Version("2.0.9"), Version("11.7")) == "117"
    assert wheel_tag_cuda(Version("2.5.8"), Version("12.1")) == "122"
    assert wheel_tag_cuda(Version("2.6.3"), Version("12.4")) == "123"
    assert wheel_tag_cuda(Version("2.7.4.post1"), Version("12.8")) == "12"
    assert wheel_tag_cuda(Version("2.8.3"), Version("13.0")) == "12"
    assert wheel_tag_cuda(Version("2.8.3.post1"), Version("13.0")) == "13"


def test_wheel_hint() -> None:
    hint = wheel_hint("2.8.3", "2.8.0", "12.8", True)
    assert "flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp3" in hint
    assert "install the wheel for torch 2.8, CUDA 12.8 (cu12), cxx11abi TRUE" in hint
    assert hint.endswith('or use attn_implementation="sdpa"')
    assert "cover torch" not in hint
    old = wheel_hint("2.6.3", "2.13.0", "12.8", None)
    assert "cxx11abi TRUE" in old and "cover torch 2.0–2.4 only" in old and "--no-build-isolation" in old
    assert "cxx11abiTRUE|FALSE" in wheel_hint("2.5.8", "2.3.1", "12.1", None)
    assert "not a CUDA build" in wheel_hint("2.8.3", "2.13.0", None, None)
    assert "no CUDA 13 wheels" in wheel_hint("2.8.3", "2.9.0", "13.0", True)


def software_with(packages: dict[str, str | None]) -> Software:
    return Software(
        packages={name: Package(name, Fact(Version(v) if v else None, "metadata"))
                  for name, v in packages.items()},
        modules={"fused_dense_lib": Fact.of(False, "module search path")},
        source="test", python=Fact.of("3.11", "test"), torch=unknown_torch_build("not read", "test"))


def test_apply_probe_marks_the_broken_package(broken_flash_attn: tuple[Path, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site, _ = broken_flash_attn
    monkeypatch.syspath_prepend(str(site))
    software = apply_probe(software_with({"flash-attn": "2.6.3", "bitsandbytes": None, "xformers": "0.0.35"}))
    fa = software.package("flash-attn")
    assert fa.imports.value is False and fa.import_error == f"ImportError: {UNDEFINED}"
    assert software.package("bitsandbytes").imports.known is False  # not installed: not probed
    xf = software.package("xformers")
    assert xf.imports.value is False and "not on the module path" in (xf.import_error or "")
    assert software.modules["flash_attn"].value is False
    assert software.modules["fused_dense_lib"].value is False


def test_install_hint_names_the_wheel_or_says_there_is_none() -> None:
    covered = install_hint(Version("2.8.0+cu128"), "12.8", None)
    assert "flash_attn-2.8.3.post1+cu12torch2.8cxx11abiTRUE" in covered
    beyond = install_hint(Version("2.13.0"), "12.8", None)
    assert "no prebuilt flash-attn wheel covers torch 2.13" in beyond and "from source" in beyond
    installed = install_hint(Version("2.8.0"), "12.8", Version("2.6.3"))
    assert "cover torch 2.0–2.4 only" in installed
