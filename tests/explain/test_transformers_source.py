"""Every message a rule claims transformers 5.23 emits is in the installed transformers 5.23 source.

The source is read as text, with Python's implicit string concatenation undone (`"a " \\n "b"` → `"a b"`).
A placeholder of the source (`{flash_attn_version}`) may stand where the message has a digit (`2`). An exact
text must show each piece between its own `{placeholders}`; a pattern, the longest literal piece of each
alternative.
"""

from __future__ import annotations

import importlib.metadata
import re
from functools import cache
from pathlib import Path

import pytest
from packaging.version import Version

from advisor.engine.error_match import literal_fragments
from advisor.engine.explain import fits
from advisor.engine.pack import load_rules

INSTALLED = Version(importlib.metadata.version("transformers"))
JOIN = re.compile(r"""["']\s*\+?\s*\n\s*[rRbBfFuU]{0,2}["']""")
MIN_FRAGMENT = 8
CLAIMS = [(r.id, i, e) for r in load_rules() for i, e in enumerate(r.errors)
          if e.package == "transformers" and fits(e.releases, "5.23.0")]


@cache
def sources() -> tuple[str, ...]:
    import transformers

    root = Path(transformers.__file__).parent
    return tuple(JOIN.sub("", p.read_text(encoding="utf-8", errors="replace")) for p in sorted(root.rglob("*.py")))


def fragment_regex(fragment: str) -> re.Pattern[str]:
    """FRAGMENT, where each run of digits may be a source placeholder instead."""
    parts = re.split(r"(\d+)", fragment)
    return re.compile("".join(rf"(?:{p}|\{{[^{{}}\n]{{1,80}}\}})" if p.isdigit() else re.escape(p) for p in parts))


def in_source(fragment: str) -> bool:
    rx = fragment_regex(fragment)
    needle = max(re.split(r"\d+", fragment), key=len)
    return any(needle in text and rx.search(text) for text in sources())


def test_the_installed_transformers_is_the_one_the_claims_are_checked_against() -> None:
    assert Version("5.23.0") == INSTALLED, "the test extra pins transformers==5.23.0"
    assert len(CLAIMS) >= 40


@pytest.mark.parametrize(("rule_id", "index", "error"), CLAIMS, ids=[f"{r}-{i}" for r, i, _ in CLAIMS])
def test_a_message_claimed_for_5_23_is_in_its_source(rule_id: str, index: int, error: object) -> None:
    fragments = [f for f in literal_fragments(error) if len(f) >= MIN_FRAGMENT]  # type: ignore[arg-type]
    assert fragments, f"{rule_id} errors #{index + 1} has no literal piece of {MIN_FRAGMENT} characters to look for"
    missing = [f for f in fragments if not in_source(f)]
    assert not missing, f"{rule_id} errors #{index + 1} claims transformers 5.23.0, whose source lacks {missing}"


def test_the_check_fails_for_a_message_that_is_not_there() -> None:
    assert in_source("but Transformers does not recognize this architecture")
    assert in_source("the package for FlashAttention2 doesn't seem to be installed.")
    assert not in_source("but Transformers does not recognise this architecture")
    assert not in_source("the package for FlashAttention2 does not seem to be installed.")
