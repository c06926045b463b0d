"""Time the attention-support lookups: cold static scan, warm cached lookup, table lookup, table load.

    python benchmarks/bench_transformers_support.py [--repeat N]

Each "cold" run uses an empty cache directory, so it scans the installed transformers source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from packaging.version import Version

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.facts import release_table
from advisor.facts import transformers_support as ts

CASES = (("llama", "LlamaForCausalLM"), ("gemma2", "Gemma2ForCausalLM"), ("t5", "T5ForConditionalGeneration"))


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def cold_scan(model_type: str, arch: str, installed: ts.InstalledTransformers) -> None:
    """One lookup against an empty cache directory: a full static scan."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADVISOR_CACHE_DIR"] = tmp
        ts.arch_support(model_type, [arch], installed.version, installed)


def load_cold() -> None:
    """The index and one release table, as a first lookup of a process reads them."""
    release_table.index.cache_clear()
    release_table._release_data.cache_clear()
    release_table.table_for(Version("4.46.0"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    installed = ts.installed_transformers()
    rows: list[tuple[str, list[float]]] = [
        ("installed_transformers()", timed(ts.installed_transformers, args.repeat)),
        ("table load (index + one release, cold)", timed(load_cold, args.repeat)),
    ]
    for model_type, arch in CASES:
        lookup = partial(ts.arch_support, model_type, [arch], Version("4.46.0"), None)
        rows.append((f"table lookup {arch} @4.46.0", timed(lookup, args.repeat)))
    if installed is not None:
        for model_type, arch in CASES:
            rows.append(
                (
                    f"cold static scan {arch}",
                    timed(partial(cold_scan, model_type, arch, installed), args.repeat),
                )
            )
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["ADVISOR_CACHE_DIR"] = tmp
            for model_type, arch in CASES:
                lookup = partial(ts.arch_support, model_type, [arch], installed.version, installed)
                lookup()
                rows.append((f"warm (cached) lookup {arch}", timed(lookup, args.repeat)))
    version = installed.version if installed else "none"
    print(f"transformers installed: {version}; repeat {args.repeat}; times in ms")
    print(f"{'action':<48} {'median':>8} {'min':>8} {'max':>8}")
    for name, values in rows:
        print(f"{name:<48} {statistics.median(values):8.2f} {min(values):8.2f} {max(values):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
