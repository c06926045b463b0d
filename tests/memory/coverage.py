"""advisor's memory model against transformers' own (tests/memory/truth.py), architecture by architecture.

advisor is asked as it answers from config.json alone (the formula table, else the generic estimate, else
unknown; no safetensors, no meta-device build): for the parameters and for the cache (elements per decoder
token, fixed state per sequence, elements per encoder token). Each answer lands in one bucket:

- exact: labelled exact and within 0.1 % (every figure);
- estimate: labelled an estimate, at most 1 % below and at most 25 % above (every figure);
- unknown: no figure, with the reason;
- no truth: transformers could not build or run its own default;
- and the failures: wrong-exact (labelled exact, off by more than 0.1 %), low (an estimate more than 1 %
  below), high (an estimate more than 25 % above).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from advisor.facts.config_defaults import ConfigReader, installed_reader
from advisor.facts.model import _text_config
from advisor.memory.config import MissingSize
from advisor.memory.kvcache import cache_spec
from advisor.memory.params import TABLE, count_parameters
from tests.memory import truth as truth_mod

ROOT = Path(__file__).resolve().parents[2]
NEW_ARCHITECTURES = ROOT / "fixtures" / "new-architectures"
EXACT, LOW, HIGH = 0.001, -0.01, 0.25
FAILURES = ("wrong-exact", "low", "high")
DERIVED = ("layer_types", "mlp_layer_types", "per_layer_config", "rope_parameters")
"""Lists 5.x configs compute and save, which 4.x checkpoints never wrote."""
NO_TRUTH_CONFIGS = {"stepfun-ai__Step-3.7-Flash": "the stored file is flat while transformers 5.23's step3p7 is a "
                    "composite config, so transformers builds its default text model instead of this one"}


def bucket(got: float | None, truth: float | None, exact: bool) -> str:
    if truth is None:
        return "no truth"
    if got is None:
        return "unknown"
    if truth == 0:
        return ("exact" if exact else "estimate") if got == 0 else ("wrong-exact" if exact else "high")
    err = got / truth - 1
    if exact:
        return "exact" if abs(err) <= EXACT else "wrong-exact"
    return "low" if err < LOW else "high" if err > HIGH else "estimate"


def worst(buckets: Iterable[str]) -> str:
    found = list(buckets)
    for b in (*FAILURES, "unknown", "no truth", "estimate", "exact"):
        if b in found:
            return b
    return "unknown"


def advisor_answer(config: dict[str, Any]) -> dict[str, Any]:
    """What advisor says from CONFIG alone: parameters and cache, each with whether it is exact."""
    mt = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    arch = (config.get("architectures") or [None])[0]
    text = _text_config(config)
    out: dict[str, Any] = {}
    count = count_parameters(config, text, mt, arch)
    if isinstance(count, str):
        out["params_reason"] = count
    else:
        out.update(params=count.total, params_exact=count.exact, params_source=count.method)
    try:
        spec = cache_spec(config, text, mt, arch, mla_latent=True)
    except MissingSize as exc:
        out["cache_reason"] = str(exc)
    else:
        out.update(per_token=spec.per_token(), state=spec.state, cross=spec.cross_per_token, cache_exact=spec.exact)
    return out


def compare(answer: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """The buckets of one architecture (params, cache) with the figures behind them."""
    row: dict[str, Any] = {"advisor": answer}
    if truth.get("params") is None:
        row["params"] = "no truth"
    elif "params" not in answer:
        row["params"] = "unknown"
    else:
        row["params"] = bucket(answer["params"], truth["params"], answer["params_exact"])
        row["params_pct"] = round(100 * (answer["params"] / truth["params"] - 1), 2)
    cache = truth.get("cache")
    if cache is None:
        row["cache"] = "no truth"
    elif "per_token" not in answer:
        row["cache"] = "unknown"
    else:
        pairs = [(answer["per_token"], cache["per_token"]), (answer["state"], cache["state"])]
        if cache.get("cross_per_token") is not None:  # None: measured through the language model alone
            pairs.append((answer["cross"], cache["cross_per_token"]))
        row["cache"] = worst(bucket(g, t, answer["cache_exact"]) for g, t in pairs)
    row["truth"] = {"params": truth.get("params"),
                    **({k: cache.get(k) for k in ("per_token", "state", "cross_per_token")} if cache else {})}
    return row


def abbreviate(config: dict[str, Any], reader: ConfigReader) -> dict[str, Any]:
    """CONFIG as a 4.x checkpoint would have written it: every key equal to its class's default left out (at every
    level), and no derived lists (`layer_types`, `mlp_layer_types`, `per_layer_config`, `rope_parameters`)."""
    mt = config.get("model_type")
    cls = reader.config_class(mt) if isinstance(mt, str) else None
    if cls is None:
        return config
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key in cls.sub_configs and isinstance(value, dict):
            out[key] = abbreviate({**value, "model_type": value.get("model_type", cls.sub_configs[key])}, reader)
        elif key in DERIVED or (key != "model_type" and key in cls.defaults and cls.defaults[key] == value):
            continue
        else:
            out[key] = value
    return out


def completed(config: dict[str, Any]) -> dict[str, Any]:
    """CONFIG completed from the installed transformers' config classes, as advisor's facts do it."""
    found = installed_reader()
    assert found is not None, "the tests run with transformers installed"
    done, _ = found[0].complete(config)
    return done


def perturbed(config: dict[str, Any]) -> dict[str, Any]:
    """Other sizes for a table formula to meet: 3 layers, half the key/value heads, wider MLP, larger vocabulary,
    tying flipped, every boolean bias key flipped."""
    c: dict[str, Any] = json.loads(json.dumps(config))
    n = c.get("num_hidden_layers")
    if isinstance(n, int) and n > 3:
        c = truth_mod.truncate_layers(c, 3, n)
    heads, kv = c.get("num_attention_heads"), c.get("num_key_value_heads")
    if isinstance(heads, int) and isinstance(kv, int) and kv > 1 and kv % 2 == 0 and heads % (kv // 2) == 0:
        c["num_key_value_heads"] = kv // 2
    for key, step in (("intermediate_size", 64), ("vocab_size", 64)):
        if isinstance(c.get(key), int):
            c[key] += step
    c["tie_word_embeddings"] = not c.get("tie_word_embeddings", False)
    for key in ("attention_bias", "mlp_bias", "use_bias", "bias", "qkv_bias"):
        if isinstance(c.get(key), bool):
            c[key] = not c[key]
    return c


def table_types(truth: dict[str, dict[str, Any]]) -> list[str]:
    """Model types of the formula table that transformers builds, text-only (a wrapper's towers are estimated)."""
    out = []
    for mt, rec in truth.items():
        cfg = rec.get("config")
        if mt in TABLE and cfg and rec.get("params") is not None and _text_config(cfg) is cfg:
            out.append(mt)
    return sorted(out)


def real_configs() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(NEW_ARCHITECTURES.glob("*.json"))}


def truth_jobs() -> list[dict[str, Any]]:
    """Every job the comparison needs: each model type's default, each real config."""
    jobs = truth_mod.default_jobs()
    jobs += [truth_mod.config_job(f"real:{stem}", raw) for stem, raw in real_configs().items()]
    return jobs


def perturbed_jobs(truth: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Parameter counts (no cache) of the perturbed default of every table type."""
    classes = truth_mod.model_types()
    return [{"key": f"perturbed:{mt}", "config": perturbed(truth[mt]["config"]), "cls": classes[mt], "cache": False}
            for mt in table_types(truth)]


def coverage(truth: dict[str, dict[str, Any]], abbreviated: bool = False) -> dict[str, dict[str, Any]]:
    """The comparison row of every model type (from its default config, or abbreviated and completed)."""
    found = installed_reader()
    assert found is not None
    rows: dict[str, dict[str, Any]] = {}
    for mt in truth_mod.model_types():
        rec = truth.get(mt, {})
        cfg = rec.get("config")
        if cfg is None:
            rows[mt] = {"params": "no truth", "cache": "no truth", "why": rec.get("error", "no result")}
            continue
        if abbreviated:
            cfg = completed(abbreviate(cfg, found[0]))
        rows[mt] = compare(advisor_answer(cfg), rec)
        if rec.get("params_error") or rec.get("cache_error"):
            rows[mt]["why"] = rec.get("params_error") or rec.get("cache_error")
    return rows


def counts(rows: dict[str, dict[str, Any]], key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows.values():
        out[row[key]] = out.get(row[key], 0) + 1
    return dict(sorted(out.items()))
