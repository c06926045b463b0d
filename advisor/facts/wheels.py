"""Which prebuilt flash-attn wheel fits a torch build (kernels.md §1.4), without importing anything heavy."""

from __future__ import annotations

import os
import sys

from packaging.version import InvalidVersion, Version

FA_WHEEL_TORCH: tuple[tuple[str, str, str, str], ...] = (
    ("2.0.6", "2.1", "1.12", "2.0"),
    ("2.1", "2.4", "1.12", "2.1"),
    ("2.4", "2.6", "1.12", "2.3"),
    ("2.6", "2.7", "2.0", "2.4"),
    ("2.7", "2.8", "2.2", "2.6"),
    ("2.8", "2.8.3.post1", "2.4", "2.8"),
    ("2.8.3.post1", "2.9", "2.6", "2.10"),
)
"""flash-attn releases [low, high) and the torch versions their prebuilt wheels cover (kernels.md §1.4)."""
RELEASES = "https://github.com/Dao-AILab/flash-attention/releases"


def wheel_tag_cuda(flash_attn: Version, cuda: Version) -> str:
    """The `cu` tag flash-attn's setup.py asks for, from torch's CUDA version (kernels.md §1.4)."""
    if flash_attn < Version("2.3"):
        return f"{cuda.major}{cuda.minor}"
    if flash_attn < Version("2.6"):
        return "118" if cuda.major == 11 else "122"
    if flash_attn < Version("2.7"):
        return "118" if cuda.major == 11 else "123"
    if cuda.major >= 13 and flash_attn < Version("2.8.3.post1"):
        return "12"
    return str(cuda.major)


def wheel_hint(flash_attn_version: Version | str, torch_version: Version | str, cuda: str | None,
               cxx11abi: bool | None) -> str:
    """Which prebuilt flash-attn wheel matches this torch, or what to do instead (kernels.md §1.4)."""
    try:
        fa, torch = Version(str(flash_attn_version)), Version(str(torch_version))
    except InvalidVersion as exc:
        return f"reinstall flash-attn for the installed torch, or use attn_implementation=\"sdpa\" ({exc})"
    if cuda is None:
        return (f"torch {torch} is not a CUDA build, so flash-attn cannot run; install a CUDA torch or use "
                "attn_implementation=\"sdpa\"")
    try:
        cu = wheel_tag_cuda(fa, Version(cuda))
    except InvalidVersion:
        return f"torch's CUDA version {cuda!r} is not valid; use attn_implementation=\"sdpa\""
    torch_mm = f"{torch.major}.{torch.minor}"
    if cxx11abi is None and torch >= Version("2.7"):
        cxx11abi = True  # PyPI torch is built with the new ABI only from 2.7 on
    abi = "TRUE|FALSE" if cxx11abi is None else ("TRUE" if cxx11abi else "FALSE")
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    machine = "linux_aarch64" if os.uname().machine in ("aarch64", "arm64") else "linux_x86_64"
    name = f"flash_attn-{fa}+cu{cu}torch{torch_mm}cxx11abi{abi}-{py}-{py}-{machine}.whl"
    hint = (f"install the wheel for torch {torch_mm}, CUDA {cuda} (cu{cu}), cxx11abi {abi}: {name} "
            f"from {RELEASES}/tag/v{fa}")
    covered = _covered(fa)
    torch_base = Version(torch_mm)
    if covered is not None and not covered[0] <= torch_base <= covered[1]:
        hint += (f"; flash-attn {fa}'s prebuilt wheels cover torch {covered[0]}–{covered[1]} only, so "
                 f"install a flash-attn release built for torch {torch_mm} or build it with "
                 "`pip install flash-attn --no-build-isolation`")
    if cuda.startswith("13") and cu == "12":
        hint += f"; flash-attn {fa} has no CUDA 13 wheels (2.8.3.post1 is the first)"
    return hint + ", or use attn_implementation=\"sdpa\""


def _covered(fa: Version) -> tuple[Version, Version] | None:
    for low, high, torch_low, torch_high in FA_WHEEL_TORCH:
        if Version(low) <= fa < Version(high):
            return Version(torch_low), Version(torch_high)
    return None


def install_hint(torch_version: Version | None, cuda: str | None, installed: Version | None) -> str:
    """How to get a working flash-attn for this torch: the wheel to install, or why there is none."""
    if torch_version is None:
        return "install torch first, then the flash-attn wheel built for it"
    if installed is not None:
        return wheel_hint(installed, torch_version, cuda, None)
    torch_mm = Version(f"{torch_version.major}.{torch_version.minor}")
    for low, _high, torch_low, torch_high in reversed(FA_WHEEL_TORCH):
        if Version(torch_low) <= torch_mm <= Version(torch_high):
            return wheel_hint(low, torch_version, cuda, None)
    newest = FA_WHEEL_TORCH[-1]
    return (f"no prebuilt flash-attn wheel covers torch {torch_mm} (the newest cover torch {newest[2]}–{newest[3]}): "
            "`pip install flash-attn --no-build-isolation` compiles it from source (hours; needs nvcc and ninja), "
            f"or use torch {newest[3]} with flash-attn >= {newest[0]}")
