"""The twenty most common loading errors of the failure stories in knowledge/peers.md §3, as users paste them.

Each row: the §3 item(s), the error as it reaches the user (a line of a traceback or a log, with the paths
and versions of a real machine), and the rules that explain it. Items 16-19, 21 and 22 of §3 are estimation
and reporting wishes, not errors; items 5, 6, 12 and 14 tell of two errors each.
"""

from __future__ import annotations

import pytest

from advisor import api

COMMON: list[tuple[str, str, set[str]]] = [
    ("1, 3: FlashAttention-2 on a pre-Ampere GPU",
     "  File \"/usr/local/lib/python3.10/dist-packages/flash_attn/flash_attn_interface.py\", line 51, in "
     "_flash_attn_forward\n    out, q, k, v, out_padded, softmax_lse, S_dmask, rng_state = flash_attn_cuda.fwd(\n"
     "RuntimeError: FlashAttention only supports Ampere GPUs or newer.", {"FA2-CC", "LEGACY-FLASH-GPU"}),
    ("2, 11: remote code imports flash_attn",
     "ImportError: This modeling file requires the following packages that were not found in your environment: "
     "flash_attn. Run `pip install flash_attn`", {"REMOTE-HARD-IMPORT"}),
    ("4: bfloat16 on a GPU without it (vLLM's message)",
     "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your Tesla T4 GPU has "
     "compute capability 7.5. You can use float16 instead by explicitly setting the`dtype` flag in CLI, for example: "
     "--dtype=half.", {"DTYPE-BF16-GPU"}),
    ("4: the float16 fallback overflows",
     "RuntimeError: probability tensor contains either `inf`, `nan` or element < 0", {"DTYPE-FP16-OVERFLOW"}),
    ("5: flash-attn built against another torch",
     "ImportError: /opt/conda/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: "
     "undefined symbol: _ZN3c104cuda9SetDeviceEi", {"FA2-IMPORT"}),
    ("5, 6: the flash-attn extension is missing",
     "ModuleNotFoundError: No module named 'flash_attn_2_cuda'", {"FA2-IMPORT"}),
    ("6: pip builds flash-attn from source",
     "Collecting flash-attn\n  Downloading flash_attn-2.8.3.tar.gz (8.4 MB)\n  Preparing metadata (setup.py) ... error"
     "\n  error: subprocess-exited-with-error\n      ModuleNotFoundError: No module named 'torch'", {"FA2-PKG"}),
    ("2, 10: flash_attention_2 requested without flash-attn",
     "ImportError: FlashAttention2 has been toggled on, but it cannot be used due to the following error: the "
     "package flash_attn seems to be not installed. Please refer to the documentation of "
     "https://huggingface.co/docs/transformers/perf_infer_gpu_one#flashattention-2 to install Flash Attention 2.",
     {"FA2-PKG"}),
    ("7: xformers built for another torch",
     "WARNING[XFORMERS]: xFormers can't load C++/CUDA extensions. xFormers was built for:\n    PyTorch 2.1.0+cu121 "
     "with CUDA 1201 (you have 2.2.0+cu121)\n    Python  3.10.13 (you have 3.10.13)", {"XFORMERS-ABI"}),
    ("8: bitsandbytes cannot load its native library",
     "RuntimeError:\n        CUDA Setup failed despite GPU being available. Please run the following command to get "
     "more information:\n\n        python -m bitsandbytes", {"MEM-BNB-IMPORT"}),
    ("9: DeepSpeed and the system CUDA",
     "deepspeed.ops.op_builder.builder.CUDAMismatchException: >- DeepSpeed Op Builder: Installed CUDA version 11.0 "
     "does not match the version torch was compiled with 10.1, unable to compile cuda/cpp extensions without a "
     "matching cuda version.", {"DEEPSPEED-CUDA-MISMATCH"}),
    ("10: the model class has no FlashAttention-2",
     "ValueError: Florence2ForConditionalGeneration does not support Flash Attention 2.0 yet. Please request to add "
     "support where the model is hosted, on its model hub page: https://huggingface.co/microsoft/Florence-2-large",
     {"FA2-CLASS"}),
    ("12: a Llama 3.1 config on an older transformers",
     "ValueError: `rope_scaling` must be a dictionary with two fields, `type` and `factor`, got {'factor': 8.0, "
     "'low_freq_factor': 1.0, 'high_freq_factor': 4.0, 'original_max_position_embeddings': 8192, 'rope_type': "
     "'llama3'}", {"ROPE-TYPE-REFUSED"}),
    ("12: a model type newer than transformers",
     "ValueError: The checkpoint you are trying to load has model type `qwen3` but Transformers does not recognize "
     "this architecture. This could be because of an issue with the checkpoint, or because your version of "
     "Transformers is out of date.", {"MODEL-TYPE-UNKNOWN"}),
    ("13: remote code without trust_remote_code",
     "ValueError: The repository for Qwen/Qwen-7B-Chat contains custom code which must be executed to correctly "
     "load the model. You can inspect the repository content at https://hf.co/Qwen/Qwen-7B-Chat.\nPlease pass the "
     "argument `trust_remote_code=True` to allow custom code to be run.", {"REMOTE-NEEDED"}),
    ("13: remote code that moved under a floating revision",
     "A new version of the following files was downloaded from https://huggingface.co/microsoft/phi-2:\n"
     "- modeling_phi.py\n. Make sure to double-check they do not contain any added malicious code. To avoid "
     "downloading new versions of the code file, you can pin a revision.", {"REV-PIN-REMOTE"}),
    ("14: device_map='auto' offloaded weights to the meta device",
     "NotImplementedError: Cannot copy out of meta tensor; no data!", {"MEM-OFFLOAD"}),
    ("14: device_map='auto' offloads to disk",
     "ValueError: The current `device_map` had weights offloaded to the disk. Please provide an `offload_folder` "
     "for them. Alternatively, make sure you have `safetensors` installed if the model you are using offers the "
     "weights in this format.", {"MEM-OFFLOAD"}),
    ("15, 16: out of memory",
     "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 224.00 MiB. GPU 0 has a total capacity of "
     "14.74 GiB of which 61.12 MiB is free. Process 8201 has 14.68 GiB memory in use.",
     {"MEM-SINGLE-GPU", "MEM-QUANT-NEEDED", "MEM-QUANT-FITS"}),
    ("20: a GPU newer than the wheels",
     "torch.AcceleratorError: CUDA error: no kernel image is available for execution on the device\nCUDA kernel "
     "errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.",
     {"FA2-BLACKWELL", "FA3-CC", "TORCH-ARCH"}),
]


def test_twenty_errors() -> None:
    assert len(COMMON) == 20


@pytest.mark.parametrize(("story", "log", "expected"), COMMON, ids=[story for story, _, _ in COMMON])
def test_a_common_loading_error_is_explained_by_the_right_rules(story: str, log: str, expected: set[str]) -> None:
    found = [m.rule for m in api.explain(log, recommend_flags=False).matches]
    assert expected <= set(found), f"{story}: expected {sorted(expected)}, found {found}"
    assert found[0] in expected, f"{story}: the best match {found[0]} is not one of {sorted(expected)}"
