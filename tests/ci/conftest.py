"""Helpers for the CI tests: run the real CLI in-process, with fixture targets (no GPU, no network)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from advisor.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SW5 = ROOT / "fixtures/software/torch-2.13-cu128-tf-5.23.json"
SW4_FA = ROOT / "fixtures/software/torch-2.5-cu124-tf-4.46-fa-2.6.3.json"
LLAMA = ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
BERT = ROOT / "fixtures/configs/google-bert__bert-base-uncased.json"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def advisor(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run `advisor ARGS...` in-process and capture its exit code, stdout and stderr."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)

    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def write_policy(tmp_path: Path, text: str, name: str = "advisor.toml") -> Path:
    """A policy file in TMP_PATH; `{SW5}`, `{SW4_FA}`, `{LLAMA}`, `{BERT}` stand for fixture paths."""
    path = tmp_path / name
    path.write_text(text.replace("{SW5}", SW5.as_posix()).replace("{SW4_FA}", SW4_FA.as_posix())
                    .replace("{LLAMA}", LLAMA.as_posix()).replace("{BERT}", BERT.as_posix()),
                    encoding="utf-8")
    return path


MATRIX_POLICY = """\
# The team's deployment targets.
fail-on = "error"
offline = true
gpus = ["T4", "A100-80GB"]

[[model]]
id = "{LLAMA}"
flags = { attn_implementation = "flash_attention_2", torch_dtype = "bfloat16" }

[[model]]
id = "{BERT}"
flags = { attn_implementation = "sdpa" }

[[software]]
name = "tf5"
profile = "{SW5}"

[[software]]
name = "tf4-fa"
profile = "{SW4_FA}"
"""
