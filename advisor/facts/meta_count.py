"""The exact parameter count of a config from the installed transformers: a meta-device build in a subprocess.

`cls._from_config(config)` under `torch.device("meta")` allocates nothing and runs no initialisation; the
weights are tied as `from_pretrained` ties them and each shared tensor counted once. It runs in a child
interpreter (torch and transformers are never imported here) with a timeout, only for model types the
installed transformers has natively (remote code is never run: `auto_map` is dropped), and the answer is
cached in advisor's cache by a hash of the config and the installed versions. A config the class does not read
as written (a flat file for a composite class, whose text model is then built from defaults) gets no count:
its build would be transformers' default model, not the checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

from advisor.core.cache import cache_read, cache_write
from advisor.core.fact import Fact
from advisor.core.frozen import frozen
from advisor.facts.dists import find_distribution

CACHE_FILE = "meta-counts.json"
FORMAT = 2
"""Part of the cache key: bumped whenever what the child reports changes."""
TIMEOUT_S = 180.0
DISABLE_ENV = "ADVISOR_NO_META_BUILD"
"""Set to 1 to never start the build (the count then comes from the formula table or the estimate)."""

_CHILD = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
out = sys.stdout
sys.stdout = sys.stderr
job = json.loads(sys.stdin.read())
import torch, transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING
from transformers.utils import logging
logging.set_verbosity_error()
config = CONFIG_MAPPING[job["model_type"]].from_dict(job["config"])
SIZE = ("hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size", "num_attention_heads",
        "moe_intermediate_size", "n_routed_experts", "num_experts", "num_local_experts")
def _get(obj, key):
    try:
        return getattr(obj, key, None)
    except Exception:  # per-layer attributes of heterogeneous configs refuse a global read
        return None
def ignored(src, cfg, path=""):
    # sizes a composite config class does not read from where config.json puts them (a flat file for a class
    # with a text sub-config builds the default text model)
    out = []
    for key, value in src.items():
        sub = _get(cfg, key)
        if isinstance(value, dict) and isinstance(sub, transformers.PretrainedConfig):
            out += ignored(value, sub, f"{path}{key}.")
    text = cfg.get_text_config(decoder=True)
    if text is not cfg and not any(k in src for k, v in vars(cfg).items() if v is text):
        for key in SIZE:
            value, built = src.get(key), _get(text, key)
            if isinstance(value, int) and not isinstance(value, bool) and isinstance(built, int) and built != value:
                out.append(f"`{path}{key}` = {value} is read as the default text config's {built}")
    return out
found = ignored(job["config"], config)
if found:
    out.write(json.dumps({"ignored": found}))
    sys.exit(0)
cls = getattr(transformers, job["architecture"], None) if job["architecture"] else None
if cls is None or not hasattr(cls, "_from_config"):
    import transformers.models.auto.modeling_auto as auto
    for name in ("MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES", "MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES",
                 "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES",
                 "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "MODEL_MAPPING_NAMES"):
        found = getattr(auto, name, {}).get(job["model_type"])
        if found:
            cls = getattr(transformers, found if isinstance(found, str) else found[0])
            break
with torch.device("meta"):
    model = cls._from_config(config)
model.tie_weights()
seen, total, linear, experts = set(), 0, 0, 0
layers = {}
for name, p in model.named_parameters():
    if id(p) in seen:
        continue
    seen.add(id(p))
    total += p.numel()
    parts = name.split(".")
    if "experts" in parts[:-1] or "experts" in parts[-1]:
        experts += p.numel()
    for i, part in enumerate(parts[:-1]):
        if part.isdigit() and parts[i - 1] in ("layers", "h", "layer", "blocks") and "vision" not in name \
                and "visual" not in name and "audio" not in name and "encoder" not in parts[:i]:
            layers[int(part)] = layers.get(int(part), 0) + p.numel()
            break
for module in model.modules():
    if isinstance(module, torch.nn.Linear) and id(module.weight) in seen:
        linear += module.weight.numel()
out.write(json.dumps({"total": total, "linear": linear, "experts": experts, "class": cls.__name__,
                      "layers": [layers[i] for i in sorted(layers)]}))
"""


@frozen
class MetaCount:
    """What a meta-device build holds: the total, the parts quantization touches, and each decoder layer."""

    total: int
    linear: int
    experts: int
    layers: tuple[int, ...]
    model_class: str
    version: str
    """The installed transformers release that built it."""


def available() -> tuple[str, str] | None:
    """(transformers version, torch version) when both are installed here and the build is not disabled."""
    if os.environ.get(DISABLE_ENV, "") not in ("", "0"):
        return None
    tf = find_distribution("transformers", sys.path)
    torch = find_distribution("torch", sys.path)
    if tf is None or torch is None:
        return None
    return tf[1], torch[1]


def meta_count(config: dict[str, Any], model_type: str, architecture: str | None,
               timeout: float = TIMEOUT_S) -> Fact[MetaCount]:
    """The exact count of CONFIG as the installed transformers builds it, or unknown with the reason."""
    versions = available()
    src = "meta-device build (installed transformers)"
    if versions is None:
        return Fact.unknown("torch and transformers are not both installed here (or the build is disabled)", src)
    data = {k: v for k, v in config.items() if k not in ("auto_map", "quantization_config")}
    job = {"model_type": model_type, "architecture": architecture, "config": data}
    blob = json.dumps({"job": job, "versions": versions, "format": FORMAT}, sort_keys=True, default=str)
    key = hashlib.sha256(blob.encode()).hexdigest()[:32]
    hit = cache_read(CACHE_FILE).get(key)
    if isinstance(hit, dict) and isinstance(hit.get("ignored"), list):
        return Fact.unknown(_ignored(hit["ignored"], versions[0]), f"{src} {versions[0]}, cached")
    if isinstance(hit, dict) and isinstance(hit.get("total"), int):
        return Fact.of(_from_json(hit, versions[0]), f"{src} {versions[0]}, cached")
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(job, default=str),
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false"})
    except subprocess.TimeoutExpired:
        return Fact.unknown(f"the meta-device build took longer than {timeout:.0f} s", src)
    except OSError as exc:
        return Fact.unknown(f"the meta-device build could not start: {exc}", src)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return Fact.unknown(f"transformers {versions[0]} could not build it on the meta device: {last}", src)
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if isinstance(result.get("ignored"), list):
            cache_write(CACHE_FILE, {key: result}, keep=256)
            return Fact.unknown(_ignored(result["ignored"], versions[0]), f"{src} {versions[0]}")
        found = _from_json(result, versions[0])
    except (ValueError, IndexError, KeyError, TypeError, AttributeError):
        return Fact.unknown("the meta-device build printed no count", src)
    cache_write(CACHE_FILE, {key: result}, keep=256)
    return Fact.of(found, f"{src} {versions[0]}")


def _ignored(found: list[Any], version: str) -> str:
    """Why a build is not this config's: transformers reads some of its sizes as defaults."""
    shown = "; ".join(str(x) for x in found[:3])
    return (f"transformers {version} does not read this config.json as written ({shown}), so its meta-device build "
            "would count its default model, not this checkpoint")


def _from_json(data: dict[str, Any], version: str) -> MetaCount:
    return MetaCount(int(data["total"]), int(data["linear"]), int(data["experts"]),
                     tuple(int(x) for x in data.get("layers") or ()), str(data.get("class", "")), version)
