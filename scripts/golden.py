"""The golden corpus: advisor's outputs over the fixtures, kept in tests/golden/ to prove behaviour is unchanged.

Every case runs `advisor.cli.main` in this process with a fixed target (catalog GPU and software profile, so
nothing depends on this machine), offline, with an empty Hub cache and advisor cache, and without meta-device
builds (the counts are what advisor reads from config.json, whether torch is installed or not). Each case's stdout,
stderr and exit code are written to `tests/golden/<case>.txt`.

    python scripts/golden.py            # regenerate (after a deliberate change, said in the commit)
    python scripts/golden.py --check    # compare; exit 1 and list the cases that differ
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "fixtures" / "configs").glob("*.json"))
FOLDERS = ("fixtures/models/phi-msft", "fixtures/models/hardflash", "fixtures/models/oldhelpers")
TARGETS = {
    "t4-tf5.23": ["--gpu", "T4", "--software", "fixtures/software/cuda-tf5.23.json"],
    "h100x8-tf4.57-fa": ["--gpu", "H100x8", "--software", "fixtures/software/torch-2.7-cu128-tf-4.57-fa-2.8.3.json"],
    "a100-tf4.46-fa": ["--gpu", "A100-80GB", "--software", "fixtures/software/torch-2.5-cu124-tf-4.46-fa-2.6.3.json"],
    "cpu-tf5.23": ["--hardware", "fixtures/hardware/cpu-avx2.json", "--software",
                   "fixtures/software/cuda-tf5.23.json"],
    "mi300x8-rocm-fa-tf5.23": ["--gpu", "MI300Xx8", "--software", "fixtures/software/rocm-tf5.23.json",
                               "--with", "flash-attn==2.8.3"],
    "m3max64-mps-tf5.23": ["--hardware", "fixtures/hardware/mac-m3-max-64gb.json", "--software",
                           "fixtures/software/mps-tf5.23.json"],
}
JSON_ONLY = ("a100-tf4.46-fa", "mi300x8-rocm-fa-tf5.23", "m3max64-mps-tf5.23")
POLICY = """\
fail-on = "warning"
context = 8192
offline = true
gpus = ["T4", "A100-80GB", "H100x8"]

[[software]]
name = "tf5.23"
profile = "../../fixtures/software/cuda-tf5.23.json"

[[software]]
name = "tf4.57-fa"
profile = "../../fixtures/software/torch-2.7-cu128-tf-4.57-fa-2.8.3.json"

[[model]]
id = "../../fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
flags = { attn_implementation = "flash_attention_2", torch_dtype = "bfloat16", device_map = "auto" }

[[model]]
id = "../../fixtures/configs/google__gemma-2-9b-it.json"
flags = { attn_implementation = "sdpa", dtype = "float16" }

[[model]]
id = "../../fixtures/configs/Qwen__Qwen3-32B-FP8.json"
flags = { device_map = "auto" }

[[model]]
id = "../../fixtures/models/phi-msft"
flags = { trust_remote_code = true, flash_attn = true, flash_rotary = true, fused_dense = true }

[[ignore]]
rule = "REV-PIN"
reason = "local files"
"""
FORMATS = ("text", "json", "sarif", "github", "junit", "markdown")


def cases() -> Iterator[tuple[str, list[str]]]:
    """(case name, argv) for every case of the corpus."""
    for config in CONFIGS:
        stem = Path(config).stem
        for target, opts in TARGETS.items():
            for fmt in ("text", "json", "python"):
                if fmt != "json" and target in JSON_ONLY:
                    continue
                yield f"recommend/{stem}/{target}.{fmt}", ["recommend", config, *opts, "--format", fmt]
    for folder in FOLDERS:
        for target in ("t4-tf5.23", "a100-tf4.46-fa"):
            yield (f"recommend/{Path(folder).name}/{target}.json",
                   ["recommend", folder, *TARGETS[target], "--format", "json"])
    llama = "fixtures/configs/meta-llama__Meta-Llama-3.1-8B.json"
    for dtype in ("bfloat16", "float32"):
        for task in ("inference", "training"):
            yield (f"recommend/request/llama-{dtype}-{task}.json",
                   ["recommend", llama, "--gpu", "L4x2", "--software", "fixtures/software/cuda-tf5.23.json",
                    "--dtype", dtype, "--task", task, "--context", "32768", "--batch", "2", "--format", "json"])
    flags = '{"attn_implementation": "flash_attention_2", "torch_dtype": "bfloat16", "load_in_8bit": true}'
    for fmt in FORMATS:
        yield f"check/flags.{fmt}", ["check", llama, "--flags", flags, *TARGETS["t4-tf5.23"], "--format", fmt]
        yield f"check/policy.{fmt}", ["check", "--policy", "tests/golden/policy.toml", "--format", fmt]
        yield (f"lint/tree.{fmt}", ["lint", "tests/ci/data/lint_tree", "--offline", *TARGETS["t4-tf5.23"],
                                    "--format", fmt])
    for target, opts in TARGETS.items():
        yield f"facts/{target}.json", ["facts", *opts]
        yield f"facts/{target}.text", ["facts", *opts, "--format", "text"]
    yield "facts/model-t4.json", ["facts", llama, *TARGETS["t4-tf5.23"]]
    yield "rules/list.text", ["rules"]
    yield "rules/list.json", ["rules", "--format", "json"]
    yield "rules/FA2-CC.text", ["rules", "FA2-CC"]
    yield "rules/flag-dtype.text", ["rules", "dtype"]
    yield "rules/FA2-CC.json", ["rules", "FA2-CC", "--format", "json"]
    yield "gpus/list.text", ["gpus"]
    yield "gpus/list.json", ["gpus", "--format", "json"]
    ampere = "RuntimeError: FlashAttention only supports Ampere GPUs or newer."
    yield "explain/ampere.text", ["explain", ampere]
    yield "explain/ampere.json", ["explain", ampere, "--format", "json"]
    for fmt in ("text", "json"):
        yield (f"explain/t4-flash-attention.{fmt}",
               ["explain", "--file", "fixtures/logs/t4-flash-attention.log", *TARGETS["t4-tf5.23"], "--format", fmt])
    yield "explain/ci-oom.text", ["explain", "--file", "fixtures/logs/ci-oom.log", "--model", llama, "--gpu", "A10G",
                                  "--software", "fixtures/software/cuda-tf5.23.json"]
    yield "explain/unknown.text", ["explain", "torch==2.4.0 on a Tesla T4: KeyError: 'lm_head.weight'"]
    yield "explain/empty.txt", ["explain", ""]
    yield "errors/bad-gpu.txt", ["recommend", llama, "--gpu", "T5"]
    yield "errors/bad-dtype.txt", ["recommend", llama, "--dtype", "fp64"]
    yield "errors/no-rule.txt", ["rules", "FA2-C"]


def run_case(argv: list[str]) -> str:
    """stdout, stderr and the exit code of one in-process run, as one text."""
    from advisor import cli
    from advisor.cli import main

    cli.PROGRESS_AFTER_S = 86400.0  # progress appears after a time, which is not part of the answer
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    text = f"exit: {code}\n--- stdout\n{out.getvalue()}--- stderr\n{err.getvalue()}"
    # where this checkout and its environment live is not part of the answer
    return text.replace(sys.prefix, "<env>").replace(str(ROOT), "<repo>")


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Run from the repository root, offline, with empty caches and no ambient advisor settings."""
    saved = dict(os.environ)
    cwd = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="advisor-golden-") as tmp:
        os.environ.update({"ADVISOR_CACHE_DIR": f"{tmp}/advisor", "HF_HOME": f"{tmp}/hf", "HF_HUB_OFFLINE": "1",
                           "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "ADVISOR_NO_META_BUILD": "1"})
        for key in ("HF_TOKEN", "GITHUB_STEP_SUMMARY", "CUDA_VISIBLE_DEVICES", "FORCE_COLOR"):
            os.environ.pop(key, None)
        os.chdir(ROOT)
        try:
            yield
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)


def write_policy() -> None:
    (GOLDEN / "policy.toml").write_text(POLICY, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    differ: list[str] = []
    with isolated():
        if not args.check:
            write_policy()
        for name, argv in cases():
            text = run_case(argv)
            path = GOLDEN / f"{name}.txt"
            if args.check:
                if not path.is_file() or path.read_text(encoding="utf-8") != text:
                    differ.append(name)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if args.check:
        print("\n".join(differ) if differ else "golden corpus: identical")
        return 1 if differ else 0
    print(f"wrote {sum(1 for _ in cases())} cases under {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
