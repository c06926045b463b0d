"""A policy matrix shares work between its cases (engine/check.py groups, memory figures, derived facts); the
answers must be the ones each case gets on its own, with nothing remembered from any other case."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from advisor.ci.run import check_report
from advisor.core.logic import Unknown
from advisor.core.report import Case
from advisor.engine import advise, check, fixes, namespace
from advisor.engine.expr import Scope
from advisor.engine.keywords import keyword_facts
from advisor.engine.pack import fact_rules, load_flags
from advisor.facts import derived, gather, release_facts
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
SHARED = ((check, ("_GROUPED", "_PAIRS", "_OUTCOMES", "_COLUMNS", "_TRIES")), (fixes, ("_HOLDS",)),
          (derived, ("_SIDE", "_RUNS")), (release_facts, ("_RELEASES",)),
          (plan, ("_SIDES", "_FIGURES", "_PLANS", "_DEVICES", "_STATIC", "_ALIKE", "_LARGE")),
          (ledger, ("_SIZES",)), (advise, ("_PLANS", "_TARGETS", "_JSON")), (namespace, ("_BASES", "_PARTS")),
          (gather, ("_SOFTWARE_SIDE",)))
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


def plainly(facts: Any, flags: dict[str, Any]) -> tuple[Any, ...]:
    """The answer of check mode by its definition: every rule about every flag evaluated in a plain scope of the
    whole namespace (`build_namespace`), nothing remembered, no layers, no groups, a fresh memory plan."""
    specs = load_flags()
    names = check.canonical_names(specs)
    scope = Scope(namespace.build_namespace(facts))
    scope.dynamic = plan.MemoryPlan(facts)
    given = {}
    for key, value in flags.items():
        scope[f"kwarg.{key}"] = value
        given[names.get(key, key)] = check.normalize_value(names.get(key, key), value)
    scope.update(keyword_facts(scope, [k for k in flags if k not in names], set(names)))
    effective = check.effective_flags(scope, given)
    scope.update({f"flag.{k}": v for k, v in effective.items()})
    found, evaluations = [], []
    for rule in fact_rules():
        for flag in rule.flags or (None,):
            scope["value"] = effective.get(flag) if flag else None
            finding, evaluation = check._evaluate(rule, flag, scope)
            found += [finding] if finding is not None else []
            evaluations.append(evaluation)
    del scope["value"]
    vetted = fixes.FixVetter(scope, fact_rules(), specs).findings(found, effective)
    return answer(vetted, evaluations, {k: (None if isinstance(v, Unknown) else v) for k, v in effective.items()})


def test_every_case_of_a_matrix_answers_as_check_mode_is_defined(matrix: list[Case]) -> None:
    """The layers (a namespace without the hardware, computed once per model and software target), the groups
    and every memo together answer as evaluating each rule on the whole namespace does."""
    hardware = {gpu: hardware_of(Target(gpu=gpu)) for gpu in GPUS}
    software = {sw: software_of(Target(software_file=ROOT / "fixtures/software" / sw)) for sw in SOFTWARE}
    flag_sets = [tomllib.loads(f"f = {text}")["f"] for text in FLAGS]
    targets = {f"{gpu} · {sw.removesuffix('.json')}": (gpu, sw) for gpu in GPUS for sw in SOFTWARE}
    sources = {model: load_model(model) for model in {c.model for c in matrix}}
    differ = []
    for case in matrix:
        gpu, sw = targets[case.target]
        flags = flag_sets[int(Path(case.model).stem.rsplit("--", 1)[1])]
        forget()
        expected = plainly(facts_for(sources[case.model], hardware[gpu], software[sw], Request()), flags)
        if answer(case.findings, case.evaluations, case.flags) != expected:
            differ.append((case.model, case.target, flags))
    assert not differ, differ[:3]


def test_the_layers_merge_into_the_namespace() -> None:
    """{**base, **layer} has build_namespace's names and values, for targets with and without a GPU, and every
    GPU target of a model and software target shares one base."""
    source = load_model(str(CONFIGS / "Qwen__Qwen3-32B-FP8.json"))
    for sw in SOFTWARE:
        bases = []
        software, request = software_of(Target(software_file=ROOT / "fixtures/software" / sw)), Request()
        for gpu in ("H100", "A100-80GB", "MI300X", "none"):
            facts = facts_for(source, hardware_of(Target(gpu=gpu)), software, request)
            base, layer = namespace.namespace_layers(facts)
            assert {**base, **layer} == namespace.build_namespace(facts)
            bases.append(base)
        assert all(b is bases[0] for b in bases)


def test_the_collector_is_off_during_a_matrix_and_as_it_was_after() -> None:
    """No collection scans a matrix's values while it runs; afterwards the collector is as it was, and what the
    matrix left alive is out of its scans."""
    import gc

    from advisor.ci import matrix

    inside = []
    for before in (True, False):
        (gc.enable if before else gc.disable)()
        try:
            with matrix._no_collections():
                inside.append(gc.isenabled())
                made = [[i] for i in range(10)]
            assert gc.isenabled() is before
            assert gc.get_freeze_count() >= len(made)  # the lists made inside, at least
        finally:
            gc.enable()
            gc.unfreeze()
    assert inside == [False, False]
