"""Time `advisor recommend <local config> --gpu A100-80GB --format json` against `python -c pass` and
`transformers env`, as whole processes, and print medians and ratios.

    python benchmarks/bench_recommend.py [--runs 15]

The package is byte-compiled first (as a wheel install would be), so the figure is not the cost of compiling
advisor's own sources on every run (PYTHONDONTWRITEBYTECODE may be set in the environment).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json"


def timed(argv: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "advisor")], env=env, check=True)
    subprocess.run([sys.executable, "-m", "advisor", "recommend", str(CONFIG), "--gpu", "A100-80GB", "--format",
                    "json"], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)  # warm the caches once
    script = Path(sys.executable).parent / "advisor"  # the console script, as users run it
    advisor = [str(script)] if script.exists() else [sys.executable, "-m", "advisor"]
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "advisor recommend --format json": [*advisor, "recommend", str(CONFIG), "--gpu", "A100-80GB", "--format",
                                            "json"],
        "advisor recommend (text)": [*advisor, "recommend", str(CONFIG), "--gpu", "A100-80GB"],
        "python -m advisor recommend --format json": [sys.executable, "-m", "advisor", "recommend", str(CONFIG),
                                                      "--gpu", "A100-80GB", "--format", "json"],
    }
    tf = shutil.which("transformers")
    if tf:
        cases["transformers env"] = [tf, "env"]
    medians = {name: statistics.median(timed(argv, args.runs)) for name, argv in cases.items()}
    base = medians["advisor recommend --format json"]
    print(f"{'command':<34} {'median ms':>10} {'vs recommend':>13}")
    for name, value in medians.items():
        print(f"{name:<34} {value * 1000:>10.1f} {value / base:>12.2f}x")


if __name__ == "__main__":
    main()
