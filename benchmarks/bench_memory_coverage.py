"""Coverage of the memory model: every model type of the installed transformers, and the real configs of
fixtures/new-architectures, against transformers' own builds (tests/memory/truth.py, tests/memory/coverage.py).

For each architecture: the parameter bucket (exact / estimate / unknown / no truth, or a failure: wrong-exact,
low, high) with advisor's error in percent, and the cache bucket (per-token keys and values, fixed state, cross-
attention), from the full default config and from the same config written without its defaults. The truth is
built in worker subprocesses (a few minutes on two cores); --cache FILE keeps it between runs.

Run: python benchmarks/bench_memory_coverage.py [--cache FILE] [--workers N] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.memory import coverage, truth  # noqa: E402


def load(cache: Path | None, workers: int) -> dict[str, dict[str, object]]:
    if cache is not None and cache.is_file():
        data: dict[str, dict[str, object]] = json.loads(cache.read_text())
        return data
    start = time.perf_counter()
    found = truth.run_all(coverage.truth_jobs(), workers=workers)
    found.update(truth.run_all(coverage.perturbed_jobs(found), workers=workers))
    print(f"ground truth: {len(found)} builds in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if cache is not None:
        cache.write_text(json.dumps(found))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="a JSON file to keep the ground truth in")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quiet", action="store_true", help="only the totals")
    args = parser.parse_args()
    found = load(args.cache, args.workers)
    full, short = coverage.coverage(found), coverage.coverage(found, abbreviated=True)
    classes = truth.model_types()
    if not args.quiet:
        print(f"{'model type':28} {'class':48} {'parameters':>22} {'cache':>12} {'without defaults':>22}")
        for mt, row in full.items():
            pct = f" {row['params_pct']:+.2f} %" if row.get("params_pct") is not None else ""
            print(f"{mt:28} {classes[mt][:48]:48} {row['params'] + pct:>22} {row['cache']:>12} "
                  f"{short[mt]['params'] + ' / ' + short[mt]['cache']:>22}")
    for name, rows in (("default configs", full), ("written without defaults", short)):
        print(f"{name}: parameters {coverage.counts(rows, 'params')}; cache {coverage.counts(rows, 'cache')}")
    print("real configs (fixtures/new-architectures):")
    for stem, raw in coverage.real_configs().items():
        rec = found.get(f"real:{stem}", {})
        row = coverage.compare(coverage.advisor_answer(coverage.completed(raw)), rec)
        why = coverage.NO_TRUTH_CONFIGS.get(stem, "")
        pct = f"{row['params_pct']:+.2f} %" if row.get("params_pct") is not None else ""
        print(f"  {stem:48} {row['params'] if not why else 'no truth':>10} {pct:>9} {row['cache']:>10}"
              f"{'  (' + why + ')' if why else ''}")
    failures = [mt for rows in (full, short) for mt, row in rows.items()
                if row["params"] in coverage.FAILURES or row["cache"] in coverage.FAILURES]
    print(f"failures: {sorted(set(failures)) or 'none'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
