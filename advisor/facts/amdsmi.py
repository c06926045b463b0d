"""This machine's AMD GPUs through the AMD SMI library's Python binding (`amdsmi`), numbered as HIP numbers them.

Like the NVML probe: a missing binding or library, an unloaded driver, or an error on one call or one GPU
makes that fact unknown with the reason, and the rest is still read. The binding binds libamd_smi.so when it
is imported and prints to stdout when it cannot find it (amdsmi 7.0.2 amdsmi_wrapper.py L198-209); that print
is caught here so that data on stdout stays clean.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from advisor.core.fact import Fact
from advisor.facts.gpu_catalog import CatalogGpu, find_gpu, load_catalog
from advisor.facts.hardware import Cpu, Gpu, Hardware
from advisor.facts.library_call import CallFailed, call, fact

SOURCE = "amdsmi"
LIBRARY = "libamd_smi.so"
GIB = 1024**3
BUSY_BASELINE_BYTES = GIB
"""VRAM in use on an idle GPU (driver and firmware reservations); more than this plus 1 % means a tenant."""
VISIBLE = ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
"""What a ROCm torch honours to hide GPUs; the first set one is applied here (integer lists only)."""


def probe_amdsmi(cpu: Cpu, env: Mapping[str, str] | None = None) -> Hardware | None:
    """The AMD GPUs here, or None when there is no AMD SMI to ask (no binding, no library)."""
    env = os.environ if env is None else env
    if not library_present(env):
        return None
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            import amdsmi  # the binding loads libamd_smi.so on import: only when this machine is read
    except Exception:  # ImportError, or KeyError when libamd_smi.so is missing (amdsmi_wrapper.py L211)
        return None
    try:
        amdsmi.amdsmi_init(amdsmi.AmdSmiInitFlags.INIT_AMD_GPUS)
    except Exception as exc:
        reason = _reason(exc)
        unknown: Fact[Any] = Fact.unknown(reason, SOURCE)
        return Hardware(gpus=(), source=SOURCE, gpu_count=unknown, cpu=cpu, driver_version=unknown,
                        cuda_driver_version=Fact(None, SOURCE), notes=(f"no AMD GPU facts: {reason}",),
                        macos=Fact(None, "platform"))
    try:
        return _read(amdsmi, env, cpu)
    finally:
        with contextlib.suppress(Exception):
            amdsmi.amdsmi_shut_down()


def library_present(env: Mapping[str, str], ld_cache: Path = Path("/etc/ld.so.cache")) -> bool:
    """Whether the binding could find libamd_smi.so where it looks (amdsmi 7.0.2 amdsmi_wrapper.py L179-197:
    $ROCM_HOME or $ROCM_PATH/lib, the dynamic loader, its own folder, ${ROCM_PATH:-/opt/rocm}/lib), checked
    without importing it: the import alone takes about 0.1 s, which a machine without AMD GPUs should not pay."""
    rocm = env.get("ROCM_HOME", env.get("ROCM_PATH"))
    folders = [Path(rocm) / "lib"] if rocm else []
    folders += [Path(p) for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    folders.append(Path(env.get("ROCM_PATH", "/opt/rocm")) / "lib")
    if any((folder / LIBRARY).is_file() for folder in folders):
        return True
    try:
        return LIBRARY.encode() in ld_cache.read_bytes()
    except OSError:
        return False


def _reason(exc: BaseException, call: str | None = None) -> str:
    info = getattr(exc, "get_error_info", None)
    text = info() if callable(info) else f"{type(exc).__name__}: {exc}"
    return f"AMD SMI: {text}" + (f" ({call})" if call else "")


def _call(lib: Any, fn: str, *args: Any) -> Any:
    return call(lib, fn, _reason, *args)


def _fact(read: Callable[[], Any]) -> Fact[Any]:
    return fact(read, SOURCE)


def _read(lib: Any, env: Mapping[str, str], cpu: Cpu) -> Hardware:
    handles: Fact[list[Any]] = _fact(lambda: list(_call(lib, "amdsmi_get_processor_handles")))
    if handles.value is None:
        return Hardware(gpus=(), source=SOURCE, gpu_count=Fact.unknown(handles.reason or "unknown", SOURCE),
                        cpu=cpu, cuda_driver_version=Fact(None, SOURCE), notes=(f"no GPU list: {handles.reason}",),
                        macos=Fact(None, "platform"))
    read = [_device(lib, h, i) for i, h in enumerate(handles.value)]
    read.sort(key=lambda d: d["hip"])
    notes: list[str] = []
    visible = _visible(env, len(read), notes)
    picked = [read[i] for i in visible] if visible is not None else read
    gpus = tuple(_gpu(i, d) for i, d in enumerate(picked))
    driver = next((d["driver"] for d in read if d["driver"].known), read[0]["driver"] if read else
                  Fact.unknown("there is no GPU", SOURCE))
    for d in picked:
        part = d["partition"]
        if part.value:
            notes.append(f"{d['name'].get('GPU')} (HIP {d['hip']}) is partitioned {part.value}: each logical "
                         "device has a part of the GPU's compute and memory")
    return Hardware(gpus=gpus, source=SOURCE, gpu_count=Fact.of(len(gpus), SOURCE), cpu=cpu,
                    driver_version=driver, cuda_driver_version=Fact(None, f"{SOURCE}: AMD GPUs have no CUDA driver"),
                    notes=tuple(notes), macos=Fact(None, "platform"))


def _visible(env: Mapping[str, str], count: int, notes: list[str]) -> list[int] | None:
    for name in VISIBLE:
        raw = env.get(name)
        if raw is None:
            continue
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            notes.append(f"{name}={raw!r} is not a list of indices; every GPU is reported")
            return None
        picked = [int(p) for p in parts if int(p) < count]
        if len(picked) < len(parts):
            notes.append(f"{name}={raw!r} names GPUs that do not exist; they are left out")
        return picked
    return None


def _device(lib: Any, handle: Any, position: int) -> dict[str, Any]:
    asic: Fact[dict[str, Any]] = _fact(lambda: _call(lib, "amdsmi_get_gpu_asic_info", handle))
    vram = lib.AmdSmiMemoryType.VRAM
    total: Fact[int] = _fact(lambda: int(_call(lib, "amdsmi_get_gpu_memory_total", handle, vram)))
    used: Fact[int] = _fact(lambda: int(_call(lib, "amdsmi_get_gpu_memory_usage", handle, vram)))
    enum: Fact[dict[str, Any]] = _fact(lambda: _call(lib, "amdsmi_get_gpu_enumeration_info", handle))
    hip = enum.value.get("hip_id") if enum.value else None
    procs: Fact[list[dict[str, Any]]] = _fact(lambda: _call(lib, "amdsmi_get_gpu_process_list", handle))
    try:
        partition: Fact[str] = Fact.of(str(_call(lib, "amdsmi_get_gpu_compute_partition", handle)), SOURCE)
    except CallFailed as exc:  # MI200 and RDNA answer NOT_SUPPORTED: not partitioned
        partition = Fact(None, str(exc))
    info = asic.value or {}
    name = info.get("market_name")
    gfx = info.get("target_graphics_version")
    return {
        "hip": hip if isinstance(hip, int) else position,
        "name": Fact.of(str(name), SOURCE) if name and name != "N/A" else Fact.unknown(
            asic.reason or "the GPU has no market name", SOURCE),
        "gfx": Fact.of(str(gfx), SOURCE) if isinstance(gfx, str) and gfx.startswith("gfx") else Fact.unknown(
            asic.reason or "the GPU reports no target graphics version", SOURCE),
        "total": total, "used": used, "procs": procs, "partition": partition,
        "driver": _fact(lambda: str(_call(lib, "amdsmi_get_gpu_driver_info", handle)["driver_version"])),
    }


def _gpu(index: int, d: dict[str, Any]) -> Gpu:
    name, gfx = d["name"], d["gfx"]
    entry = _catalog_entry(name.value, gfx.value)
    total, used = d["total"], d["used"]
    free: Fact[int] = (Fact.of(total.value - used.value, SOURCE) if total.value is not None and used.value is not None
                       else Fact.unknown(used.reason or total.reason or "unknown", SOURCE))
    where = f"{SOURCE} + catalog {entry.name}" if entry else SOURCE
    why = f"no catalog GPU has {gfx.value or 'this GPU'}'s"

    def trait(value: bool | None, what: str) -> Fact[bool]:
        if entry is None or value is None:
            return Fact.unknown(f"{why} {what} support established", where)
        return Fact.of(value, f"{where} ({gfx.value})")

    return Gpu(index=index, name=name, compute_capability=Fact(None, f"{SOURCE} (AMD GPUs have no CUDA compute "
                                                                      "capability)"),
               memory_total_bytes=total, memory_free_bytes=free, vendor="amd",
               arch=Fact.of(entry.arch, where) if entry else Fact.unknown(f"{why} architecture", SOURCE),
               gfx=gfx, bf16=trait(entry.bf16 if entry else None, "bfloat16"),
               fp8=trait(entry.fp8 if entry else None, "fp8"), physical_index=Fact.of(d["hip"], SOURCE),
               mig=Fact.of(False, f"{SOURCE}: AMD GPUs have no MIG (a compute partition is in the notes)"),
               busy=_busy(d), unified_memory=Fact.of(False, SOURCE))


def _catalog_entry(name: str | None, gfx: str | None) -> CatalogGpu | None:
    """The catalog GPU the probe found: by market name, else the first AMD entry with the same gfx."""
    if name:
        found = find_gpu(name)
        if found is not None and found.vendor == "amd" and (gfx is None or found.gfx == gfx):
            return found
    return next((g for g in load_catalog() if g.vendor == "amd" and g.gfx == gfx), None) if gfx else None


def _busy(d: dict[str, Any]) -> Fact[bool]:
    own = os.getpid()
    procs = [p for p in (d["procs"].value or []) if int(p.get("pid", 0)) != own]
    if procs:
        held = ", ".join(f"pid {p['pid']} holds {int(p.get('mem') or 0) / GIB:.1f} GiB" for p in procs)
        return Fact.of(True, f"{SOURCE}: processes ({held})")
    total, used = d["total"].value, d["used"].value
    if total is None or used is None:
        return Fact.unknown(d["used"].reason or d["total"].reason or "memory use unknown", SOURCE)
    text = f"{used / GIB:.1f} GiB of {total / GIB:.1f} GiB in use"
    if used > BUSY_BASELINE_BYTES + total // 100:
        return Fact.of(True, f"{SOURCE}: {text} with no process listed (another container or user)")
    listed = "no process" if d["procs"].known else "process list unknown"
    return Fact.of(False, f"{SOURCE}: {listed}, {text}")
