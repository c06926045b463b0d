"""The wheel ships the rules: built, unpacked away from the source tree, it still recommends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_the_rules_and_runs_from_them(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out)], check=True, capture_output=True, timeout=300)
    wheel = next(out.glob("hf_advisor-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule_file in (ROOT / "rules").glob("*.toml"):
        assert f"advisor/rules/{rule_file.name}" in names
    for table in (ROOT / "rules" / "transformers").rglob("*"):
        if table.is_file():
            assert f"advisor/rules/{table.relative_to(ROOT / 'rules').as_posix()}" in names, table
    assert "advisor/rules/catalog/models.json" in names
    # the TUI stack is an extra: a plain install (pre-commit's, a CI runner's) does not pull it in
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = [ln.split(":", 1)[1].strip() for ln in meta.splitlines() if ln.startswith("Requires-Dist:")]
    plain = [r for r in requires if "extra ==" not in r]
    assert plain and not any(r.startswith(("textual", "rich")) for r in plain), plain
    assert {r.split(";")[0].split(">")[0] for r in requires if "extra == 'tui'" in r} == {"textual", "rich"}
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    config = tmp_path / "config.json"
    config.write_text((ROOT / "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json").read_text())
    env = {**os.environ, "PYTHONPATH": str(site), "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", "import advisor, sys; sys.argv[0] = 'advisor'; "
                           "from advisor.cli import main; print(advisor.__file__, file=sys.stderr); "
                           "raise SystemExit(main())", "recommend", str(config), "--gpu", "T4", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert str(site) in proc.stderr  # the unpacked wheel, not the source tree
    data = json.loads(proc.stdout)
    assert data["flags"]["attn_implementation"] == "sdpa"
    assert data["decisions"][0]["rules"] or data["decisions"][0]["rejected"]

    same = subprocess.run([sys.executable, "-c", "import importlib.resources, pathlib; "
                           "from advisor.core.data import data_dir; "
                           "print(data_dir() == pathlib.Path(str(importlib.resources.files('advisor'))) / 'rules')"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert same.stdout.strip() == "True", same.stderr  # the data folder is the one importlib.resources names
