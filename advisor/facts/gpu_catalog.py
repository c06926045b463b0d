"""The GPU catalog (`rules/gpus.toml`): named GPUs, matched leniently, turned into hardware facts."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from advisor.core.data import data_path, read_toml
from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import frozen
from advisor.core.readfile import show
from advisor.facts.hardware import Cpu, Gpu, Hardware, unknown_cpu

_NOISE = re.compile(r"\b(nvidia|geforce|tesla|amd|instinct|radeon|apple)\b")
_COUNT_SUFFIX = re.compile(r"^(?P<name>.+?)\s*[x×*:]\s*(?P<count>\d+)$", re.IGNORECASE)
_COUNT_PREFIX = re.compile(r"^(?P<count>\d+)\s*[x×*]\s*(?P<name>.+)$", re.IGNORECASE)
MAX_GPUS = 1024


VENDORS = ("nvidia", "amd", "apple")


@frozen
class CatalogGpu:
    """A GPU model as the catalog describes it.

    NVIDIA GPUs have a compute capability; AMD GPUs an LLVM target (`gfx`) instead; Apple silicon a
    Metal GPU family in `arch` and the machine's unified memory in `memory_gib`.
    """

    name: str
    cc: tuple[int, int] | None
    memory_gib: float
    arch: str
    aliases: tuple[str, ...]
    vendor: str = "nvidia"
    gfx: str | None = None
    bf16_native: bool | None = None
    """Set by the catalog for AMD and Apple; None there means not established. NVIDIA: from the cc."""
    fp8_format: str | None = None
    """The fp8 encoding the matrix units take (`e4m3fn`, `e4m3fnuz`), `""` for none, None if unknown."""
    devices: int = 1
    """Devices one board shows to torch (MI250: two GCDs)."""

    @property
    def unified(self) -> bool:
        return self.vendor == "apple"

    @property
    def bf16(self) -> bool | None:
        if self.cc is not None:
            return self.cc >= (8, 0)
        return self.bf16_native

    @property
    def fp8(self) -> bool | None:
        if self.cc is not None:
            return self.cc >= (8, 9)
        return None if self.fp8_format is None else bool(self.fp8_format)

    @property
    def capability(self) -> str:
        """What gates kernels on it, for people: `cc 8.0`, `gfx942`, `Apple9`."""
        if self.cc is not None:
            return f"cc {self.cc[0]}.{self.cc[1]}"
        return self.gfx or self.arch


def normalize(name: str) -> str:
    """Fold a GPU name to letters and digits without vendor words: `NVIDIA A100-SXM4-80GB` → `a100sxm480gb`."""
    return re.sub(r"[^a-z0-9]", "", _NOISE.sub("", name.lower()))


@cache
def load_catalog(path: Path | None = None) -> tuple[CatalogGpu, ...]:
    path = path or data_path("gpus.toml")
    entries = read_toml(path).get("gpu")
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected [[gpu]] tables")
    out: list[CatalogGpu] = []
    for i, e in enumerate(entries):
        try:
            out.extend(_entries(e))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: gpu #{i + 1} needs name, cc (like \"8.0\") or vendor, memory_gib (or "
                             "memory_options) and arch") from None
    return tuple(out)


def _entries(e: dict[str, Any]) -> list[CatalogGpu]:
    vendor = str(e.get("vendor", "nvidia"))
    if vendor not in VENDORS:
        raise ValueError(vendor)
    name, arch = str(e["name"]), str(e["arch"])
    aliases = tuple(str(a) for a in e.get("aliases", []))
    cc: tuple[int, int] | None = None
    if vendor == "nvidia":
        major, minor = (int(p) for p in str(e["cc"]).split("."))
        cc = (major, minor)
    bf16, fp8 = e.get("bf16"), e.get("fp8")
    fp8_format = None if fp8 is None else ("" if fp8 is False else "e4m3fn" if fp8 is True else str(fp8))
    gfx = str(e["gfx"]) if "gfx" in e else None
    bf16_native = bool(bf16) if bf16 is not None else None
    devices = int(e.get("devices", 1))

    def entry(entry_name: str, memory: float, names: tuple[str, ...]) -> CatalogGpu:
        return CatalogGpu(entry_name, cc, memory, arch, names, vendor, gfx, bf16_native, fp8_format, devices)

    if "memory_options" in e:  # one name per unified-memory configuration: M3-Max-64GB
        spelled = (name.replace("-", " "), f"Apple {name}", *aliases)
        return [entry(f"{name}-{gb}GB", float(gb), tuple(f"{a}-{gb}GB" for a in spelled))
                for gb in e["memory_options"]]
    return [entry(name, float(e["memory_gib"]), aliases)]


@cache
def _index() -> dict[str, CatalogGpu]:
    index: dict[str, CatalogGpu] = {}
    for gpu in load_catalog():
        for alias in (gpu.name, *gpu.aliases):
            index.setdefault(normalize(alias), gpu)
    return index


def find_gpu(name: str) -> CatalogGpu | None:
    """The catalog entry for a GPU name, matched leniently (case, vendor words, punctuation, suffixes)."""
    key = normalize(name)
    if not key:
        return None
    index = _index()
    if key in index:
        return index[key]
    # An abbreviation of exactly one GPU: `a10080g` → A100-80GB.
    longer = {index[k].name: index[k] for k in index if k.startswith(key) and len(key) >= 3}
    if len(longer) == 1:
        return next(iter(longer.values()))
    # A longer name whose extra part says nothing about the model: `a10gpcie` → A10G. Extra digits
    # (a memory size, a variant) could contradict the entry, so they do not match.
    shorter = [k for k in index if key.startswith(k) and len(k) >= 2 and not any(c.isdigit() for c in key[len(k):])]
    return index[max(shorter, key=len)] if shorter else None


def closest(name: str, n: int = 3) -> list[str]:
    """Catalog names that look like NAME, for the error message."""
    names = {normalize(g.name): g.name for g in load_catalog()}
    for g in load_catalog():
        for a in g.aliases:
            names.setdefault(normalize(a), g.name)
    import difflib  # only for a name that is not in the catalog

    hits = difflib.get_close_matches(normalize(name), list(names), n=n * 3, cutoff=0.4)
    return list(dict.fromkeys(names[h] for h in hits))[:n]


MAX_SPEC_CHARS = 64
"""A GPU spec longer than this is no catalog name (and is not compared with every one for a hint)."""


def parse_gpu_spec(spec: str) -> tuple[CatalogGpu | None, int]:
    """`H100x8`, `8xH100`, `a100-80gb`, `none` → (catalog entry, count); InputError if unknown."""
    text = spec.strip()
    if text.lower() in ("none", "cpu", "0"):
        return None, 0
    if len(text) > MAX_SPEC_CHARS:
        raise InputError(f"unknown GPU '{show(spec)}': a GPU name is at most {MAX_SPEC_CHARS} characters "
                         "(`advisor gpus` lists the catalog)")
    count = 1
    gpu = find_gpu(text)
    m = None if gpu is not None else _COUNT_SUFFIX.match(text) or _COUNT_PREFIX.match(text)
    if m is not None:
        gpu = find_gpu(m.group("name"))
        digits = m.group("count")
        count = int(digits) if len(digits) <= 6 else MAX_GPUS + 1  # never converts thousands of digits
    if gpu is None:
        near = closest(text)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise InputError(f"unknown GPU '{show(spec)}'{hint} (`advisor gpus` lists the catalog; `none` means no GPU)")
    if not 1 <= count <= MAX_GPUS:
        raise InputError(f"GPU count in '{show(spec)}' must be between 1 and {MAX_GPUS}")
    return gpu, count


def catalog_hardware(spec: str) -> Hardware:
    """Hardware facts for a catalog spec such as `H100x8` (free memory and CPU are not known).

    A count counts boards: `MI250x4` is eight devices. Apple silicon is one machine: its CPU memory is the
    same unified memory, and its macOS release is not known from the name.
    """
    gpu, count = parse_gpu_spec(spec)
    source = f"catalog:{gpu.name if gpu else 'none'}"
    cpu = unknown_cpu("the target's CPU is not described by a GPU catalog name", source)
    if gpu is None:
        return Hardware(gpus=(), source=source, gpu_count=Fact.of(0, source), cpu=cpu)
    macos: Fact[str] = Fact.unknown("a catalog name does not say which OS the target runs", source)
    if gpu.unified:
        if count != 1:
            raise InputError(f"{spec!r}: Apple silicon is one machine with one GPU; give no count")
        total = int(gpu.memory_gib * 2**30)
        cpu = Cpu(Fact.unknown("the catalog does not list CPU cores", source), Fact.of(total, source),
                  Fact.unknown("the catalog does not list the CPU's instructions", source))
        macos = Fact.unknown("a catalog name does not say which macOS release runs", source)
    devices = count * gpu.devices
    return Hardware(gpus=tuple(catalog_gpu(gpu, i, source) for i in range(devices)), source=source,
                    gpu_count=Fact.of(devices, source), cpu=cpu, macos=macos)


def catalog_gpu(gpu: CatalogGpu, index: int, source: str) -> Gpu:
    free: Fact[int] = Fact.unknown("a catalog profile has no free-memory reading", source)
    cc: Fact[tuple[int, int]] = Fact.of(gpu.cc, source) if gpu.cc is not None else Fact(
        None, f"{source} ({gpu.vendor} GPUs have no CUDA compute capability)")
    return Gpu(
        index=index,
        name=Fact.of(gpu.name, source),
        compute_capability=cc,
        memory_total_bytes=Fact.of(int(gpu.memory_gib * 2**30), source),
        memory_free_bytes=free,
        vendor=gpu.vendor,
        arch=Fact.of(gpu.arch, source),
        gfx=Fact(gpu.gfx, source),
        bf16=_trait(gpu.bf16, "bfloat16", source),
        fp8=_trait(gpu.fp8, "fp8", source),
        physical_index=Fact.of(index, source),
        mig=Fact.of(False, source),
        busy=Fact.of(False, source),
        unified_memory=Fact.of(gpu.unified, source),
    )


def _trait(value: bool | None, what: str, source: str) -> Fact[bool]:
    if value is None:
        return Fact.unknown(f"the catalog has no established {what} support for this GPU", source)
    return Fact.of(value, source)
