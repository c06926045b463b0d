"""The rule pack: built and checked when a rule file changes, then loaded without parsing anything."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from advisor.core.errors import InputError
from advisor.core.logic import Tri
from advisor.engine import pack
from advisor.engine.rules import Rule

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "cache"))
    pack.load.cache_clear()
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    yield folder
    pack.load.cache_clear()


def reload(folder: Path) -> tuple[Rule, ...]:
    pack.load.cache_clear()
    return pack.load_rules(folder)


def _no_parsing(*args: Any) -> NoReturn:
    raise AssertionError("a rule file was parsed")


def test_the_pack_is_built_once_then_loaded_without_parsing(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = reload(fresh)
    assert (fresh.parent / "cache" / pack.pack_file(fresh)).is_file()
    monkeypatch.setattr(pack, "_toml", _no_parsing)
    second = reload(fresh)
    assert [r.packed() for r in second] == [r.packed() for r in first]
    fa2 = next(r for r in second if r.id == "FA2-CC")
    assert fa2.require is not None and fa2.require.names == {"gpu.cc"}
    from packaging.version import Version

    assert fa2.require.truth({"gpu.cc": Version("7.5")}) is Tri.FALSE
    assert fa2.require.truth({"gpu.cc": Version("8.0")}) is Tri.TRUE
    assert [s.name for s in pack.load_flags(fresh)][:2] == ["trust_remote_code", "dtype"]


def test_an_edited_file_is_checked_again(fresh: Path) -> None:
    reload(fresh)
    path = fresh / "attention.toml"
    text = path.read_text().replace('require = \'gpu.cc >= "8.0"\'', "require = 'gpu.cc >= \"8.0\" and gpu.warp'", 1)
    path.write_text(text)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(InputError, match=r"attention.toml: rule FA2-CC: unknown fact 'gpu.warp'"):
        reload(fresh)


@pytest.mark.parametrize("spoil", ["corrupt", "writable by others"])
def test_a_corrupt_or_foreign_pack_is_rebuilt(fresh: Path, monkeypatch: pytest.MonkeyPatch, spoil: str) -> None:
    reload(fresh)
    packed = fresh.parent / "cache" / pack.pack_file(fresh)
    if spoil == "corrupt":
        packed.write_bytes(packed.read_bytes()[:1000])
    else:
        packed.chmod(0o666)
    built: list[Path] = []
    real = pack._toml
    monkeypatch.setattr(pack, "_toml", lambda path: built.append(path) or real(path))
    assert any(r.id == "FA2-CC" for r in reload(fresh))
    assert built  # rebuilt from the rule files, not read from the spoiled pack


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
references = ["huggingface/transformers#1"]
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
