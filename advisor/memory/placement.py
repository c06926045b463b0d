"""Where each unit of weights lands: one GPU, several (balanced, like device_map="auto"), CPU or disk."""

from __future__ import annotations

from typing import Any

from advisor.core.frozen import field, frozen, record
from advisor.memory.overhead import CUDA_CONTEXT_BYTES, MARGIN


@frozen
class Device:
    """A GPU as CUDA numbers it, with what it has for the model."""

    index: int
    name: str
    capacity: int | None
    """Bytes available before loading: NVML free memory, or total minus the catalog reserve."""
    capacity_source: str
    device: int | str | None = None
    """What device_map names it by: its index, or `"mps"` (None: the index)."""

    @property
    def key(self) -> int | str:
        return self.index if self.device is None else self.device


@frozen
class Piece:
    """One placeable unit: its weights, the cache its layers hold, training state for its weights."""

    weights: int
    cache: int = 0
    extra: int = 0
    slack: int = 0
    """The estimate's own margin on these weights (0 for an exact count)."""

    @property
    def total(self) -> int:
        return self.weights + self.cache + self.extra + self.slack


@record
class Load:
    """What lands on one GPU."""

    weights: int = 0
    cache: int = 0
    extra: int = 0
    activations: int = 0
    context: int = 0
    slack: int = 0

    @property
    def margin(self) -> int:
        return int((self.weights + self.cache + self.extra + self.activations) * MARGIN)

    @property
    def total(self) -> int:
        return self.weights + self.cache + self.extra + self.activations + self.context + self.margin + self.slack

    @property
    def placed(self) -> int:
        """What its units take (`Piece.total` of each), before activations, context and margin."""
        return self.weights + self.cache + self.extra + self.slack

    def add(self, piece: Piece, n: int = 1) -> None:
        """N more units of PIECE."""
        self.weights += n * piece.weights
        self.cache += n * piece.cache
        self.extra += n * piece.extra
        self.slack += n * piece.slack


@record
class Placement:
    """The outcome: per-GPU loads (by position in the device list), CPU and disk bytes, and the verdict."""

    loads: dict[int, Load] = field(default_factory=dict)
    cpu: int = 0
    disk: int = 0
    fits: bool | None = None
    why: str = ""


def _budget(dev: Device, fixed: int) -> int | None:
    """Bytes of weights, cache and state a device takes once its context, activations and margin are set aside."""
    if dev.capacity is None:
        return None
    return int((dev.capacity - CUDA_CONTEXT_BYTES) / (1 + MARGIN)) - fixed


def on_one(pieces: list[Piece], dev: Device, pos: int, activations: int) -> Placement:
    """Everything on one GPU (`device_map={"": index}`)."""
    load = Load(activations=activations, context=CUDA_CONTEXT_BYTES)
    for p in pieces:
        load.add(p)
    out = Placement({pos: load})
    if dev.capacity is None:
        out.why = f"the memory of GPU {dev.index} is unknown"
        return out
    out.fits = load.total <= dev.capacity
    out.why = (f"GPU {dev.index} holds {gib(load.total)} of {gib(dev.capacity)} GiB" if out.fits else
               f"needs {gib(load.total)} GiB on GPU {dev.index}, which has {gib(dev.capacity)} GiB")
    return out


Runs = list[tuple[int, Piece]]
"""The units in order as runs: (how many in a row, the piece each of them is)."""


def spread(runs: Runs, devs: list[Device], activations: int, cpu_capacity: int | None,
           allow_cpu: bool = True) -> Placement:
    """Balanced over the GPUs in order, then CPU, then disk (what accelerate's "auto" does)."""
    out = Placement()
    if not devs:
        out.why = "there is no GPU"
        return on_cpu([Piece(n * p.weights, n * p.cache, n * p.extra, n * p.slack) for n, p in runs], cpu_capacity)
    budgets = [_budget(d, activations) for d in devs]
    if any(b is None for b in budgets):
        out.why = "the memory of a GPU is unknown"
        return out
    caps = [max(b or 0, 0) for b in budgets]
    reserve = 0
    for _ in range(4):  # an offloaded layer runs on the first GPU, so its cache is kept there
        loads, cpu, offloaded_cache = _fill(runs, caps, reserve)
        if offloaded_cache <= reserve:
            break
        reserve = offloaded_cache
    out.cpu = cpu
    for i, load in enumerate(loads):
        if load.weights or i == 0:
            load.activations, load.context = activations, CUDA_CONTEXT_BYTES
            out.loads[i] = load
    out.loads[0].cache += offloaded_cache
    if not allow_cpu and out.cpu:
        out.fits = False
        out.why = f"{gib(out.cpu)} GiB do not fit on the GPUs"
        return out
    if out.cpu and cpu_capacity is not None and out.cpu > cpu_capacity:
        out.disk, out.cpu = out.cpu - cpu_capacity, cpu_capacity
    over = [devs[i].index for i, ld in out.loads.items() if ld.total > (devs[i].capacity or 0)]
    out.fits = not out.cpu and not out.disk and not over
    if over:
        out.why = f"GPU {over[0]} would need more than it has"
    elif out.cpu or out.disk:
        out.why = f"{gib(out.cpu + out.disk)} GiB do not fit on the GPUs"
    else:
        out.why = f"spread over {len(out.loads)} GPU(s)"
    return out


def _fill(runs: Runs, caps: list[int], reserve: int) -> tuple[list[Load], int, int]:
    """Sequential fill towards proportional targets: loads, bytes left for the CPU, their cache.

    Unit by unit, a unit goes to the current GPU when it fits under that GPU's target, else the next GPU is
    tried; a run of equal units is placed as many at a time as fit (the same outcome in one step per GPU).
    """
    caps = [max(c - (reserve if i == 0 else 0), 0) for i, c in enumerate(caps)]
    total, room = sum(n * p.total for n, p in runs), sum(caps)
    biggest = max((p.total for n, p in runs if n), default=0)
    targets = [min(c, int(total * c / room) + biggest) if room else 0 for c in caps]
    loads = [Load() for _ in caps]
    pos = cpu = cache = 0
    for n, p in runs:
        size = p.total
        while n:
            while pos < len(caps) and loads[pos].placed + size > targets[pos]:
                pos += 1
            if pos == len(caps):
                cpu += n * (p.weights + p.extra + p.slack)
                cache += n * p.cache
                break
            k = n if size <= 0 else min(n, (targets[pos] - loads[pos].placed) // size)
            loads[pos].add(p, k)
            n -= k
    return loads, cpu, cache


def on_cpu(pieces: list[Piece], cpu_capacity: int | None) -> Placement:
    """No device_map: transformers loads on the CPU."""
    total = sum(p.total for p in pieces)
    out = Placement(cpu=total)
    if cpu_capacity is None:
        out.why = "the target's CPU memory is unknown"
    else:
        out.fits = total <= cpu_capacity
        out.why = f"needs {gib(total)} GiB of CPU memory, which has {gib(cpu_capacity)} GiB"
    return out


def gib(n: int | float) -> float:
    return round(n / (1 << 30), 2)


def single_gpu_index(device_map: Any) -> int | None:
    """The GPU a device_map puts everything on (`{"": 0}`, `0`, `"cuda:1"`), or None."""
    if isinstance(device_map, dict) and set(device_map) == {""}:
        device_map = device_map[""]
    if isinstance(device_map, int) and not isinstance(device_map, bool) and device_map >= 0:
        return device_map
    if device_map == "mps":  # Apple silicon has the one GPU
        return 0
    if isinstance(device_map, str) and device_map.startswith("cuda"):
        rest = device_map.removeprefix("cuda").removeprefix(":")
        return int(rest) if rest.isdigit() else 0 if not rest else None
    return None
