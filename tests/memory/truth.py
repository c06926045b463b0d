"""Ground truth for the memory model, taken from the installed transformers itself (no formulas).

For a config, transformers' own code answers two questions:

* parameters: `cls._from_config(config)` built under `torch.device("meta")` (no memory, no init), tied as
  `from_pretrained` ties (`tie_weights()`), each shared tensor counted once;
* the generation cache: the model is built on the meta device from a config shrunk where the cache cannot
  depend on it (vocabulary, MLP and expert widths, number of experts, vision/audio tower depth; hidden size,
  heads, head dims, state sizes and the whole layer pattern kept) and run forward with `use_cache=True`; the
  cache tensors' shapes at three lengths give, per layer, the elements per decoder token, per encoder (or
  image) token and the fixed state per sequence: elements = fixed + tokens x per_token + encoder x cross.
  Layers are keyed by everything the config says per layer (the declared cache class and window, every
  per-layer list, index lists, `per_layer_config`, KV sharing); only the shortest prefix of layers that holds
  every key is run and the rest take the figures of the first layer of their key (the whole stack is run
  when the prefix does not build or disagrees with the declared classes).

Every job runs in a worker subprocess (a timeout per job; the worker is restarted after one). `run_all`
spreads the jobs over a few workers. Element counts are tensor elements (bytes = elements x dtype size).
"""

from __future__ import annotations

import inspect
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULT_MARK = "@@TRUTH@@ "
TASKS = (
    ("image-text-to-text", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES"),
    ("multimodal-lm", "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES"),
    ("seq2seq-lm", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES"),
    ("speech-seq2seq", "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES"),
    ("causal-lm", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"),
)
"""Auto mappings searched, in order of preference for the class a checkpoint of the type names: a multimodal
type's checkpoints name the ForConditionalGeneration class, an encoder-decoder's the seq2seq class."""
SHORT, LONG, ENC_SHORT, ENC_LONG = 3, 5, 4, 7
NEW_VOCAB = 1024
JOB_TIMEOUT = 240.0
CPU_LIMIT = 400_000_000
"""Largest model (parameters) built on the CPU when the meta device cannot run its forward."""


# ------------------------------------------------------------------------------------------------
# parent side: model types and workers (needs transformers' auto mappings, not torch)
# ------------------------------------------------------------------------------------------------


def model_types() -> dict[str, str]:
    """Every model type with a generating class in the installed transformers, and the class a checkpoint
    of that type names (the first of TASKS' mappings that has it)."""
    import transformers.models.auto.modeling_auto as auto

    found: dict[str, str] = {}
    for _, name in TASKS:
        for mt, cls in (getattr(auto, name, None) or {}).items():
            found.setdefault(mt, cls[0] if isinstance(cls, list | tuple) else cls)
    return dict(sorted(found.items()))


class Worker:
    """One subprocess that runs jobs one at a time; a job past its timeout kills it (restarted on the next)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", TRANSFORMERS_VERBOSITY="error", OMP_NUM_THREADS="1",
                   TOKENIZERS_PARALLELISM="false")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env, bufsize=1)
        self.lines = queue.Queue()
        proc, lines = self.proc, self.lines

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def run(self, job: dict[str, Any], timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.close()
            return {"error": "the worker died before the job was sent"}
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                return {"error": f"timeout after {timeout:.0f} s"}
            try:
                line = self.lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line is None:
                self.close()
                return {"error": "the worker died"}
            if line.startswith(RESULT_MARK):
                result: dict[str, Any] = json.loads(line[len(RESULT_MARK):])
                return result


def run_all(jobs: list[dict[str, Any]], workers: int = 2, timeout: float = JOB_TIMEOUT) -> dict[str, dict[str, Any]]:
    """Every job's result by its `key`, the jobs spread over `workers` subprocesses (longest first is not
    known in advance, so they are taken in order from one queue)."""
    todo: queue.Queue[dict[str, Any]] = queue.Queue()
    for job in jobs:
        todo.put(job)
    out: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def serve() -> None:
        worker = Worker()
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                result = worker.run(job, timeout)
                with lock:
                    out[job["key"]] = result
        finally:
            worker.close()

    threads = [threading.Thread(target=serve) for _ in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


ALIASES = {"kimi_k2": "deepseek_v3"}
"""Model types transformers does not have, built as the native type their publisher says to use (Moonshot's
deployment guide for Kimi-K2: `model_type` deepseek_v3; `architectures` already names DeepseekV3ForCausalLM)."""


def config_job(key: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A job for a real config.json: unquantized (the count is of the model transformers builds), no remote code."""
    data = {k: v for k, v in raw.items() if k not in ("quantization_config", "auto_map")}
    if isinstance(data.get("text_config"), dict):
        data["text_config"] = {k: v for k, v in data["text_config"].items() if k != "quantization_config"}
    data["model_type"] = ALIASES.get(data.get("model_type", ""), data.get("model_type"))
    classes = model_types()
    arch = (raw.get("architectures") or [None])[0]
    import transformers

    cls = arch if arch and hasattr(transformers, arch) else classes.get(data["model_type"])
    return {"key": key, "config": data, "cls": cls}


def default_jobs(types: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """One job per model type: its default config (`AutoConfig.for_model`), counted and measured."""
    classes = model_types()
    return [{"key": mt, "model_type": mt, "cls": classes[mt]} for mt in (types or classes)]


# ------------------------------------------------------------------------------------------------
# worker side (imports torch and transformers)
# ------------------------------------------------------------------------------------------------

INTERMEDIATE_KEYS = {
    "intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size", "ffn_hidden_size",
    "n_inner", "d_ff", "decoder_ffn_dim", "encoder_ffn_dim", "intermediate_size_mlp", "expert_intermediate_size",
    "ffn_dim", "moe_ffn_hidden_size", "dense_intermediate_size", "shared_intermediate_size", "mlp_hidden_size",
    "expert_ffn_hidden_size", "shared_expert_ffn_hidden_size", "moe_shared_expert_intermediate_size",
    "dim_feedforward", "feed_forward_size", "ffn_intermediate_size", "mlp_dim", "inner_hidden_size",
    "zero_expert_intermediate_size", "expert_hidden_size", "moe_intermediate_size_shared",
}
EXPERT_KEYS = {"num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts", "n_experts",
               "num_routed_experts", "moe_num_routed_experts", "num_experts_routed"}
TOPK_KEYS = {"num_experts_per_tok", "moe_topk", "num_selected_experts", "moe_k", "top_k_experts",
             "num_experts_per_token", "moe_top_k", "n_activated_experts"}
GROUP_KEYS = {"n_group", "topk_group", "num_expert_group", "moe_n_group", "moe_topk_group"}
SSM_INNER_TYPES = {"mamba", "falcon_mamba"}
"""Types whose `intermediate_size` is the SSM inner width, which sizes the state: never shrunk."""
TOWER_KEYS = ("vision_config", "audio_config", "speech_config", "vision_tower_config", "audio_encoder_config",
              "vq_config", "perceiver_config", "qformer_config", "image_config", "visual_config")
TEXT_KEYS = ("text_config", "decoder", "llm_config", "language_config", "thinker_config", "text_decoder")
SHRINK_MODES = ("all", "no-towers", "text-only")
LAYER_COUNT_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "decoder_layers", "num_blocks")
INDEX_SUFFIXES = ("layers", "layer_ids", "layers_idx", "layer_indices", "layer_idx")


def _token_key(key: str) -> bool:
    return key.endswith(("token_id", "token_index", "token_ids"))


def _ints(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, int) and not isinstance(x, bool)
                                                          for x in value)


def shrink(data: dict[str, Any], mode: str = "all") -> dict[str, Any]:
    """A config whose cache is that of `data` and whose weights are small (see the module docstring).

    Token ids at or above the new vocabulary are renumbered to distinct ids just below it, everywhere.
    `mode`: shrink everywhere (`all`), not inside vision/audio towers (`no-towers`), or only the top level
    and the text decoder (`text-only`), for configs that validate their sub-configs against each other.
    """
    big: set[int] = set()

    def collect(d: Any) -> None:
        if isinstance(d, dict):
            for k, v in d.items():
                if _token_key(k):
                    for x in v if isinstance(v, list) else [v]:
                        if isinstance(x, int) and not isinstance(x, bool) and x >= NEW_VOCAB - 64:
                            big.add(x)
                collect(v)
        elif isinstance(d, list):
            for x in d:
                collect(x)

    collect(data)
    renum = {x: NEW_VOCAB - 1 - i for i, x in enumerate(sorted(big))}

    def ids(v: Any) -> Any:
        if isinstance(v, list):
            return [renum.get(x, x) if isinstance(x, int) else x for x in v]
        return renum.get(v, v) if isinstance(v, int) and not isinstance(v, bool) else v

    def walk(d: Any, top: bool, tower: bool, keep: bool) -> Any:
        if isinstance(d, list):
            return [walk(x, False, tower, keep) for x in d]
        if not isinstance(d, dict):
            return d
        mt = d.get("model_type")
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict):
                sub_tower = tower or k in TOWER_KEYS
                sub_keep = keep or (mode == "no-towers" and sub_tower) or (
                    mode == "text-only" and not (top and k in TEXT_KEYS))
                out[k] = walk(v, False, sub_tower, sub_keep)
                continue
            num = isinstance(v, int) and not isinstance(v, bool)
            if _token_key(k):
                out[k] = ids(v)
            elif keep:
                out[k] = v
            elif num and (k == "vocab_size" or k.endswith("_vocab_size")) and v > NEW_VOCAB:
                out[k] = NEW_VOCAB
            elif k in INTERMEDIATE_KEYS and mt not in SSM_INNER_TYPES and num and v > 64:
                out[k] = 64
            elif k in INTERMEDIATE_KEYS and mt not in SSM_INNER_TYPES and _ints(v):
                out[k] = [min(x, 64) if x else x for x in v]
            elif k in EXPERT_KEYS and num and v > 4:
                out[k] = 4
            elif k in TOPK_KEYS and num and v > 2:
                out[k] = 2
            elif k in GROUP_KEYS and num and v > 1:
                out[k] = 1
            elif tower and k in ("num_hidden_layers", "depth", "num_layers", "encoder_layers") and num and v > 2:
                out[k] = 2
            else:
                out[k] = v
        return out

    result: dict[str, Any] = walk(data, True, False, False)
    return result


def _decoder_dict(data: dict[str, Any], n_layers: int | None) -> dict[str, Any]:
    """The dict (at any depth, outside towers) that holds the text decoder's layer count."""
    found: list[tuple[str, dict[str, Any]]] = []

    def search(d: dict[str, Any], path: str) -> None:
        if any(isinstance(d.get(k), int) and (n_layers is None or d.get(k) == n_layers) for k in LAYER_COUNT_KEYS):
            found.append((path, d))
        for k, v in d.items():
            if isinstance(v, dict) and k not in TOWER_KEYS:
                search(v, f"{path}.{k}")

    search(data, "")
    texty = [f for f in found if any(t in f[0] for t in ("text", "decoder", "llm", "language", "thinker"))]
    return (texty[-1] if texty else found[0] if found else ("", data))[1]


def truncate_layers(data: dict[str, Any], keep: int, n_layers: int) -> dict[str, Any]:
    """The text decoder cut to its first `keep` layers, with per-layer lists, patterns and indices cut too."""
    data = json.loads(json.dumps(data))
    target = _decoder_dict(data, n_layers)
    for k in LAYER_COUNT_KEYS:
        if target.get(k) == n_layers:
            target[k] = keep
    for k, v in list(target.items()):
        per_layer = isinstance(v, list) and len(v) == n_layers and k != "eos_token_id"
        if per_layer or (isinstance(v, str) and len(v) == n_layers and k.endswith("pattern")):
            target[k] = v[:keep]
        elif _ints(v) and max(v) < n_layers and k.endswith(INDEX_SUFFIXES):
            target[k] = [x for x in v if x < keep]
        elif isinstance(v, dict) and k not in TOWER_KEYS and k not in TEXT_KEYS:
            lists = {k2: v2 for k2, v2 in v.items()
                     if _ints(v2) and k2.endswith(INDEX_SUFFIXES) and max(v2) <= n_layers}
            one_based = any(max(v2) == n_layers for v2 in lists.values())
            for k2, v2 in lists.items():
                v[k2] = [x for x in v2 if (x <= keep if one_based else x < keep)]
    plc = target.get("per_layer_config")
    if isinstance(plc, dict):
        target["per_layer_config"] = {k: v for k, v in plc.items() if str(k).isdigit() and int(k) < keep}
    if isinstance(target.get("num_kv_shared_layers"), int) and target["num_kv_shared_layers"] >= keep:
        target["num_kv_shared_layers"] = 0
    return data


def layer_keys(text: dict[str, Any], n: int, declared: list[tuple[str, Any]] | None) -> list[tuple[Any, ...]]:
    """Per layer, everything the config says about that layer (two layers with equal keys are built alike)."""
    per_layer: list[list[Any]] = [[] for _ in range(n)]

    def scan(d: dict[str, Any]) -> None:
        for k, v in sorted(d.items()):
            if k in TOWER_KEYS or k in TEXT_KEYS:
                continue
            if isinstance(v, list) and len(v) == n and k != "eos_token_id":
                for i in range(n):
                    per_layer[i].append((k, json.dumps(v[i], sort_keys=True)))
            elif isinstance(v, str) and len(v) == n and k.endswith("pattern"):
                for i in range(n):
                    per_layer[i].append((k, v[i]))
            elif _ints(v):
                for i in range(n):
                    per_layer[i].append((k, i in v, i + 1 in v))
            elif isinstance(v, dict) and k == "per_layer_config":
                for i in range(n):
                    per_layer[i].append((k, json.dumps(v.get(str(i)), sort_keys=True)))
            elif isinstance(v, dict):
                scan(v)

    scan(text)
    shared = text.get("num_kv_shared_layers")
    for i in range(n):
        if isinstance(shared, int) and shared:
            per_layer[i].append(("kv_shared", i >= n - shared))
        if declared is not None and i < len(declared):
            per_layer[i].append(("declared", *declared[i]))
    return [tuple(x) for x in per_layer]


def config_dict(config: Any) -> dict[str, Any]:
    """A config as plain JSON values (infinities kept as floats, as `from_dict` wants them)."""
    data: dict[str, Any] = json.loads(json.dumps(config.to_dict(), default=str))
    return data


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _config_from_dict(data: dict[str, Any]) -> Any:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    return CONFIG_MAPPING[data["model_type"]].from_dict(dict(data))


def _class(name: str) -> Any:
    import transformers

    return getattr(transformers, name)


def _build(cls: Any, config: Any) -> Any:
    import torch

    with torch.device("meta"):
        for kw in ({"attn_implementation": "eager", "dtype": torch.bfloat16}, {"dtype": torch.bfloat16}, {}):
            try:
                return cls._from_config(config, **kw).eval()
            except (TypeError, ValueError):
                if not kw:
                    raise
    raise AssertionError("unreachable")


def count_parameters(model: Any) -> int:
    """Parameters once tied, each shared tensor once (buffers are not parameters)."""
    model.tie_weights()
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total


def _declared(config: Any) -> list[tuple[str, Any]] | None:
    from transformers import DynamicCache

    try:
        cache = DynamicCache(config=config)
    except Exception:
        return None
    layers = getattr(cache, "layers", None) or []
    return [(type(x).__name__, getattr(x, "sliding_window", None)) for x in layers] or None


def _tensors(obj: Any, depth: int = 0) -> list[Any]:
    import torch

    if depth > 4 or obj is None:
        return []
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        items = list(obj.values())
    elif isinstance(obj, list | tuple):
        items = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, torch.nn.Module | type):
        items = [v for k, v in vars(obj).items() if not callable(v) and not (
            isinstance(k, str) and k.startswith("_") and isinstance(v, torch.Tensor) and v.numel() <= 1)]
    else:
        return []
    return [t for v in items for t in _tensors(v, depth + 1)]


def _elements(obj: Any) -> int:
    """Floating-point elements a cache layer holds (integer bookkeeping such as positions left out)."""
    return sum(t.numel() for t in _tensors(obj) if t.is_floating_point())


def _cache_layers(cache: Any) -> dict[tuple[str, int], int]:
    """(self|cross, layer index) -> elements held."""
    out: dict[tuple[str, int], int] = {}
    if cache is None:
        return out
    parts = [("self", cache)]
    if hasattr(cache, "self_attention_cache") and hasattr(cache, "cross_attention_cache"):
        parts = [("self", cache.self_attention_cache), ("cross", cache.cross_attention_cache)]
    for part, c in parts:
        layers = getattr(c, "layers", None)
        if isinstance(layers, list | tuple):
            for i, layer in enumerate(layers):
                out[(part, i)] = _elements(layer)
            for name, value in vars(c).items():  # per-layer lists beside the layers (MiniMaxCache.linear_cache)
                if name != "layers" and isinstance(value, list | tuple):
                    for i, item in enumerate(value):
                        if _tensors(item):
                            out[(part, i)] = out.get((part, i), 0) + _elements(item)
        elif isinstance(c, list | tuple):
            for i, layer in enumerate(c):
                if isinstance(layer, list | tuple) and len(layer) == 4:
                    out[("self", i)] = _elements(layer[:2])
                    out[("cross", i)] = _elements(layer[2:])
                else:
                    out[(part, i)] = _elements(layer)
        else:  # a model's own cache object holding per-layer lists of tensors
            for value in vars(c).values():
                if isinstance(value, list | tuple) and value and all(hasattr(x, "numel") or x is None for x in value):
                    for i, x in enumerate(value):
                        out[(part, i)] = out.get((part, i), 0) + _elements(x)
    return out


def _cache_of(output: Any) -> Any:
    for name in ("past_key_values", "cache_params", "mems", "cache"):
        value = getattr(output, name, None)
        if value is not None:
            return value
    return None


def _widths(config: Any) -> list[int]:
    """Candidate widths of the encoder states a decoder's cross-attention takes, most specific first."""
    text = config.get_text_config(decoder=True)
    holders = [(text, ("cross_attention_hidden_size", "encoder_hidden_size"))]
    for name in ("encoder", "encoder_config", "vision_config", "audio_config", "speech_config"):
        sub = _attr(config, name)
        if sub is not None and not isinstance(sub, int | str):
            holders.append((sub, ("d_model", "hidden_size", "encoder_hidden_size", "hidden_dim")))
    holders += [(config, ("d_model", "hidden_size", "encoder_hidden_size")), (text, ("d_model", "hidden_size"))]
    out: list[int] = []
    for holder, names in holders:
        for n in names:
            w = _attr(holder, n)
            if isinstance(w, int) and not isinstance(w, bool) and w > 0 and w not in out:
                out.append(w)
    return out


def _plain_token(config: Any) -> int:
    """A token id that is no special token of the config (image, audio, padding ...)."""
    special: set[int] = set()

    def collect(d: Any) -> None:
        if isinstance(d, dict):
            for k, v in d.items():
                if _token_key(k):
                    special.update(x for x in (v if isinstance(v, list) else [v]) if isinstance(x, int))
                collect(v)

    collect(config_dict(config))
    return next(i for i in range(3, NEW_VOCAB) if i not in special)


def _forward(model: Any, config: Any, t: int, t_enc: int, device: str) -> Any:
    """One forward pass of `t` decoder tokens (and `t_enc` encoder or image tokens)."""
    import torch

    dtype = torch.bfloat16 if device == "meta" else torch.float32
    token = _plain_token(config)
    ids = torch.full((1, t), token, dtype=torch.long, device=device)
    sig = inspect.signature(model.forward).parameters
    if bool(getattr(config, "is_encoder_decoder", False)) or "decoder_input_ids" in sig:
        if "input_ids" in sig:
            try:
                return model(input_ids=torch.full((1, t_enc), token, dtype=torch.long, device=device),
                             decoder_input_ids=ids, use_cache=True)
            except Exception:
                pass
        from transformers.modeling_outputs import BaseModelOutputWithPooling

        error: Exception | None = None
        for width in _widths(config):
            hidden = torch.zeros(1, t_enc, width, dtype=dtype, device=device)
            # PP-FormulaNet's decoder attends to `pooler_output`, a sequence like the last hidden state
            states = BaseModelOutputWithPooling(last_hidden_state=hidden, pooler_output=hidden)
            states.attention_mask = None
            try:
                return model(encoder_outputs=states, decoder_input_ids=ids, use_cache=True)
            except Exception as exc:
                error = exc
        raise error or ValueError("no encoder width in the config")
    if "cross_attention_states" in sig:
        hidden = config.get_text_config(decoder=True).hidden_size
        return model(input_ids=ids, cross_attention_states=torch.zeros(1, t_enc, hidden, dtype=dtype, device=device),
                     use_cache=True)
    return model(input_ids=ids, use_cache=True)


def _language_model(model: Any) -> Any | None:
    for path in ("language_model", "model.language_model", "text_model", "model.text_model", "model.llm", "llm",
                 "text_decoder"):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if obj is not None and obj is not model:
            return obj
    return None


def _measure(cls: Any, config: Any) -> dict[tuple[str, int], dict[str, float]]:
    """Per cache layer: elements per decoder token, per encoder token, and fixed per sequence: on the meta
    device, or on the CPU with zero weights when the model's forward needs real values (and it is small)."""
    model = _build(cls, config)
    try:
        return _measure_on(model, config, "meta")
    except Exception:
        size = sum(p.numel() for p in model.parameters())
        if size > CPU_LIMIT:
            raise
    return _measure_on(_cpu_build(cls, config), config, "cpu")


def _cpu_build(cls: Any, config: Any) -> Any:
    import torch
    from transformers.initialization import no_init_weights

    with no_init_weights():
        try:
            model = cls._from_config(config, attn_implementation="eager", dtype=torch.float32)
        except (TypeError, ValueError):
            model = cls._from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    return model.eval()


def _measure_on(model: Any, config: Any, device: str) -> dict[tuple[str, int], dict[str, float]]:
    """The three (or five) passes; a model whose own forward cannot run is measured through its language model,
    and then (for an encoder-decoder) without the encoder, so its cross-attention is not measured: marked
    with the key ("via", -1)."""
    import torch

    text = config.get_text_config(decoder=True)
    lengths = [(SHORT, ENC_SHORT), (LONG, ENC_SHORT), (SHORT, ENC_LONG)]
    rates = _attr(text, "compress_rates")
    if isinstance(rates, dict) and rates:  # compressed attention: the average growth past the window
        rate = max(int(v) for v in rates.values())
        base = 2 * max(_attr(text, "sliding_window") or 0, rate) + 3
        lengths += [(base, ENC_SHORT), (base + 2 * rate, ENC_SHORT)]
    runs = []
    target = model
    with torch.device(device), torch.no_grad():
        for t, te in lengths:
            try:
                out = _forward(target, config, t, te, device)
            except Exception:
                lm = _language_model(model) if target is model and not runs else None
                if lm is None:
                    raise
                target = lm
                out = _forward(target, config, t, te, device)
            runs.append(_cache_layers(_cache_of(out)))
    a, b, c = runs[:3]
    result: dict[tuple[str, int], dict[str, float]] = {}
    for key in sorted(set(a) | set(b) | set(c)):
        ea, eb, ec = a.get(key, 0), b.get(key, 0), c.get(key, 0)
        per = (eb - ea) / (LONG - SHORT)
        cross = (ec - ea) / (ENC_LONG - ENC_SHORT)
        fixed = ea - SHORT * per - ENC_SHORT * cross
        if len(runs) == 5:
            (t3, _), (t4, _) = lengths[3], lengths[4]
            e3, e4 = runs[3].get(key, 0), runs[4].get(key, 0)
            per = (e4 - e3) / (t4 - t3)
            fixed = e3 - t3 * per - ENC_SHORT * cross
        result[key] = {"per_token": per, "cross": cross, "fixed": fixed}
    if target is not model:
        result[("via", -1)] = {"per_token": 0.0, "cross": 0.0, "fixed": 0.0}
    return result


def cache_layout(cls: Any, config: Any) -> dict[str, Any]:
    """The measured cache of `cls(config)` (see the module docstring), totals over every decoder layer."""
    data = config_dict(config)
    declared = _declared(config)
    text = config.get_text_config(decoder=True)
    n = next((v for k in LAYER_COUNT_KEYS if isinstance(v := _attr(text, k), int)), None)
    errors: list[str] = []
    for mode in SHRINK_MODES:
        small = shrink(data, mode)
        try:
            small_cfg = _config_from_dict(small)
            _build(cls, small_cfg)
            break
        except Exception as exc:
            errors.append(f"shrink {mode}: {type(exc).__name__}: {exc}"[:300])
    else:
        raise RuntimeError(" | ".join(errors))
    method = "all layers"
    layers: dict[tuple[str, int], dict[str, float]] | None = None
    if n and n > 1 and declared is not None:
        keys = layer_keys(_decoder_dict(small, n), n, declared)
        first: dict[tuple[Any, ...], int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        keep = max(first.values()) + 1
        if keep < n:
            try:
                cut = truncate_layers(small, keep, n)
                cut_cfg = _config_from_dict(cut)
                cut_declared = _declared(cut_cfg)
                if declared is not None and cut_declared != declared[:keep]:
                    raise ValueError("the truncated stack declares other cache layers")
                measured = _measure(cls, cut_cfg)
                layers = {}
                for (part, i), fig in measured.items():
                    if (part == "self" and 0 <= i < keep) or (part == "cross" and 0 <= i < keep):
                        for j in range(n):
                            if first[keys[j]] == i:
                                layers[(part, j)] = fig
                    else:
                        layers[(part, i)] = fig
                method = f"first {keep} of {n} layers, the rest by their per-layer key"
            except Exception as exc:
                errors.append(f"truncated to {keep}: {type(exc).__name__}: {exc}"[:300])
                layers = None
    if layers is None:
        layers = _measure(cls, small_cfg)
    return summarize(layers, method, errors)


def summarize(layers: dict[tuple[str, int], dict[str, float]], method: str, errors: list[str]) -> dict[str, Any]:
    partial = layers.pop(("via", -1), None) is not None
    if partial:
        method += "; through the language model alone, so no cross-attention was measured"

    def total(name: str) -> int:
        return round(sum(f[name] for f in layers.values()))

    kinds: dict[str, int] = {}
    for (part, _), f in layers.items():
        kind = ("cross" if f["cross"] else "none") if part == "cross" else (
            "attention+state" if f["per_token"] and f["fixed"] else "attention" if f["per_token"] else
            "state" if f["fixed"] else "cross" if f["cross"] else "none")
        if part == "self" or kind != "none":
            kinds[kind] = kinds.get(kind, 0) + 1
    return {"per_token": total("per_token"), "state": total("fixed"),
            "cross_per_token": None if partial else total("cross"), "kinds": kinds,
            "layers": sum(1 for p, _ in layers if p == "self"), "method": method, "notes": errors}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Parameters and cache of one config: `model_type` alone for its default, or `config` (a dict)."""
    from transformers import AutoConfig

    out: dict[str, Any] = {"key": job["key"]}
    try:
        config = _config_from_dict(job["config"]) if job.get("config") else AutoConfig.for_model(job["model_type"])
    except Exception as exc:
        out["error"] = f"config: {type(exc).__name__}: {exc}"[:400]
        return out
    cls = _class(job["cls"])
    if not job.get("config"):  # the config.json a checkpoint of this default would hold, for the comparison
        out["config"] = {**json.loads(config.to_json_string(use_diff=False)), "architectures": [job["cls"]]}
    try:
        out["params"] = count_parameters(_build(cls, config))
    except Exception as exc:
        out["params_error"] = f"{type(exc).__name__}: {exc}"[:400]
        return out
    if job.get("cache", True):
        try:
            out["cache"] = cache_layout(cls, config)
        except Exception as exc:
            out["cache_error"] = f"{type(exc).__name__}: {exc}"[:400]
    return out


def _serve() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import torch
    from transformers.utils import logging

    logging.set_verbosity_error()
    torch.distributions.Distribution.set_default_validate_args(False)
    import torch.fx.experimental._config as fx_config

    fx_config.meta_nonzero_assume_all_nonzero = True  # MoE routing on meta tensors: shapes only
    real = sys.stdout
    sys.stdout = sys.stderr  # whatever the models print must not mix with the results
    for line in sys.stdin:
        job = json.loads(line)
        started = time.monotonic()
        try:
            result = run_job(job)
        except Exception as exc:
            result = {"key": job.get("key"), "error": f"{type(exc).__name__}: {exc}"[:400]}
        result["seconds"] = round(time.monotonic() - started, 2)
        real.write(RESULT_MARK + json.dumps(result) + "\n")
        real.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        _serve()
