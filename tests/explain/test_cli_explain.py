"""`advisor explain` from the command line: the exit codes, the formats, stdin, --file, --model and the facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from advisor.cli import main

ROOT = Path(__file__).resolve().parents[2]
AMPERE = "RuntimeError: FlashAttention only supports Ampere GPUs or newer."
LLAMA = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
TF523 = "fixtures/software/cuda-tf5.23.json"
TRACEBACK = f"""Traceback (most recent call last):
  File "/content/chat.py", line 8, in <module>
    model = AutoModelForCausalLM.from_pretrained("{LLAMA}", attn_implementation="flash_attention_2", \
torch_dtype=torch.float16)
  File "/usr/local/lib/python3.11/dist-packages/flash_attn/flash_attn_interface.py", line 91, in _flash_attn_forward
{AMPERE}
"""


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_message_is_explained_with_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", AMPERE)
    assert code == 0 and err == ""
    assert out.startswith("2 rules explain this error (1 line read), best match first:")
    assert "\n1. FA2-CC  FlashAttention-2 needs compute capability 8.0" in out
    assert "\n2. LEGACY-FLASH-GPU" in out
    assert "Raised by      flash-attn >=2.0.0: RuntimeError (TORCH_CHECK) at the first forward pass" in out
    assert "Fix            Use attn_implementation=\"sdpa\" on this GPU." in out
    assert "pass --model MODEL" in out


def test_words_without_quotes_are_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", *AMPERE.split())
    assert code == 0 and "1. FA2-CC" in out


def test_an_unknown_error_exits_3_and_shows_what_was_recognised(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "torch==2.4.0 on an NVIDIA A100-SXM4-80GB: ValueError: something new")
    assert code == 3
    assert out.startswith("No rule explains this error (1 line read)")
    assert "Packages       torch 2.4.0" in out and "GPUs           NVIDIA A100-SXM4-80GB (A100-80GB)" in out
    assert err == "advisor: no rule explains this error\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["explain"], "advisor: explain needs the error message, - to read a log from stdin, or --file LOG\n"),
    (["explain", "x", "--file", "f.log"], "advisor: give the message or --file LOG, not both\n"),
    (["explain", "--file", "no/such.log"], "advisor: --file no/such.log: cannot read it (No such file or directory)\n"),
    (["explain", "--file", "rules"], "advisor: --file rules: cannot read it (Is a directory)\n"),
    (["explain", ""], "advisor: nothing to explain: the input is empty\n"),
    (["explain", AMPERE, "--format", "xml"], "advisor: explain: argument --format: invalid choice: 'xml' "
                                             "(choose from 'text', 'json')\n"),
])
def test_bad_input_exits_2_in_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", message)


def test_json_carries_the_matches_what_was_recognised_and_the_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "--format", "json", "torch.cuda.OutOfMemoryError: CUDA out of memory. "
                       "Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 14.75 GiB")
    data = json.loads(out)
    assert code == 0 and data["schema_version"] == 1 and data["explained"] is True
    assert data["matches"][0]["rule"] == "MEM-SINGLE-GPU"
    message = data["matches"][0]["messages"][0]
    assert message["package"] == "torch" and message["releases"] == "*" and message["line"] == 1
    assert data["recognised"]["exceptions"] == ["torch.cuda.OutOfMemoryError"]
    assert data["input"] == {"bytes": 117, "lines": 1, "long_lines": 0, "replaced": 0}
    assert data["recommendation"] is None and data["model"] is None


def test_the_facts_of_a_named_target_rank_the_rules_and_give_the_flags(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path) -> None:
    log = tmp_path / "crash.log"
    log.write_text(TRACEBACK, encoding="utf-8")
    code, out, _ = run(capsys, "explain", "--file", str(log), "--gpu", "T4", "--software", TF523, "--with",
                       "flash-attn==2.6.3", "--format", "json")
    data = json.loads(out)
    assert code == 0
    first = data["matches"][0]
    assert first["rule"] == "FA2-CC" and first["verdict"] == "fails"
    assert first["happened"].startswith("flash_attention_2 needs compute capability 8.0 or newer; this T4 has 7.5")
    assert data["model"] == {"id": LLAMA, "how": "from_pretrained", "line": 3}
    assert data["target"] == f"T4 · software {TF523} · flash-attn==2.6.3"
    assert data["recommendation"]["flags"]["attn_implementation"] == "sdpa"
    assert data["recognised"]["flags"] == {"attn_implementation": "flash_attention_2", "torch_dtype": "float16"}


def test_on_a_gpu_where_the_rule_holds_it_ranks_below(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "crash.log"
    log.write_text(TRACEBACK, encoding="utf-8")
    code, out, _ = run(capsys, "explain", "--file", str(log), "--gpu", "H100", "--software", TF523, "--with",
                       "flash-attn==2.6.3", "--format", "json")
    ranked = [(m["rule"], m["verdict"]) for m in json.loads(out)["matches"]]
    assert code == 0 and ranked == [("LEGACY-FLASH-GPU", None), ("FA2-CC", "holds")]


def test_text_shows_the_recommendation_for_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", AMPERE, "--model", LLAMA, "--gpu", "T4", "--software", TF523)
    assert code == 0
    assert f"Recommended flags for {LLAMA} on T4 · software {TF523} (named by --model):" in " ".join(out.split())
    assert '    attn_implementation = "sdpa"' in out and "model = AutoModelForCausalLM.from_pretrained(" in out


def test_a_model_given_with_model_that_cannot_be_read_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", AMPERE, "--model", "fixtures/configs/none.json", "--gpu", "T4")
    assert code == 2 and out == "" and err.count("\n") == 1 and "none.json" in err


def test_a_model_the_log_names_that_cannot_be_read_becomes_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", f'from_pretrained("acme/never-cached") failed: {AMPERE}', "--offline",
                       "--gpu", "T4")
    assert code == 0 and "1. FA2-CC" in out
    assert ("Note: the log names acme/never-cached (from_pretrained, line 1), but its facts could not be gathered"
            in " ".join(out.split()))


def _subprocess(stdin: bytes, *argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "advisor", "explain", *argv], input=stdin, capture_output=True,
                          cwd=ROOT, env=env, timeout=120, check=False)


def test_a_log_on_stdin() -> None:
    proc = _subprocess(TRACEBACK.replace("\n", "\r\n").encode(), "-", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["matches"][0]["rule"] == "FA2-CC" and data["input"]["lines"] == 5


def test_binary_on_stdin_is_refused_without_a_traceback() -> None:
    proc = _subprocess(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100, "-")
    assert proc.returncode == 2 and proc.stdout == b""
    assert proc.stderr == b"advisor: the input is binary data (a NUL byte at offset 8), not a log or an error message\n"


def test_json_matches_its_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    schema = json.loads((ROOT / "schemas/explanation.schema.json").read_text(encoding="utf-8"))
    log = tmp_path / "crash.log"
    log.write_text(TRACEBACK, encoding="utf-8")
    for argv in (["explain", AMPERE], ["explain", "nothing known here"],
                 ["explain", "--file", str(log), "--gpu", "T4", "--software", TF523],
                 ["explain", "--file", "fixtures/logs/ci-oom.log", "--model", LLAMA, "--gpu", "A10G"]):
        code, out, _ = run(capsys, *argv, "--format", "json")
        assert code in (0, 3)
        jsonschema.Draft202012Validator(schema).validate(json.loads(out))
