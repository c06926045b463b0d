"""The knowledge tables of transformers releases (`rules/transformers/`), one release at a time.

`scripts/gen_transformers_table.py` reads the released wheels (never importing them) and writes an index of
every published patch, one compact table per distinct release (gzip JSON) and the cross-release histories
(when a model type or a `transformers.utils` name appears and disappears, optimum's BetterTransformer). A
table is read only when its release is asked for, once per process: the index and one table cost about two
milliseconds. Nothing here imports transformers.

A target the tables do not list is answered by the nearest release read below it, with a note that says so
(a patch published later, a development build); a target newer than the newest table is answered by the
newest one, also with a note. A target older than the oldest release read is refused.
"""

from __future__ import annotations

import json
import zlib
from functools import cache, lru_cache
from typing import Any

from packaging.version import InvalidVersion, Version

from advisor.core.data import data_path
from advisor.core.errors import InputError
from advisor.core.frozen import frozen

FOLDER = "transformers"
"""Where the tables live inside the bundled data folder."""


@cache
def index() -> dict[str, Any]:
    """`rules/transformers/index.json`: the releases read and which table answers each published patch."""
    return _json(f"{FOLDER}/index.json")


def oldest() -> Version:
    """The oldest release the tables hold: older targets are refused."""
    return Version(str(index()["first_read"]))


def newest() -> Version:
    """The newest release read when the tables were made."""
    return Version(str(index()["newest"]))


def generated() -> str:
    """The date the tables were made (ISO)."""
    return str(index()["generated"])


def refuse_older(target: Version) -> None:
    """InputError (exit 2) for a target older than every table: advisor knows nothing true about it."""
    if target < oldest():
        raise InputError(f"transformers {target} is older than {oldest()}, the oldest release advisor has read "
                         f"from upstream; advise for {oldest()} or newer (e.g. --with transformers=={oldest()})")


@frozen
class ClassEntry:
    """One model class of a model type: its attention code and the auto classes that load it."""

    name: str
    code: str
    """`S` sdpa, `2` FA2, `3` FA3, `X` flex (as the release reads them), `B` attention backend, `-` none, `?`
    not found in the source."""
    autos: tuple[str, ...]
    """Short auto names (`CausalLM`, `Model`, ...) in loader preference order."""


@frozen
class TypeEntry:
    """A model type of one release: its config class and model classes, in loader preference order."""

    config: str
    classes: tuple[ClassEntry, ...]


class ReleaseTable:
    """The table of one release, answering for a target version (which may differ: see `note`)."""

    def __init__(self, target: Version, release: str, file: str, data: dict[str, Any], note: str | None) -> None:
        self.target = target
        self.release = Version(release)
        self.file = file
        self.data = data
        self.note = note
        """Why the table is not the target's own (None when it is)."""
        stem = file.removesuffix(".gz").removesuffix(".json")
        self.source = f"rules/{FOLDER}/releases/{file}" + ("" if stem == release else f", which answers {release}")
        """The table file; a release whose table equals an earlier patch's of its minor line shares that file."""
        self._types: dict[str, TypeEntry | None] = {}
        self._native: frozenset[str] | None = None
        self._classes: dict[str, tuple[str, ClassEntry]] | None = None
        self._order = {short: i for i, short in enumerate(data.get("autos", {}))}

    @property
    def newer(self) -> bool:
        """The target is newer than every release read."""
        return self.target > newest()

    @property
    def answers(self) -> dict[str, Any]:
        found: dict[str, Any] = self.data["answers"]
        return found

    def section(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data.get(name) or {}
        return found

    def evidence(self, answer: str) -> str:
        """`transformers X file:line` where an answer was read, or the table itself."""
        where = self.answers.get("evidence", {}).get(answer)
        return f"transformers {self.release} {where}" if where else self.source

    # -- model types and classes ---------------------------------------------------------------------

    def native(self) -> frozenset[str]:
        """The model types of `CONFIG_MAPPING_NAMES` (those a config class is registered for), once per table."""
        if self._native is None:
            self._native = frozenset(mt for mt, raw in self.data["model_types"].items() if not raw.startswith(";"))
        return self._native

    def model_type(self, model_type: str) -> TypeEntry | None:
        if model_type not in self._types:
            raw = self.data["model_types"].get(model_type)
            self._types[model_type] = None if raw is None else _decode(raw)
        return self._types[model_type]

    def _class_index(self) -> dict[str, tuple[str, ClassEntry]]:
        """Every class → (the model type it was listed under first, its entry with the autos of every type)."""
        if self._classes is None:
            found: dict[str, tuple[str, ClassEntry]] = {}
            for mt in self.data["model_types"]:
                entry = self.model_type(mt)
                for c in entry.classes if entry else ():
                    if c.name in found:
                        first_mt, known = found[c.name]
                        merged = tuple(dict.fromkeys((*known.autos, *c.autos)))
                        found[c.name] = (first_mt, ClassEntry(c.name, known.code, merged))
                    else:
                        found[c.name] = (mt, c)
            self._classes = found
        return self._classes

    def _is_auto(self, short: str) -> bool:
        """Whether a short auto name is an auto class (not a mapping without one, `MODEL_FOR_..._MAPPING`)."""
        full = str(self.data.get("autos", {}).get(short, ""))
        return bool(full) and not full.endswith("_MAPPING_NAMES")

    def auto_name(self, short: str) -> str:
        return str(self.data.get("autos", {}).get(short, short))

    def class_auto(self, name: str) -> str | None:
        """The first auto class (in preference order) that loads class `name`."""
        found = self._class_index().get(name)
        if found is None:
            return None
        autos = sorted((a for a in found[1].autos if self._is_auto(a)), key=lambda a: self._order.get(a, 1 << 20))
        return self.auto_name(autos[0]) if autos else None

    def type_default(self, model_type: str) -> tuple[str, str] | None:
        """(auto class, model class) chosen for a model type when `architectures` does not decide."""
        entry = self.model_type(model_type)
        for c in entry.classes if entry else ():
            autos = [a for a in c.autos if self._is_auto(a)]
            if autos:
                return self.auto_name(autos[0]), c.name
        return None

    def class_code(self, name: str, model_type: str | None = None) -> str | None:
        """The attention code of a class (looked up under `model_type` first)."""
        entry = self.model_type(model_type) if model_type else None
        for c in entry.classes if entry else ():
            if c.name == name:
                return c.code
        found = self._class_index().get(name)
        return found[1].code if found else None

    def compatible_flash(self, name: str) -> tuple[str, ...]:
        """The class's `_compatible_flash_implementations` (5.3+), in its order."""
        return tuple(self.section("attention").get("compatible_flash", {}).get(name, ()))


def _decode(raw: str) -> TypeEntry:
    """`Config;Class code autos;...` (`~` = the config name without `Config`) → TypeEntry."""
    config, *parts = raw.split(";")
    stem = config[: -len("Config")] if config.endswith("Config") and len(config) > len("Config") else ""
    classes = []
    for part in parts:
        name, code, autos = part.split(" ")
        classes.append(ClassEntry(stem + name[1:] if name.startswith("~") else name, code, tuple(autos.split(","))))
    return TypeEntry(config, tuple(classes))


def table_for(target: Version) -> ReleaseTable:
    """The table that answers transformers `target` (InputError when it is older than every table)."""
    refuse_older(target)
    files: dict[str, str] = index()["files"]
    key = str(target) if str(target) in files else target.public if target.public in files else None
    if key is not None:
        return _table(target, key, files[key], None)
    if target > newest():
        note = (f"transformers {target} is newer than {newest()}, the newest release advisor has read (tables made "
                f"{generated()}): advised from {newest()}'s table; what changed since is not known")
        return _table(target, str(newest()), files[str(newest())], note)
    below = max((v for v in map(Version, files) if v <= target), default=oldest())
    note = (f"transformers {target} was not a published release when advisor's tables were made ({generated()}): "
            f"advised from the table of {below}, the nearest release below it")
    return _table(target, str(below), files[str(below)], note)


def _table(target: Version, release: str, file: str, note: str | None) -> ReleaseTable:
    return _table_of(target, str(target), release, file, note)


@lru_cache(maxsize=512)
def _table_of(target: Version, spelled: str, release: str, file: str, note: str | None) -> ReleaseTable:
    """The table of RELEASE answering TARGET, once per both (TARGET as SPELLED: equal versions read apart): the
    facts of a policy matrix remember what they derive from a table by its identity, and the table remembers
    what it decoded."""
    data = _release_data(file)
    read = str(data.get("version", release))
    return ReleaseTable(target, read if note else release, file, data, note)


@cache
def _release_data(file: str) -> dict[str, Any]:
    """One release file, parsed once per process (zlib reads gzip without importing the gzip module)."""
    path = data_path(f"{FOLDER}/releases/{file}")
    try:
        blob = path.read_bytes()
        data: dict[str, Any] = json.loads(zlib.decompress(blob, 31) if file.endswith(".gz") else blob)
    except (OSError, ValueError, zlib.error) as exc:
        raise InputError(f"{path}: cannot read advisor's table ({exc})") from None
    return data


def _json(name: str) -> dict[str, Any]:
    path = data_path(name)
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read advisor's table ({exc})") from None
    return data


# -- cross-release histories ---------------------------------------------------------------------------


@cache
def model_type_history() -> dict[str, list[str | None]]:
    """`{model_type: [first release with it, first release without it again or None, ...]}`."""
    return _json(f"{FOLDER}/model_types_since.json")


@cache
def helper_history() -> dict[str, list[str | None]]:
    """The same for the public names of `transformers.utils`."""
    return _json(f"{FOLDER}/helpers_since.json")


@cache
def messages() -> dict[str, list[list[Any]]]:
    """Curated messages: `{key: [[kind, file, text, first release, last release, line in first], ...]}`."""
    return _json(f"{FOLDER}/messages.json")


def presence(history: list[str | None], target: Version) -> tuple[str | None, str | None, str | None]:
    """(the release that added it, the last release that had it before `target` lost it, the release that
    removed it), read from one history row, for a target that does not have it. All None: it never existed."""
    added: str | None = None
    last_removed: str | None = None
    for start, end in zip(history[::2], history[1::2], strict=True):
        if start is None:
            continue
        if Version(start) > target and added is None:
            added = start
        if end is not None and Version(end) <= target:
            last_removed = end
    return added, _release_before(last_removed) if last_removed else None, last_removed


def _release_before(release: str) -> str | None:
    """The newest release read before `release`."""
    read = sorted(map(Version, index()["releases_read"]))
    earlier = [v for v in read if v < Version(release)]
    return str(earlier[-1]) if earlier else None


@cache
def optimum_ranges() -> tuple[tuple[Version, Version, dict[str, Any]], ...]:
    data = _json(f"{FOLDER}/optimum.json")
    return tuple((Version(a), Version(b), entry) for a, b, entry in data["ranges"])


def optimum_entry(version: Version) -> tuple[dict[str, Any], str] | None:
    """optimum's BetterTransformer as an optimum version has it, and the release read that says so: the range
    of read releases holding it, else the nearest read release below it; None when older than every one read."""
    best: tuple[dict[str, Any], str] | None = None
    for first, last, entry in optimum_ranges():
        if first <= version <= last:
            return entry, str(first)
        if last < version:
            best = (entry, str(last))
    return best


def parse_version(text: object) -> Version | None:
    """A version from a table value (None for None or garbage)."""
    if text is None:
        return None
    try:
        return Version(str(text))
    except InvalidVersion:
        return None
