"""What a person meets first in the app (issue 14): the findings that matter on the first screen, a layout
that follows the width, focus that can always be recovered, the context used, a save that asks before it
overwrites, wrapped text that hangs under its label, and the model given on the command line as loading."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent
from textual.widgets._footer import FooterKey

from advisor.tui.app import VIEW_IDS, AdvisorApp
from advisor.tui.findings_view import FindingsList
from advisor.tui.flags_view import WHY_MIN, FlagDetail, FlagsTable
from advisor.tui.packages_view import PackagesTable
from advisor.tui.paragraphs import Paragraphs
from advisor.tui.prompt import ConfirmScreen, PromptScreen
from advisor.tui.session import Inputs
from tests.tui.conftest import FLASH, LLAMA, PROFILE, llama_on, settle

pytestmark = pytest.mark.anyio


def footer_keys(app: AdvisorApp) -> dict[str, FooterKey]:
    """The footer's keys by action, as drawn now."""
    return {k.action: k for k in app.screen.query(FooterKey)}


async def test_findings_that_matter_are_on_the_first_screen() -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.advice is not None and app.advice.recommendation is not None
        findings = app.advice.recommendation.findings
        line = app.query_one("#headline", Static)
        assert line.display and line.region.height >= 2
        shown = str(line.visual)
        mattering = [f.rule for f in findings if f.severity in ("error", "warning")]
        assert {"DTYPE-FP16-OVERFLOW", "MEM-OFFLOAD"} <= set(mattering)
        for rule in mattering:
            assert rule in shown
        for f in findings:
            if f.severity == "info":
                assert f.rule not in shown
        assert app.query_one(FlagsTable).region.y > line.region.y  # above the flags, on the Flags tab

        await pilot.press("ctrl+g", "enter", *"H100", "enter")
        await settle(pilot)
        assert app.inputs.gpu == "H100"
        assert not app.query_one("#headline", Static).display  # nothing that matters: no line for it


async def test_the_inputs_column_follows_the_width_and_its_toggle_is_in_the_footer() -> None:
    wide = AdvisorApp(llama_on("H100"))
    async with wide.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        model = wide.query_one("#model", Input)
        assert model.value == LLAMA and model.content_region.width > len(LLAMA)  # the path is not cut

    narrow = AdvisorApp(llama_on("T4", FLASH))
    async with narrow.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = narrow.query_one(FlagsTable)
        why = table.columns[next(k for k in table.columns if k.value == "why")]
        assert why.width >= WHY_MIN
        assert table.region.right <= 80
        keys = footer_keys(narrow)
        toggle = keys["app.toggle_sidebar"] if "app.toggle_sidebar" in keys else keys["toggle_sidebar"]
        assert toggle.key_display == "^b" and toggle.region.right <= 80


async def test_focus_is_always_recoverable_and_the_footer_follows_it() -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, FlagsTable)
        await pilot.press("enter")
        assert isinstance(app.focused, FlagDetail)
        assert any(k.description == "Back to flags" for k in footer_keys(app).values())
        await pilot.press("escape")
        assert isinstance(app.focused, FlagsTable)
        assert not any(k.description == "Back to flags" for k in footer_keys(app).values())

        await pilot.press("2")  # a tab's key moves the focus into the tab, so its own keys act at once
        await pilot.pause()
        assert isinstance(app.focused, FindingsList)
        descriptions = {k.description for k in footer_keys(app).values()}
        assert "Rule docs" in descriptions and "Detail" not in descriptions
        await pilot.press("5")
        await pilot.pause()
        assert isinstance(app.focused, PackagesTable)
        for key, tab in (("3", "memory"), ("4", "facts"), ("6", "code")):  # from the flags, and it stays there
            await pilot.press("1", key)
            await pilot.pause(0.2)
            assert app.query_one(TabbedContent).active == tab
            assert app.focused is app.query_one(f"#{VIEW_IDS[tab]}")
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.focused, FlagsTable)

        await pilot.press("ctrl+g")  # hiding the inputs column while typing in it takes the focus out
        assert app.focused is app.query_one("#gpu")
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.focused, FlagsTable)


async def test_context_shows_the_value_the_advice_is_for() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        context = app.query_one("#context", Input)
        assert context.value == "" and context.placeholder == "4096 (default)"

    given = AdvisorApp(llama_on("H100", context=8192))
    async with given.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert given.query_one("#context", Input).value == "8192"

    gpt2 = "fixtures/configs/openai-community__gpt2-large.json"
    short = AdvisorApp(Inputs.of(model=gpt2, gpu="H100", software_file=PROFILE))
    async with short.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert short.advice is not None and short.advice.recommendation is not None
        memory = short.advice.recommendation.memory
        assert memory is not None and memory.context == 1024  # gpt2's n_positions, below the default
        assert short.query_one("#context", Input).placeholder == "1024 (model max)"


async def test_save_asks_before_it_overwrites_a_file(tmp_path: Path) -> None:
    target = tmp_path / "load_model.py"
    target.write_text("# mine\n", encoding="utf-8")
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.advice is not None and app.advice.recommendation is not None
        python = app.advice.recommendation.python

        for answer in ("n", "y"):
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, PromptScreen)
            await pilot.press(*str(target), "enter")  # typing replaces the proposed name
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert str(target) in str(app.screen.query_one("#confirm-question", Static).visual)
            await pilot.press(answer)
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
            expected = "# mine\n" if answer == "n" else python
            assert target.read_text(encoding="utf-8") == expected
        assert not app.save_to(target)  # never without asking
        assert not list(tmp_path.glob(".*advisor-tmp"))  # nothing left half-way


async def test_labels_are_spaced_and_wrapped_lines_hang_under_them() -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("down")  # attn_implementation
        await pilot.pause()
        body = app.query_one("#flag-detail-body", Static)
        visual = body.visual
        assert isinstance(visual, Paragraphs)
        lines = visual.content(body.content_region.width).plain.split("\n")
        assert all(len(line) <= body.content_region.width for line in lines)
        why = next(i for i, line in enumerate(lines) if line.startswith("Why: sdpa"))
        assert lines[why + 1].startswith("     ") and lines[why + 1][5] != " "  # under the text, not the label
        fa3 = next(i for i, line in enumerate(lines) if line.startswith("    ✗ FA3-CC flash_attention_3 "))
        assert lines[fa3 + 1].startswith("      ") and lines[fa3 + 1][6] != " "


class HeldApp(AdvisorApp):
    """The app with its first computation held back, to look at what it shows before the answer."""

    held = True

    def recompute(self) -> None:
        if not self.held:
            super().recompute()


async def test_the_first_frame_shows_the_model_given_as_loading() -> None:
    app = HeldApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        detail = str(app.query_one("#flag-detail-body", Static).visual)
        assert detail.startswith(f"loading {LLAMA}…") and "No model yet" not in detail
        assert "computing…" in str(app.query_one("#status", Static).visual)
        assert app.query_one("#flags-table", DataTable).row_count == 0

        app.held = False
        app.recompute()
        await settle(pilot)
        assert app.query_one("#flags-table", DataTable).row_count > 0
        assert not str(app.query_one("#flag-detail-body", Static).visual).startswith("loading")
