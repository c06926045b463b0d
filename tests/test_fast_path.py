"""`advisor recommend --format json` imports neither torch, transformers, textual nor huggingface_hub, and reads
the bundled model catalog only when it answers for a repo id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "textual", "huggingface_hub", "accelerate", "rich", "pynvml")

PROBE = """
import contextlib, io, json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
from advisor.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(__import__("os").environ["HEAVY"])))
catalog = any(p.replace("\\\\", "/").endswith("catalog/models.json") for p in opened)
paths = [p.replace("\\\\", "/") for p in opened]
tables = sorted({p.rsplit("/", 1)[-1] for p in paths if "transformers/releases/" in p})
print(json.dumps({"code": code, "loaded": loaded, "catalog_read": catalog, "tables": tables, "out": out.getvalue()}))
"""


def run(*args: str, **env_vars: str) -> dict[str, object]:
    import os

    env = {**os.environ, "HEAVY": json.dumps(HEAVY), **env_vars}
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_recommend_json_with_a_catalog_gpu_stays_light() -> None:
    result = run("recommend", "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json", "--gpu", "A100-80GB",
                 "--format", "json")
    assert result["code"] == 0
    assert json.loads(str(result["out"]))["flags"]["attn_implementation"]
    assert result["loaded"] == []
    assert result["catalog_read"] is False


def test_recommend_json_on_this_machine_stays_light() -> None:
    result = run("recommend", "fixtures/configs/Qwen__Qwen2.5-7B.json", "--format", "json")
    assert result["code"] == 0
    assert set(result["loaded"]) <= {"pynvml"}  # NVML is how this machine's GPUs are read
    assert result["catalog_read"] is False


def test_one_release_table_is_read_for_the_target() -> None:
    """Only the knowledge table of the target release is opened (the index names it), not the other releases'."""
    result = run("recommend", "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json", "--gpu", "A100-80GB",
                 "--with", "transformers==4.46.3", "--format", "json")
    assert result["code"] == 0 and result["loaded"] == []
    from advisor.facts.release_table import index

    assert result["tables"] == [index()["files"]["4.46.3"]]


def test_the_catalog_is_read_for_a_repo_id_it_answers(tmp_path: Path) -> None:
    result = run("recommend", "gpt2", "--gpu", "A100-80GB", "--offline", "--format", "json",
                 HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", ADVISOR_CACHE_DIR=str(tmp_path / "advisor"))
    assert result["code"] == 0 and result["catalog_read"] is True
    assert json.loads(str(result["out"]))["model"]["source"] == "catalog"
