"""Every architecture of the installed transformers against its own builds: exact, an honest estimate, or
unknown, never low and never a wrong "exact" (see tests/memory/coverage.py for the buckets). The table of
every model type is printed by benchmarks/bench_memory_coverage.py."""

from __future__ import annotations

from typing import Any

import pytest

from advisor import api
from advisor.facts.bundle import Request
from advisor.facts.locate import load_model
from advisor.memory.plan import plan_memory
from advisor.memory.quant import DTYPE_BYTES
from tests.memory import coverage, truth
from tests.memory.conftest import ROOT

pytestmark = pytest.mark.usefixtures("ground_truth")


def _failures(rows: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{mt}: params {row['params']} ({row.get('params_pct')} %), cache {row['cache']} "
            f"(advisor {row['advisor']}, transformers {row['truth']})"
            for mt, row in rows.items() if row["params"] in coverage.FAILURES or row["cache"] in coverage.FAILURES]


def test_every_model_type_is_compared(ground_truth: dict[str, Any]) -> None:
    types = truth.model_types()
    assert len(types) > 300
    assert set(types) <= set(ground_truth)
    # no truth only where transformers' own default does not build (or cannot run a forward pass)
    rows = coverage.coverage(ground_truth)
    for mt, row in rows.items():
        if row["params"] == "no truth":
            rec = ground_truth[mt]
            assert rec.get("error") or rec.get("params_error"), mt
    built = sum(1 for row in rows.values() if row["params"] != "no truth")
    assert built > 270


def test_parameters_and_cache_are_exact_estimates_or_unknown(ground_truth: dict[str, Any]) -> None:
    rows = coverage.coverage(ground_truth)
    assert not _failures(rows), "\n".join(_failures(rows))
    params, cache = coverage.counts(rows, "params"), coverage.counts(rows, "cache")
    assert params.get("exact", 0) >= 45 and params.get("estimate", 0) >= 150, params
    assert cache.get("exact", 0) >= 240, cache


def test_configs_written_without_defaults_are_completed_from_the_config_classes(
        ground_truth: dict[str, Any]) -> None:
    rows = coverage.coverage(ground_truth, abbreviated=True)
    assert not _failures(rows), "\n".join(_failures(rows))
    full = coverage.coverage(ground_truth)
    answered = sum(1 for mt, row in rows.items() if row["params"] in ("exact", "estimate"))
    assert answered >= 0.95 * sum(1 for row in full.values() if row["params"] in ("exact", "estimate"))


def test_every_table_formula_is_exact_on_the_default_and_on_other_sizes(ground_truth: dict[str, Any]) -> None:
    checked = 0
    for mt in coverage.table_types(ground_truth):
        rec, other = ground_truth[mt], ground_truth[f"perturbed:{mt}"]
        for cfg, want in ((rec["config"], rec["params"]), (coverage.perturbed(rec["config"]), other.get("params"))):
            answer = coverage.advisor_answer(cfg)
            assert want is not None, (mt, other)
            assert answer.get("params_exact") and answer["params"] == want, (mt, answer, want)
        checked += 1
    assert checked >= 40


def _real(stem: str, gpu: str) -> tuple[Any, Any]:
    source = load_model(str(coverage.NEW_ARCHITECTURES / f"{stem}.json"))
    target = api.Target(gpu=gpu, software_file=ROOT / "fixtures/software/cuda-tf5.23.json")
    facts = api.facts_for(source, api.hardware_facts(target), api.software_facts(target), Request())
    return facts, plan_memory(facts)


@pytest.mark.parametrize("stem", sorted(coverage.real_configs()))
def test_real_configs_of_new_architectures(stem: str, ground_truth: dict[str, Any],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_META_BUILD", "1")  # the answer from config.json alone
    rec = ground_truth[f"real:{stem}"]
    facts, plan = _real(stem, "H100")
    count, spec = plan.count, plan.spec
    if stem in coverage.NO_TRUTH_CONFIGS:
        assert count is None or not count.exact
        return
    want = rec["params"]
    if count is not None:
        assert coverage.bucket(count.total, want, count.exact) in ("exact", "estimate"), (count.method, count.total)
    cache = rec.get("cache")
    if spec is not None and cache is not None:
        for got, real in ((spec.per_token(), cache["per_token"]), (spec.state, cache["state"])):
            assert coverage.bucket(got, real, spec.exact) in ("exact", "estimate"), (got, real)
    for gpu in ("L4", "A100-80GB", "H100", "H200", "B200"):
        facts, plan = _real(stem, gpu)
        chosen = api.recommend(facts).flags.get("device_map")
        if chosen != {"": 0}:
            continue
        assert count is not None, "an unknown count never gets one GPU"
        dtype = facts.model.checkpoint_dtype.value or "bfloat16"
        per = DTYPE_BYTES.get(dtype, 2)
        context = plan.context
        need = want * per + (cache["per_token"] * context + cache["state"]) * per if cache else want * per
        capacity = plan.devices[0].capacity or 0
        assert need <= capacity, f"{stem} on one {gpu}: needs {need / 2**30:.1f} GiB, has {capacity / 2**30:.1f}"
