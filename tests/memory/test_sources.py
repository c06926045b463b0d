"""Where a parameter count comes from, best first: safetensors headers, a meta-device build, the formula table,
the generic estimate, or unknown; and what each means for the placement."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import save_file

from advisor import api
from advisor.facts.bundle import Facts, Request
from advisor.facts.locate import load_model
from advisor.facts.model_source import load_local
from advisor.facts.safetensors_local import local_parameters
from advisor.memory.plan import plan_memory
from tests.memory import coverage
from tests.memory.conftest import CONFIGS, ROOT, SOFTWARE

LLAMA8 = CONFIGS / "meta-llama__Meta-Llama-3.1-8B.json"
OLMOE = "allenai__OLMoE-1B-7B-0125-Instruct"


def _facts(model: str | Path, gpu: str = "H100", with_packages: tuple[str, ...] = ()) -> Facts:
    target = api.Target(gpu=gpu, software_file=SOFTWARE, with_packages=with_packages)
    return api.facts_for(load_model(str(model)), api.hardware_facts(target), api.software_facts(target), Request())


def _folder(tmp: Path, shards: dict[str, dict[str, Any]]) -> Path:
    folder = tmp / "model"
    folder.mkdir()
    (folder / "config.json").write_text(LLAMA8.read_text())
    weight_map = {}
    for name, tensors in shards.items():
        save_file(tensors, str(folder / name))
        weight_map.update({t: name for t in tensors})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    return folder


def test_local_safetensors_headers_give_the_exact_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_META_BUILD", "1")
    folder = _folder(tmp_path, {
        "model-00001-of-00002.safetensors": {"a": np.zeros((4, 8), np.float16), "b": np.zeros(3, np.float32)},
        "model-00002-of-00002.safetensors": {"c": np.zeros((2, 5), np.float16)},
    })
    src = load_local(str(folder))
    assert src.parameters == {"F16": 42, "F32": 3} and src.parameters_source == "safetensors headers"
    plan = plan_memory(_facts(folder))
    assert plan.count is not None and plan.count.exact and plan.count.total == 45
    assert plan.count.method == "safetensors headers"
    memory = api.recommend(_facts(folder)).memory
    assert memory is not None and memory.placement is not None
    assert memory.placement.weights_source == "safetensors headers"


def test_a_header_beyond_the_format_limit_is_not_read(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    with (folder / "model.safetensors").open("wb") as fh:
        fh.write(struct.pack("<Q", 1 << 40))  # claims a terabyte of header, holds nothing
    found, why = local_parameters(folder)
    assert found is None and why is not None and "100 MB" in why
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", 8) + b"not json")
    found, why = local_parameters(folder)
    assert found is None and why is not None and "not JSON" in why
    (folder / "config.json").write_text(LLAMA8.read_text())
    plan = plan_memory(_facts(folder))  # the headers failing, the formula table still counts it exactly
    assert plan.count is not None and plan.count.exact and "formula table" in plan.count.method


def test_a_meta_device_build_counts_what_the_table_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            ground_truth: dict[str, Any]) -> None:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ADVISOR_NO_META_BUILD", raising=False)
    path = coverage.NEW_ARCHITECTURES / f"{OLMOE}.json"
    plan = plan_memory(_facts(path))
    assert plan.count is not None and plan.count.exact
    assert plan.count.total == ground_truth[f"real:{OLMOE}"]["params"]
    assert plan.count.method.startswith("meta-device build (transformers 5.23.0")
    assert sum(1 for u in plan.count.units if u.kind == "layer") == 16  # placeable per layer, as accelerate does
    started: list[Any] = []
    real = subprocess.run

    def spy(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    again = plan_memory(_facts(path))
    assert again.count is not None and again.count.total == plan.count.total and not started  # from the cache


def test_a_config_transformers_does_not_read_as_written_gets_no_meta_count(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Step-3.7-Flash's stored config is flat; transformers 5.23's step3p7 class is composite and builds its
    default text model from it, so a meta-device build would count that model, not this checkpoint."""
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ADVISOR_NO_META_BUILD", raising=False)
    facts = _facts(coverage.NEW_ARCHITECTURES / "stepfun-ai__Step-3.7-Flash.json", gpu="H200")
    plan = plan_memory(facts)
    assert plan.count is None and plan.reason is not None
    assert "does not read this config.json as written (`vocab_size` = 128896" in plan.reason
    assert api.recommend(facts).flags.get("device_map") != {"": 0}


def test_an_estimate_is_labelled_and_keeps_more_room(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_META_BUILD", "1")
    facts = _facts(coverage.NEW_ARCHITECTURES / f"{OLMOE}.json")
    rec = api.recommend(facts)
    assert rec.memory is not None
    memory = rec.memory.to_json()
    assert memory["parameters_exact"] is False and "generic estimate" in memory["parameters_source"]
    assert any(f.rule == "MEM-ESTIMATE" for f in rec.findings)
    gpu = memory["per_gpu"][0]
    assert gpu["estimate_margin_bytes"] == int(memory["weights_bytes"] * 0.05)
    assert gpu["total_bytes"] > gpu["weights_bytes"] + gpu["kv_cache_bytes"] + gpu["margin_bytes"]


def test_an_unknown_count_never_gets_one_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_META_BUILD", "1")
    facts = _facts(coverage.NEW_ARCHITECTURES / "deepseek-ai__DeepSeek-V4-Flash.json", gpu="B200x8")
    rec = api.recommend(facts)
    assert rec.memory is not None and rec.memory.parameters is None
    assert rec.flags.get("device_map") == "auto"
    rejected = next(d for d in rec.decisions if d.flag == "device_map").rejected
    assert any(r.value == {"": 0} and any(x.rule == "MEM-COUNT-UNKNOWN" for x in r.reasons) for r in rejected)


@pytest.mark.parametrize(("release", "per_layer"), [("5.14.0", 128 * (128 + 64) + 128 * 128), ("5.15.0", 512 + 64)])
def test_latent_attention_caches_the_latent_from_5_15(release: str, per_layer: int) -> None:
    """transformers 5.14 caches DeepSeek-V3's keys and values after `kv_b_proj`, 5.15 the compressed latent
    (models/deepseek_v3/modeling_deepseek_v3.py of both wheels)."""
    plan = plan_memory(_facts(CONFIGS / "deepseek-ai__DeepSeek-V3.json", with_packages=(f"transformers=={release}",)))
    assert plan.spec is not None and plan.spec.per_token() == 61 * per_layer


def test_every_head_dimension_reaches_the_flash_attention_rule() -> None:
    gemma4 = _facts(coverage.NEW_ARCHITECTURES / "google__gemma-4-26B-A4B.json")
    assert gemma4.model.head_dim.value == 256 and gemma4.model.max_head_dim.value == 512
    assert _facts(ROOT / "fixtures/configs/deepseek-ai__DeepSeek-V3.json").model.max_head_dim.value == 192
