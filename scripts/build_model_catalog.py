"""Build `rules/catalog/models.json` from a folder of real config.json files described by its INDEX.md.

    python scripts/build_model_catalog.py SOURCE_DIR [--date YYYY-MM-DD] [--out rules/catalog/models.json]

INDEX.md holds one table row per file: `| `file` | HF model id | source | model_type / arch | features |
how obtained |`. Each file is keyed by the repo it belongs to (the first word of the id column; a
fine-tune or re-upload is keyed by its own id). Files converted from mlc-llm presets are left out: they
may have lost keys such as `auto_map`. The date defaults to the day INDEX.md was last written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.core.errors import InputError  # noqa: E402
from advisor.facts.model_source import parse_config  # noqa: E402

ROW = re.compile(r"^\|\s*`(?P<file>[^`]+\.json)`\s*\|(?P<id>[^|]+)\|(?P<source>[^|]+)\|"
                 r"[^|]*\|[^|]*\|(?P<how>[^|]+)\|")
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

ALIASES = {
    # the Hub renamed these repos; the old names still resolve there
    "meta-llama/Llama-3.1-8B": "meta-llama/Meta-Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B": "meta-llama/Meta-Llama-3.1-70B",
    "bert-base-uncased": "google-bert/bert-base-uncased",
    "t5-small": "google-t5/t5-small",
    "gpt2-large": "openai-community/gpt2-large",
    "roberta-base": "FacebookAI/roberta-base",
}


def build(source: Path, taken: str) -> dict[str, Any]:
    """The catalog document for every usable row of SOURCE/INDEX.md."""
    models: dict[str, Any] = {}
    for line in (source / "INDEX.md").read_text(encoding="utf-8").splitlines():
        m = ROW.match(line)
        if m is None or "mlc-preset" in m["file"]:
            continue
        repo_id = m["id"].split()[0].strip()
        if not REPO_ID.match(repo_id):
            continue
        path = source / m["file"]
        try:
            config = parse_config(path.read_bytes(), str(path))
        except (OSError, InputError) as exc:
            print(f"skipped {m['file']}: {exc}", file=sys.stderr)
            continue
        key = repo_id.lower()
        if key in models:
            print(f"skipped {m['file']}: {repo_id} already taken from {models[key]['file']}", file=sys.stderr)
            continue
        models[key] = {"id": repo_id, "file": m["file"],
                       "provenance": f"{m['id'].strip()}; {m['source'].strip()}; {m['how'].strip()}",
                       "config": config}
    aliases = {alias.lower(): target.lower() for alias, target in ALIASES.items() if target.lower() in models}
    return {"catalog_version": 1, "taken": taken,
            "note": "config.json files of popular models copied from public sources: a snapshot, not the Hub",
            "models": dict(sorted(models.items())), "aliases": dict(sorted(aliases.items()))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="folder with the config files and INDEX.md")
    ap.add_argument("--date", help="the date the catalog was taken (default: INDEX.md's modification day)")
    ap.add_argument("--out", type=Path, default=ROOT / "rules" / "catalog" / "models.json")
    args = ap.parse_args(argv)
    if not (args.source / "INDEX.md").is_file():
        print(f"{args.source}: no INDEX.md there", file=sys.stderr)
        return 2
    taken = args.date or dt.date.fromtimestamp((args.source / "INDEX.md").stat().st_mtime).isoformat()
    doc = build(args.source, taken)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(doc['models'])} models, {len(doc['aliases'])} aliases, taken {taken} → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
