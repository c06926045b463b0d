"""AMD and Apple silicon targets in the app: chosen like any catalog GPU, advised by the same rules."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from advisor.tui.app import AdvisorApp
from tests.tui.conftest import FLASH, llama_on, settle

pytestmark = pytest.mark.anyio


def rules_of(app: AdvisorApp) -> set[str]:
    assert app.advice is not None and app.advice.recommendation is not None
    return {f.rule for f in app.advice.recommendation.findings}


async def test_the_palette_moves_a_cuda_machine_to_an_mi300x_and_says_the_torch_build_is_wrong() -> None:
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Target GPU: MI300X")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.inputs.gpu == "MI300X" and app.query_one("#gpu", Select).value == "MI300X"
        assert app.advice is not None and app.advice.recommendation is not None
        flags = app.advice.recommendation.flags
        assert flags.get("attn_implementation") != "flash_attention_2"  # a CUDA torch on an AMD GPU
        assert "VENDOR-TORCH-BUILD" in rules_of(app)


async def test_a_mac_target_puts_the_model_on_mps() -> None:
    app = AdvisorApp(llama_on("M3-Max-64GB"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.advice is not None and app.advice.recommendation is not None
        assert app.advice.recommendation.flags.get("device_map") == {"": "mps"}
        assert "APPLE-TORCH-MPS" in rules_of(app)  # the profile's CUDA torch cannot drive the Apple GPU
