"""The rule pack: every rule and flag of `rules/`, checked and compiled once, then loaded from a cache.

Parsing the TOML files (tomllib is pure Python), checking every rule and compiling its requirements costs
about 20 ms, a fifth of `advisor recommend`. The first run after a rule file, flags.toml or the engine
changes does that work, checks the decision order, and stores the result with `marshal` (requirements as
code objects) in advisor's cache folder, keyed by the stamps of every file it was built from. Later runs
load the pack in about a millisecond. A pack is trusted only from the cache folder, owned by this user and
not writable by others; a missing, stale, corrupt or foreign pack is rebuilt.
"""

from __future__ import annotations

import marshal
import sys
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from advisor import __version__
from advisor.core.cache import cache_read_bytes, cache_write_bytes
from advisor.core.data import data_dir, file_stamp
from advisor.core.errors import InputError
from advisor.engine.flags import FlagSpec, parse_flags
from advisor.engine.rules import Rule, check_decision_order, parse_rule_file

DATA_FILES = frozenset({"flags.toml", "gpus.toml", "native.toml", "transformers_removed.toml"})
"""TOML files in rules/ that hold data, not rules."""
PACK_PREFIX = "rule-pack-"
ENGINE_FILES = ("expr.py", "namespace.py", "rules.py", "flags.py", "pack.py", "error_match.py",
                "../memory/figures.py")
"""What the compiled form depends on besides the rule files: the compiler and the names it knows."""


def pack_file(directory: Path) -> str:
    """The pack's file name: one per rules folder and Python, so installations sharing a cache do not evict
    each other's pack."""
    digest = zlib.crc32(f"{directory.resolve()}|{sys.version}".encode())  # a name, not a guard: the key checks
    return f"{PACK_PREFIX}{digest:08x}.bin"


def rule_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.glob("*.toml") if p.name not in DATA_FILES)
    if not files:
        raise InputError(f"{directory}: no rule files found")
    return files


def _key(directory: Path, files: list[Path]) -> str:
    here = Path(__file__).resolve().parent
    parts = [__version__, sys.version, *(file_stamp(here / name) for name in ENGINE_FILES),
             file_stamp(directory / "flags.toml"), *(file_stamp(p) for p in files)]
    return "\n".join(parts)


@cache
def load(directory: Path | None = None) -> tuple[tuple[Rule, ...], tuple[FlagSpec, ...]]:
    """Every rule and every flag spec of DIRECTORY (default: the bundled rules), validated."""
    directory = directory or data_dir()
    try:
        files = rule_files(directory)
        key = _key(directory, files)
    except OSError as exc:
        raise InputError(f"{directory}: cannot read the rule files ({exc.strerror})") from None
    name = pack_file(directory)
    packed = _read_pack(name, key)
    if packed is not None:
        return packed
    built = build(directory, files)
    data = (key, tuple(r.packed() for r in built[0]), tuple(s.packed() for s in built[1]))
    cache_write_bytes(name, marshal.dumps(data))
    return built


def build(directory: Path, files: list[Path]) -> tuple[tuple[Rule, ...], tuple[FlagSpec, ...]]:
    """Parse, check and compile the rule files and flags.toml (InputError naming file and rule)."""
    specs = parse_flags("flags.toml", _toml(directory / "flags.toml"))
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        for rule in parse_rule_file(path.name, _toml(path)):
            if rule.id in seen:
                raise InputError(f"{path.name}: rule {rule.id}: the id is already used in {seen[rule.id]}")
            seen[rule.id] = path.name
            rules.append(rule)
    check_decision_order(rules, specs)
    return tuple(rules), specs


def _toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when the pack is rebuilt

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None


def _read_pack(name: str, key: str) -> tuple[tuple[Rule, ...], tuple[FlagSpec, ...]] | None:
    try:
        stored, rules, specs = marshal.loads(cache_read_bytes(name))
        if stored != key:
            return None
        return tuple(Rule.unpack(r) for r in rules), tuple(FlagSpec.unpack(s) for s in specs)
    except (OSError, EOFError, ValueError, TypeError):
        return None


def load_rules(directory: Path | None = None) -> tuple[Rule, ...]:
    """All rules of all rule files, in file order."""
    return load(directory)[0]


def load_flags(directory: Path | None = None) -> tuple[FlagSpec, ...]:
    """The flag specs in decision order."""
    return load(directory)[1]


@cache
def fact_rules() -> tuple[Rule, ...]:
    """The rules evaluated over facts (every rule but those about the run itself)."""
    return tuple(r for r in load_rules() if r.require is not None)
