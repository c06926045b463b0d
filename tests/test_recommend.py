"""The cases the core must get right, through the CLI, validated against the JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "recommendation.schema.json").read_text())
LLAMA = str(ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json")
LOCAL_LLAMA = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"  # relative to ROOT, where text() runs
GEMMA2 = str(ROOT / "fixtures/configs/google__gemma-2-9b-it.json")
PHI_MSFT = str(ROOT / "fixtures/models/phi-msft")
SOFTWARE = str(ROOT / "fixtures/software/cuda-tf5.23.json")


def advisor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def recommend_json(*args: str) -> dict[str, Any]:
    proc = advisor("recommend", *args, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    return data


def decision(data: dict[str, Any], flag: str) -> dict[str, Any]:
    return next(d for d in data["decisions"] if d["canonical"] == flag)


def rejected(data: dict[str, Any], flag: str, value: Any) -> list[dict[str, Any]]:
    found = [r for r in decision(data, flag)["rejected"] if r["value"] == value]
    assert found, f"{value} was not among the rejected {flag} candidates"
    reasons: list[dict[str, Any]] = found[0]["reasons"]
    return reasons


def test_llama_on_t4_bf16_becomes_fp16_and_sdpa() -> None:
    data = recommend_json(LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--with", "flash-attn==2.5.8",
                          "--dtype", "bfloat16")
    assert data["flags"]["attn_implementation"] == "sdpa"
    assert data["flags"]["dtype"] == "float16"
    assert "FA2-CC" in {r["rule"] for r in rejected(data, "attn_implementation", "flash_attention_2")}
    assert any("7.5" in r["message"] for r in rejected(data, "attn_implementation", "flash_attention_2"))
    replaced = [f for f in data["findings"] if f["flag"] == "dtype" and f["rule"] == "DTYPE-BF16-GPU"]
    assert replaced and "bfloat16" in replaced[0]["message"] and "float16" in replaced[0]["message"]


def test_gemma2_a100_transformers_4_46_flash_2_6_3() -> None:
    data = recommend_json(GEMMA2, "--gpu", "A100-80GB", "--software", SOFTWARE, "--with", "flash-attn==2.6.3",
                          "--with", "transformers==4.46.0")
    assert data["flags"]["attn_implementation"] == "flash_attention_2"
    assert "torch_dtype" in data["flags"] and "dtype" not in data["flags"]
    assert "torch_dtype=torch.bfloat16" in data["python"]


def test_gemma2_flash_2_5_8_rejected_for_softcap_with_fixing_version() -> None:
    data = recommend_json(GEMMA2, "--gpu", "A100-80GB", "--software", SOFTWARE, "--with", "flash-attn==2.5.8",
                          "--with", "transformers==4.46.0")
    assert data["flags"]["attn_implementation"] != "flash_attention_2"
    reasons = rejected(data, "attn_implementation", "flash_attention_2")
    assert [r["rule"] for r in reasons] == ["FA2-SOFTCAP"]
    assert "2.6.0" in reasons[0]["message"]
    note = [f for f in data["findings"] if f["rule"] == "FA2-SOFTCAP"]
    assert note and "2.6.0" in note[0]["fix"]


@pytest.mark.parametrize("model", ["meta-llama__Meta-Llama-3.1-8B.json", "Qwen__Qwen2.5-7B.json",
                                   "mistralai__Mixtral-8x7B-v0.1.json"])
def test_h100_without_flash_attn_uses_sdpa_and_says_flash_would_help(model: str) -> None:
    data = recommend_json(str(ROOT / "fixtures/configs" / model), "--gpu", "H100", "--software", SOFTWARE)
    assert data["flags"]["attn_implementation"] == "sdpa"
    notes = [f for f in data["findings"] if f["severity"] == "info" and f["flag"] == "attn_implementation"]
    assert notes and "flash_attention_2" in notes[0]["message"] and "flash-attn" in notes[0]["fix"]


def test_phi_msft_without_fused_dense_lib() -> None:
    data = recommend_json(PHI_MSFT, "--gpu", "A100-80GB", "--software", SOFTWARE, "--with", "flash-attn==2.6.3",
                          "--with", "transformers==4.46.0")
    for flag in ("flash_attn", "flash_rotary", "fused_dense"):
        assert flag not in data["flags"]
        reasons = rejected(data, flag, True)
        assert reasons[0]["rule"] == "LEGACY-PHI-IMPORTS" and "fused_dense_lib" in reasons[0]["message"]
    native = [f for f in data["findings"] if f["rule"] == "REMOTE-NATIVE-EQUIVALENT"]
    assert native and "phi" in native[0]["message"] and "trust_remote_code" in native[0]["message"]


def test_phi_msft_with_every_import_keeps_the_flags() -> None:
    data = recommend_json(PHI_MSFT, "--gpu", "A100-80GB", "--software", SOFTWARE, "--with", "flash-attn==2.6.3",
                          "--with", "fused_dense_lib==present", "--with", "transformers==4.36.0")
    assert data["flags"]["flash_attn"] is True and data["flags"]["fused_dense"] is True


def test_dtype_keyword_follows_target_version() -> None:
    new = recommend_json(LLAMA, "--gpu", "L4", "--software", SOFTWARE)
    old = recommend_json(LLAMA, "--gpu", "L4", "--software", SOFTWARE, "--with", "transformers==4.53.0")
    assert "dtype" in new["flags"] and "torch_dtype" in old["flags"]


def test_low_cpu_mem_usage_never_emitted_on_new_transformers() -> None:
    data = recommend_json(LLAMA, "--gpu", "none", "--software", SOFTWARE)
    assert "low_cpu_mem_usage" not in data["flags"]
    old = recommend_json(LLAMA, "--gpu", "none", "--software", SOFTWARE, "--with", "transformers==4.46.0")
    assert old["flags"].get("low_cpu_mem_usage") is True


def test_cpu_target_gets_float32_without_device_map() -> None:
    data = recommend_json(LLAMA, "--gpu", "none", "--software", SOFTWARE)
    assert data["flags"]["dtype"] == "float32"
    assert "device_map" not in data["flags"]
    assert data["flags"]["attn_implementation"] == "sdpa"


def test_snippet_uses_auto_class_for_the_architecture() -> None:
    t5 = advisor("recommend", str(ROOT / "fixtures/configs/google-t5__t5-small.json"), "--gpu", "T4",
                 "--software", SOFTWARE, "--format", "python")
    bert = advisor("recommend", str(ROOT / "fixtures/configs/google-bert__bert-base-uncased.json"), "--gpu", "T4",
                   "--software", SOFTWARE, "--format", "python")
    llama = advisor("recommend", LLAMA, "--gpu", "H100x8", "--software", SOFTWARE, "--format", "python")
    assert "AutoModelForSeq2SeqLM.from_pretrained(" in t5.stdout
    assert "model = AutoModel.from_pretrained(" in bert.stdout  # the config's architecture is BertModel
    # a loose config file: a placeholder, never its _name_or_path (which may name another model)
    assert '"path/to/model"' in bert.stdout and "bert-base-uncased" not in bert.stdout
    assert "# path/to/model: the folder (or Hub repo id)" in bert.stdout
    assert "AutoModelForCausalLM.from_pretrained(" in llama.stdout
    for proc in (t5, bert, llama):
        compile(proc.stdout, "<snippet>", "exec")


def test_config_attn_override_makes_snippet_pass_config() -> None:
    cfg = json.loads(Path(LLAMA).read_text())
    cfg["_attn_implementation"] = "flash_attention_2"
    path = ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json"
    assert path.exists()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "config.json").write_text(json.dumps(cfg))
        data = recommend_json(d, "--gpu", "T4", "--software", SOFTWARE)
    assert data["flags"]["attn_implementation"] == "sdpa"
    assert "config = AutoConfig.from_pretrained(" in data["python"] and "config=config" in data["python"]
    assert any(f["rule"] == "CFG-ATTN-OVERRIDE" for f in data["findings"])


def test_json_output_is_deterministic() -> None:
    a = advisor("recommend", LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--format", "json")
    b = advisor("recommend", LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--format", "json")
    assert a.stdout == b.stdout


def test_text_output_names_flags_rejections_and_findings() -> None:
    proc = advisor("recommend", LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--dtype", "bfloat16", "--explain")
    assert proc.returncode == 0, proc.stderr
    for needle in ("attn_implementation", "FA2-CC", "DTYPE-BF16-GPU", "from_pretrained(",
                   "Better candidates that were rejected"):
        assert needle in proc.stdout


def text(*args: str, **env: str) -> str:
    import os

    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    done = subprocess.run([sys.executable, "-m", "advisor", "recommend", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**base, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_text_puts_the_verdict_first_and_fits_one_screen() -> None:
    # The path as typed in the checkout: an absolute one's length depends on where the clone is.
    out = text(LOCAL_LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--dtype", "bfloat16")
    lines = out.splitlines()
    assert lines[2].startswith("✗ does not fit on the GPUs:") and "warnings" in lines[2]
    code = lines.index("Python")
    assert all(len(line) <= 100 for line in lines[:code])  # piped: 100 columns (the snippet is code)
    common = text(LLAMA, "--gpu", "L4", "--software", SOFTWARE).splitlines()
    assert len(common) <= 40
    assert lines.index("Flags") < lines.index("Warnings") < next(i for i, x in enumerate(lines) if x == "Python")
    assert "FA2-CC" not in out and "--explain:" in lines[-1]  # the rejected candidates only with --explain
    for repr_ in ("None", "True", "False", "yes needs", "as asked, and"):
        assert repr_ not in out
    fits = text(LOCAL_LLAMA, "--gpu", "A100-80GB", "--software", SOFTWARE)
    assert fits.splitlines()[2].startswith("✓ fits on GPU 0: ")


def test_a_long_config_path_is_elided_to_the_width(tmp_path: Path) -> None:
    """A path has nowhere to wrap: its leading folders give way, its file name stays."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6)
    deep.mkdir(parents=True)
    config = deep / "config.json"
    config.write_text(Path(LLAMA).read_text())
    for columns in ("72", "100"):
        lines = text(str(config), "--gpu", "T4", "--software", SOFTWARE, COLUMNS=columns).splitlines()
        assert max(len(line) for line in lines[:lines.index("Python")]) <= int(columns)
        assert lines[0].startswith("…/") and "a-rather-long-folder-name/config.json" in lines[0]
    short = text(LLAMA, "--gpu", "T4", "--software", SOFTWARE, COLUMNS="200").splitlines()
    assert short[0].startswith(LLAMA + "  LlamaForCausalLM")  # as given when it fits


def test_text_follows_the_width_and_colour_settings() -> None:
    narrow = text(LLAMA, "--gpu", "T4", "--software", SOFTWARE, COLUMNS="72").splitlines()
    assert max(len(line) for line in narrow[:narrow.index("Python")]) <= 72
    assert not any("\x1b[" in line for line in narrow)  # piped: no colour
    coloured = text(LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--color", "always")
    assert "\x1b[" in coloured and "\x1b[33m!\x1b[0m" in coloured  # a warning's mark in yellow
    assert "\x1b[" in text(LLAMA, "--gpu", "T4", "--software", SOFTWARE, FORCE_COLOR="1")
    assert "\x1b[" not in text(LLAMA, "--gpu", "T4", "--software", SOFTWARE, "--color", "never", FORCE_COLOR="1")


def test_an_unknown_transformers_is_said_once_at_the_top() -> None:
    out = text(LLAMA, "--gpu", "A100-80GB", "--with", "transformers==none")
    lines = out.splitlines()
    said = [i for i, line in enumerate(lines) if "transformers version is unknown" in line]
    assert len(said) == 1 and said[0] < lines.index("Flags") and out.count("--with transformers==VERSION") == 1
    flags = lines[lines.index("Flags"):lines.index("Python")]
    assert not any("transformers version is unknown" in line or "not installed" in line for line in flags)
    # the snippet's keyword is one every release read takes: torch_dtype (dtype only from 4.56)
    assert "torch_dtype=torch.bfloat16" in out and "    dtype=" not in out


def test_with_the_release_unknown_a_flag_takes_the_keyword_every_release_accepts() -> None:
    from packaging.version import Version

    from advisor.facts.release_facts import keywords_every_release
    from advisor.facts.release_table import index, table_for

    every = keywords_every_release()
    assert "torch_dtype" in every and "attn_implementation" in every and "dtype" not in every
    oldest = min(map(Version, index()["files"]))
    assert "dtype" not in table_for(oldest).section("from_pretrained").get("keywords", {})
