"""Bounded, typed reads of the files advisor is given, and parsers whose every failure is an input error.

A path from the command line, a policy or a cloned repository is written by a stranger: it may name
`/dev/zero`, a FIFO that never delivers, a socket, a symlink loop, a path too long to resolve or one with
characters the file system cannot encode, and the file may be huge, undecodable or nested thousands deep.
Each of those ends here as one `InputError` (exit 2) naming the file and the problem, never a hang, an
out-of-memory or a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

from advisor.core.errors import InputError

MiB = 1024 * 1024
MAX_INPUT_BYTES = 4 * MiB
"""Profiles, policies, --flags files, lock files and config.json: real ones are a few KiB."""
MAX_SOURCE_BYTES = 1 * MiB
"""A Python file `advisor lint` or the remote-code reader parses with `ast` (real ones are tens of KiB).
`ast.parse` needs about 600 bytes of memory per source byte at worst (1 MiB of `x=1` lines: 635 MiB peak,
4.8 s), so this bound is also the memory bound of one file."""
MAX_SHOWN = 80
"""An input echoed in a message is cut to this many characters."""
MAX_DEPTH = 64
"""Lists and tables nested deeper than this are refused (real files nest a few levels)."""
MAX_NODES = 1_000_000
"""Values in one parsed file beyond this are refused (a 4 MiB file of `[]` holds a million)."""


def show(text: object, limit: int = MAX_SHOWN) -> str:
    """TEXT for a one-line message: control characters and lone surrogates escaped, cut when long."""
    raw = str(text)
    cut = raw[:limit]
    escaped = cut.encode("unicode_escape", "backslashreplace").decode("ascii") if not cut.isprintable() else cut
    return escaped + ("…" if len(raw) > limit else "")


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, UnicodeError):
        return "the path holds characters the file system cannot encode"
    return "the path is not valid (it holds a NUL character)"


def _open(path: Path | str, what: str, label: str | None, error: type[InputError]) -> tuple[int, os.stat_result]:
    """A descriptor of PATH and its status, when it is a regular file; opened without blocking, so that a
    FIFO answers at once instead of waiting for a writer."""
    name = show(path, 200) if label is None else label
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError, UnicodeError) as exc:
        raise error(f"{name}: cannot read {what} ({_why(exc)})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{name}: cannot read {what} (Is a directory)")
        raise error(f"{name}: {what} is not a regular file ({_kind(st.st_mode)})")
    return fd, st


def read_bytes(path: Path | str, what: str, limit: int = MAX_INPUT_BYTES,
               error: type[InputError] = InputError, label: str | None = None) -> bytes:
    """The bytes of PATH, a regular file of at most LIMIT bytes; ERROR (exit 2) otherwise, naming the file as
    LABEL (default: the path) and it as WHAT (`the policy`, `it`). Read to at most LIMIT + 1 bytes, whatever
    its size says."""
    name = show(path, 200) if label is None else label
    fd, st = _open(path, what, label, error)
    try:
        if st.st_size > limit:
            raise error(f"{name}: {what} is {st.st_size} bytes, more than the {limit} allowed")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, MiB))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise error(f"{name}: cannot read {what} ({_why(exc)})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error(f"{name}: {what} is more than the {limit} bytes allowed")
    return data


def open_regular(path: Path | str, what: str, error: type[InputError] = InputError,
                 label: str | None = None) -> BinaryIO:
    """PATH opened for reading as a binary stream, when it is a regular file (of any size): a FIFO, a device
    such as /dev/zero or a socket is ERROR at once, never a stream that blocks or never ends."""
    fd, _ = _open(path, what, label, error)
    return os.fdopen(fd, "rb")


def read_text(path: Path | str, what: str, limit: int = MAX_INPUT_BYTES,
              error: type[InputError] = InputError, label: str | None = None) -> str:
    """PATH as UTF-8 text (a BOM is dropped), bounded as `read_bytes`; ERROR when it is not UTF-8."""
    return decode(read_bytes(path, what, limit, error, label), f"{show(path, 200) if label is None else label}",
                  error)


def decode(data: bytes, where: str, error: type[InputError] = InputError) -> str:
    """DATA as UTF-8 text; ERROR naming WHERE and the first bad byte otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a file"


def _no_constant(name: str) -> float:
    """Python's json writes float("inf") as Infinity, and transformers' Mamba-2 configs hold one
    (`time_step_limit` = (0.0, inf)): infinities are read; NaN is refused."""
    if name in ("Infinity", "-Infinity"):
        return float(name.replace("Infinity", "inf"))
    raise ValueError(f"holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"holds the number {text[:40]}, too large for a float")
    return value


def load_json(text: str | bytes, where: str, error: type[InputError] = InputError) -> Any:
    """JSON TEXT as Python values; ERROR naming WHERE for bad syntax, encoding, nesting, NaN, a number literal
    that overflows a float (Infinity itself is read) or an integer of thousands of digits."""
    try:
        data = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text ({exc.reason})") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply") from None
    except ValueError as exc:  # a constant, an overflowing float, an integer past Python's digit limit
        raise error(f"{where}: {_first(exc)}") from None
    check_shape(data, where, error)
    return data


def load_toml(text: str, where: str, error: type[InputError] = InputError) -> dict[str, Any]:
    """TOML TEXT as a dict; ERROR naming WHERE for bad syntax or nesting too deep to parse."""
    import tomllib  # only when a TOML file is read

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        said = "" if "TOML" in where else "not valid TOML: "  # WHERE may say it already
        raise error(f"{where}: {said}{_first(exc)}") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise error(f"{where}: {_first(exc)}") from None
    check_shape(data, where, error)
    return data


def check_shape(data: Any, where: str, error: type[InputError] = InputError) -> None:
    """ERROR when DATA (parsed JSON or TOML) nests deeper than MAX_DEPTH or holds more than MAX_NODES values:
    code that walks it, renders it or copies it then never recurses past Python's limit. Iterative."""
    if not isinstance(data, dict | list):
        return
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 1
    while stack:
        value, depth = stack.pop()
        if depth >= MAX_DEPTH:
            raise error(f"{where}: nested more than {MAX_DEPTH} levels deep")
        items = value.values() if isinstance(value, dict) else value
        nodes += len(items)
        if nodes > MAX_NODES:
            raise error(f"{where}: holds more than {MAX_NODES} values")
        stack.extend((v, depth + 1) for v in items if isinstance(v, dict | list))


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
