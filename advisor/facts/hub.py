"""config.json, remote code and safetensors metadata of a Hub repo, through `huggingface_hub`.

`huggingface_hub` is imported inside the functions, only when a request will be made: an answer from the
local cache (offline mode) reads the cache's folders directly (`_cached`).

Settings are read from the environment at call time and passed to huggingface_hub explicitly
(`endpoint=`, `cache_dir=`, `etag_timeout=`): huggingface_hub copies HF_ENDPOINT, HF_HOME, HF_HUB_CACHE,
HF_HUB_OFFLINE and the timeouts into module constants when it is first imported, so reading them here
keeps a later change of the environment (a test, a notebook) effective. HF_TOKEN is read by
huggingface_hub itself on each request; it is never put in a message.

What reaches the cache is only what huggingface_hub wrote there: it downloads into a uniquely named
temporary file and renames it into place when complete (and deletes it on failure), so a failed
transfer leaves nothing behind. A config.json that is refused for its size is refused from the HEAD
answer, before any download. A config.json that downloads completely but does not parse stays in the
cache, exactly as the Hub serves it at that commit: the next run, online or offline, reads the same
bytes and gives the same error, and a fixed config in a new commit is a new cache entry.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from advisor.core.errors import FactsUnavailable, InputError
from advisor.core.frozen import frozen
from advisor.core.readfile import MAX_SOURCE_BYTES
from advisor.facts import hub_deadline
from advisor.facts.model_source import MAX_CONFIG_BYTES, ModelSource, parse_config

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from advisor.facts.remote_code import CodeRef

T = TypeVar("T")

DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_CODE_BYTES = MAX_SOURCE_BYTES
"""A remote-code file larger than this is not read (real ones are tens of KiB; `ast` needs ~600 B per byte)."""
MAX_REVISION_CHARS = 256

_REPO_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class HubUnreachable(FactsUnavailable):
    """Neither the Hub nor the local cache could answer (offline, unreachable, 5xx, timeout)."""


class HubAccessDenied(FactsUnavailable):
    """The Hub answered that the repo is gated or private and the token (if any) has no access."""


@frozen
class HubSettings:
    """The environment, read at call time."""

    endpoint: str
    cache_dir: str
    offline: bool
    etag_timeout: float
    download_timeout: float
    deadline: float = hub_deadline.DEFAULT_DEADLINE_S
    """Seconds all the requests for one model may take together (`hub_deadline`)."""

    @classmethod
    def from_env(cls, offline: bool = False) -> HubSettings:
        env = os.environ
        home = env.get("HF_HOME") or os.path.join(env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                                                  "huggingface")
        cache = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE") or os.path.join(home, "hub")
        etag = _seconds(env.get("HF_HUB_ETAG_TIMEOUT"), 10.0)
        download = _seconds(env.get("HF_HUB_DOWNLOAD_TIMEOUT"), 10.0)
        return cls(endpoint=(env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/"),
                   cache_dir=os.path.expandvars(os.path.expanduser(cache)),
                   offline=offline or _true(env.get("HF_HUB_OFFLINE"))
                   or _true(env.get("TRANSFORMERS_OFFLINE")),
                   etag_timeout=etag, download_timeout=download, deadline=hub_deadline.deadline_seconds(etag, download))


@contextlib.contextmanager
def _offline_mode(offline: bool) -> Iterator[None]:
    """huggingface_hub reads HF_HUB_OFFLINE once, at import, and checks its copy inside every call;
    make that copy agree with this call's decision (the environment may have changed since)."""
    import huggingface_hub.constants as constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = offline
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before


def _true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def _seconds(value: str | None, default: float) -> float:
    try:
        v = float(value) if value else default
    except ValueError:
        return default
    return v if v > 0 else default


def validate_repo_id(repo_id: str) -> str:
    """`org/name` or `name`, the way the Hub spells them; anything else is an InputError."""
    parts = repo_id.split("/")
    if not 1 <= len(parts) <= 2 or not all(_REPO_PART.match(p) for p in parts) or "--" in repo_id \
            or ".." in repo_id or repo_id.endswith(".git"):
        raise InputError(f"{_show(repo_id)}: not a local path nor a Hub repo id (expected org/name)")
    return repo_id


def validate_revision(revision: str) -> str:
    """A branch, tag, commit sha or `refs/pr/N`; path tricks and odd characters are an InputError."""
    shown = _show(revision)
    if not revision:
        raise InputError("--revision is empty")
    if len(revision) > MAX_REVISION_CHARS:
        raise InputError(f"--revision is {len(revision)} characters long; "
                         f"at most {MAX_REVISION_CHARS} allowed")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in revision):
        raise InputError(f"--revision {shown}: holds whitespace or control characters")
    if revision.startswith("/") or revision.endswith("/") or "//" in revision:
        raise InputError(f"--revision {shown}: a revision cannot start or end with '/' or hold '//'")
    if ".." in revision or any(part in (".", "") for part in revision.split("/")):
        raise InputError(f"--revision {shown}: '.' and '..' are not allowed in a revision")
    if any(c in revision for c in "\\~^:?*[") or "@{" in revision or revision.endswith(".lock"):
        raise InputError(f"--revision {shown}: holds a character git does not allow in a ref")
    return revision


def _show(text: str) -> str:
    """A user string for a one-line message: escaped, and cut when long."""
    r = repr(text[:80])[1:-1]
    return f"'{r}…'" if len(text) > 80 else f"'{r}'"


def load_from_hub(repo_id: str, *, revision: str | None = None, offline: bool = False) -> ModelSource:
    """config.json of REPO_ID at REVISION from the Hub, or from the local cache when the Hub is not reachable.

    Raises InputError for a bad repo id, revision or config; HubAccessDenied for a gated or private repo;
    HubUnreachable when neither the Hub nor the cache can answer; FactsUnavailable for a missing repo or
    revision.
    """
    validate_repo_id(repo_id)
    rev = validate_revision(revision) if revision is not None else "main"
    s = HubSettings.from_env(offline)
    if s.offline:  # no request will be made: the cache is read without importing huggingface_hub
        return _from_cache(repo_id, rev, s, "offline mode is on (--offline or HF_HUB_OFFLINE)")
    with _quiet(), _offline_mode(s.offline), hub_deadline.deadline(s.deadline):
        try:
            meta = _call(repo_id, rev, lambda: _head(repo_id, rev, "config.json", s))
        except HubUnreachable as exc:
            return _from_cache(repo_id, rev, s, str(exc))
        if meta.size is not None and meta.size > MAX_CONFIG_BYTES:
            raise InputError(f"{repo_id}@{rev}: config.json is {meta.size} bytes, more than the "
                             f"{MAX_CONFIG_BYTES} allowed")
        try:
            path = _call(repo_id, rev, lambda: _download(repo_id, rev, "config.json", s))
        except HubUnreachable as exc:
            return _from_cache(repo_id, rev, s, str(exc))
        commit = _commit_from_path(path, meta.commit_hash)
        config = _read_config(path, f"{repo_id}@{rev}")
        files, notes = _fetch_code(repo_id, commit, config, s, online=True)
        parameters, reason = _parameters(repo_id, commit, s)
        return ModelSource(id=repo_id, config=config, source="hub", revision=rev, commit=commit, files=files,
                           parameters=parameters, parameters_reason=reason, notes=tuple(notes),
                           parameters_source="safetensors metadata (Hub)" if parameters else None)


def _from_cache(repo_id: str, rev: str, s: HubSettings, why: str) -> ModelSource:
    """The cached copy of config.json at REV, with its remote code; HubUnreachable when there is none."""
    path = _cached(repo_id, rev, "config.json", s)
    if path is None:
        raise HubUnreachable(f"{repo_id}@{rev}: config.json is not in the local cache ({s.cache_dir}) "
                             f"and {why}")
    commit = _commit_from_path(path, None)
    config = _read_config(path, f"{repo_id}@{rev} (cached)")
    files, notes = _fetch_code(repo_id, commit, config, s, online=False)
    notes.insert(0, f"config.json came from the local cache at commit {commit}, not checked against the Hub "
                    f"({why})")
    return ModelSource(id=repo_id, config=config, source="cache", revision=rev, commit=commit, files=files,
                       parameters=None,
                       parameters_reason=f"safetensors metadata is read from the Hub, which was not used "
                                         f"({why})",
                       notes=tuple(notes))


def _cached(repo_id: str, rev: str, filename: str, s: HubSettings) -> str | None:
    """The cached FILENAME of REPO_ID at REV, or None: huggingface_hub's `try_to_load_from_cache` (2.4), read
    here so that an answer from the cache needs no import of huggingface_hub (~470 modules, 0.1 s or more).

    The layout is huggingface_hub's: `models--ORG--NAME/refs/REV` holds the commit a branch or tag resolved to,
    `snapshots/COMMIT/FILE` the file, `.no_exist/COMMIT/FILE` a file known to be absent. REPO_ID, REV and
    FILENAME are validated before they reach here (`validate_repo_id`, `validate_revision`, checked module
    names), so none of them leaves the cache folder.
    """
    repo = os.path.join(s.cache_dir, "--".join(("models", *repo_id.split("/"))))
    if not os.path.isdir(repo):
        return None
    commit = rev
    ref = os.path.join(repo, "refs", rev)
    if os.path.isfile(ref):
        try:
            with open(ref, encoding="utf-8") as f:
                commit = f.read(MAX_REVISION_CHARS + 1)
        except (OSError, UnicodeDecodeError):
            return None
    if not commit or os.path.isfile(os.path.join(repo, ".no_exist", commit, filename)):
        return None
    try:
        if commit not in os.listdir(os.path.join(repo, "snapshots")):
            return None  # as huggingface_hub: a snapshot folder of that exact name, never a path below one
    except OSError:
        return None
    found = os.path.join(repo, "snapshots", commit, filename)
    return found if os.path.isfile(found) else None


def _head(repo_id: str, rev: str, filename: str, s: HubSettings) -> Any:
    """One HEAD request, no retries: the metadata (commit, size) of FILENAME at REV."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, filename, revision=rev, endpoint=s.endpoint)
    return get_hf_file_metadata(url, timeout=s.etag_timeout, endpoint=s.endpoint, retry_on_errors=False)


def _download(repo_id: str, rev: str, filename: str, s: HubSettings) -> str:
    from huggingface_hub import hf_hub_download

    path = hf_hub_download(repo_id, filename, revision=rev, cache_dir=s.cache_dir, endpoint=s.endpoint,
                           etag_timeout=s.etag_timeout)
    return str(path)


def _commit_from_path(path: str, fallback: str | None) -> str | None:
    """The commit a cached file belongs to: its snapshot folder is named for it."""
    name = Path(path).parent.name
    return name if _COMMIT.match(name) else fallback


def _read_config(path: str, where: str) -> dict[str, Any]:
    try:
        size = os.path.getsize(path)
        if size > MAX_CONFIG_BYTES:
            raise InputError(f"{where}: config.json is {size} bytes, "
                             f"more than the {MAX_CONFIG_BYTES} allowed")
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FactsUnavailable(f"{where}: cannot read the cached config.json ({exc.strerror})") from None
    return parse_config(raw, where)


def _fetch_code(repo_id: str, commit: str | None, config: dict[str, Any], s: HubSettings, *,
                online: bool) -> tuple[dict[str, str], list[str]]:
    """The `.py` files `auto_map` points at, at the config's commit (another repo's at its default branch)."""
    files: dict[str, str] = {}
    notes: list[str] = []
    if not isinstance(config.get("auto_map"), dict):
        return files, notes
    from advisor.facts.remote_code import remote_code_refs  # ast and tomllib only for a config with remote code

    for ref in remote_code_refs(config):
        if ref.key in files:
            continue
        repo, rev = (repo_id, commit or "main") if ref.repo is None else (ref.repo, "main")
        try:
            path = _code_file(repo, rev, ref, s, online)
        except (FactsUnavailable, InputError) as exc:
            notes.append(f"remote code {ref.key} could not be read: {exc}")
            continue
        try:
            files[ref.key] = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            notes.append(f"remote code {ref.key} could not be read: {exc.strerror}")
            continue
        if ref.repo is not None:
            notes.append(f"auto_map loads {ref.class_name} from another repo, {ref.repo} (read at its main "
                         f"branch, commit {_commit_from_path(path, None)}); transformers takes it at "
                         f"code_revision, which defaults to that repo's main branch")
    return files, notes


def _code_file(repo: str, rev: str, ref: CodeRef, s: HubSettings, online: bool) -> str:
    cached = _cached(repo, rev, ref.file, s)
    if cached is not None or not online:
        if cached is None:
            raise HubUnreachable(f"{repo}@{rev}: {ref.file} is not in the local cache")
        size = os.path.getsize(cached)
    else:
        meta = _call(repo, rev, lambda: _head(repo, rev, ref.file, s))
        size = meta.size or 0
    if size > MAX_CODE_BYTES:
        raise InputError(f"{repo}@{rev}: {ref.file} is {size} bytes, more than the {MAX_CODE_BYTES} read")
    return cached if cached is not None else _call(repo, rev, lambda: _download(repo, rev, ref.file, s))


def _parameters(repo_id: str, commit: str | None, s: HubSettings) -> tuple[dict[str, int] | None, str | None]:
    """Parameter count per dtype from the safetensors headers (Range requests; no weights downloaded)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import NotASafetensorsRepoError, SafetensorsParsingError

    api: HfApi = HfApi(endpoint=s.endpoint)
    try:
        meta = _call(repo_id, commit or "main", lambda: api.get_safetensors_metadata(
            repo_id, revision=commit, timeout=s.download_timeout))
    except NotASafetensorsRepoError:
        return None, "the repo has no model.safetensors nor model.safetensors.index.json"
    except SafetensorsParsingError:
        return None, "a safetensors header in the repo could not be parsed"
    except (FactsUnavailable, InputError) as exc:
        return None, f"safetensors metadata could not be read: {exc}"
    counts = {str(k): int(v) for k, v in sorted(meta.parameter_count.items())}
    if not counts:
        return None, "the safetensors headers list no tensors"
    return counts, None


def _call(repo_id: str, rev: str, fn: Callable[[], T]) -> T:
    """Run one huggingface_hub call, turning its errors into advisor errors with one-line messages."""
    try:
        return fn()
    except Exception as exc:
        _raise_mapped(repo_id, rev, exc)


def _raise_mapped(repo_id: str, rev: str, exc: Exception) -> NoReturn:
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    at = f"{repo_id}@{rev}"
    token_hint = "set HF_TOKEN to a token of an account that has access"
    response = exc.response if isinstance(exc, HfHubHTTPError) else None
    status = response.status_code if response is not None else None
    if isinstance(exc, GatedRepoError) or (isinstance(exc, HfHubHTTPError) and status in (401, 403)
                                           and not isinstance(exc, RepositoryNotFoundError)):
        held = "the token in HF_TOKEN has no access" if _token_set() else "no token was sent"
        raise HubAccessDenied(f"{repo_id}: the repo is gated or private and {held} (HTTP {status}); "
                              f"accept its terms on the Hub and {token_hint}") from None
    if isinstance(exc, RepositoryNotFoundError):
        raise FactsUnavailable(f"{repo_id}: no such repo on {_endpoint_name()} (HTTP {status}); check the "
                               f"spelling, or if it is private {token_hint}") from None
    if isinstance(exc, RevisionNotFoundError):
        raise FactsUnavailable(f"{at}: the repo has no revision '{rev}'; use a branch, tag, commit sha or "
                               "refs/pr/N that exists") from None
    if isinstance(exc, RemoteEntryNotFoundError):
        raise InputError(f"{at}: the file is not in the repo (HTTP 404); is it a transformers model repo?") \
            from None
    if isinstance(exc, HFValidationError):
        raise InputError(f"{_show(repo_id)}: not a valid Hub repo id or revision") from None
    if isinstance(exc, LocalEntryNotFoundError | OfflineModeIsEnabled):
        raise HubUnreachable("huggingface_hub is in offline mode "
                             "(HF_HUB_OFFLINE was set when it was imported)") from None
    if isinstance(exc, hub_deadline.HubDeadline):
        raise HubUnreachable(f"the Hub at {_endpoint_name()} did not answer within the deadline of {exc} s for "
                             f"all its requests ({hub_deadline.ENV})") from None
    if isinstance(exc, httpx2.TimeoutException):
        raise HubUnreachable(f"the Hub at {_endpoint_name()} did not answer in time "
                             "(HF_HUB_ETAG_TIMEOUT / HF_HUB_DOWNLOAD_TIMEOUT)") from None
    if isinstance(exc, httpx2.ConnectError | httpx2.NetworkError | httpx2.RemoteProtocolError
                  | httpx2.ProxyError):
        raise HubUnreachable(f"the connection to the Hub at {_endpoint_name()} failed "
                             f"({type(exc).__name__})") from None
    if isinstance(exc, HfHubHTTPError):
        raise HubUnreachable(f"the Hub at {_endpoint_name()} answered HTTP {status}") from None
    if isinstance(exc, OSError):
        raise HubUnreachable(f"the download failed ({_first_line(exc)})") from None
    raise FactsUnavailable(f"{at}: huggingface_hub failed: {type(exc).__name__}: "
                           f"{_first_line(exc)}") from None


def _token_set() -> bool:
    return bool(os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"))


def _endpoint_name() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's text, with any token in the environment masked."""
    text = (str(exc).strip().splitlines() or [""])[0][:200]
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        token = os.environ.get(name)
        if token:
            text = text.replace(token, "***")
    return text


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence huggingface_hub's log lines and progress bars for the duration of a call, then restore them."""
    import logging
    import warnings

    import huggingface_hub.file_download
    import huggingface_hub.hf_api  # noqa: F401 - importing them first: their loggers reset the level
    from huggingface_hub.utils.tqdm import disable_progress_bars

    logger = logging.getLogger("huggingface_hub")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bars = disable_progress_bars()
    try:
        with bars:
            yield
    finally:
        logger.setLevel(level)
