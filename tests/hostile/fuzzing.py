"""Mutated configs of every architecture family advisor knows, run through gather → recommend → check → every
output format: the property the hostile-input suite and `benchmarks/hostile_fuzz.py` share."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from advisor import api
from advisor.core.errors import AdvisorError
from advisor.emit import formats
from tests.hostile.harness import CONFIGS, SHARED_CONFIGS

TARGETS = ("T4", "A10G", "L4", "A100-80GB", "H100x8", "RTX4090", "none")


def base_configs() -> list[tuple[str, dict[str, Any]]]:
    """(name, config) of the fixture configs, the shared Hub configs when present and the bundled catalog: one or
    more of every family advisor knows."""
    from advisor.facts.model_catalog import catalog

    found: list[tuple[str, dict[str, Any]]] = []
    for folder in (CONFIGS, SHARED_CONFIGS):
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                found.append((path.name, data))
    found += [(entry.id, entry.config) for entry in catalog().entries.values()]
    return found


BASES = base_configs()

SCALARS = st.one_of(
    st.integers(min_value=-3, max_value=70),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2, 10**9, 10**12, 2**31, 2**63, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 1e-300, 1e308, 1.5]),
    st.booleans(),
    st.none(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=12),
    st.sampled_from(["", "32", "nan", "auto", "sliding_attention", "\x1b[31m", "bfloat16", "llama", "a" * 300]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A base config with one to four of its keys (at any level) replaced, deleted, or added."""
    name, base = draw(st.sampled_from(BASES))
    config: dict[str, Any] = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        holders = [config, *(v for v in _tables(config))]
        table = draw(st.sampled_from(holders))
        keys = sorted(table) or ["num_hidden_layers"]
        key = draw(st.one_of(st.sampled_from(keys), st.sampled_from(
            ["num_hidden_layers", "num_decoder_layers", "layer_types", "sliding_window", "num_experts",
             "attn_layer_period", "head_dim", "quantization_config", "auto_map", "rope_scaling", "text_config"])))
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            table.pop(key, None)
        else:
            table[key] = draw(VALUES)
    return name, config


def _tables(config: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    stack = [config]
    while stack and len(out) < 50:
        for value in stack.pop().values():
            if isinstance(value, dict):
                out.append(value)
                stack.append(value)
    return out


def run_one(config: dict[str, Any], gpu: str, folder: Path) -> str:
    """The whole flow for one config: 'ok', or 'input error' when advisor refused it in one line. Anything else
    (an exception that is not advisor's own) propagates: it is a bug."""
    path = folder / "config.json"
    path.write_text(json.dumps(config, allow_nan=True), encoding="utf-8", errors="surrogatepass")
    target = api.Target(gpu=gpu)
    try:
        facts = api.gather(str(path), target=target, request=api.Request(offline=True))
        rec = api.recommend(facts)
        for name in formats.names("recommendation"):
            assert isinstance(formats.render("recommendation", name, rec), str)
        flags = {k: v for k, v in rec.flags.items() if _jsonable(v)}
        report = api.check_report(model=str(path), flags=flags, targets=[target], request={"offline": True})
        for name in formats.names("report"):
            assert isinstance(formats.render("report", name, report), str)
        assert isinstance(formats.render("facts", "json", facts.to_json()), str)
    except AdvisorError as exc:
        text = str(exc)
        assert text and "Traceback" not in text
        return "input error"
    return "ok"


def _jsonable(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))
