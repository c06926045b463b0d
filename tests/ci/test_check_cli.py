"""`advisor check`: every exit path, --fail-on, --exit-zero, and byte-identical output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ci.conftest import LLAMA, MATRIX_POLICY, SW4_FA, SW5, Run, write_policy

FA2_BF16 = '{"attn_implementation": "flash_attention_2", "torch_dtype": "torch.bfloat16"}'


def test_compatible_flags_exit_0(advisor: Callable[..., Run]) -> None:
    r = advisor("check", LLAMA, "--gpu", "A100-80GB", "--software", SW4_FA, "--flags", FA2_BF16,
                "--format", "json")
    data = json.loads(r.out)
    assert r.code == 0, r.err
    assert data["status"] == "pass" and data["findings"] == [] and data["unknown"] == []
    assert data["cases"][0]["flags"]["attn_implementation"] == "flash_attention_2"


def test_incompatible_flags_exit_1_with_rule_and_fix(advisor: Callable[..., Run]) -> None:
    r = advisor("check", LLAMA, "--gpu", "T4", "--software", SW4_FA, "--flags", FA2_BF16, "--format", "json")
    data = json.loads(r.out)
    assert r.code == 1
    rules = {f["rule"] for f in data["findings"]}
    assert {"FA2-CC", "DTYPE-BF16-GPU"} <= rules
    fa2 = next(f for f in data["findings"] if f["rule"] == "FA2-CC")
    assert fa2["severity"] == "error" and "sdpa" in fa2["fix"] and fa2["target"].startswith("T4")
    assert r.err.count("\n") == 1 and "fail" in r.err


def test_fail_on_warning_and_exit_zero(advisor: Callable[..., Run]) -> None:
    args = ("check", LLAMA, "--gpu", "A100-80GB", "--software", SW4_FA, "--flags",
            '{"torch_dtype": "float16"}',
            "--format", "json")
    default = advisor(*args)
    assert default.code == 0
    assert [f["rule"] for f in json.loads(default.out)["findings"]] == ["DTYPE-FP16-OVERFLOW"]
    assert advisor(*args, "--fail-on", "warning").code == 1
    assert advisor(*args, "--fail-on", "warning", "--exit-zero").code == 0
    failing = advisor("check", LLAMA, "--gpu", "T4", "--software", SW4_FA, "--flags", FA2_BF16, "--exit-zero")
    assert failing.code == 0 and "FA2-CC" in failing.out


def test_unknown_facts_exit_3(advisor: Callable[..., Run]) -> None:
    r = advisor("check", "nobody-here/not-a-real-model", "--offline", "--gpu", "T4", "--software", SW5,
                "--flags", "{}", "--format", "json")
    data = json.loads(r.out)
    assert r.code == 3, r.err
    assert data["status"] == "unknown" and data["unknown"][0]["rule"] == "CHECK-FACTS"
    assert advisor("check", "nobody-here/not-a-real-model", "--offline", "--gpu", "T4", "--software", SW5,
                   "--flags", "{}", "--exit-zero").code == 0


def test_findings_beat_unknowns(advisor: Callable[..., Run], tmp_path: Path) -> None:
    policy = write_policy(tmp_path, MATRIX_POLICY + '\n[[model]]\nid = "nobody-here/not-a-real-model"\n')
    r = advisor("check", "--policy", policy, "--format", "json")
    data = json.loads(r.out)
    assert r.code == 1
    assert data["counts"]["unknown"] == 4 and data["counts"]["error"] > 0


@pytest.mark.parametrize("args, message", [
    (("check", LLAMA, "--gpu", "T4", "--flags", "{not json"), "not valid JSON"),
    (("check", LLAMA, "--gpu", "T5", "--software", SW5, "--flags", "{}"), "unknown GPU 'T5'"),
    (("check", LLAMA, "--gpu", "T4", "--software", SW5), "--flags"),
    (("check",), "MODEL"),
    (("check", LLAMA, "--gpu", "T4", "--software", SW5, "--flags", '{"dtype": "int3"}'), "dtype 'int3'"),
    (("check", LLAMA, "--format", "xml", "--flags", "{}"), "invalid choice"),
    (("lint", "no/such/dir"), "no such file"),
])
def test_bad_input_exit_2_one_line(advisor: Callable[..., Run], args: tuple[str, ...], message: str) -> None:
    r = advisor(*args)
    assert r.code == 2
    assert r.out == ""
    assert r.err.startswith("advisor: ") and r.err.count("\n") == 1 and message in r.err
    assert "Traceback" not in r.err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_byte_identical_output(advisor: Callable[..., Run], tmp_path: Path, fmt: str) -> None:
    policy = write_policy(tmp_path, MATRIX_POLICY)
    first = advisor("check", "--policy", policy, "--format", fmt)
    second = advisor("check", "--policy", policy, "--format", fmt)
    assert first.code == second.code == 1
    assert first.out == second.out and first.out


def test_flags_file_is_the_location(advisor: Callable[..., Run], tmp_path: Path) -> None:
    flags = tmp_path / "flags.json"
    flags.write_text(FA2_BF16, encoding="utf-8")
    r = advisor("check", LLAMA, "--gpu", "T4", "--software", SW5, "--flags", f"@{flags}", "--format", "json")
    assert r.code == 1
    assert {f["file"] for f in json.loads(r.out)["findings"]} == {str(flags)}
