"""Distributions on the module search path, read from their `*.dist-info` folder names."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from advisor.facts.software import normalize

_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+?)\.(dist|egg)-info$")


def environment_path() -> tuple[str, ...]:
    """The module search path of this environment as an isolated interpreter (`python -I`) has it: sys.path
    without the working directory, the script's folder, PYTHONPATH and the user site.

    A cloned repository or a pull request's tree is the working directory of a CI run: a look-alike
    `flash_attn.py` or `flash_attn-2.8.3.dist-info` there must neither run nor count as installed, so every
    fact about the installed packages and the import probe read this path, not sys.path.
    """
    script = sys.argv[0] if sys.argv and not getattr(sys.flags, "safe_path", False) else ""
    return _environment_path(tuple(sys.path), os.getcwd() if _cwd_exists() else "", os.environ.get("PYTHONPATH", ""),
                             sys.flags.ignore_environment, script)


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except OSError:
        return False
    return True


@cache
def _environment_path(path: tuple[str, ...], cwd: str, pythonpath: str, ignore_env: int,
                      script: str) -> tuple[str, ...]:
    import site  # already imported at startup; named here for its folders

    def real(entry: str) -> str:
        return os.path.realpath(entry or cwd or ".")

    base = real(sys.base_exec_prefix) + os.sep
    sites = {real(p) for p in [*site.getsitepackages(), *_prefix_libs()]}
    dropped = {real(p) for p in pythonpath.split(os.pathsep) if p} if not ignore_env else set()
    if cwd:
        dropped.add(real(cwd))
    if script and script not in ("-c", "-m") and os.path.isfile(script):  # the folder a script runs from
        dropped.add(os.path.dirname(real(script)))
    user: str | None = getattr(site, "USER_SITE", None)
    base_of_user: str | None = getattr(site, "USER_BASE", None)
    user_base = real(base_of_user) + os.sep if base_of_user else None
    kept: list[str] = []
    for entry in path:
        where = real(entry)
        if where in sites or (where.endswith(".zip") and where.startswith(base)):  # the environment's own
            # folders stay, even when one is the working directory
            kept.append(entry)
            continue
        if not entry or where in dropped or (user and where == real(user)) \
                or (user_base and where.startswith(user_base)):
            continue
        kept.append(entry)
    return tuple(kept)


def _prefix_libs() -> list[str]:
    """The standard library's folders of this interpreter."""
    import sysconfig  # imported by site already

    return [p for p in (sysconfig.get_path(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")) if p]


def dist_infos(paths: Sequence[str] | None = None) -> tuple[tuple[str, str, str], ...]:
    """(folder, normalised name, version) of every `*.dist-info` / `*.egg-info` folder on `paths`
    (default: `environment_path()`), in path order. Folder names give this without importlib.metadata, whose
    import alone costs tens of milliseconds; one scan per search path serves every lookup of a process."""
    return _scan(tuple(paths if paths is not None else environment_path()))


@cache
def _scan(paths: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
    found: list[tuple[str, str, str]] = []
    for entry in paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            m = _DIST_INFO.match(name)
            if m:
                found.append((entry or ".", normalize(m.group("name")), m.group("version")))
    return tuple(found)


def installed_versions(paths: list[str] | None = None) -> dict[str, str]:
    """Normalised distribution name → version on sys.path (first wins)."""
    found: dict[str, str] = {}
    for _, name, version in dist_infos(paths):
        found.setdefault(name, version)
    return found


def find_distribution(dist: str, paths: Sequence[str] | None = None) -> tuple[Path, str] | None:
    """(the folder holding it, its version) for a distribution on `paths` (default sys.path)."""
    want = normalize(dist)
    return next(((Path(folder), version) for folder, name, version in dist_infos(paths) if name == want), None)
