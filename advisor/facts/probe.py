"""Do the installed GPU packages really import? An import probe in a subprocess, cached on disk.

Package metadata can say flash-attn is installed while its compiled module fails to load (built for
another torch). Each module is imported in a child interpreter with a timeout; a failure is kept as
the first line of its error. Only modules that are installed are probed, so nothing starts when none
is; results are cached, keyed by the package versions and the modules' file modification times.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Sequence

from advisor.core.cache import cache_read, cache_write
from advisor.core.fact import Fact
from advisor.core.frozen import frozen, replace
from advisor.facts.dists import environment_path
from advisor.facts.software import Package, Software

PROBE_MODULES: dict[str, tuple[str, ...]] = {
    "flash-attn": ("flash_attn", "flash_attn_2_cuda"),
    "flash-attn-3": ("flash_attn_interface",),
    "bitsandbytes": ("bitsandbytes",),
    "xformers": ("xformers",),
}
"""The import names to probe for each distribution."""
EXTENSION_MODULES = ("rotary_emb", "fused_dense_lib", "dropout_layer_norm")
"""flash-attn's separately built CUDA extensions (kernels.md §3)."""
DEFAULT_MODULES = (*(m for mods in PROBE_MODULES.values() for m in mods), *EXTENSION_MODULES)
KEY_DISTRIBUTIONS = ("torch", "flash-attn", "flash-attn-3", "bitsandbytes", "xformers", "triton")
"""Distributions whose versions decide whether the probed modules import."""
CACHE_FILE = "imports.json"
SOURCE = "import probe"
MAX_ERROR = 500

_CHILD = r"""
import json, os, sys
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
sys.path[:] = json.loads(sys.argv[1])
for name in sys.argv[2:]:
    out.write(json.dumps({"begin": name}) + "\n"); out.flush()
    try:
        __import__(name)
        result = {"module": name, "ok": True}
    except BaseException as exc:
        text = (type(exc).__name__ + ": " + str(exc)).strip()
        result = {"module": name, "ok": False, "error": text.splitlines()[0]}
    out.write(json.dumps(result) + "\n"); out.flush()
"""


@frozen
class ImportResult:
    """The outcome of importing one module."""

    module: str
    installed: bool
    imports: bool | None
    """None when the probe could not finish (timeout, no interpreter)."""
    error: str | None = None
    """The first line of the error, or why the probe did not finish."""
    origin: str | None = None
    cached: bool = False

    def fact(self) -> Fact[bool]:
        source = f"{SOURCE} (cached)" if self.cached else SOURCE
        if self.imports is None:
            return Fact.unknown(self.error or "the import probe did not finish", source)
        if not self.installed:
            return Fact.of(False, f"{source}: not installed")
        return Fact.of(self.imports, source if self.imports else f"{source}: {self.error}")


def probe_imports(modules: Sequence[str] = DEFAULT_MODULES, timeout: float = 20.0,
                  path: Sequence[str] | None = None) -> dict[str, ImportResult]:
    """Import each installed module in a subprocess, each within `timeout` seconds.

    `path` is searched before the environment's own path (`environment_path()`: never the working directory,
    PYTHONPATH or the user site). Modules that are not installed start nothing.
    """
    search = [*(path or ()), *environment_path()]
    results: dict[str, ImportResult] = {}
    found: dict[str, str | None] = {}
    for name in dict.fromkeys(modules):
        top = name.partition(".")[0]
        try:
            spec = importlib.machinery.PathFinder.find_spec(top, search)
        except (ImportError, ValueError, OSError):
            spec = None
        if spec is None:
            results[name] = ImportResult(name, installed=False, imports=False, error="not installed")
        else:
            locations = list(spec.submodule_search_locations or ())
            found[name] = spec.origin or (locations[0] if locations else None)
    if not found:
        return results
    fingerprint = _fingerprint(found, search)
    cache = cache_read(CACHE_FILE)
    pending: list[str] = []
    for name, origin in found.items():
        entry = cache.get(_key(fingerprint, name))
        if isinstance(entry, dict) and isinstance(entry.get("imports"), bool):
            error = entry.get("error")
            results[name] = ImportResult(name, True, entry["imports"],
                                         error if isinstance(error, str) else None, origin, cached=True)
        else:
            pending.append(name)
    fresh = _run(pending, search, timeout)
    updates: dict[str, object] = {}
    for name in pending:
        imports, error = fresh[name]
        results[name] = ImportResult(name, True, imports, error, found[name])
        if imports is not None:
            updates[_key(fingerprint, name)] = {"imports": imports, "error": error}
    if updates:
        cache_write(CACHE_FILE, updates, keep=256)
    return {name: results[name] for name in dict.fromkeys(modules)}


def apply_probe(software: Software, timeout: float = 20.0, skip: Collection[str] = ()) -> Software:
    """`software` with `imports` filled for the probed packages and the probed modules' facts updated.

    SKIP names distributions and modules to leave as they are (an overlay replaces or changes their import):
    their modules are not imported, unless a distribution that is probed needs them.
    """
    dists = {dist: names for dist, names in PROBE_MODULES.items() if dist not in skip}
    needed = {m for names in dists.values() for m in names}
    dropped = {*skip, *(m for d in skip for m in PROBE_MODULES.get(d, ()))}
    candidates = [m for m in (*DEFAULT_MODULES, *(m for m in software.modules if m not in DEFAULT_MODULES))
                  if m in needed or m not in dropped]
    results = probe_imports(candidates, timeout)
    packages = dict(software.packages)
    for dist, names in dists.items():
        package = packages.get(dist)
        if package is not None and package.installed:
            packages[dist] = _package_imports(package, [results[n] for n in names])
    modules = dict(software.modules)
    for name, result in results.items():
        if name not in dropped and (result.installed or name in modules):
            modules[name] = result.fact()
    return replace(software, packages=packages, modules=modules)


def _package_imports(package: Package, results: list[ImportResult]) -> Package:
    """A package imports when its modules do; the first failure is kept as its error."""
    version = package.version.value
    for result in results:
        if result.installed and result.imports is False:
            failed: Fact[bool] = Fact.of(False, f"{SOURCE}: {result.module}")
            return replace(package, imports=failed, import_error=result.error)
    for result in results:
        if result.installed and result.imports is None:
            return replace(package, imports=result.fact())
    if not any(r.installed for r in results):
        missing = ", ".join(r.module for r in results)
        error = f"{package.name} {version} is listed as installed but {missing} is not on the module path"
        return replace(package, imports=Fact.of(False, f"{SOURCE}: {missing} not found"), import_error=error)
    cached = " (cached)" if all(r.cached for r in results if r.installed) else ""
    return replace(package, imports=Fact.of(True, f"{SOURCE}{cached}"))


def _key(fingerprint: str, module: str) -> str:
    return f"{fingerprint}:{module}"


def _fingerprint(found: dict[str, str | None], search: list[str]) -> str:
    """A hash of the interpreter, the key distributions' versions and the modules' files."""
    parts: list[object] = [sys.executable, sys.version]
    for dist in KEY_DISTRIBUTIONS:
        parts.append((dist, _version(dist, search)))
    for name, origin in sorted(found.items()):
        try:
            st = os.stat(origin) if origin else None
        except OSError:
            st = None
        parts.append((name, origin, st.st_mtime_ns if st else None, st.st_size if st else None))
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


def _version(dist: str, search: list[str]) -> str | None:
    try:
        import importlib.metadata as md

        for d in md.distributions(name=dist, path=search):
            return str(d.version)
    except Exception:
        return "unreadable"
    return None


def _run(modules: list[str], search: list[str], timeout: float) -> dict[str, tuple[bool | None, str | None]]:
    """Import `modules` in child interpreters: a crash or a hang blames one module, the rest go on."""
    done: dict[str, tuple[bool | None, str | None]] = {}
    pending = list(modules)
    while pending:
        lines, ended = _child(pending, search, timeout)
        begun: str | None = None
        for line in lines:
            if "begin" in line:
                begun = str(line["begin"])
            elif line.get("module") in pending:
                error = line.get("error")
                done[str(line["module"])] = (bool(line.get("ok")),
                                             str(error)[:MAX_ERROR] if error is not None else None)
                begun = None
        pending = [m for m in pending if m not in done]
        if not pending:
            break
        if begun is None or begun not in pending:
            done.update((m, (None, f"the import probe failed: {ended}")) for m in pending)
            break
        done[begun] = (None, f"the import did not finish: {ended}") if "timed out" in ended \
            else (False, f"the import crashed the interpreter: {ended}")
        pending.remove(begun)
    return done


def _child(modules: list[str], search: list[str], timeout: float) -> tuple[list[dict[str, object]], str]:
    """Run the child for `modules`, each import within `timeout` s: its protocol lines and how it ended."""
    try:
        # isolated (-I: no working directory, user site or PYTHON* variables on its path), run from the root
        proc = subprocess.Popen([sys.executable, "-I", "-c", _CHILD, json.dumps(search), *modules],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=os.path.abspath(os.sep))
    except OSError as exc:
        return [], f"cannot start {sys.executable}: {exc}"
    assert proc.stdout is not None
    try:
        out, ended = _collect(proc, timeout, time.monotonic() + timeout)
    except BaseException:  # interrupted: the child does not outlive advisor
        _kill(proc)
        proc.wait()
        raise
    proc.stdout.close()
    code = proc.wait()
    if not ended:
        ended = f"exit status {code}" if code >= 0 else f"killed by signal {_signal_name(-code)}"
    lines: list[dict[str, object]] = []
    for raw in out.decode(errors="replace").splitlines():
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        if isinstance(item, dict):
            lines.append(item)
    return lines, ended


def _collect(proc: subprocess.Popen[bytes], timeout: float, deadline: float) -> tuple[bytes, str]:
    """The child's output until it ends or an import takes longer than TIMEOUT (then it is killed)."""
    assert proc.stdout is not None
    out = b""
    ended = ""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _kill(proc)
                ended = f"timed out after {timeout:g}s"
                break
            if not selector.select(left):
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            if b"\n" in chunk:
                deadline = time.monotonic() + timeout
            out += chunk
    return out, ended


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
