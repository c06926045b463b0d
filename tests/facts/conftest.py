"""Fixtures for the fact probes: the NVML stub library, and a private cache directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUB_SOURCE = ROOT / "tests" / "stub_nvml" / "libnvidia_ml_stub.c"
MACHINES = ROOT / "fixtures" / "machines"

PROBE = "import json; from advisor.facts.nvml import probe_nvml; print(json.dumps(probe_nvml().to_json()))"

RunNvml = Callable[..., dict[str, Any]]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ADVISOR_CACHE_DIR."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def stub_lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stub compiled with gcc as `libnvidia-ml.so.1` in a folder of its own."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    assert gcc, "the NVML stub tests need gcc"
    folder = tmp_path_factory.mktemp("nvml_stub")
    target = folder / "libnvidia-ml.so.1"
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", str(target), str(STUB_SOURCE)],
                   check=True)
    return folder


def run_probe(lib_dir: Path | None, machine: str | None, visible: str | None = None,
              extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `probe_nvml()` in a subprocess whose dynamic loader looks in `lib_dir` first."""
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")}
    env["PYTHONPATH"] = str(ROOT)
    env["LD_LIBRARY_PATH"] = str(lib_dir) if lib_dir is not None else ""
    if machine is not None:
        env["ADVISOR_NVML_STUB_MACHINE"] = str(MACHINES / f"{machine}.nvml")
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"] = visible
    env.update(extra_env or {})
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture
def nvml(stub_lib_dir: Path) -> RunNvml:
    """`nvml("t4", visible="3,1")`: the probe's JSON for a machine fixture."""

    def run(machine: str, visible: str | None = None, **env: str) -> dict[str, Any]:
        return run_probe(stub_lib_dir, machine, visible, env)

    return run


@pytest.fixture
def nvml_with_lib_dir() -> Callable[..., dict[str, Any]]:
    """`run_probe` itself, for tests that choose the loader's folder."""
    return run_probe


AMDSMI_DIR = ROOT / "tests" / "stub_amdsmi"
AMDSMI_PROBE = ("import json; from advisor.facts.amdsmi import probe_amdsmi; from advisor.facts.cpu import probe_cpu; "
                "h = probe_amdsmi(probe_cpu()); print(json.dumps(None if h is None else h.to_json()))")


@pytest.fixture(scope="session")
def amdsmi_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ROCm folder whose lib/libamd_smi.so is the stub plus a `return 2` body for every other symbol the
    real amdsmi binding binds at import (tests/stub_amdsmi/symbols.txt)."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    assert gcc, "the AMD SMI stub tests need gcc"
    root = tmp_path_factory.mktemp("rocm")
    source = (AMDSMI_DIR / "libamd_smi_stub.c").read_text()
    written = set(re.findall(r"^\S[^\n(]*\b(amdsmi_\w+)\(", source, flags=re.M))
    rest = [s for s in (AMDSMI_DIR / "symbols.txt").read_text().split() if s not in written]
    extra = root / "rest.c"
    extra.write_text("#include <stdint.h>\n" + "".join(f"uint32_t {s}(void) {{ return 2; }}\n" for s in rest))
    (root / "lib").mkdir()
    subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o", str(root / "lib" / "libamd_smi.so"),
                    str(AMDSMI_DIR / "libamd_smi_stub.c"), str(extra)], check=True)
    return root


def run_amdsmi(root: Path | None, machine: str | None, **env: str) -> dict[str, Any] | None:
    """Run `probe_amdsmi()` in a subprocess that finds the stub through ROCM_PATH (or nothing)."""
    hidden = ("ROCM_HOME", "ROCM_PATH", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
    clean = {k: v for k, v in os.environ.items() if k not in hidden}
    clean["PYTHONPATH"] = str(ROOT)
    clean["ROCM_PATH"] = str(root) if root is not None else "/nonexistent-rocm"
    if machine is not None:
        clean["ADVISOR_AMDSMI_STUB_MACHINE"] = str(MACHINES / f"{machine}.amdsmi")
    clean.update(env)
    done = subprocess.run([sys.executable, "-c", AMDSMI_PROBE], env=clean, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    result: dict[str, Any] | None = json.loads(done.stdout)
    return result


@pytest.fixture
def amdsmi_probe(amdsmi_root: Path) -> Callable[..., dict[str, Any] | None]:
    """`amdsmi_probe("mi300x-x2", HIP_VISIBLE_DEVICES="1")`: the probe's JSON for a machine fixture."""

    def run(machine: str | None, **env: str) -> dict[str, Any] | None:
        return run_amdsmi(amdsmi_root, machine, **env)

    return run
