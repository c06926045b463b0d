"""Loading code with the shapes lint must follow: aliases, module aliases, torch dtypes, inline configs."""

import torch
import transformers as tf
from transformers import AutoModelForCausalLM as CausalLM
from transformers import BitsAndBytesConfig

# The plain case: flash-attention-2 in bfloat16 (fails on a T4).
model = CausalLM.from_pretrained(
    "meta-llama/Meta-Llama-3.1-8B",
    attn_implementation="flash_attention_2",
    torch_dtype=torch.bfloat16,
)

# A module alias, a dtype string and a device_map.
encoder = tf.AutoModel.from_pretrained("google-bert/bert-base-uncased", dtype="float32", device_map={"": 0})

# An inline quantization config.
quantized = CausalLM.from_pretrained(
    "meta-llama/Meta-Llama-3.1-8B",
    quantization_config=BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=torch.bfloat16),
)

# A legacy keyword (removed in transformers 4.53).
legacy = CausalLM.from_pretrained("meta-llama/Meta-Llama-3.1-8B", use_flash_attention_2=True)
