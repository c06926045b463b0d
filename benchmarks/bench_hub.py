"""Time loading a model's facts from the Hub (a local Hub-like server), from the cache, and from the catalog.

Run: python benchmarks/bench_hub.py [--repeat N]   (127.0.0.1 only; temporary folders only)

Rows: a cold fetch (empty cache: HEAD + GET of config.json, the remote code, the safetensors headers), a
warm online fetch (cache filled: HEAD requests only), an offline read of the cache, a catalog answer
(offline, empty cache), and the import cost the Hub path adds to a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.facts.locate import load_model  # noqa: E402
from tests.hub_server import HubServer, hub_repos  # noqa: E402


def timed(fn: Callable[[], object], repeat: int, before: Callable[[], None] = lambda: None) -> list[float]:
    out = []
    for _ in range(repeat):
        before()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def fresh_home() -> None:
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="bench-hf-")


def process_seconds(code: str, repeat: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
        times.append(time.perf_counter() - t)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    n = ap.parse_args().repeat
    rows: list[tuple[str, list[float], str]] = []
    with HubServer(hub_repos(), lifetime_s=300) as server:
        os.environ.update(HF_ENDPOINT=server.url, HF_HUB_ETAG_TIMEOUT="5", HF_HUB_DOWNLOAD_TIMEOUT="5")
        for name in ("HF_HUB_OFFLINE", "HF_TOKEN", "HF_HUB_CACHE"):
            os.environ.pop(name, None)
        for repo, what in (("microsoft/phi-2", "config + 2 .py + safetensors header"),
                           ("Qwen/Qwen2.5-7B", "config only, no safetensors")):
            before = server.count()
            cold = timed(lambda r=repo: load_model(r), n, fresh_home)  # type: ignore[misc]
            per = (server.count() - before) // n
            rows.append((f"cold fetch {repo}", cold, f"{what}; {per} requests"))
            before = server.count()
            warm = timed(lambda r=repo: load_model(r), n)  # type: ignore[misc]
            rows.append((f"cached, online {repo}", warm, f"{(server.count() - before) // n} requests"))
            offline = timed(lambda r=repo: load_model(r, offline=True), n)  # type: ignore[misc]
            rows.append((f"cached, offline {repo}", offline, "0 requests"))
        fresh_home()
        catalog = timed(lambda: load_model("Qwen/Qwen3-8B", offline=True), n)
        rows.append(("catalog, offline, empty cache", catalog, "lookup + copy of the config"))
    local = str(ROOT / "fixtures" / "configs" / "Qwen__Qwen2.5-7B.json")
    k = max(3, n // 4)
    rows.append(("process: load local config", process_seconds(
        f"from advisor.facts.locate import load_model; load_model({local!r})", k),
        "no huggingface_hub import"))
    rows.append(("process: import huggingface_hub parts", process_seconds(
        "import huggingface_hub.file_download, huggingface_hub.hf_api", k), "what a repo id adds"))

    print(f"{'operation':<40} {'median ms':>10} {'p90 ms':>9} {'min ms':>8}  notes")
    for name, times, note in rows:
        s = sorted(times)
        p90 = s[min(len(s) - 1, int(len(s) * 0.9))]
        print(f"{name:<40} {statistics.median(s) * 1e3:>10.2f} {p90 * 1e3:>9.2f} {s[0] * 1e3:>8.2f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
