"""Finding a rule's messages in what logs make of them: colours, wrapping, prefixes, paths, versions, CRLF."""

from __future__ import annotations

import textwrap

import pytest

from advisor import api
from advisor.core.explanation import Explanation

AMPERE = "RuntimeError: FlashAttention only supports Ampere GPUs or newer."


def rules(text: str | bytes) -> list[str]:
    return [m.rule for m in api.explain(text, recommend_flags=False).matches]


def explained(text: str | bytes) -> Explanation:
    return api.explain(text, recommend_flags=False)


@pytest.mark.parametrize("log", [
    pytest.param(f"\x1b[1;31m{AMPERE}\x1b[0m\n", id="ansi colours"),
    pytest.param("\x1b[31mRuntimeError\x1b[0m: \x1b[1mFlashAttention only supports\x1b[0m Ampere GPUs or newer.",
                 id="ansi inside the message"),
    pytest.param("\x1b]8;;file:///x.py\x1b\\x.py\x1b]8;;\x1b\\\n" + AMPERE, id="osc hyperlinks"),
    pytest.param(textwrap.fill("Traceback text before it. " + AMPERE, 30), id="wrapped at words"),
    pytest.param("\n".join(AMPERE[i:i + 17] for i in range(0, len(AMPERE), 17)), id="wrapped mid-word"),
    pytest.param(f"E   {AMPERE}\n", id="pytest E prefix"),
    pytest.param("E       RuntimeError: FlashAttention only supports\nE       Ampere GPUs or newer.",
                 id="pytest, wrapped"),
    pytest.param("[rank0]: RuntimeError: FlashAttention only supports Ampere\n[rank0]: GPUs or newer.\n",
                 id="torchrun rank prefix, wrapped"),
    pytest.param("2024-05-01T12:00:00.1234567Z RuntimeError: FlashAttention only\n"
                 "2024-05-01T12:00:00.1234568Z supports Ampere GPUs or newer.", id="github actions timestamps"),
    pytest.param("2024-05-01 12:00:00,123 - ERROR - FlashAttention only supports Ampere\n"
                 "2024-05-01 12:00:00,124 - ERROR - GPUs or newer.", id="logging timestamps and levels"),
    pytest.param("trainer-1  | RuntimeError: FlashAttention only supports\ntrainer-1  | Ampere GPUs or newer.",
                 id="docker compose prefix"),
    pytest.param("May 01 12:00:00 node7 python[4242]: RuntimeError: FlashAttention only supports Ampere GPUs "
                 "or newer.", id="syslog prefix"),
    pytest.param(f"step 1\r\nstep 2\r\n{AMPERE}\r\n", id="crlf"),
    pytest.param(f"Loading: 10%\rLoading: 50%\rLoading: 100%\r{AMPERE}\r", id="progress bar carriage returns"),
    pytest.param(f"\ufeff{AMPERE}", id="utf-8 byte-order mark"),
    pytest.param(f"  {AMPERE}   \t\n\n", id="surrounding whitespace"),
])
def test_the_ampere_error_is_found_whatever_the_log_did_to_it(log: str) -> None:
    assert rules(log)[:2] == ["FA2-CC", "LEGACY-FLASH-GPU"]


def test_utf16_with_a_byte_order_mark_is_read() -> None:
    assert rules(AMPERE.encode("utf-16"))[:1] == ["FA2-CC"]


@pytest.mark.parametrize(("log", "rule"), [
    ("ImportError: /home/ana/.venv/lib/python3.12/site-packages/flash_attn_2_cuda.cpython-312-x86_64-linux-gnu.so: "
     "undefined symbol: _ZN3c105ErrorC2ENS_14SourceLocationESs", "FA2-IMPORT"),
    ("ImportError: C:\\envs\\x\\Lib\\site-packages\\flash_attn_2_cuda.cp311-win_amd64.so: undefined symbol: "
     "_ZNK3c1010TensorImpl5sizesEv", "FA2-IMPORT"),
    ("Disabling PyTorch because PyTorch >= 2.6 is required but found 2.4.1+cu121", "TORCH-MIN"),
    ("Disabling PyTorch because PyTorch >= 2.2 is required but found 2.1.0", "TORCH-MIN"),
    ("FlashAttention forward only supports head dimension at most 512", "FLASH-HEADDIM"),
    ("ValueError: The `output_attentions` attribute is not supported when using the `attn_implementation` set to "
     "flash_attention_2. Please set it to 'eager' instead.", "KWARG-OUTPUT-ATTENTIONS"),
    ("OSError: You are trying to access a gated repo.\nMake sure to have access to it at "
     "https://huggingface.co/meta-llama/Llama-3.1-8B.\n401 Client Error.", "HUB-GATED"),
    ("ValueError: Device cuda:1 is not recognized, available devices are integers(for GPU/XPU), 'mps', 'cpu' and "
     "'disk'", "MAXMEM-KEYS"),
    ("The checkpoint you are trying to load has model type `gemma3_text` but Transformers does not recognize this "
     "architecture.", "MODEL-TYPE-UNKNOWN"),
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.95 GiB. GPU 0 has a total capacity of 14.74 GiB "
     "of which 1.02 GiB is free.", "MEM-SINGLE-GPU"),
])
def test_paths_and_versions_inside_a_message_do_not_matter(log: str, rule: str) -> None:
    assert rule in rules(log)


def test_a_message_of_another_rule_is_not_taken_for_it() -> None:
    assert rules("FlashAttention only supports Turing GPUs or newer.") == []
    assert "FA2-PKG" not in rules("the package flash_attn_3 seems to be not installed")
    assert rules("the package flash_attn_3 seems to be not installed") == ["FA3-PKG"]
    assert "FA3-PKG" not in rules("the package for FlashAttention2 doesn't seem to be installed.")


def test_a_message_spread_over_a_multi_line_traceback_is_found() -> None:
    log = """Traceback (most recent call last):
  File "/workspace/run.py", line 12, in <module>
    model = AutoModelForCausalLM.from_pretrained(name, attn_implementation="flash_attention_2")
  File "/opt/conda/lib/python3.11/site-packages/transformers/modeling_utils.py", line 1557, in _check_and_adjust
    raise ImportError(
ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the package for
FlashAttention2 doesn't seem to be installed.
"""
    e = explained(log)
    assert [m.rule for m in e.matches] == ["FA2-PKG"]
    hit = e.matches[0].messages[0]
    assert hit.line == 6 and hit.excerpt.startswith("ImportError: FlashAttention2 has been toggled on")
    assert e.recognised.exceptions == ("ImportError",)
    assert e.recognised.flags == {"attn_implementation": "flash_attention_2"}


def test_one_message_several_rules_rank_by_specificity_without_facts() -> None:
    found = rules("RuntimeError: CUDA error: no kernel image is available for execution on the device")
    assert set(found) >= {"FA2-BLACKWELL", "FA3-CC", "TORCH-ARCH"}
    oom = rules("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")
    assert set(oom) == {"MEM-SINGLE-GPU", "MEM-QUANT-NEEDED", "MEM-QUANT-FITS"} and oom[0] == "MEM-SINGLE-GPU"


def test_more_of_a_rules_messages_in_the_log_rank_it_higher() -> None:
    log = (f"Warning: import flash_attn rotary fail, please install FlashAttention rotary\n"
           f"Warning: import flash_attn rms_norm fail\n{AMPERE}\n")
    found = rules(log)
    assert found[0] == "LEGACY-QWEN-IMPORTS" or "LEGACY-QWEN-IMPORTS" in found
    assert found.index("FA2-CC") < found.index("LEGACY-FLASH-GPU") or "LEGACY-FLASH-GPU" in found


def test_a_version_the_log_gives_ranks_the_messages_that_version_emits() -> None:
    e = explained("flash-attn==2.8.3\nRuntimeError: bfloat16 is only supported on Ampere GPUs or newer\n")
    hit = next(m for m in e.matches if m.rule == "DTYPE-BF16-GPU").messages[0]
    assert hit.releases == ">=2.0.0,<2.7.3" and hit.fits_version is False
    e = explained("flash-attn==2.6.3\nRuntimeError: bfloat16 is only supported on Ampere GPUs or newer\n")
    assert next(m for m in e.matches if m.rule == "DTYPE-BF16-GPU").messages[0].fits_version is True


def test_repeats_are_counted_once_per_line_and_the_first_line_is_shown() -> None:
    log = "".join(f"step {i}\n" if i % 10 else "Only slow 8-bit matmul is supported for your GPU!\n"
                  for i in range(1, 101))
    hit = explained(log).matches[0].messages[0]
    assert (hit.line, hit.count) == (10, 10)


def test_the_rules_that_only_explain_reports_are_found_too() -> None:
    assert rules("xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.5.1+cu121 with "
                 "CUDA 1201 (you have 2.6.0+cu124)") == ["XFORMERS-ABI"]
    e = explained("huggingface_hub.errors.GatedRepoError: 401 Client Error.\n\nCannot access gated repo for url "
                  "https://huggingface.co/meta-llama/Llama-3.1-8B/resolve/main/config.json.")
    assert e.matches[0].rule == "HUB-GATED"
    assert e.matches[0].happened.startswith("the repository is gated")
    assert [(m.id, m.how) for m in e.recognised.models] == [("meta-llama/Llama-3.1-8B", "Hub URL")]


def test_an_unknown_error_explains_nothing_and_says_what_it_saw() -> None:
    e = explained("""transformers==4.44.2
torch==2.4.0+cu121
|   0  Tesla T4                       Off |   00000000:00:04.0 Off |                    0 |
Traceback (most recent call last):
  File "/usr/lib/python3.10/site-packages/foo.py", line 3, in <module>
KeyError: 'lm_head.weight' happened with compute capability 7.5
""")
    assert not e.explained and e.exit_code == 3
    r = e.recognised
    assert dict(r.packages) == {"torch": ("2.4.0+cu121",), "transformers": ("4.44.2",)}
    assert r.gpus == (("Tesla T4", "T4"),)
    assert r.capabilities == ("7.5",)
    assert r.exceptions == ("KeyError",)
    assert r.python == "3.10"
