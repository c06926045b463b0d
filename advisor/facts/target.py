"""The target machine as the user names it, and its hardware and software facts."""

from __future__ import annotations

from pathlib import Path

from packaging.version import Version

from advisor.core.errors import InputError
from advisor.core.frozen import frozen, replace
from advisor.facts.gpu_catalog import catalog_hardware, parse_gpu_spec
from advisor.facts.hardware import Hardware
from advisor.facts.installed import detect_software
from advisor.facts.profiles import hardware_profile, overlay, software_profile, torch_build_for_vendor
from advisor.facts.software import Software


@frozen
class Target:
    """The machine the advice is for. Empty means this machine."""

    gpu: str | None = None
    """A catalog GPU with an optional count (`T4`, `H100x8`), or `none`."""
    hardware_file: Path | None = None
    software_file: Path | None = None
    with_packages: tuple[str, ...] = ()
    """`NAME==VERSION` overlays (`NAME==none`: not installed) on the detected or profiled packages."""
    name: str | None = None
    """A label for matrix checks (e.g. `T4 / torch-2.5`)."""

    def __post_init__(self) -> None:
        for key in ("hardware_file", "software_file"):
            value = getattr(self, key)
            if isinstance(value, str):
                object.__setattr__(self, key, Path(value))
        object.__setattr__(self, "with_packages", tuple(self.with_packages))

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [self.gpu or (f"hardware {self.hardware_file}" if self.hardware_file else "this machine")]
        if self.software_file:
            parts.append(f"software {self.software_file}")
        parts.extend(self.with_packages)
        return " · ".join(parts)

    @property
    def is_this_machine(self) -> bool:
        """Whether the hardware is read here (no catalog GPU, no hardware profile)."""
        return self.gpu is None and self.hardware_file is None


def hardware_of(target: Target) -> Hardware:
    """The target's hardware: a catalog name, a profile file, or this machine through NVML."""
    if target.gpu is not None and target.hardware_file is not None:
        raise InputError("give either --gpu or --hardware, not both")
    if target.gpu is not None:
        return catalog_hardware(target.gpu)
    if target.hardware_file is not None:
        return hardware_profile(target.hardware_file)
    from advisor.facts.local_hardware import local_hardware  # NVML and pynvml only when this machine is read

    return local_hardware()


def software_of(target: Target, probe: bool = True) -> Software:
    """The target's packages: a profile file or this machine, with `--with` overlays on top.

    This machine's packages are probed here, for a catalog GPU too; the overlays leave unprobed only the
    imports they replace or change (`built_against`).
    """
    if target.software_file is not None:
        software = software_profile(target.software_file)
    else:
        software = detect_software(probe=probe, overlays=target.with_packages)
        if not target.is_this_machine:
            software = _as_gpu_target(software, _vendor(target))
    if target.with_packages:
        software = overlay(software, target.with_packages)
    return software


def _vendor(target: Target) -> str:
    """The vendor of the target's first GPU (nvidia when it names none)."""
    if target.gpu is not None:
        gpu, _ = parse_gpu_spec(target.gpu)
        return gpu.vendor if gpu is not None else "nvidia"
    if target.hardware_file is not None:
        gpus = hardware_profile(target.hardware_file).gpus
        return gpus[0].vendor if gpus else "nvidia"
    return "nvidia"


def _as_gpu_target(software: Software, vendor: str = "nvidia") -> Software:
    """This machine's packages describing another machine: a CPU-only torch here says nothing of the target.

    A CI runner has a CPU build of torch; the GPU target it checks for runs the build of the same version
    for its GPU's vendor: CUDA for NVIDIA, ROCm for AMD, the macOS arm64 wheel (MPS) for Apple silicon.
    Assume that build (and say so in the source) rather than report the runner's CPU build.
    """
    torch = software.package("torch").version.value
    if torch is None or software.torch.cuda.value or software.torch.hip.value:
        return software
    public = Version(torch.public)
    build = {"apple": "the macOS arm64 build", "amd": "a ROCm build"}.get(vendor, "a CUDA build")
    return replace(software, torch=torch_build_for_vendor(
        public, vendor, f"torch {public} installed here; {build} of it is assumed on the GPU target"))
