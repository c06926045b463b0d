"""check_flags remembers each rule's outcome by the values it reads: the answer is the same as evaluating
the rule afresh, including values that are equal but read differently (2.5 and 2.5.0, True and 1)."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from advisor.core.logic import Unknown
from advisor.engine.check import check_flags
from advisor.engine.pack import load_flags
from advisor.engine.rules import parse_rule_file

DOCS = {"explanation": "e", "analogy": "a", "use_case": "u", "compatibility": "c", "references": ["pytorch/pytorch#1"]}
RULE = parse_rule_file("test.toml", {"rule": [{
    "id": "TEST-MEMO", "title": "t", "severity": "error", "require": 'pkg.torch >= "9.0"',
    "evidence": "torch 2.13.0 torch/version.py",
    "message": "torch {pkg.torch} on {gpu.present}", "fix": "f", "docs": DOCS}]})[0]


def outcome(**ns: Any) -> tuple[list[str], list[str]]:
    found, evaluations, _ = check_flags(ns, [RULE], load_flags(), {})
    return [f.message for f in found], [f"{e.status}: {e.message}" for e in evaluations]


def test_equal_values_that_read_differently_are_not_confused() -> None:
    assert outcome(**{"pkg.torch": Version("2.5"), "gpu.present": True})[0] == ["torch 2.5 on yes"]
    assert outcome(**{"pkg.torch": Version("2.5.0"), "gpu.present": True})[0] == ["torch 2.5.0 on yes"]
    assert outcome(**{"pkg.torch": Version("2.5.0"), "gpu.present": 1})[0] == ["torch 2.5.0 on 1"]
    assert outcome(**{"pkg.torch": Version("2.5"), "gpu.present": True})[0] == ["torch 2.5 on yes"]


def test_unknowns_are_remembered_by_name_and_reason() -> None:
    first = outcome(**{"pkg.torch": Unknown("pkg.torch", "not read"), "gpu.present": True})[1]
    again = outcome(**{"pkg.torch": Unknown("pkg.torch", "not read"), "gpu.present": True})[1]
    other = outcome(**{"pkg.torch": Unknown("pkg.torch", "the profile has no torch"), "gpu.present": True})[1]
    assert first == again == ["unknown: t: pkg.torch is unknown (not read)"]
    assert other == ["unknown: t: pkg.torch is unknown (the profile has no torch)"]
    assert outcome(**{"pkg.torch": Version("9.1"), "gpu.present": True})[1] == ["pass: t"]
