"""What the TUI asks for (`Inputs`) and what it shows (`Advice`), computed through the Python API.

No Textual here: the app calls `Session.advise` in a worker thread. The session keeps the model source,
hardware and software it has read, so changing the GPU does not read the config again and changing a
package does not re-read the GPU.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from advisor.api import (
    Facts,
    Hardware,
    ModelSource,
    Recommendation,
    Request,
    Software,
    Target,
    facts_for,
    hardware_facts,
    is_local_model,
    load_source,
    recommend,
    software_facts,
    split_gpu_spec,
    validate_request,
    what_would_change,
)
from advisor.core.frozen import field, frozen, replace

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==")


def package_key(spec: str) -> str:
    """The normalised package name of a `NAME==VERSION` overlay (`Flash_Attn==2` → `flash-attn`)."""
    m = _NAME.match(spec)
    name = m.group(1) if m else spec.strip()
    return re.sub(r"[-_.]+", "-", name).lower()


@frozen
class Inputs:
    """What the person asks about: a model and revision, and the API's own `Target` and `Request`."""

    model: str | None = None
    revision: str | None = None
    target: Target = field(default_factory=Target)
    """As opened or chosen; a catalog GPU chosen in the app wins over a hardware profile it was opened with."""
    request: Request = field(default_factory=Request)

    @classmethod
    def of(cls, model: str | None = None, revision: str | None = None, gpu: str | None = None, gpu_count: int = 1,
           hardware_file: Path | None = None, software_file: Path | None = None,
           with_packages: tuple[str, ...] = (), **request: Any) -> Inputs:
        """Inputs from the sidebar's fields (request fields by their `Request` names)."""
        target = Target(gpu=_gpu_spec(gpu, gpu_count), hardware_file=hardware_file, software_file=software_file,
                        with_packages=tuple(with_packages))
        return cls(model, revision, target, Request(**request))

    @property
    def gpu(self) -> str | None:
        """The catalog GPU name (or `none`, or a name as written); None means this machine or the profile."""
        return split_gpu_spec(self.target.gpu)[0]

    @property
    def gpu_count(self) -> int:
        return split_gpu_spec(self.target.gpu)[1]

    @property
    def hardware_file(self) -> Path | None:
        return self.target.hardware_file

    @property
    def software_file(self) -> Path | None:
        return self.target.software_file

    @property
    def with_packages(self) -> tuple[str, ...]:
        return self.target.with_packages

    @property
    def dtype(self) -> str:
        return self.request.dtype

    @property
    def task(self) -> str:
        return self.request.task

    @property
    def context(self) -> int | None:
        return self.request.context

    @property
    def batch(self) -> int:
        return self.request.batch

    def changed(self, **changes: Any) -> Inputs:
        """These inputs with the sidebar's fields CHANGES (`model`, `gpu`, `gpu_count`, request fields)."""
        model = changes.pop("model", self.model)
        gpu, count = changes.pop("gpu", self.gpu), changes.pop("gpu_count", self.gpu_count)
        target = replace(self.target, gpu=_gpu_spec(gpu, count))
        return Inputs(model, self.revision, target, replace(self.request, **changes))

    def api_target(self) -> Target:
        """The target to compute for: a chosen GPU replaces the hardware profile."""
        return replace(self.target, hardware_file=None) if self.target.gpu else self.target

    def with_package(self, spec: str) -> Inputs:
        """These inputs with the overlay SPEC (`NAME==VERSION` or `NAME==none`) replacing any for NAME."""
        key = package_key(spec)
        kept = tuple(s for s in self.with_packages if package_key(s) != key)
        return replace(self, target=replace(self.target, with_packages=(*kept, spec.strip())))

    def without_package(self, name: str) -> Inputs:
        """These inputs without an overlay for NAME (back to the detected or profiled version)."""
        key = package_key(name)
        kept = tuple(s for s in self.with_packages if package_key(s) != key)
        return replace(self, target=replace(self.target, with_packages=kept))

    def overlay_for(self, name: str) -> str | None:
        key = package_key(name)
        return next((s for s in self.with_packages if package_key(s) == key), None)


def _gpu_spec(gpu: str | None, count: int) -> str | None:
    """The `--gpu` spec for a name and a count (`H100`, 8 → `H100x8`)."""
    if gpu is None or count == 1 or gpu.lower() == "none":
        return gpu
    return f"{gpu}x{count}"


@frozen
class Advice:
    """One computed answer: the facts, the recommendation, and each rejecting rule's fix in words."""

    inputs: Inputs
    hardware: Hardware
    software: Software
    facts: Facts | None
    recommendation: Recommendation | None
    fixes: dict[str, str] = field(default_factory=dict)
    """Rule id → its fix rendered against these facts ("what would change that")."""
    seconds: float = 0.0

    def facts_json(self) -> dict[str, Any]:
        if self.facts is not None:
            return self.facts.to_json()
        return {"hardware": self.hardware.to_json(), "software": self.software.to_json()}


class Session:
    """Computes `Advice` for `Inputs`, reusing the model, hardware and software already read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str | None, bool], ModelSource] = {}
        self._hardware: dict[tuple[str | None, Path | None], Hardware] = {}
        self._software: dict[Target, Software] = {}

    def advise(self, inputs: Inputs) -> Advice:
        """The advice for INPUTS; raises `AdvisorError` for input the API refuses."""
        start = time.perf_counter()
        request = validate_request(inputs.request)
        target = inputs.api_target()
        hw_key = (target.gpu, target.hardware_file)
        with self._lock:
            hardware = self._hardware.get(hw_key)
        if hardware is None:
            hardware = hardware_facts(target)
            with self._lock:
                self._hardware[hw_key] = hardware
        sw_key = replace(target, gpu="target" if not target.is_this_machine else None, hardware_file=None)
        with self._lock:
            software = self._software.get(sw_key)
        if software is None:
            software = software_facts(target)
            with self._lock:
                self._software[sw_key] = software
        if not inputs.model:
            return Advice(inputs, hardware, software, None, None, seconds=time.perf_counter() - start)
        source = self._model(inputs)
        facts = facts_for(source, hardware, software, request)
        rec = recommend(facts)
        return Advice(inputs, hardware, software, facts, rec, what_would_change(facts, rec),
                      time.perf_counter() - start)

    def _model(self, inputs: Inputs) -> ModelSource:
        """The model source; a local config is read each time (it may have been edited), a Hub one once."""
        assert inputs.model is not None
        key = (inputs.model.strip(), inputs.revision, inputs.request.offline)
        if is_local_model(key[0]):
            return load_source(key[0], revision=inputs.revision, offline=inputs.request.offline)
        with self._lock:
            found = self._models.get(key)
        if found is None:
            found = load_source(key[0], revision=inputs.revision, offline=inputs.request.offline)
            with self._lock:
                self._models[key] = found
        return found
