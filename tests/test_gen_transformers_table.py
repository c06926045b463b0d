"""The knowledge generator (scripts/knowledge) on the real wheels of two older releases, downloaded in the run.

`pip download` fetches transformers 4.36.0 and 4.57.6 into a cache that persists between runs
($ADVISOR_TEST_WHEELS, else ~/.cache/advisor/test-wheels); each is read without importing it and must give
exactly the table advisor ships for that release, and the facts the rules rely on.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from knowledge import read_release  # noqa: E402
from knowledge.encode import compact, content  # noqa: E402
from knowledge.tables import load_index, load_table, write_tables  # noqa: E402
from knowledge.wheels import first_and_last  # noqa: E402

from advisor.core.data import data_path  # noqa: E402
from advisor.facts.release_table import _decode  # noqa: E402

RELEASES = ("4.36.0", "4.57.6")
SHIPPED = data_path("transformers")


def wheel_cache() -> Path:
    env = os.environ.get("ADVISOR_TEST_WHEELS")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "advisor"
    return base if env else base / "test-wheels"


def wheel(version: str) -> Path:
    """The release's wheel, downloaded with pip into the persistent cache when it is not there yet (into a
    temporary folder first, then moved: parallel test workers never see half a wheel)."""
    cache_dir = wheel_cache()
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"transformers-{version}-py3-none-any.whl"
    if not (cache_dir / name).is_file():
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                            f"transformers=={version}", "-d", tmp], check=True, timeout=300)
            os.replace(Path(tmp) / name, cache_dir / name)
    return cache_dir / name


@cache
def read(version: str) -> dict[str, Any]:
    return read_release(wheel(version))


def shipped(version: str) -> dict[str, Any]:
    table = load_table(SHIPPED, version)
    assert table is not None, f"no shipped table answers {version}"
    return table


@pytest.mark.parametrize("version", RELEASES)
def test_the_generator_reproduces_the_shipped_table(version: str) -> None:
    """Exactly, for a release with a file of its own; line numbers aside, for one that shares an earlier patch's
    file (4.57.6 is answered by 4.57.1's table: every patch between them was read and found equal)."""
    mine, theirs = compact(read(version)), shipped(version)
    if theirs["version"] == version:
        assert mine == theirs
    else:
        assert content(mine) == content(theirs) and mine["version"] == version


def test_4_36_attention_rope_and_unknown_types() -> None:
    t = read("4.36.0")
    assert t["attention"]["era"] == {"fa2": ["_supports_flash_attn_2"], "fa3": [], "flex": False, "compatible": False}
    assert t["attention"]["implementations"] == ["eager", "flash_attention_2", "sdpa"]
    assert t["attention"]["classes"]["LlamaForCausalLM"] == "S2"
    assert t["attention"]["overrides"]["FalconModel"] == ["_check_and_enable_sdpa@falcon/modeling_falcon.py"]
    a = t["answers"]
    assert (a["fa_dtype_fp32"], a["fa2_min"], a["fa2_min_rocm"]) == ("raise", "2.1.0", "2.0.4")
    assert (a["unknown_model_type"], a["unknown_rope_type"]) == ("KeyError", "per-model")
    assert (a["dtype_kwarg"], a["default_dtype"], a["kernels"]) == ("torch_dtype", None, None)
    assert t["rope"]["per_config"]["LlamaConfig"].startswith("raise:linear,dynamic@")
    assert "MistralConfig" not in t["rope"]["configs"] and "LlamaConfig" in t["rope"]["configs"]
    assert t["answers"]["output_attentions"] == {"explicit": "fallback", "default": "fallback"}


def test_4_36_keywords_and_inline_quantization() -> None:
    t = read("4.36.0")
    kw = t["from_pretrained"]["keywords"]
    assert kw["low_cpu_mem_usage"] == "used" and kw["mirror"] == "ignored"
    assert kw["use_flash_attention_2"][0] == "deprecated"
    q = t["quantization"]
    assert q["inline"] == "modeling_utils.py"
    assert q["summary"]["gptq"]["backends"] == ["auto-gptq"] and q["summary"]["gptq"]["optimum"]
    assert q["summary"]["bnb"]["min_4bit"] == "0.39.0" and q["summary"]["gates"]["bitsandbytes"]["no_gpu"] == "raise"


def test_4_57_quantizers_kernels_and_keywords() -> None:
    t = read("4.57.6")
    s = t["quantization"]["summary"]
    assert (s["fp8"]["cc_min"], s["fp8"]["below_cc"], s["fp8"]["no_gpu"]) == ("8.9", "raise", "raise")
    assert s["fp8"]["activation_schemes"] == ["dynamic"]
    assert set(s["gptq"]["backends"]) == {"auto-gptq", "gptqmodel"} and s["gptq"]["optimum"]
    assert s["gptq"]["mins"] == {"auto-gptq": "0.4.2", "gptqmodel": "1.4.3", "optimum": "1.23.99"}
    assert s["awq"]["backends"] == ["autoawq"]
    assert (s["mxfp4"]["cc_min"], s["mxfp4"]["below_cc"], s["mxfp4"]["triton_min"]) == ("7.5", "dequantize", "3.4.0")
    assert s["bnb"]["no_gpu"] == "multi_backend"
    a = t["answers"]
    assert a["kernels"] == [] and a["hub_kernels"] == "org/repo[@rev][:fn]"
    assert t["attention"]["kernel_fallback"] == {"flash_attention_2": "kernels-community/flash-attn"}
    assert a["output_attentions"] == {"explicit": "raise", "default": "eager"}
    kw = t["from_pretrained"]["keywords"]
    assert kw["low_cpu_mem_usage"] == "ignored" and kw["dtype"] == "used" and kw["torch_dtype"][0] == "deprecated"
    assert "use_flash_attention_2" not in kw and kw["load_in_8bit"][0] == "deprecated"
    assert "is_torch_sdpa_available" in t["helpers"]["names"] and a["torch_min"] == "2.1.0"


def test_the_shipped_encoding_round_trips() -> None:
    t = read("4.57.6")
    packed = compact(t)
    assert "messages" not in packed and isinstance(packed["model_types"]["llama"], str)
    for model_type, (config, groups) in t["model_types"].items():
        entry = _decode(packed["model_types"][model_type])
        assert entry.config == config
        listed = {c.name for c in entry.classes}
        assert listed == {c for names in groups.values() for c in names}
        for c in entry.classes:
            assert c.code == t["attention"]["classes"].get(c.name, "?")


def test_write_and_load(tmp_path: Path) -> None:
    tables = {v: read(v) for v in RELEASES}
    result = write_tables(tables, tmp_path, ["4.36.0", "4.36.1", "4.36.2", "4.57.6"])
    index = load_index(tmp_path)
    assert index["files"]["4.36.2"] == "4.36.0.json.gz"  # unread patches are answered by their line's table
    assert "4.40.0" not in index["files"] and index["releases_read"] == list(RELEASES)
    loaded = load_table(tmp_path, "4.36.1", index)
    assert loaded is not None and loaded["version"] == "4.36.0"
    assert result["total"] == sum(result["sizes"].values())
    assert "does not recognize this architecture" in (tmp_path / "messages.json").read_text(encoding="utf-8")
    history = json.loads((tmp_path / "helpers_since.json").read_text(encoding="utf-8"))
    assert history["is_torch_sdpa_available"] == ["4.36.0", None]
    raw = gzip.decompress((tmp_path / "releases" / "4.57.6.json.gz").read_bytes())
    assert content(json.loads(raw)) == content(compact(tables["4.57.6"]))


def test_first_and_last() -> None:
    versions = ["4.35.2", "4.36.0", "4.36.1", "4.36.2", "4.37.0", "5.0.0"]
    assert first_and_last(versions, "4.36") == ["4.36.0", "4.36.2", "4.37.0", "5.0.0"]
