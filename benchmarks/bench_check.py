"""Time `advisor check --policy` on a matrix of 20 models × 6 GPUs × 3 software profiles (360 checks).

Run: python benchmarks/bench_check.py [--repeat N] [--profile]

Rows: the whole run in a fresh process (imports, rule loading, 20 config reads, 360 checks, JSON out), and
in-process repeats of the matrix alone. Local config files and fixture profiles only: no network, no GPU.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.cli import main  # noqa: E402

GPUS = ["T4", "L4", "A10G", "A100-80GB", "H100", "RTX4090"]
SOFTWARE = ["torch-2.13-cu128-tf-5.23.json", "torch-2.5-cu124-tf-4.46-fa-2.6.3.json",
            "torch-2.7-cu128-tf-4.57-fa-2.8.3.json"]
FLAGS = ['{ attn_implementation = "flash_attention_2", torch_dtype = "bfloat16", device_map = "auto" }',
         '{ attn_implementation = "sdpa", dtype = "float16" }', "{}"]


def write_policy(folder: Path) -> Path:
    configs = sorted((ROOT / "fixtures/configs").glob("*.json"))[:20]
    assert len(configs) == 20, "fixtures/configs holds fewer than 20 configs"
    lines = ["offline = true", f"gpus = {GPUS!r}".replace("'", '"'), ""]
    for i, cfg in enumerate(configs):
        lines += ["[[model]]", f'id = "{cfg.as_posix()}"', f"flags = {FLAGS[i % len(FLAGS)]}", ""]
    for sw in SOFTWARE:
        lines += ["[[software]]", f'profile = "{(ROOT / "fixtures/software" / sw).as_posix()}"', ""]
    path = folder / "advisor.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_once(policy: Path) -> tuple[float, float, int, int]:
    """Wall seconds, CPU seconds (less sensitive to a busy machine), exit code, cases."""
    out, err = io.StringIO(), io.StringIO()
    start, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["check", "--policy", str(policy), "--format", "json"])
    return (time.perf_counter() - start, time.process_time() - cpu, code,
            len(json.loads(out.getvalue())["cases"]))


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the 25 most expensive functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        policy = write_policy(Path(tmp))
        start = time.perf_counter()
        command = [sys.executable, "-m", "advisor", "check", "--policy", str(policy), "--format", "json"]
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
        cold = time.perf_counter() - start
        print(f"fresh process, 20 models × 6 GPUs × 3 software = 360 checks: {cold:.2f} s "
              f"(exit {proc.returncode}; {proc.stderr.strip()})")
        times, cpus = [], []
        for _ in range(args.repeat):
            elapsed, cpu, code, cases = run_once(policy)
            times.append(elapsed)
            cpus.append(cpu)
        print(f"in-process, {cases} cases: wall median {statistics.median(times):.3f} s "
              f"(min {min(times):.3f} s), CPU median {statistics.median(cpus):.3f} s over {args.repeat} runs "
              f"(exit {code}; load average {os.getloadavg()[0]:.1f})")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            run_once(policy)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main_bench()
