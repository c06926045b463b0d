"""A BetterTransformer conversion, and a class named like a model that does not come from transformers."""

from transformers.models.llama import LlamaForCausalLM

from mylib import AutoModel

model = LlamaForCausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", revision="main")
model = model  # noqa: PLW0127
fast = model.to_bettertransformer()
other = AutoModel.from_pretrained("meta-llama/Meta-Llama-3.1-8B", attn_implementation="flash_attention_2")
