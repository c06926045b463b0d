"""The policy file: `advisor.toml`, or `[tool.advisor]` in pyproject.toml.

```toml
fail-on = "error"                      # error | warning | info
task = "inference"                     # and dtype, context, batch, offline
gpus = ["T4", "L4", "A100-80GB", "H100"]
hardware = ["ci/hardware/dgx.json"]    # hardware profile files

[[model]]
id = "meta-llama/Llama-3.1-8B"
revision = "0123abcd..."               # a commit
flags = { attn_implementation = "sdpa", dtype = "bfloat16" }

[[software]]                           # one of profile, lockfile, packages; `with` overlays
name = "prod"
lockfile = "requirements.txt"          # requirements / pip freeze / uv.lock / poetry.lock

[[ignore]]
rule = "DTYPE-V5-AUTO"
reason = "we always pass dtype"
```

Validation is strict: an unknown key, a wrong type, an unknown GPU or invalid TOML is an InputError
naming the file, the line and what is wrong (exit 2). Paths are relative to the policy file.
"""

from __future__ import annotations

import datetime
import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advisor.ci.lint import display_path
from advisor.ci.software import parse_version, read_pins, software_from_pins
from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.core.readfile import check_shape, read_bytes, read_text, show
from advisor.core.results import Severity
from advisor.engine.check import canonical_names, normalize_value
from advisor.engine.pack import load_flags, load_rules
from advisor.facts.bundle import DTYPES, TASKS, Request
from advisor.facts.gather import validate_request
from advisor.facts.gpu_catalog import parse_gpu_spec
from advisor.facts.hardware import Hardware
from advisor.facts.profiles import overlay, parse_with, software_profile
from advisor.facts.software import Software
from advisor.facts.target import Target, hardware_of, software_of

TOP_KEYS = ("fail-on", "task", "dtype", "context", "batch", "offline", "gpus", "hardware", "model",
            "software", "ignore")
MODEL_KEYS = ("id", "revision", "flags")
SOFTWARE_KEYS = ("name", "profile", "lockfile", "packages", "with")
IGNORE_KEYS = ("rule", "reason", "model")
SEVERITIES = ("error", "warning", "info")

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)\s*[.=]")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)")


@frozen
class ModelEntry:
    """A model the policy checks: an id (or path), its pinned revision, the flags the code passes."""

    id: str
    """What to load: the id as written, or a local path resolved against the policy's folder."""
    revision: str | None
    flags: dict[str, Any] | None
    line: int
    name: str = ""
    """The id as written in the policy (how reports and ignores name the model)."""


@frozen
class Ignore:
    """Findings of `rule` (for `model` only, when given) are not reported."""

    rule: str
    reason: str
    model: str | None
    line: int


@frozen
class TargetSpec:
    """One target of the matrix: hardware × software, loaded once."""

    label: str
    hardware: Hardware
    software: Software


@frozen
class Policy:
    """A validated policy file."""

    path: str
    """The file as the user named it (for messages and locations)."""
    models: tuple[ModelEntry, ...]
    targets: tuple[TargetSpec, ...]
    """Empty: the targets come from the command line (or this machine)."""
    request: Request
    fail_on: Severity | None
    ignores: tuple[Ignore, ...]
    line: int
    """The line of the policy table (1 for advisor.toml)."""


class _Lines:
    """Where each key of the policy is written, found by scanning the text (tomllib gives no positions)."""

    def __init__(self, text: str, prefix: str) -> None:
        self.keys: dict[tuple[str, int], dict[str, int]] = {}
        self.headers: dict[tuple[str, int], int] = {}
        counts: dict[str, int] = {}
        current = ("", 0) if not prefix else ("~", 0)
        for n, line in enumerate(text.splitlines(), start=1):
            m = _HEADER.match(line)
            if m:
                name = ".".join(p.strip().strip("\"'") for p in m.group(2).split("."))
                if prefix:
                    name = "" if name == prefix else (name[len(prefix) + 1:] if name.startswith(prefix + ".")
                                                       else "~")
                index = 0
                if m.group(1) == "[[":
                    index = counts[name] = counts.get(name, -1) + 1
                current = (name, index)
                self.headers.setdefault(current, n)
                continue
            k = _KEY.match(line)
            if k:
                self.keys.setdefault(current, {}).setdefault(k.group(1).strip("\"'"), n)

    def line(self, section: str = "", index: int = 0, key: str | None = None) -> int:
        found = self.keys.get((section, index), {})
        if key is not None and key in found:
            return found[key]
        if key is not None and (f"{section}.{key}".strip("."), 0) in self.headers:
            return self.headers[(f"{section}.{key}".strip("."), 0)]
        if (section, index) in self.headers:
            return self.headers[(section, index)]
        return self.keys.get(("", 0), {}).get(section, self.headers.get(("", 0), 1))


class _Reader:
    """Validates one policy table, raising InputError with file and line."""

    def __init__(self, path: Path, display: str, lines: _Lines) -> None:
        self.path, self.display, self.lines = path, display, lines

    def fail(self, what: str, section: str = "", index: int = 0, key: str | None = None) -> InputError:
        return InputError(f"{self.display}:{self.lines.line(section, index, key)}: {what}")

    def resolve(self, raw: str) -> Path:
        p = Path(raw)
        return p if p.is_absolute() else self.path.parent / p


def _where(section: str, index: int) -> str:
    return f"{section}[{index + 1}]"


def _keys(r: _Reader, table: Mapping[str, Any], allowed: tuple[str, ...], section: str = "", index: int = 0,
          ) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean `{near[0]}`?" if near else f" (expected {', '.join(allowed)})"
            where = f"{_where(section, index)}: " if section else ""
            raise r.fail(f"{where}unknown key `{key}`{hint}", section, index, key)


def _typed(r: _Reader, table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], what: str,
           section: str = "", index: int = 0) -> Any:
    value = table.get(key)
    bad = value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is int))
    if bad:
        where = f"{_where(section, index)}." if section else ""
        raise r.fail(f"{where}{key} must be {what}, not {_kind(value)}", section, index, key)
    return value


def _kind(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
            dict: "a table"}.get(type(value), type(value).__name__)


def _str_list(r: _Reader, table: Mapping[str, Any], key: str, section: str = "", index: int = 0) -> list[str]:
    value = _typed(r, table, key, list, "an array of strings", section, index) or []
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise r.fail(f"{key} must be an array of non-empty strings", section, index, key)
    return list(value)


def read_policy_text(path: Path) -> tuple[dict[str, Any], str, str]:
    """The policy table, the file's text and its table prefix (`tool.advisor` for pyproject.toml)."""
    display = str(path)
    raw = read_bytes(path, "the policy", label=show(display, 200))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{display}:1: the policy is not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        where = f"{display}:{m.group(1)}:{m.group(2)}" if m else f"{display}:{max(1, len(text.splitlines()))}"
        raise InputError(f"{where}: invalid TOML: {_TOML_POS.sub('', msg)}") from None
    except RecursionError:
        raise InputError(f"{display}: the policy is nested too deeply to be parsed") from None
    except ValueError as exc:  # an integer of thousands of digits
        raise InputError(f"{display}: the policy cannot be parsed: {str(exc)[:200]}") from None
    check_shape(data, f"{display}: the policy")
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("advisor") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise InputError(f"{display}: has no [tool.advisor] table")
        return table, text, "tool.advisor"
    return data, text, ""


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file; its targets' hardware and software are loaded here, once."""
    data, text, prefix = read_policy_text(path)
    lines = _Lines(text, prefix)
    r = _Reader(path, str(path), lines)
    _keys(r, data, TOP_KEYS)
    fail_on = _typed(r, data, "fail-on", str, "a string")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise r.fail(f"fail-on = {fail_on!r}: choose one of {', '.join(SEVERITIES)}", key="fail-on")
    request = _request(r, data)
    models = tuple(_model(r, entry, i) for i, entry in enumerate(_tables(r, data, "model")))
    targets = _targets(r, data)
    ignores = tuple(_ignore(r, entry, i) for i, entry in enumerate(_tables(r, data, "ignore")))

    return Policy(path=display_path(path), models=models, targets=targets, request=request, fail_on=fail_on,
                  ignores=ignores, line=lines.headers.get(("", 0), 1))


def _tables(r: _Reader, data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if isinstance(value, dict):
        raise r.fail(f"`{key}` must be an array of tables: write [[{key}]]", key=key)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise r.fail(f"`{key}` must be an array of tables ([[{key}]]), not {_kind(value)}", key=key)
    return value


def _request(r: _Reader, data: Mapping[str, Any]) -> Request:
    task = _typed(r, data, "task", str, "a string") or "inference"
    dtype = _typed(r, data, "dtype", str, "a string") or "auto"
    context = _typed(r, data, "context", int, "an integer")
    batch = _typed(r, data, "batch", int, "an integer")
    offline = _typed(r, data, "offline", bool, "true or false")
    for key, value, choices in (("task", task, TASKS), ("dtype", dtype, DTYPES)):
        if value not in choices:
            raise r.fail(f"{key} = {value!r}: choose one of {', '.join(choices)}", key=key)
    try:
        return validate_request(Request(dtype=dtype, task=task, context=context, batch=batch or 1,
                                        offline=bool(offline)))
    except InputError as exc:
        key = "context" if "context" in str(exc) else "batch"
        raise r.fail(str(exc).replace("--", ""), key=key) from None


def _model(r: _Reader, entry: dict[str, Any], i: int) -> ModelEntry:
    _keys(r, entry, MODEL_KEYS, "model", i)
    mid = _typed(r, entry, "id", str, "a string", "model", i)
    if not mid or not mid.strip():
        raise r.fail(f"{_where('model', i)}: needs an `id` (a Hub repo id or a path)", "model", i)
    revision = _typed(r, entry, "revision", str, "a string", "model", i)
    flags = _typed(r, entry, "flags", dict, "a table of from_pretrained keyword arguments", "model", i)
    if flags is not None:
        _check_flags(r, flags, i)
    local = r.resolve(mid)
    model_id = str(local) if not Path(mid).is_absolute() and local.exists() else mid
    return ModelEntry(model_id, revision, flags, r.lines.line("model", i), mid)


def _check_flags(r: _Reader, flags: Mapping[str, Any], i: int) -> None:
    names = canonical_names(load_flags())

    def plain(v: Any) -> bool:
        if isinstance(v, datetime.date | datetime.time):
            return False
        if isinstance(v, dict):
            return all(plain(x) for x in v.values())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return True

    for key, value in flags.items():
        if not plain(value):
            raise r.fail(f"{_where('model', i)}.flags.{key}: dates and times are not flag values", "model", i,
                         "flags")
        try:
            normalize_value(names.get(key, key), value)
        except InputError as exc:
            raise r.fail(f"{_where('model', i)}.flags.{key}: {exc}", "model", i, "flags") from None


def _targets(r: _Reader, data: Mapping[str, Any]) -> tuple[TargetSpec, ...]:
    hardware: list[tuple[str, Target]] = []
    for spec in _str_list(r, data, "gpus"):
        try:
            parse_gpu_spec(spec)
        except InputError as exc:
            raise r.fail(f"gpus: {exc}", key="gpus") from None
        hardware.append((spec, Target(gpu=spec)))
    for raw in _str_list(r, data, "hardware"):
        hardware.append((Path(raw).stem, Target(hardware_file=r.resolve(raw))))
    software: list[tuple[str, Software | None]] = [
        _software(r, entry, i) for i, entry in enumerate(_tables(r, data, "software"))]
    if not hardware and not software:
        return ()
    loaded_hw: list[tuple[str, Target, Hardware]] = []
    for label, target in hardware or [("this machine", Target())]:
        try:
            loaded_hw.append((label, target, hardware_of(target)))
        except InputError as exc:
            raise r.fail(f"hardware: {exc}", key="hardware" if target.hardware_file else "gpus") from None
    out: list[TargetSpec] = []
    for hw_label, target, hw in loaded_hw:
        for sw_label, given in software or [("", None)]:
            sw = given if given is not None else _detected(target)
            label = f"{hw_label} · {sw_label}" if sw_label and len(software) > 1 else hw_label
            out.append(TargetSpec(label, hw, sw))
    labels = [t.label for t in out]
    if len(set(labels)) != len(labels):
        dup = next(lbl for lbl in labels if labels.count(lbl) > 1)
        raise r.fail(f"two targets are both called {dup!r}: give each [[software]] a distinct `name`",
                     "software", 0, "name")
    return tuple(out)


def _detected(target: Target) -> Software:
    return software_of(target)


def _software(r: _Reader, entry: dict[str, Any], i: int) -> tuple[str, Software]:
    _keys(r, entry, SOFTWARE_KEYS, "software", i)
    where = _where("software", i)
    name = _typed(r, entry, "name", str, "a string", "software", i)
    profile = _typed(r, entry, "profile", str, "a path", "software", i)
    lockfile = _typed(r, entry, "lockfile", str, "a path", "software", i)
    packages = _typed(r, entry, "packages", dict, "a table of NAME = \"VERSION\"", "software", i)
    overlays = _str_list(r, entry, "with", "software", i)
    given = [k for k in ("profile", "lockfile", "packages") if entry.get(k) is not None]
    if len(given) != 1:
        raise r.fail(f"{where}: give exactly one of profile, lockfile or packages"
                     + (f" (found {', '.join(given)})" if given else ""), "software", i)
    for spec in overlays:
        try:
            parse_with(spec)
        except InputError as exc:
            raise r.fail(f"{where}.with: {str(exc).removeprefix('--with ')}", "software", i, "with") from None
    try:
        if profile is not None:
            sw = software_profile(r.resolve(profile))
            label = name or Path(profile).stem
        elif lockfile is not None:
            sw = software_from_pins(read_pins(r.resolve(lockfile)), f"lockfile:{lockfile}")
            label = name or Path(lockfile).name
        else:
            assert packages is not None
            pins = {k: parse_version(k, v, f"{where}.packages") for k, v in packages.items()}
            sw = software_from_pins(pins, f"policy:{r.display} {where}")
            label = name or f"software {i + 1}"
    except InputError as exc:
        raise r.fail(f"{where}: {exc}", "software", i, given[0]) from None
    if overlays:
        sw = overlay(sw, overlays)
    return label, sw


def _ignore(r: _Reader, entry: dict[str, Any], i: int) -> Ignore:
    _keys(r, entry, IGNORE_KEYS, "ignore", i)
    rule = _typed(r, entry, "rule", str, "a rule id", "ignore", i)
    if not rule:
        raise r.fail(f"{_where('ignore', i)}: needs a `rule` id", "ignore", i)
    known = {r.id for r in load_rules()}
    if rule.upper() not in known:
        near = difflib.get_close_matches(rule.upper(), list(known), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(near)}?" if near else " (`advisor rules` lists them)"
        raise r.fail(f"{_where('ignore', i)}: no rule {rule!r}{hint}", "ignore", i, "rule")
    reason = _typed(r, entry, "reason", str, "a string", "ignore", i) or ""
    model = _typed(r, entry, "model", str, "a string", "ignore", i)
    return Ignore(rule.upper(), reason, model, r.lines.line("ignore", i))


def find_policy(directory: Path) -> Path | None:
    """`advisor.toml`, or a pyproject.toml with [tool.advisor], in DIRECTORY."""
    candidate = directory / "advisor.toml"
    if candidate.is_file():
        return candidate
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        try:
            if re.search(r"^\s*\[\[?\s*tool\.advisor[\].]", read_text(pyproject, "pyproject.toml"), re.M):
                return pyproject
        except InputError:
            return None
    return None
