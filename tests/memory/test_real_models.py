"""The advisor's counts against real transformers models, built in one subprocess per kind.

Parameters: every fixture config whose architecture the installed transformers has, built on the meta
device and tied, each shared tensor counted once. Cache: scaled-down random models of the same attention
structure, run on the CPU with a real cache; the bytes it holds against the advisor's per-token figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from advisor.facts.model import _text_config
from advisor.memory.kvcache import cache_spec
from advisor.memory.params import count_parameters
from tests.memory import coverage
from tests.memory.conftest import CONFIGS

HELPER = Path(__file__).with_name("real_models.py")


def _run(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, str(HELPER), *args], capture_output=True, text=True, timeout=300,
                          check=True)
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


@pytest.fixture(scope="module")
def meta_counts() -> dict[str, int | None]:
    files = sorted(str(p) for p in CONFIGS.glob("*.json"))
    return {Path(k).stem: v for k, v in _run("params", *files).items()}


@pytest.fixture(scope="module")
def real_caches() -> dict[str, Any]:
    return _run("kv")


def test_parameter_counts_match_transformers(meta_counts: dict[str, int | None]) -> None:
    """Every fixture config transformers builds: an exact count equals its own, an estimate (a wrapper's towers)
    stays within the estimate's bounds."""
    compared = exact = 0
    for name, real in sorted(meta_counts.items()):
        if real is None:
            continue
        cfg = json.loads((CONFIGS / f"{name}.json").read_text())
        count = count_parameters(cfg, _text_config(cfg), cfg.get("model_type"), cfg["architectures"][0])
        assert not isinstance(count, str), f"{name}: {count}"
        if count.exact:
            assert count.total == real, f"{name}: advisor {count.total}, transformers {real}"
            exact += 1
        else:
            assert coverage.bucket(count.total, real, False) == "estimate", (name, count.total, real)
        compared += 1
    assert compared >= 20 and exact >= 18


def test_cache_bytes_match_a_real_forward_pass(real_caches: dict[str, Any]) -> None:
    assert set(real_caches) == {"llama", "mistral", "gemma2", "deepseek_v3", "jamba", "mamba", "t5"}
    for name, run in real_caches.items():
        cfg, seq, batch, size = run["config"], run["seq"], run["batch"], run["dtype_bytes"]
        spec = cache_spec(cfg, cfg, cfg["model_type"], None, mla_latent=True)
        measured: dict[str, int] = run["bytes"]
        attention = sum(v for k, v in measured.items() if k in ("self:full", "self:window"))
        states = measured.get("self:state", 0)
        cross = measured.get("cross:full", 0)
        expect_states = batch * sum(c.state for c in spec.layers) * size
        expect_cross = batch * spec.cross_per_token * seq * size
        expect_attention = batch * spec.elements(seq) * size - expect_states - expect_cross
        assert (attention, states, cross) == (expect_attention, expect_states, expect_cross), name


def test_windows_are_capped_and_states_do_not_grow(real_caches: dict[str, Any]) -> None:
    mistral, gemma = real_caches["mistral"], real_caches["gemma2"]
    assert set(mistral["bytes"]) == {"self:window"}
    assert mistral["seq"] > mistral["config"]["sliding_window"]
    assert set(gemma["bytes"]) == {"self:window", "self:full"}
    spec = cache_spec(real_caches["mamba"]["config"], real_caches["mamba"]["config"], "mamba", None)
    assert spec.elements(10) == spec.elements(10_000) > 0
    assert spec.per_token() == 0
