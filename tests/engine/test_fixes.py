"""A rule's fix as advice: alternatives naming a value the recommendation rejected are left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor import api
from advisor.engine.fixes import without_rejected
from advisor.facts.bundle import Request

ROOT = Path(__file__).resolve().parents[2]
VALUES = [v for spec in api.flags() for v in spec.values if isinstance(v, str)]


def named(text: str, value: str) -> bool:
    return re.search(r'(?<![\w/.-])"?' + re.escape(value) + r'"?(?![\w/-])', text) is not None


@pytest.mark.parametrize(("fix", "rejected", "expected"), [
    ("Use flash_attention_2 or sdpa.", ["flash_attention_2"], "Use sdpa."),
    ("Use flash_attention_2 or sdpa, or upgrade transformers.", ["sdpa"], "Use flash_attention_2, or upgrade "
     "transformers."),
    ("Use flash_attention_2 (or flash_attention_4 on Blackwell).", ["flash_attention_4"], "Use flash_attention_2."),
    ("Use flash_attention_2 (or flash_attention_4 on Blackwell).", ["flash_attention_2", "flash_attention_4"],
     "nothing on this target; the fix's flash_attention_2 and flash_attention_4 are rejected here too."),
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
def test_no_fix_of_any_rule_proposes_a_value_it_was_told_is_rejected(rule: api.Rule) -> None:
    for value in (v for v in VALUES if named(rule.fix, v)):
        out = without_rejected(rule.fix, [value], VALUES)
        assert out[:1].isupper() or out.startswith(("nothing on this target", "pip install")), out
        assert not named(out, value) or out.startswith("nothing on this target"), (value, out)


def test_on_a_t4_no_fix_proposes_an_attention_the_t4_rejects() -> None:
    """Llama on a T4 with flash-attn installed: FA3's and FA4's fixes no longer say "use flash_attention_2"."""
    facts = api.gather(str(ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"),
                       target=api.Target(gpu="T4", software_file=ROOT / "fixtures/software/tui.json",
                                         with_packages=("flash-attn==2.6.3",)),
                       request=Request())
    rec = api.recommend(facts)
    attn = next(d for d in rec.decisions if d.flag == "attn_implementation")
    rejected = {r.value for r in attn.rejected}
    assert {"flash_attention_2", "flash_attention_3", "flash_attention_4"} <= rejected
    fixes = api.what_would_change(facts, rec)
    assert fixes["FA3-CC"].startswith("nothing on this target") and "rejected here too" in fixes["FA3-CC"]
    assert fixes["FA4-CC"] == "Use sdpa."
    for rule_id, fix in fixes.items():
        proposed = [v for v in rejected if named(fix, v)]
        assert not proposed or fix.startswith("nothing on this target"), (rule_id, fix)
