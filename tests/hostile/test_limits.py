"""Bounded work and time, and no litter: a stalling or dripping Hub ends within the deadline, a matrix states its
size and is refused past a limit, and a signal leaves no temporary file behind (issue 15)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.core.cache import STALE_S, cache_write_bytes
from tests.hostile.harness import CONFIGS, advisor, assert_contained
from tests.hub_server import HubServer, Repo, commit_of

PYTHIA = (CONFIGS / "EleutherAI__pythia-14m.json").read_bytes()


@pytest.fixture(scope="module")
def faulty_hub() -> Iterator[HubServer]:
    def repo(name: str, fault: str | None) -> Repo:
        c = commit_of(name, "main")
        return Repo(commits={c: {"config.json": PYTHIA}}, refs={"main": c}, fault=fault)

    with HubServer({"org/stall": repo("org/stall", "stall"), "org/drip": repo("org/drip", "drip"),
                    "org/fine": repo("org/fine", None)}, drip_s=0.2, lifetime_s=600) as server:
        yield server


def hub_env(server: HubServer, **extra: str) -> dict[str, str]:
    env = {"HF_ENDPOINT": server.url, "HF_HUB_OFFLINE": "0", "HF_HUB_ETAG_TIMEOUT": "4",
           "HF_HUB_DOWNLOAD_TIMEOUT": "6"}
    env.update(extra)
    return env


@pytest.mark.parametrize("repo", ["org/stall", "org/drip"])
def test_a_stalling_or_dripping_hub_ends_in_exit_3_within_the_deadline(faulty_hub: HubServer, tmp_path: Path,
                                                                       repo: str) -> None:
    run = advisor("recommend", repo, "--gpu", "T4", cwd=tmp_path,
                  env=hub_env(faulty_hub, ADVISOR_HUB_DEADLINE="3"))
    assert_contained(run, (3,), tmp_path, time_s=3 + 8, says=repo)
    if repo == "org/drip":  # per-read timeouts alone never end it: each byte comes in time
        assert "deadline of 3 s" in run.err
    assert not [p for p in (tmp_path / ".hf").rglob("*") if p.is_file()], "a half-written file in the Hub cache"


def test_the_deadline_is_at_least_huggingface_hubs_own_timeouts(faulty_hub: HubServer, tmp_path: Path) -> None:
    from advisor.facts.hub_deadline import DEFAULT_DEADLINE_S, deadline_seconds

    assert deadline_seconds() == DEFAULT_DEADLINE_S == 30
    assert deadline_seconds(45.0, 10.0) == 45.0
    run = advisor("recommend", "org/fine", "--gpu", "T4", "--format", "json", cwd=tmp_path,
                  env=hub_env(faulty_hub, ADVISOR_HUB_DEADLINE="20"))
    assert_contained(run, (0,), tmp_path, time_s=20)
    assert json.loads(run.out)["model"]["source"] == "hub"


def test_a_matrix_beyond_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    for i in range(7):
        (tmp_path / f"c{i}.json").write_bytes(PYTHIA)
    models = "".join(f'[[model]]\nid = "c{i}.json"\n' for i in range(7))
    (tmp_path / "advisor.toml").write_text('gpus = ["T4", "L4", "A10G"]\n' + models)
    run = advisor("check", "--policy", "advisor.toml", "--max-cases", "20", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says="7 model(s) × 3 target(s) = 21 cases")
    assert "--max-cases 21" in run.err
    run = advisor("check", "--policy", "advisor.toml", "--max-cases", "21", "--format", "json", cwd=tmp_path)
    assert_contained(run, (0, 1, 3), tmp_path, time_s=30)
    assert len(json.loads(run.out)["cases"]) == 21
    run = advisor("check", "--policy", "advisor.toml", "--max-cases", "0", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=10, says="--max-cases 0")


def test_the_default_limit_refuses_a_huge_policy_before_reading_any_model(tmp_path: Path) -> None:
    models = "".join(f'[[model]]\nid = "org/m{i}"\n' for i in range(2600))
    gpus = ", ".join(f'"{g}"' for g in ("T4", "L4", "A10G", "H100"))
    (tmp_path / "advisor.toml").write_text(f"gpus = [{gpus}]\n" + models)
    run = advisor("check", "--policy", "advisor.toml", cwd=tmp_path)
    assert_contained(run, (2,), tmp_path, time_s=15, says="2600 model(s) × 4 target(s) = 10400 cases")


def test_sigterm_ends_in_cleanup_and_leaves_no_temporary_file(faulty_hub: HubServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "advisor.toml").write_text('gpus = ["T4"]\n[[model]]\nid = "org/stall"\n')
    run = advisor("check", "--policy", "advisor.toml", "--format", "sarif", "--output", "out/report.sarif", "-q",
                  cwd=tmp_path, env=hub_env(faulty_hub, ADVISOR_HUB_DEADLINE="60"), signal_after=4.0)
    assert_contained(run, (128 + 15,), tmp_path, time_s=20, says="stopped by signal 15")
    assert list(out.iterdir()) == []
    leftovers = [p for p in tmp_path.rglob(".*") if p.is_file()]
    assert leftovers == []


def test_a_cache_write_sweeps_what_a_killed_run_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    stale, fresh = tmp_path / ".imports.json.abc123", tmp_path / ".imports.json.def456"
    stale.write_text("half")
    fresh.write_text("another run writing now")
    old = time.time() - STALE_S - 60
    os.utime(stale, (old, old))
    assert cache_write_bytes("imports.json", b"{}")
    assert not stale.exists() and fresh.exists() and (tmp_path / "imports.json").read_bytes() == b"{}"
