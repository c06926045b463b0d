"""Every speed figure of advisor, each as a ratio against its yardstick, in one command.

Run: python benchmarks/run_all.py [--runs N] [--quick] [--skip NAME ...]

Figures (issue 19) and their yardsticks:
  recommend   `advisor recommend --format json` against `python -c pass`, `transformers env` and `hf-mem --help`
              (each when installed)
  hub-id      a repo id answered offline from the cache and from the catalog against the same local config
  formats     text against JSON (recommend and check)
  policy      `check --policy` cases per second once configs are read, against the goal of 5,000, and linearity
  lint        `advisor lint` against plain `ast.parse` of the same tree, and files per second against 1,000
  tui         benchmarks/bench_tui.py (the TUI's first screen and redraw against a bare Textual app), when present
  verify      `advisor verify` on Llama-3.1-8B's config against the goal of 25 s and 1 GiB, and against importing
              torch and transformers (the floor of any verification)

Whole processes run in paired, interleaved rounds (benchmarks/paired.py) and medians are compared, so a load spike
on a shared machine shifts both sides of a ratio. --quick uses fewer rounds and a smaller policy matrix.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_formats  # noqa: E402
import bench_hub_id  # noqa: E402
import bench_lint  # noqa: E402
import bench_policy  # noqa: E402
import bench_verify  # noqa: E402
from paired import ROOT, advisor_command, compile_package, interleaved  # noqa: E402

FIGURES = ("recommend", "hub-id", "formats", "policy", "lint", "tui", "verify")
CONFIG = str(ROOT / "fixtures" / "configs" / "meta-llama__Meta-Llama-3.1-8B.json")


def recommend(runs: int) -> list[str]:
    advisor = advisor_command()
    cases = {"advisor recommend --format json": [*advisor, "recommend", CONFIG, "--gpu", "A100-80GB", "--format",
                                                 "json"],
             "python -c pass": [sys.executable, "-c", "pass"]}
    for name, argv in (("transformers env", ["transformers", "env"]), ("hf-mem --help", ["hf-mem", "--help"])):
        found = shutil.which(argv[0]) or (str(Path(sys.executable).parent / argv[0])
                                          if (Path(sys.executable).parent / argv[0]).exists() else None)
        if found:
            cases[name] = [found, *argv[1:]]
    times = interleaved(cases, runs)
    ours = statistics.median(times["advisor recommend --format json"])
    lines = [f"recommend --format json: {ours * 1000:.0f} ms"]
    for name in cases:
        if name != "advisor recommend --format json":
            other = statistics.median(times[name])
            lines.append(f"  {ours / other:.2f}x {name} ({other * 1000:.0f} ms)")
    if "hf-mem --help" not in cases:
        lines.append("  hf-mem is not installed: no comparison with it")
    return lines


def hub_id(runs: int) -> list[str]:
    med = bench_hub_id.measure(runs)
    local = med["local config.json"]
    return [f"repo id from the cache: {med['repo id, from the cache (--offline)'] / local:.2f}x the local config, "
            f"from the catalog: {med['repo id, from the catalog (--offline)'] / local:.2f}x (goal: at most 1.2x)"]


def formats(runs: int) -> list[str]:
    med = bench_formats.measure(runs)
    return [f"text: {med['recommend (text)'] / med['recommend --format json']:.2f}x JSON for recommend, "
            f"{med['check (text)'] / med['check --format json']:.2f}x for check (goal: at most 1.3x)"]


def policy(quick: bool) -> list[str]:
    got = bench_policy.measure(20 if quick else 100, 10 if quick else 29, 1 if quick else 3)
    return [f"check --policy: {got['cases_per_s']:,.0f} cases/s = {got['cases_per_s'] / 5000:.2f}x the goal of "
            f"5,000; half the models take {got['half_fraction']:.2f} of the time (linear: 0.50)"]


def lint(runs: int) -> list[str]:
    got = bench_lint.measure(1000, runs)  # fewer files would mostly time the start of the process
    return [f"lint: {got['vs_parse']:.2f}x plain ast.parse of the same tree (goal: at most 1.0x); "
            f"{got['files_per_s']:,.0f} files/s = {got['files_per_s'] / 1000:.2f}x the goal of 1,000"]


def tui(runs: int) -> list[str]:
    bench = HERE / "bench_tui.py"
    if not bench.exists():
        return ["tui: benchmarks/bench_tui.py is not here yet"]
    proc = subprocess.run([sys.executable, str(bench), "--runs", str(runs)], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0 and "--runs" in proc.stderr:
        proc = subprocess.run([sys.executable, str(bench)], cwd=ROOT, capture_output=True, text=True, check=False)
    return [f"tui (benchmarks/bench_tui.py, exit {proc.returncode}):", *proc.stdout.rstrip().splitlines(),
            *(proc.stderr.strip().splitlines()[-3:] if proc.returncode else [])]


def verify(runs: int) -> list[str]:
    got = bench_verify.measure(runs, bench_verify.CONFIG, "recommended")
    floor = interleaved({"import torch, transformers": [sys.executable, "-c", "import torch, transformers"]},
                        max(1, runs))
    base = statistics.median(floor["import torch, transformers"])
    return [f"verify Llama-3.1-8B: {got['seconds']:.1f} s = {got['seconds'] / 25:.2f}x the goal of 25 s, "
            f"{got['seconds'] / base:.1f}x importing torch and transformers ({base:.1f} s); peak "
            f"{got['peak_mib']:,.0f} MiB = {got['peak_mib'] / 1024:.2f}x the goal of 1 GiB"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="rounds per paired comparison (default 9)")
    parser.add_argument("--quick", action="store_true", help="3 rounds and a smaller policy matrix")
    parser.add_argument("--skip", nargs="*", default=[], choices=FIGURES, help="figures to leave out")
    args = parser.parse_args()
    runs = 3 if args.quick else args.runs
    compile_package()
    report: list[str] = []
    start = time.perf_counter()
    for name in FIGURES:
        if name in args.skip:
            continue
        print(f"\n== {name}", flush=True)
        if name == "recommend":
            report += recommend(runs)
        elif name == "hub-id":
            report += hub_id(runs)
        elif name == "formats":
            report += formats(runs)
        elif name == "policy":
            report += policy(args.quick)
        elif name == "lint":
            report += lint(max(3, runs // 2))
        elif name == "tui":
            lines = tui(runs)
            print("\n".join(lines))
            report += lines
        elif name == "verify":
            report += verify(1)
    print(f"\n== summary ({time.perf_counter() - start:.0f} s)")
    print("\n".join(report))


if __name__ == "__main__":
    main()
