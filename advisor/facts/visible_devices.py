"""Which NVML devices CUDA will number 0, 1, … under `CUDA_VISIBLE_DEVICES`.

The model follows CUDA (and torch's `_parse_visible_devices`): unset means every device; an empty value
means none; entries are integer indices (read like `strtoul`, so `1gpu` is `1`), `GPU-<uuid>` or
`MIG-<uuid>` (a unique prefix of the UUID is enough); the first invalid entry ends the list; a device
named twice makes the list empty. A GPU in MIG mode is seen through its MIG instances, and a CUDA
process enumerates at most one MIG instance.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.core.frozen import frozen


@frozen
class PhysicalDevice:
    """An NVML device as far as visibility needs it."""

    index: int
    uuid: str | None
    mig_uuids: tuple[str | None, ...] | None = None
    """The UUIDs of its MIG instances when MIG mode is on; None when it is off or unknown."""


@frozen
class VisibleDevice:
    """One CUDA device: its CUDA index and the NVML device (and MIG instance) behind it."""

    cuda_index: int
    physical_index: int
    mig_slot: int | None = None
    """Position in the parent's `mig_uuids` when this is a MIG instance."""


@frozen
class Visibility:
    devices: tuple[VisibleDevice, ...]
    notes: tuple[str, ...] = ()


def map_visible(physical: Sequence[PhysicalDevice], cuda_visible_devices: str | None) -> Visibility:
    """Map NVML devices to CUDA indices under the given `CUDA_VISIBLE_DEVICES` value (None: unset)."""
    notes: list[str] = []
    picked: list[tuple[int, int | None]] = []
    if cuda_visible_devices is None:
        for p in physical:
            pick = _default_pick(p)
            if pick is not None:
                picked.append(pick)
            elif p.mig_uuids == ():
                notes.append(f"NVML device {p.index} is in MIG mode without instances: CUDA cannot use it")
    elif not cuda_visible_devices.strip():
        notes.append("CUDA_VISIBLE_DEVICES is empty: CUDA sees no GPU")
    else:
        picked = _parse(physical, cuda_visible_devices, notes)
    picked = _one_mig_instance(physical, picked, notes)
    devices = tuple(VisibleDevice(i, phys, slot) for i, (phys, slot) in enumerate(picked))
    if cuda_visible_devices is not None and cuda_visible_devices.strip():
        mapping = ", ".join(f"{d.cuda_index}→NVML {d.physical_index}" for d in devices) or "no GPU"
        notes.insert(0, f"CUDA_VISIBLE_DEVICES={cuda_visible_devices}: CUDA device {mapping}")
    return Visibility(devices, tuple(notes))


def _default_pick(p: PhysicalDevice) -> tuple[int, int | None] | None:
    """What CUDA enumerates for this device when nothing restricts it."""
    if p.mig_uuids is None:
        return (p.index, None)
    return (p.index, 0) if p.mig_uuids else None


def _parse(physical: Sequence[PhysicalDevice], value: str, notes: list[str]) -> list[tuple[int, int | None]]:
    by_index = {p.index: p for p in physical}
    picked: list[tuple[int, int | None]] = []
    for raw in value.split(","):
        entry = raw.strip()
        found: tuple[int, int | None] | None
        if entry.startswith("GPU-"):
            found = _match_gpu(physical, entry)
        elif entry.startswith("MIG-"):
            found = _match_mig(physical, entry)
        else:
            number = _strtoul(entry)
            phys = by_index.get(number) if number is not None else None
            found = _default_pick(phys) if phys is not None else None
        if found is None:
            notes.append(f"CUDA_VISIBLE_DEVICES entry {entry!r} matches no device: "
                         "it and the entries after it are ignored")
            break
        if found in picked:
            notes.append(f"CUDA_VISIBLE_DEVICES names {entry!r} twice: CUDA sees no GPU")
            return []
        picked.append(found)
    return picked


def _strtoul(entry: str) -> int | None:
    digits = ""
    for i, ch in enumerate(entry):
        if ch.isdigit() or (i == 0 and ch == "+"):
            digits += ch
        else:
            break
    digits = digits.lstrip("+")
    return int(digits) if digits else None


def _match_gpu(physical: Sequence[PhysicalDevice], entry: str) -> tuple[int, int | None] | None:
    hits = [p for p in physical if p.uuid is not None and p.uuid.startswith(entry)]
    return _default_pick(hits[0]) if len(hits) == 1 else None


def _match_mig(physical: Sequence[PhysicalDevice], entry: str) -> tuple[int, int | None] | None:
    hits = [(p.index, slot) for p in physical for slot, uuid in enumerate(p.mig_uuids or ())
            if uuid is not None and uuid.startswith(entry)]
    return hits[0] if len(hits) == 1 else None


def _one_mig_instance(physical: Sequence[PhysicalDevice], picked: list[tuple[int, int | None]],
                      notes: list[str]) -> list[tuple[int, int | None]]:
    """Keep only the first MIG instance: a CUDA process enumerates one at most."""
    kept: list[tuple[int, int | None]] = []
    seen_mig = False
    for phys, slot in picked:
        if slot is not None:
            if seen_mig:
                notes.append(f"a CUDA process uses one MIG instance at most: NVML device {phys} "
                             f"MIG instance {slot} is not visible")
                continue
            seen_mig = True
        kept.append((phys, slot))
    return kept
