"""Target software from versions: written in the policy, or read from a requirements or lock file.

What the versions do not name is not installed. A requirement that is not pinned (`torch>=2.4`) leaves
the version unknown, with the line that says so; it is never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from packaging.version import InvalidVersion, Version

from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.readfile import load_toml, read_text, show
from advisor.facts.profiles import MAX_VERSION_CHARS, torch_build_for
from advisor.facts.software import (
    EXTENSION_MODULES,
    RELEVANT_DISTS,
    WHEEL_MODULES,
    Package,
    Software,
    normalize,
    unknown_torch_build,
)

Pins = dict[str, Version | str | None]
"""Distribution → version; a str is the reason the version is unknown; None means not installed."""

_REQ = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(?P<rest>.*)$")
_PIN = re.compile(r"^===?\s*(?P<version>[^\s;,]+)\s*$")


def software_from_pins(pins: Mapping[str, Version | str | None], source: str) -> Software:
    """A complete package set: the pins given, every other relevant distribution absent."""
    packages = {d: Package(d, Fact(None, source), Fact.of(False, source)) for d in RELEVANT_DISTS}
    modules: dict[str, Fact[bool]] = {m: Fact.of(False, source) for m in EXTENSION_MODULES}
    for raw_name, pin in pins.items():
        key = normalize(raw_name)
        if pin is None:
            continue
        if isinstance(pin, str):
            packages[key] = Package(key, Fact.unknown(pin, source), Fact.unknown(pin, source))
            for mod in WHEEL_MODULES.get(key, ()):
                modules[mod] = Fact.unknown(pin, source)
            continue
        packages[key] = Package(key, Fact.of(pin, source), Fact.of(True, f"{source} (assumed to import)"))
        for mod in WHEEL_MODULES.get(key, ()):
            modules[mod] = Fact.of(True, source)
    torch = packages["torch"].version
    build = torch_build_for(torch.value, source)
    if not torch.known:
        build = unknown_torch_build(torch.reason or "unknown", source)
    return Software(packages=packages, modules=modules, source=source,
                    python=Fact.unknown("the pins do not name a Python version", source), torch=build)


def parse_version(name: str, raw: object, where: str) -> Version | None:
    """A pinned version from the policy; `none` means not installed."""
    text = str(raw).strip()
    if text.lower() in ("none", "absent", "missing"):
        return None
    if len(text) > MAX_VERSION_CHARS:
        raise InputError(f"{where}: {name} is {len(text)} characters long, more than {MAX_VERSION_CHARS}")
    try:
        return Version(text)
    except (InvalidVersion, ValueError):
        raise InputError(f"{where}: {name} = {show(raw)!r} is not a valid version") from None


def read_pins(path: Path) -> Pins:
    """Versions from requirements.txt / pip freeze output, uv.lock, poetry.lock or pdm.lock."""
    text = read_text(path, "the lock file")
    if path.suffix == ".lock" or path.name.endswith(".toml"):
        return _lock_pins(path, text)
    return _requirement_pins(path, text)


def _lock_pins(path: Path, text: str) -> Pins:
    data = load_toml(text, f"{show(path, 200)}: invalid TOML lock file")
    entries = data.get("package")
    if not isinstance(entries, list):
        raise InputError(f"{path}: not a uv/poetry/pdm lock file (no [[package]] tables)")
    pins: Pins = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        key = normalize(entry["name"])
        raw = entry.get("version")
        if key not in RELEVANT_DISTS:
            continue
        if key in pins and pins[key] != raw:
            pins[key] = f"{path} locks several versions of {key} (per platform or extra)"
            continue
        try:
            pins[key] = Version(str(raw)[:MAX_VERSION_CHARS + 1])
        except (InvalidVersion, ValueError):
            pins[key] = f"{path}: {key} has no readable version ({raw!r})"
    return pins


def _requirement_pins(path: Path, text: str) -> Pins:
    pins: Pins = {}
    logical: list[tuple[int, list[str]]] = []  # pieces joined once: continuation lines cost linear time
    for n, raw_line in enumerate(text.splitlines(), start=1):
        if logical and logical[-1][1][-1].endswith("\\"):
            logical[-1][1][-1] = logical[-1][1][-1][:-1]
            logical[-1][1].append(raw_line)
        else:
            logical.append((n, [raw_line]))
    for n, pieces in logical:
        raw_line = " ".join(pieces)
        line = raw_line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        line = line.split(";", 1)[0].strip()
        m = _REQ.match(line)
        if not m:
            continue
        key = normalize(m.group("name"))
        if key not in RELEVANT_DISTS:
            continue
        rest = m.group("rest").split("--hash", 1)[0].strip()
        pin = _PIN.match(rest)
        if pin is None:
            pins[key] = f"{path}:{n}: `{line}` does not pin one version"
            continue
        try:
            pins[key] = Version(pin.group("version")[:MAX_VERSION_CHARS + 1])
        except (InvalidVersion, ValueError):
            pins[key] = f"{path}:{n}: {show(pin.group('version'))!r} is not a valid version"
    return pins
