"""What the TUI asks for (`Inputs`) and what it shows (`Advice`), computed through the Python API.

No Textual here: the app calls `Session.advise` in a worker thread. The session keeps the model source,
hardware and software it has read, so changing the GPU does not read the config again and changing a
package does not re-read the GPU.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.frozen import frozen

if TYPE_CHECKING:
    from advisor.api import Target
    from advisor.facts.bundle import Facts, Request
    from advisor.facts.hardware import Hardware
    from advisor.facts.model_source import ModelSource
    from advisor.facts.software import Software
    from advisor.recommendation import Recommendation

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==")


def package_key(spec: str) -> str:
    """The normalised package name of a `NAME==VERSION` overlay (`Flash_Attn==2` → `flash-attn`)."""
    m = _NAME.match(spec)
    name = m.group(1) if m else spec.strip()
    return re.sub(r"[-_.]+", "-", name).lower()


@frozen
class Inputs:
    """Everything the person can change: model, target machine, package overlays and request."""

    model: str | None = None
    revision: str | None = None
    gpu: str | None = None
    """A catalog GPU name (or any `--gpu` spec, `none` included); None means this machine."""
    gpu_count: int = 1
    hardware_file: Path | None = None
    software_file: Path | None = None
    with_packages: tuple[str, ...] = ()
    dtype: str = "auto"
    task: str = "inference"
    context: int | None = None
    batch: int = 1
    offline: bool = False

    @property
    def gpu_spec(self) -> str | None:
        """The `--gpu` spec: the name with its count (`H100x8`)."""
        if self.gpu is None or self.gpu_count == 1 or self.gpu.lower() == "none":
            return self.gpu
        return f"{self.gpu}x{self.gpu_count}"

    def target(self) -> Target:
        from advisor.api import Target

        return Target(gpu=self.gpu_spec, hardware_file=None if self.gpu else self.hardware_file,
                      software_file=self.software_file, with_packages=self.with_packages)

    def request(self) -> Request:
        from advisor.facts.bundle import Request

        return Request(dtype=self.dtype, task=self.task, context=self.context, batch=self.batch,
                       offline=self.offline)

    def with_package(self, spec: str) -> Inputs:
        """These inputs with the overlay SPEC (`NAME==VERSION` or `NAME==none`) replacing any for NAME."""
        key = package_key(spec)
        kept = tuple(s for s in self.with_packages if package_key(s) != key)
        return replace(self, with_packages=(*kept, spec.strip()))

    def without_package(self, name: str) -> Inputs:
        """These inputs without an overlay for NAME (back to the detected or profiled version)."""
        key = package_key(name)
        return replace(self, with_packages=tuple(s for s in self.with_packages if package_key(s) != key))

    def overlay_for(self, name: str) -> str | None:
        key = package_key(name)
        return next((s for s in self.with_packages if package_key(s) == key), None)


def split_gpu_spec(spec: str | None) -> tuple[str | None, int]:
    """`H100x8` → ("H100", 8); an unknown name is kept as written (the advice then reports it)."""
    if spec is None:
        return None, 1
    from advisor.errors import InputError
    from advisor.facts.gpu_catalog import parse_gpu_spec

    try:
        entry, count = parse_gpu_spec(spec)
    except InputError:
        return spec, 1
    if entry is None:
        return "none", 1
    return entry.name, max(count, 1)


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
        from advisor.api import facts_for, hardware_facts, recommend, software_facts, validate_request

        start = time.perf_counter()
        request = validate_request(inputs.request())
        target = inputs.target()
        hw_key = (target.gpu, target.hardware_file)
        with self._lock:
            hardware = self._hardware.get(hw_key)
        if hardware is None:
            hardware = hardware_facts(target)
            with self._lock:
                self._hardware[hw_key] = hardware
        sw_key = replace(target, gpu="target" if target.gpu or target.hardware_file else None,
                         hardware_file=None)
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
        return Advice(inputs, hardware, software, facts, rec, _fixes(facts, rec),
                      time.perf_counter() - start)

    def _model(self, inputs: Inputs) -> ModelSource:
        """The model source; a local config is read each time (it may have been edited), a Hub one once."""
        from advisor.facts.locate import load_model
        from advisor.facts.model_source import is_local

        assert inputs.model is not None
        key = (inputs.model.strip(), inputs.revision, inputs.offline)
        if is_local(key[0]):
            return load_model(key[0], revision=inputs.revision, offline=inputs.offline)
        with self._lock:
            found = self._models.get(key)
        if found is None:
            found = load_model(key[0], revision=inputs.revision, offline=inputs.offline)
            with self._lock:
                self._models[key] = found
        return found


def _fixes(facts: Facts, rec: Recommendation) -> dict[str, str]:
    from advisor.engine.namespace import build_namespace
    from advisor.engine.rules import load_rules

    wanted = {r.rule for d in rec.decisions for rej in d.rejected for r in rej.reasons}
    if not wanted:
        return {}
    ns = build_namespace(facts)
    return {rule.id: rule.render(rule.fix, ns) for rule in load_rules() if rule.id in wanted}
