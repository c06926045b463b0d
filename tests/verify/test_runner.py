"""The worker pool: a crashing candidate ends its worker, the next candidate runs in a fresh one; past the pool's
deadline nothing more runs."""

from __future__ import annotations

import json
import time
from pathlib import Path

from advisor.verify.runner import CUT, WorkerPool

ROOT = Path(__file__).resolve().parents[2]
PYTHIA = json.loads((ROOT / "fixtures/configs/EleutherAI__pythia-14m.json").read_text())


def job(candidates: list[dict[str, str | None]]) -> dict[str, object]:
    return {"model_type": "gpt_neox", "architecture": "GPTNeoXForCausalLM", "config": PYTHIA,
            "expect_shape": {}, "seq_len": 16, "new_tokens": 2, "layers": 1, "repeats": 0,
            "max_params": 2_000_000, "device": "cpu", "seed": 0, "candidates": candidates}


def test_crash_is_isolated_and_the_rest_still_runs() -> None:
    # A dtype torch does not have makes the worker die outside the per-stage error handling.
    seen: list[tuple[str, str | None]] = []
    with WorkerPool(compile_flex=False, timeout_s=120,
                    on_result=lambda cand, outcome: seen.append((cand["dtype"], outcome.get("stage")))) as pool:
        result = pool.run(job([{"attn": "eager", "dtype": "no_such_dtype"},
                               {"attn": "eager", "dtype": "float32"}]))
    assert seen == [("no_such_dtype", "crash"), ("float32", None)]  # each as soon as it is known
    crashed, ok = result.outcomes[0], result.outcomes[1]
    assert crashed["stage"] == "crash" and "AttributeError" in crashed["error"]
    assert ok["loaded"] and ok["ran"] and ok["effective_attn"] == "eager"
    assert result.model["class"] == "GPTNeoXForCausalLM"
    assert result.model["shape"]["head_dim"] == 32  # pythia-14m: 128 hidden, 4 heads


def test_timeout_while_building_is_reported() -> None:
    with WorkerPool(compile_flex=False, timeout_s=0.2) as pool:
        result = pool.run(job([{"attn": "eager", "dtype": "float32"}]))
    assert result.skipped is not None and "no answer within 0.2 s" in result.skipped
    assert result.outcomes == {}


def test_pool_reuses_one_worker_for_many_jobs() -> None:
    with WorkerPool(compile_flex=False, timeout_s=120) as pool:
        first = pool.run(job([{"attn": "sdpa", "dtype": "float32"}]))
        worker = pool._worker
        second = pool.run(job([{"attn": "sdpa", "dtype": "bfloat16"}]))
        assert pool._worker is worker
    assert first.outcomes[0]["ran"] and second.outcomes[0]["ran"]
    assert first.outcomes[0]["rel_error"] < 1e-3 < second.outcomes[0]["rel_error"] < 5e-2


def test_past_the_deadline_nothing_starts_and_the_rest_is_cut() -> None:
    with WorkerPool(compile_flex=False, timeout_s=120, deadline=time.monotonic() - 1) as pool:
        result = pool.run(job([{"attn": "eager", "dtype": "float32"}]))
        assert pool._worker is None
    assert result.cut == CUT and result.outcomes == {} and result.skipped is None


def test_the_deadline_stops_a_worker_that_is_still_busy() -> None:
    # importing torch and building the model take longer than the 0.3 s left: the wait is cut short
    with WorkerPool(compile_flex=False, timeout_s=120, deadline=time.monotonic() + 0.3) as pool:
        start = time.monotonic()
        result = pool.run(job([{"attn": "eager", "dtype": "float32"}, {"attn": "sdpa", "dtype": "float32"}]))
        assert time.monotonic() - start < 10 and pool._worker is None
    assert result.cut == CUT and result.outcomes == {} and result.skipped is None


def test_cut_candidates_are_reported_as_not_run() -> None:
    from advisor.api import Request, gather
    from advisor.verify.core import VerifyOptions, verify_candidates
    from advisor.verify.types import Candidate

    facts = gather(str(ROOT / "fixtures/configs/EleutherAI__pythia-14m.json"), request=Request(offline=True))
    with WorkerPool(compile_flex=False, timeout_s=120, deadline=time.monotonic() - 1) as pool:
        report = verify_candidates(facts, [Candidate("eager", "float32"), Candidate("sdpa", "float32")],
                                   VerifyOptions(max_params=2_000_000), pool=pool)
    assert [r.skipped for r in report.results] == [CUT, CUT] and report.skipped is None
