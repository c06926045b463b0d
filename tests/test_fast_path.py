"""`advisor recommend --format json` imports neither torch, transformers, textual nor huggingface_hub, reads
the bundled model catalog only when it answers for a repo id, and on a config the formula table counts starts no
subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "textual", "huggingface_hub", "accelerate", "rich", "pynvml")

PROBE = """
import contextlib, io, json, subprocess, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" else None)
started = []
_init = subprocess.Popen.__init__
def _spy(self, *args, **kwargs):
    started.append(str(args[0] if args else kwargs.get("args"))[:200])
    _init(self, *args, **kwargs)
subprocess.Popen.__init__ = _spy
from advisor.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(__import__("os").environ["HEAVY"])))
catalog = any(p.replace("\\\\", "/").endswith("catalog/models.json") for p in opened)
print(json.dumps({"code": code, "loaded": loaded, "catalog_read": catalog, "out": out.getvalue(),
                  "subprocesses": started}))
"""


def run(*args: str, **env_vars: str) -> dict[str, object]:
    import os

    env = {**os.environ, "HEAVY": json.dumps(HEAVY), **env_vars}
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_recommend_json_with_a_catalog_gpu_stays_light(tmp_path: Path) -> None:
    result = run("recommend", "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json", "--gpu", "A100-80GB",
                 "--software", "fixtures/software/cuda-tf5.23.json", "--format", "json",
                 ADVISOR_CACHE_DIR=str(tmp_path))
    assert result["code"] == 0
    out = json.loads(str(result["out"]))
    assert out["flags"]["attn_implementation"]
    assert out["memory"]["parameters_exact"] is True and "formula table" in out["memory"]["parameters_source"]
    assert result["loaded"] == []
    assert result["catalog_read"] is False
    assert result["subprocesses"] == []  # the formula table counts it: no meta-device build


def test_recommend_json_on_this_machine_stays_light() -> None:
    result = run("recommend", "fixtures/configs/Qwen__Qwen2.5-7B.json", "--format", "json")
    assert result["code"] == 0
    assert set(result["loaded"]) <= {"pynvml"}  # NVML is how this machine's GPUs are read
    assert result["catalog_read"] is False


def test_the_catalog_is_read_for_a_repo_id_it_answers(tmp_path: Path) -> None:
    result = run("recommend", "gpt2", "--gpu", "A100-80GB", "--offline", "--format", "json",
                 HF_HOME=str(tmp_path / "hf"), HF_HUB_OFFLINE="1", ADVISOR_CACHE_DIR=str(tmp_path / "advisor"))
    assert result["code"] == 0 and result["catalog_read"] is True
    assert json.loads(str(result["out"]))["model"]["source"] == "catalog"
