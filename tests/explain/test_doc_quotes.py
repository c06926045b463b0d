"""Every error message a rule quotes (in its message, explanation or compatibility) is one `explain` finds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from advisor import api

ROOT = Path(__file__).resolve().parents[2]
QUOTED = re.compile(r'"([^"]+)"')
PARTS = ("message", "explanation", "compatibility")


def quotes() -> list[tuple[str, str, str]]:
    """(rule id, part, quoted text) for each double-quoted message in the rule files: three words or more, and
    no `{placeholder}` (those are advisor's own text, filled with facts)."""
    out: list[tuple[str, str, str]] = []
    for path in sorted((ROOT / "rules").glob("*.toml")):
        for rule in tomllib.loads(path.read_text(encoding="utf-8")).get("rule", []):
            texts = {"message": rule["message"], **rule["docs"]}
            for part in PARTS:
                for m in QUOTED.finditer(" ".join(texts[part].split())):
                    text = m.group(1).strip()
                    if len(text.split()) >= 3 and "{" not in text:
                        out.append((rule["id"], part, text))
    return out


QUOTES = quotes()


def test_the_rules_quote_many_messages() -> None:
    assert len(QUOTES) >= 45
    assert len({rule for rule, _, _ in QUOTES}) >= 35


@pytest.mark.parametrize(("rule_id", "part", "text"), QUOTES, ids=[f"{r}-{p}-{i}" for i, (r, p, _) in
                                                                   enumerate(QUOTES)])
def test_a_quoted_message_is_found_by_its_rule(rule_id: str, part: str, text: str) -> None:
    assert "..." not in text and "…" not in text, "quote the message exactly, without eliding part of it"
    found = [m.rule for m in api.explain(text, recommend_flags=False).matches]
    assert rule_id in found, f"{rule_id} quotes {text!r} in its {part}, but explain finds {found}"
