"""A rule's `[[rule.errors]]`: checked at load, kept in the pack, compiled to whitespace-free regexes."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.core.errors import InputError
from advisor.engine.error_match import (
    Matcher,
    compile_error,
    group_anchors,
    literal_fragments,
    longest_literals,
    squeeze,
    squeeze_pattern,
)
from advisor.engine.pack import load_rules
from advisor.engine.rules import ErrorText, Rule, parse_rule_file

DOCS = {"explanation": "e", "analogy": "a", "use_case": "u", "compatibility": "c",
        "references": ["huggingface/transformers#1"]}
GOOD = {"text": "FlashAttention only supports Ampere GPUs or newer.", "package": "flash-attn",
        "releases": ">=2.0.0", "evidence": "flash_api.cpp:364"}


def rule(errors: Any, **extra: Any) -> dict[str, Any]:
    base = {"id": "TEST-RULE", "title": "t", "severity": "error", "require": "gpu.present", "message": "m",
            "fix": "f", "docs": DOCS, "errors": errors}
    base.update(extra)
    return base


def parse(entry: dict[str, Any]) -> Rule:
    return parse_rule_file("test.toml", {"rule": [entry]})[0]


def test_a_good_entry_is_kept_and_survives_the_pack() -> None:
    parsed = parse(rule([{**GOOD, "raised": "RuntimeError", "note": "n"}]))
    assert parsed.errors == (ErrorText(GOOD["text"], None, "flash-attn", ">=2.0.0", "flash_api.cpp:364",
                                       "RuntimeError", "n"),)
    assert Rule.unpack(parsed.packed()).errors == parsed.errors


@pytest.mark.parametrize(("errors", "message"), [
    ({"text": "x"}, "`errors` must be an array of tables"),
    ([{**GOOD, "pattern": "x+"}], "errors #1: give exactly one of `text` (the exact message) and `pattern`"),
    ([{k: v for k, v in GOOD.items() if k != "text"}], "errors #1: give exactly one of"),
    ([{**GOOD, "where": "x"}], "errors #1: unknown keys ['where']"),
    ([{**GOOD, "package": ""}], "errors #1: `package` must be a non-empty string"),
    ([{**GOOD, "package": "flash attn"}], "errors #1: `package` 'flash attn' must be a distribution name"),
    ([{**GOOD, "evidence": "  "}], "errors #1: `evidence` must be a non-empty string"),
    ([{**GOOD, "releases": "latest"}], "errors #1: `releases` 'latest' must be PEP 440 specifiers"),
    ([GOOD, {**GOOD, "text": None, "pattern": "FlashAttention (only"}], "errors #2: the pattern is not a valid regex"),
    ([{**GOOD, "text": None, "pattern": "(?i)flashattention only"}], "errors #1: only the (?s) flag is allowed"),
    ([{**GOOD, "text": None, "pattern": r"\w+ is \d+|no kernel image"}],
     "errors #1: an alternative of the pattern has no literal part of 6 characters or more (longest: 'is')"),
    ([{**GOOD, "text": "{cls} a {x}"}], "errors #1: the text's longest literal part 'a' is shorter than 6"),
])
def test_a_bad_entry_fails_loading_naming_the_file_the_rule_and_the_entry(errors: Any, message: str) -> None:
    for entry in errors if isinstance(errors, list) else []:
        if entry.get("text", "") is None:
            del entry["text"]
    with pytest.raises(InputError) as err:
        parse(rule(errors))
    assert str(err.value).startswith("test.toml: rule TEST-RULE: " + message)


def test_a_rule_only_explain_reports_needs_messages() -> None:
    entry = rule([], emitted_by="explain")
    del entry["require"]
    with pytest.raises(InputError, match="a rule `emitted_by` explain needs at least one"):
        parse(entry)
    assert parse({**entry, "errors": [GOOD]}).emitted_by == "explain"


@pytest.mark.parametrize(("pattern", "squeezed"), [
    (r"does not support Flash Attention 2(?:\.0)? yet", r"doesnotsupportFlashAttention2(?:\.0)?yet"),
    (r"Device \S+ is not recognized", r"Device\S+isnotrecognized"),
    (r"You are trying to access a gated repo\.\s*Make sure", r"Youaretryingtoaccessagatedrepo\.Makesure"),
    (r"flash_attn[^\s:]*\.so: undefined", r"flash_attn[^:]*\.so:undefined"),
    (r"a[^\s]b [ ]+c\ d", r"a.bcd"),
    (r"(?:either )?not installed", r"(?:either)?notinstalled"),
])
def test_a_pattern_loses_its_whitespace_and_nothing_else(pattern: str, squeezed: str) -> None:
    assert squeeze_pattern(pattern) == squeezed


@pytest.mark.parametrize(("pattern", "literals"), [
    (r"FlashAttention (?:forward|backward) only supports head dimension at most \d+",
     [" only supports head dimension at most "]),
    (r"Using `bitsandbytes` [48]-bit quantization requires [Aa]ccelerate", ["-bit quantization requires "]),
    (r"the package flash_attn_3 seems|the package for FlashAttention3", ["the package flash_attn_3 seems",
                                                                        "the package for FlashAttention3"]),
    (r"abc?defgh", ["defgh"]),
    (r"ab+cdefgh", ["bcdefgh"]),
    (r"(?s)flash[-_]attn.{0,4000}?No module named 'torch'", ["No module named 'torch'"]),
])
def test_the_literal_every_match_contains(pattern: str, literals: list[str]) -> None:
    assert longest_literals(pattern) == literals


def test_an_exact_text_matches_with_its_placeholders_and_without_its_full_stop() -> None:
    error = ErrorText("Some weights of {cls} were not initialized from the model checkpoint at {path} and are "
                      "newly initialized.", None, "transformers", "*", "e")
    compiled = compile_error(error)
    log = squeeze("Some weights of BertForSequenceClassification were not initialized from the model checkpoint "
                  "at bert-base-uncased and are newly initialized: ['classifier.bias']")
    assert compiled.regex.search(log)
    assert not compiled.regex.search(squeeze("Some weights of X were not used when initializing"))
    assert literal_fragments(error) == ["Some weights of", "were not initialized from the model checkpoint at",
                                        "and are newly initialized."]


def test_anchors_are_grouped_so_one_search_covers_several() -> None:
    groups = group_anchors(["FlashAttention2", "FlashAttention3", "FlashAttention4", "nokernelimage"])
    assert groups == [("ttent", ("FlashAttention2", "FlashAttention3", "FlashAttention4")),
                      ("nokernelimage", ("nokernelimage",))]
    matcher = Matcher(load_rules())
    anchors = {a for entry in matcher.entries for a in entry.compiled.anchors}
    grouped = [a for _, members in group_anchors(anchors) for a in members]
    assert sorted(grouped) == sorted(anchors) and len(group_anchors(anchors)) < len(anchors) / 2
