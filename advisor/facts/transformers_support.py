"""Which attention implementations a target transformers version allows for a model's architecture.

For the installed version the source is read statically (never imported) and the result is cached
on disk; for any other target version the shipped knowledge table of that release answers
(`rules/transformers/`, see `release_table`).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from functools import cache
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.version import InvalidVersion, Version

from advisor.core.cache import cache_dir
from advisor.core.errors import InputError
from advisor.core.fact import Fact
from advisor.core.frozen import frozen
from advisor.facts.attn_flags import AttnFlags, Era
from advisor.facts.dists import environment_path, find_distribution
from advisor.facts.release_table import FOLDER, ReleaseTable, model_type_history, table_for

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

    from advisor.facts.transformers_scan import TransformersTree

_CACHE_FORMAT = 1
_STAMPED = (
    "models/auto/configuration_auto.py",
    "models/auto/auto_mappings.py",
    "models/auto/modeling_auto.py",
    "modeling_utils.py",
)


@frozen
class ArchSupport:
    """What one transformers version offers a model: its loader class and that class's attention flags."""

    version: str
    """The transformers version the answer is for (the target)."""
    read_from: str
    """Where it was read: the installed source, or the table at a named release."""
    native: bool
    """The model_type is in that version's `CONFIG_MAPPING_NAMES` (no remote code needed)."""
    model_class: str | None
    auto_class: str | None
    sdpa: bool
    flash2: bool
    """FA2 allowed by the flag this version reads (`_supports_flash_attn_2` / `_supports_flash_attn`)."""
    flash3: bool
    flex: bool
    compatible_flash: tuple[str, ...]


@frozen
class InstalledTransformers:
    """The installed transformers distribution and the directory that holds its `transformers/` package."""

    version: Version
    root: Path


def installed_transformers() -> InstalledTransformers | None:
    """Locate the installed transformers from its metadata and import spec, without importing it (once per
    module search path in a process: a policy matrix asks for every case)."""
    return _installed(environment_path())


@cache
def _installed(path: tuple[str, ...]) -> InstalledTransformers | None:
    spec = _find_spec("transformers")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent.parent
    raw = _dist_version(root)
    try:
        return InstalledTransformers(Version(raw), root) if raw else None
    except InvalidVersion:
        return None


def _find_spec(name: str) -> ModuleSpec | None:
    """`importlib.util.find_spec` for a top-level name, asking the meta-path finders directly.

    Like find_spec it never executes the package; it skips importing `importlib.util` (milliseconds).
    """
    loaded = sys.modules.get(name)
    if loaded is not None:
        return getattr(loaded, "__spec__", None)
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:  # the path finder searches the environment only, never the working directory or PYTHONPATH
            spec = find(name, list(environment_path())) if finder is PathFinder else find(name, None)
        except (ImportError, ValueError, OSError):
            continue
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def _dist_version(root: Path) -> str | None:
    """The version in a `transformers-X.dist-info` folder: beside the package first, then on sys.path.

    Reading folder names avoids `importlib.metadata`, whose import alone costs tens of milliseconds;
    it is still the fallback (an editable install keeps its metadata elsewhere).
    """
    found = find_distribution("transformers", [str(root), *environment_path()])
    if found is not None:
        return found[1]
    import importlib.metadata

    for dist in importlib.metadata.distributions(name="transformers", path=list(environment_path())):
        return str(dist.version)
    return None


def arch_support(
    model_type: str | None,
    architectures: Sequence[str],
    target: Version,
    installed: InstalledTransformers | None,
) -> Fact[ArchSupport]:
    """The loader class and attention flags that transformers `target` has for this config."""
    view = _view(target, installed)
    if isinstance(view, Fact):
        return Fact.unknown(view.reason or "", view.source)
    if not model_type:
        return Fact.unknown("config.json has no model_type", view.read_from)
    if model_type not in view.native():
        return Fact.of(
            ArchSupport(str(target), view.read_from, False, None, None, False, False, False, False, ()),
            view.read_from,
        )
    model_class = auto_class = None
    if architectures and (auto := view.class_auto(architectures[0])) is not None:
        model_class, auto_class = architectures[0], auto
    elif (default := view.type_default(model_type)) is not None:
        auto_class, model_class = default
    if model_class is None:
        flags = AttnFlags()
    else:
        found = view.flags(model_class, model_type)
        if found is None:
            return Fact.unknown(f"{model_class} was not found in {view.read_from}", view.read_from)
        flags = found
    return Fact.of(
        ArchSupport(
            version=str(target),
            read_from=view.read_from,
            native=True,
            model_class=model_class,
            auto_class=auto_class,
            sdpa=flags.sdpa,
            flash2=flags.flash2,
            flash3=flags.flash3,
            flex=flags.flex,
            compatible_flash=flags.compatible_flash,
        ),
        view.read_from,
    )


def knows_model_type(model_type: str, target: Version, installed: InstalledTransformers | None) -> Fact[bool]:
    """Whether transformers `target` has MODEL_TYPE natively (a key of `CONFIG_MAPPING_NAMES`).

    Read from the installed source when it is the target, else from the shipped table. Between two
    tabulated releases a model type that only the later one has may or may not be in the target: unknown.
    """
    view = _view(target, installed)
    if isinstance(view, Fact):
        return Fact.unknown(view.reason or "", view.source)
    if model_type in view.native():
        return Fact.of(True, view.read_from)
    if isinstance(view, _TableView) and view.later_has(model_type):
        return Fact.unknown(f"{model_type} is not in the tabulated transformers {view.at} but is in a later "
                            f"tabulated release; whether {target} has it was not read", view.read_from)
    return Fact.of(False, view.read_from)


def native_model_types(target: Version, installed: InstalledTransformers | None) -> Fact[frozenset[str]]:
    """The model types transformers `target` knows natively (keys of `CONFIG_MAPPING_NAMES`)."""
    view = _view(target, installed)
    if isinstance(view, Fact):
        return Fact.unknown(view.reason or "", view.source)
    return Fact.of(view.native(), view.read_from)


class _View(Protocol):
    read_from: str

    def native(self) -> frozenset[str]: ...
    def class_auto(self, name: str) -> str | None: ...
    def type_default(self, model_type: str) -> tuple[str, str] | None: ...
    def flags(self, name: str, model_type: str) -> AttnFlags | None: ...


def _view(target: Version, installed: InstalledTransformers | None) -> _View | Fact[None]:
    """The view for TARGET: the installed source's, opened again only when its stamped files or its cache
    file changed (a policy matrix asks for every case, and opening re-reads the JSON cache file), else the
    table's, opened once."""
    if installed is not None and installed.version == target:
        cache_file = _cache_file(installed)
        try:
            st = os.stat(cache_file)
            written: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            written = None
        key = (installed, tuple(_stamps(installed.root, _STAMPED).values()), str(cache_file), written)
        if key not in _STATIC:
            if len(_STATIC) > 16:
                _STATIC.clear()
            _STATIC[key] = _StaticView.open(installed)
        scanned = _STATIC[key]
        if scanned is not None:
            return scanned
    table = _TABLE.get(target)
    if table is None:
        table = _TABLE[target] = _TableView.open(target)
    return table


_STATIC: dict[tuple[Any, ...], _StaticView | None] = {}
_TABLE: dict[Version, _TableView | Fact[None]] = {}


# -- the installed source, read statically and cached on disk ---------------------------------------


class _StaticView:
    """Answers from the installed source tree; results are kept in a JSON cache file."""

    def __init__(self, installed: InstalledTransformers, data: dict[str, Any], fresh: bool) -> None:
        self.installed = installed
        self.read_from = f"installed transformers {installed.version} (static read of {installed.root})"
        self._data = data
        self._tree: TransformersTree | None = None
        self._dirty = fresh
        self._native = frozenset(data["native"])

    @classmethod
    def open(cls, installed: InstalledTransformers) -> _StaticView | None:
        if not (installed.root / "transformers" / "models" / "auto" / "modeling_auto.py").is_file():
            return None
        stamps = _stamps(installed.root, _STAMPED)
        data = _cache_load(installed)
        if data is not None and data.get("stamps") == stamps:
            return cls(installed, data, fresh=False)
        from advisor.facts.transformers_scan import TransformersTree  # ast only when the scan is not cached

        tree = TransformersTree(installed.root)
        mappings = tree.auto_mappings()
        era = tree.era()
        data = {
            "format": _CACHE_FORMAT,
            "version": str(installed.version),
            "root": str(installed.root),
            "stamps": stamps,
            "native": sorted(tree.native_model_types()),
            "era": [list(era.fa2), list(era.fa3), era.flex, era.compatible],
            "class_auto": mappings.class_auto(),
            "type_default": {k: list(v) for k, v in mappings.type_default().items()},
            "classes": {},
        }
        view = cls(installed, data, fresh=True)
        view._tree = tree
        return view

    def native(self) -> frozenset[str]:
        return self._native

    def class_auto(self, name: str) -> str | None:
        found = self._data["class_auto"].get(name)
        return found if isinstance(found, str) else None

    def type_default(self, model_type: str) -> tuple[str, str] | None:
        found = self._data["type_default"].get(model_type)
        return (str(found[0]), str(found[1])) if found else None

    def flags(self, name: str, model_type: str) -> AttnFlags | None:
        entry = self._data["classes"].get(name)
        if entry is not None and entry["files"] == _stamps(self.installed.root, list(entry["files"])):
            return AttnFlags.from_code(entry["code"], tuple(entry["compatible"]))
        if self._tree is None:
            from advisor.facts.transformers_scan import TransformersTree  # as above

            self._tree = TransformersTree(self.installed.root)
        scanned = self._tree.class_flags(name, model_type)
        if scanned is None:
            return None
        fa2, fa3, flex, compatible = self._data["era"]
        flags = scanned.effective(Era(tuple(fa2), tuple(fa3), bool(flex), bool(compatible)))
        self._data["classes"][name] = {
            "code": flags.code,
            "compatible": list(flags.compatible_flash),
            "files": _stamps(self.installed.root, scanned.files),
        }
        _cache_store(self.installed, self._data)
        return flags


def _stamps(root: Path, rels: Sequence[str]) -> dict[str, int]:
    """Modification times (ns) of files under `root/transformers`; -1 for a missing file."""
    out: dict[str, int] = {}
    for rel in rels:
        try:
            out[rel] = os.stat(root / "transformers" / rel).st_mtime_ns
        except OSError:
            out[rel] = -1
    return out


def _cache_file(installed: InstalledTransformers) -> Path:
    key = f"{_fnv1a(f'{installed.version}|{installed.root}'):016x}"
    return cache_dir() / f"transformers-scan-{key}.json"


def _fnv1a(text: str) -> int:
    """A stable 64-bit FNV-1a hash (hashlib's import costs more than hashing one path)."""
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


def _cache_load(installed: InstalledTransformers) -> dict[str, Any] | None:
    """The cache for this installation, or None when missing, corrupt or for another one."""
    try:
        data = json.loads(_cache_file(installed).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    try:
        ok = (
            isinstance(data, dict)
            and data["format"] == _CACHE_FORMAT
            and data["version"] == str(installed.version)
            and data["root"] == str(installed.root)
            and isinstance(data["native"], list)
            and isinstance(data["class_auto"], dict)
            and isinstance(data["type_default"], dict)
            and isinstance(data["classes"], dict)
            and all(
                isinstance(e, dict)
                and isinstance(e.get("code"), str)
                and isinstance(e.get("files"), dict)
                and isinstance(e.get("compatible"), list)
                for e in data["classes"].values()
            )
            and len(data["era"]) == 4
        )
    except (KeyError, TypeError):
        return None
    return data if ok else None


def _cache_store(installed: InstalledTransformers, data: dict[str, Any]) -> None:
    """Write the cache atomically (temp file + rename); a failure only costs a later rescan."""
    import tempfile  # only a cache write needs it

    target = _cache_file(installed)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".transformers-scan.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, separators=(",", ":")))  # dumps uses the C encoder; dump doesn't
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


# -- the shipped tables -------------------------------------------------------------------------------


class _TableView:
    """Answers from the shipped knowledge table of the target's release (see `release_table`)."""

    def __init__(self, table: ReleaseTable) -> None:
        self._table = table
        self.read_from = table.source + (f"; {table.note}" if table.note else "")

    @classmethod
    def open(cls, target: Version) -> _TableView | Fact[None]:
        try:
            return cls(table_for(target))
        except InputError as exc:
            return Fact.unknown(str(exc), f"rules/{FOLDER}")

    @property
    def at(self) -> str:
        """The release whose table answers."""
        return str(self._table.release)

    def later_has(self, model_type: str) -> bool:
        """Whether a release read after the one answering has MODEL_TYPE, when the target is not itself a release
        the tables answer (always, past the newest release read: what came since is not known)."""
        if self._table.note is None:
            return False
        if self._table.newer:
            return True
        history = model_type_history().get(model_type) or []
        return any(start is not None and Version(start) > self._table.release for start in history[::2])

    def native(self) -> frozenset[str]:
        return self._table.native()

    def class_auto(self, name: str) -> str | None:
        return self._table.class_auto(name)

    def type_default(self, model_type: str) -> tuple[str, str] | None:
        return self._table.type_default(model_type)

    def flags(self, name: str, model_type: str) -> AttnFlags | None:
        code = self._table.class_code(name, model_type)
        if code is None or code == "?":
            return None
        return AttnFlags.from_code(code, self._table.compatible_flash(name))
