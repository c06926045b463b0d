"""Generate advisor's knowledge tables (`rules/transformers/`) from the released wheels of transformers.

Downloads (with `pip download`, into a wheel cache) the first and the last patch release of every minor line
from 4.36 to the newest that `pip index versions transformers` lists, the yanked releases, and every other patch
of a line whose two ends differ; reads each wheel without importing it (`scripts/knowledge`); and writes one
compact table per distinct release, the index of every published patch, and the cross-release histories.
It also reads optimum's BetterTransformer from the optimum wheels named in `OPTIMUM_RELEASES`.

    python scripts/gen_transformers_table.py [--wheels DIR] [--out DIR] [--since 4.36] [--versions V ...]
                                             [--cache DIR [--refresh SECTION,...]] [--no-bisect]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from knowledge.optimum import OPTIMUM_RELEASES, read_optimum_releases  # noqa: E402
from knowledge.read import SECTIONS  # noqa: E402
from knowledge.tables import write_optimum, write_tables  # noqa: E402
from knowledge.wheels import DEFAULT_SINCE, YANKED, available_versions, first_and_last, read_all  # noqa: E402


def default_wheels() -> Path:
    """The wheel cache: $ADVISOR_WHEELS, else ~/.cache/advisor/wheels (the wheels are about 1 GB)."""
    env = os.environ.get("ADVISOR_WHEELS")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "advisor" / "wheels"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--wheels", type=Path, default=default_wheels(), help="wheel cache directory")
    parser.add_argument("--out", type=Path, default=ROOT / "rules" / "transformers", help="output directory")
    parser.add_argument("--since", default=DEFAULT_SINCE, help="first minor line to read")
    parser.add_argument("--versions", nargs="*", help="read exactly these versions (no index lookup)")
    parser.add_argument("--no-bisect", action="store_true", help="do not read the patches between differing ends")
    parser.add_argument("--plain", action="store_true", help="write plain .json instead of .json.gz")
    parser.add_argument("--cache", type=Path, help="keep (and reuse) every table read, uncompressed, here")
    parser.add_argument(
        "--refresh", default="", help=f"comma-separated sections to re-read in cached tables: {','.join(SECTIONS)}"
    )
    args = parser.parse_args(argv)
    if args.versions:
        available = list(args.versions)
        wanted = sorted(args.versions, key=Version)
    else:
        listed = [v for v in available_versions() if Version(v) >= Version(args.since)]
        available = sorted(set(listed) | set(YANKED), key=Version)
        # first and last of what the index lists (yanked releases are read on top of them)
        wanted = sorted(set(first_and_last(listed, args.since)) | set(YANKED), key=Version)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    refresh = [r for r in args.refresh.split(",") if r]
    unknown = sorted(set(refresh) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {unknown}")
    tables = read_all(
        wanted, args.wheels, available, bisect=not args.no_bisect, log=log, cache=args.cache, refresh=refresh
    )
    result = write_tables(tables, args.out, available, compress=not args.plain)
    optimum = write_optimum(read_optimum_releases(OPTIMUM_RELEASES, args.wheels, log=log), args.out)
    total = result["total"] + optimum
    log(f"wrote {args.out}: {len(tables)} releases read, {result['files'] + 1} files, {total} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
