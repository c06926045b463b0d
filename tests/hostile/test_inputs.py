"""Hostile inputs, one class of attack per test: each ends in its documented exit code with one line on stderr,
no traceback, within a time and memory bound, and runs no code but advisor's own (issue 15)."""

from __future__ import annotations

import json
import os
import socket
import xml.dom.minidom
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.harness import CONFIGS, MARKER, advisor, assert_contained

T5 = "google-t5__t5-small.json"
JAMBA = "ai21labs__Jamba-v0.1.json"
QWEN = "Qwen__Qwen2.5-7B.json"
QWEN_MOE = "Qwen__Qwen3-30B-A3B.json"
DEEPSEEK = "deepseek-ai__DeepSeek-V3.json"
GEMMA2 = "google__gemma-2-9b-it.json"
MAMBA = "RandomNameAnd6__DharMamba__mamba-130m-hf.json"
LLAMA4 = "meta-llama__Llama-4-Scout-17B-16E-Instruct.json"
PYTHIA = "EleutherAI__pythia-14m.json"


def config(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONFIGS / name).read_text(encoding="utf-8"))
    return data


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


# -- 1. no code runs but advisor's own ------------------------------------------------------------------

def plant_look_alikes(folder: Path) -> None:
    """A cloned repo's tree: dist-infos and modules named like the packages the probe imports, each writing
    the marker file when imported."""
    payload = f"open({str(folder / MARKER)!r}, 'w').write('ran')\n"
    for dist, version, modules in (("flash_attn", "2.8.3", ("flash_attn", "flash_attn_2_cuda")),
                                   ("bitsandbytes", "0.45.0", ("bitsandbytes",)),
                                   ("xformers", "0.0.30", ("xformers",)),
                                   ("flash_attn_3", "3.0.0", ("flash_attn_interface",))):
        info = folder / f"{dist}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: {version}\n")
        for module in modules:
            (folder / f"{module}.py").write_text(payload)
    for module in ("rotary_emb", "fused_dense_lib", "dropout_layer_norm", "torch", "transformers"):
        (folder / f"{module}.py").write_text(payload)


@pytest.mark.parametrize(("how", "args"), [
    ("console-script", ("recommend", "config.json", "--format", "json")),
    ("python-m", ("recommend", "config.json", "--format", "json")),
    ("pythonpath", ("recommend", "config.json", "--format", "json")),
    ("pythonpath", ("facts",)),
    ("python-m", ("check", "config.json", "--flags", "{}", "--format", "json")),
    ("python-m", ("lint", ".", "--format", "json")),
])
def test_look_alike_modules_in_the_working_directory_never_run(tmp_path: Path, how: str,
                                                                args: tuple[str, ...]) -> None:
    plant_look_alikes(tmp_path)
    write(tmp_path, "config.json", config(PYTHIA))
    (tmp_path / "app.py").write_text("from transformers import AutoModel\nAutoModel.from_pretrained('x/y')\n")
    run = advisor(*args, cwd=tmp_path, python_m=how == "python-m",
                  env={"PYTHONPATH": "."} if how == "pythonpath" else None)
    assert_contained(run, (0, 1, 3), tmp_path)
    if args[0] == "recommend":
        packages = json.loads(run.out)["target"]["software"]["packages"]
        assert packages["flash-attn"]["version"]["value"] is None, "a dist-info in the working directory counted"


# -- 2. every number is validated -----------------------------------------------------------------------

NUMBERS: list[tuple[str, str, object, str]] = [
    (T5, "num_decoder_layers", 10**9, "num_decoder_layers"),
    (T5, "num_layers", 10**9, "num_layers"),
    (T5, "d_kv", 10**12, "d_kv"),
    (QWEN, "num_hidden_layers", 10**9, "num_hidden_layers"),
    (QWEN, "max_window_layers", 10**9, "max_window_layers"),
    (QWEN, "vocab_size", 10**30, "vocab_size"),
    (QWEN, "intermediate_size", 10**30, "intermediate_size"),
    (QWEN, "rope_theta", 10**400, "rope_theta"),
    (QWEN, "attention_dropout", 10**400, "attention_dropout"),
    (QWEN, "layer_types", ["full_attention"] * 20_000, "layer_types"),
    (QWEN_MOE, "num_experts", 10**7, "num_experts"),
    (QWEN_MOE, "decoder_sparse_step", 0, "decoder_sparse_step"),
    (QWEN_MOE, "mlp_only_layers", list(range(20_000)), "mlp_only_layers"),
    (JAMBA, "attn_layer_period", 0, "attn_layer_period"),
    (JAMBA, "expert_layer_period", 0, "expert_layer_period"),
    (DEEPSEEK, "moe_layer_freq", 0, "moe_layer_freq"),
    (DEEPSEEK, "first_k_dense_replace", 10**9, "first_k_dense_replace"),
    (DEEPSEEK, "kv_lora_rank", 10**40, "kv_lora_rank"),
    (GEMMA2, "sliding_window", 10**20, "sliding_window"),
    (MAMBA, "state_size", 10**15, "state_size"),
    (LLAMA4, "text_config.interleave_moe_layer_step", 0, "interleave_moe_layer_step"),
    (LLAMA4, "text_config.num_hidden_layers", 10**9, "num_hidden_layers"),
    (LLAMA4, "vision_config.num_hidden_layers", 10**9, "num_hidden_layers"),
]


def set_path(data: dict[str, Any], dotted: str, value: object) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        data = data.setdefault(key, {})
    data[last] = value


@pytest.mark.parametrize(("name", "key", "value", "says"), NUMBERS, ids=[f"{n.split('__')[-1][:14]}-{k}"
                                                                         for n, k, _, _ in NUMBERS])
def test_a_number_out_of_bounds_anywhere_in_a_config_is_exit_2_at_once(tmp_path: Path, name: str, key: str,
                                                                       value: object, says: str) -> None:
    data = config(name)
    set_path(data, key, value)
    write(tmp_path, "config.json", data)
    run = advisor("recommend", "config.json", "--gpu", "T4", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says=says)


@pytest.mark.parametrize("literal", ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "9" * 5000])
def test_numbers_json_cannot_hold_as_floats_are_exit_2(tmp_path: Path, literal: str) -> None:
    text = (CONFIGS / QWEN).read_text(encoding="utf-8").replace('"rope_theta": 1000000.0', f'"rope_theta": {literal}')
    assert literal in text
    write(tmp_path, "config.json", text)
    assert_contained(advisor("recommend", "config.json", "--gpu", "T4", cwd=tmp_path), (2,), tmp_path, time_s=10)


PROFILES: list[tuple[str, str]] = [
    ('{"gpus": 5}', "gpus"),
    ('{"gpus": [5]}', "name"),
    ('{"gpus": [{"name": "T4", "cc": "7.5", "memory_gib": "nan"}]}', "memory_gib"),
    ('{"gpus": [{"name": "T4", "cc": "7.5", "memory_gib": 1e309}]}', "1e309"),
    ('{"gpus": [{"name": "T4", "cc": "7.5", "memory_gib": -3}]}', "memory_gib"),
    ('{"gpus": [{"name": "T4", "cc": "99999999999.5"}]}', "cc"),
    ('{"gpus": [{"name": "T4", "count": 1000000000}]}', "count"),
    ('{"gpus": [{"name": "T4", "count": 1000}, {"name": "T4", "count": 1000}]}', "count"),
    ('{"gpus": [{"name": "T4", "count": true}]}', "count"),
    ('{"gpu": 5}', "gpu"),
    ('{"gpu": "T4x' + "9" * 5000 + '"}', "GPU"),
    ('{"gpu": "T4", "cpu": {"cores": "x", "memory_gib": "1e309"}}', "cpu"),
    ('{"gpu": "T4", "cpu": {"memory_gib": 1e300}}', "cpu.memory_gib"),
    ('{"gpu": "T4", "cpu": {"bf16": "yes"}}', "cpu.bf16"),
    ('{"gpu": "T4", "driver": "x"}', "driver"),
]


@pytest.mark.parametrize(("text", "says"), PROFILES)
def test_hardware_profiles_are_checked_field_by_field(tmp_path: Path, text: str, says: str) -> None:
    write(tmp_path, "config.json", config(PYTHIA))
    write(tmp_path, "hw.json", text)
    run = advisor("recommend", "config.json", "--hardware", "hw.json", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says=says)


@pytest.mark.parametrize(("text", "says"), [
    ('{"packages": {"torch": "' + "9" * 5000 + '"}}', "characters long"),
    ('{"packages": {"torch": true}}', "version"),
    ('{"packages": {"torch": "2.5"}, "imports": {"torch": "no"}}', "imports"),
    ('{"packages": {"torch": "2.5"}, "modules": {"rotary_emb": "x"}}', "modules"),
    ('{"packages": {"torch": "2.5"}, "torch": {"archs": "sm_80"}}', "archs"),
    ('{"python": 3}', "python"),
    ('{"packages": ["torch"]}', "packages"),
])
def test_software_profiles_are_checked_field_by_field(tmp_path: Path, text: str, says: str) -> None:
    write(tmp_path, "config.json", config(PYTHIA))
    write(tmp_path, "sw.json", text)
    run = advisor("recommend", "config.json", "--gpu", "T4", "--software", "sw.json", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says=says)


@pytest.mark.parametrize("args", [
    ("--gpu", "T4x" + "9" * 5000),
    ("--gpu", "H100x0"),
    ("--gpu", "x" * 100_000),
    ("--gpu", "T4", "--with", "torch==" + "9" * 5000),
    ("--gpu", "T4", "--with", "torch==2." + "9" * 4000),
    ("--gpu", "T4", "--with", "x" * 100_000),
    ("--gpu", "T4", "--context", "9" * 4000),
    ("--gpu", "T4", "--batch", "-1"),
    ("--gpu", "T4", "--revision", "r" * 100_000, "--model-is-hub"),
], ids=["gpu-digits", "gpu-0", "gpu-long", "with-digits", "with-4000", "with-long", "context", "batch", "revision"])
def test_command_line_numbers_and_versions_are_bounded(tmp_path: Path, args: tuple[str, ...]) -> None:
    write(tmp_path, "config.json", config(PYTHIA))
    model = "org/model" if args[-1] == "--model-is-hub" else "config.json"
    run = advisor("recommend", model, *(a for a in args if a != "--model-is-hub"), cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10)


# -- 3. every read is bounded and typed -----------------------------------------------------------------

@pytest.fixture
def specials(tmp_path: Path) -> Iterator[dict[str, Path]]:
    """Things that are not regular files: a device that never ends, a FIFO without a writer, a socket, a
    symlink loop, and a regular file past the size limit."""
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.json"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    loop = tmp_path / "loop.json"
    loop.symlink_to(tmp_path / "loop2.json")
    (tmp_path / "loop2.json").symlink_to(loop)
    big = tmp_path / "big.json"
    big.write_text('{"model_type": "llama", "pad": "' + "x" * (5 * 1024 * 1024) + '"}')
    yield {"devzero": Path("/dev/zero"), "fifo": fifo, "socket": sock_path, "loop": loop, "big": big}
    sock.close()


KINDS = ["devzero", "fifo", "socket", "loop", "big"]
READERS: list[tuple[str, Callable[[str], tuple[str, ...]]]] = [
    ("model", lambda p: ("recommend", p, "--gpu", "T4")),
    ("hardware", lambda p: ("recommend", "config.json", "--hardware", p)),
    ("software", lambda p: ("recommend", "config.json", "--gpu", "T4", "--software", p)),
    ("flags", lambda p: ("check", "config.json", "--gpu", "T4", "--flags", f"@{p}")),
    ("policy", lambda p: ("check", "--policy", p)),
    ("explain", lambda p: ("explain", "--file", p)),
]


CASES = [pytest.param(kind, reader, argv, id=f"{reader}-{kind}") for reader, argv in READERS for kind in KINDS
         if not (reader == "explain" and kind == "big")]  # a log is streamed whatever its size: a big one is read


@pytest.mark.parametrize(("kind", "reader", "argv"), CASES)
def test_what_is_not_a_small_regular_file_is_refused_at_once(tmp_path: Path, specials: dict[str, Path], kind: str,
                                                             reader: str,
                                                             argv: Callable[[str], tuple[str, ...]]) -> None:
    write(tmp_path, "config.json", config(PYTHIA))
    run = advisor(*argv(str(specials[kind])), cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10)


@pytest.mark.parametrize("kind", KINDS)
def test_lint_reports_what_it_cannot_read_as_a_finding_for_that_file(tmp_path: Path, specials: dict[str, Path],
                                                                     kind: str) -> None:
    tree = tmp_path / "src"
    tree.mkdir()
    (tree / "ok.py").write_text("from transformers import AutoModel\nAutoModel.from_pretrained('gpt2')\n")
    target = specials[kind]
    link = tree / "hostile.py"
    if kind == "big":
        link.write_text("x = 1\n" * 200_000 + "from transformers import AutoModel\nAutoModel.from_pretrained('gpt2')\n")
    else:
        link.symlink_to(target)
    run = advisor("lint", "src", "--gpu", "T4", "--format", "json", cwd=tmp_path)
    assert_contained(run, (1, 3), tmp_path, time_s=20)
    assert "hostile.py" in run.out


def test_lint_of_a_tree_of_thousands_of_files_stays_bounded(tmp_path: Path) -> None:
    tree = tmp_path / "src"
    for i in range(3000):
        folder = tree / f"p{i % 30}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"m{i}.py").write_text(f"from transformers import AutoModel\nm = AutoModel.from_pretrained("
                                         f"'org/m{i % 3}', attn_implementation='eager')\n" if i % 100 == 0 else
                                         f"x = {i}\n")
    run = advisor("lint", "src", "--gpu", "T4", "--format", "json", "--offline", cwd=tmp_path)
    assert_contained(run, (0, 1, 3), tmp_path, time_s=60)


# -- 4. every parser's failure is an input error --------------------------------------------------------

def deep_json(depth: int) -> str:
    return '{"model_type": "llama", "x": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(("name", "text"), [
    ("deep-list", deep_json(100_000)),
    ("deep-object", '{"model_type": "llama", "x": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}"),
    ("just-deep-enough", deep_json(900)),
    ("not-utf8", b'{"model_type": "\xff\xfe"}'.decode("latin-1")),
    ("lone-surrogate", '{"model_type": "llama\\ud800"}'),
    ("not-an-object", "[1, 2]"),
    ("empty", ""),
], ids=lambda v: v if len(v) < 30 else "")
def test_config_parser_failures_are_exit_2(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(text.encode("latin-1") if name == "not-utf8" else text.encode())
    run = advisor("recommend", "config.json", "--gpu", "T4", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10)


@pytest.mark.parametrize(("what", "argv", "name", "text"), [
    ("policy", ("check", "--policy", "advisor.toml"), "advisor.toml", "x = " + "[" * 50_000 + "]" * 50_000),
    ("policy", ("check", "--policy", "advisor.toml"), "advisor.toml", "x = " + "{a = " * 5000 + "1" + "}" * 5000),
    ("policy", ("check", "--policy", "advisor.toml"), "advisor.toml", "x = " + "9" * 5000),
    ("policy", ("check", "--policy", "advisor.toml"), "advisor.toml", "x = [" + "[" * 70 + "]" * 70 + "]"),
    ("hardware", ("recommend", "config.json", "--hardware", "hw.toml"), "hw.toml", "gpus = " + "[" * 50_000),
    ("software", ("recommend", "config.json", "--gpu", "T4", "--software", "sw.json"), "sw.json",
     '{"packages": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("flags", ("check", "config.json", "--gpu", "T4", "--flags", "@flags.json"), "flags.json",
     '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ("lock", ("check", "--policy", "advisor.toml"), "uv.lock", "package = " + "[" * 50_000),
], ids=["policy-lists", "policy-tables", "policy-digits", "policy-depth-72", "hardware", "software", "flags", "lock"])
def test_nested_thousands_deep_is_exit_2_for_every_parser(tmp_path: Path, what: str, argv: tuple[str, ...],
                                                          name: str, text: str) -> None:
    write(tmp_path, "config.json", config(PYTHIA))
    write(tmp_path, name, text)
    if name == "uv.lock":
        write(tmp_path, "advisor.toml", 'gpus = ["T4"]\n[[software]]\nlockfile = "uv.lock"\n'
                                        '[[model]]\nid = "config.json"\n')
    run = advisor(*argv, cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says="uv.lock" if name == "uv.lock" else "")


HOSTILE_SOURCES = {
    "deep-parens": "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n",
    "long-chain": "x = " + " + ".join(["a"] * 100_000) + "\n",
    "deep-unary": "x = " + "-" * 100_000 + "1\n",
    "nul-bytes": "import flash_attn\x00\n",
    "deep-lists": "x = " + "[" * 150 + "]" * 150 + "\n",
}


@pytest.mark.parametrize("name", list(HOSTILE_SOURCES))
def test_hostile_remote_code_is_read_never_crashes(tmp_path: Path, name: str) -> None:
    data = config(QWEN)
    data["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}
    model = tmp_path / "model"
    model.mkdir()
    write(model, "config.json", data)
    (model / "modeling_evil.py").write_text(HOSTILE_SOURCES[name] + f"open({str(tmp_path / MARKER)!r}, 'w')\n")
    run = advisor("recommend", "model", "--gpu", "T4", "--format", "json", cwd=tmp_path)
    assert_contained(run, (0,), tmp_path, time_s=20)


@pytest.mark.parametrize("name", list(HOSTILE_SOURCES))
def test_hostile_linted_source_is_a_finding_never_a_crash(tmp_path: Path, name: str) -> None:
    (tmp_path / "app.py").write_text("from transformers import AutoModel\nAutoModel.from_pretrained('gpt2')\n"
                                     + HOSTILE_SOURCES[name])
    run = advisor("lint", "app.py", "--gpu", "T4", "--format", "json", cwd=tmp_path)
    assert_contained(run, (0, 1, 3), tmp_path, time_s=20)


@pytest.mark.parametrize("path", [
    "a/" * 3000 + "config.json",
    "x" * 300 + "/config.json",
    "~no-such-user-" + "x" * 20 + "/config.json",
    "bad\x00name.json",
], ids=["deep", "long-part", "no-user", "nul"])
def test_paths_that_cannot_be_expanded_or_are_too_long_are_exit_2(tmp_path: Path, path: str) -> None:
    argv = ("recommend", path.replace("\x00", "%00"), "--gpu", "T4")
    run = advisor(*argv, cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10)


def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff\x1b[31mmodel.json")
    (tmp_path / os.fsencode(name).decode("utf-8", "surrogateescape")).write_text(json.dumps(config(PYTHIA)))
    for fmt in ("text", "json", "python"):
        run = advisor("recommend", name, "--gpu", "T4", "--format", fmt, cwd=tmp_path)
        assert_contained(run, (0,), tmp_path, time_s=10)
        assert "\x1b" not in run.out + run.err
    run = advisor("recommend", os.fsdecode(b"/no/such/\xff\x1b[31m.json"), "--gpu", "T4", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10)
    assert "\x1b" not in run.err


# -- 5. output cannot be turned against its reader ------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[31m\x1b[2J\u202e\x00\x0b\x7f\x9b"


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "junit", "sarif", "json"])
def test_control_characters_from_a_config_never_reach_the_reader(tmp_path: Path, fmt: str) -> None:
    data = config(QWEN)
    data["architectures"] = [f"Qwen2{ESCAPES}ForCausalLM"]
    data["torch_dtype"] = f"bf{ESCAPES}16"
    data["quantization_config"] = {"quant_method": f"gp{ESCAPES}tq"}
    write(tmp_path, f"conf{ESCAPES[:6]}ig.json".replace("\x00", ""), data)
    model = next(p.name for p in tmp_path.iterdir() if p.name.startswith("conf"))
    flags = json.dumps({"attn_implementation": f"fl{ESCAPES}ash", f"de{ESCAPES}vice_map": "auto"})
    run = advisor("check", model, "--gpu", "T4", "--flags", flags, "--format", fmt, cwd=tmp_path)
    assert_contained(run, (1, 3), tmp_path, time_s=15)
    text = run.out + run.err
    if fmt != "json":  # JSON escapes them itself; its readers parse it
        assert not any(c in text for c in "\x1b\x07\x00\x0b\x7f\x9b\u202e"), repr(text[:400])
    if fmt == "junit":
        xml.dom.minidom.parseString(run.out)
    if fmt in ("sarif", "json"):
        json.loads(run.out)


def test_an_input_echoed_in_an_error_is_cut_to_a_readable_length(tmp_path: Path) -> None:
    for argv in (("recommend", "org/" + "x" * 100_000), ("check", "--policy", "p" * 5000),
                 ("rules", "R" * 100_000), ("recommend", "x" * 100_000 + ".json")):
        run = advisor(*argv, cwd=tmp_path)
        assert_contained(run, (2,), tmp_path, time_s=10)
