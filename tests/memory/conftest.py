"""Shared helpers: facts for a fixture config on a catalog GPU, and the ground truth of transformers' own builds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from advisor import api
from advisor.facts.bundle import Facts, Request
from advisor.facts.locate import load_model

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "fixtures" / "configs"
SOFTWARE = ROOT / "fixtures" / "software" / "cuda-tf5.23.json"
TRUTH_CACHE = "ADVISOR_TRUTH_CACHE"
"""A JSON file to keep the ground truth in between runs while working on the memory model (not set in CI)."""


def facts(config: str, gpu: str | None = "L4", with_packages: tuple[str, ...] = (), **request: object) -> Facts:
    """Facts for `fixtures/configs/CONFIG.json` on a catalog GPU with the CUDA transformers 5.23 profile."""
    source = load_model(str(CONFIGS / f"{config}.json"))
    target = api.Target(gpu=gpu, software_file=SOFTWARE, with_packages=with_packages)
    req = Request(**request)  # type: ignore[arg-type]
    return api.facts_for(source, api.hardware_facts(target), api.software_facts(target), req)


def _compute_truth() -> dict[str, Any]:
    from tests.memory import coverage, truth

    found = truth.run_all(coverage.truth_jobs(), workers=int(os.environ.get("ADVISOR_TRUTH_WORKERS", "2")))
    found.update(truth.run_all(coverage.perturbed_jobs(found), workers=2))
    return found


def _truth_file(path: Path) -> dict[str, Any]:
    from filelock import FileLock

    with FileLock(str(path) + ".lock"):
        if path.is_file():
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        data = _compute_truth()
        path.write_text(json.dumps(data))
        return data


@pytest.fixture(scope="session")
def ground_truth(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    """transformers' own parameter counts and cache layouts for every model type's default config, every real
    config of fixtures/new-architectures and the perturbed default of every table type: computed once per test
    session (shared by the xdist workers through a file), in two subprocesses."""
    kept = os.environ.get(TRUTH_CACHE)
    if kept:
        return _truth_file(Path(kept))
    if worker_id == "master":
        return _compute_truth()
    return _truth_file(tmp_path_factory.getbasetemp().parent / "memory-truth.json")
