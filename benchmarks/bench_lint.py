"""Time `advisor lint` on a tree of real Python files where one file in ten loads a model, against plainly
parsing every file of the same tree with `ast`, as whole processes in paired, interleaved runs.

Run: python benchmarks/bench_lint.py [--files 1000] [--runs 7]

The tree: the standard library's own modules (real code of every size, none loading a model), and in every
tenth file a short script that loads a catalog model with from_pretrained and flags. Offline, catalog models,
one catalog GPU and a fixture software profile: no network, no GPU.

Goal (issue 19): at least 1,000 files per second, and never slower than the plain parse.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import sysconfig
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paired import ROOT, advisor_command, compile_package, interleaved, ratio_table

MODELS = ["Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-v0.1",
          "google/gemma-2-9b-it"]
SCRIPT = '''"""Load a model for {task}."""
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MODEL = "{model}"


def load():
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained("{model}", dtype=torch.bfloat16,
                                                 attn_implementation="{attn}", device_map="auto")
    return tokenizer, model
'''
PARSE_ALL = """
import ast, os, sys
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        if f.endswith(".py"):
            with open(os.path.join(root, f), "rb") as fh:
                ast.parse(fh.read().decode("utf-8"))
"""


def stdlib_sources(n: int) -> list[tuple[str, str]]:
    """N (relative name, text) of standard-library modules that parse and load no model, in name order."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    out: list[tuple[str, str]] = []
    for path in sorted(lib.rglob("*.py")):
        if any(part in {"site-packages", "test", "tests", "idle_test", "lib2to3"} for part in path.parts):
            continue
        try:
            text = path.read_bytes().decode("utf-8")
            compile(text, str(path), "exec", 1024, dont_inherit=True)  # ast.PyCF_ONLY_AST
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        if "from_pretrained" in text or "to_bettertransformer" in text:
            continue
        out.append((path.relative_to(lib).as_posix(), text))
        if len(out) == n:
            break
    return out


def write_tree(folder: Path, files: int) -> Path:
    """FILES files: every tenth a model-loading script, the others standard-library modules (reused in turn
    when the library holds fewer)."""
    tree = folder / "tree"
    plain = stdlib_sources(files)
    models = 0
    for i in range(files):
        if i % 10 == 9:
            name = f"models/load_{models:04d}.py"
            text = SCRIPT.format(task="chat", model=MODELS[models % len(MODELS)],
                                 attn=("sdpa", "flash_attention_2")[models % 2])
            models += 1
        else:
            rel, text = plain[(i - models) % len(plain)]
            name = f"lib{(i - models) // len(plain)}/{rel}"
        target = tree / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tree


def measure(files: int, runs: int) -> dict[str, float]:
    """Median seconds of the lint and of the plain parse, files per second, and their ratio."""
    compile_package()
    with tempfile.TemporaryDirectory(prefix="bench-lint-") as tmp:
        tree = write_tree(Path(tmp), files)
        count = sum(1 for _ in tree.rglob("*.py"))
        cases = {
            "advisor lint (1 in 10 loads a model)": [*advisor_command(), "lint", str(tree), "--offline", "--gpu",
                                                     "A100-80GB", "--software",
                                                     str(ROOT / "fixtures/software/torch-2.13-cu128-tf-5.23.json"),
                                                     "--format", "json", "--quiet"],
            "plain ast.parse of every file": [sys.executable, "-c", PARSE_ALL, str(tree)],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        times = interleaved(cases, runs, env={"HF_HOME": str(Path(tmp) / "hf"), "HF_HUB_OFFLINE": "1"})
    print(ratio_table(f"lint on {count} files (goal: at least 1,000 files/s, at most 1.0x the plain parse)",
                      times, "plain ast.parse of every file"))
    med = {name: statistics.median(v) for name, v in times.items()}
    lint, parse = med["advisor lint (1 in 10 loads a model)"], med["plain ast.parse of every file"]
    print(f"  {count / lint:,.0f} files/s (whole process); lint/parse {lint / parse:.2f}x")
    return {"files_per_s": count / lint, "vs_parse": lint / parse, **med}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    measure(args.files, args.runs)


if __name__ == "__main__":
    main()
