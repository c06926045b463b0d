"""A property over mutated configs of every family: gather → recommend → check → every format raises nothing but
advisor's own input errors. Fixed seed and a bounded number of examples here; `benchmarks/hostile_fuzz.py` runs
many more."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.hostile.fuzzing import BASES, TARGETS, mutated_configs, run_one

FOLDER = Path(tempfile.mkdtemp(prefix="advisor-property-"))
OUTCOMES: Counter[str] = Counter()


def test_every_family_is_among_the_bases() -> None:
    names = {name for name, _ in BASES}
    types = {cfg.get("model_type") for _, cfg in BASES}
    assert len(BASES) > 200 and {"llama", "t5", "jamba", "mamba", "deepseek_v3", "gemma2", "bert", "whisper",
                                 "qwen3_moe", "llama4"} <= types, sorted(names)[:5]


@seed(15)
@settings(max_examples=150, deadline=None, database=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated_configs(), gpu=st.sampled_from(TARGETS))
def test_mutated_configs_end_in_an_answer_or_an_input_error(case: tuple[str, dict[str, Any]], gpu: str) -> None:
    _, config = case
    OUTCOMES[run_one(config, gpu, FOLDER)] += 1


def test_the_property_saw_both_outcomes() -> None:
    """Run after the property (file order): it exercised answers and refusals, not only one of them."""
    if sum(OUTCOMES.values()) == 0:  # run alone (-k): nothing to judge
        return
    assert OUTCOMES["ok"] > 0 and OUTCOMES["input error"] > 0, OUTCOMES
