"""The hostile-config property at scale: many mutated configs of every family through gather → recommend → check
→ every output format, counting answers, input errors and bugs (any other exception), with the place each bug
was raised.

Run: python benchmarks/hostile_fuzz.py [--examples 5000] [--seed 15]
The CI test (tests/hostile/test_property.py) runs the same property with 150 examples and a fixed seed; this
keeps going past a failure and prints every distinct bug site, then exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import seed as hseed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.hostile.fuzzing import BASES, TARGETS, mutated_configs, run_one  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="advisor-fuzz-"))
    outcomes: Counter[str] = Counter()
    bugs: dict[tuple[str, str, int], str] = {}

    @hseed(args.seed)
    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=mutated_configs(), gpu=st.sampled_from(TARGETS))
    def property_(case: tuple[str, dict[str, Any]], gpu: str) -> None:
        name, config = case
        try:
            outcomes[run_one(config, gpu, folder)] += 1
        except Exception as exc:  # a bug: recorded, the run goes on
            outcomes["bug"] += 1
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            site = (type(exc).__name__, frame.filename.split("/advisor/")[-1], frame.lineno or 0)
            bugs.setdefault(site, f"{name} on {gpu}: {str(exc)[:160]}")

    start = time.perf_counter()
    property_()
    wall = time.perf_counter() - start
    total = sum(outcomes.values())
    print(f"{total} examples over {len(BASES)} base configs in {wall:.1f} s ({total / wall:.0f}/s), seed {args.seed}: "
          f"{outcomes['ok']} answered, {outcomes['input error']} input errors, {outcomes['bug']} bugs")
    for (kind, where, line), example in sorted(bugs.items()):
        print(f"  {kind} at {where}:{line}  e.g. {example}")
    return 1 if bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
