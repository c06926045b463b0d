"""check_flags in stages: what reads nothing of the hardware layer once per namespace and flag set, and memory
rules remembered by the figures they read, in the order read. Each answer must be the one evaluated afresh."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product
from typing import Any

import pytest
from packaging.version import Version

from advisor.core.logic import Unknown
from advisor.engine import check
from advisor.engine.check import check_flags
from advisor.engine.pack import load_flags
from advisor.engine.rules import Rule, parse_rule_file

DOCS = {"explanation": "e", "analogy": "a", "use_case": "u", "compatibility": "c", "references": ["pytorch/pytorch#1"]}


def rule(rule_id: str, require: str, message: str) -> Rule:
    return parse_rule_file("test.toml", {"rule": [{
        "id": rule_id, "title": "t", "severity": "error", "require": require,
        "evidence": "torch 2.13.0 torch/version.py", "message": message, "fix": "f", "docs": DOCS}]})[0]


BASE_RULES = [rule("TEST-BASE", 'pkg.torch >= "9.0"', "torch {pkg.torch} on {gpu.name}")]
MEMORY_RULES = [rule("TEST-MEMORY", "memory.fits_gpus or memory.fits_gpus_4bit", "needs {memory.have_gib} GiB")]
"""Each a list of its own, as a rule pack is: what is remembered is remembered per list."""


class Figures:
    """A memory plan's answers (its `lookup`), counting what is asked."""

    def __init__(self, **values: Any) -> None:
        self.values = {f"memory.{k}": v for k, v in values.items()}
        self.asked: list[str] = []

    def lookup(self, name: str, scope: Mapping[str, Any]) -> Any:
        self.asked.append(name)
        return self.values.get(name, Unknown(name, "not in this plan"))


def forget() -> None:
    for memo in (check._COLUMNS, check._GROUPED, check._PAIRS, check._OUTCOMES, check._TRIES):
        memo.clear()


@pytest.fixture(autouse=True)
def nothing_remembered() -> None:
    forget()


def messages(ns: dict[str, Any], rules: list[Rule], layer: dict[str, Any] | None = None,
             figures: Figures | None = None) -> tuple[list[str], list[str]]:
    found, evaluations, _ = check_flags(ns, rules, load_flags(), {}, figures, layer)
    return [f.message for f in found], [f"{e.status}: {e.message}" for e in evaluations]


def test_a_failure_of_the_column_names_each_cases_gpu() -> None:
    """The rule reads only the base, its message the layer: it is decided once, and rendered per GPU."""
    base: dict[str, Any] = {"pkg.torch": Version("2.5")}
    t4 = messages(base, BASE_RULES, {"gpu.name": "Tesla T4"})
    h100 = messages(base, BASE_RULES, {"gpu.name": "NVIDIA H100"})
    assert t4[0] == ["torch 2.5 on Tesla T4"] and h100[0] == ["torch 2.5 on NVIDIA H100"]
    assert messages(base, BASE_RULES, {"gpu.name": "Tesla T4"}) == t4


def test_the_column_is_the_namespaces_not_anothers() -> None:
    """Two namespaces with other values never share a column, even when one is made after the other is gone."""
    assert messages({"pkg.torch": Version("2.5")}, BASE_RULES, {"gpu.name": "A"})[0] == ["torch 2.5 on A"]
    assert messages({"pkg.torch": Version("9.1")}, BASE_RULES, {"gpu.name": "A"})[1] == ["pass: t"]
    assert messages({"pkg.torch": Version("2.6")}, BASE_RULES, {"gpu.name": "A"})[0] == ["torch 2.6 on A"]


VALUES = (True, False, Unknown("memory.fits_gpus", "the GPUs are unknown"))


def test_memory_rules_answer_as_evaluated_afresh_in_any_order() -> None:
    """Every combination of figures, twice over in one order and then in reverse, against a fresh evaluation."""
    combos = [dict(zip(("fits_gpus", "fits_gpus_4bit"), c, strict=True)) for c in product(VALUES, VALUES)]
    expected = []
    for values in combos:
        forget()
        expected.append(messages({"gpu.present": True}, MEMORY_RULES, {}, Figures(have_gib=80, **values)))
    forget()
    for order in (combos + combos, list(reversed(combos))):
        for values in order:
            got = messages({"gpu.present": True}, MEMORY_RULES, {}, Figures(have_gib=80, **values))
            assert got == expected[combos.index(values)], values


def test_a_figure_the_evaluation_would_not_read_is_not_computed() -> None:
    """Once a case that does not fit has been seen (both figures read), a case that fits reads one figure."""
    messages({"gpu.present": True}, MEMORY_RULES, {}, Figures(fits_gpus=False, fits_gpus_4bit=True, have_gib=8))
    fits = Figures(fits_gpus=True, fits_gpus_4bit=False, have_gib=80)
    assert messages({"gpu.present": True}, MEMORY_RULES, {}, fits)[1] == ["pass: t"]
    assert fits.asked == ["memory.fits_gpus"]
    seen = Figures(fits_gpus=False, fits_gpus_4bit=True, have_gib=8)
    assert messages({"gpu.present": True}, MEMORY_RULES, {}, seen)[1] == ["pass: t"]
    assert seen.asked == ["memory.fits_gpus", "memory.fits_gpus_4bit"]  # remembered: read to be found, no more
