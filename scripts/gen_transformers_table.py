"""Generate rules/transformers_support.json from released transformers wheels.

Downloads each wheel with `pip download --no-deps`, unpacks the `transformers/` package, reads it with
the static scanner, and writes one change-point table: a row per model type and per auto-mapped class,
holding a value only at the versions where it changes.

    python scripts/gen_transformers_table.py [--wheels DIR] [--check-csv FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.facts.transformers_scan import TransformersTree  # noqa: E402

VERSIONS = (
    *("4.36.0", "4.37.0", "4.40.0", "4.43.0", "4.45.0", "4.46.0", "4.48.0", "4.50.0", "4.51.0"),
    *("4.53.0", "4.55.0", "4.56.0", "4.57.6", "5.0.0", "5.10.4", "5.23.0"),
)


def fetch(version: str, wheels: Path) -> Path:
    """The wheel for `version` in `wheels`, downloaded when missing."""
    found = sorted(wheels.glob(f"transformers-{version}-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                f"transformers=={version}",
                "-d",
                str(wheels),
            ],
            check=True,
        )
        found = sorted(wheels.glob(f"transformers-{version}-*.whl"))
    return found[0]


def unpack(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(into, [n for n in zf.namelist() if n.startswith("transformers/") and n.endswith(".py")])
    return into


def scan(root: Path) -> dict[str, Any]:
    """One version: model type → "auto class" (or ""), class → "flags [auto class]", compatible lists."""
    tree = TransformersTree(root)
    era = tree.era()
    mappings = tree.auto_mappings()
    class_auto = mappings.class_auto()
    defaults = mappings.type_default()
    hint: dict[str, str] = {}
    for group in (*mappings.by_auto.values(), *mappings.other.values()):
        for model_type, classes in group.items():
            for c in classes:
                hint.setdefault(c, model_type)
    types = {t: " ".join(defaults[t]) if t in defaults else "" for t in sorted(tree.native_model_types())}
    classes: dict[str, str] = {}
    compatible: dict[str, list[str]] = {}
    missing: list[str] = []
    unresolved: dict[str, tuple[str, ...]] = {}
    for name in sorted(mappings.all_classes()):
        found = tree.class_flags(name, hint.get(name))
        if found is None:
            missing.append(name)
            continue
        if found.unresolved:
            unresolved[name] = found.unresolved
        flags = found.effective(era)
        classes[name] = f"{flags.code} {class_auto[name]}" if name in class_auto else flags.code
        if flags.compatible_flash:
            compatible[name] = list(flags.compatible_flash)
    return {
        "types": types,
        "classes": classes,
        "compatible": compatible,
        "missing": missing,
        "unresolved": unresolved,
    }


def change_points(per_version: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`{row: {version: value}}` → keep a version only where the row's value changes (None = absent)."""
    rows: dict[str, dict[str, Any]] = {}
    names = sorted({n for values in per_version.values() for n in values})
    for name in names:
        row: dict[str, Any] = {}
        last: Any = None
        for version, values in per_version.items():
            value = values.get(name)
            if value != last:
                row[version] = value
                last = value
        rows[name] = row
    return rows


def cross_check(csv_path: Path, scanned: dict[str, dict[str, Any]]) -> None:
    """Compare class flags with the knowledge table (its FA column is `_supports_flash_attn` from 4.56)."""
    with csv_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for column in [c for c in rows[0] if c.startswith("v")]:
        version = column[1:]
        if version not in scanned:
            continue
        ours = {k: v.split(" ")[0] for k, v in scanned[version]["classes"].items()}
        theirs = {r["class"]: r[column] for r in rows if r[column]}
        same = sum(1 for k, v in theirs.items() if ours.get(k) == v)
        differ = [(k, v, ours.get(k)) for k, v in theirs.items() if ours.get(k) != v]
        extra = sorted(set(ours) - set(theirs))
        print(f"{version}: {same}/{len(theirs)} agree; ours only: {len(extra)} {extra[:5]}; differ: {differ}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheels", type=Path, help="directory of (or for) downloaded wheels")
    parser.add_argument("--out", type=Path, default=ROOT / "rules" / "transformers_support.json")
    parser.add_argument("--check-csv", type=Path, help="a per-class flag table to compare with")
    args = parser.parse_args()
    scanned: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="tf-wheels-") as tmp:
        wheels = args.wheels or Path(tmp) / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        for version in sorted(VERSIONS, key=Version):
            start = time.perf_counter()
            root = unpack(fetch(version, wheels), Path(tmp) / version)
            scanned[version] = scan(root)
            s = scanned[version]
            print(
                f"{version}: {len(s['types'])} model types, {len(s['classes'])} classes, "
                f"missing {s['missing']}, unresolved {len(s['unresolved'])} "
                f"({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
            )
            for name, what in s["unresolved"].items():
                print(f"  unresolved in {name}: {', '.join(what)}", file=sys.stderr)
    table = {
        "format": 1,
        "about": "Attention flags of transformers' auto-mapped classes by release; generated by "
        "scripts/gen_transformers_table.py. Rows hold a value at each version where it changes "
        "(null = absent). model_types: 'AutoClass ModelClass' chosen when architectures don't decide "
        "('' = native, no loader). classes: flags (S sdpa, 2 FA2, 3 FA3, X flex, - none) and the "
        "auto class that loads the class.",
        "versions": sorted(scanned, key=Version),
        "model_types": change_points({v: s["types"] for v, s in scanned.items()}),
        "classes": change_points({v: s["classes"] for v, s in scanned.items()}),
        "compatible_flash": {
            k: v for k, v in change_points({v: s["compatible"] for v, s in scanned.items()}).items()
        },
    }
    text = json.dumps(table, indent=0, separators=(",", ":"), sort_keys=False)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(text) / 1024:.0f} KiB)", file=sys.stderr)
    if args.check_csv:
        cross_check(args.check_csv, scanned)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
