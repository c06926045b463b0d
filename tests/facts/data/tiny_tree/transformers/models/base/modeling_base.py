from ...modeling_utils import PreTrainedModel


class BasePreTrainedModel(PreTrainedModel):
    _supports_sdpa = _supports_flash_attn = True


class BaseModel(BasePreTrainedModel):
    pass


class BaseForConditionalGeneration(BasePreTrainedModel):
    _compatible_flash_implementations = ("kernels-community/vllm-flash-attn3", "flash_attention_4")
