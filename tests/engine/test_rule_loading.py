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


def _add_rule(folder: Path, flags: str, when: str) -> None:
    (folder / "extra.toml").write_text(f'''[[rule]]
id = "TEST-ORDER"
title = "t"
severity = "warning"
flags = {flags}
when = '{when}'
require = "True"
message = "m"
fix = "f"
[rule.docs]
explanation = "e"
analogy = "a"
use_case = "u"
compatibility = "c"
references = ["r"]
''')


def test_a_rule_may_read_flags_decided_before_its_own(fresh: Path) -> None:
    _add_rule(fresh, '["device_map"]', 'flag.dtype == "float16" and memory.fits and kwarg.torch_dtype != None')
    assert any(r.id == "TEST-ORDER" for r in reload(fresh))


@pytest.mark.parametrize(("flags", "when", "later"), [
    ('["attn_implementation"]', 'flag.device_map == "auto"', "device_map"),
    ('["dtype"]', "memory.fits", "attn_implementation, device_map, quantization_config"),
    ('["dtype"]', "kwarg.attn_implementation != None", "attn_implementation"),
])
def test_a_rule_that_reads_a_flag_decided_after_its_own_is_refused(fresh: Path, flags: str, when: str,
                                                                   later: str) -> None:
    _add_rule(fresh, flags, when)
    with pytest.raises(InputError, match=rf"extra.toml: rule TEST-ORDER: a rule about \w+ reads {later}, decided"):
        reload(fresh)


def test_an_unknown_memory_figure_is_refused(fresh: Path) -> None:
    _add_rule(fresh, '["device_map"]', "memory.fitz")
    with pytest.raises(InputError, match=r"unknown fact 'memory.fitz'"):
        reload(fresh)


def test_a_rule_about_an_undefined_flag_is_refused(fresh: Path) -> None:
    _add_rule(fresh, '["attn_impl"]', "True")
    with pytest.raises(InputError, match=r"`flags` names 'attn_impl'"):
        reload(fresh)


def test_every_memory_figure_is_computed_by_the_plan() -> None:
    from advisor.memory.figures import FIGURES
    from advisor.memory.plan import MemoryPlan

    methods = {n.removeprefix("_f_") for n in dir(MemoryPlan) if n.startswith("_f_")}
    assert methods == set(FIGURES)
