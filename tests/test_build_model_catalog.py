"""scripts/build_model_catalog.py: the catalog from a folder with PROVENANCE.json, a local Hugging Face cache,
and the Hub (the real huggingface_hub against tests/hub_server.py); parameter counts on the meta device."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from advisor.core.data import data_path
from tests.hub_server import HubServer, commit_of, hub_repos, point_env_at

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "configs"
SHIPPED = {e["id"]: e for e in json.loads(data_path("catalog/models.json").read_text())["models"]}


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_model_catalog", ROOT / "scripts" / "build_model_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_model_catalog"] = module
    spec.loader.exec_module(module)
    return module


def build(*argv: str) -> int:
    code: int = script().main(list(argv))
    return code


def read(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def record(repo: str, rank: int, kind: str, file: str, **kw: Any) -> dict[str, Any]:
    return {"id": repo, "file": file, "rank": rank, "kind": kind, "source_repo": "someone/configs",
            "source_path": f"{repo}/config.json", "source_commit": "ab" * 20, "verbatim": True, "note": "json file"
            } | kw


def shipped_config(repo: str) -> bytes:
    return json.dumps(SHIPPED[repo]["config"], indent=2).encode()


def test_from_a_folder_counts_orders_and_applies_the_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    src = tmp_path / "src"
    (src / "configs").mkdir(parents=True)
    files = {"gpt2.json": shipped_config("openai-community/gpt2"),
             "t5.json": shipped_config("google/flan-t5-small"),
             "mistral.json": shipped_config("mistralai/Mistral-7B-v0.1"),
             "phi-msft.json": (FIXTURES / "microsoft__phi-2__phi-msft-remote-code.json").read_bytes(),
             "bad.json": b'{"model_type": "llama",',
             "legacy.json": b'{"hidden_size": 768, "num_hidden_layers": 12}'}
    for name, data in files.items():
        (src / "configs" / name).write_bytes(data)
    records = [
        record("mistralai/Mistral-7B-v0.1", 30, "text-generation", "mistral.json", source_repo="mlc-ai/mlc-llm",
               verbatim=False, note="reconstructed from an mlc-llm preset"),
        record("openai-community/gpt2", 10, "text-generation", "gpt2.json"),
        record("google/flan-t5-small", 20, "seq2seq", "t5.json"),
        record("OpenAI-Community/GPT2", 40, "text-generation", "gpt2.json"),
        record("microsoft/phi-1_5", 50, "text-generation", "phi-msft.json", source_repo="mlc-ai/mlc-llm"),
        record("org/bad", 60, "text-generation", "bad.json"),
        record("org/legacy", 70, "encoder", "legacy.json"),
    ]
    (src / "PROVENANCE.json").write_text(json.dumps(records))
    out = tmp_path / "models.json"
    assert build("dir", str(src), "--date", "2025-01-02", "--out", str(out)) == 0
    err = capsys.readouterr().err
    doc = read(out)
    assert doc["catalog_version"] == 2 and doc["taken"] == "2025-01-02"
    assert doc["counted_with"].startswith("transformers ")
    models = doc["models"]
    assert [(e["rank"], e["id"]) for e in models] == [
        (1, "openai-community/gpt2"), (2, "google/flan-t5-small"), (3, "mistralai/Mistral-7B-v0.1")]
    for e in models:  # the counts the build makes are the shipped ones
        shipped = SHIPPED[e["id"]]
        assert (e["parameters"], e["parameters_source"]) == (shipped["parameters"], shipped["parameters_source"])
        assert e["config"] == shipped["config"]
    gpt2, t5, mistral = models
    assert gpt2["verbatim"] and gpt2["provenance"] == ("GitHub someone/configs `openai-community/gpt2/config.json` "
                                                      "@ abababababab; json file")
    assert "separate lm_head" in t5["parameters_note"] and t5["parameters_source"].endswith("separate lm_head")
    assert not mistral["verbatim"] and "mlc-llm preset" in mistral["provenance"]
    assert doc["aliases"] == {"gpt2": "openai-community/gpt2"}
    assert "skipped OpenAI-Community/GPT2: OpenAI-Community/GPT2 is already in" in err
    assert "skipped microsoft/phi-1_5: rebuilt from an mlc-llm preset" in err and "auto_map" in err
    assert "skipped org/bad:" in err and "not valid JSON" in err
    assert "skipped org/legacy: advisor cannot read it" in err
    lines = out.read_text().splitlines()
    assert len(lines) == len(models) + 2 and all(ln.startswith('{"rank":') for ln in lines[1:-1])


def fake_cache(hub: Path, repo: str, config: bytes) -> str:
    """A huggingface_hub cache entry as `hf download` leaves it: refs/main → snapshots/<commit>/config.json."""
    commit = hashlib.sha1(repo.encode()).hexdigest()
    folder = hub / f"models--{repo.replace('/', '--')}"
    blob = folder / "blobs" / hashlib.sha1(config).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(config)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    snapshot = folder / "snapshots" / commit
    snapshot.mkdir(parents=True)
    os.symlink(os.path.relpath(blob, snapshot), snapshot / "config.json")
    return commit


def test_from_a_local_cache_refreshes_what_it_holds_and_keeps_the_rest(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    qwen = (FIXTURES / "Qwen__Qwen2.5-7B.json").read_bytes()
    commit = fake_cache(tmp_path / "hub", "Qwen/Qwen2.5-7B", qwen)
    out = tmp_path / "models.json"
    base = [SHIPPED["openai-community/gpt2"] | {"rank": 1},
            SHIPPED["Qwen/Qwen2.5-7B"] | {"rank": 2, "provenance": "an older copy", "verbatim": False}]
    out.write_text(json.dumps({"catalog_version": 2, "taken": "2024-01-01", "models": base, "aliases": {}}))
    assert build("cache", "--cache-dir", str(tmp_path / "hub"), "--date", "2025-03-04", "--out", str(out)) == 0
    err = capsys.readouterr().err
    assert "HF_HUB_CACHE" not in os.environ
    doc = read(out)
    gpt2, refreshed = doc["models"]
    assert gpt2 == SHIPPED["openai-community/gpt2"] | {"rank": 1}
    assert "kept openai-community/gpt2 from the catalog" in err and "not in the local cache" in err
    assert refreshed["id"] == "Qwen/Qwen2.5-7B" and refreshed["verbatim"] is True
    assert refreshed["provenance"].startswith(f"a local Hugging Face cache: Qwen/Qwen2.5-7B at main, commit {commit}")
    assert refreshed["config"] == json.loads(qwen) and refreshed["parameters"] == 7_615_616_512
    assert doc["taken"] == "2025-03-04" and doc["aliases"] == {"gpt2": "openai-community/gpt2"}


def test_from_the_hub_counts_remote_code_from_safetensors_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([
        {"id": "Qwen/Qwen2.5-7B", "rank": 1, "kind": "text-generation"},
        {"id": "microsoft/phi-2", "rank": 2, "kind": "text-generation"},
        {"id": "meta-llama/Meta-Llama-3.1-8B", "rank": 3, "kind": "text-generation"},
        {"id": "nobody/missing", "rank": 4, "kind": "text-generation"}]))
    out = tmp_path / "models.json"
    with HubServer(hub_repos(), lifetime_s=120) as server:
        point_env_at(monkeypatch, server.url, str(tmp_path / "hf"))
        assert build("hub", "--list", str(listing), "--out", str(out)) == 0
    err = capsys.readouterr().err
    qwen, phi = read(out)["models"]
    commit = commit_of("Qwen/Qwen2.5-7B", "main")
    assert qwen["provenance"].startswith(f"{server.url}: Qwen/Qwen2.5-7B at main, commit {commit}")
    assert qwen["verbatim"] and qwen["parameters"] == 7_615_616_512
    assert qwen["parameters_source"].startswith("meta-device build")
    # phi-msft is remote code: not built; the safetensors header holds 64x32 + 64x32 + 32 parameters
    assert phi["parameters"] == 64 * 32 * 2 + 32
    assert phi["parameters_source"].startswith(f"safetensors metadata at commit {commit_of('microsoft/phi-2', 'main')}")
    assert phi["parameters_note"].startswith("not built on the meta device: ")
    assert "skipped meta-llama/Meta-Llama-3.1-8B:" in err and "gated" in err
    assert "skipped nobody/missing:" in err


@pytest.mark.parametrize("argv", [["dir", "{tmp}/nowhere"], ["dir", "{tmp}", "--date", "2025-13-01"],
                                  ["cache", "--cache-dir", "{tmp}/hub"], ["hub", "--list", "{tmp}/no-list.json"]])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, argv: list[str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "PROVENANCE.json").write_text("[]")
    out = tmp_path / "models.json"
    assert build(*[a.format(tmp=tmp_path) for a in argv], "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("build_model_catalog: ")
    assert not out.exists()
