"""The app driven by Textual's pilot: keys in, advice out, errors shown in the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets import DataTable, Input, Select, Static

from advisor.tui.app import AdvisorApp
from advisor.tui.bindings import SECTIONS, described, key_label
from advisor.tui.docs_screens import TextScreen
from advisor.tui.finder import FinderScreen
from advisor.tui.memory_view import UNAVAILABLE, MemoryBar, MemoryView
from advisor.tui.prompt import PromptScreen
from advisor.tui.session import Inputs
from tests.tui.conftest import FLASH, LLAMA, PROFILE, llama_on, settle

pytestmark = pytest.mark.anyio


def text_of(widget: Static) -> str:
    """The text a Static shows (markup, Content or paragraphs), unwrapped."""
    visual = widget.visual
    return str(getattr(visual, "plain", visual))


def attn(app: AdvisorApp) -> object:
    assert app.advice is not None and app.advice.recommendation is not None
    return app.advice.recommendation.flags.get("attn_implementation")


def table_value(app: AdvisorApp, flag: str) -> str:
    table = app.query_one("#flags-table", DataTable)
    return str(table.get_cell(flag, "value"))


async def test_h100_to_t4_moves_attention_off_flash_attention_2_and_says_why() -> None:
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert attn(app) == "flash_attention_2"
        assert table_value(app, "attn_implementation") == "flash_attention_2"

        await pilot.press("ctrl+g")
        assert app.focused is app.query_one("#gpu", Select)
        await pilot.press("enter", "T", "4", "enter")
        await settle(pilot)

        assert app.inputs.gpu == "T4"
        assert attn(app) not in ("flash_attention_2", None)
        assert table_value(app, "attn_implementation") == attn(app)
        await pilot.press("escape", "down")  # back to the flags table, onto attn_implementation
        detail = text_of(app.query_one("#flag-detail-body", Static))
        assert detail.startswith(f'attn_implementation = "{attn(app)}"')
        assert "flash_attention_2 needs compute capability 8.0 or newer; this T4 has 7.5" in detail
        assert "FA2-CC" in detail
        assert "what would change it" in detail
        assert "Explanation" in detail and "In plain words" in detail and "Compatibility" in detail


async def test_editing_a_package_version_changes_the_advice() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert attn(app) == "sdpa"
        await pilot.press("5")
        table = app.query_one("#packages-table", DataTable)
        assert app.focused is table
        table.move_cursor(row=table.get_row_index("flash-attn"))
        await pilot.press("enter")
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert prompt.query_one(Input).value == "flash-attn=="
        await pilot.press(*"2.6.3", "enter")
        await settle(pilot)
        assert app.inputs.with_packages == ("flash-attn==2.6.3",)
        assert attn(app) == "flash_attention_2"
        assert "2.6.3" in str(table.get_cell("flash-attn", "version"))
        assert "flash-attn==2.6.3" in text_of(app.query_one("#overlays", Static))

        await pilot.press("delete")  # back to the profile's packages: no flash-attn
        await settle(pilot)
        assert app.inputs.with_packages == ()
        assert attn(app) == "sdpa"


async def test_a_bad_package_version_is_refused_in_the_prompt() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("5", "a", *"flash-attn==banana", "enter")
        assert isinstance(app.screen, PromptScreen)
        assert "not a valid version" in text_of(app.screen.query_one("#prompt-error", Static))
        await pilot.press("escape")
        assert app.inputs.with_packages == ()


async def test_a_malformed_config_shows_an_error_in_the_app(tmp_path: Path) -> None:
    broken = tmp_path / "config.json"
    broken.write_text('{"model_type": "llama", ', encoding="utf-8")
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        model = app.query_one("#model", Input)
        model.focus()
        model.value = str(broken)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running
        banner = app.query_one("#error", Static)
        assert banner.has_class("-shown") and banner.display
        assert str(broken) in text_of(banner)
        assert "last advice" in text_of(banner)
        assert attn(app) == "sdpa"  # the last good advice stays on screen

        model.value = LLAMA
        await pilot.press("enter")
        await settle(pilot)
        assert not banner.has_class("-shown") and app.error is None


async def test_a_missing_config_path_shows_an_error(tmp_path: Path) -> None:
    app = AdvisorApp(Inputs.of(model=str(tmp_path / "nowhere" / "config.json"), gpu="T4", software_file=PROFILE))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.error is not None and "nowhere" in app.error
        assert app.query_one("#error").has_class("-shown")


async def test_an_unknown_gpu_shows_an_error_not_a_crash() -> None:
    app = AdvisorApp(llama_on("Z9000"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running and app.advice is None
        assert app.error is not None and "Z9000" in app.error
        assert "Z9000" in text_of(app.query_one("#error", Static))
        assert app.query_one("#flags-table", DataTable).row_count == 0

        await pilot.press("ctrl+g", "enter", "L", "4", "enter")
        await settle(pilot)
        assert app.error is None and app.inputs.gpu == "L4" and attn(app) == "sdpa"


async def test_an_out_of_range_context_shows_the_api_message() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.query_one("#context", Input).focus()
        await pilot.press("0", "enter")
        await settle(pilot)
        assert app.inputs.context == 0
        assert app.error is not None and "--context 0" in app.error


async def test_the_newest_inputs_win_when_changes_come_quickly() -> None:
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        for gpu in ("A100-80GB", "V100", "T4", "L4", "T4"):
            app.set_inputs(app.inputs.changed(gpu=gpu))
        await settle(pilot)
        assert app.advice is not None and app.advice.inputs.gpu == "T4"
        assert app.advice.hardware.gpus[0].name.value == "T4"
        assert attn(app) == "sdpa"


async def test_rule_docs_open_from_the_flag_and_by_id() -> None:
    app = AdvisorApp(llama_on("T4", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down", "r")  # the rules behind attn_implementation
        finder = app.screen
        assert isinstance(finder, FinderScreen)
        await pilot.press(*"FA2-CC", "enter")
        assert isinstance(app.screen, TextScreen) and app.screen.id == "rule-screen"
        body = text_of(app.screen.query_one(".dialog-text", Static))
        assert body.startswith("FA2-CC:")
        for part in ("Explanation", "In plain words", "Use case", "Compatibility", "Fix", "References"):
            assert part in body
        await pilot.press("escape")
        assert not isinstance(app.screen, TextScreen)

        await pilot.press("ctrl+r", *"softcap")
        assert isinstance(app.screen, FinderScreen)
        await pilot.press("enter")
        assert isinstance(app.screen, TextScreen)
        assert "softcap" in text_of(app.screen.query_one(".dialog-text", Static)).lower()


async def test_help_lists_every_binding() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, TextScreen) and app.screen.id == "help-screen"
        body = text_of(app.screen.query_one(".dialog-text", Static))
        for section, group in SECTIONS.items():
            assert section in body
            for b in described(group):
                assert f"{key_label(b.key)}" in body and b.description in body, b.id


async def test_copy_and_save_the_snippet_and_the_json(tmp_path: Path) -> None:
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.advice is not None and app.advice.recommendation is not None
        rec = app.advice.recommendation
        await pilot.press("c")
        assert app.clipboard == rec.python and 'attn_implementation="flash_attention_2"' in app.clipboard
        await pilot.press("j")
        assert json.loads(app.clipboard)["flags"] == rec.flags

        target = tmp_path / "advice.json"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        saved = json.loads(target.read_text(encoding="utf-8"))
        assert saved["flags"]["attn_implementation"] == "flash_attention_2"
        assert app.save_to(tmp_path / "load.py")
        assert (tmp_path / "load.py").read_text(encoding="utf-8") == rec.python
        assert not app.save_to(tmp_path / "missing-dir" / "load.py")


async def test_the_command_palette_sets_the_gpu() -> None:
    app = AdvisorApp(llama_on("H100", FLASH))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"Target GPU: T4")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.inputs.gpu == "T4" and attn(app) == "sdpa"
        assert app.query_one("#gpu", Select).value == "T4"


async def test_the_model_finder_picks_a_bundled_model() -> None:
    app = AdvisorApp(Inputs.of(gpu="H100", software_file=PROFILE, offline=True))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.advice is not None and app.advice.recommendation is None
        assert "No model yet" in text_of(app.query_one("#flag-detail-body", Static))
        await pilot.press("ctrl+o", *"qwen3 8b")
        assert isinstance(app.screen, FinderScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.inputs.model == "Qwen/Qwen3-8B"
        assert app.advice.recommendation is not None
        assert app.advice.recommendation.model["id"] == "Qwen/Qwen3-8B"
        assert app.query_one("#model", Input).value == "Qwen/Qwen3-8B"


async def test_the_model_finder_lists_well_known_models_first_with_their_size() -> None:
    from textual.widgets import OptionList

    from advisor import api

    app = AdvisorApp(Inputs.of(gpu="H100", software_file=PROFILE, offline=True))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, FinderScreen)
        options = app.screen.query_one("#finder-list", OptionList)
        shown = [options.get_option_at_index(i) for i in range(options.option_count)]
        assert [o.id for o in shown] == [m.id for m in api.models()][: len(shown)]
        first = str(shown[0].prompt)
        assert shown[0].id == "sentence-transformers/all-MiniLM-L6-v2" and "22.7M · bert · embedding" in first


async def test_memory_tab_draws_one_bar_per_gpu_or_says_there_is_no_plan() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        assert app.advice is not None and app.advice.recommendation is not None
        memory = app.advice.recommendation.memory
        assert memory is not None
        bars = list(app.query(MemoryBar))
        assert len(bars) == len(memory.per_gpu) >= 1
        assert bars[0].render().plain.startswith("GPU 0 H100")
        view = app.query_one(MemoryView)
        view.show(None)
        await pilot.pause()
        assert not list(app.query(MemoryBar))
        assert text_of(view.query_one("#memory-summary", Static)) == Content.from_markup(UNAVAILABLE).plain


async def test_facts_tab_shows_sources_and_unknown_reasons() -> None:
    app = AdvisorApp(llama_on("T4"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        tree = app.query_one("#facts-tree")
        labels: list[str] = []

        def walk(node: object) -> None:
            labels.append(str(node.label))  # type: ignore[attr-defined]
            for child in node.children:  # type: ignore[attr-defined]
                walk(child)

        walk(tree.root)  # type: ignore[attr-defined]
        joined = "\n".join(labels)
        assert "compute_capability: [7, 5] · catalog:T4" in joined
        unknown = "memory_free_bytes: unknown (a catalog profile has no free-memory reading) · catalog:T4"
        assert unknown in joined


async def test_theme_and_sidebar_toggle() -> None:
    app = AdvisorApp(llama_on("H100"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != dark and "light" in app.theme
        await pilot.press("ctrl+b")
        assert not app.query_one("#sidebar").display
        await pilot.press("ctrl+b")
        assert app.query_one("#sidebar").display
