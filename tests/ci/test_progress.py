"""Long CI runs show progress on stderr: a cold `check --policy` over models read from a slow Hub says the size
of the matrix and each model as it is read; a quick run stays silent; --quiet silences a slow one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub_server import HubServer, Repo, commit_of

ROOT = Path(__file__).resolve().parents[2]
QWEN = (ROOT / "fixtures/configs/Qwen__Qwen2.5-7B.json").read_bytes()
MODELS = ["org/a", "org/b", "org/c"]


@pytest.fixture(scope="module")
def server() -> Iterator[HubServer]:
    repos = {m: Repo(commits={commit_of(m, "main"): {"config.json": QWEN}}, refs={"main": commit_of(m, "main")},
                     fault="slow") for m in MODELS}
    with HubServer(repos, slow_s=0.4, lifetime_s=120) as s:
        yield s


def policy(tmp_path: Path, models: list[str]) -> Path:
    body = ['gpus = ["A100-80GB", "T4"]', "[[software]]", f'profile = "{ROOT}/fixtures/software/cuda-tf5.23.json"']
    for m in models:
        body += ["[[model]]", f'id = "{m}"', 'flags = { dtype = "bfloat16" }']
    path = tmp_path / "advisor.toml"
    path.write_text("\n".join(body) + "\n")
    return path


def check(server: HubServer, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HOME=str(home / "hf"), HF_ENDPOINT=server.url, ADVISOR_CACHE_DIR=str(home / "advisor"),
               HF_HUB_ETAG_TIMEOUT="5", HF_HUB_DOWNLOAD_TIMEOUT="5")
    return subprocess.run([sys.executable, "-m", "advisor", "check", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def progress_lines(stderr: str) -> list[str]:
    return [ln.split("] ", 1)[1] for ln in stderr.splitlines() if re.match(r"advisor check \[ *\d+\.\d s\] ", ln)]


def test_a_cold_policy_run_says_the_matrix_then_each_model(server: HubServer, tmp_path: Path) -> None:
    done = check(server, tmp_path, "--policy", str(policy(tmp_path, MODELS)), "--format", "json")
    assert done.returncode == 1, done.stderr  # bfloat16 on a T4 is an error
    lines = progress_lines(done.stderr)
    assert lines[0] == "3 models (3 distinct) × 2 targets: 6 cases"
    # each answer of the Hub takes 0.4 s: two seconds into the first model, what the run is about and the
    # model being read are written, then each model as it comes
    assert lines[1:] == ["[1/3] org/a", "[2/3] org/b", "[3/3] org/c"]
    times = [float(ln.split("[", 1)[1].split(" s]")[0]) for ln in done.stderr.splitlines()[:3]]
    assert 2.0 <= times[0] == times[1] < times[2]  # at two seconds, while the first model was being read
    assert done.stdout.startswith("{")  # stdout holds the report alone


def test_a_quick_run_is_silent_and_quiet_silences_a_slow_one(server: HubServer, tmp_path: Path) -> None:
    fixture = str(ROOT / "fixtures/configs/Qwen__Qwen2.5-7B.json")
    quick = check(server, tmp_path, fixture, "--flags", '{"dtype": "bfloat16"}', "--gpu", "A100-80GB",
                  "--software", str(ROOT / "fixtures/software/cuda-tf5.23.json"))
    assert quick.returncode == 0 and progress_lines(quick.stderr) == [], quick.stderr
    quiet = check(server, tmp_path, "--policy", str(policy(tmp_path, ["org/a"])), "--quiet")
    assert quiet.returncode == 1 and quiet.stderr == "", quiet.stderr  # the text report has the summary
