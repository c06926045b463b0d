"""The pre-commit hooks and the GitHub Action call advisor with options that exist."""

from __future__ import annotations

import shlex

import yaml

from advisor.cli import build_parser
from tests.ci.conftest import ROOT


def test_pre_commit_hooks_run_real_commands() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"advisor-lint", "advisor-check"}
    for hook in hooks:
        assert hook["language"] == "python" and hook["entry"].startswith("advisor ")
        argv = shlex.split(hook["entry"])[1:]
        if hook["id"] == "advisor-lint":
            argv.append("some_file.py")  # pre-commit passes the file names
        args = build_parser().parse_args(argv)
        assert args.command in ("lint", "check")
    lint = next(h for h in hooks if h["id"] == "advisor-lint")
    assert lint["types"] == ["python"] and lint.get("pass_filenames", True)


def test_action_runs_with_its_inputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    script = action["runs"]["steps"][-1]["run"]
    for option in ("--policy", "--fail-on", "--exit-zero", "--format sarif", "--format github"):
        assert option in script
    for name in action["inputs"]:
        assert "${{ inputs." + name + " }}" not in script  # passed through env, never interpolated
    parser = build_parser()
    for argv in (["check", "--policy", "advisor.toml", "--fail-on", "warning", "--exit-zero", "--format", "sarif"],
                 ["lint", "src", "--policy", "advisor.toml", "--format", "github"]):
        parser.parse_args(argv)
    assert set(action["outputs"]) == {"exit-code"}
