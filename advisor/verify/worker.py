"""The verify worker: a subprocess that builds the small model and tries each candidate on it.

Protocol: one JSON job per line on stdin; events as `@@verify {json}` lines on stdout (anything else a
library prints is ignored). Events: device, step (what the worker starts now, for progress lines),
model, skip, start, result, done. A crash or a timeout is
detected by the parent, which restarts a worker for the candidates left. Remote code is never run:
classes come from transformers itself, and `trust_remote_code` is never passed.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from advisor.verify.build import TOKEN_KEYS, Plan, Shape, Unbuildable, base_plan, shape_of, shrink_steps

PREFIX = "@@verify "


def emit(event: str, **data: Any) -> None:
    sys.stdout.write(PREFIX + json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


def short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:400]


def main() -> int:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for line in sys.stdin:
        if line.strip():
            job = json.loads(line)
            with tempfile.TemporaryDirectory(prefix="advisor-verify-") as tmp:
                run_job(job, Path(tmp))
            emit("done")
    return 0


def run_job(job: dict[str, Any], tmp: Path) -> None:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    device = "cuda" if torch.cuda.is_available() and job.get("device", "auto") != "cpu" else "cpu"
    emit("device", device=device, cuda_devices=torch.cuda.device_count(),
         name=torch.cuda.get_device_name(0) if device == "cuda" else "CPU",
         torch=torch.__version__, transformers=transformers.__version__,
         threads=torch.get_num_threads(), compile_flex=not _dynamo_disabled())
    emit("step", text="reading the config with the installed transformers")
    try:
        folder, cls, info = prepare(job, tmp)
    except Unbuildable as exc:
        emit("skip", reason=str(exc))
        return
    emit("model", **info)
    reference = None
    emit("step", text="computing the eager float32 reference")
    try:
        ref_model = cls.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
        ref_model = ref_model.to(device).eval()
        inputs = make_inputs(ref_model, job)
        with torch.no_grad():
            reference = first_tensor(ref_model(**inputs)).float().cpu()
        del ref_model
    except Exception as exc:
        emit("note", text=f"no eager float32 reference: {short_error(exc)}")
    for index in range(job.get("start", 0), len(job["candidates"])):
        emit("start", index=index)
        emit("result", index=index, outcome=run_candidate(cls, folder, index, job, device, reference))


def _dynamo_disabled() -> bool:
    return os.environ.get("TORCHDYNAMO_DISABLE", "") not in ("", "0")


def prepare(job: dict[str, Any], tmp: Path) -> tuple[Path, Any, dict[str, Any]]:
    """The folder to load from (real weights, or a small model saved there) and the class to load with."""
    import torch
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    model_type = job["model_type"]
    if model_type not in CONFIG_MAPPING:
        raise Unbuildable(f"the installed transformers has no architecture {model_type!r}")
    config_cls = CONFIG_MAPPING[model_type]
    raw = {k: v for k, v in job["config"].items() if k not in ("model_type",)}
    try:
        real_config = config_cls.from_dict(dict(raw))
    except Exception as exc:
        raise Unbuildable(f"{config_cls.__name__} cannot read this config: {short_error(exc)}") from None
    real = shape_of(real_config)
    cls = model_class(real_config, job.get("architecture"))
    if job.get("real_path"):
        folder = Path(job["real_path"])
        return folder, cls, {"class": cls.__name__, "real": True, "shape": real.to_json(),
                             "real_shape": real.to_json(), "notes": ["real weights from the local cache"]}
    expected = job.get("expect_shape") or {}
    if expected.get("head_dim") and real.head_dim and expected["head_dim"] != real.head_dim:
        raise Unbuildable(f"{config_cls.__name__} reads this config with head_dim {real.head_dim}, the "
                          f"advisor with {expected['head_dim']}: the native class does not take it as is")
    plan = base_plan(raw, int(job.get("layers", 2)), int(job["seq_len"]))
    steps = shrink_steps(plan, real)
    emit("step", text=f"choosing a small {cls.__name__} within {int(job['max_params']):,} parameters")
    chosen, config, params = pick_plan(config_cls, cls, steps, real, int(job["max_params"]))
    emit("step", text=f"building it ({params:,} parameters) and saving it")
    torch.manual_seed(int(job.get("seed", 0)))
    model = cls._from_config(config, dtype=torch.float32)
    model.save_pretrained(tmp)
    shape = shape_of(config)
    return tmp, cls, {"class": cls.__name__, "real": False, "parameters": params, "shape": shape.to_json(),
                      "real_shape": real.to_json(), "layer_types": getattr(config, "layer_types", None),
                      "notes": chosen.notes}


def model_class(config: Any, architecture: str | None) -> Any:
    """The native class named by `architectures`, else the causal-LM or base auto class for the config."""
    import transformers
    from transformers import AutoModel, AutoModelForCausalLM

    cls = getattr(transformers, architecture, None) if architecture else None
    if cls is not None and getattr(cls, "config_class", None) is type(config):
        return cls
    for auto in (AutoModelForCausalLM, AutoModel):
        try:
            return auto._model_mapping[type(config)]
        except KeyError:
            continue
    raise Unbuildable(f"no model class in transformers for {type(config).__name__}")


def pick_plan(config_cls: Any, cls: Any, steps: list[Plan], real: Shape,
              budget: int) -> tuple[Plan, Any, int]:
    """The first plan whose model has at most BUDGET parameters and keeps the attention shape it claims."""
    import torch

    last, error = 0, ""
    for plan in steps:
        try:
            config = config_cls.from_dict(dict(plan.config))
            _clamp_token_ids(config)
            with torch.device("meta"):
                model = cls._from_config(config)
        except Exception as exc:
            error = short_error(exc)
            continue
        if not _keeps_head_dim(model, real):
            continue
        last = sum(p.numel() for p in model.parameters())
        if last <= budget:
            return plan, config, last
    if not last:
        raise Unbuildable(f"no smaller config of this architecture could be built ({error})")
    raise Unbuildable(f"too large even at a few layers: {last:,} parameters at the smallest shape tried, "
                      f"the budget is {budget:,}")


def _clamp_token_ids(config: Any) -> None:
    """Token ids the config class defaults to (e.g. pad 32000) must fit the shrunk vocabulary."""
    vocab = getattr(config, "vocab_size", None)
    if not isinstance(vocab, int):
        return
    for key in TOKEN_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value >= vocab:
            setattr(config, key, vocab - 1)


def _keeps_head_dim(model: Any, real: Shape) -> bool:
    for module in model.modules():
        head_dim = getattr(module, "head_dim", None)
        if isinstance(head_dim, int):
            return real.head_dim is None or head_dim == real.head_dim
    return True


def make_inputs(model: Any, job: dict[str, Any]) -> dict[str, Any]:
    import torch

    gen = torch.Generator().manual_seed(int(job.get("seed", 0)))
    config = model.config
    seq = int(job["seq_len"])
    device = model.device
    text = config.get_text_config(decoder=True)
    vocab = int(getattr(text, "vocab_size", 0) or 0)
    name = model.main_input_name
    out: dict[str, Any] = {}
    if name == "input_ids":
        out["input_ids"] = torch.randint(3, max(4, vocab), (1, seq), generator=gen).to(device)
        out["attention_mask"] = torch.ones_like(out["input_ids"])
    elif name == "input_features":
        frames = 2 * int(config.max_source_positions)
        features = torch.randn(1, int(config.num_mel_bins), frames, generator=gen)
        out["input_features"] = features.to(device=device, dtype=model.dtype)
    else:
        raise Unbuildable(f"verify builds token or audio inputs, not {name!r}")
    if getattr(config, "is_encoder_decoder", False):
        decoder = torch.randint(3, max(4, vocab), (1, max(4, seq // 4)), generator=gen)
        out["decoder_input_ids"] = decoder.to(device)
    return out


def first_tensor(output: Any) -> Any:
    logits = getattr(output, "logits", None)
    return logits if logits is not None else output[0]


def run_candidate(cls: Any, folder: Path, index: int, job: dict[str, Any], device: str,
                  reference: Any) -> dict[str, Any]:
    """Load, run and (for a generating model) generate with candidate INDEX of JOB; what happened."""
    import torch

    cand = job["candidates"][index]
    out: dict[str, Any] = {"loaded": False, "ran": False}
    if cand["attn"] == "flex_attention":
        out["compiled"] = not _dynamo_disabled()
    kwargs: dict[str, Any] = {"dtype": getattr(torch, cand["dtype"])}
    if cand["attn"] is not None:
        kwargs["attn_implementation"] = cand["attn"]
    baseline = _memory_start(device)
    emit("step", index=index, text="loading")
    try:
        t = time.perf_counter()
        model = cls.from_pretrained(folder, **kwargs).to(device).eval()
        out["load_s"] = time.perf_counter() - t
    except Exception as exc:
        return out | {"stage": "load", "error": short_error(exc)}
    out["loaded"] = True
    out["effective_attn"] = getattr(model.config, "_attn_implementation", None)
    emit("step", index=index, text="forward")
    try:
        inputs = make_inputs(model, job)
        with torch.no_grad():
            t = time.perf_counter()
            logits = first_tensor(model(**inputs))
            out["first_forward_s"] = time.perf_counter() - t
            times = []
            for _ in range(int(job.get("repeats", 3))):
                t = time.perf_counter()
                model(**inputs)
                times.append(time.perf_counter() - t)
        out["forward_s"] = statistics.median(times) if times else out["first_forward_s"]
        out["ran"] = True
        result = logits.float().cpu()
        if not bool(torch.isfinite(result).all()):
            out["rel_error"] = float("inf")
        elif reference is not None and reference.shape == result.shape:
            out["rel_error"] = float((result - reference).norm() / reference.norm().clamp_min(1e-30))
    except Exception as exc:
        return out | {"stage": "forward", "error": short_error(exc)} | _memory_peak(device, baseline)
    if model.can_generate() and model.main_input_name == "input_ids" and int(job.get("new_tokens", 0)) > 0:
        emit("step", index=index, text=f"generating {int(job['new_tokens'])} tokens")
        try:
            new = int(job["new_tokens"])
            ids = inputs["input_ids"]
            gen = {"do_sample": False, "pad_token_id": 0, "attention_mask": inputs["attention_mask"]}
            with torch.no_grad():
                model.generate(ids, max_new_tokens=2, min_new_tokens=2, **gen)
                t = time.perf_counter()
                model.generate(ids, max_new_tokens=new, min_new_tokens=new, **gen)
            out["token_s"] = (time.perf_counter() - t) / new
            out["generated"] = True
        except Exception as exc:
            out |= {"generated": False, "stage": "generate", "error": short_error(exc)}
    return out | _memory_peak(device, baseline)


def _memory_start(device: str) -> int:
    """Reset the peak counter and return the baseline it is measured from."""
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
        return int(torch.cuda.memory_allocated())
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_kib("VmRSS") * 1024
    except OSError:
        return 0


def _memory_peak(device: str, baseline: int) -> dict[str, Any]:
    if device == "cuda":
        import torch

        return {"peak_bytes": int(torch.cuda.max_memory_allocated()) - baseline,
                "peak_source": "torch.cuda.max_memory_allocated"}
    hwm = _status_kib("VmHWM")
    if hwm and baseline:
        return {"peak_bytes": hwm * 1024 - baseline, "peak_source": "VmHWM above the RSS before loading"}
    return {"peak_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "peak_source": "ru_maxrss of the worker process"}


def _status_kib(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
