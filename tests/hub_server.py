"""A small Hub-like HTTP server on 127.0.0.1 for tests: the real `huggingface_hub` client talks to it.

It answers what `hf_hub_download`, `get_hf_file_metadata`, `get_safetensors_metadata` and `model_info`
ask of huggingface_hub 2.4.0:

- `HEAD`/`GET /{repo}/resolve/{revision}/{file}`: `X-Repo-Commit`, `ETag` (git blob sha1, or sha256 with
  `X-Linked-Etag`/`X-Linked-Size` for `.safetensors`), `Content-Length`, and `Range` requests (206);
- `GET /api/models/{repo}[/revision/{revision}]`: `sha`, `siblings`, `gated`;
- errors the way the Hub sends them: `X-Error-Code` `RepoNotFound`, `RevisionNotFound`, `EntryNotFound`
  (with `X-Repo-Commit`), `GatedRepo` (401 without a token, 403 with a wrong one).

Revisions may be branches, tags, commit shas or `refs/pr/N` (sent URL-encoded as `refs%2Fpr%2FN`).
Faults per repo: `"500"` (every request), `"slow"` (each answer waits `slow_s`), `"drop"` (a GET sends
half the body and closes the connection), `"stall"` (accepts and never answers), `"drip"` (answers one byte of
a never-ending header every `drip_s`). `stop_after` closes the server after that many requests, so
later requests are refused. The server always stops itself after `lifetime_s`.
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


def commit_of(repo_id: str, name: str) -> str:
    """A stable fake 40-hex commit sha."""
    return hashlib.sha1(f"{repo_id}@{name}".encode()).hexdigest()


def git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def safetensors_header(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    """A safetensors file holding only its header and zero bytes of data for the given tensors."""
    sizes = {"BF16": 2, "F16": 2, "F32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1, "I32": 4}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


@dataclass
class Repo:
    """One repo: refs (branch, tag or `refs/pr/N`) pointing at commits, and each commit's files."""

    commits: dict[str, dict[str, bytes]]
    refs: dict[str, str] = field(default_factory=dict)
    gated: bool = False
    private: bool = False
    fault: str | None = None

    def resolve(self, revision: str) -> str | None:
        if revision in self.commits:
            return revision
        return self.refs.get(revision)


@dataclass
class Request:
    method: str
    path: str
    authorization: str | None
    range: str | None


class HubServer:
    """A threaded Hub-like server; use as a context manager. `url` is its HF_ENDPOINT."""

    def __init__(self, repos: dict[str, Repo], *, token: str | None = None, slow_s: float = 3.0,
                 lifetime_s: float = 120.0, drip_s: float = 0.5) -> None:
        self.repos = repos
        self.drip_s = drip_s
        self.token = token
        self.slow_s = slow_s
        self.lifetime_s = lifetime_s
        self.stop_after: int | None = None
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True

    def __enter__(self) -> HubServer:
        self._thread.start()
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and close the listening socket: later connections are refused."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def count(self, method: str | None = None, contains: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests
                       if (method is None or r.method == method) and contains in r.path)

    def _record(self, req: Request) -> None:
        with self._lock:
            self.requests.append(req)
            n = len(self.requests)
        if self.stop_after is not None and n >= self.stop_after:
            threading.Thread(target=self.stop, daemon=True).start()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stopping the server ends them all

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, *, head: bool) -> None:
                server._record(Request(self.command, self.path, self.headers.get("Authorization"),
                                       self.headers.get("Range")))
                path = urlsplit(self.path).path
                try:
                    if path.startswith("/api/models/"):
                        self._api(path[len("/api/models/"):], head)
                    elif "/resolve/" in path:
                        self._resolve(path, head)
                    else:
                        self._error(404, {})
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _repo(self, repo_id: str, head: bool) -> Repo | None:
                repo = server.repos.get(repo_id)
                if repo is None:
                    self._error(404, {"X-Error-Code": "RepoNotFound",
                                      "X-Error-Message": "Repository not found"}, head)
                    return None
                if repo.fault == "slow":
                    time.sleep(server.slow_s)
                if repo.fault in ("stall", "drip"):
                    self._hold(repo.fault)
                    return None
                if repo.fault == "500":
                    self._error(500, {"X-Error-Message": "Internal Error"}, head)
                    return None
                auth = self.headers.get("Authorization")
                authorized = server.token is not None and auth == f"Bearer {server.token}"
                if repo.private and not authorized:
                    self._error(401, {"X-Error-Code": "RepoNotFound",
                                      "X-Error-Message": "Invalid username or password."}, head)
                    return None
                if repo.gated and not authorized:
                    self._error(401 if auth is None else 403,
                                {"X-Error-Code": "GatedRepo",
                                 "X-Error-Message": f"Access to model {repo_id} is restricted. You must "
                                                    "have access to it and be authenticated to access it. "
                                                    "Please log in."}, head)
                    return None
                return repo

            def _hold(self, fault: str) -> None:
                """Never answer (stall), or answer a byte at a time and never finish the header (drip)."""
                line = b"HTTP/1.0 200 OK\r\nX-Drip: " + b"x" * 1_000_000
                sent = 0
                while not server.stopped:
                    time.sleep(server.drip_s if fault == "drip" else 0.05)
                    if fault == "drip":
                        self.wfile.write(line[sent:sent + 1])
                        self.wfile.flush()
                        sent += 1

            def _resolve(self, path: str, head: bool) -> None:
                repo_part, rest = path.lstrip("/").split("/resolve/", 1)
                repo_id = unquote(repo_part)
                rev_q, _, filename = rest.partition("/")
                revision, filename = unquote(rev_q), unquote(filename)
                repo = self._repo(repo_id, head)
                if repo is None:
                    return
                commit = repo.resolve(revision)
                if commit is None:
                    self._error(404, {"X-Error-Code": "RevisionNotFound",
                                      "X-Error-Message": "Invalid rev id: " + revision}, head)
                    return
                data = repo.commits[commit].get(filename)
                if data is None:
                    self._error(404, {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found",
                                      "X-Repo-Commit": commit}, head)
                    return
                headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
                if filename.endswith(".safetensors"):
                    headers["X-Linked-Etag"] = f'"{hashlib.sha256(data).hexdigest()}"'
                    headers["X-Linked-Size"] = str(len(data))
                    headers["ETag"] = f'"{git_blob_sha(data)}"'
                else:
                    headers["ETag"] = f'"{git_blob_sha(data)}"'
                status, body = 200, data
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and not head:
                    start_s, _, end_s = rng[len("bytes="):].partition("-")
                    start = int(start_s)
                    end = min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
                    body = data[start:end + 1]
                    status = 206
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if head:
                    return
                if repo.fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def _api(self, rest: str, head: bool) -> None:
                repo_id, _, revision = rest.partition("/revision/")
                repo_id, revision = unquote(repo_id.rstrip("/")), unquote(revision) or "main"
                repo = self._repo(repo_id, head)
                if repo is None:
                    return
                commit = repo.resolve(revision)
                if commit is None:
                    self._error(404, {"X-Error-Code": "RevisionNotFound"}, head)
                    return
                info = {"id": repo_id, "modelId": repo_id, "sha": commit, "private": repo.private,
                        "gated": "manual" if repo.gated else False,
                        "siblings": [{"rfilename": f} for f in sorted(repo.commits[commit])]}
                self._json(200, info, head)

            def _json(self, status: int, obj: object, head: bool) -> None:
                body = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _error(self, status: int, headers: dict[str, str], head: bool = False) -> None:
                body = json.dumps({"error": headers.get("X-Error-Message", "error")}).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        return Handler


def cache_files(cache_dir: str) -> Iterator[str]:
    """Every file under a huggingface_hub cache dir, relative (for asserting what a failure left)."""
    import os

    for root, _dirs, files in os.walk(cache_dir):
        for f in files:
            yield os.path.relpath(os.path.join(root, f), cache_dir)


# --- fixture repos and environment for the tests -------------------------------------------------------

FIXTURES = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures"
TOKEN = "hf_tEsTsEcReT0123456789abcdefGHIJ"
"""The token the server accepts for gated and private repos; the tests assert it never shows up."""


def _fixture(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def hub_repos() -> dict[str, Repo]:
    """The repos the tests serve, each showing one case."""
    phi_cfg = _fixture("configs/microsoft__phi-2__phi-msft-remote-code.json")
    phi_code = {"configuration_phi.py": _fixture("remote-code/phi-msft/configuration_phi.py"),
                "modeling_phi.py": _fixture("remote-code/phi-msft/modeling_phi.py")}
    pr_code = dict(phi_code, **{"modeling_phi.py": phi_code["modeling_phi.py"].replace(
        b"supports_gradient_checkpointing = False", b"supports_gradient_checkpointing = True")})
    weights = safetensors_header({"embed.weight": ("F16", [64, 32]), "lm_head.weight": ("F16", [64, 32]),
                                  "norm.weight": ("F32", [32])})
    phi_main, phi_pr = commit_of("microsoft/phi-2", "main"), commit_of("microsoft/phi-2", "refs/pr/23")
    hard_cfg = json.dumps({"model_type": "hardflash", "architectures": ["HardFlashForCausalLM"],
                           "auto_map": {"AutoModelForCausalLM": "modeling_hardflash.HardFlashForCausalLM"},
                           "hidden_size": 64, "num_attention_heads": 4}).encode()
    llama_cfg = _fixture("configs/meta-llama__Meta-Llama-3.1-8B.json")
    shard_a = safetensors_header({"a.weight": ("BF16", [128, 128])})
    shard_b = safetensors_header({"b.weight": ("BF16", [128, 64]), "b.bias": ("F32", [64])})
    index = json.dumps({"metadata": {"total_size": 0}, "weight_map": {
        "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors",
        "b.bias": "model-00002-of-00002.safetensors"}}).encode()
    qwen_cfg = _fixture("configs/Qwen__Qwen2.5-7B.json")

    def single(repo: str, files: dict[str, bytes], **kw: Any) -> Repo:
        c = commit_of(repo, "main")
        return Repo(commits={c: files}, refs={"main": c}, **kw)

    return {
        "microsoft/phi-2": Repo(
            commits={phi_main: {"config.json": phi_cfg, "model.safetensors": weights, **phi_code},
                     phi_pr: {"config.json": phi_cfg, "model.safetensors": weights, **pr_code}},
            refs={"main": phi_main, "refs/pr/23": phi_pr, "v1.0": phi_main}),
        "somosnlp/phi-2-LC": single("somosnlp/phi-2-LC",
                                    {"config.json": _fixture("configs/somosnlp__phi-2-LC__native-phi.json")}),
        "org/hardflash": single("org/hardflash", {
            "config.json": hard_cfg,
            "modeling_hardflash.py": _fixture("remote-code/flash-hard/modeling_hardflash.py")}),
        "org/sharded": single("org/sharded", {
            "config.json": qwen_cfg, "model.safetensors.index.json": index,
            "model-00001-of-00002.safetensors": shard_a, "model-00002-of-00002.safetensors": shard_b}),
        "meta-llama/Meta-Llama-3.1-8B": single("meta-llama/Meta-Llama-3.1-8B",
                                               {"config.json": llama_cfg, "model.safetensors": weights},
                                               gated=True),
        "org/private": single("org/private", {"config.json": qwen_cfg}, private=True),
        "org/down": single("org/down", {"config.json": qwen_cfg}, fault="500"),
        "org/slow": single("org/slow", {"config.json": qwen_cfg}, fault="slow"),
        "org/drop": single("org/drop", {"config.json": qwen_cfg}, fault="drop"),
        "org/truncated": single("org/truncated", {"config.json": qwen_cfg[: len(qwen_cfg) // 2]}),
        "org/array": single("org/array", {"config.json": b'[{"model_type": "llama"}]'}),
        "org/huge": single("org/huge", {"config.json": b'{"pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'}),
        "org/no-config": single("org/no-config", {"README.md": b"# nothing\n"}),
        "Qwen/Qwen2.5-7B": single("Qwen/Qwen2.5-7B", {"config.json": qwen_cfg}),
        "tiiuae/falcon-40b": single("tiiuae/falcon-40b",
                                    {"config.json": _fixture("configs/tiiuae__falcon-40b__native-falcon.json")}),
    }


def point_env_at(monkeypatch: Any, url: str, home: str, *, token: str | None = None) -> str:
    """Point HF_ENDPOINT/HF_HOME at URL/HOME for one test; returns the hub cache dir.

    advisor reads these variables at call time, so setting them here is enough for it. huggingface_hub
    read its own copies at import; the one it still uses on its own is the saved-token path (a token
    left by `hf auth login` on the machine would be sent), so that constant is patched to a file
    under HOME that does not exist.
    """
    import huggingface_hub.constants as hf_constants

    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
                 "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_ENDPOINT", url)
    monkeypatch.setenv("HF_HOME", home)
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "4")
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "6")
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", f"{home}/no-token")
    if token is not None:
        monkeypatch.setenv("HF_TOKEN", token)
    return f"{home}/hub"
