"""Time `advisor check --policy` on a large matrix and report cases per second once the configs are read.

The matrix: N models (copies of the bundled catalog's configs, one in ten without `model_type` and
`architectures`) × the GPU catalog × the fixture software profiles.

Run: python benchmarks/bench_policy.py [--models 100] [--gpus 29] [--repeat 3] [--profile]

Times are CPU seconds of `check_report` (as the CLI calls it, JSON rendering left out) in a fresh process per run,
so nothing is remembered from an earlier run (a shared machine's load stretches wall time, not CPU time). Cases
per second is the slope between the full matrix and the same models on one target (the same config reads,
the same per-model work, 1/targets of the cases): (cases_full - cases_one) / (seconds_full - seconds_one).
Linearity: the full matrix on half the models takes about half the time. Local files and fixture profiles
only: no network, no GPU.

Goal (issue 19): at least 5,000 cases per second, linear in cases.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from advisor.ci.run import check_report  # noqa: E402
from advisor.facts.gpu_catalog import load_catalog  # noqa: E402
from advisor.facts.model_catalog import catalog  # noqa: E402

SOFTWARE = ["torch-2.13-cu128-tf-5.23.json", "torch-2.5-cu124-tf-4.46-fa-2.6.3.json",
            "torch-2.7-cu128-tf-4.57-fa-2.8.3.json", "cuda-tf5.23.json"]
FLAGS = ['{ attn_implementation = "flash_attention_2", torch_dtype = "bfloat16", device_map = "auto" }',
         '{ attn_implementation = "sdpa", dtype = "float16" }', "{}"]


def write_configs(folder: Path, n: int) -> list[Path]:
    """N catalog configs as local files, most used first. Every tenth whose type every software target knows
    loses `model_type` and `architectures`, so its type is matched against its file name (which holds the
    type), as transformers' AutoConfig does."""
    from packaging.version import Version

    from advisor.facts.transformers_support import native_model_types

    oldest = native_model_types(Version("4.46.0"), None).value or frozenset()
    entries = list(catalog().entries.values())
    out = []
    for i in range(n):
        entry = entries[i % len(entries)]
        config = dict(entry.config)
        kind = str(config.get("model_type", ""))
        if i % 10 == 9 and kind in oldest and any(k in config for k in ("hidden_size", "num_hidden_layers",
                                                                        "num_attention_heads", "d_model")):
            config.pop("model_type", None)
            config.pop("architectures", None)
        path = folder / f"{i:03d}-{kind}-{entry.id.replace('/', '__')}.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        out.append(path)
    return out


def write_policy(folder: Path, name: str, configs: list[Path], gpus: list[str], software: list[str]) -> Path:
    lines = ["offline = true", f"gpus = {json.dumps(gpus)}", ""]
    for i, cfg in enumerate(configs):
        lines += ["[[model]]", f'id = "{cfg.as_posix()}"', f"flags = {FLAGS[i % len(FLAGS)]}", ""]
    for sw in software:
        lines += ["[[software]]", f'profile = "{(ROOT / "fixtures/software" / sw).as_posix()}"', ""]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from advisor.ci.run import check_report
start = time.process_time()
report = check_report(policy_file=Path(sys.argv[1]), max_cases=1_000_000)
print(time.process_time() - start, len(report.cases))
"""


def run_once(policy: Path) -> tuple[float, int]:
    """CPU seconds of `check_report` in a fresh process (steadier than wall time on a shared machine; nothing
    remembered from an earlier run), and its cases. Imports are left out; what every run reads once (rule
    pack, tables) is in both the full and the one-target run, so the slope leaves it out too."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(policy), str(ROOT)], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1])


def run_here(policy: Path) -> None:
    """One run in this process (for --profile)."""
    check_report(policy_file=policy, max_cases=1_000_000)


def measure(models: int, gpus: int, repeat: int, profile: bool | str = False) -> dict[str, float]:
    """Cases per second once configs are read, and the half-models time as a fraction of the full one."""
    names = [g.name for g in load_catalog()][:gpus]
    with tempfile.TemporaryDirectory(prefix="bench-policy-") as tmp:
        folder = Path(tmp)
        configs = write_configs(folder, models)
        full = write_policy(folder, "full", configs, names, SOFTWARE)
        half = write_policy(folder, "half", configs[: models // 2], names, SOFTWARE)
        one = write_policy(folder, "one", configs, names[:1], SOFTWARE[:1])
        run_once(one)  # warm the disk caches (parsed rule pack, transformers tables, config-class defaults)
        rounds: dict[str, list[float]] = {"full": [], "half": [], "one": []}
        counts: dict[str, int] = {}
        for _ in range(repeat):
            for name, policy in (("full", full), ("half", half), ("one", one)):
                seconds, counts[name] = run_once(policy)
                rounds[name].append(seconds)
        if profile:
            run_here(one)  # what every run reads once
            prof = cProfile.Profile()
            prof.enable()
            run_here(half)
            prof.disable()
            sort = "cumulative" if profile == "cumulative" else "tottime"
            pstats.Stats(prof).sort_stats(sort).print_stats(40)
    med = {name: statistics.median(v) for name, v in rounds.items()}
    rate = (counts["full"] - counts["one"]) / max(med["full"] - med["one"], 1e-9)
    linear = (med["half"] - med["one"] / 2) / max(med["full"] - med["one"], 1e-9)
    print(f"check --policy, {models} models × {len(names)} GPUs × {len(SOFTWARE)} software = {counts['full']} cases:")
    for name in ("full", "half", "one"):
        print(f"  {name:<5} {counts[name]:>6} cases  median {med[name]:8.3f} CPU s")
    print(f"  {rate:,.0f} cases/s once configs are read (goal: at least 5,000); half the models take "
          f"{linear:.2f} of the full matrix's time beyond the reads (linear: 0.50)")
    return {"cases_per_s": rate, "half_fraction": linear, **{f"{k}_s": v for k, v in med.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--gpus", type=int, default=29)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", nargs="?", const="tottime", default=None, choices=("tottime", "cumulative"),
                        help="print the 40 most expensive functions (by own time, or cumulative)")
    args = parser.parse_args()
    measure(args.models, args.gpus, args.repeat, args.profile)


if __name__ == "__main__":
    main()
