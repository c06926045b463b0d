"""Rule references are links a person can follow: an issue, or a file at a release's tag, never a moving
branch or a note outside the repository; every `transformers 5.23.0` file reference is checked against the
installed transformers (path, line range, and each `symbol` the note quotes)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from advisor.core.errors import InputError
from advisor.core.references import PACKAGES, InvalidReference, Reference, parse_reference, reference_url
from advisor.engine.pack import load_rules
from advisor.engine.rules import parse_rule_file

ROOT = Path(__file__).resolve().parents[2]
MOVING = {"main", "master", "HEAD", "develop", "dev", "trunk", "nightly", "latest", "stable", "gh-pages"}
REFS = [(rule.id, text) for rule in load_rules() for text in rule.docs.references]
TRANSFORMERS = [(rid, parse_reference(t)) for rid, t in REFS if t.startswith("transformers 5.23.0 ")]


def _installed_transformers() -> Path:
    spec = importlib.util.find_spec("transformers")  # finds the package without importing it
    assert spec is not None and spec.origin is not None
    assert importlib.metadata.version("transformers") == "5.23.0"
    return Path(spec.origin).parent


def _quoted(ref: Reference) -> list[str]:
    """What a note quotes as code (`symbol`, `message part`): each must be found where the reference points."""
    return re.findall(r"`([^`]+)`", ref.note or "")


@pytest.mark.parametrize(("rule", "text"), REFS, ids=[f"{r}:{t[:40]}" for r, t in REFS])
def test_every_reference_is_a_link_at_a_fixed_version(rule: str, text: str) -> None:
    ref = parse_reference(text)
    assert reference_url(text) == ref.url
    if ref.kind == "project":
        assert (ROOT / ref.path).exists(), f"{rule}: {text} names no file of this repository"
        return
    assert ref.url.startswith("https://")
    if m := re.match(r"^https://github\.com/[^/]+/[^/]+/blob/([^/]+)/", ref.url):
        assert m[1] not in MOVING and any(c.isdigit() for c in m[1]), f"{rule}: {text} is at a branch"
    else:
        assert re.match(r"^https://github\.com/[^/]+/[^/]+/issues/\d+$", ref.url) or ref.kind == "url"


def test_there_are_transformers_5_23_references_to_check() -> None:
    assert len(TRANSFORMERS) >= 50  # the installed release backs most of the rules


@pytest.mark.parametrize(("rule", "ref"), TRANSFORMERS, ids=[f"{r}:{x.path}:{x.lines}" for r, x in TRANSFORMERS])
def test_a_transformers_5_23_reference_names_real_lines(rule: str, ref: Reference) -> None:
    assert ref.path is not None
    file = _installed_transformers() / ref.path
    assert file.is_file(), f"{rule}: transformers 5.23.0 has no {ref.path}"
    lines = file.read_text(encoding="utf-8").splitlines()
    first, last = ref.lines or (1, len(lines))
    assert last <= len(lines), f"{rule}: {ref.text} runs past the {len(lines)} lines of {ref.path}"
    shown = "\n".join(lines[first - 1:last])
    for quoted in _quoted(ref):
        assert quoted in shown, f"{rule}: `{quoted}` is not in {ref.path}:{first}-{last}"


@pytest.mark.parametrize(("text", "url"), [
    ("huggingface/transformers#28005", "https://github.com/huggingface/transformers/issues/28005"),
    ("huggingface/transformers#28005 (the thread)", "https://github.com/huggingface/transformers/issues/28005"),
    ("transformers 5.23.0 modeling_utils.py",
     "https://github.com/huggingface/transformers/blob/v5.23.0/src/transformers/modeling_utils.py"),
    ("transformers 4.46.0 models/mistral/modeling_mistral.py:840-845 (`padding_side='right'`)",
     "https://github.com/huggingface/transformers/blob/v4.46.0/src/transformers/models/mistral/modeling_mistral.py"
     "#L840-L845"),
    ("torch 2.13.0 cuda/__init__.py:191 (`is_bf16_supported`)",
     "https://github.com/pytorch/pytorch/blob/v2.13.0/torch/cuda/__init__.py#L191"),
    ("bitsandbytes 0.48.0 cextension.py",
     "https://github.com/bitsandbytes-foundation/bitsandbytes/blob/0.48.0/bitsandbytes/cextension.py"),
    ("flash-attn 2.8.3 ops/layer_norm.py:4",
     "https://github.com/Dao-AILab/flash-attention/blob/v2.8.3/flash_attn/ops/layer_norm.py#L4"),
    ("Dao-AILab/flash-attention@v2.8.3 hopper/setup.py:439-441 (sm_90a)",
     "https://github.com/Dao-AILab/flash-attention/blob/v2.8.3/hopper/setup.py#L439-L441"),
    ("bitsandbytes-foundation/bitsandbytes@0.48.0 .github/scripts/build-cuda.sh:21",
     "https://github.com/bitsandbytes-foundation/bitsandbytes/blob/0.48.0/.github/scripts/build-cuda.sh#L21"),
    ("vllm-project/vllm@5704f34f361c6c59a9c092c4e1e96730cc6dc14d vllm/config.py",
     "https://github.com/vllm-project/vllm/blob/5704f34f361c6c59a9c092c4e1e96730cc6dc14d/vllm/config.py"),
    ("https://huggingface.co/docs/huggingface_hub/v1.0.0/en/guides/download (revision)",
     "https://huggingface.co/docs/huggingface_hub/v1.0.0/en/guides/download"),
    ("https://github.com/pytorch/pytorch/blob/v2.13.0/README.md", "https://github.com/pytorch/pytorch/blob/v2.13.0/README.md"),
    ("docs/ci.md", "docs/ci.md"),
    ("rules/transformers/ (the tables)", "rules/transformers/"),
])
def test_each_form_of_the_grammar_gives_its_link(text: str, url: str) -> None:
    assert reference_url(text) == url


@pytest.mark.parametrize(("text", "why"), [
    ("knowledge: kernels.md §7", "notes, outside this repository"),
    ("transformers/modeling_utils.py (dtype warning)", "is none of"),
    ("Dao-AILab/flash-attention csrc/flash_attn/flash_api.cpp", "is none of"),
    ("Dao-AILab/flash-attention@main hopper/setup.py", "a branch that moves"),
    ("https://github.com/huggingface/transformers/blob/main/src/transformers/modeling_utils.py", "a branch that moves"),
    ("https://github.com/huggingface/transformers/issues/28005", "as owner/repo#N"),
    ("https://pytorch.org/get-started/locally/", "no version or commit"),
    ("https://huggingface.co/docs/huggingface_hub/main/en/guides/download", "no version or commit"),
    ("peft 0.14.0 tuners/lora/model.py", "no known repository"),
    ("transformers 5.23.0 models/../utils/hub.py", "leaves its folder"),
    ("Dao-AILab/flash-attention@v2.8.3 ./setup.py", "leaves its folder"),
    ("rules/../README.md", "leaves its folder"),
    ("transformers 5.23.0 modeling_utils.py:20-10", "runs backwards"),
    ("transformers 5.23.0 modeling_utils.py:0", "is none of"),
    ("http://github.com/huggingface/transformers/blob/v5.23.0/README.md", "is none of"),
    ("/work/shared/knowledge/kernels.md", "is none of"),
    ("advisor/engine/rules.py", "is none of"),
    (" huggingface/transformers#1", "leading or trailing space"),
    ("", "empty"),
])
def test_a_reference_outside_the_grammar_is_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidReference, match=re.escape(why)):
        parse_reference(text)
    assert reference_url(text) is None


def test_every_package_maps_to_a_repository_and_a_tag_with_its_version() -> None:
    for name, package in PACKAGES.items():
        assert re.match(r"^[\w.-]+/[\w.-]+$", package.repo) and "{version}" in package.tag, name
        assert package.folder and not package.folder.startswith("/") and ".." not in package.folder, name


def test_the_rule_loader_refuses_a_reference_it_cannot_resolve() -> None:
    data = tomllib.loads('''[[rule]]
id = "TEST-REFS"
title = "t"
severity = "warning"
require = "True"
message = "m"
fix = "f"
[rule.docs]
explanation = "e"
analogy = "a"
use_case = "u"
compatibility = "c"
references = ["huggingface/transformers#1", "knowledge: transformers.md §5"]
''')
    with pytest.raises(InputError, match=r"rule TEST-REFS: docs\.references: reference 'knowledge: transformers\.md "
                                         r"§5' points at 'knowledge' notes, outside this repository"):
        parse_rule_file("bad.toml", data)
