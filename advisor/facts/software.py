"""Software facts: installed distributions and modules, read without importing torch."""

from __future__ import annotations

from functools import cache
from typing import Any

from packaging.version import Version

from advisor.core.fact import Fact
from advisor.core.frozen import field, frozen

RELEVANT_DISTS = (
    "torch", "transformers", "accelerate", "flash-attn", "flash-attn-3", "flash-attn-4", "bitsandbytes",
    "xformers", "optimum", "kernels", "triton", "einops", "auto-gptq", "gptqmodel", "autoawq", "peft",
    "safetensors", "huggingface-hub", "compressed-tensors", "deepspeed",
)
"""Distributions whose presence and version the rules read (`pkg.flash_attn`)."""

EXTENSION_MODULES = (
    "flash_attn_2_cuda", "flash_attn_interface", "rotary_emb", "fused_dense_lib", "dropout_layer_norm",
    "xentropy_cuda_lib",
)
"""Top-level compiled modules that flash-attn features need (`module.fused_dense_lib`)."""

WHEEL_MODULES = {"flash-attn": ("flash_attn_2_cuda",), "flash-attn-3": ("flash_attn_interface",)}
"""Extension modules that come inside a distribution's own wheel."""


@frozen
class Package:
    """A distribution: its version (None when known to be absent) and whether it really imports."""

    name: str
    version: Fact[Version]
    imports: Fact[bool] = field(default_factory=lambda: Fact.unknown("not probed", "none"))
    import_error: str | None = None
    """First line of the error when the import probe failed."""

    @property
    def installed(self) -> bool:
        return self.version.value is not None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version.to_json(), "imports": self.imports.to_json()}
        if self.import_error:
            out["import_error"] = self.import_error
        return out


@frozen
class TorchBuild:
    """What the installed torch was built for."""

    cuda: Fact[str]
    """CUDA version torch was built with (`12.8`), None for a CPU or ROCm build."""
    hip: Fact[str]
    archs: Fact[tuple[str, ...]]
    """GPU architectures in the wheel, as `sm_80` strings."""
    mps: Fact[bool] = field(default_factory=lambda: Fact.unknown("not read", "none"))
    """A macOS arm64 wheel: its version says CPU, yet it drives Apple GPUs through MPS."""

    def to_json(self) -> dict[str, Any]:
        return {"cuda": self.cuda.to_json(), "hip": self.hip.to_json(), "archs": self.archs.to_json(),
                "mps": self.mps.to_json()}


def unknown_torch_build(reason: str, source: str) -> TorchBuild:
    return TorchBuild(Fact.unknown(reason, source), Fact.unknown(reason, source), Fact.unknown(reason, source),
                      Fact.unknown(reason, source))


@frozen
class Software:
    """The target's packages and extension modules."""

    packages: dict[str, Package]
    """By normalised distribution name (`flash-attn`, `transformers`)."""
    modules: dict[str, Fact[bool]]
    """Importable top-level modules that flash-attn features need (`fused_dense_lib`, ...)."""
    source: str
    python: Fact[str]
    torch: TorchBuild
    unprobed: dict[str, str] = field(default_factory=dict)
    """Installed distributions and modules whose import was not probed here → why (naming the option)."""

    @property
    def unprobed_note(self) -> str | None:
        """One sentence for people when answers rest on imports not probed here; None when none do."""
        if not self.unprobed:
            return None
        inside = {m for d in self.unprobed for m in WHEEL_MODULES.get(d, ())}  # said with their distribution
        return "answers rest on imports not probed here (taken as unknown): " + "; ".join(
            f"{name} ({why})" for name, why in sorted(self.unprobed.items()) if name not in inside)

    def package(self, name: str) -> Package:
        """The package by name; a package advisor never looked at is unknown, not absent."""
        key = normalize(name)
        found = self.packages.get(key)
        if found is not None:
            return found
        return Package(key, Fact.unknown(f"{key} was not among the packages read", self.source))

    def version(self, name: str) -> Version | None:
        return self.package(name).version.value

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "source": self.source,
            "python": self.python.to_json(),
            "packages": {k: v.to_json() for k, v in sorted(self.packages.items())},
            "modules": {k: v.to_json() for k, v in sorted(self.modules.items())},
            "torch": self.torch.to_json(),
        }
        if self.unprobed:
            out["unprobed"] = dict(sorted(self.unprobed.items()))
            out["note"] = self.unprobed_note
        return out


@cache
def normalize(name: str) -> str:
    """PEP 503 normalisation of a distribution name (remembered: every package lookup asks)."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()
