"""Time the TUI's start: a fresh process until the first screen is drawn, and until the advice is shown.

Run: python benchmarks/bench_tui_startup.py [--repeat N] [--size 80x24]

Each run is a new Python process that opens the app headless (no terminal) on a fixture config, a catalog
GPU and a software profile, and prints the seconds since its first statement at three points: the app
module imported, the first screen drawn (after the first refresh), and the advice drawn; also the CPU
seconds the process spent until the first screen (steadier than wall time on a busy machine). The parent
adds the whole process, interpreter start and exit included. The table shows median, min and max.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time
T0 = time.perf_counter()
C0 = time.process_time()
import sys
from pathlib import Path
from advisor.tui.app import AdvisorApp
from advisor.tui.session import Inputs
T_IMPORT = time.perf_counter() - T0
W, H = (int(v) for v in sys.argv[1].split("x"))


class Timed(AdvisorApp):
    drawn: float | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._drawn)
        self.set_interval(0.005, self._check)

    def _drawn(self) -> None:
        self.drawn = time.perf_counter() - T0
        self.cpu = time.process_time() - C0

    def _check(self) -> None:
        if self.drawn is not None and not self.computing:
            self.call_after_refresh(self._done)

    def _done(self) -> None:
        print(f"{T_IMPORT:.4f} {self.drawn:.4f} {self.cpu:.4f} {time.perf_counter() - T0:.4f}", flush=True)
        self.exit()


inputs = Inputs(model="fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json", gpu="H100",
                software_file=Path("fixtures/software/tui.json"), with_packages=("flash-attn==2.6.3",))
Timed(inputs).run(headless=True, size=(W, H))
"""


def run_once(size: str) -> tuple[float, ...]:
    """(import, first screen, CPU to first screen, advice shown, whole process) in seconds."""
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD, size], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    total = time.perf_counter() - start
    return (*(float(v) for v in out[-4:]), total)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--size", default="80x24")
    args = ap.parse_args()
    runs = [run_once(args.size) for _ in range(args.repeat)]
    names = ("app module imported", "first screen drawn", "  CPU seconds to first screen", "advice drawn",
             "whole process (interpreter to exit)")
    print(f"TUI startup, {args.repeat} fresh processes, {args.size}, Python {sys.version.split()[0]}")
    print(f"{'seconds from the first statement':<38}{'median':>8}{'min':>8}{'max':>8}")
    for i, name in enumerate(names):
        values = [r[i] for r in runs]
        print(f"{name:<38}{statistics.median(values):>8.3f}{min(values):>8.3f}{max(values):>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
