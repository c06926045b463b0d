"""Rule files are checked when they (or the engine) change, and load deferred when they did not."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.core import data as data_mod
from advisor.core.errors import InputError
from advisor.engine import rules as rules_mod

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "cache"))
    for fn in (rules_mod.load_rules, rules_mod._checked, data_mod._parsed):
        fn.cache_clear()
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    yield folder
    for fn in (rules_mod.load_rules, rules_mod._checked, data_mod._parsed):
        fn.cache_clear()


def reload(folder: Path) -> tuple[rules_mod.Rule, ...]:
    for fn in (rules_mod.load_rules, rules_mod._checked, data_mod._parsed):
        fn.cache_clear()
    return rules_mod.load_rules(folder)


def test_first_load_checks_every_expression_then_defers(fresh: Path) -> None:
    first = reload(fresh)
    assert all(r.require._fn is not None for r in first if r.require)
    second = reload(fresh)
    assert all(r.require._fn is None for r in second if r.require)
    fa2 = next(r for r in second if r.id == "FA2-CC")
    assert fa2.require.names == {"gpu.cc"}  # compiles on first use


def test_an_edited_file_is_checked_again(fresh: Path) -> None:
    reload(fresh)
    path = fresh / "attention.toml"
    text = path.read_text().replace('require = \'gpu.cc >= "8.0"\'', "require = 'gpu.cc >= \"8.0\" and gpu.warp'", 1)
    path.write_text(text)
    with pytest.raises(InputError, match=r"attention.toml: rule FA2-CC: unknown fact 'gpu.warp'"):
        reload(fresh)
