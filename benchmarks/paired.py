"""Paired, interleaved timing of whole processes: the shared helper of the benchmarks that report ratios.

On a busy machine a load spike shifts every command run at that moment; running the commands of a comparison
in turn, round after round, and comparing medians keeps such spikes from landing on one side only.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def compile_package() -> None:
    """Byte-compile advisor (as a wheel install would), so no run pays for compiling its sources."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "advisor")], env=env, check=True)


def advisor_command() -> list[str]:
    """The console script, as users run it; `python -m advisor` where it is not installed."""
    script = Path(sys.executable).parent / "advisor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "advisor"]


def interleaved(cases: Mapping[str, Sequence[str]], runs: int, *, env: Mapping[str, str] | None = None,
                warm: bool = True) -> dict[str, list[float]]:
    """Wall seconds of each command, RUNS times each, the commands taking turns within every round.

    ENV overlays the environment; a name given as "" is removed. With WARM, each command runs once untimed
    first (disk caches, advisor's parse cache).
    """
    full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k != "PYTHONDONTWRITEBYTECODE" and v}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(runs + (1 if warm else 0)):
        for name, argv in cases.items():
            start = time.perf_counter()
            subprocess.run(list(argv), cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
            if round_ or not warm:
                times[name].append(time.perf_counter() - start)
    return times


def median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000


def ratio_table(title: str, times: Mapping[str, Sequence[float]], base: str) -> str:
    """Medians and each command's ratio to BASE, one line each."""
    lines = [title, f"  {'command':<52} {'median ms':>10} {'vs ' + base[:20]:>24}"]
    b = statistics.median(times[base])
    for name, values in times.items():
        m = statistics.median(values)
        lines.append(f"  {name:<52} {m * 1000:>10.1f} {m / b:>23.2f}x")
    return "\n".join(lines)


def runs_main(doc: str | None, measure: Callable[[int], object], runs: int = 15) -> None:
    """The command line of a benchmark whose one option is `--runs` (DOC's first line describes it)."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    parser.add_argument("--runs", type=int, default=runs)
    measure(parser.parse_args().runs)
