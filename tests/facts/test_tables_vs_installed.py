"""The shipped knowledge table of 5.23.0 against the installed transformers 5.23.0, for every model type.

Two ways: the static read of the installed source (what advisor uses when the target is the installed
version) must give the same answers as the table for every model type and every class; and the release
imported for real (tests/facts/installed_check.py, in a subprocess) must agree with the table on config
classes, auto mappings, the attention flags of every class and the release-wide facts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from packaging.version import Version

from advisor.facts.release_table import table_for
from advisor.facts.transformers_scan import TransformersTree
from advisor.facts.transformers_support import _TableView, installed_transformers

ROOT = Path(__file__).resolve().parents[2]


def test_the_static_read_and_the_table_agree_on_every_model_type() -> None:
    installed = installed_transformers()
    assert installed is not None and installed.version == Version("5.23.0")
    tree = TransformersTree(installed.root)
    mappings = tree.auto_mappings()
    era = tree.era()
    view = _TableView.open(installed.version)
    assert isinstance(view, _TableView)
    table = table_for(installed.version)
    assert table.note is None and str(table.release) == "5.23.0"
    assert view.native() == tree.native_model_types()
    class_auto, defaults = mappings.class_auto(), mappings.type_default()
    checked: set[str] = set()
    for model_type in sorted(tree.native_model_types() | set(defaults)):
        assert view.type_default(model_type) == defaults.get(model_type), model_type
        entry = table.model_type(model_type)
        assert entry is not None, model_type
        for c in entry.classes:
            assert view.class_auto(c.name) == class_auto.get(c.name), c.name
            if c.name in checked:
                continue
            checked.add(c.name)
            scanned = tree.class_flags(c.name, model_type)
            mine = view.flags(c.name, model_type)
            if scanned is None:
                assert mine is None, c.name
                continue
            assert mine == scanned.effective(era), c.name
    assert checked == mappings.all_classes()
    assert len(checked) > 1500


def test_the_release_imported_agrees_with_the_table() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "facts" / "installed_check.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    report = json.loads(out.splitlines()[-1])
    assert report["version"] == report["table"] == "5.23.0"
    assert report["problems"] == []
    assert report["model_types"] > 800 and report["imported"] == report["classes"] > 1500
