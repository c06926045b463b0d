"""Calls lint must report as unresolved, and text that only looks like a call."""

import os

from transformers import AutoModelForCausalLM, AutoTokenizer

# AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", attn_implementation="eager")
HELP = 'AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", torch_dtype="bfloat16")'
tokenizer = AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3.1-8B")


def load(**kwargs: object) -> object:
    """Keyword unpacking: any flag could be in kwargs."""
    return AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", **kwargs)


def load_named() -> object:
    """A model id and an attention kernel held in variables."""
    name = os.environ["MODEL"]
    attn = os.environ.get("ATTN", "sdpa")
    return AutoModelForCausalLM.from_pretrained(name, attn_implementation=attn)


def load_dict() -> object:
    """A literal dict unpacked is still literal."""
    return AutoModelForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", **{"torch_dtype": "float16"})
