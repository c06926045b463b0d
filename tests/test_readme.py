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


def test_the_sample_outputs_are_the_tools_real_output() -> None:
    """Every ```console block runs its `$ advisor ...` command here and shows exactly what it prints."""
    import os

    blocks = re.findall(r"```console\n\$ (advisor [^\n]+)\n(.*?)```", README, re.S)
    assert blocks, "the README shows no sample output"
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")} | {"COLUMNS": "100"}
    for command, shown in blocks:
        argv = shlex.split(command)
        proc = subprocess.run([sys.executable, "-m", "advisor", *argv[1:]], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)
        assert proc.stdout == shown, f"README sample of `{command}` is out of date:\n{proc.stdout}"


def test_the_python_example_passes_rec_flags_to_the_real_from_pretrained(tmp_path: Path) -> None:
    """`from_pretrained(..., **rec.flags)` works as the README writes it, on a tiny model of this machine."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    from advisor.api import Request, Target, gather, recommend

    cfg = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=2, vocab_size=256, dtype="float32")
    LlamaForCausalLM(cfg).save_pretrained(tmp_path)
    rec = recommend(gather(str(tmp_path), target=Target(gpu="none"), request=Request(dtype="float32")))
    model = AutoModelForCausalLM.from_pretrained(tmp_path, **rec.flags)
    assert model.dtype == torch.float32 and model.config._attn_implementation == rec.flags["attn_implementation"]
    big = ROOT / "fixtures" / "configs" / "meta-llama__Llama-3.3-70B-Instruct.json"
    gpu = recommend(gather(str(big), target=Target(gpu="H100x4", software_file=ROOT / "fixtures/software/"
                                                   "cuda-tf5.23.json")))
    assert gpu.flags["device_map"] == "auto"  # spread over the GPUs: accelerate takes them by int index
    assert set(gpu.flags["max_memory"]) == {0, 1, 2, 3}
    assert set(gpu.json_flags()["max_memory"]) == {"0", "1", "2", "3"}
