"""The Hub cases that must come out right, end to end: the CLI against a local Hub through huggingface_hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hub_server import TOKEN, HubServer, commit_of, hub_repos

ROOT = Path(__file__).resolve().parents[1]
SOFTWARE = str(ROOT / "fixtures/software/cuda-tf5.23.json")


@pytest.fixture(scope="module")
def server() -> Iterator[HubServer]:
    with HubServer(hub_repos(), token=TOKEN, slow_s=9.0, lifetime_s=300) as s:
        yield s


def cli(server: HubServer | None, home: Path, *args: str, offline: bool = False,
        token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HOME=str(home), HF_HUB_ETAG_TIMEOUT="4", HF_HUB_DOWNLOAD_TIMEOUT="6",
               ADVISOR_CACHE_DIR=str(home / "advisor"))
    env["HF_ENDPOINT"] = server.url if server else "http://127.0.0.1:9"
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    if token:
        env["HF_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def recommend(server: HubServer | None, home: Path, *args: str, **kw: Any) -> dict[str, Any]:
    proc = cli(server, home, "recommend", *args, "--software", SOFTWARE, "--format", "json", **kw)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_pr_ref_is_resolved_pinned_and_flagged_as_moving(server: HubServer, tmp_path: Path) -> None:
    data = recommend(server, tmp_path, "microsoft/phi-2", "--revision", "refs/pr/23", "--gpu", "A100-80GB",
                     "--with", "transformers==4.46.0")
    commit = commit_of("microsoft/phi-2", "refs/pr/23")
    assert data["model"]["revision"] == "refs/pr/23" and data["model"]["commit"] == commit
    assert data["flags"]["revision"] == commit and data["flags"]["trust_remote_code"] is True
    moving = [f for f in data["findings"] if f["rule"] == "REV-PR-MOVES"]
    assert moving and commit in moving[0]["fix"]
    assert f'revision="{commit}"' in data["python"]


def test_module_level_flash_attn_import_is_an_error_before_loading(server: HubServer, tmp_path: Path) -> None:
    data = recommend(server, tmp_path, "org/hardflash", "--gpu", "A100-80GB")
    errors = [f for f in data["findings"] if f["rule"] == "REMOTE-HARD-IMPORT"]
    assert errors and errors[0]["severity"] == "error"
    assert "flash-attn" in errors[0]["message"] and "modeling_hardflash.py:" in errors[0]["message"]
    check = cli(server, tmp_path, "check", "org/hardflash", "--gpu", "A100-80GB", "--software", SOFTWARE,
                "--flags", '{"trust_remote_code": true}', "--format", "json")
    assert check.returncode == 1


def test_native_architecture_with_auto_map_drops_trust_remote_code(server: HubServer, tmp_path: Path) -> None:
    data = recommend(server, tmp_path, "tiiuae/falcon-40b", "--gpu", "H100x4")
    assert "trust_remote_code" not in data["flags"]
    drop = [f for f in data["findings"] if f["rule"] == "REMOTE-NATIVE-DROP"]
    assert drop and "trust_remote_code" in drop[0]["message"]


def test_offline_with_empty_cache_uses_the_catalog_and_says_so(tmp_path: Path) -> None:
    proc = cli(None, tmp_path, "recommend", "Qwen/Qwen2.5-7B", "--gpu", "L4", "--software", SOFTWARE,
               "--format", "json", offline=True)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["model"]["source"] == "catalog" and data["model"]["catalog_date"]
    text = cli(None, tmp_path, "recommend", "Qwen/Qwen2.5-7B", "--gpu", "L4", "--software", SOFTWARE,
               offline=True)
    assert "catalog" in text.stdout + text.stderr


def test_offline_model_in_neither_cache_nor_catalog_exits_3(tmp_path: Path) -> None:
    proc = cli(None, tmp_path, "recommend", "nobody/unheard-of-model", "--gpu", "L4", offline=True)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "config.json" in proc.stderr or "online" in proc.stderr


def test_gated_repo_gets_a_clear_message_and_the_token_never_leaks(server: HubServer, tmp_path: Path) -> None:
    denied = cli(server, tmp_path, "recommend", "meta-llama/Meta-Llama-3.1-8B", "--gpu", "L4", "--software", SOFTWARE,
                 "--format", "json", token="hf_wrong_token_for_this_repo")
    assert denied.returncode == 3 and "gated" in denied.stderr.lower()
    assert "hf_wrong_token_for_this_repo" not in denied.stderr + denied.stdout
    allowed = cli(server, tmp_path / "ok", "recommend", "meta-llama/Meta-Llama-3.1-8B", "--gpu", "L4", "--software",
                  SOFTWARE, "--format", "json", token=TOKEN)
    assert allowed.returncode == 0, allowed.stderr
    assert TOKEN not in allowed.stdout + allowed.stderr
