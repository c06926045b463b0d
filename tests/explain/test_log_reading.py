"""Reading logs: the model a log names, bad input refused in one line, long lines, block boundaries."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from advisor import api
from advisor.core.errors import InputError
from advisor.engine.explain import pick_model
from advisor.facts import log_reader
from advisor.facts.log_reader import MAX_LINE, LogReader

AMPERE = "RuntimeError: FlashAttention only supports Ampere GPUs or newer."


def models(log: str) -> list[tuple[str, str]]:
    return [(m.id, m.how) for m in api.explain(log, recommend_flags=False).recognised.models]


@pytest.mark.parametrize(("line", "expected"), [
    ('    model = AutoModelForCausalLM.from_pretrained("Qwen/Qwen2.5-7B-Instruct", device_map="auto")',
     ("Qwen/Qwen2.5-7B-Instruct", "from_pretrained")),
    ("    tok = AutoTokenizer.from_pretrained(pretrained_model_name_or_path='google/gemma-2-9b-it')",
     ("google/gemma-2-9b-it", "from_pretrained")),
    ('    m = LlamaForCausalLM.from_pretrained("gpt2")', ("gpt2", "from_pretrained")),
    ("python train.py --model_name_or_path mistralai/Mistral-7B-v0.1 --bf16", ("mistralai/Mistral-7B-v0.1",
                                                                             "command line")),
    ("requests.exceptions.HTTPError: 404 Client Error for url: https://huggingface.co/api/models/acme/tiny-llm/"
     "revision/main", ("acme/tiny-llm", "Hub URL")),
    ("Access to model meta-llama/Llama-2-7b-hf is restricted. You must have access to it at "
     "https://huggingface.co/meta-llama/Llama-2-7b-hf.", ("meta-llama/Llama-2-7b-hf", "Hub URL")),
    ('  File "/root/.cache/huggingface/hub/models--microsoft--phi-2/snapshots/ef382358/modeling_phi.py", line 9',
     ("microsoft/phi-2", "Hub cache path")),
    ("OSError: nobody/nothing is not a local folder and is not a valid model identifier listed on "
     "'https://huggingface.co/models'", ("nobody/nothing", "not found on the Hub")),
])
def test_the_model_a_log_names_is_recognised(line: str, expected: tuple[str, str]) -> None:
    assert expected in models(line)


def test_urls_that_are_not_models_are_not_taken_for_models() -> None:
    assert models("see https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 and "
                  "https://huggingface.co/datasets/foo/bar") == []


def test_the_most_trusted_mention_wins_and_paths_must_exist_here(tmp_path: Path) -> None:
    log = ('https://huggingface.co/other/model\n'
           '    m = AutoModel.from_pretrained("/data/models/llama")\n'
           f'    m = AutoModel.from_pretrained("{tmp_path}")\n'
           '  File "/root/.cache/huggingface/hub/models--acme--cached/snapshots/x/config.json"\n')
    mentions = api.explain(log, recommend_flags=False).recognised.models
    chosen, notes = pick_model(mentions, lambda p: Path(p).exists())
    assert chosen is not None and (chosen.id, chosen.how) == (str(tmp_path), "from_pretrained")
    assert notes == []
    chosen, notes = pick_model([m for m in mentions if m.id != str(tmp_path)], lambda p: Path(p).exists())
    assert chosen is not None and (chosen.id, chosen.how) == ("other/model", "Hub URL")
    assert notes == ["the log names /data/models/llama (line 2), which is not a path on this machine"]


def test_the_flags_of_the_logged_call_are_read() -> None:
    log = ('    model = AutoModelForCausalLM.from_pretrained(model_id, attn_implementation="flash_attention_2", '
           "torch_dtype=torch.bfloat16, load_in_8bit=True, max_length=2048, revision=None)")
    flags = api.explain(log, recommend_flags=False).recognised.flags
    assert flags == {"attn_implementation": "flash_attention_2", "torch_dtype": "bfloat16", "load_in_8bit": True,
                     "max_length": 2048, "revision": None}


@pytest.mark.parametrize(("data", "message"), [
    (b"", "nothing to explain: the input is empty"),
    (b"  \n\t\r\n  ", "nothing to explain: the input holds no text"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00", "the input is binary data (a NUL byte at offset 7)"),
    (bytes(range(128, 256)) * 64, "the input is not text: "),
    (b"A" * (MAX_LINE + 10), "the input is one line of more than 65536 characters"),
])
def test_bad_input_is_refused_in_one_line(data: bytes, message: str) -> None:
    with pytest.raises(InputError) as err:
        api.explain(data)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_few_undecodable_bytes_in_a_log_are_replaced_and_counted() -> None:
    e = api.explain(b"caf\xe9 ol\xe9\n" + AMPERE.encode(), recommend_flags=False)
    assert e.matches[0].rule == "FA2-CC" and e.input.replaced == 2


def test_a_huge_line_in_a_log_is_cut_and_the_rest_still_read() -> None:
    log = AMPERE.encode() + b" " + b"x" * (3 * MAX_LINE) + b"\nnext line\nNo module named 'flash_attn_2_cuda'\n"
    e = api.explain(log, recommend_flags=False)
    assert {m.rule for m in e.matches} >= {"FA2-CC", "FA2-IMPORT"}
    assert e.input.long_lines == 1 and e.input.lines == 3
    assert next(m for m in e.matches if m.rule == "FA2-IMPORT").messages[0].line == 3


def test_a_long_line_is_never_held_whole() -> None:
    class Chunks(io.RawIOBase):
        """A stream of one 40 MB line handed out in 1 MB reads, recording the largest line the reader kept."""

        def __init__(self) -> None:
            self.left = 40

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            if self.left == 0:
                return b""
            self.left -= 1
            return b"y" * (1 << 20) + (b"\n" + AMPERE.encode() + b"\n" if self.left == 0 else b"")

    reader = LogReader(Chunks())  # type: ignore[arg-type]
    longest = max(len(line) for block in reader.blocks() for line in block.text.split("\n"))
    assert longest == MAX_LINE and reader.stats.long_lines == 1 and reader.stats.lines == 2


def test_a_message_across_a_block_boundary_is_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(log_reader, "BLOCK_CHARS", 4000)
    monkeypatch.setattr(log_reader, "READ_BYTES", 1500)
    monkeypatch.setattr(log_reader, "OVERLAP_CHARS", 600)
    filler = "".join(f"step {i} loss=0.{i:04d}\n" for i in range(1, 400))
    log = (filler + "RuntimeError: FlashAttention only supports\nAmpere GPUs or newer.\n" + filler
           + AMPERE + "\n")
    e = api.explain(log, recommend_flags=False)
    hit = e.matches[0].messages[0]
    assert e.matches[0].rule == "FA2-CC"
    assert (hit.line, hit.count) == (400, 2)
    assert e.input.lines == 2 * 399 + 3


def test_input_may_be_text_bytes_or_a_stream() -> None:
    for source in (AMPERE, AMPERE.encode(), io.BytesIO(AMPERE.encode())):
        assert api.explain(source, recommend_flags=False).matches[0].rule == "FA2-CC"
