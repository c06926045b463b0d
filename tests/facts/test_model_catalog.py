"""The bundled catalog: its build, its lookup, and load_model falling back to it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.core.data import data_path
from advisor.core.errors import FactsUnavailable
from advisor.facts.locate import load_model
from advisor.facts.model_catalog import catalog
from tests.hub_server import HubServer, hub_repos, point_env_at

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def offline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache and HF_HUB_OFFLINE=1."""
    cache = point_env_at(monkeypatch, "http://127.0.0.1:9", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return Path(cache)


def test_catalog_file_is_shipped_and_dated() -> None:
    path = data_path("catalog/models.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["taken"] == catalog().taken and len(data["taken"]) == 10
    assert all(e["provenance"] and isinstance(e["config"], dict) for e in data["models"].values())
    # mlc-llm presets may have lost keys such as auto_map: they are not in the catalog
    assert not any("mlc-preset" in e["file"] for e in data["models"].values())


@pytest.mark.parametrize("repo", ["Qwen/Qwen2.5-7B", "qwen/qwen2.5-7b", "google/gemma-2-9b-it",
                                  "meta-llama/Llama-3.1-8B", "bert-base-uncased", "microsoft/phi-2"])
def test_lookup_is_case_insensitive_and_follows_renames(repo: str) -> None:
    entry = catalog().lookup(repo)
    assert entry is not None and entry.config.get("model_type")


def test_offline_empty_cache_catalog_model_is_answered_and_marked(offline_env: Path) -> None:
    ms = load_model("qwen/QWEN2.5-7b")
    assert ms.source == "catalog" and ms.id == "Qwen/Qwen2.5-7B"
    assert ms.catalog_date == catalog().taken
    assert ms.commit is None and ms.parameters is None and ms.parameters_reason
    assert ms.config["model_type"] == "qwen2"
    assert "bundled catalog" in ms.notes[0] and "not from the Hub" in ms.notes[0]
    assert not offline_env.exists() or not any(offline_env.iterdir())


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


def test_build_script_rebuilds_the_same_catalog(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    configs = ROOT / "fixtures" / "configs"
    (src / "Qwen__Qwen2.5-7B.json").write_bytes((configs / "Qwen__Qwen2.5-7B.json").read_bytes())
    (src / "x__y__mlc-preset.json").write_text('{"model_type": "llama"}')
    (src / "INDEX.md").write_text(
        "| file | HF model id | source | arch | features | how |\n|---|---|---|---|---|---|\n"
        "| `Qwen__Qwen2.5-7B.json` | Qwen/Qwen2.5-7B | a repo | qwen2 | GQA | json file |\n"
        "| `x__y__mlc-preset.json` | x/y | mlc | llama | - | preset |\n")
    out = tmp_path / "models.json"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_model_catalog.py"), str(src),
                          "--date", "2025-01-02", "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["taken"] == "2025-01-02" and list(data["models"]) == ["qwen/qwen2.5-7b"]
    shipped = json.loads(data_path("catalog/models.json").read_text())
    assert data["models"]["qwen/qwen2.5-7b"]["config"] == shipped["models"]["qwen/qwen2.5-7b"]["config"]
