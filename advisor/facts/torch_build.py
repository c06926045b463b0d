"""The installed torch's own facts without importing it: version, CUDA/HIP version, GPU archs.

The archs come from the `-gencode … code=sm_XX` string inside the installed CUDA library when it can
be found there (the scan is cached on disk by file size and mtime), else from a table of the default
PyPI wheels by version (knowledge/kernels.md §5.2).
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from advisor.core.cache import cache_read, cache_write
from advisor.core.fact import Fact
from advisor.core.frozen import replace
from advisor.facts.dists import find_distribution
from advisor.facts.hardware import Hardware
from advisor.facts.software import Software, TorchBuild, unknown_torch_build

ARCH_LIBRARIES = ("lib/libtorch_cuda.so", "lib/libtorch_python.so")
MARKER = b"arch=compute_"
_ASSIGN = re.compile(r"^(cuda|hip)\s*(?::[^=\n]*)?=\s*(None|'([^']*)'|\"([^\"]*)\")\s*$", re.M)
_CODE = re.compile(rb"code=\[?((?:(?:sm|compute)_\d+[af]?,?)+)\]?")

WHEEL_ARCHS: tuple[tuple[Version, Version, tuple[str, ...]], ...] = (
    (Version("2.0"), Version("2.1"), ("sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86")),
    (Version("2.1"), Version("2.8"), ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")),
    (Version("2.8"), Version("2.11"), ("sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")),
    (Version("2.11"), Version("3"), ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")),
)
"""SASS in the default PyPI Linux x86_64 wheel, by torch version range [low, high) (kernels.md §5.2)."""
CU126_ARCHS = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90")
"""The `+cu126` wheels of torch 2.11+ still carry Volta (kernels.md §5.2, PYTORCH_RELEASES_CODE_CC)."""
CU128_27_ARCHS = ("sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120")
"""torch 2.7 `+cu128` (the index wheel Blackwell needs, kernels.md §5.2; the exact list is inferred)."""


def read_torch_build(path: Sequence[str] | None = None) -> tuple[Fact[Version], TorchBuild]:
    """torch's version and build, from its `*.dist-info` folder and files (`path`: default sys.path).

    The dist-info folder name gives the version without importlib.metadata, whose import alone costs
    more than the rest of `advisor recommend`.
    """
    source = "installed (package metadata)"
    found = find_distribution("torch", path)
    if found is None:
        reason = "torch is not installed"
        return Fact.unknown(reason, source), unknown_torch_build(reason, source)
    site, raw = found
    try:
        version: Fact[Version] = Fact.of(Version(raw), source)
    except InvalidVersion as exc:
        version = Fact.unknown(f"torch's version {raw!r} is not valid: {exc}", source)
    build = read_build(site / "torch", version.value)
    return version, replace(build, mps=wheel_is_macos_arm64(site / f"torch-{raw}.dist-info" / "WHEEL"))


def wheel_is_macos_arm64(wheel: Path) -> Fact[bool]:
    """Whether a WHEEL file's tags name macOS on arm64: the torch wheels that carry the MPS backend.

    Their version.py says `cuda = None`, `hip = None`, like a CPU build (torch 2.5.1-2.9.1 macOS arm64
    wheels read), so the tag is what tells them apart.
    """
    source = str(wheel)
    try:
        text = wheel.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return Fact.unknown(f"cannot read {wheel}: {exc.strerror or exc}", source)
    tags = [line.partition(":")[2].strip() for line in text.splitlines() if line.startswith("Tag:")]
    if not tags:
        return Fact.unknown(f"{wheel} has no Tag line", source)
    mps = any("macosx" in t and ("arm64" in t or "universal2" in t) for t in tags)
    return Fact.of(mps, f"{source}: Tag {tags[0]}")


def read_build(root: Path, version: Version | None) -> TorchBuild:
    """The build facts of the torch package folder `root`."""
    version_py = root / "version.py"
    source = str(version_py)
    try:
        text = version_py.read_text(encoding="utf-8")
    except OSError as exc:
        return unknown_torch_build(f"cannot read {version_py}: {exc.strerror or exc}", source)
    found: dict[str, str | None] = {}
    for m in _ASSIGN.finditer(text):
        found[m.group(1)] = None if m.group(2) == "None" else (m.group(3) or m.group(4) or "")
    if "cuda" not in found:
        return unknown_torch_build(f"{version_py} has no `cuda = ...` line", source)
    cuda_value, hip_value = found["cuda"], found.get("hip")
    cuda: Fact[str] = Fact(cuda_value, source)
    hip: Fact[str] = Fact(hip_value, source) if "hip" in found else Fact.unknown("no `hip` line", source)
    if cuda_value is None and hip_value is None:
        cpu_only = f"{source}: a CPU build (cuda=None, hip=None) has no GPU code"
        return TorchBuild(cuda, hip, Fact.of((), cpu_only))
    if cuda_value is None:
        return TorchBuild(cuda, hip, Fact.unknown(f"a ROCm build (hip {hip_value}): GPU archs are not read",
                                                  source))
    return TorchBuild(cuda, hip, _archs(root, version))


def _archs(root: Path, version: Version | None) -> Fact[tuple[str, ...]]:
    for name in ARCH_LIBRARIES:
        lib = root / name
        if lib.is_file():
            archs = scan_library(lib)
            if archs:
                return Fact.of(archs, f"{lib}: -gencode flags")
    return table_archs(version)


def table_archs(version: Version | None) -> Fact[tuple[str, ...]]:
    """The archs of the default PyPI wheel of this torch version (the `+cu126` variant from 2.11)."""
    source = "table of default PyPI torch wheels (knowledge/kernels.md §5.2)"
    if version is None:
        return Fact.unknown("torch's version is unknown", source)
    if version.local == "cu126" and version.release[:2] >= (2, 11):
        return Fact.of(CU126_ARCHS, source + ", +cu126 variant")
    if version.local == "cu128" and version.release[:2] == (2, 7):
        return Fact.of(CU128_27_ARCHS, source + ", +cu128 variant (inferred)")
    base = Version(version.base_version)
    for low, high, archs in WHEEL_ARCHS:
        if low <= base < high:
            return Fact.of(archs, source)
    return Fact.unknown(f"torch {version} is outside the table of wheel archs", source)


def scan_library(lib: Path) -> tuple[str, ...]:
    """The `sm_XX`/`compute_XX` codes in the `-gencode` string of a shared library (cached by size, mtime)."""
    try:
        stat = lib.stat()
    except OSError:
        return ()
    key = f"{lib.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    cached = cache_read("torch-archs.json").get(key)
    if isinstance(cached, list) and all(isinstance(c, str) for c in cached):
        return tuple(cached)
    archs = _scan(lib)
    cache_write("torch-archs.json", {key: list(archs)})
    return archs


def _scan(lib: Path) -> tuple[str, ...]:
    try:
        with lib.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            best: tuple[str, ...] = ()
            at = data.find(MARKER)
            while at >= 0:
                start, end = _printable_run(data, at)
                codes = tuple(dict.fromkeys(code.decode() for group in _CODE.findall(data[start:end])
                                            for code in group.split(b",") if code))
                if len(codes) > len(best):
                    best = codes
                at = data.find(MARKER, end)
            return best
    except (OSError, ValueError):
        return ()


def _printable_run(data: mmap.mmap, at: int, limit: int = 4096) -> tuple[int, int]:
    """Bounds of the printable byte run around `at` (a C string), at most `limit` bytes each way."""
    start = at
    while start > max(0, at - limit) and 32 <= data[start - 1] < 127:
        start -= 1
    end = at
    top = min(len(data), at + limit)
    while end < top and 32 <= data[end] < 127:
        end += 1
    return start, end


def runs_on(archs: Sequence[str], cc: tuple[int, int]) -> bool:
    """Whether code built for `archs` runs on a GPU of capability `cc`.

    SASS `sm_XY` runs on capability X.Y and on the same major with a higher minor; PTX `compute_XY` is
    compiled at load time for any capability at or above X.Y. Arch-specific `sm_90a`-style SASS runs
    on its exact capability only.
    """
    major, minor = cc
    for arch in archs:
        kind, _, digits = arch.partition("_")
        specific = digits.endswith(("a", "f"))
        digits = digits.rstrip("af")
        if not digits.isdigit() or len(digits) < 2:
            continue
        a_major, a_minor = int(digits[:-1]), int(digits[-1])
        if kind == "compute" and (a_major, a_minor) <= cc:
            return True
        if kind == "sm" and a_major == major and (a_minor == minor or (not specific and a_minor < minor)):
            return True
    return False


def build_runs_on(build: TorchBuild, cc: Fact[tuple[int, int]]) -> Fact[bool]:
    """Whether this torch build has code for a GPU of capability `cc` (unknown when either is)."""
    if cc.value is None:
        return Fact.unknown(cc.reason or "compute capability unknown", cc.source)
    archs = build.archs
    if archs.value is None:
        return Fact.unknown(archs.reason or "torch's GPU archs are unknown", archs.source)
    if build.cuda.value is None:
        return Fact.of(False, f"{build.cuda.source}: torch is not a CUDA build")
    ok = runs_on(archs.value, cc.value)
    listed = " ".join(archs.value) or "none"
    return Fact.of(ok, f"{archs.source}: archs {listed} vs compute capability {cc.value[0]}.{cc.value[1]}")


def torch_runs_on(software: Software, hardware: Hardware) -> Fact[bool]:
    """Whether the target's torch can run on every visible GPU: false names the first GPU it cannot."""
    if not hardware.gpus:
        reason = hardware.gpu_count.reason if not hardware.gpu_count.known else "the target has no GPU"
        return Fact.unknown(reason or "the target has no GPU", hardware.source)
    unknown: Fact[bool] | None = None
    verdicts: list[Fact[bool]] = []
    for gpu in hardware.gpus:
        verdict = build_runs_on(software.torch, gpu.compute_capability)
        if verdict.value is False:
            name = gpu.name.get("GPU")
            return Fact.of(False, f"GPU {gpu.index} ({name}): {verdict.source}")
        if not verdict.known:
            unknown = unknown or verdict
        verdicts.append(verdict)
    if unknown is not None:
        return unknown
    return verdicts[0]
