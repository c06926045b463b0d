"""Time `advisor verify` on Llama-3.1-8B's config on this CPU, with the peak memory of its processes, and print
what the verification concluded (each candidate's outcome against the rules' prediction).

Run: python benchmarks/bench_verify.py [--runs N] [--config PATH] [--candidates recommended|attn|dtype|all]

Goal (issue 19): at most 25 s and 1 GiB for Llama-3.1-8B, agreement with the rules unchanged. The peak memory is
the largest resident set of the advisor process and its workers (getrusage of the waited-for children).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import ROOT, advisor_command, compile_package

CONFIG = ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json"
CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(proc.stderr)
print(f"{wall} {peak_kib} {proc.returncode}")
print(proc.stdout)
"""


def run_once(argv: list[str]) -> tuple[float, float, int, dict[str, Any] | None]:
    """Wall seconds, peak MiB, exit code and the JSON answer of one verify run, in a fresh parent process (so
    the peak is this run's alone)."""
    out = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, cwd=ROOT,
                         check=False)
    first, _, rest = out.stdout.partition("\n")
    wall, peak, code = first.split()
    try:
        answer = json.loads(rest)
    except ValueError:
        answer = None
    return float(wall), int(peak) / 1024, int(code), answer


def summary(answer: dict[str, Any] | None) -> list[str]:
    """One line per candidate (prediction, outcome, agreement), the agreement and the stand-in that was built."""
    if answer is None:
        return ["(no JSON answer)"]
    lines = []
    for r in answer.get("results", []):
        o = r.get("outcome") or {}
        lines.append(f"{json.dumps(r['candidate'], sort_keys=True)}: predicted {r['prediction']['verdict']}, "
                     f"loaded {o.get('loaded')} ran {o.get('ran')} generated {o.get('generated')} "
                     f"rel_error {o.get('rel_error')}; agrees {r.get('agrees')}")
    built = answer.get("built", {})
    lines.append(f"agreement {answer.get('agreement')}; stand-in {built.get('class')} with "
                 f"{built.get('parameters')} parameters, shape {built.get('shape')}")
    return lines


def measure(runs: int, config: Path, candidates: str) -> dict[str, float]:
    compile_package()
    argv = [*advisor_command(), "verify", str(config), "--format", "json", "--quiet", "--candidates", candidates]
    walls, peaks = [], []
    answer = None
    for _ in range(runs):
        wall, peak, code, answer = run_once(argv)
        walls.append(wall)
        peaks.append(peak)
    print(f"verify {config.name} ({candidates}): median {statistics.median(walls):.1f} s, peak "
          f"{max(peaks):,.0f} MiB over {runs} run(s), exit {code} (goal: at most 25 s and 1 GiB)")
    for line in summary(answer):
        print(f"  {line}")
    return {"seconds": statistics.median(walls), "peak_mib": max(peaks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--candidates", default="recommended")
    args = parser.parse_args()
    start = time.perf_counter()
    measure(args.runs, args.config, args.candidates)
    print(f"  ({time.perf_counter() - start:.0f} s in all)")


if __name__ == "__main__":
    main()
