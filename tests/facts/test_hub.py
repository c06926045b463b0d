"""advisor.facts.hub and load_model against a real local Hub-like server, through the real huggingface_hub."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.core.errors import AdvisorError, FactsUnavailable, InputError
from advisor.facts.hub import HubAccessDenied, load_from_hub, validate_repo_id, validate_revision
from advisor.facts.locate import load_model
from tests.hub_server import TOKEN, HubServer, cache_files, commit_of, hub_repos, point_env_at

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server() -> Iterator[HubServer]:
    with HubServer(hub_repos(), token=TOKEN, slow_s=9.0, lifetime_s=120) as s:
        yield s


@pytest.fixture
def cache(server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HF_ENDPOINT at the server, HF_HOME in tmp; returns the hub cache folder."""
    return Path(point_env_at(monkeypatch, server.url, str(tmp_path / "hf")))


def no_partial_files(cache: Path) -> list[str]:
    """Files a failed transfer could leave behind: temporary downloads or blobs nothing points at."""
    files = list(cache_files(str(cache))) if cache.exists() else []
    bad = [f for f in files if f.endswith((".incomplete", ".tmp"))]
    blobs = {f for f in files if "/blobs/" in f}
    linked = {os.path.relpath(os.path.realpath(cache / f), cache) for f in files if "/snapshots/" in f}
    return bad + sorted(blobs - linked)


def one_line(exc: AdvisorError) -> str:
    text = str(exc)
    assert "\n" not in text and text.strip() == text and text
    assert "Traceback" not in text
    return text


# --- the good path ----------------------------------------------------------------------------------------

def test_main_resolves_commit_and_reads_remote_code_and_weights(server: HubServer, cache: Path) -> None:
    ms = load_model("microsoft/phi-2")
    assert ms.source == "hub"
    assert ms.revision == "main"
    assert ms.commit == commit_of("microsoft/phi-2", "main")
    assert ms.config["model_type"] == "phi-msft"
    assert set(ms.files) == {"configuration_phi.py", "modeling_phi.py"}
    assert "from flash_attn.ops.fused_dense import FusedDense" in ms.files["modeling_phi.py"]
    assert ms.parameters == {"F16": 2 * 64 * 32, "F32": 32}
    assert ms.parameters_reason is None
    # the weights themselves were never downloaded: only header Range requests
    weight_gets = [r for r in server.requests if r.method == "GET" and r.path.endswith(".safetensors")]
    assert weight_gets and all(r.range is not None for r in weight_gets)
    assert not any("safetensors" in f for f in cache_files(str(cache)))


def test_pr_ref_resolves_to_its_own_commit_and_code(server: HubServer, cache: Path) -> None:
    ms = load_model("microsoft/phi-2", revision="refs/pr/23")
    assert ms.revision == "refs/pr/23"
    assert ms.commit == commit_of("microsoft/phi-2", "refs/pr/23") != commit_of("microsoft/phi-2", "main")
    assert "supports_gradient_checkpointing = True" in ms.files["modeling_phi.py"]
    assert any("/resolve/refs%2Fpr%2F23/config.json" in r.path for r in server.requests)
    # the remote code was fetched at the resolved commit, not at the moving ref
    assert any(f"/resolve/{ms.commit}/modeling_phi.py" in r.path for r in server.requests)


def test_tag_and_commit_sha_resolve(server: HubServer, cache: Path) -> None:
    main = commit_of("microsoft/phi-2", "main")
    assert load_model("microsoft/phi-2", revision="v1.0").commit == main
    by_sha = load_model("microsoft/phi-2", revision=main)
    assert by_sha.commit == main and by_sha.revision == main


def test_sharded_safetensors_counts_per_dtype(server: HubServer, cache: Path) -> None:
    ms = load_model("org/sharded")
    assert ms.parameters == {"BF16": 128 * 128 + 128 * 64, "F32": 64}
    assert ms.files == {}


def test_no_safetensors_is_unknown_not_zero(server: HubServer, cache: Path) -> None:
    ms = load_model("Qwen/Qwen2.5-7B")
    assert ms.parameters is None
    assert ms.parameters_reason is not None and "safetensors" in ms.parameters_reason


def test_auto_map_into_another_repo_is_fetched_there_and_recorded(server: HubServer, cache: Path) -> None:
    ms = load_model("somosnlp/phi-2-LC")
    assert set(ms.files) == {"microsoft/phi-2/configuration_phi.py", "microsoft/phi-2/modeling_phi.py"}
    assert any("another repo, microsoft/phi-2" in n for n in ms.notes)
    assert server.count("GET", "/microsoft/phi-2/resolve/main/modeling_phi.py") == 1


def test_cache_serves_when_the_server_goes_away(server: HubServer, cache: Path) -> None:
    first = load_model("microsoft/phi-2", revision="refs/pr/23")
    server.stop_after = server.count() + 1  # the next request is the last one served
    load_model("microsoft/phi-2", revision="refs/pr/23")
    assert server.stopped
    again = load_model("microsoft/phi-2", revision="refs/pr/23")
    assert again.source == "cache"
    assert again.commit == first.commit and again.config == first.config and again.files == first.files
    assert again.parameters is None and again.parameters_reason
    assert any("local cache" in n for n in again.notes)


def test_offline_reads_the_cache_without_any_request(server: HubServer, cache: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    load_model("microsoft/phi-2")
    before = server.count()
    ms = load_model("microsoft/phi-2", offline=True)
    assert ms.source == "cache" and ms.commit == commit_of("microsoft/phi-2", "main")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load_model("microsoft/phi-2").source == "cache"
    assert server.count() == before


def test_the_cache_is_read_as_huggingface_hub_reads_it(server: HubServer, cache: Path) -> None:
    """advisor reads the cache's folders itself (no import of huggingface_hub offline): the same answers as
    huggingface_hub's own `try_to_load_from_cache` on a cache that huggingface_hub filled."""
    from huggingface_hub import try_to_load_from_cache

    from advisor.facts.hub import HubSettings, _cached

    main = commit_of("microsoft/phi-2", "main")
    for rev in ("main", "refs/pr/23", "v1.0"):
        load_model("microsoft/phi-2", revision=rev)
    load_model("Qwen/Qwen2.5-7B")
    pr = commit_of("microsoft/phi-2", "refs/pr/23")
    no_exist = cache / "models--microsoft--phi-2" / ".no_exist" / main
    no_exist.mkdir(parents=True)
    (no_exist / "tokenizer.json").touch()
    (cache / "models--microsoft--phi-2" / "snapshots" / main / "sub").mkdir()
    settings = HubSettings.from_env()
    asked = [(repo, rev, name) for repo in ("microsoft/phi-2", "Qwen/Qwen2.5-7B", "org/missing")
             for rev in ("main", "refs/pr/23", "v1.0", main, pr, "0" * 40, "no-such-branch")
             for name in ("config.json", "modeling_phi.py", "tokenizer.json", "sub", "missing.py")]
    answers = []
    for repo, rev, name in asked:
        theirs = try_to_load_from_cache(repo, name, cache_dir=str(cache), revision=rev)
        answers.append(_cached(repo, rev, name, settings))
        assert answers[-1] == (theirs if isinstance(theirs, str) else None), (repo, rev, name)
    assert sum(a is not None for a in answers) >= 10  # the comparison covered files that are there


# --- faults: error class, one line, nothing half-written -------------------------------------------------

@pytest.mark.parametrize(("repo", "revision", "error", "words"), [
    ("org/missing", None, FactsUnavailable, "no such repo"),
    ("microsoft/phi-2", "no-such-branch", FactsUnavailable, "has no revision 'no-such-branch'"),
    ("meta-llama/Meta-Llama-3.1-8B", None, HubAccessDenied, "gated or private"),
    ("org/private", None, FactsUnavailable, "HF_TOKEN"),
    ("org/down", None, FactsUnavailable, "HTTP 500"),
    ("org/slow", None, FactsUnavailable, "did not answer in time"),
    ("org/drop", None, FactsUnavailable, "connection to the Hub"),
    ("org/truncated", None, InputError, "not valid JSON"),
    ("org/array", None, InputError, "must be a JSON object, not an array"),
    ("org/huge", None, InputError, "more than the"),
    ("org/no-config", None, InputError, "not in the repo"),
])
def test_fault_gives_one_clear_line_and_leaves_no_partial_file(
        server: HubServer, cache: Path, repo: str, revision: str | None, error: type[AdvisorError],
        words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    from types import SimpleNamespace

    import huggingface_hub.file_download as fd

    # http_get retries a broken transfer 5 times, 1 s apart: skip those waits (in huggingface_hub only)
    monkeypatch.setattr(fd, "time", SimpleNamespace(**{**vars(time), "sleep": lambda s: None}))
    with pytest.raises(error) as info:
        load_model(repo, revision=revision)
    assert words in one_line(info.value)
    assert info.value.exit_code == (2 if error is InputError else 3)
    assert no_partial_files(cache) == []


def test_huge_config_is_refused_before_download(server: HubServer, cache: Path) -> None:
    with pytest.raises(InputError):
        load_model("org/huge")
    assert server.count("GET", "/org/huge/") == 0
    assert not any("org--huge" in f and "blobs" in f for f in cache_files(str(cache)))


def test_bad_config_in_cache_keeps_giving_the_same_error(server: HubServer, cache: Path) -> None:
    """A complete but invalid config.json is what the Hub serves at that commit: the cache keeps it, and
    every later run, online or offline, reports the same error instead of hiding it."""
    with pytest.raises(InputError) as first:
        load_model("org/truncated")
    with pytest.raises(InputError) as online:
        load_model("org/truncated")
    with pytest.raises(InputError) as offline:
        load_model("org/truncated", offline=True)
    assert str(first.value).split(":", 1)[1] == str(online.value).split(":", 1)[1]
    assert "not valid JSON" in str(offline.value)


def test_gated_with_the_right_token_works_and_token_never_leaks(
        server: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    point_env_at(monkeypatch, server.url, str(tmp_path / "hf"), token=TOKEN)
    ms = load_model("meta-llama/Meta-Llama-3.1-8B")
    assert ms.source == "hub" and ms.parameters
    assert any(r.authorization == f"Bearer {TOKEN}" for r in server.requests)
    messages = [repr(ms)]
    monkeypatch.setenv("HF_TOKEN", TOKEN[:-4] + "XXXX")  # a token without access
    with pytest.raises(HubAccessDenied) as info:
        load_model("meta-llama/Meta-Llama-3.1-8B", revision="main")
    messages.append(one_line(info.value))
    assert "HF_TOKEN has no access" in messages[-1]
    for repo in ("org/down", "org/private", "org/truncated"):
        with pytest.raises(AdvisorError) as err:
            load_model(repo)
        messages.append(str(err.value))
    out, errout = capfd.readouterr()
    everything = "\n".join([*messages, out, errout, caplog.text])
    assert TOKEN not in everything and TOKEN[:-4] not in everything


def test_gated_model_in_catalog_points_at_offline(server: HubServer, cache: Path) -> None:
    with pytest.raises(HubAccessDenied) as info:
        load_model("meta-llama/Meta-Llama-3.1-8B")
    assert "--offline" in one_line(info.value)


# --- input validation --------------------------------------------------------------------------------------

@pytest.mark.parametrize("revision", ["../../etc/passwd", "refs/../main", "/main", "main/", "a//b", "ma in",
                                      "main\n", "tab\there", "x" * 300, "", "a..b", "HEAD@{1}", "a:b",
                                      "ref.lock"])
def test_bad_revision_is_input_error_without_any_request(server: HubServer, cache: Path,
                                                         revision: str) -> None:
    with pytest.raises(InputError) as info:
        load_model("microsoft/phi-2", revision=revision)
    one_line(info.value)
    assert server.count() == 0


@pytest.mark.parametrize("revision", ["main", "refs/pr/23", "v1.0", "a" * 40, "release/2024-01"])
def test_good_revisions_pass(revision: str) -> None:
    assert validate_revision(revision) == revision


@pytest.mark.parametrize("repo", ["a/b/c", "org/-bad", "org/na me", "org--x/y", "org/x..y", "org/x.git",
                                  "-x"])
def test_bad_repo_id_is_input_error(repo: str) -> None:
    with pytest.raises(InputError):
        validate_repo_id(repo)
    with pytest.raises(InputError):
        load_from_hub(repo)


# --- the environment as users set it: a fresh process ----------------------------------------------------

PROBE = ("import json, sys\n"
         "from advisor.facts.locate import load_model\n"
         "from advisor.core.errors import AdvisorError\n"
         "try:\n"
         "    m = load_model(sys.argv[1])\n"
         "    hub = 'huggingface_hub' in sys.modules\n"
         "    print(json.dumps({'source': m.source, 'commit': m.commit, 'hub': hub}))\n"
         "except AdvisorError as e:\n"
         "    print(json.dumps({'error': str(e), 'exit': e.exit_code}))\n")


def run_probe(model: str, env: dict[str, str]) -> dict[str, object]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    out = subprocess.run([sys.executable, "-c", PROBE, model], env={**base, **env}, cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert TOKEN not in out.stdout + out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_fresh_process_honours_env_set_before_import(server: HubServer, tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": server.url, "HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": TOKEN}
    assert run_probe("meta-llama/Meta-Llama-3.1-8B", env) == {
        "source": "hub", "commit": commit_of("meta-llama/Meta-Llama-3.1-8B", "main"), "hub": True}
    offline = run_probe("meta-llama/Meta-Llama-3.1-8B", {**env, "HF_HUB_OFFLINE": "1"})
    assert offline["source"] == "cache"
    empty = run_probe("org/sharded", {**env, "HF_HUB_OFFLINE": "1"})
    assert empty["exit"] == 3 and "not in the bundled catalog" in str(empty["error"])


def test_local_config_never_imports_huggingface_hub(tmp_path: Path) -> None:
    result = run_probe(str(ROOT / "fixtures/configs/google__gemma-2-9b-it.json"), {"HF_HOME": str(tmp_path)})
    assert result == {"source": "local", "commit": None, "hub": False}


def test_hub_remote_code_feeds_the_ast_reader(server: HubServer, cache: Path) -> None:
    from advisor.facts.remote_code import analyze_remote_code, required_distributions

    ms = load_model("org/hardflash")
    rc = analyze_remote_code(ms.files)
    assert rc.hard_imports["flash_attn"] == "modeling_hardflash.py:7"
    assert required_distributions(rc)["flash-attn"] == "modeling_hardflash.py:7"
    offline = load_model("org/hardflash", offline=True)
    assert offline.source == "cache" and offline.files == ms.files
