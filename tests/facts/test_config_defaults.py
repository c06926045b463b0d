"""Config classes read statically: the installed transformers 5.23 (dataclass fields) and a 4.x-style tree
(`__init__` keyword defaults), completed the way transformers fills a config.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor import api
from advisor.facts import config_defaults as cd
from advisor.facts.bundle import Request
from advisor.facts.config_defaults import ConfigReader, complete, config_defaults, installed_reader
from advisor.facts.locate import load_model
from advisor.facts.transformers_support import installed_transformers

ROOT = Path(__file__).resolve().parents[2]
GEMMA3 = ROOT / "fixtures" / "new-architectures" / "google__gemma-3-4b-it__shape.json"


def _installed_root() -> Path:
    found = installed_transformers()
    assert found is not None
    return found.root


def test_the_installed_dataclass_fields_are_the_defaults_transformers_builds() -> None:
    from transformers import AutoConfig  # the tests run with transformers installed: compare with it

    for model_type in ("gemma3_text", "llama", "qwen3_moe", "deepseek_v3", "mimo_v2_flash"):
        read = config_defaults(_installed_root(), model_type)
        built = AutoConfig.for_model(model_type).to_dict()
        scalars = {k: v for k, v in read.items() if isinstance(v, int | float | str | bool) and k in built}
        assert len(scalars) > 10, model_type
        differ = {k: (v, built[k]) for k, v in scalars.items() if built[k] != v}
        # what __post_init__ computes from other fields is not a default (head_dim from the hidden size, ...)
        assert set(differ) <= {"head_dim", "num_key_value_heads", "sliding_window", "use_cache"}, (model_type, differ)


def test_an_abbreviated_text_config_is_completed_from_its_class() -> None:
    raw = json.loads(GEMMA3.read_text())
    done, filled = complete(raw, _installed_root())
    text = done["text_config"]
    assert len(raw["text_config"]) == 6 and text["num_attention_heads"] == 8 and text["head_dim"] == 256
    assert text["sliding_window"] == 1024  # what the config says stays
    assert text["sliding_window_pattern"] == 6  # read from `kwargs.get("sliding_window_pattern", 6)`
    assert done["vision_config"]["model_type"] == "siglip_vision_model"  # the default tower transformers builds
    assert "text_config.num_attention_heads" in filled and "vision_config" in filled


def test_recommend_answers_for_the_abbreviated_gemma3() -> None:
    target = api.Target(gpu="L4", software_file=ROOT / "fixtures/software/cuda-tf5.23.json")
    facts = api.facts_for(load_model(str(GEMMA3)), api.hardware_facts(target), api.software_facts(target),
                          Request())
    assert facts.model.num_heads.value == 8 and facts.model.head_dim.value == 256
    assert any("completed from the defaults of transformers 5.23.0" in n for n in facts.model.source.notes)
    rec = api.recommend(facts)
    assert rec.memory is not None and rec.memory.parameters is not None
    assert rec.memory.kv_cache_bytes_per_token == 2 * 69632  # 5 of every 6 layers slide: as transformers builds


def test_old_key_spellings_are_read() -> None:
    reader = ConfigReader(_installed_root())
    bloom = reader.config_class("bloom")
    assert bloom is not None and bloom.legacy_keys == {"n_embed": "hidden_size"}
    assert bloom.attribute_map["num_hidden_layers"] == "n_layer"
    done, _ = reader.complete({"model_type": "bloom", "n_embed": 1024, "n_layer": 24})
    assert done["hidden_size"] == 1024 and done["n_layer"] == 24 and "num_hidden_layers" not in done


def test_a_4x_source_tree_is_read_from_init_defaults(tmp_path: Path) -> None:
    pkg = tmp_path / "transformers"
    (pkg / "models" / "auto").mkdir(parents=True)
    (pkg / "models" / "toy").mkdir()
    (pkg / "configuration_utils.py").write_text(
        "class PretrainedConfig:\n"
        "    def __init__(self, **kwargs):\n"
        "        self.tie_word_embeddings = kwargs.pop('tie_word_embeddings', True)\n")
    (pkg / "models" / "auto" / "configuration_auto.py").write_text(
        "CONFIG_MAPPING_NAMES = OrderedDict(\n    [\n        (\"toy\", \"ToyConfig\"),\n"
        "        (\"toy_text\", \"ToyTextConfig\"),\n    ]\n)\n")
    (pkg / "models" / "toy" / "configuration_toy.py").write_text(
        "from ...configuration_utils import PretrainedConfig\n\n\n"
        "class ToyTextConfig(PretrainedConfig):\n"
        "    model_type = 'toy_text'\n"
        "    attribute_map = {'n_embd': 'hidden_size'}\n\n"
        "    def __init__(self, vocab_size=32_000, hidden_size=4096, num_hidden_layers=2 * 16, head_dim=None,\n"
        "                 **kwargs):\n"
        "        self.window_pattern = kwargs.get('window_pattern', 4)\n"
        "        super().__init__(**kwargs)\n\n\n"
        "class ToyConfig(PretrainedConfig):\n"
        "    model_type = 'toy'\n"
        "    sub_configs = {'text_config': ToyTextConfig}\n\n"
        "    def __init__(self, text_config=None, image_token_index=7, **kwargs):\n"
        "        super().__init__(**kwargs)\n")
    reader = ConfigReader(tmp_path)
    text = reader.config_class("toy_text")
    assert text is not None and text.defaults["num_hidden_layers"] == 32 and text.defaults["vocab_size"] == 32000
    assert text.kwarg_defaults["window_pattern"] == 4 and text.kwarg_defaults["tie_word_embeddings"] is True
    done, _ = reader.complete({"model_type": "toy", "text_config": {"n_embd": 512}})
    assert done["image_token_index"] == 7
    assert done["text_config"] == {"n_embd": 512, "vocab_size": 32000, "num_hidden_layers": 32, "window_pattern": 4,
                                   "tie_word_embeddings": True}
    assert config_defaults(pkg, "toy")["text_config"]["vocab_size"] == 32000  # the package directory works too


def test_another_target_release_is_said_to_get_the_installed_defaults() -> None:
    target = api.Target(gpu="L4", software_file=ROOT / "fixtures/software/torch-2.7-cu128-tf-4.57-fa-2.8.3.json")
    facts = api.facts_for(load_model(str(GEMMA3)), api.hardware_facts(target), api.software_facts(target),
                          Request())
    note = next(n for n in facts.model.source.notes if "completed from the defaults" in n)
    assert "the target is transformers 4.57" in note and "installed release" in note


def test_the_reader_keeps_its_classes_in_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cd, "_READERS", {})
    found = installed_reader()
    assert found is not None and found[0].config_class("llama") is not None
    cached = json.loads((tmp_path / cd.CACHE_FILE).read_text())
    assert any(k.endswith("|llama") for k in cached)
    monkeypatch.setattr(cd, "_READERS", {})
    again = installed_reader()
    assert again is not None

    def parse(*_: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(again[0], "_read", parse)
    assert again[0].config_class("llama") is not None
