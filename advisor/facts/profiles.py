"""Target profiles: `--with NAME==VERSION` overlays, `--software FILE` and `--hardware FILE`."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.core.readfile import decode, load_json, load_toml, read_bytes, show
from advisor.facts.cpu import bf16_from_flags
from advisor.facts.gpu_catalog import MAX_GPUS, CatalogGpu, catalog_gpu, find_gpu, parse_gpu_spec
from advisor.facts.hardware import Cpu, Gpu, Hardware, unknown_cpu
from advisor.facts.software import (
    EXTENSION_MODULES,
    RELEVANT_DISTS,
    WHEEL_MODULES,
    Package,
    Software,
    TorchBuild,
    normalize,
)
from advisor.facts.torch_build import table_archs

CPU_LIMITS = {"cores": 1 << 16, "memory_gib": 1 << 20}
"""A CPU described in a profile: at most this many cores and GiB."""
_SPEC = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*(?P<version>\S+)\s*$")
ABSENT = ("none", "absent", "missing")


def read_profile(path: Path, what: str) -> dict[str, Any]:
    """A JSON or TOML profile file as a dict; exit 2 with the file and the problem otherwise."""
    raw = read_bytes(path, f"the {what} profile")
    where = f"{show(path, 200)}: the {what} profile"
    data = load_toml(decode(raw, where), where) if path.suffix == ".toml" else load_json(raw, where)
    if not isinstance(data, dict):
        raise InputError(f"{path}: the {what} profile must be an object")
    return data


MAX_VERSION_CHARS = 64
"""A version longer than this is refused before it is parsed (real ones are a dozen characters)."""


def version_of(raw: object, where: str) -> Version:
    """RAW (a string or a number) as a Version; InputError naming WHERE when it is none, or absurdly long."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InputError(f"{where}: a version must be a string, not {type(raw).__name__}")
    text = str(raw).strip()
    if len(text) > MAX_VERSION_CHARS:
        raise InputError(f"{where}: the version is {len(text)} characters long, more than {MAX_VERSION_CHARS}")
    try:
        return Version(text)
    except (InvalidVersion, ValueError):
        raise InputError(f"{where}: {show(text)!r} is not a valid version") from None


def parse_with(spec: str) -> tuple[str, Version | None]:
    """`flash-attn==2.6.3` → ("flash-attn", Version); `flash-attn==none` → ("flash-attn", None)."""
    m = _SPEC.match(spec) if len(spec) <= 2 * MAX_VERSION_CHARS + 100 else None
    if not m:
        raise InputError(f"--with '{show(spec)}': write NAME==VERSION (or NAME==none for not installed)")
    name, raw = m.group("name"), m.group("version")
    if raw.lower() in ABSENT:
        return name, None
    return name, version_of(raw, f"--with '{show(spec)}'")


def overlay(software: Software, specs: Iterable[str]) -> Software:
    """Apply `--with` overlays: a what-if package set on top of the detected or profiled one.

    What an overlay names is no longer among the imports not probed here: its own fact replaces that.
    """
    packages = dict(software.packages)
    modules = dict(software.modules)
    unprobed = dict(software.unprobed)
    torch = software.torch
    for spec in specs:
        source = f"--with {spec.strip()}"
        module, _, state = spec.partition("==")
        if module.strip() in EXTENSION_MODULES:
            modules[module.strip()] = Fact.of(state.strip().lower() not in ABSENT, source)
            unprobed.pop(module.strip(), None)
            continue
        name, version = parse_with(spec)
        key = normalize(name)
        if version is None:
            packages[key] = Package(key, Fact(None, source), Fact.of(False, source))
        else:
            packages[key] = Package(key, Fact.of(version, source), Fact.of(True, f"{source} (assumed to import)"))
        unprobed.pop(key, None)
        for mod in WHEEL_MODULES.get(key, ()):
            modules[mod] = Fact.of(version is not None, source)
            unprobed.pop(mod, None)
        if key == "torch":
            if version is not None and not version.local and software.torch.mps.value:
                # another torch on the same Mac: its macOS arm64 wheel
                torch = torch_build_for_vendor(version, "apple", f"{source} (the macOS arm64 wheel, as before)")
            else:
                torch = torch_build_for(version, source)
    return replace(software, packages=packages, modules=modules, torch=torch, unprobed=unprobed,
                   source=software.source + " + --with")


def torch_build_for(version: Version | None, source: str) -> TorchBuild:
    """What a torch version string says of its build: `+cu124` → CUDA 12.4, `+cpu`, `+rocm6.2`."""
    none: Fact[str] = Fact(None, source)
    no_mps = Fact.of(False, source)
    if version is None:
        return TorchBuild(none, none, Fact.of((), source), no_mps)
    local = version.local or ""
    cu = re.fullmatch(r"cu(\d+)(\d)", local)
    if cu:
        return TorchBuild(Fact.of(f"{cu.group(1)}.{cu.group(2)}", source), none, _archs(version, source), no_mps)
    if local.startswith("rocm"):
        return TorchBuild(none, Fact.of(local[4:], source), Fact.of((), source), no_mps)
    if local == "cpu":
        return TorchBuild(none, none, Fact.of((), source), no_mps)
    return TorchBuild(Fact.of("12", f"{source} (no +cuXYZ tag: the default PyPI Linux wheel, a CUDA build)"),
                      none, _archs(version, source), Fact.unknown(
                          "a version without a local tag is also the macOS wheel's; which one is meant is not known",
                          source))


def torch_build_for_vendor(version: Version, vendor: str, source: str) -> TorchBuild:
    """The build of torch VERSION that a GPU of VENDOR runs: CUDA (the default Linux wheel), ROCm, or
    the macOS arm64 wheel (no CUDA, no HIP, MPS)."""
    none: Fact[str] = Fact(None, source)
    if vendor == "apple":
        return TorchBuild(none, none, Fact.of((), source), Fact.of(True, source))
    if vendor == "amd":
        return TorchBuild(none, Fact.of("rocm", f"{source} (a ROCm build; its ROCm release is not known)"),
                          Fact.unknown("the GPU archs of a ROCm wheel are not read", source), Fact.of(False, source))
    build = torch_build_for(version, source)
    return replace(build, mps=Fact.of(False, source))


def _archs(version: Version, source: str) -> Fact[tuple[str, ...]]:
    fact = table_archs(version)
    return Fact(fact.value, f"{source}; {fact.source}", fact.reason)


def software_profile(path: Path) -> Software:
    """A complete package set from a profile file: what it does not list is not installed."""
    data = read_profile(path, "software")
    source = f"profile:{path}"
    extra = set(data) - {"python", "packages", "modules", "torch", "imports", "import_errors", "name"}
    if extra:
        raise InputError(f"{path}: unknown keys {sorted(extra)} (expected packages, modules, torch, imports, "
                         "import_errors, python)")
    raw_pkgs = data.get("packages", {})
    if not isinstance(raw_pkgs, dict):
        raise InputError(f"{path}: `packages` must map names to versions")
    packages: dict[str, Package] = {d: Package(d, Fact(None, source), Fact.of(False, source)) for d in RELEVANT_DISTS}
    imports = _mapping(data, "imports", path)
    errors = _mapping(data, "import_errors", path)
    modules: dict[str, Fact[bool]] = {m: Fact.of(False, source) for m in EXTENSION_MODULES}
    for name, raw in raw_pkgs.items():
        key = normalize(str(name))
        if raw is None or str(raw).lower() in ABSENT:
            continue
        version = version_of(raw, f"{path}: packages.{show(name)}")
        ok = imports.get(name, imports.get(key, True))
        err = errors.get(name, errors.get(key))
        if not isinstance(ok, bool) or not (err is None or isinstance(err, str)):
            raise InputError(f"{path}: imports.{show(name)} must be true or false and import_errors.{show(name)} "
                             "a string")
        packages[key] = Package(key, Fact.of(version, source), Fact.of(bool(ok) and err is None, source),
                                str(err) if err else None)
        for mod in WHEEL_MODULES.get(key, ()):
            modules[mod] = Fact.of(bool(ok) and err is None, source)
    for name, present in _mapping(data, "modules", path).items():
        if name not in EXTENSION_MODULES:
            raise InputError(f"{path}: modules.{name}: not one of {', '.join(EXTENSION_MODULES)}")
        if not isinstance(present, bool):
            raise InputError(f"{path}: modules.{name} must be true or false")
        modules[name] = Fact.of(present, source)
    torch_version = packages["torch"].version.value
    torch = torch_build_for(torch_version, source)
    tdata = _mapping(data, "torch", path)
    if tdata:
        cuda = tdata.get("cuda")
        archs = tdata.get("archs")
        if not all(v is None or (isinstance(v, str | int | float) and not isinstance(v, bool) and len(str(v)) <= 32)
                   for v in (cuda, tdata.get("hip"))) or not (archs is None or (
                isinstance(archs, list) and len(archs) <= 64 and all(isinstance(a, str) and len(a) <= 16
                                                                     for a in archs))):
            raise InputError(f"{path}: torch.cuda and torch.hip must be short version strings and torch.archs a "
                             "list of names such as \"sm_80\"")
        torch = TorchBuild(Fact.of(str(cuda), source) if cuda else Fact(None, source),
                           Fact.of(str(tdata["hip"]), source) if tdata.get("hip") else Fact(None, source),
                           Fact.of(tuple(str(a) for a in archs), source) if isinstance(archs, list) else torch.archs,
                           Fact.of(bool(tdata["mps"]), source) if "mps" in tdata else torch.mps)
    if data.get("python") is not None and not (isinstance(data["python"], str) and len(data["python"]) <= 32):
        raise InputError(f"{path}: `python` must be a version string such as \"3.11\"")
    python = Fact.of(str(data["python"]), source) if data.get("python") else Fact.unknown(
        "the profile does not name a Python version", source)
    return Software(packages=packages, modules=modules, source=source, python=python, torch=torch)


def _mapping(data: Mapping[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: `{key}` must be a table/object")
    return value


def hardware_profile(path: Path) -> Hardware:
    """Hardware from a profile file: catalog GPUs by name and count, or GPUs described in full."""
    data = read_profile(path, "hardware")
    source = f"profile:{path}"
    extra = set(data) - {"gpus", "gpu", "cpu", "driver", "name", "macos"}
    if extra:
        raise InputError(f"{path}: unknown keys {sorted(extra)} (expected gpus, cpu, driver, macos)")
    gpus: list[Gpu] = []
    if data.get("gpu") is not None and not isinstance(data["gpu"], str):
        raise InputError(f"{path}: `gpu` must be a GPU name such as \"T4\" or \"H100x8\"")
    if isinstance(data.get("gpu"), str):
        entry, count = parse_gpu_spec(data["gpu"])
        gpus = [catalog_gpu(entry, i, source) for i in range(count * entry.devices)] if entry else []
    listed = data.get("gpus", [])
    if not isinstance(listed, list):
        raise InputError(f"{path}: `gpus` must be a list of GPUs, each with a `name`")
    for item in listed:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InputError(f"{path}: each of `gpus` needs a `name`")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_GPUS - len(gpus):
            raise InputError(f"{path}: gpus[{show(item['name'])}].count must be an integer from 1 to {MAX_GPUS}, "
                             f"and all GPUs together at most {MAX_GPUS}")
        entry = _profile_gpu(item, path)
        if count * entry.devices > MAX_GPUS - len(gpus):
            raise InputError(f"{path}: all GPUs together must be at most {MAX_GPUS} devices")
        gpus.extend(catalog_gpu(entry, len(gpus) + i, source) for i in range(count * entry.devices))
    cpu = _profile_cpu(data.get("cpu"), source, path)
    unified = [g for g in gpus if g.unified_memory.value]
    if unified:
        if len(gpus) > 1:
            raise InputError(f"{path}: Apple silicon is one machine with one GPU; give no count and no other GPU")
        if cpu.memory_total_bytes.value is None:  # one pool: the machine's memory is the GPU's
            cpu = replace(cpu, memory_total_bytes=unified[0].memory_total_bytes)
    raw_driver = data.get("driver")
    if raw_driver is not None and not isinstance(raw_driver, dict):
        raise InputError(f"{path}: `driver` must be a table/object such as {{cuda = \"12.4\"}}")
    driver: dict[str, Any] = raw_driver or {}
    if not (driver.get("cuda") is None or (isinstance(driver["cuda"], str | int | float)
            and not isinstance(driver["cuda"], bool) and len(str(driver["cuda"])) <= 32)):
        raise InputError(f"{path}: driver.cuda must be a version string such as \"12.4\"")
    cuda: Fact[str] = Fact.of(str(driver["cuda"]), source) if driver.get("cuda") else Fact.unknown(
        "the profile does not name the driver's CUDA version", source)
    return Hardware(gpus=tuple(gpus), source=source, gpu_count=Fact.of(len(gpus), source), cpu=cpu,
                    cuda_driver_version=cuda, macos=_profile_macos(data.get("macos"), gpus, source, path))


def _profile_macos(raw: Any, gpus: list[Gpu], source: str, path: Path) -> Fact[str]:
    """`macos = "14.5"` in a profile; without it, unknown (with a hint on Apple silicon)."""
    if raw is None:
        if any(g.vendor == "apple" for g in gpus):
            return Fact.unknown("the profile does not name the macOS release (macos = \"14.5\")", source)
        return Fact.unknown("the profile does not name the OS", source)
    try:
        Version(str(raw))
    except InvalidVersion:
        raise InputError(f"{path}: macos = {raw!r} is not a release number such as \"14.5\"") from None
    return Fact.of(str(raw), source)


def _profile_gpu(item: dict[str, Any], path: Path) -> CatalogGpu:
    name = str(item["name"])
    known = find_gpu(name) if len(name) <= 64 else None
    if "cc" not in item:
        if known is None:
            _, _ = parse_gpu_spec(name)  # raises with the closest names
        assert known is not None
        return known
    shown = show(name)
    cc, raw_memory = item["cc"], item.get("memory_gib", known.memory_gib if known else 0)
    m = re.fullmatch(r"(\d{1,2})\.(\d)", str(cc)) if isinstance(cc, str | float) else None
    if m is None or isinstance(raw_memory, bool) or not isinstance(raw_memory, int | float):
        raise InputError(f"{path}: gpus[{shown}]: cc must look like \"8.6\" and memory_gib be a number")
    major, minor, memory = int(m.group(1)), int(m.group(2)), float(raw_memory)
    if not math.isfinite(memory) or memory <= 0 or memory > 4096 or not 1 <= major <= 20:
        raise InputError(f"{path}: gpus[{shown}]: implausible cc or memory_gib")
    arch = item.get("arch", known.arch if known else "unknown")
    if not isinstance(arch, str) or len(arch) > 32:
        raise InputError(f"{path}: gpus[{shown}]: arch must be a short name such as \"ampere\"")
    return CatalogGpu(name, (major, minor), memory, arch, ())


def _profile_cpu(raw: Any, source: str, path: Path) -> Cpu:
    if raw is None:
        return unknown_cpu("the profile does not describe the CPU", source)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: `cpu` must be a table/object")

    def fact(key: str, scale: float = 1) -> Fact[Any]:
        if key not in raw:
            return Fact.unknown(f"the profile has no cpu.{key}", source)
        value = raw[key]
        if key == "bf16":
            if not isinstance(value, bool):
                raise InputError(f"{path}: cpu.bf16 must be true or false")
            return Fact.of(value, source)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
                or not 0 < value <= CPU_LIMITS[key]:
            raise InputError(f"{path}: cpu.{key} must be a number from 0 to {CPU_LIMITS[key]}, not "
                             f"{show(value, 40)}")
        return Fact.of(int(value * scale) if scale != 1 else value, source)

    bf16 = fact("bf16")
    if "flags" in raw:
        if "bf16" in raw:
            raise InputError(f"{path}: give cpu.flags or cpu.bf16, not both")
        flags = raw["flags"]
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            raise InputError(f"{path}: cpu.flags must be a list of instruction-set names as /proc/cpuinfo writes them")
        bf16 = bf16_from_flags(set(flags), f"{source}: cpu.flags")
    return Cpu(fact("cores"), fact("memory_gib", 2**30), bf16)
