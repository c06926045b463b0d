"""The format registry: every --format choice comes from it, and every entry renders its kind of answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from advisor import api
from advisor.cli import build_parser
from advisor.core.errors import InputError
from advisor.emit import formats

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"recommend": "recommendation", "check": "report", "lint": "report", "facts": "facts", "rules": "rules",
         "gpus": "gpus", "verify": "verify"}


def _choices(command: str) -> tuple[str, ...]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if a.dest == "command")
    action = next(a for a in sub.choices[command]._actions if a.dest == "format")  # type: ignore[union-attr]
    return tuple(action.choices or ())


@pytest.mark.parametrize("command", sorted(KINDS))
def test_format_choices_come_from_the_registry(command: str) -> None:
    assert _choices(command) == formats.names(KINDS[command]) != ()


def test_every_registered_renderer_exists() -> None:
    from importlib import import_module

    for f in formats.FORMATS:
        module, function = f.renderer.split(":")
        assert callable(getattr(import_module(f"advisor.emit.{module}"), function)), f


def test_an_unknown_format_names_the_choices() -> None:
    with pytest.raises(InputError, match="choose one of text, json"):
        formats.get("gpus", "yaml")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_rule_and_flag_docs_as_json() -> None:
    rule = json.loads(_run("rules", "FA2-CC", "--format", "json").stdout)
    assert rule["id"] == "FA2-CC" and rule["require"] == 'gpu.cc >= "8.0"' and rule["docs"]["references"]
    run_rule = json.loads(_run("rules", "LINT-UNRESOLVED", "--format", "json").stdout)
    assert run_rule["require"] is None and run_rule["docs"]["explanation"]
    flag = json.loads(_run("rules", "dtype", "--format", "json").stdout)
    assert flag["name"] == "dtype" and flag["values"] == ["bfloat16", "float16", "float32"]


def test_gpus_as_json() -> None:
    done = _run("gpus", "--format", "json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert [g["name"] for g in data] == [g.name for g in api.gpus()]
    t4 = next(g for g in data if g["name"] == "T4")
    assert t4["compute_capability"] == "7.5" and t4["bf16"] is False
