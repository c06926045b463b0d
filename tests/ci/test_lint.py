"""`advisor lint`: calls read with ast, aliases followed, unresolvable parts reported unknown."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.ci.lint import Call, lint_paths, lint_source
from advisor.core.logic import Unknown
from tests.ci.conftest import DATA, SW4_FA, SW5, Run, write_policy

TREE = DATA / "lint_tree"


def calls_by_line(name: str) -> dict[int, Call]:
    path = TREE / name
    return {c.line: c for c in lint_source(path.read_text(encoding="utf-8"), name)}


def test_aliases_dtypes_and_inline_configs() -> None:
    calls = calls_by_line("app/load.py")
    assert sorted(calls) == [9, 16, 19, 25]
    plain = calls[9]
    assert plain.loader == "AutoModelForCausalLM" and plain.model == "meta-llama/Meta-Llama-3.1-8B"
    assert plain.flags == {"attn_implementation": "flash_attention_2", "torch_dtype": "bfloat16"}
    assert plain.unresolved == ()
    encoder = calls[16]
    assert encoder.loader == "AutoModel" and encoder.flags == {"dtype": "float32", "device_map": {"": 0}}
    assert calls[19].flags["quantization_config"] == {"quant_method": "bitsandbytes", "load_in_4bit": True,
                                                      "bnb_4bit_compute_dtype": "bfloat16"}
    assert calls[25].flags == {"use_flash_attention_2": True}


def test_comments_strings_tokenizers_and_foreign_classes_do_not_match() -> None:
    tricky = calls_by_line("app/tricky.py")
    assert sorted(tricky) == [14, 21, 26]  # not line 7 (comment), 8 (string) or 9 (tokenizer)
    convert = calls_by_line("app/sub/convert.py")
    assert sorted(convert) == [6]  # `from mylib import AutoModel` is not transformers'


def test_unresolvable_arguments_are_unknown_never_guessed() -> None:
    tricky = calls_by_line("app/tricky.py")
    assert tricky[14].unresolved == ("**kwargs may set any flag",)
    named = tricky[21]
    assert named.model is None and named.unresolved == ("the model id `name` is not a literal",)
    attn = named.flags["attn_implementation"]
    assert isinstance(attn, Unknown)
    assert "attn_implementation=attn" in attn.reason and "tricky.py:21" in attn.reason
    assert tricky[26].flags == {"torch_dtype": "float16"} and tricky[26].unresolved == ()


def test_bettertransformer_is_attached_to_its_model() -> None:
    call = calls_by_line("app/sub/convert.py")[6]
    assert call.loader == "LlamaForCausalLM" and call.revision == "main"
    assert call.flags == {"revision": "main", "to_bettertransformer": True}
    loose = lint_source("import transformers\ndef f(m):\n    return m.to_bettertransformer()\n", "x.py")
    assert len(loose) == 1 and loose[0].model is None and "does not come from" in loose[0].unresolved[0]


@pytest.mark.parametrize("source, expected", [
    ("import transformers\n"
     "transformers.AutoModelForSeq2SeqLM.from_pretrained('t5-small', device_map='auto')\n",
     ("AutoModelForSeq2SeqLM", "t5-small", {"device_map": "auto"})),
    ("import transformers.models.llama as L\n"
     "L.LlamaModel.from_pretrained(pretrained_model_name_or_path='x/y')\n",
     ("LlamaModel", "x/y", {})),
    ("from transformers import AutoModel\nM = AutoModel\nN = M\n"
     "N.from_pretrained('x/y', trust_remote_code=True)\n",
     ("AutoModel", "x/y", {"trust_remote_code": True})),
    ("import torch as th\nfrom transformers import AutoModel\n"
     "AutoModel.from_pretrained('x/y', torch_dtype=th.float16, low_cpu_mem_usage=True, token=tok)\n",
     ("AutoModel", "x/y", {"torch_dtype": "float16", "low_cpu_mem_usage": True})),
    ("from torch import bfloat16 as bf\nfrom transformers import AutoModel\n"
     "AutoModel.from_pretrained('x/y', dtype=bf, flash_attn=True, fused_dense=False)\n",
     ("AutoModel", "x/y", {"dtype": "bfloat16", "flash_attn": True, "fused_dense": False})),
])
def test_more_call_shapes(source: str, expected: tuple[str, str, dict[str, object]]) -> None:
    [call] = lint_source(source, "x.py")
    assert (call.loader, call.model, call.flags) == expected


def test_non_matches() -> None:
    source = ("from transformers import AutoConfig, AutoTokenizer, pipeline\nfrom transformers import *\n"
              "AutoConfig.from_pretrained('x/y')\nAutoTokenizer.from_pretrained('x/y')\n"
              "AutoModel.from_pretrained('x/y')\ntext = \"AutoModel.from_pretrained('x/y')\"\n")
    assert lint_source(source, "x.py") == []


BROKEN = "from transformers import AutoModel\nmodel = AutoModel.from_pretrained('google-bert/bert-base'\n"


def test_unreadable_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    (tmp_path / ".venv").mkdir()
    hidden = "from transformers import AutoModel\nAutoModel.from_pretrained('a/b')\n"
    (tmp_path / ".venv" / "x.py").write_text(hidden, encoding="utf-8")
    calls, bad, _ = lint_paths([tmp_path])
    assert calls == []
    assert [(b.file.rsplit("/", 1)[-1], b.line, b.why) for b in bad] == [
        ("bad.py", 1, "not UTF-8 text"), ("broken.py", 2, "does not parse: '(' was never closed")]


def test_lint_cli_findings_carry_file_and_line(advisor: Callable[..., Run]) -> None:
    r = advisor("lint", TREE, "--gpu", "T4", "--software", SW5, "--offline", "--format", "json")
    data = json.loads(r.out)
    assert r.code == 1
    where = {(f["rule"], f["file"].rsplit("lint_tree/", 1)[-1], f["line"], f.get("column"))
             for f in data["findings"]}
    # a finding about a flag points at the keyword (line and column), one whose rule reads a keyword as
    # passed at that keyword (torch_dtype), others at the call
    assert {("FA2-CC", "app/load.py", 11, 5), ("DTYPE-BF16-GPU", "app/load.py", 12, 5),
            ("DTYPE-KWARG-DEPRECATED", "app/load.py", 12, 5), ("MEM-QUANT-WOULD-HELP", "app/load.py", 9, 9),
            ("KWARG-USE-FA2-REMOVED", "app/load.py", 25, 67)} <= where
    assert any(w[0] == "BT-REMOVED" and w[1] == "app/sub/convert.py" for w in where)
    unknown = {(u["rule"], u["line"]) for u in data["unknown"]}
    assert unknown == {("LINT-UNRESOLVED", 14), ("LINT-UNRESOLVED", 21)}


def test_lint_exit_codes(advisor: Callable[..., Run], tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("from transformers import AutoModelForCausalLM\n"
                    "m = AutoModelForCausalLM.from_pretrained('meta-llama/Meta-Llama-3.1-8B', "
                    "attn_implementation='flash_attention_2', torch_dtype='bfloat16')\n", encoding="utf-8")
    ok = advisor("lint", good, "--gpu", "A100-80GB", "--software", SW4_FA, "--offline")
    assert ok.code == 0, ok.out
    assert advisor("lint", good, "--gpu", "T4", "--software", SW4_FA, "--offline").code == 1
    unresolved = tmp_path / "kw.py"
    unresolved.write_text("from transformers import AutoModel\ndef f(**kw):\n"
                          "    return AutoModel.from_pretrained('google-bert/bert-base-uncased', **kw)\n")
    assert advisor("lint", unresolved, "--gpu", "A100-80GB", "--software", SW4_FA, "--offline").code == 3
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "broken.py").write_text(BROKEN, encoding="utf-8")
    assert advisor("lint", broken, "--gpu", "T4", "--software", SW5).code == 3
    assert advisor("lint", tmp_path / "empty_dir_missing").code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    r = advisor("lint", empty, "--gpu", "T4", "--software", SW5)
    assert r.code == 0 and "nothing to check (no from_pretrained(...) call found)" in r.out


def test_lint_uses_the_policy_targets_and_ignores(advisor: Callable[..., Run], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_policy(tmp_path, 'offline = true\ngpus = ["T4"]\n\n[[software]]\nprofile = "{SW5}"\n\n'
                 '[[ignore]]\nrule = "LINT-UNRESOLVED"\nreason = "factories build kwargs"\n')
    monkeypatch.chdir(tmp_path)
    r = advisor("lint", TREE / "app" / "tricky.py", "--format", "json")
    data = json.loads(r.out)
    assert data["policy"] == "advisor.toml" or data["policy"].endswith("advisor.toml")
    assert {c["target"] for c in data["cases"]} == {"T4"}
    assert data["unknown"] == []  # the ignore accepts the unresolved calls, so it is used
    assert not any(f["rule"] == "POLICY-IGNORE-UNUSED" for f in data["findings"])
    assert r.code == 1  # bfloat16 by default on a T4 (transformers 5 loads the checkpoint's dtype)


def test_lint_text_is_ruffs_line_format(advisor: Callable[..., Run]) -> None:
    r = advisor("lint", TREE, "--gpu", "T4", "--software", SW5, "--offline")
    lines = r.out.splitlines()
    fa2 = [line for line in lines if " FA2-CC " in line]
    assert fa2 and fa2[0].startswith("tests/ci/data/lint_tree/app/load.py:11:5: FA2-CC flash_attention_2 needs")
    assert all(re.match(r"^[\w./-]+:\d+:\d+: [A-Z0-9-]+ ", line) for line in lines[:-2] if line)
    assert any(" LINT-UNRESOLVED (unknown) " in line for line in lines)


def test_inline_suppressions_silence_a_rule_and_stale_ones_are_reported(advisor: Callable[..., Run],
                                                                       tmp_path: Path) -> None:
    code = tmp_path / "load.py"
    code.write_text(
        "from transformers import AutoModelForCausalLM\n"
        "m = AutoModelForCausalLM.from_pretrained(\n"
        "    'meta-llama/Meta-Llama-3.1-8B',\n"
        "    attn_implementation='flash_attention_2',  # advisor: ignore[FA2-CC, FA2-PKG]\n"
        "    dtype='float16',  # advisor: ignore[SDPA-CLASS]\n"
        ")\n"
        "s = '# advisor: ignore[DTYPE-BF16-GPU]'  # a string, not a comment\n", encoding="utf-8")
    r = advisor("lint", code, "--gpu", "T4", "--software", SW5, "--offline", "--format", "json")
    data = json.loads(r.out)
    rules = [f["rule"] for f in data["findings"]]
    assert "FA2-CC" not in rules and "FA2-PKG" not in rules
    stale = [f for f in data["findings"] if f["rule"] == "LINT-IGNORE-UNUSED"]
    assert [(f["line"], "SDPA-CLASS" in f["message"]) for f in stale] == [(5, True)]
    loud = advisor("lint", code, "--gpu", "T4", "--software", SW5, "--offline", "--format", "json")
    assert json.loads(loud.out) == data  # stable
    code.write_text(code.read_text().replace("  # advisor: ignore[FA2-CC, FA2-PKG]", ""), encoding="utf-8")
    again = json.loads(advisor("lint", code, "--gpu", "T4", "--software", SW5, "--offline", "--format", "json").out)
    assert "FA2-CC" in [f["rule"] for f in again["findings"]]
