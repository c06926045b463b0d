"""Which probed imports a `--with` overlay changes: compiled extensions hold only for the torch they were built with.

The import probe answers for the packages installed here. An overlay replaces what it names and nothing else:
overlaying transformers leaves an installed flash-attn's probed import as it is. A probed answer becomes
meaningless only when the overlay names the package itself (its own fact replaces the probe's) or a package the
probed one was built against or loads by; then the import is unknown, with that overlay as the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.version import Version

from advisor.core.frozen import frozen
from advisor.facts.software import EXTENSION_MODULES, WHEEL_MODULES, normalize


@frozen
class BuiltAgainst:
    """A probed distribution or module whose import answer holds only for the `on` it was probed with."""

    probed: str
    """A distribution (`flash-attn`) or a top-level extension module (`fused_dense_lib`)."""
    on: str
    """The distribution whose overlay makes the probed answer meaningless."""
    why: str
    """What the overlay changes, with `{option}` for the overlay as written and `{name}` for `probed`."""
    evidence: str
    """Where upstream this is read."""


_BUILT = "{option} changes the torch that {name} was built against"
_FLASH_SETUP = "Dao-AILab/flash-attention setup.py: CUDAExtension(name=\"flash_attn_2_cuda\"), wheels tagged torch{X.Y}"

BUILT_AGAINST: tuple[BuiltAgainst, ...] = (
    BuiltAgainst("flash-attn", "torch", _BUILT, _FLASH_SETUP),
    BuiltAgainst("flash_attn_2_cuda", "torch", _BUILT, _FLASH_SETUP),
    BuiltAgainst("flash-attn-3", "torch", _BUILT,
                 "Dao-AILab/flash-attention hopper/setup.py: CUDAExtension(name=\"flash_attn_3._C\")"),
    BuiltAgainst("flash_attn_interface", "torch", _BUILT,
                 "Dao-AILab/flash-attention hopper/setup.py: flash_attn_interface imports flash_attn_3._C"),
    BuiltAgainst("xformers", "torch", _BUILT,
                 "facebookresearch/xformers xformers/_cpp_lib.py: torch.ops.load_library(_C), else "
                 "\"xFormers was built for: PyTorch … (you have …)\""),
    BuiltAgainst("bitsandbytes", "torch", "{option} changes the torch whose CUDA version picks the native "
                 "library {name} loads",
                 "bitsandbytes-foundation/bitsandbytes bitsandbytes/cuda_specs.py (torch.version.cuda) and "
                 "cextension.py (libbitsandbytes_cuda{NNN})"),
    *(BuiltAgainst(module, "torch", _BUILT, f"Dao-AILab/flash-attention csrc/{folder}/setup.py: "
                   f"CUDAExtension(name=\"{module}\")")
      for module, folder in (("rotary_emb", "rotary"), ("fused_dense_lib", "fused_dense_lib"),
                             ("dropout_layer_norm", "layer_norm"), ("xentropy_cuda_lib", "xentropy"))),
)
"""Each probed import and the distribution it was built against (torch for every compiled extension)."""
_PROBED = frozenset(dep.probed for dep in BUILT_AGAINST)


@frozen
class NotProbed:
    """Why one import is not probed here: the option that caused it, in words."""

    source: str
    """The option (`--with torch==2.9.0`)."""
    why: str

    @property
    def reason(self) -> str:
        return f"not probed: {self.why}"


def not_probed(overlays: Iterable[str], installed: Mapping[str, Version | None]) -> dict[str, NotProbed]:
    """Probed distribution or module → why OVERLAYS leave its import unprobed; what is not listed is probed.

    An overlay that names a probed distribution (or module) replaces its import fact itself; one that names
    what a probed import was built against (BUILT_AGAINST) makes that import unknown. An overlay naming the
    version INSTALLED here exactly changes nothing that was probed.
    """
    from advisor.facts.profiles import parse_with  # profiles (and its GPU catalog) only when there are overlays

    out: dict[str, NotProbed] = {}
    for spec in overlays:
        option = f"--with {spec.strip()}"
        module = spec.partition("==")[0].strip()
        if module in EXTENSION_MODULES:
            out[module] = NotProbed(option, f"{option} replaces it")
            continue
        name, version = parse_with(spec)
        key = normalize(name)
        if key in installed and installed[key] == version:
            continue
        for own in (key, *WHEEL_MODULES.get(key, ())):
            if own in _PROBED:
                out[own] = NotProbed(option, f"{option} replaces it")
        for dep in BUILT_AGAINST:
            if dep.on == key and dep.probed not in out:
                out[dep.probed] = NotProbed(option, dep.why.format(option=option, name=dep.probed))
    return out
