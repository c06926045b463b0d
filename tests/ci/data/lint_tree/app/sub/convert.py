"""A BetterTransformer conversion, and a class named like a model that does not come from transformers."""

from mylib import AutoModel
from transformers.models.llama import LlamaForCausalLM

model = LlamaForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", revision="main")
fast = model.to_bettertransformer()
other = AutoModel.from_pretrained("meta-llama/Meta-Llama-3.1-8B", attn_implementation="flash_attention_2")
