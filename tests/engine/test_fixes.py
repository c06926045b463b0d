"""A rule's fix holds on the facts: it never proposes a value of its flag that fails here too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor import api
from advisor.engine.fixes import without_rejected
from advisor.facts.bundle import Request

ROOT = Path(__file__).resolve().parents[2]
LLAMA = str(ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json")
VALUES = [v for spec in api.flags() for v in spec.values if isinstance(v, str)]


def named(text: str, value: str) -> bool:
    return re.search(r'(?<![\w/.-])"?' + re.escape(value) + r'"?(?![\w/-])', text) is not None


@pytest.mark.parametrize(("fix", "rejected", "expected"), [
    ("Use flash_attention_2 or sdpa.", ["flash_attention_2"], "Use sdpa."),
    ("Use flash_attention_2 or sdpa, or upgrade transformers.", ["sdpa"],
     "Use flash_attention_2, or upgrade transformers."),
    ("Use flash_attention_2 (or flash_attention_4 on Blackwell).", ["flash_attention_4"], "Use flash_attention_2."),
    ("Use flash_attention_2 (or flash_attention_4 on Blackwell).", ["flash_attention_2", "flash_attention_4"], ""),
    ('Use attn_implementation="eager", or flex_attention where supported.', ["eager"],
     'Use attn_implementation="flex_attention" where supported.'),
    ('Use attn_implementation="sdpa", or a transformers version whose class supports it.', ["sdpa"],
     "Use a transformers version whose class supports it."),
    ("Load in bfloat16 (Ampere or newer) or float16, or use sdpa with float32.", ["bfloat16"],
     "Load in float16, or use sdpa with float32."),
    ("Use float16 (watch for overflow) or float32 on this GPU.", ["bfloat16"],
     "Use float16 (watch for overflow) or float32 on this GPU."),
])
def test_alternatives_naming_a_rejected_value_go(fix: str, rejected: list[str], expected: str) -> None:
    assert without_rejected(fix, rejected, VALUES) == expected


def test_a_value_is_a_word_of_its_own() -> None:
    """flash_attention_2 rejected says nothing of kernels-community/flash-attn2 or a longer name."""
    fix = "Use kernels-community/flash-attn2 or flash_attention_2x."
    assert without_rejected(fix, ["flash-attn2", "flash_attention_2"], VALUES) == fix


@pytest.mark.parametrize("rule", [r for r in api.rules() if any(named(r.fix, v) for v in VALUES)],
                         ids=lambda r: r.id)
def test_no_fix_of_any_rule_keeps_a_value_it_was_told_is_rejected(rule: api.Rule) -> None:
    for value in (v for v in VALUES if named(rule.fix, v)):
        out = without_rejected(rule.fix, [value], VALUES)
        assert out == "" or out[:1].isupper() or out.startswith("pip install"), out
        assert not named(out, value), (value, out)


TF = "transformers==5.23.0"
"""A release with flash_attention_4 (5.4+), so that its rules apply."""


def t4(*packages: str) -> api.Facts:
    return api.gather(LLAMA, target=api.Target(gpu="T4", software_file=ROOT / "fixtures/software/tui.json",
                                               with_packages=(TF, *packages)), request=Request())


def test_on_a_t4_what_would_change_proposes_no_attention_the_t4_rejects() -> None:
    facts = t4("flash-attn==2.6.3")
    rec = api.recommend(facts)
    attn = next(d for d in rec.decisions if d.flag == "attn_implementation")
    rejected = {r.value for r in attn.rejected}
    assert {"flash_attention_2", "flash_attention_4"} <= rejected
    fixes = api.what_would_change(facts, rec)
    assert fixes["FA4-CC"] == "Use sdpa."  # "Use flash_attention_2 or sdpa." less what fails on a T4
    for rule_id, fix in fixes.items():
        assert not [v for v in rejected if named(fix, v) and "here too" not in fix], (rule_id, fix)


def test_check_vets_the_fix_of_a_finding_against_the_same_facts() -> None:
    """Checking flash_attention_4 on a T4: the fix proposes no attention that fails there too."""
    facts = t4("flash-attn==2.6.3")
    result = api.check(facts, {"attn_implementation": "flash_attention_4"})
    fa4 = next(f for f in result.findings if f.rule == "FA4-CC")
    assert fa4.fix == "Use sdpa."
    # On an H100 in bfloat16 flash_attention_2 works: the same rule's fix keeps it; in float32 it fails too.
    h100 = api.gather(LLAMA, target=api.Target(gpu="H100", software_file=ROOT / "fixtures/software/tui.json",
                                               with_packages=(TF, "flash-attn==2.6.3")), request=Request())

    def fixes(**flags: str) -> dict[str, str]:
        return {f.rule: f.fix for f in api.check(h100, {"attn_implementation": "flash_attention_4", **flags}).findings}

    assert fixes(dtype="bfloat16")["FA4-PKG"] == "pip install --pre flash-attn-4, or use flash_attention_2."
    assert fixes(dtype="float32")["FA4-PKG"] == "pip install --pre flash-attn-4."


def test_when_every_alternative_fails_the_fix_names_the_recommended_value() -> None:
    facts = t4("flash-attn==2.6.3")
    rec = api.recommend(facts)
    chosen = rec.flags["attn_implementation"]
    fixes = api.what_would_change(facts, rec)
    assert fixes["FA3-CC"].startswith(f'Use attn_implementation="{chosen}" (') and "here too" in fixes["FA3-CC"]
