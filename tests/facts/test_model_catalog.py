"""The bundled catalog: what it holds, its lookup, and load_model (and recommend) falling back to it."""

from __future__ import annotations

import contextlib
import io
import json
import socket
from pathlib import Path

import jsonschema
import pytest

from advisor import api
from advisor.cli import main
from advisor.core.data import data_path
from advisor.core.errors import FactsUnavailable
from advisor.facts.locate import load_model
from advisor.facts.model_catalog import catalog
from advisor.memory.params import count_parameters
from tests.hub_server import HubServer, hub_repos, point_env_at

ROOT = Path(__file__).resolve().parents[2]
SOFTWARE = str(ROOT / "fixtures" / "software" / "cuda-tf5.23.json")
SCHEMA = json.loads((ROOT / "schemas" / "recommendation.schema.json").read_text())
KINDS = {"text-generation", "vision-language", "embedding", "encoder", "seq2seq", "speech", "quantized"}
FIXTURE_FINE_TUNES = (
    # test fixtures that used to sit in the catalog: fine-tunes and re-uploads, not models people load
    "AdnanRiaz107/CodeGemma2b-300APPS", "arbml/whisper-small-cv-ar", "Atensor123/test-comp-7b-finetuned",
    "chohtet/qwen2_7b_instruct_4bit_r128", "DariaaaS/fanfiction-largedataset-test-ft",
    "FlorianJc/Meta-Llama-3.1-8B-Instruct-vllm-fp8", "girrajjangid/opt-1.3b-AWQ", "ModelSpace/GemmaX2-28-2B-Pretrain",
    "RandomNameAnd6/DharMamba", "somosnlp/phi-2-LC", "underactuated/opt-350m_ft_test",
    "unrahul/phi-2-OpenVINO-sym-int8", "zakkosi/jhcode-meta-llama3_eng", "Zangs3011/mistral-7b-metamath")
PUBLISHED = {
    # parameter counts their publishers state: the catalog's exact counts must agree
    "openai-community/gpt2": 124_439_808,
    "mistralai/Mistral-7B-v0.1": 7_241_732_096,
    "google/flan-t5-large": 783_150_080,
}


@pytest.fixture
def offline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and HF_HUB_OFFLINE=1."""
    cache = point_env_at(monkeypatch, "http://127.0.0.1:9", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "advisor"))
    return Path(cache)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


# --- what it holds -----------------------------------------------------------------------------------------

def test_catalog_file_is_shipped_dated_ranked_and_counted() -> None:
    data = json.loads(data_path("catalog/models.json").read_text(encoding="utf-8"))
    assert data["catalog_version"] == 2 and data["taken"] == catalog().taken and len(data["taken"]) == 10
    models = data["models"]
    assert len(models) >= 150
    assert [e["rank"] for e in models] == list(range(1, len(models) + 1))
    assert len({e["id"].lower() for e in models}) == len(models)
    for e in models:
        assert e["provenance"] and isinstance(e["verbatim"], bool) and e["kind"] in KINDS, e["id"]
        assert isinstance(e["config"], dict) and (e["config"].get("model_type") or e["config"].get("architectures"))
        if e["parameters"] is None:
            assert e["parameters_source"].startswith("not counted: "), e["id"]
        else:
            assert e["parameters"] > 0
            assert e["parameters_source"].startswith(("meta-device build, transformers ", "safetensors metadata"))
    assert sum(1 for e in models if e["parameters"] is not None) >= 150
    # configs rebuilt from mlc-llm presets are marked, and only native architectures are kept from there
    mlc = [e for e in models if e["provenance"].startswith("GitHub mlc-ai/mlc-llm ")]
    assert mlc and not any(e["verbatim"] for e in mlc) and all(e["parameters"] for e in mlc)


def test_published_parameter_counts_agree() -> None:
    for repo, count in PUBLISHED.items():
        entry = catalog().lookup(repo)
        assert entry is not None and entry.parameters == count, repo


def test_test_fixtures_are_out_and_well_known_models_come_first() -> None:
    models = api.models()
    ids = {m.id.lower() for m in models}
    assert not [f for f in FIXTURE_FINE_TUNES if f.lower() in ids]
    assert [m.rank for m in models] == sorted(m.rank for m in models)
    assert {m.id for m in models[:6]} >= {"sentence-transformers/all-MiniLM-L6-v2", "google-bert/bert-base-uncased"}


@pytest.mark.parametrize(("asked", "found"), [
    ("gpt2", "openai-community/gpt2"), ("GPT2", "openai-community/gpt2"),
    ("mistralai/Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1"), ("qwen/qwen2.5-7b", "Qwen/Qwen2.5-7B"),
    ("google/gemma-2-9b-it", "google/gemma-2-9b-it"), ("bert-base-uncased", "google-bert/bert-base-uncased"),
    ("t5-small", "google-t5/t5-small"), ("meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B"),
    ("meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"),
    ("microsoft/phi-2", "microsoft/phi-2"),
])
def test_lookup_is_case_insensitive_and_follows_renames(asked: str, found: str) -> None:
    entry = catalog().lookup(asked)
    assert entry is not None and entry.id == found and entry.config.get("model_type")


# --- offline answers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("repo", ["gpt2", "mistralai/Mistral-7B-v0.1"])
def test_offline_empty_cache_answers_from_the_catalog_with_count_and_source(offline_env: Path, repo: str) -> None:
    ms = load_model(repo)
    entry = catalog().lookup(repo)
    assert entry is not None and ms.source == "catalog" and ms.id == entry.id
    assert ms.catalog_date == catalog().taken and ms.commit is None and ms.parameters is None
    assert ms.exact_parameters == PUBLISHED[entry.id] and ms.exact_parameters_source == entry.parameters_source
    assert ms.provenance == entry.provenance and ms.verbatim is entry.verbatim
    assert "bundled catalog" in ms.notes[0] and "not from the Hub" in ms.notes[0]
    assert entry.provenance in ms.notes[0] and f"{PUBLISHED[entry.id]:,} parameters" in ms.notes[1]
    assert not offline_env.exists() or not any(offline_env.iterdir())


def test_recommend_from_the_catalog_says_its_count_and_source(offline_env: Path) -> None:
    code, out, err = run_cli("recommend", "gpt2", "--gpu", "T4", "--software", SOFTWARE, "--offline",
                             "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    m, memory = data["model"], data["memory"]
    assert m["source"] == "catalog" and m["id"] == "openai-community/gpt2" and m["verbatim"] is True
    assert m["parameters"] == PUBLISHED["openai-community/gpt2"]
    assert m["parameters_source"].startswith("meta-device build") and "alain-ai-learning-platform" in m["provenance"]
    assert memory["parameters"] == m["parameters"] and memory["parameters_source"] == m["parameters_source"]
    code, text, _ = run_cli("recommend", "gpt2", "--gpu", "T4", "--software", SOFTWARE, "--offline")
    assert code == 0
    line = " ".join(text.split("Catalog:", 1)[1].split("\n\n", 1)[0].split())
    assert "verbatim" in line and "0.12B parameters (meta-device build" in line and catalog().taken in line
    code, facts, _ = run_cli("facts", "mistralai/Mistral-7B-v0.1", "--gpu", "T4", "--software", SOFTWARE,
                             "--offline")
    model = json.loads(facts)["model"]
    assert code == 0 and model["verbatim"] is False and model["parameters"] == PUBLISHED["mistralai/Mistral-7B-v0.1"]


def test_the_exact_count_replaces_a_formula_that_misses_experts(offline_env: Path) -> None:
    # Kimi-K2's model_type is not in advisor's formula table: from config.json alone it is an estimate (the
    # deepseek_v3 formula its `architectures` names); the catalog's exact count replaces it
    entry = catalog().lookup("moonshotai/Kimi-K2-Instruct")
    assert entry is not None and entry.parameters and entry.parameters > 10**12
    target = api.Target(gpu="H100x8", software_file=SOFTWARE)
    facts = api.gather("moonshotai/Kimi-K2-Instruct", target=target, request=api.Request(offline=True))
    alone = count_parameters(facts.model.top, facts.model.config, "kimi_k2", facts.model.architecture.value)
    assert not isinstance(alone, str) and not alone.exact
    rec = api.recommend(facts)
    assert rec.memory is not None and rec.memory.parameters is not None
    assert rec.memory.parameters.total == entry.parameters and rec.memory.parameters.exact
    assert rec.memory.parameters.source == facts.model.source.exact_parameters_source


def test_an_uncounted_entry_says_why(offline_env: Path) -> None:
    ms = load_model("THUDM/chatglm2-6b")
    assert ms.exact_parameters is None and ms.exact_parameters_source
    assert "remote code" in ms.exact_parameters_source and "parameters unknown" in ms.notes[1]


def test_every_catalog_model_gets_an_answer_offline(offline_env: Path) -> None:
    target = api.Target(gpu="A100-80GB", software_file=SOFTWARE)
    for entry in api.models():
        rec = api.recommend(api.gather(entry.id, target=target, request=api.Request(offline=True)))
        assert rec.model["source"] == "catalog" and rec.model["id"] == entry.id
        assert rec.model["parameters"] == entry.parameters


def test_models_command_lists_the_catalog_in_rank_order() -> None:
    code, out, _ = run_cli("models", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [r["id"] for r in rows] == [m.id for m in api.models()]
    assert {"rank", "kind", "parameters", "parameters_source", "verbatim", "provenance"} <= set(rows[0])
    code, text, _ = run_cli("models")
    lines = text.splitlines()
    assert code == 0 and len(lines) == len(rows) and "openai-community/gpt2" in text and "124M" in text


# --- falling back -----------------------------------------------------------------------------------------

def test_offline_unknown_model_says_how_to_fix(offline_env: Path) -> None:
    with pytest.raises(FactsUnavailable) as info:
        load_model("someone/unknown-model")
    text = str(info.value)
    assert "\n" not in text and info.value.exit_code == 3
    assert "go online once" in text and "local config.json" in text and "offline" in text


def test_catalog_holds_main_only(offline_env: Path) -> None:
    with pytest.raises(FactsUnavailable) as info:
        load_model("Qwen/Qwen2.5-7B", revision="refs/pr/1")
    assert "only the main branch" in str(info.value)


def test_unreachable_hub_falls_back_to_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A port held by a socket that never listens: connections are refused, and no other test (or
    # parallel worker) can start a server on it meanwhile, as could happen with a closed server's port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        point_env_at(monkeypatch, f"http://127.0.0.1:{held.getsockname()[1]}", str(tmp_path / "hf"))
        ms = load_model("google/gemma-2-9b-it")
    assert ms.source == "catalog"
    assert "could not be reached" in ms.notes[0] or "connection" in ms.notes[0]


def test_cache_wins_over_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with HubServer(hub_repos(), lifetime_s=30) as server:
        point_env_at(monkeypatch, server.url, str(tmp_path / "hf"))
        assert load_model("Qwen/Qwen2.5-7B").source == "hub"
    assert load_model("Qwen/Qwen2.5-7B").source == "cache"
