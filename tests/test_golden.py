"""The golden corpus (scripts/golden.py) is byte-identical: refactors and speed work do not change answers."""

from __future__ import annotations

import difflib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _golden() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["golden"] = module
    spec.loader.exec_module(module)
    return module


def test_golden_corpus_is_unchanged() -> None:
    golden = _golden()
    assert (golden.GOLDEN / "policy.toml").read_text(encoding="utf-8") == golden.POLICY
    differ: list[str] = []
    first_diff = ""
    with golden.isolated():
        for name, argv in golden.cases():
            path = golden.GOLDEN / f"{name}.txt"
            want = path.read_text(encoding="utf-8") if path.is_file() else ""
            got = golden.run_case(argv)
            if got != want:
                differ.append(name)
                if not first_diff:
                    first_diff = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                                              f"{name} (golden)", f"{name} (now)", n=2))[:6000]
    assert not differ, (f"{len(differ)} golden case(s) differ (run `python scripts/golden.py` after a "
                        f"deliberate change): {differ[:20]}\n{first_diff}")


def test_every_golden_file_has_a_case() -> None:
    golden = _golden()
    names = {f"{name}.txt" for name, _ in golden.cases()}
    files = {p.relative_to(golden.GOLDEN).as_posix() for p in golden.GOLDEN.rglob("*.txt")}
    assert files == names
