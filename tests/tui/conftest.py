"""Shared pieces of the TUI tests: fixed inputs (fixture config, catalog GPU, software profile), settling."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from advisor.tui.session import Inputs

ROOT = Path(__file__).resolve().parents[2]
LLAMA = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
PROFILE = Path("fixtures/software/tui.json")
FLASH = "flash-attn==2.6.3"


@pytest.fixture
def anyio_backend() -> str:
    """The pilot tests run on asyncio (through anyio's pytest plugin)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run from the repository root so relative fixture paths (and what the app shows of them) are fixed."""
    monkeypatch.chdir(ROOT)
    yield


def llama_on(gpu: str, *overlays: str, **more: object) -> Inputs:
    """Llama 3.1 8B on a catalog GPU with the `tui.json` software profile and OVERLAYS."""
    return Inputs.of(model=LLAMA, gpu=gpu, software_file=PROFILE, with_packages=overlays, **more)  # type: ignore[arg-type]


async def settle(pilot: Pilot[object]) -> None:
    """Wait until the app shows the advice for its current inputs."""
    app = pilot.app
    for _ in range(600):
        await pilot.pause()
        if not getattr(app, "computing", False):
            await pilot.pause()
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the advice was still being computed after 6 s")
