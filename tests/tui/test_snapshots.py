"""SVG snapshots (pytest-textual-snapshot): the main screen at 80×24 and 140×40, the flag detail, the
memory view, and the light theme. Fixed inputs only: a fixture config, catalog GPUs, a software profile.

Regenerate after a deliberate change with `pytest tests/tui --snapshot-update`, and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from advisor.tui.app import AdvisorApp
from tests.tui.conftest import FLASH, llama_on, settle

Snap = Callable[..., bool]


def after(*keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """Settle, press KEYS, settle again."""

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
        await settle(pilot)

    return run


def test_main_screen_80x24(snap_compare: Snap) -> None:
    assert snap_compare(AdvisorApp(llama_on("H100", FLASH)), terminal_size=(80, 24), run_before=after())


def test_main_screen_140x40(snap_compare: Snap) -> None:
    assert snap_compare(AdvisorApp(llama_on("T4", FLASH)), terminal_size=(140, 40), run_before=after())


def test_flag_detail_attention_on_t4(snap_compare: Snap) -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    assert snap_compare(app, terminal_size=(110, 40), run_before=after("down", "enter"))


def test_memory_view(snap_compare: Snap) -> None:
    app = AdvisorApp(llama_on("L4", context=8192, batch=4))
    assert snap_compare(app, terminal_size=(100, 30), run_before=after("3"))


def test_main_screen_light_theme_80x24(snap_compare: Snap) -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    assert snap_compare(app, terminal_size=(80, 24), run_before=after("ctrl+t"))
