"""Benchmark: the memory plan for every fixture config on every catalog GPU, and the meta-device count.

Facts are built first (not timed); then, per pair, the plan, its ledger for the checkpoint dtype on one
GPU and the JSON (max_context and tensor-parallel search included) are timed. The counts come from
config.json alone (the formula table or the estimate: ADVISOR_NO_META_BUILD is set for the table); the last
lines time a meta-device build of a config outside the table, once in a fresh cache and once cached.
Run: python benchmarks/bench_memory.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from advisor import api
from advisor.facts.bundle import Request
from advisor.facts.gpu_catalog import load_catalog
from advisor.facts.locate import load_model
from advisor.memory.plan import plan_memory

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    os.environ["ADVISOR_NO_META_BUILD"] = "1"
    software = api.software_facts(api.Target(software_file=ROOT / "fixtures/software/cuda-tf5.23.json"))
    sources = [load_model(str(p)) for p in sorted((ROOT / "fixtures/configs").glob("*.json"))]
    gpus = [g.name for g in load_catalog()]
    pairs = [api.facts_for(s, api.hardware_facts(api.Target(gpu=g)), software, Request(context=8192, batch=4))
             for s in sources for g in gpus]
    scope = {"flag.device_map": {"": 0}}
    times: list[float] = []
    rows: dict[str, list[str]] = {}
    start = time.perf_counter()
    for f in pairs:
        t0 = time.perf_counter()
        out = plan_memory(f).report({**scope, "flag.dtype": f.model.checkpoint_dtype.value}).to_json()
        times.append(time.perf_counter() - t0)
        rows.setdefault(f.model.id.split("/")[-1][:44], []).append(
            {True: "y", False: ".", None: "?"}[out["fits"]])
    total = time.perf_counter() - start
    header = 'config (context 8192 x batch 4, one GPU)'
    print(f"{header:46} {' '.join(str(i % 10) for i in range(len(gpus)))}")
    for name, marks in rows.items():
        print(f"{name:46} {' '.join(marks)}")
    print("GPUs: " + ", ".join(f"{i % 10}={g}" for i, g in enumerate(gpus)) + "   (y fits, . does not, ? unknown)")
    print(f"{len(pairs)} plans ({len(sources)} configs x {len(gpus)} GPUs): total {total * 1000:.1f} ms, "
          f"median {statistics.median(times) * 1e6:.0f} us per plan")
    meta_build(software)


def meta_build(software: object) -> None:
    """A config outside the formula table, counted by a meta-device build: first in an empty cache, then cached."""
    path = ROOT / "fixtures/new-architectures/allenai__OLMoE-1B-7B-0125-Instruct.json"
    if not path.is_file():
        return
    del os.environ["ADVISOR_NO_META_BUILD"]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ADVISOR_CACHE_DIR"] = tmp
        f = api.facts_for(load_model(str(path)), api.hardware_facts(api.Target(gpu="H100")), software,  # type: ignore[arg-type]
                          Request())
        for label in ("meta-device build, empty cache", "meta-device build, cached"):
            t0 = time.perf_counter()
            plan = plan_memory(f)
            took = time.perf_counter() - t0
            count = plan.count
            print(f"{label}: {took * 1000:.1f} ms ({count.method if count else plan.reason})")


if __name__ == "__main__":
    main()
