"""The GPU catalog (`rules/gpus.toml`): named GPUs, matched leniently, turned into hardware facts."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from advisor.core.data import data_path, read_toml
from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import frozen
from advisor.core.readfile import show
from advisor.facts.hardware import Gpu, Hardware, unknown_cpu

_NOISE = re.compile(r"\b(nvidia|geforce|tesla)\b")
_COUNT_SUFFIX = re.compile(r"^(?P<name>.+?)\s*[x×*:]\s*(?P<count>\d+)$", re.IGNORECASE)
_COUNT_PREFIX = re.compile(r"^(?P<count>\d+)\s*[x×*]\s*(?P<name>.+)$", re.IGNORECASE)
MAX_GPUS = 1024


@frozen
class CatalogGpu:
    """A GPU model as the catalog describes it."""

    name: str
    cc: tuple[int, int]
    memory_gib: float
    arch: str
    aliases: tuple[str, ...]

    @property
    def bf16(self) -> bool:
        return self.cc >= (8, 0)

    @property
    def fp8(self) -> bool:
        return self.cc >= (8, 9)


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
            major, minor = (int(p) for p in str(e["cc"]).split("."))
            out.append(CatalogGpu(str(e["name"]), (major, minor), float(e["memory_gib"]), str(e["arch"]),
                                  tuple(str(a) for a in e.get("aliases", []))))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: gpu #{i + 1} needs name, cc (like \"8.0\"), memory_gib and arch") from None
    return tuple(out)


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
    """Hardware facts for a catalog spec such as `H100x8` (free memory and CPU are not known)."""
    gpu, count = parse_gpu_spec(spec)
    source = f"catalog:{gpu.name if gpu else 'none'}"
    cpu = unknown_cpu("the target's CPU is not described by a GPU catalog name", source)
    if gpu is None:
        return Hardware(gpus=(), source=source, gpu_count=Fact.of(0, source), cpu=cpu)
    return Hardware(gpus=tuple(catalog_gpu(gpu, i, source) for i in range(count)), source=source,
                    gpu_count=Fact.of(count, source), cpu=cpu)


def catalog_gpu(gpu: CatalogGpu, index: int, source: str) -> Gpu:
    free: Fact[int] = Fact.unknown("a catalog profile has no free-memory reading", source)
    return Gpu(
        index=index,
        name=Fact.of(gpu.name, source),
        compute_capability=Fact.of(gpu.cc, source),
        memory_total_bytes=Fact.of(int(gpu.memory_gib * 2**30), source),
        memory_free_bytes=free,
        arch=Fact.of(gpu.arch, source),
        bf16=Fact.of(gpu.bf16, source),
        fp8=Fact.of(gpu.fp8, source),
        physical_index=Fact.of(index, source),
        mig=Fact.of(False, source),
        busy=Fact.of(False, source),
    )
