"""arch_support / native_model_types: the installed static read, the shipped table, the disk cache."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packaging.version import Version

from advisor.facts import release_table
from advisor.facts.transformers_support import (
    ArchSupport,
    InstalledTransformers,
    arch_support,
    installed_transformers,
    native_model_types,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed() -> InstalledTransformers:
    found = installed_transformers()
    assert found is not None and found.version == Version("5.23.0")
    assert (found.root / "transformers" / "__init__.py").is_file()
    return found


def support(
    model_type: str | None, archs: list[str], version: str, inst: InstalledTransformers | None
) -> ArchSupport:
    fact = arch_support(model_type, archs, Version(version), inst)
    assert fact.known, fact.reason
    assert fact.value is not None
    return fact.value


def test_llama_on_the_installed_version_is_a_static_read(installed: InstalledTransformers) -> None:
    s = support("llama", ["LlamaForCausalLM"], "5.23.0", installed)
    assert s.read_from.startswith("installed transformers 5.23.0 (static read")
    assert (s.native, s.model_class, s.auto_class) == (True, "LlamaForCausalLM", "AutoModelForCausalLM")
    assert s.sdpa and s.flash2 and s.flex and s.flash3


def test_gemma2_lost_sdpa_after_4_57(installed: InstalledTransformers) -> None:
    new = support("gemma2", ["Gemma2ForCausalLM"], "5.23.0", installed)
    old = support("gemma2", ["Gemma2ForCausalLM"], "4.57.6", installed)
    assert (new.sdpa, new.flash2) == (False, True)
    assert (old.sdpa, old.flash2) == (True, True)
    file = release_table.index()["files"]["4.57.6"]
    assert old.read_from == f"rules/transformers/releases/{file}" + ("" if file == "4.57.6.json.gz" else
                                                                     ", which answers 4.57.6")


def test_t5_gained_sdpa_in_5x(installed: InstalledTransformers) -> None:
    old = support("t5", ["T5ForConditionalGeneration"], "4.57.6", installed)
    new = support("t5", ["T5ForConditionalGeneration"], "5.23.0", installed)
    assert (old.sdpa, old.flash2, old.flex) == (False, False, False)
    assert (new.sdpa, new.flash2) == (True, False)
    assert new.auto_class == old.auto_class == "AutoModelForSeq2SeqLM"


def test_phi_is_native_and_phi_msft_never(installed: InstalledTransformers) -> None:
    for version in ("4.37.0", "4.46.0", "5.23.0"):
        phi = support("phi", ["PhiForCausalLM"], version, installed)
        assert phi.native and phi.model_class == "PhiForCausalLM" and phi.flash2, version
        remote = support("phi-msft", ["PhiForCausalLM"], version, installed)
        assert (remote.native, remote.model_class, remote.auto_class, remote.flash2) == (
            False,
            None,
            None,
            False,
        )
    for remote_type in ("RefinedWeb", "qwen", "chatglm"):
        assert not support(remote_type, [], "4.46.0", None).native
    assert support("phi", [], "4.37.0", None).sdpa is False
    assert support("phi", [], "4.40.0", None).sdpa is True


def test_versions_older_than_the_tables_are_unknown(installed: InstalledTransformers) -> None:
    fact = arch_support("llama", ["LlamaForCausalLM"], Version("4.30.0"), installed)
    assert not fact.known and "older than 4.36.0, the oldest release advisor has read" in (fact.reason or "")
    types = native_model_types(Version("4.20.0"), installed)
    assert not types.known


def test_every_release_has_its_own_table_and_a_newer_one_the_newest(installed: InstalledTransformers) -> None:
    newest = release_table.newest()
    s = support("gemma2", ["Gemma2ForCausalLM"], "5.30.0", installed)
    assert f"transformers 5.30.0 is newer than {newest}, the newest release advisor has read" in s.read_from
    assert s.version == "5.30.0" and s.sdpa is False
    mid = support("llama", ["LlamaForCausalLM"], "4.49.0", None)
    assert mid.read_from.startswith("rules/transformers/releases/4.49.0.json.gz")
    assert mid.flex and not mid.flash3
    patch = support("llama", ["LlamaForCausalLM"], "4.38.1", None)  # unread, between two equal ends of its line
    assert patch.read_from == "rules/transformers/releases/4.38.0.json.gz, which answers 4.38.1" and patch.sdpa
    unpublished = support("llama", ["LlamaForCausalLM"], "4.49.1", None)
    assert "4.49.1 was not a published release" in unpublished.read_from and unpublished.flex


@pytest.mark.parametrize(
    ("model_type", "archs", "auto_class", "model_class"),
    [
        ("llama", [], "AutoModelForCausalLM", "LlamaForCausalLM"),
        ("t5", [], "AutoModelForSeq2SeqLM", "T5ForConditionalGeneration"),
        ("bert", ["BertForMaskedLM"], "AutoModelForMaskedLM", "BertForMaskedLM"),
        ("whisper", [], "AutoModelForSpeechSeq2Seq", "WhisperForConditionalGeneration"),
        ("whisper", ["WhisperForConditionalGeneration"], "AutoModelForSpeechSeq2Seq", None),
        ("llama", ["NotARealClass"], "AutoModelForCausalLM", "LlamaForCausalLM"),
    ],
)
@pytest.mark.parametrize("version", ["4.46.0", "5.23.0"])
def test_auto_class_choice(
    installed: InstalledTransformers,
    model_type: str,
    archs: list[str],
    auto_class: str,
    model_class: str | None,
    version: str,
) -> None:
    s = support(model_type, archs, version, installed)
    assert s.auto_class == auto_class
    assert s.model_class == (model_class or archs[0])


def test_native_model_types_static_and_table(installed: InstalledTransformers) -> None:
    now = native_model_types(Version("5.23.0"), installed)
    before = native_model_types(Version("4.36.0"), installed)
    assert now.value is not None and before.value is not None
    assert {"llama", "gemma2", "t5", "phi", "gpt-sw3"} <= now.value
    assert "gemma2" not in before.value and "llama" in before.value
    assert "phi-msft" not in now.value
    table = native_model_types(Version("5.23.0"), None)
    assert table.value == now.value


def test_table_and_static_read_agree_on_5_23(installed: InstalledTransformers) -> None:
    for model_type, arch in [("llama", "LlamaForCausalLM"), ("gpt_oss", "GptOssForCausalLM"), ("bloom", "")]:
        archs = [arch] if arch else []
        static = support(model_type, archs, "5.23.0", installed)
        table = support(model_type, archs, "5.23.0", None)
        assert static.read_from != table.read_from
        assert (
            static.model_class,
            static.auto_class,
            static.sdpa,
            static.flash2,
            static.flash3,
            static.flex,
        ) == (
            table.model_class,
            table.auto_class,
            table.sdpa,
            table.flash2,
            table.flash3,
            table.flex,
        )
        assert static.compatible_flash == table.compatible_flash
    assert "flash_attention_4" in support("gpt_oss", [], "5.23.0", installed).compatible_flash


def test_missing_model_type_is_unknown(installed: InstalledTransformers) -> None:
    assert not arch_support(None, ["LlamaForCausalLM"], Version("5.23.0"), installed).known


def test_cache_is_written_reused_and_survives_corruption(
    installed: InstalledTransformers, private_cache: Path
) -> None:
    first = support("mistral", ["MistralForCausalLM"], "5.23.0", installed)
    files = list(private_cache.glob("transformers-scan-*.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    assert data["classes"]["MistralForCausalLM"]["code"] == "S23X"
    start = time.perf_counter()
    again = support("mistral", ["MistralForCausalLM"], "5.23.0", installed)
    warm = time.perf_counter() - start
    assert again == first and warm < 0.05
    files[0].write_text("{not json")
    assert support("mistral", ["MistralForCausalLM"], "5.23.0", installed) == first
    files[0].write_text(json.dumps({"format": 1, "classes": []}))
    assert support("mistral", ["MistralForCausalLM"], "5.23.0", installed) == first
    assert json.loads(files[0].read_text())["classes"]["MistralForCausalLM"]["code"] == "S23X"


def test_unwritable_cache_still_answers(
    installed: InstalledTransformers, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(blocker / "cache"))
    assert support("qwen2", ["Qwen2ForCausalLM"], "5.23.0", installed).flash2


def test_one_release_table_loads_alone() -> None:
    release_table.index.cache_clear()
    release_table._release_data.cache_clear()
    release_table._table_of.cache_clear()
    table = release_table.table_for(Version("4.46.0"))
    assert release_table._release_data.cache_info().currsize == 1
    assert table.release == Version("4.46.0") and "llama" in table.native()


def test_arch_support_imports_neither_torch_nor_transformers(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from packaging.version import Version\n"
        "from advisor.facts.transformers_support import arch_support, installed_transformers\n"
        "inst = installed_transformers()\n"
        "for v in ('5.23.0', '4.46.0'):\n"
        "    fact = arch_support('llama', ['LlamaForCausalLM'], Version(v), inst)\n"
        "    assert fact.known and fact.value.sdpa, fact\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'textual'))\n"
        "print('IMPORTED', bad)\n"
    )
    env = {"ADVISOR_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "IMPORTED []" in out
