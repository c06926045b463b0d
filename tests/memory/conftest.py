"""Shared helpers: facts for a fixture config on a catalog GPU, and the recommendation's memory ledger."""

from __future__ import annotations

from pathlib import Path

from advisor import api
from advisor.facts.bundle import Facts, Request
from advisor.facts.locate import load_model

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "fixtures" / "configs"
SOFTWARE = ROOT / "fixtures" / "software" / "cuda-tf5.23.json"


def facts(config: str, gpu: str | None = "L4", with_packages: tuple[str, ...] = (), **request: object) -> Facts:
    """Facts for `fixtures/configs/CONFIG.json` on a catalog GPU with the CUDA transformers 5.23 profile."""
    source = load_model(str(CONFIGS / f"{config}.json"))
    target = api.Target(gpu=gpu, software_file=SOFTWARE, with_packages=with_packages)
    req = Request(**request)  # type: ignore[arg-type]
    return api.facts_for(source, api.hardware_facts(target), api.software_facts(target), req)
