"""Pasting an error into the app (^x): the rules that explain it, ranked by the app's facts, and its model."""

from __future__ import annotations

import asyncio

import pytest
from textual.content import Content
from textual.widgets import Static, TextArea

from advisor.tui.app import AdvisorApp
from advisor.tui.bindings import SECTIONS, described
from advisor.tui.commands import main_commands
from advisor.tui.docs_screens import help_text
from advisor.tui.error_screen import ExplainScreen
from tests.tui.conftest import FLASH, llama_on, settle

pytestmark = pytest.mark.anyio
QWEN = "fixtures/configs/Qwen__Qwen2.5-7B.json"
LOG = f"""Traceback (most recent call last):
  File "/content/chat.py", line 8, in <module>
    model = AutoModelForCausalLM.from_pretrained("{QWEN}", attn_implementation="flash_attention_2")
RuntimeError: FlashAttention only supports Ampere
GPUs or newer.
"""


def text_of(widget: Static) -> str:
    visual = widget.visual
    return visual.plain if isinstance(visual, Content) else str(visual)


async def explained(pilot: object, screen: ExplainScreen) -> None:
    for _ in range(500):
        await pilot.pause()  # type: ignore[attr-defined]
        if screen.explanation is not None or screen.problem is not None:
            await pilot.pause()  # type: ignore[attr-defined]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pasted text was not explained within 5 s")


async def test_a_pasted_traceback_is_explained_and_its_model_loaded() -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+x")
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        area = screen.query_one("#explain-input", TextArea)
        assert app.focused is area
        area.insert(LOG)  # what a paste inserts
        await explained(pilot, screen)
        e = screen.explanation
        assert e is not None and [m.rule for m in e.matches] == ["FA2-CC", "LEGACY-FLASH-GPU"]
        assert e.matches[0].verdict == "fails"  # the app's facts: a T4
        shown = text_of(screen.query_one("#explain-result", Static))
        assert shown.startswith("2 rules explain this error, best first")
        assert "1. FA2-CC FlashAttention-2 needs compute capability 8.0" in shown
        assert "fails on these facts" in shown and "this T4 has 7.5" in shown
        assert f"^o loads {QWEN} into the app." in shown

        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(app.screen, ExplainScreen)
        assert app.inputs.model == QWEN
        assert app.advice is not None and app.advice.recommendation is not None


async def test_text_no_rule_explains_and_bad_input_are_said_plainly() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(110, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+x")
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        area = screen.query_one("#explain-input", TextArea)
        area.insert("ValueError: nothing advisor knows about, on an NVIDIA A10G")
        await explained(pilot, screen)
        shown = text_of(screen.query_one("#explain-result", Static))
        assert shown.startswith("No rule explains this error.")
        assert "GPUs NVIDIA A10G (A10G)" in shown
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, ExplainScreen)  # nothing named: the window stays

        screen.explanation = None
        area.load_text("A" * 70_000)
        await explained(pilot, screen)
        assert screen.problem is not None and "one line of more than 65536 characters" in screen.problem
        assert "✗" in text_of(screen.query_one("#explain-result", Static))
        await pilot.press("escape")
        assert not isinstance(app.screen, ExplainScreen)


def test_the_action_is_in_the_command_palette_and_the_help() -> None:
    assert any(action == "explain_error" and "^x" in help_line for _, help_line, action in main_commands())
    assert "Explain an error" in SECTIONS and "Explain an error" in help_text()
    assert {b.action for b in described(SECTIONS["Explain an error"])} == {"dismiss_screen", "use_model"}
