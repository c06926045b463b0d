"""The bundled model catalog: its size, what loading it costs, and what it adds to `advisor recommend`.

    python benchmarks/bench_catalog.py [--repeat N]

Rows: the file (bytes, models, gzip size for comparison); parsing it (json.loads of the bytes, and the
same after gzip, which is how the choice of plain minified JSON was made); `catalog()` from a cleared
cache (read + parse + entries); a warm lookup; the first lookup in a fresh process; and whole
`advisor recommend --offline --format json` processes for a catalog model (gpt2, empty Hub cache) against
a local config.json (which never reads the catalog).
"""

from __future__ import annotations

import argparse
import gzip
import json
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

from advisor.core.data import data_path  # noqa: E402
from advisor.facts import model_catalog  # noqa: E402

LOCAL = ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json"
FRESH = """
import time
t = time.perf_counter()
from advisor.facts.model_catalog import catalog
t1 = time.perf_counter()
entry = catalog().lookup("mistralai/Mistral-7B-v0.1")
print((t1 - t) * 1e3, (time.perf_counter() - t1) * 1e3)
"""


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def process_ms(argv: list[str], repeat: int, env: dict[str, str]) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       timeout=120)
        out.append((time.perf_counter() - t) * 1e3)
    return out


def fresh_lookup_ms(repeat: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """(import of the catalog module, first lookup) in new processes, in ms."""
    imports, lookups = [], []
    for _ in range(repeat):
        run = subprocess.run([sys.executable, "-c", FRESH], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True, timeout=60)
        first, second = run.stdout.split()
        imports.append(float(first))
        lookups.append(float(second))
    return imports, lookups


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    n = ap.parse_args().repeat
    path = data_path(model_catalog.CATALOG_FILE)
    raw = path.read_bytes()
    packed = gzip.compress(raw, 9)
    doc = json.loads(raw)

    def reload() -> None:
        model_catalog.catalog.cache_clear()
        model_catalog.catalog()

    rows: list[tuple[str, list[float], str]] = [
        ("json.loads(bytes)", timed(lambda: json.loads(raw), n), "minified JSON, one entry per line"),
        ("gzip.decompress + json.loads", timed(lambda: json.loads(gzip.decompress(packed)), n),
         "the alternative, not taken"),
        ("catalog() from a cleared cache", timed(reload, n), "read + parse + entries"),
        ("lookup (warm), µs", [t * 1e3 for t in timed(lambda: model_catalog.catalog().lookup("gpt2"), n * 50)],
         "alias + dict"),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": f"{tmp}/hf", "HF_HUB_OFFLINE": "1",
               "ADVISOR_CACHE_DIR": f"{tmp}/advisor"}
        k = max(3, n // 4)
        imports, lookups = fresh_lookup_ms(k, env)
        rows.append(("fresh process: import model_catalog", imports, "advisor's core modules and json"))
        rows.append(("fresh process: first lookup", lookups, "what a catalog answer adds"))
        cmd = [sys.executable, "-m", "advisor", "recommend"]
        tail = ["--gpu", "A100-80GB", "--offline", "--format", "json"]
        process_ms([*cmd, str(LOCAL), *tail], 1, env)  # warm advisor's own caches (rule pack, parsed TOML)
        rows.append(("process: recommend local config", process_ms([*cmd, str(LOCAL), *tail], k, env),
                     "never reads the catalog"))
        rows.append(("process: recommend gpt2 (catalog)", process_ms([*cmd, "gpt2", *tail], k, env),
                     "huggingface_hub import + empty cache + catalog"))
    print(f"catalog: {len(doc['models'])} models, {len(raw):,} bytes ({len(packed):,} gzipped), "
          f"taken {doc['taken']}, {path}")
    print(f"{'operation':<40} {'median ms':>10} {'p90 ms':>9} {'min ms':>8}  notes")
    for name, times, note in rows:
        s = sorted(times)
        p90 = s[min(len(s) - 1, int(len(s) * 0.9))]
        print(f"{name:<40} {statistics.median(s):>10.3f} {p90:>9.3f} {s[0]:>8.3f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
