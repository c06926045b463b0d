"""Bad input: one line on stderr, exit 2, never a traceback, nothing on stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LLAMA = str(ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json")
SOFTWARE = str(ROOT / "fixtures/software/cuda-tf5.23.json")

BAD_CONFIGS = {
    "not-json.json": "{ this is not json",
    "array.json": "[1, 2, 3]",
    "string.json": '"llama"',
    "empty-object.json": "{}",
    "nan.json": '{"model_type": "llama", "hidden_size": NaN}',
    "negative-heads.json": '{"model_type": "llama", "num_attention_heads": -4, "hidden_size": 4096}',
    "absurd-layers.json": '{"model_type": "llama", "num_hidden_layers": 10000000}',
    "string-heads.json": '{"model_type": "llama", "num_attention_heads": "32"}',
    "bad-kv.json": '{"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 5}',
    "bad-types.json": '{"model_type": 7}',
    "bad-archs.json": '{"architectures": "LlamaForCausalLM"}',
    "bad-quant.json": '{"model_type": "llama", "quantization_config": [1]}',
    "deep.json": "[" * 100000 + "]" * 100000,
    "binary.json": "\udcff",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int = 2) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: "), proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    content = BAD_CONFIGS[name]
    if name == "binary.json":
        path.write_bytes(b"\xff\xfe\x00{")
    else:
        path.write_text(content)
    assert_clean_error(run("recommend", str(path), "--gpu", "T4", "--software", SOFTWARE))


def test_huge_config(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text('{"model_type": "llama", "pad": "' + "x" * (5 * 1024 * 1024) + '"}')
    assert_clean_error(run("recommend", str(path), "--gpu", "T4"))


@pytest.mark.parametrize("args", [
    ["--gpu", "T5"],
    ["--gpu", "H100x0"],
    ["--gpu", "quantum-9000"],
    ["--with", "flash-attn"],
    ["--with", "flash-attn==banana"],
    ["--with", "==2.0"],
    ["--dtype", "fp8"],
    ["--task", "serving"],
    ["--context", "-5"],
    ["--context", "0"],
    ["--batch", "0"],
    ["--batch", "many"],
    ["--hardware", "/nonexistent/hw.json"],
    ["--software", "/nonexistent/sw.json"],
    ["--gpu", "T4", "--hardware", "fixtures/hardware/cpu-amx.json"],
    ["--format", "yaml"],
])
def test_bad_options(args: list[str]) -> None:
    assert_clean_error(run("recommend", LLAMA, *args))


@pytest.mark.parametrize("command", ["recommend", "check"])
def test_a_transformers_older_than_the_tables_is_refused(command: str) -> None:
    extra = ["--flags", '{"dtype": "bfloat16"}'] if command == "check" else []
    proc = run(command, LLAMA, "--gpu", "T4", "--with", "transformers==4.35.2", *extra)
    assert_clean_error(proc)
    assert "transformers 4.35.2 is older than 4.36.0, the oldest release advisor has read" in proc.stderr


def test_unknown_gpu_suggests_close_names() -> None:
    proc = run("recommend", LLAMA, "--gpu", "A100-80G")
    assert proc.returncode == 0 or "did you mean" in proc.stderr
    proc = run("recommend", LLAMA, "--gpu", "H10")
    assert_clean_error(proc)
    assert "H100" in proc.stderr


def test_missing_file() -> None:
    assert_clean_error(run("recommend", "/nonexistent/config.json"))


def test_folder_without_config(tmp_path: Path) -> None:
    assert_clean_error(run("recommend", str(tmp_path)))


def test_bad_profile_files(tmp_path: Path) -> None:
    bad_json = tmp_path / "sw.json"
    bad_json.write_text("{ nope")
    assert_clean_error(run("recommend", LLAMA, "--software", str(bad_json)))
    bad_version = tmp_path / "sw2.json"
    bad_version.write_text('{"packages": {"torch": "two point six"}}')
    assert_clean_error(run("recommend", LLAMA, "--software", str(bad_version)))
    bad_key = tmp_path / "hw.json"
    bad_key.write_text('{"gpus": [{"name": "T4"}], "colour": "green"}')
    assert_clean_error(run("recommend", LLAMA, "--hardware", str(bad_key)))
    bad_gpu = tmp_path / "hw2.json"
    bad_gpu.write_text('{"gpus": [{"name": "Voodoo5"}]}')
    assert_clean_error(run("recommend", LLAMA, "--hardware", str(bad_gpu)))


def test_broken_rule_file_names_file_and_rule(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "attention.toml").read_text().replace('require = \'gpu.cc >= "8.0"\'',
                                                            'require = \'gpu.cc >= "eight"\'', 1)
    (rules / "attention.toml").write_text(text)
    code = ("import sys; from pathlib import Path; from advisor.engine.pack import load_rules;"
            "from advisor.core.errors import InputError\n"
            f"try:\n    load_rules(Path({str(rules)!r}))\nexcept InputError as e:\n    print(e); sys.exit(2)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert "attention.toml" in proc.stdout and "FA2-CC" in proc.stdout and "eight" in proc.stdout


def test_rules_unknown_id_suggests() -> None:
    proc = run("rules", "FA2-C")
    assert_clean_error(proc)
    assert "FA2-CC" in proc.stderr


def test_rules_list_and_doc() -> None:
    listing = run("rules")
    assert listing.returncode == 0 and "FA2-CC" in listing.stdout and "DTYPE-BF16-GPU" in listing.stdout
    doc = run("rules", "fa2-cc")
    assert doc.returncode == 0
    for section in ("Explanation", "In plain words", "Use case", "Compatibility", "Fix", "References"):
        assert section in doc.stdout


def without(modules: tuple[str, ...], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with MODULES made unimportable, as on an install without the extra that brings them."""
    hide = "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run([sys.executable, "-c", f"import sys\n{hide}from advisor.cli import main\n"
                           "sys.exit(main(sys.argv[1:]))", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


def test_tui_without_textual_says_how_to_install() -> None:
    proc = without(("textual",), "tui", LLAMA)
    assert_clean_error(proc)
    assert "pip install 'hf-advisor[tui]'" in proc.stderr and "textual" in proc.stderr
    # the rest of advisor needs neither textual nor rich
    done = without(("textual", "rich"), "recommend", LLAMA, "--gpu", "T4", "--software", SOFTWARE)
    assert done.returncode == 0, done.stderr
    assert "attn_implementation" in done.stdout
