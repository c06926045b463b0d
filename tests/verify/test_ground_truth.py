"""Ground truth on this CPU: the rules' predictions against what verify observes, per fixture config.

For every config in fixtures/configs whose architecture the installed transformers has, verify tries
sdpa, eager, flex_attention and flash_attention_2 in float32, and the recommended attention in bfloat16,
in one worker process shared by all configs. flex_attention runs through its eager fallback here
(compiled, it takes 40-80 s per shape on 2 cores); test_flex_compiled covers the compiled path once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.api import gather
from advisor.facts.bundle import Request
from advisor.verify.core import VerifyOptions, verify_candidates
from advisor.verify.runner import WorkerPool
from advisor.verify.types import Candidate, VerifyReport

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "fixtures" / "configs").glob("*.json"))
KNOWN = tomllib.loads((Path(__file__).parent / "known_differences.toml").read_text()).get("difference", [])
OPTIONS = VerifyOptions(seq_len=24, new_tokens=3, repeats=0, max_params=16_000_000, timeout_s=180)
ATTN = ("sdpa", "eager", "flex_attention", "flash_attention_2")


def candidates(report_attn: str | None) -> list[Candidate]:
    out = [Candidate(a, "float32") for a in ATTN]
    return [*out, Candidate(report_attn, "bfloat16")]


@pytest.fixture(scope="module")
def reports() -> Iterator[dict[str, VerifyReport]]:
    out: dict[str, VerifyReport] = {}
    with WorkerPool(compile_flex=False, timeout_s=OPTIONS.timeout_s) as pool:
        for path in CONFIGS:
            facts = gather(str(path), request=Request(offline=True))
            from advisor.api import recommend

            attn = recommend(facts).flags.get("attn_implementation")
            out[path.name] = verify_candidates(facts, candidates(attn if isinstance(attn, str) else None),
                                               OPTIONS, pool=pool)
    yield out


def known(config: str, cand: Candidate) -> str | None:
    for entry in KNOWN:
        if entry["config"] == config and entry["attn"] == (cand.attn or "") and entry["dtype"] == cand.dtype:
            return str(entry["reason"])
    return None


def test_agreement(reports: dict[str, VerifyReport]) -> None:
    agreed = run = 0
    unexplained, stale = [], []
    for name, report in sorted(reports.items()):
        for row in report.results:
            if row.agrees is None:
                continue
            run += 1
            agreed += row.agrees
            listed = known(name, row.candidate)
            if not row.agrees and listed is None:
                o = row.outcome
                unexplained.append(f"{name} {row.candidate.label}: rules {row.prediction.verdict} "
                                   f"{row.prediction.rules}, observed {o.verdict if o else '-'} "
                                   f"{o.stage if o else ''} {o.error if o else ''}")
            if row.agrees and listed is not None:
                stale.append(f"{name} {row.candidate.label}: listed ({listed}) but now agrees")
    print(f"\nground truth on this CPU: {agreed}/{run} cases agreed, {len(reports)} configs")
    assert run >= 40, "too few cases ran: the suite no longer exercises verify"
    assert not unexplained, "disagreements not in known_differences.toml:\n" + "\n".join(unexplained)
    assert not stale, "\n".join(stale)


def test_every_native_config_was_built(reports: dict[str, VerifyReport]) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    for name, report in reports.items():
        native = report.model.get("model_type") in CONFIG_MAPPING_NAMES
        if native:
            assert report.skipped is None, f"{name}: {report.skipped}"
            assert report.built.get("parameters", 0) <= OPTIONS.max_params  # type: ignore[operator]
        elif report.skipped is None:
            assert any("native" in n for n in report.notes), name


def test_remote_code_only_is_skipped_with_reason(reports: dict[str, VerifyReport]) -> None:
    for name in ("Qwen__Qwen-7B.json", "internlm__internlm2-chat-7b-sft.json"):
        report = reports[name]
        assert report.skipped is not None and "remote code" in report.skipped
        assert all(r.outcome is None for r in report.results)


def test_numerics_consistent_where_it_ran(reports: dict[str, VerifyReport]) -> None:
    for name, report in reports.items():
        for row in report.results:
            if row.outcome is not None and row.outcome.ran:
                assert row.consistent is not False, (name, row.candidate.label, row.outcome.rel_error)


def test_real_head_shape_kept(reports: dict[str, VerifyReport]) -> None:
    for name in ("meta-llama__Meta-Llama-3.1-8B.json", "Qwen__Qwen2.5-7B.json", "google__gemma-2-9b-it.json"):
        built = reports[name].built
        assert built["shape"]["head_dim"] == built["real_shape"]["head_dim"], name
        assert built["shape"]["num_attention_heads"] == built["real_shape"]["num_attention_heads"], name
        assert built["shape"]["num_key_value_heads"] == built["real_shape"]["num_key_value_heads"], name
