"""The static scanner against a miniature tree and against the real, imported transformers 5.23."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from advisor.facts.transformers_scan import COMPATIBLE, FLAG_NAMES, AttnFlags, Era, TransformersTree
from advisor.facts.transformers_support import installed_transformers

TINY = Path(__file__).parent / "data" / "tiny_tree"

# Auto-mapped classes of 5.23.0 that cannot be imported on this machine, with the reason.
UNIMPORTABLE: dict[str, str] = {
    "HiggsAudioV2TokenizerModel": "its module imports torchaudio, which the test environment lacks",
}


@pytest.fixture(scope="module")
def installed_tree() -> TransformersTree:
    installed = installed_transformers()
    assert installed is not None and str(installed.version) == "5.23.0"
    return TransformersTree(installed.root)


def test_tiny_tree_mappings() -> None:
    tree = TransformersTree(TINY)
    assert tree.native_model_types() == {"base", "child", "child-legacy", "extra"}
    mappings = tree.auto_mappings()
    assert mappings.by_auto["AutoModel"]["child"] == ("ChildModel", "ChildOtherModel")
    assert mappings.by_auto["AutoModelForCausalLM"] == {
        "child": ("ChildForCausalLM",),
        "child-legacy": ("ChildLegacyForCausalLM",),
    }
    assert mappings.class_auto()["BaseForConditionalGeneration"] == "AutoModelForSeq2SeqLM"
    assert mappings.class_auto()["ChildOtherModel"] == "AutoModel"
    defaults = mappings.type_default()
    assert defaults["base"] == ("AutoModelForSeq2SeqLM", "BaseForConditionalGeneration")
    assert defaults["child"] == ("AutoModelForCausalLM", "ChildForCausalLM")


def test_tiny_tree_flags_follow_bases_across_files() -> None:
    tree = TransformersTree(TINY)
    era = tree.era()
    legacy_too = ("_supports_flash_attn", "_supports_flash_attn_2")
    assert era == Era(legacy_too, ("_supports_flash_attn",), True, False)
    base = tree.class_flags("BaseModel")
    assert base is not None and base.values == {
        "_supports_sdpa": True,
        "_supports_flash_attn": True,
        "_supports_flex_attn": False,
    }
    # Mixin outside models/ comes first in the MRO; the child's own `_supports_sdpa = False` wins over Parent.
    child = tree.class_flags("ChildModel", "child")
    assert child is not None
    assert child.effective(era) == AttnFlags(sdpa=False, flash2=True, flash3=True, flex=True)
    assert "mixins.py" in child.files and "models/base/modeling_base.py" in child.files
    # `Parent._supports_sdpa` read through the import alias.
    other = tree.class_flags("ChildOtherModel")
    assert other is not None and other.values["_supports_flex_attn"] is True
    # A property is a truthy object when the class attribute is read.
    causal = tree.class_flags("ChildForCausalLM")
    assert causal is not None and causal.effective(era).code == "S23X"
    legacy = tree.class_flags("ChildLegacyForCausalLM")
    assert legacy is not None and legacy.effective(era).code == "2"
    seq2seq = tree.class_flags("BaseForConditionalGeneration")
    assert seq2seq is not None
    assert seq2seq.compatible_flash == ("kernels-community/vllm-flash-attn3", "flash_attention_4")
    assert tree.class_flags("NoSuchModel") is None


def test_era_detection_by_generation() -> None:
    old = "class PreTrainedModel:\n    _supports_flash_attn_2 = False\n    _supports_sdpa = False\n"
    assert Era.detect(old) == Era(("_supports_flash_attn_2",), (), False, False)
    fa3 = old + "    _supports_flash_attn_3 = False\n    _supports_flex_attn = False\n"
    assert Era.detect(fa3) == Era(("_supports_flash_attn_2",), ("_supports_flash_attn_3",), True, False)
    new = (
        "class PreTrainedModel:\n    _supports_flash_attn: bool = False\n"
        "    _compatible_flash_implementations = None\n"
    )
    assert Era.detect(new) == Era(("_supports_flash_attn",), ("_supports_flash_attn",), False, True)


def test_attn_flag_codes_round_trip() -> None:
    for code in ("-", "S", "S2", "23X", "S23X", "SX"):
        assert AttnFlags.from_code(code).code == code


def test_mappings_equal_the_imported_ones(installed_tree: TransformersTree) -> None:
    from transformers.models.auto import configuration_auto, modeling_auto

    assert installed_tree.native_model_types() == frozenset(configuration_auto.CONFIG_MAPPING_NAMES)
    mappings = installed_tree.auto_mappings()
    real = [
        _as_tuples(getattr(modeling_auto, name))
        for name in dir(modeling_auto)
        if name.startswith("MODEL") and name.endswith("_NAMES")
    ]
    ours = [*mappings.by_auto.values(), *mappings.other.values()]
    assert sorted(map(repr, ours)) == sorted(map(repr, real))
    for auto, names in mappings.by_auto.items():
        assert names == _as_tuples(getattr(modeling_auto, auto)._model_mapping._model_mapping), auto
    assert mappings.class_auto()["WhisperForConditionalGeneration"] == "AutoModelForSpeechSeq2Seq"


def _as_tuples(names: dict[str, str | tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) if isinstance(v, tuple | list) else (v,) for k, v in names.items()}


def test_every_auto_class_matches_the_imported_class(installed_tree: TransformersTree) -> None:
    """The static reading equals `getattr(cls, flag, False)` after a real import, for all auto classes."""
    classes = sorted(installed_tree.auto_mappings().all_classes())
    assert len(classes) > 1500
    mismatches: list[str] = []
    failed: dict[str, str] = {}
    for name in classes:
        scanned = installed_tree.class_flags(name)
        assert scanned is not None, name
        rel = installed_tree.find_class(name)
        assert rel is not None, name
        module = "transformers." + rel.removesuffix(".py").replace("/", ".")
        try:
            cls = getattr(importlib.import_module(module), name)
        except Exception as exc:  # any import failure is recorded with its reason
            failed[name] = f"{type(exc).__name__}: {exc}"
            continue
        assert not scanned.unresolved, (name, scanned.unresolved)
        for flag in FLAG_NAMES:
            if bool(getattr(cls, flag, False)) != scanned.values.get(flag, False):
                mismatches.append(f"{name}.{flag}")
        if tuple(getattr(cls, COMPATIBLE, None) or ()) != scanned.compatible_flash:
            mismatches.append(f"{name}.{COMPATIBLE}")
    assert mismatches == []
    assert set(failed) <= set(UNIMPORTABLE), failed
    assert len(UNIMPORTABLE) <= 3
