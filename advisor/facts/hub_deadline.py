"""A total deadline over every request huggingface_hub makes for one model: a Hub that stalls or drips
bytes ends in exit 3 within it.

httpx's timeouts bound each socket operation, not a request: a server that sends one byte every few seconds
never trips a read timeout, and huggingface_hub retries a timeout several times with back-off. Here the
network streams of huggingface_hub's shared client are wrapped so that every connect, read and write waits
at most what is left of the deadline, and once it has passed they raise `HubDeadline`, which httpx passes
through and huggingface_hub does not retry. Outside `deadline()` the streams behave as before.

The deadline is `ADVISOR_HUB_DEADLINE` seconds (default 30), raised to huggingface_hub's own
`HF_HUB_ETAG_TIMEOUT` / `HF_HUB_DOWNLOAD_TIMEOUT` when one of those is longer, so a user who gave a slow
link more time keeps it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

DEFAULT_DEADLINE_S = 30.0
ENV = "ADVISOR_HUB_DEADLINE"

_lock = threading.Lock()
_ends: list[tuple[float, float]] = []
"""(monotonic end, seconds) of each deadline in force (one per model being read; the earliest counts)."""


class HubDeadline(Exception):
    """The total deadline passed while huggingface_hub was talking to the Hub; its text is the seconds."""


def deadline_seconds(etag_timeout: float = 0.0, download_timeout: float = 0.0) -> float:
    """`ADVISOR_HUB_DEADLINE` (seconds > 0), else the default; never less than huggingface_hub's timeouts."""
    raw = os.environ.get(ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_DEADLINE_S
    except ValueError:
        value = DEFAULT_DEADLINE_S
    if not 0 < value < 1e6:  # NaN, negative, absurd: the default
        value = DEFAULT_DEADLINE_S
    if raw.strip():
        return value
    return max(value, etag_timeout, download_timeout)


def _earliest() -> tuple[float, float] | None:
    with _lock:
        return min(_ends) if _ends else None


def left() -> float | None:
    """Seconds left of the deadline in force; None when there is none."""
    found = _earliest()
    return None if found is None else found[0] - time.monotonic()


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every Hub request made inside ends within SECONDS from now (HubDeadline past it)."""
    _install()
    entry = (time.monotonic() + seconds, seconds)
    with _lock:
        _ends.append(entry)
    try:
        yield
    finally:
        with _lock:
            _ends.remove(entry)


def _cap(timeout: float | None) -> float | None:
    """TIMEOUT, or what is left of the deadline when that is shorter; HubDeadline when nothing is left."""
    found = _earliest()
    if found is None:
        return timeout
    remaining = found[0] - time.monotonic()
    if remaining <= 0:
        raise HubDeadline(f"{found[1]:g}")
    return remaining if timeout is None or remaining < timeout else timeout


class _Stream:
    """A network stream whose every operation waits at most what is left of the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(lambda t: self._inner.read(max_bytes, t), timeout)  # type: ignore[no-any-return]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda t: self._inner.write(buffer, t), timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        return _Stream(_bounded(lambda t: self._inner.start_tls(ssl_context, server_hostname, t), timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend:
    """huggingface_hub's network backend, with streams bounded by the deadline."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> _Stream:
        return _Stream(_bounded(lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
                                timeout))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> _Stream:
        return _Stream(_bounded(lambda t: self._inner.connect_unix_socket(path, t, socket_options), timeout))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bounded(op: Any, timeout: float | None) -> Any:
    """OP(timeout capped by the deadline); a timeout that the deadline caused is HubDeadline, not retried."""
    capped = _cap(timeout)
    try:
        return op(capped)
    except Exception as exc:
        found = _earliest()
        if type(exc).__name__.endswith("Timeout") and capped != timeout and found is not None:
            raise HubDeadline(f"{found[1]:g}") from None
        raise


def _install() -> None:
    """Wrap the network backend of huggingface_hub's shared client (once per client)."""
    from huggingface_hub import get_session  # huggingface_hub only when the Hub is asked

    client = get_session()
    mounts = getattr(client, "_mounts", None) or {}
    for transport in (getattr(client, "_transport", None), *mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
