"""All the facts one answer is computed from: hardware, software, model and request."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from advisor.core.fact import Fact
from advisor.core.frozen import asdict, field, frozen, is_value
from advisor.facts.hardware import Hardware
from advisor.facts.model import ModelFacts
from advisor.facts.software import Software

DTYPES = ("auto", "bfloat16", "float16", "float32")
TASKS = ("inference", "training")


@frozen
class Request:
    """What the user wants to do with the model."""

    dtype: str = "auto"
    task: str = "inference"
    context: int | None = None
    batch: int = 1
    offline: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"dtype": self.dtype, "task": self.task, "context": self.context, "batch": self.batch,
                "offline": self.offline}


@frozen
class Facts:
    """The inputs of the rules, each with its source."""

    hardware: Hardware
    software: Software
    model: ModelFacts
    request: Request
    transformers: Fact[Version]
    """The target transformers version: installed, from a profile, or from `--with`."""
    arch: Fact[Any]
    """`ArchSupport` of the target transformers for this model (see transformers_support)."""
    remote: Any | None = None
    """`RemoteCode` read from the model's remote code files, when it has any."""
    extra: dict[str, Fact[Any]] = field(default_factory=dict)
    """Further named facts that read nothing of the hardware (rules read them as written, e.g.
    `transformers.default_dtype`)."""
    gpu_extra: dict[str, Fact[Any]] = field(default_factory=dict)
    """Further named facts derived from the hardware with the rest (`torch.runs_on_gpu`, `quant.dequantized`):
    kept apart, so that what reads nothing of the hardware is shared by every GPU target of a matrix."""

    def fact(self, name: str) -> Fact[Any] | None:
        """The further fact NAME (`extra` or `gpu_extra`), None when there is none."""
        found = self.gpu_extra.get(name)
        return found if found is not None else self.extra.get(name)

    def to_json(self) -> dict[str, Any]:
        arch = self.arch.value
        return {
            "hardware": self.hardware.to_json(),
            "software": self.software.to_json(),
            "model": self.model.summary(),
            "request": self.request.to_json(),
            "transformers": self.transformers.to_json(),
            "architecture_support": (_plain(arch) if arch is not None else None)
            if self.arch.known else {"unknown": self.arch.reason, "source": self.arch.source},
            **{k: v.to_json() for k, v in sorted({**self.extra, **self.gpu_extra}.items())},
        }


def _plain(obj: Any) -> Any:
    return asdict(obj) if is_value(obj) else str(obj)
