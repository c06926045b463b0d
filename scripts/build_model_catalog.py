"""Build `rules/catalog/models.json`, the bundled catalog of well-known models' config.json.

    python scripts/build_model_catalog.py dir SOURCE [--date YYYY-MM-DD] [--out FILE]
    python scripts/build_model_catalog.py cache [--cache-dir DIR] [--list FILE] [--date ...] [--out FILE]
    python scripts/build_model_catalog.py hub [--list FILE] [--date ...] [--out FILE]

`dir`: SOURCE/PROVENANCE.json lists the models, one record each (`id`, `file`, `rank`, `kind`,
`source_repo`, `source_path`, `source_commit`, `verbatim`, `note`); SOURCE/configs/FILE is the config.json.
The date defaults to the day PROVENANCE.json was last written.

`cache`: each listed model's config.json at `main` in a local Hugging Face cache (--cache-dir, else
HF_HUB_CACHE or HF_HOME/hub), found by huggingface_hub as any offline load finds it. `hub`: the same from
the Hub (HF_ENDPOINT, HF_TOKEN) at the commit `main` resolves to, with its safetensors metadata. For both,
the models (id, rank, kind) are those of --list (records as in PROVENANCE.json) or of the catalog at
--out; a model the cache or the Hub cannot give keeps its entry from the catalog at --out, and is named.
The date defaults to today.

What goes in, each refusal printed with its reason:
- the config must describe a model that advisor reads (`model_facts` accepts it);
- configs rebuilt from mlc-llm's presets (`source_repo` mlc-ai/mlc-llm) are kept, marked reconstructed,
  only for an architecture transformers has natively: MLC copies the Hub file into a Python dict and can
  drop keys such as `auto_map`, which the remote-code advice reads; a native architecture needs none, and
  its meta-device build checks that every size the model needs is there. `EXCLUDED` names the entries
  left out for what their source's note records;
- the parameter count is a meta-device build with the installed transformers (`catalog_counts.py`); for
  an architecture it cannot build, the sum of the Hub's safetensors metadata when read (`hub`), else
  none, with the reason.

Entries are written in rank order (1 = most used), renumbered from 1, one minified entry per line.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog_counts import KINDS, count, native, transformers_version  # noqa: E402

from advisor.core.errors import AdvisorError, InputError  # noqa: E402
from advisor.facts.hub import load_from_hub  # noqa: E402
from advisor.facts.model import model_facts  # noqa: E402
from advisor.facts.model_source import ModelSource, parse_config  # noqa: E402

OUT = ROOT / "rules" / "catalog" / "models.json"
VERSION = 2
MLC = "mlc-ai/mlc-llm"
ALIASES = {
    # The Hub moved the first, un-namespaced model repos into organisations (and still redirects the old
    # names); people and old scripts use the short names.
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "distilgpt2": "distilbert/distilgpt2",
    "bert-base-uncased": "google-bert/bert-base-uncased",
    "bert-base-multilingual-cased": "google-bert/bert-base-multilingual-cased",
    "distilbert-base-uncased-distilled-squad": "distilbert/distilbert-base-uncased-distilled-squad",
    "t5-small": "google-t5/t5-small",
    "t5-base": "google-t5/t5-base",
    "t5-large": "google-t5/t5-large",
    # Meta renamed the Llama 3.1 repos from Meta-Llama-3.1-* to Llama-3.1-*; the catalog holds one of each.
    "meta-llama/llama-3.1-8b": "meta-llama/meta-llama-3.1-8b",
    "meta-llama/llama-3.1-70b": "meta-llama/meta-llama-3.1-70b",
    "meta-llama/llama-3.1-405b": "meta-llama/meta-llama-3.1-405b",
    "meta-llama/meta-llama-3.1-8b-instruct": "meta-llama/llama-3.1-8b-instruct",
    "meta-llama/meta-llama-3.1-70b-instruct": "meta-llama/llama-3.1-70b-instruct",
}
EXCLUDED = {
    "deepseek-ai/deepseek-v2-lite": "rebuilt from an mlc-llm preset; its source note records that the published "
                                    "config.json also carries auto_map and aux-loss keys the preset lacks",
    "meta-llama/llama-2-7b-chat-hf": "the copy found carries an auto_map to a modeling_llama.py that its source "
                                     "note calls a likely local addition of the repo it was found in; the "
                                     "remote-code advice would follow it",
}
NOTE = ("config.json files of well-known models, each from a real published copy (provenance per entry): a "
        "snapshot, not the Hub")
RANK_BASIS = ("rank: an estimate of how widely used each model is (Hugging Face download leaderboards as known "
              "up to 2025; 2026 releases by prominence), not a measurement")


@dataclass
class Found:
    """One model's config and where it came from, before counting."""

    id: str
    rank: float
    kind: str
    config: dict[str, Any]
    provenance: str
    verbatim: bool
    origin: str = ""
    """The source repo of a `dir` record (`mlc-ai/mlc-llm` triggers the MLC policy)."""
    safetensors: dict[str, int] | None = None
    commit: str | None = None


# --- sources ---------------------------------------------------------------------------------------------

def from_dir(source: Path) -> Iterator[Found]:
    """The records of SOURCE/PROVENANCE.json with their config files."""
    listing = source / "PROVENANCE.json"
    try:
        records = json.loads(listing.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{listing}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(f"{listing}: not valid JSON ({exc})") from None
    for r in _records(records, listing, required=("file", "rank", "kind")):
        path = source / "configs" / str(r["file"])
        try:
            config = parse_config(path.read_bytes(), str(path))
        except OSError as exc:
            print(f"skipped {r['id']}: {path}: cannot read it ({exc.strerror})", file=sys.stderr)
            continue
        except InputError as exc:
            print(f"skipped {r['id']}: {exc}", file=sys.stderr)
            continue
        yield Found(r["id"], float(r["rank"]), r["kind"], config, describe(r), bool(r.get("verbatim")),
                    str(r.get("source_repo", "")))


def _records(records: object, where: Path, required: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """RECORDS checked (an `id` each, and REQUIRED keys; a known kind, a numeric rank), in rank order."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError(f"{where}: expected a JSON list of records")
    for i, r in enumerate(records):
        if not isinstance(r.get("id"), str) or not r["id"].strip():
            raise InputError(f"{where}: record {i} has no `id`")
        missing = [k for k in required if k not in r]
        if missing:
            raise InputError(f"{where}: {r['id']}: the record has no {', '.join(missing)}")
        if "kind" in r and r["kind"] not in KINDS:
            raise InputError(f"{where}: {r['id']}: kind {r['kind']!r} is not one of {', '.join(KINDS)}")
        if "rank" in r and (not isinstance(r["rank"], int | float) or isinstance(r["rank"], bool)):
            raise InputError(f"{where}: {r['id']}: rank must be a number")
    return sorted(records, key=lambda r: r.get("rank", float("inf")))


def describe(r: dict[str, Any]) -> str:
    """A record's provenance in one line: where the file was found, at which commit, and how."""
    repo, path, commit = r.get("source_repo") or "", r.get("source_path") or "", r.get("source_commit") or ""
    where = f"GitHub {repo} `{path}`" + (f" @ {commit[:12]}" if commit else "")
    if repo.startswith("huggingface.co"):
        where = f"{repo}: {path}" + (f" (revision {commit[:12]})" if commit else "")
    # a note may name the research machine's own copy of a file (`taken from /work/...`): not a source
    parts = [p for p in str(r.get("note") or "").strip().split("; ") if p and not p.startswith("taken from /")]
    return "; ".join([where, *parts])


def from_hub(listing: list[dict[str, Any]], base: dict[str, dict[str, Any]], *, offline: bool,
             cache_dir: str | None) -> Iterator[Found | dict[str, Any]]:
    """Each listed model from the cache (OFFLINE) or the Hub; its base entry when neither has it."""
    endpoint = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    for r in listing:
        old = base.get(r["id"].lower())
        kind = r.get("kind") or (old or {}).get("kind")
        rank = r.get("rank", (old or {}).get("rank"))
        if kind not in KINDS or rank is None:
            raise InputError(f"{r['id']}: not in the catalog yet: its list record needs `kind` and `rank`")
        try:
            with _hub_cache(cache_dir):
                ms = load_from_hub(r["id"], offline=offline)
        except AdvisorError as exc:
            if old is None:
                print(f"skipped {r['id']}: {exc}", file=sys.stderr)
            else:
                print(f"kept {r['id']} from the catalog: {exc}", file=sys.stderr)
                yield old | {"rank": rank}
            continue
        if ms.source == "hub":
            provenance = f"{endpoint.removeprefix('https://')}: {ms.id} at main, commit {ms.commit} (huggingface_hub)"
        else:  # offline, or the Hub did not answer and huggingface_hub found it in the cache
            provenance = (f"a local Hugging Face cache: {ms.id} at main, commit {ms.commit}; config.json as the Hub "
                          "served it (huggingface_hub)")
        yield Found(r["id"], float(rank), kind, ms.config, provenance, True, "hub",
                    safetensors=ms.parameters, commit=ms.commit)


@contextlib.contextmanager
def _hub_cache(folder: str | None) -> Iterator[None]:
    """HF_HUB_CACHE set to FOLDER while advisor reads the Hub (it reads the variable at call time)."""
    saved = os.environ.get("HF_HUB_CACHE")
    if folder is not None:
        os.environ["HF_HUB_CACHE"] = folder
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("HF_HUB_CACHE", None)
        else:
            os.environ["HF_HUB_CACHE"] = saved


# --- the catalog -----------------------------------------------------------------------------------------

def refusal(found: Found) -> str | None:
    """Why FOUND stays out of the catalog (None: it goes in)."""
    key = found.id.lower()
    if key in EXCLUDED:
        return EXCLUDED[key]
    try:
        model_facts(ModelSource(id=found.id, config=found.config, source="catalog"))
    except InputError as exc:
        return f"advisor cannot read it: {exc}"
    model_type = found.config.get("model_type")
    if found.origin == MLC and not native(model_type):
        return (f"rebuilt from an mlc-llm preset, and transformers {transformers_version()} has no native "
                f"{model_type!r}: MLC can drop auto_map, which the remote-code advice reads")
    return None


def entry(found: Found) -> dict[str, Any]:
    """The catalog entry for FOUND, with its parameter count."""
    counted = count(found.config, found.kind)
    parameters, source, note = counted.parameters, counted.method, counted.note
    if parameters is None and found.safetensors:
        parameters = sum(found.safetensors.values())
        why = source.removeprefix("not counted: ")
        note = "; ".join(n for n in (f"not built on the meta device: {why}", note) if n)
        source = (f"safetensors metadata at commit {found.commit} (as stored: quantized weights count as "
                  f"their packed tensors)")
    out: dict[str, Any] = {"rank": found.rank, "id": found.id, "kind": found.kind, "parameters": parameters,
                           "parameters_source": source}
    if note:
        out["parameters_note"] = note
    out |= {"verbatim": found.verbatim, "provenance": found.provenance, "config": found.config}
    return out


def assemble(items: Iterator[Found | dict[str, Any]], taken: str) -> dict[str, Any]:
    """The catalog document: usable items in rank order, renumbered, with the aliases that resolve."""
    models: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, Found):
            key = item.id.lower()
            why = f"{item.id} is already in from a better-ranked record" if key in models else refusal(item)
            if why is not None:
                print(f"skipped {item.id}: {why}", file=sys.stderr)
                continue
            models[key] = entry(item)
        else:
            models.setdefault(item["id"].lower(), item)
    ordered = sorted(models.values(), key=lambda e: e["rank"])
    for i, e in enumerate(ordered, start=1):
        e["rank"] = i
    aliases = {alias: target for alias, target in sorted(ALIASES.items()) if target in models}
    return {"catalog_version": VERSION, "taken": taken, "note": NOTE, "rank_basis": RANK_BASIS,
            "counted_with": f"transformers {transformers_version()}", "models": ordered, "aliases": aliases}


def dumps(doc: dict[str, Any]) -> str:
    """Compact JSON with one entry per line (small, and a refresh diffs by model)."""
    head = {k: v for k, v in doc.items() if k not in ("models", "aliases")}
    lines = ["{" + ",".join(f"{json.dumps(k)}:{json.dumps(v, ensure_ascii=False)}" for k, v in head.items())
             + ',"models":[']
    lines += [json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "," for e in doc["models"]]
    if doc["models"]:
        lines[-1] = lines[-1][:-1]
    lines.append('],"aliases":' + json.dumps(doc["aliases"], separators=(",", ":")) + "}")
    return "\n".join(lines) + "\n"


def read_catalog(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of the catalog at PATH by lower-case id (empty when there is none yet)."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the catalog ({exc})") from None
    if doc.get("catalog_version") != VERSION:
        raise InputError(f"{path}: catalog_version {doc.get('catalog_version')!r}, this script writes {VERSION}")
    return {e["id"].lower(): e for e in doc["models"]}


def write(path: Path, text: str) -> None:
    """Write TEXT to PATH whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".models-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _date(text: str) -> None:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date {text!r}: expected YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="source", required=True)
    d = sub.add_parser("dir", help="a folder of configs with PROVENANCE.json")
    d.add_argument("path", type=Path)
    c = sub.add_parser("cache", help="a local Hugging Face cache")
    c.add_argument("--cache-dir", help="the hub cache folder (default: HF_HUB_CACHE, else HF_HOME/hub)")
    h = sub.add_parser("hub", help="the Hub (HF_ENDPOINT, HF_TOKEN)")
    for p in (d, c, h):
        p.add_argument("--date", help="the date the catalog was taken (YYYY-MM-DD)")
        p.add_argument("--out", type=Path, default=OUT, help=f"the catalog to write (default {OUT.relative_to(ROOT)})")
    for p in (c, h):
        p.add_argument("--list", type=Path, help="records (id, rank, kind) to take; default: the catalog's models")
    args = ap.parse_args(argv)
    try:
        if args.date is not None:
            _date(args.date)
        if args.source == "dir":
            listing = args.path / "PROVENANCE.json"
            if not listing.is_file():
                raise InputError(f"{args.path}: no PROVENANCE.json there")
            taken = args.date or dt.date.fromtimestamp(listing.stat().st_mtime).isoformat()
            doc = assemble(from_dir(args.path), taken)
        else:
            base = read_catalog(args.out)
            if args.list is not None:
                try:
                    records = _records(json.loads(args.list.read_text(encoding="utf-8")), args.list)
                except (OSError, ValueError) as exc:
                    raise InputError(f"{args.list}: cannot read the list ({exc})") from None
            else:
                records = sorted(base.values(), key=lambda e: e["rank"])
            if not records:
                raise InputError(f"nothing to take: {args.out} holds no catalog and no --list was given")
            cache_dir = getattr(args, "cache_dir", None)
            doc = assemble(from_hub(records, base, offline=args.source == "cache", cache_dir=cache_dir),
                           args.date or dt.date.today().isoformat())
    except InputError as exc:
        print(f"build_model_catalog: {exc}", file=sys.stderr)
        return 2
    if not doc["models"]:
        print("build_model_catalog: no usable model: nothing written", file=sys.stderr)
        return 2
    text = dumps(doc)
    write(args.out, text)
    models = doc["models"]
    verbatim = sum(1 for e in models if e["verbatim"])
    counted = sum(1 for e in models if e["parameters"] is not None)
    print(f"{len(models)} models ({verbatim} verbatim, {len(models) - verbatim} reconstructed; {counted} counted), "
          f"{len(doc['aliases'])} aliases, {len(text.encode()):,} bytes, taken {doc['taken']} → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
