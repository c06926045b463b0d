"""A policy matrix shares work between its cases (engine/check.py groups, memory figures, derived facts); the
answers must be the ones each case gets on its own, with nothing remembered from any other case."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from advisor.ci.run import check_report
from advisor.core.report import Case
from advisor.engine import advise, check, fixes
from advisor.facts import derived, release_facts
from advisor.facts.bundle import Request
from advisor.facts.gather import facts_for
from advisor.facts.locate import load_model
from advisor.facts.target import Target, hardware_of, software_of
from advisor.memory import ledger, plan

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "fixtures" / "configs"
MODELS = ("meta-llama__Meta-Llama-3.1-8B", "meta-llama__Llama-3.3-70B-Instruct", "Qwen__Qwen3-30B-A3B",
          "Qwen__Qwen3-32B-FP8", "google__gemma-2-9b-it", "openai__gpt-oss-20b")
FLAGS = ('{ attn_implementation = "flash_attention_2", torch_dtype = "bfloat16", device_map = "auto" }',
         '{ quantization_config = { load_in_4bit = true }, device_map = "auto" }',
         '{ device_map = { "" = 0 }, dtype = "float16" }', "{}")
GPUS = ("T4", "V100-16GB", "A100-80GB", "H100", "RTX4090", "B200", "MI300X")
SOFTWARE = ("torch-2.13-cu128-tf-5.23.json", "torch-2.5-cu124-tf-4.46-fa-2.6.3.json", "rocm-tf5.23.json")
SHARED = ((check, ("_GROUPED", "_PAIRS", "_OUTCOMES")), (fixes, ("_HOLDS",)), (derived, ("_SIDE", "_RUNS")),
          (release_facts, ("_RELEASES",)), (plan, ("_SIDES", "_FIGURES", "_PLANS", "_DEVICES")),
          (ledger, ("_SIZES",)), (advise, ("_PLANS", "_TARGETS", "_JSON")))
"""Everything a case may take from another: cleared before each case is checked on its own."""


def forget() -> None:
    for module, names in SHARED:
        for name in names:
            memo: dict[Any, Any] = getattr(module, name)  # a rename fails here, not silently
            memo.clear()


def answer(case_findings: Any, evaluations: Any, flags: dict[str, Any]) -> tuple[Any, ...]:
    return (sorted((f.rule, f.severity, f.message, f.fix, f.flag) for f in case_findings),
            [(e.rule, e.severity, e.status, e.message, e.flag, e.applicable) for e in evaluations], flags)


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    folder = tmp_path_factory.mktemp("sharing")
    lines = ["offline = true", f"gpus = {list(GPUS)!r}".replace("'", '"'), ""]
    for i, model in enumerate(MODELS):
        for k in range(i % 2, len(FLAGS)):  # every model with most flag sets, not all with all
            config = folder / f"{model}--{k}.json"  # the file names the job: the model and its flag set
            config.write_bytes((CONFIGS / f"{model}.json").read_bytes())
            lines += ["[[model]]", f'id = "{config.as_posix()}"', f"flags = {FLAGS[k]}", ""]
    for sw in SOFTWARE:
        lines += ["[[software]]", f'profile = "{(ROOT / "fixtures/software" / sw).as_posix()}"', ""]
    policy = folder / "advisor.toml"
    policy.write_text("\n".join(lines), encoding="utf-8")
    forget()
    return list(check_report(policy_file=policy, fail_on="info").cases)


def test_every_case_of_a_matrix_answers_as_it_does_alone(matrix: list[Case]) -> None:
    """Checked alone, with nothing remembered from the other cases, every case finds the same findings, fixes,
    evaluations and flags as in the matrix, where it shared with GPU and software targets that read alike."""
    assert len(matrix) == sum(len(FLAGS) - i % 2 for i in range(len(MODELS))) * len(GPUS) * len(SOFTWARE)
    hardware = {gpu: hardware_of(Target(gpu=gpu)) for gpu in GPUS}
    software = {sw: software_of(Target(software_file=ROOT / "fixtures/software" / sw)) for sw in SOFTWARE}
    flag_sets = [tomllib.loads(f"f = {text}")["f"] for text in FLAGS]
    targets = {f"{gpu} · {sw.removesuffix('.json')}": (gpu, sw) for gpu in GPUS for sw in SOFTWARE}
    differ = []
    kinds: set[str] = set()
    for case in matrix:
        gpu, sw = targets[case.target]
        config = Path(case.model)
        flags = flag_sets[int(config.stem.rsplit("--", 1)[1])]
        forget()
        alone = advise.check(facts_for(load_model(str(config)), hardware[gpu], software[sw], Request()), flags)
        kinds.update(f.rule.split("-")[0] for f in alone.findings)
        if answer(case.findings, case.evaluations, case.flags) != answer(alone.findings, alone.evaluations,
                                                                         alone.flags):
            differ.append((case.model, case.target, flags))
    assert not differ, differ[:3]
    assert {"FA2", "MEM", "QUANT", "DTYPE"} <= kinds  # the matrix reaches the rules that share the most
