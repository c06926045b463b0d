"""Every rule has a case that fires it and one that evaluates it and lets it pass."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from advisor import api
from advisor.ci.run_rules import RUN_RULES
from advisor.core.frozen import replace
from advisor.core.results import CheckResult
from advisor.engine.pack import fact_rules, load_rules
from advisor.facts.bundle import Request
from advisor.facts.locate import load_model

ROOT = Path(__file__).resolve().parents[2]
CASES: dict[str, dict[str, Any]] = tomllib.loads((Path(__file__).parent / "cases.toml").read_text())
DEFAULT_MODEL = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
DEFAULT_SOFTWARE = "fixtures/software/cuda-tf5.23.json"


@pytest.fixture(autouse=True)
def _config_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules are checked on what advisor reads from config.json: no meta-device build, whatever is installed."""
    monkeypatch.setenv("ADVISOR_NO_META_BUILD", "1")


def run_case(case: dict[str, Any], tmp: Path) -> CheckResult:
    """Build the facts a case describes and check its flags."""
    source = load_model(str(ROOT / case.get("model", DEFAULT_MODEL)))
    if "override" in case:
        source = replace(source, config={**source.config, **case["override"]})
    if "source" in case:
        s = case["source"]
        source = replace(source, id="org/model", source=s["kind"], revision=s["revision"], commit=s["commit"])
    software = ROOT / case.get("software", DEFAULT_SOFTWARE)
    if "patch" in case:
        data = json.loads(software.read_text())
        for key, value in case["patch"].items():
            data[key] = {**data.get(key, {}), **value}
        software = tmp / "software.json"
        software.write_text(json.dumps(data))
    gpu = case.get("gpu", "A100-80GB") or None
    target = api.Target(gpu=gpu if "hardware" not in case else None,
                        hardware_file=ROOT / case["hardware"] if "hardware" in case else None,
                        software_file=software, with_packages=tuple(case.get("with", ())))
    request = Request(**case.get("request", {}))
    facts = api.facts_for(source, api.hardware_facts(target), api.software_facts(target), request)
    return api.check(facts, case.get("flags", {}))


def statuses(result: CheckResult, rule_id: str) -> list[tuple[str, bool]]:
    return [(e.status, e.applicable) for e in result.evaluations if e.rule == rule_id]


def test_every_rule_has_both_cases() -> None:
    ids = {r.id for r in fact_rules()}
    missing = sorted(i for i in ids if not {"fire", "pass"} <= set(CASES.get(i, {})))
    assert not missing, f"rules without a firing and a non-firing case: {missing}"
    assert not set(CASES) - ids, f"cases for rules that do not exist: {sorted(set(CASES) - ids)}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires(rule_id: str, tmp_path: Path) -> None:
    result = run_case(CASES[rule_id]["fire"], tmp_path)
    seen = statuses(result, rule_id)
    assert ("fail", True) in seen, f"{rule_id} did not fire: {seen}"
    assert any(f.rule == rule_id for f in result.findings)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_holds(rule_id: str, tmp_path: Path) -> None:
    case = CASES[rule_id]["pass"]
    result = run_case(case, tmp_path)
    seen = statuses(result, rule_id)
    assert seen, f"{rule_id} was not evaluated"
    assert all(s == "pass" for s, _ in seen), f"{rule_id} did not pass: {seen}"
    applicable = any(a for _, a in seen)
    assert applicable == case.get("applicable", True), f"{rule_id} applicable={applicable}: {seen}"
    assert not any(f.rule == rule_id for f in result.findings)


def test_the_rules_about_the_run_are_rule_data() -> None:
    by_id = {r.id: r for r in load_rules()}
    assert set(RUN_RULES) == {r.id for r in load_rules() if r.emitted_by in ("lint", "check", "policy")}
    for rule_id in RUN_RULES:
        rule = by_id[rule_id]
        assert rule.require is None and rule.file == "run.toml" and rule.docs.references
        assert rule not in fact_rules()


def test_the_rules_only_explain_reports_carry_the_messages_it_reports_them_by() -> None:
    explained = [r for r in load_rules() if r.emitted_by == "explain"]
    assert len(explained) >= 8
    for rule in explained:
        assert rule.require is None and rule.when is None and not rule.flags
        assert rule.errors, f"{rule.id} is reported by explain but names no message"
        assert rule not in fact_rules()
