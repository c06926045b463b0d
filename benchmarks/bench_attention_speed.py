"""Forward-pass time of each attention implementation against the recommended one, as ratios.

Run: python benchmarks/bench_attention_speed.py [--lengths 256,2048,4096] [--flex compiled|eager|skip]
       [--impls sdpa,eager,flex_attention] [--arch llama,...] [--repeats 2]
For each architecture the model is the one `advisor verify` builds (1 layer, the real head_dim and
head counts, hidden 256 where the class allows it, random weights, float32), loaded through
from_pretrained with each implementation. A ratio above 1 means slower than the recommended one.
On a GPU add flash_attention_2 to --impls. Needs torch and transformers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "configs"
MISTRAL = {"model_type": "mistral", "architectures": ["MistralForCausalLM"], "hidden_size": 4096,
           "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
           "num_hidden_layers": 32, "sliding_window": 4096, "vocab_size": 32000, "torch_dtype": "bfloat16",
           "rope_theta": 10000.0, "max_position_embeddings": 32768}
PHI3 = {"model_type": "phi3", "architectures": ["Phi3ForCausalLM"], "hidden_size": 3072,
        "intermediate_size": 8192, "num_attention_heads": 32, "num_key_value_heads": 32,
        "num_hidden_layers": 32, "sliding_window": 2047, "vocab_size": 32064, "torch_dtype": "bfloat16",
        "max_position_embeddings": 4096, "rope_theta": 10000.0}
ARCHS: dict[str, Any] = {
    "llama": FIXTURES / "meta-llama__Meta-Llama-3.1-8B.json",
    "qwen2": FIXTURES / "Qwen__Qwen2.5-7B.json",
    "gemma2": FIXTURES / "google__gemma-2-9b-it.json",
    "mistral": MISTRAL,
    "phi3": PHI3,
}


def config_path(spec: Any, tmp: Path, name: str) -> Path:
    if isinstance(spec, Path):
        return spec
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path


def recommended_attn(path: Path) -> str:
    import torch

    from advisor.api import gather, recommend
    from advisor.facts.bundle import Request
    from advisor.verify.predict import with_observed_gpu_count

    facts = gather(str(path), request=Request(offline=True, dtype="float32"))
    facts = with_observed_gpu_count(facts, torch.cuda.device_count(), "torch")
    value = recommend(facts).flags.get("attn_implementation")
    return value if isinstance(value, str) else "sdpa"


def time_forward(model: Any, ids: Any, repeats: int) -> float:
    import torch

    with torch.no_grad():
        model(input_ids=ids)  # warm-up (and compilation for flex_attention)
        times = []
        for _ in range(repeats):
            if ids.is_cuda:
                torch.cuda.synchronize()
            t = time.perf_counter()
            model(input_ids=ids)
            if ids.is_cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", default="256,2048,4096")
    ap.add_argument("--impls", default="sdpa,eager,flex_attention")
    ap.add_argument("--arch", default=",".join(ARCHS))
    ap.add_argument("--flex", default="compiled", choices=["compiled", "eager", "skip"])
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    if args.flex == "eager":
        os.environ["TORCHDYNAMO_DISABLE"] = "1"  # read when torch is imported
    import torch

    from advisor.verify.worker import prepare

    lengths = [int(x) for x in args.lengths.split(",")]
    impls = [i for i in args.impls.split(",") if not (i == "flex_attention" and args.flex == "skip")]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    name = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name} · torch {torch.__version__} · flex {args.flex}")
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for arch in args.arch.split(","):
            path = config_path(ARCHS[arch], tmp, arch)
            best = recommended_attn(path)
            raw = json.loads(path.read_text())
            job = {"model_type": raw["model_type"], "architecture": raw["architectures"][0], "config": raw,
                   "seq_len": max(lengths), "layers": 1, "max_params": 40_000_000, "seed": 0}
            folder, cls, info = prepare(job, tmp / arch)
            shape = info["shape"]
            print(f"{arch}: recommended {best}; heads {shape['num_attention_heads']}/"
                  f"{shape['num_key_value_heads']}, head_dim {shape['head_dim']}, hidden {shape['hidden_size']}; "
                  + "; ".join(info["notes"]), flush=True)
            for length in lengths:
                ids = torch.randint(3, 1000, (1, length), device=device)
                timings: dict[str, float | str] = {}
                for impl in dict.fromkeys([best, *impls]):
                    try:
                        model = cls.from_pretrained(folder, attn_implementation=impl, dtype=torch.float32)
                        timings[impl] = time_forward(model.to(device).eval(), ids, args.repeats)
                    except Exception as exc:
                        timings[impl] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
                    finally:
                        model = None
                base = timings[best]
                cells = []
                for impl in dict.fromkeys([best, *impls]):
                    t = timings[impl]
                    if isinstance(t, float) and isinstance(base, float):
                        cells.append(f"{impl} {t * 1000:8.1f} ms ×{t / base:5.2f}")
                    else:
                        cells.append(f"{impl} {t}")
                rows.append((arch, length, cells))
                print(f"  {arch:<8} {length:>5}  " + " | ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
