"""The pre-commit hooks and the GitHub Action, run as they run: the action's script under bash, the hooks'
commands through the real CLI."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

from advisor.cli import build_parser
from tests.ci.conftest import DATA, LLAMA, ROOT, SW5, write_policy

SCRIPT = ROOT / "scripts" / "action_run.sh"
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
POLICY = f'''gpus = ["T4"]
offline = true

[[software]]
profile = "{SW5.as_posix()}"

[[model]]
id = "{LLAMA.as_posix()}"
flags = {{ attn_implementation = "flash_attention_2", dtype = "bfloat16" }}
'''


def action(tmp_path: Path, **inputs: str) -> tuple[int, str, dict[str, str], Path]:
    """Run the action's script with INPUTS (command, policy, paths, sarif, ...) in TMP_PATH."""
    launcher = tmp_path / "advisor"
    launcher.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m advisor \"$@\"\n", encoding="utf-8")
    launcher.chmod(0o755)
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    env = {**os.environ, "ADVISOR_BIN": str(launcher), "GITHUB_OUTPUT": str(output),
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.update({f"ADVISOR_{k.upper()}": v for k, v in inputs.items()})
    done = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)
    return done.returncode, done.stdout + done.stderr, outputs, tmp_path / inputs.get("sarif", "none.sarif")


def test_the_action_checks_the_policy_and_writes_valid_sarif(tmp_path: Path) -> None:
    write_policy(tmp_path, POLICY)
    code, out, outputs, sarif = action(tmp_path, command="check", policy="advisor.toml", sarif="advisor.sarif")
    assert code == 1 and outputs == {"exit-code": "1"}
    assert "::error file=advisor.toml" in out and "FA2-CC" in out
    log = json.loads(sarif.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert any(r["ruleId"] == "FA2-CC" for r in log["runs"][0]["results"])


def test_a_missing_policy_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    for command in ("check", "lint"):
        code, out, outputs, sarif = action(tmp_path, command=command, policy="nope.toml", sarif="a.sarif")
        assert code == 2 and outputs == {"exit-code": "2"}
        assert "::error title=advisor::the policy file nope.toml does not exist" in out
        assert not sarif.exists()
    code, out, outputs, _ = action(tmp_path, command="check")
    assert code == 2 and outputs == {"exit-code": "2"} and "needs the policy input" in out


def test_a_failing_run_leaves_a_sarif_that_carries_the_error(tmp_path: Path) -> None:
    (tmp_path / "advisor.toml").write_text("gpus = [\n", encoding="utf-8")  # invalid TOML
    code, out, outputs, sarif = action(tmp_path, command="check", policy="advisor.toml", sarif="advisor.sarif")
    assert code == 2 and outputs == {"exit-code": "2"} and "invalid TOML" in out
    log = json.loads(sarif.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False and log["runs"][0]["results"] == []
    assert "invalid TOML" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_the_action_lints_code_and_points_sarif_at_the_lines(tmp_path: Path) -> None:
    write_policy(tmp_path, POLICY.split("[[model]]")[0])  # a lint-only policy: targets, no models
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "load.py").write_text(
        "from transformers import AutoModelForCausalLM\n"
        "m = AutoModelForCausalLM.from_pretrained('meta-llama/Meta-Llama-3.1-8B',\n"
        "                                         attn_implementation='flash_attention_2')\n", encoding="utf-8")
    code, _, outputs, sarif = action(tmp_path, command="lint", paths="src", policy="advisor.toml",
                                       sarif="lint.sarif")
    assert code == 1 and outputs == {"exit-code": "1"}
    regions = [r["locations"][0]["physicalLocation"] for r in json.loads(sarif.read_text())["runs"][0]["results"]
               if r["ruleId"] == "FA2-CC"]
    assert regions and regions[0]["artifactLocation"]["uri"] == "src/load.py"
    assert regions[0]["region"] == {"startLine": 3, "startColumn": 42}


def test_action_yml_keeps_the_callers_python_and_passes_inputs_through_env() -> None:
    spec = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    steps = spec["runs"]["steps"]
    setup = next(s for s in steps if str(s.get("uses", "")).startswith("actions/setup-python"))
    assert setup["with"]["update-environment"] is False
    assert any(str(s.get("uses", "")).startswith("actions/cache") for s in steps)
    install = next(s for s in steps if s.get("name") == "Install advisor")
    assert "-m venv" in install["run"] and "RUNNER_TEMP" in install["run"]
    run = next(s for s in steps if s.get("id") == "run")
    assert set(run["env"]) >= {f"ADVISOR_{n.upper().replace('-', '_')}" for n in spec["inputs"]
                               if n != "python-version"}
    for step in steps:
        for name in spec["inputs"]:
            assert "${{ inputs." + name not in str(step.get("run", ""))  # through env, never interpolated
    assert set(spec["outputs"]) == {"exit-code"}


def test_pre_commit_hooks_work_together_on_a_lint_only_policy(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"advisor-lint", "advisor-check"}
    write_policy(tmp_path, POLICY.split("[[model]]")[0])
    code = tmp_path / "app.py"
    code.write_text("x = 1\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "ADVISOR_CACHE_DIR": str(tmp_path / "c")}
    for hook in hooks:
        assert hook["language"] == "python" and hook["entry"].startswith("advisor ")
        argv = shlex.split(hook["entry"])[1:] + (["app.py"] if hook.get("pass_filenames", True) else [])
        build_parser().parse_args(argv)
        done = subprocess.run([sys.executable, "-m", "advisor", *argv], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, (hook["id"], done.stderr)
    check = next(h for h in hooks if h["id"] == "advisor-check")
    assert check["pass_filenames"] is False and "advisor\\.toml" in check["files"]
