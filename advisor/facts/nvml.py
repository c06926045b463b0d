"""This machine's NVIDIA GPUs through NVML (`pynvml`), numbered as CUDA will number them.

Every NVML call is guarded: a missing library, an unloaded driver or an error on one call or one
device makes that fact unknown with the reason, and the rest is still read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from typing import Any

from advisor.core.fact import Fact
from advisor.core.frozen import field, record
from advisor.facts.capability import capability_traits
from advisor.facts.cpu import probe_cpu
from advisor.facts.hardware import Cpu, Gpu, Hardware
from advisor.facts.library_call import CallFailed, call, fact
from advisor.facts.visible_devices import PhysicalDevice, map_visible

SOURCE = "nvml"
GIB = 1024**3
BUSY_BASELINE_BYTES = GIB
"""Memory in use on an idle GPU (driver reservations); more than this plus 1% means another tenant."""
MIG_BUSY_BASELINE_BYTES = 256 * 1024**2


@record
class _Memory:
    total: int
    free: int
    used: int


@record
class _Device:
    """What NVML said about one physical device or MIG instance."""

    index: int
    name: Fact[str]
    uuid: Fact[str]
    cc: Fact[tuple[int, int]]
    memory: Fact[_Memory]
    mig: Fact[bool]
    processes: Fact[tuple[tuple[int, int | None], ...]]
    instances: list[_Device] | None = field(default=None)


def probe_nvml(env: Mapping[str, str] | None = None, cpu: Cpu | None = None) -> Hardware:
    """Read the GPUs CUDA will see (under `CUDA_VISIBLE_DEVICES` from `env`) and the driver."""
    env = os.environ if env is None else env
    cpu = probe_cpu() if cpu is None else cpu
    try:
        import pynvml
    except Exception as exc:  # an ImportError, or a broken module
        return _without_gpus(f"pynvml cannot be imported: {exc}", cpu)
    try:
        pynvml.nvmlInit()
    except Exception as exc:
        return _without_gpus(_reason(exc), cpu)
    try:
        return _read(pynvml, env, cpu)
    finally:
        with contextlib.suppress(Exception):
            pynvml.nvmlShutdown()


def _without_gpus(reason: str, cpu: Cpu) -> Hardware:
    unknown: Fact[Any] = Fact.unknown(reason, SOURCE)
    return Hardware(gpus=(), source=SOURCE, gpu_count=unknown, cpu=cpu, driver_version=unknown,
                    cuda_driver_version=unknown, notes=(f"no GPU facts: {reason}",))


def _reason(exc: BaseException, call: str | None = None) -> str:
    name = type(exc).__name__
    text = str(exc) if name.startswith("NVMLError") else f"{name}: {exc}"
    return f"NVML: {text}" + (f" ({call})" if call else "")


def _call(nvml: Any, fn: str, *args: Any) -> Any:
    return call(nvml, fn, _reason, *args)


def _fact(read: Callable[[], Any]) -> Fact[Any]:
    return fact(read, SOURCE)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def cuda_version_text(version: int) -> str:
    """NVML's integer CUDA version (12040) as `12.4`."""
    return f"{version // 1000}.{(version % 1000) // 10}"


def _read(nvml: Any, env: Mapping[str, str], cpu: Cpu) -> Hardware:
    driver: Fact[str] = _fact(lambda: _text(_call(nvml, "nvmlSystemGetDriverVersion")))
    cuda: Fact[str] = _fact(lambda: cuda_version_text(int(_call(nvml, "nvmlSystemGetCudaDriverVersion"))))
    count: Fact[int] = _fact(lambda: int(_call(nvml, "nvmlDeviceGetCount")))
    if count.value is None:
        return Hardware(gpus=(), source=SOURCE, gpu_count=count, cpu=cpu, driver_version=driver,
                        cuda_driver_version=cuda, notes=(f"no GPU list: {count.reason}",))
    devices = [_read_device(nvml, i) for i in range(count.value)]
    physical = [PhysicalDevice(d.index, d.uuid.value,
                               tuple(m.uuid.value for m in d.instances) if d.instances is not None else None)
                for d in devices]
    visibility = map_visible(physical, env.get("CUDA_VISIBLE_DEVICES"))
    gpus: list[Gpu] = []
    for visible in visibility.devices:
        parent = devices[visible.physical_index]
        if visible.mig_slot is None:
            gpus.append(_gpu(visible.cuda_index, parent, parent))
        else:
            assert parent.instances is not None
            gpus.append(_gpu(visible.cuda_index, parent.instances[visible.mig_slot], parent))
    notes = list(visibility.notes)
    notes.extend(_mig_note(d) for d in devices if d.instances)
    names = {g.name.value for g in gpus}
    if len(names) > 1 and env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
        notes.append("the GPUs differ and CUDA orders them fastest first by default: set "
                     "CUDA_DEVICE_ORDER=PCI_BUS_ID so CUDA indices follow NVML's order")
    if cuda.value is None and driver.value is not None:
        notes.append(f"the CUDA version the driver supports is unknown: {cuda.reason}")
    return Hardware(gpus=tuple(gpus), source=SOURCE, gpu_count=Fact.of(len(gpus), SOURCE), cpu=cpu,
                    driver_version=driver, cuda_driver_version=cuda, notes=tuple(notes))


def _read_device(nvml: Any, index: int) -> _Device:
    try:
        handle = _call(nvml, "nvmlDeviceGetHandleByIndex", index)
    except CallFailed as exc:
        unknown: Fact[Any] = Fact.unknown(str(exc), SOURCE)
        return _Device(index, unknown, unknown, unknown, unknown, unknown, unknown)
    device = _read_handle(nvml, index, handle)
    device.cc = _fact(lambda: tuple(int(v) for v in _call(nvml, "nvmlDeviceGetCudaComputeCapability",
                                                              handle)))
    device.processes = _fact(lambda: _processes(nvml, handle))
    device.mig = _mig_mode(nvml, handle)
    if device.mig.value:
        device.instances = _mig_instances(nvml, index, handle)
    return device


def _read_handle(nvml: Any, index: int, handle: Any) -> _Device:
    """Name, UUID and memory: the calls that work on a GPU and on a MIG instance alike."""
    not_read: Fact[Any] = Fact.unknown("not read", SOURCE)
    return _Device(
        index=index,
        name=_fact(lambda: _text(_call(nvml, "nvmlDeviceGetName", handle))),
        uuid=_fact(lambda: _text(_call(nvml, "nvmlDeviceGetUUID", handle))),
        cc=not_read,
        memory=_fact(lambda: _memory(nvml, handle)),
        mig=not_read,
        processes=not_read,
    )


def _memory(nvml: Any, handle: Any) -> _Memory:
    info = _call(nvml, "nvmlDeviceGetMemoryInfo", handle)
    return _Memory(int(info.total), int(info.free), int(info.used))


def _processes(nvml: Any, handle: Any) -> tuple[tuple[int, int | None], ...]:
    """Compute processes other than this one, as (pid, bytes used)."""
    procs = _call(nvml, "nvmlDeviceGetComputeRunningProcesses", handle)
    own = os.getpid()
    return tuple((int(p.pid), None if p.usedGpuMemory is None else int(p.usedGpuMemory))
                 for p in procs if int(p.pid) != own)


def _mig_mode(nvml: Any, handle: Any) -> Fact[bool]:
    try:
        current, _pending = _call(nvml, "nvmlDeviceGetMigMode", handle)
    except CallFailed as exc:
        if "Not Supported" in str(exc):
            return Fact.of(False, f"{SOURCE}: MIG not supported")
        return Fact.unknown(str(exc), SOURCE)
    return Fact.of(bool(current), SOURCE)


def _mig_instances(nvml: Any, index: int, handle: Any) -> list[_Device] | None:
    try:
        slots = int(_call(nvml, "nvmlDeviceGetMaxMigDeviceCount", handle))
    except CallFailed:
        return None
    found: list[_Device] = []
    for slot in range(slots):
        try:
            mig_handle = _call(nvml, "nvmlDeviceGetMigDeviceHandleByIndex", handle, slot)
        except CallFailed:
            continue  # an empty slot answers Not Found
        instance = _read_handle(nvml, index, mig_handle)
        instance.mig = Fact.of(True, SOURCE)
        found.append(instance)
    return found


def _gpu(cuda_index: int, device: _Device, parent: _Device) -> Gpu:
    cc = parent.cc
    arch, bf16, fp8 = capability_traits(cc)
    memory = device.memory
    total: Fact[int] = _part(memory, lambda m: m.total)
    free: Fact[int] = _part(memory, lambda m: m.free)
    return Gpu(index=cuda_index, name=device.name, compute_capability=cc, memory_total_bytes=total,
               memory_free_bytes=free, arch=arch, bf16=bf16, fp8=fp8, uuid=device.uuid,
               physical_index=Fact.of(parent.index, SOURCE), mig=device.mig,
               busy=_busy(device, mig_instance=device is not parent))


def _mig_note(device: _Device) -> str:
    parts = []
    for m in device.instances or ():
        size = f"{m.memory.value.total / GIB:.1f} GiB" if m.memory.value is not None else "memory unknown"
        parts.append(f"{m.uuid.get('?')} {m.name.get('?')} ({size})")
    return f"NVML device {device.index} is in MIG mode with {len(parts)} instance(s): " + "; ".join(parts)


def _part(memory: Fact[_Memory], pick: Callable[[_Memory], int]) -> Fact[int]:
    if memory.value is None:
        return Fact.unknown(memory.reason or "memory unknown", memory.source)
    return Fact.of(pick(memory.value), memory.source)


def _busy(device: _Device, mig_instance: bool) -> Fact[bool]:
    """Another process holds memory: a compute process is listed, or far more memory is used than idle."""
    procs = device.processes.value
    if procs:
        held = ", ".join(f"pid {pid}" + (f" holds {used / GIB:.1f} GiB" if used else "")
                         for pid, used in procs)
        return Fact.of(True, f"{SOURCE}: compute processes ({held})")
    memory = device.memory.value
    if memory is None:
        if device.processes.known and not mig_instance:
            return Fact.of(False, f"{SOURCE}: no compute process (memory use unknown)")
        reason = device.memory.reason or "memory use unknown"
        return Fact.unknown(reason, SOURCE)
    baseline = (MIG_BUSY_BASELINE_BYTES if mig_instance else BUSY_BASELINE_BYTES) + memory.total // 100
    used = f"{memory.used / GIB:.1f} GiB of {memory.total / GIB:.1f} GiB in use"
    if memory.used > baseline:
        return Fact.of(True, f"{SOURCE}: {used} with no process listed (another container or user)")
    listed = "no compute process" if device.processes.known else "process list unknown"
    return Fact.of(False, f"{SOURCE}: {listed}, {used}")
