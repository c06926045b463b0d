"""Time `advisor recommend` and `advisor check` in text format against the same command in JSON, in paired,
interleaved runs of whole processes.

Run: python benchmarks/bench_formats.py [--runs N]

Goal (issue 19): the text format costs at most 1.3x JSON.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import ROOT, advisor_command, compile_package, interleaved, ratio_table, runs_main

CONFIG = str(ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json")
FLAGS = '{"attn_implementation": "flash_attention_2", "dtype": "float16"}'


def measure(runs: int) -> dict[str, float]:
    """Median seconds of each command; the ratios text/JSON are the figures."""
    compile_package()
    advisor = advisor_command()
    recommend = [*advisor, "recommend", CONFIG, "--gpu", "T4"]
    check = [*advisor, "check", CONFIG, "--gpu", "T4", "--flags", FLAGS]
    cases = {"recommend --format json": [*recommend, "--format", "json"],
             "recommend (text)": recommend,
             "check --format json": [*check, "--format", "json"],
             "check (text)": check}
    times = interleaved(cases, runs, env={"COLUMNS": "100"})
    print(ratio_table("text vs JSON (goal: at most 1.3x)", times, "recommend --format json"))
    medians = {name: statistics.median(v) for name, v in times.items()}
    print(f"  recommend text/json {medians['recommend (text)'] / medians['recommend --format json']:.2f}x, "
          f"check text/json {medians['check (text)'] / medians['check --format json']:.2f}x")
    return medians


def main() -> None:
    runs_main(__doc__, measure)


if __name__ == "__main__":
    main()
