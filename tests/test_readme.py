"""The README's two commands stay true: CI runs the test command verbatim, the main job runs here."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def commands() -> list[str]:
    section = README.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, re.S)


def test_readme_has_the_two_commands() -> None:
    main, tests = commands()
    assert "pip install -e ." in main and "advisor recommend" in main
    assert "pip install torch==2.13.0" in tests and "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = commands()
    after_torch = tests.split("pip install torch==2.13.0 && ", 1)[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet torch==2.13.0" in ci
    assert after_torch in ci.splitlines()


def test_the_main_job_runs() -> None:
    main, _ = commands()
    job = main.rsplit("&& ", 1)[1]
    argv = shlex.split(job)
    assert argv[0] == "advisor"
    proc = subprocess.run([sys.executable, "-m", "advisor", *argv[1:]], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "attn_implementation" in proc.stdout and "sdpa" in proc.stdout
