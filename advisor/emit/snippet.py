"""A ready-to-paste Python snippet that loads the model with the recommended flags."""

from __future__ import annotations

from pathlib import Path

from advisor.core.results import Recommendation
from advisor.engine.flags import repr_json
from advisor.engine.pack import load_flags
from advisor.facts.bundle import Facts

PLACEHOLDER = "path/to/model"
"""What the snippet loads when the user gave a loose config file: the folder or repo id goes there."""
NOTE_WIDTH = 96
AUTO_PREFERENCE = ("AutoModelForCausalLM", "AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq",
                   "AutoModelForImageTextToText", "AutoModelForVision2Seq", "AutoModelForMaskedLM", "AutoModel")


def auto_class(facts: Facts) -> str:
    """The Auto class that loads this model: from the target transformers, or from the remote code's auto_map."""
    arch = facts.arch.value
    native = getattr(arch, "native", False) if facts.arch.known else False
    chosen = getattr(arch, "auto_class", None)
    if native and chosen:
        return str(chosen)
    auto_map = facts.model.auto_map
    for name in AUTO_PREFERENCE:
        if name in auto_map:
            return name
    name = facts.model.architecture.value or ""
    if facts.model.encoder_decoder:
        return "AutoModelForSeq2SeqLM"
    if name.endswith(("ForCausalLM", "LMHeadModel")):
        return "AutoModelForCausalLM"
    if name.endswith("ForMaskedLM"):
        return "AutoModelForMaskedLM"
    return "AutoModel"


def model_reference(facts: Facts) -> str:
    """What to pass as the first argument: the repo id, or the local folder holding config.json.

    A loose JSON file that is not named config.json is not a model folder, and its `_name_or_path` may
    name another model (the one it was fine-tuned from): a placeholder says what to put there.
    """
    src = facts.model.source
    if src.source != "local":
        return src.id
    path = Path(src.id)
    if path.is_dir() or path.name == "config.json":
        return str(path if path.is_dir() else path.parent)
    return PLACEHOLDER


def python_snippet(facts: Facts, rec: Recommendation) -> str:
    specs = {s.name: s for s in load_flags()}
    cls = auto_class(facts)
    model_id = repr_json(model_reference(facts))
    config_attn = facts.model.config_attn_impl.value
    chosen_attn = rec.flags.get("attn_implementation")
    explicit_config = bool(config_attn) and chosen_attn is not None and chosen_attn != config_attn
    emitted = [d for d in rec.decisions if d.value is not None]
    imports = ["AutoConfig", cls] if explicit_config else [cls]
    imports += [name for d in emitted for name in specs[d.flag].imports]
    args = [model_id]
    lines = [f"# {note}" for note in loading_notes(rec)]
    if model_reference(facts) == PLACEHOLDER:
        lines.append("# path/to/model: the folder (or Hub repo id) of the model this config.json describes")
    if explicit_config:
        cfg_args = [model_id] + [f"{k}={repr_json(v)}" for k, v in rec.flags.items()
                                 if k in ("revision", "trust_remote_code")]
        lines.append(f"# config.json sets _attn_implementation={config_attn!r}, which wins over the keyword")
        lines.append(f"config = AutoConfig.from_pretrained({', '.join(cfg_args)})")
        args.append("config=config")
    args += [f"{d.name}={specs[d.flag].python(d.value)}" for d in emitted]
    body = ",\n".join(f"    {a}" for a in args)
    lines.append(f"model = {cls}.from_pretrained(\n{body},\n)")
    head = ["import torch"] if any("torch." in a for a in args) else []
    head += [f"from transformers import {', '.join(dict.fromkeys(imports))}", ""]
    return "\n".join(head + lines) + "\n"


def loading_notes(rec: Recommendation) -> list[str]:
    """One comment for each error or warning: what the code below will meet when it loads the model."""
    notes: list[str] = []
    for f in rec.findings:
        if f.severity == "info":
            continue
        first = f.message.split(". ", 1)[0].split("; ", 1)[0].replace("\n", " ")
        text = f"{f.severity} {f.rule}: {first}"
        notes.append(text if len(text) <= NOTE_WIDTH else text[: NOTE_WIDTH - 1].rstrip() + "…")
    return notes


def recommendation_python(rec: Recommendation) -> str:
    """`--format python`: the snippet alone."""
    return rec.python
